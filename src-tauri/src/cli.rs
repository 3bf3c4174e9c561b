//! Command-line subcommands: thin adapters from arguments to the engine, and text output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Local, NaiveDate, TimeZone};
use kanca_core::call::{Call, CallState};
use kanca_core::bulutfon::{ApiService, ApiState, ApiStatus};
use kanca_core::history::{self, Query};
use kanca_core::tunnel::{self, Tunnel, TunnelMode, TunnelSettings, TunnelState, TunnelStatus};
use kanca_core::{config, i18n, store, CallKind, CredentialSource, Direction, Engine, WebhookForm};

pub fn data_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    Ok(config::resolve_data_dir(flag)?)
}

pub fn serve(
    listen: Option<String>,
    dir: Option<PathBuf>,
    public_url: Option<String>,
    office: Option<String>,
    database: Option<String>,
) -> Result<ExitCode> {
    let dir = data_dir(dir)?;
    let addr = config::resolve_listen(listen, &dir)?;
    let mut tunnel_settings = config::FileConfig::load(&dir).map(|f| f.tunnel).unwrap_or_default();
    if let Some(url) = public_url {
        tunnel::parse_own_url(&url).map_err(|e| anyhow::anyhow!("--public-url: {e}"))?;
        tunnel_settings = TunnelSettings { mode: TunnelMode::OwnUrl, own_url: Some(url), ..Default::default() };
    }
    // On PostgreSQL the data directory holds only config.toml (the webhook's keys).
    let engine = match database {
        None => Some(Engine::open(&dir).with_context(|| format!("cannot open the data directory {}", dir.display()))?),
        Some(_) => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        // Before the listener: a stop asked for the moment it answers (a service manager, a
        // test) must stop it cleanly, not kill it with requests in flight.
        let stop = StopSignals::install()?;
        let (listener, keys, data, shared) = match (&engine, &database) {
            (Some(engine), _) => (engine.start_listener(addr).await?, engine.keys(), engine.store().path().display().to_string(), None),
            (None, Some(url)) => {
                let history = kanca_core::pg::PgStore::connect(url)
                    .await
                    .with_context(|| format!("cannot use the PostgreSQL database {}", kanca_core::pg::redact(url)))?;
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the data directory {}", dir.display()))?;
                let keys = Arc::new(kanca_core::LiveKeys::open(&dir)?);
                let state = kanca_core::listener::ListenerState {
                    store: kanca_core::Backend::Postgres(history.clone()),
                    keys: keys.clone(),
                    timeouts: Default::default(),
                };
                (kanca_core::start_listener(addr, state).await?, keys.current(), history.shown().to_owned(), Some(history))
            }
            (None, None) => unreachable!("an engine is opened when no database is named"),
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "Kanca is receiving Bulutfon webhooks.")?;
        writeln!(out, "Webhook URL: {}", config::webhook_url(listener.addr))?;
        writeln!(out, "Basic auth user: {}", keys.credentials.user)?;
        // stdout may be a journal: the password and the URL secret stay in config.toml.
        let origin = |source, var: &str| match source {
            CredentialSource::Environment => format!("from {var}"),
            CredentialSource::ConfigFile | CredentialSource::Generated => {
                format!("in {} (print it with `kanca credentials`)", dir.join(config::CONFIG_FILE).display())
            }
        };
        writeln!(out, "Basic auth password: {}", origin(keys.credential_source, config::ENV_PASSWORD))?;
        writeln!(
            out,
            "One-paste URL (no basic auth): {}/<secret>, the secret {}",
            config::webhook_url(listener.addr),
            origin(keys.secret_source, config::ENV_SECRET)
        )?;
        writeln!(out, "Data: {data}")?;
        if listener.addr.ip().is_loopback() && tunnel_settings.mode == TunnelMode::Off {
            writeln!(out, "Only this computer can reach it: point a tunnel at {} (see README).", listener.addr)?;
        }
        // Where Bulutfon's API fills the history's gaps (below).
        let history = match (&engine, &shared) {
            (Some(engine), _) => kanca_core::Backend::Sqlite(engine.store().clone()),
            (None, Some(history)) => kanca_core::Backend::Postgres(history.clone()),
            (None, None) => unreachable!("an engine is opened when no database is named"),
        };
        // Office mode: the desks' client API, on its own port.
        let office = match office {
            Some(flag) => {
                let addr = crate::office_cli::office_listen(&flag)?;
                let server = match (&engine, shared) {
                    (Some(engine), _) => kanca_core::office::OfficeServer::start(engine, addr).await?,
                    (None, Some(history)) => kanca_core::office::OfficeServer::start_shared(history, &dir, addr).await?,
                    (None, None) => unreachable!("an engine is opened when no database is named"),
                };
                writeln!(out, "Office client API: {} (certificate fingerprint {})", server.addr, server.fingerprint)?;
                if engine.is_some() {
                    writeln!(out, "Pair a desk with `kanca clients add NAME`.")?;
                } else {
                    writeln!(out, "Pair a desk with `kanca clients add NAME --database URL --address HOST:PORT` (one --address per receiver).")?;
                }
                Some(server)
            }
            None => None,
        };
        writeln!(out, "Press Ctrl+C to stop.")?;
        out.flush()?;
        drop(out);
        // The tunnel's state as lines on stdout ("Tunnel: online …"); it never stops the listener.
        let tunnel = Tunnel::start(tunnel_settings, listener.addr);
        let mut watch = tunnel.watch();
        tokio::spawn(async move {
            loop {
                let line = describe_tunnel(&watch.borrow_and_update());
                if let Some(line) = line {
                    println!("{line}");
                }
                if watch.changed().await.is_err() {
                    break;
                }
            }
        });
        // Bulutfon's API, when a token is stored: the calls missed while this was down, names.
        // On PostgreSQL one receiver of the database at a time walks the records.
        let api = ApiService::start(history, dir.clone(), Arc::new(|missed: Vec<String>| {
            tracing::info!(calls = missed.len(), "a backfill found missed calls");
        }));
        watch_api(&api, engine.clone());
        stop.recv().await;
        drop(office);
        drop(tunnel);
        drop(api);
        tracing::info!("stopping: finishing requests in flight");
        listener.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Print the API's state as it changes, and tell the office's desks when a sync brought names.
/// (On PostgreSQL the names are announced to every receiver's desks as they are written.)
fn watch_api(api: &ApiService, names_engine: Option<Engine>) {
    let mut api_watch = api.watch();
    tokio::spawn(async move {
        let (mut last, mut synced) = (None, None);
        while api_watch.changed().await.is_ok() {
            let status = api_watch.borrow_and_update().clone();
            // Each finished sync may have brought new names: the office's desks copy them.
            if status.last_sync.is_some() && status.last_sync != synced {
                synced = status.last_sync.clone();
                if let Some(engine) = &names_engine {
                    engine.announce(kanca_core::Shared::Names);
                }
            }
            let line = describe_api(&status);
            if line.is_some() && line != last {
                println!("{}", line.as_deref().unwrap_or_default());
                last = line;
            }
        }
    });
}

fn describe_api(s: &ApiStatus) -> Option<String> {
    let account = s.account.as_deref().map(|a| format!(" ({})", printable(a))).unwrap_or_default();
    match s.state {
        ApiState::Off | ApiState::Syncing => None,
        ApiState::Ok => Some(format!("Bulutfon API{account}: synced, {} calls added", s.last_added)),
        ApiState::BadToken | ApiState::Unavailable => Some(format!("Bulutfon API{account}: {}", s.error.as_deref().unwrap_or("failed"))),
    }
}

fn describe_tunnel(s: &TunnelStatus) -> Option<String> {
    // A retry starting (the delay cleared) is not news: the line before said when it would.
    if matches!(s.state, TunnelState::Failed | TunnelState::Reconnecting) && s.retry_in_s.is_none() && s.error.is_some() {
        return None;
    }
    Some(match s.state {
        TunnelState::Off => return None,
        TunnelState::Connecting => format!("Tunnel ({:?}): connecting", s.mode),
        TunnelState::Online => {
            let again = if s.url_changes { " (this URL changes on every start: paste it into the panel again)" } else { "" };
            format!("Tunnel ({:?}): online. Webhook URL for the Bulutfon panel: {}{again}", s.mode, s.webhook_url.as_deref().unwrap_or(""))
        }
        TunnelState::Reconnecting | TunnelState::Failed => {
            let when = s.retry_in_s.map(|n| format!("; retrying in {n} s")).unwrap_or_default();
            let what = if s.state == TunnelState::Failed { "failed" } else { "dropped" };
            format!("Tunnel ({:?}): {what}: {}{when}", s.mode, s.error.as_deref().unwrap_or("unknown error"))
        }
    })
}

/// `kanca self-test`: post a test event to the public webhook URL, as Bulutfon would, and check
/// it reached this data directory (a `kanca serve` or the desktop app must be running on it).
/// It posts in the form chosen in Settings (`kanca credentials --form`).
pub fn self_test(url: Option<String>, dir: Option<PathBuf>, json: bool, database: Option<String>) -> Result<ExitCode> {
    let dir = data_dir(dir)?;
    let (base, local_only) = match url {
        // A base URL, or either form of webhook URL: the form posted in is the chosen one.
        Some(u) => (tunnel::parse_own_url(&u).map_err(|e| anyhow::anyhow!("--url: {e}"))?, false),
        None => known_base_url(&dir)?,
    };
    // The receiver's webhook keys (config.toml) and where it stores: the test event must arrive
    // there, the shared PostgreSQL history with `--database`.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let (keys, history) = match &database {
        None => {
            let engine = Engine::open(&dir).with_context(|| format!("cannot open the data directory {}", dir.display()))?;
            (engine.keys(), kanca_core::Backend::Sqlite(engine.store().clone()))
        }
        Some(url) => {
            let history = rt
                .block_on(kanca_core::pg::PgStore::connect_reader(url))
                .with_context(|| format!("cannot use the PostgreSQL database {}", kanca_core::pg::redact(url)))?;
            (kanca_core::LiveKeys::open(&dir)?.current(), kanca_core::Backend::Postgres(history))
        }
    };
    let result = rt.block_on(async {
        let result = kanca_core::selftest::self_test_with(&keys, &history, &base).await;
        if let (true, Some(uuid)) = (result.ok, &result.uuid) {
            kanca_core::selftest::end_test_call_with(&keys, &base, uuid).await;
        }
        result
    });
    // `--json` is for programs and keeps the URL whole; text may be pasted into a report.
    let shown = config::redact_secret(&result.url, &keys.secret);
    if json {
        println!("{}", serde_json::to_string(&result)?);
    } else if result.ok && local_only {
        // The app's button refuses this case; here it still checks the listener, said as such.
        println!("OK, locally only: the test event went to {shown} and arrived in {} ms.", result.round_trip_ms);
        println!("This proves Kanca answers on this computer, not that Bulutfon can reach it: set up a tunnel or own URL, or pass --url with the public address.");
    } else if result.ok {
        println!("OK: the test event went to {shown} and arrived in {} ms.", result.round_trip_ms);
    } else {
        println!("FAILED: {} ({shown}).", result.error.as_deref().unwrap_or("unknown error"));
    }
    Ok(if result.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The base URL Bulutfon posts to as far as the files tell without a running tunnel: the own
/// URL when one is set, else the listener's local address (true: a local check only).
fn known_base_url(dir: &Path) -> Result<(String, bool)> {
    let file = config::FileConfig::load(dir).unwrap_or_default();
    Ok(match (file.tunnel.mode, file.tunnel.own_url.as_deref().map(tunnel::parse_own_url)) {
        (TunnelMode::OwnUrl, Some(Ok(base))) => (base, false),
        _ => (config::local_base_url(config::resolve_listen(None, dir)?), true),
    })
}

/// The signals that stop `kanca serve` (SIGINT and SIGTERM; Ctrl+C on Windows), handled from
/// the moment they are installed.
struct StopSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl StopSignals {
    fn install() -> Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals { int: signal(SignalKind::interrupt())?, term: signal(SignalKind::terminate())? })
        }
        #[cfg(windows)]
        {
            Ok(StopSignals { ctrl_c: tokio::signal::windows::ctrl_c()? })
        }
    }

    async fn recv(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(windows)]
        let _ = self.ctrl_c.recv().await;
    }
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub filters: HistoryFilters,
    /// Most calls to list
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// JSON Lines, one call per line, newest first
    #[arg(long)]
    json: bool,
    /// Where the database lives [default: the OS's per-user data directory]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Read the history from PostgreSQL (as `kanca serve --database` keeps it) [env: KANCA_DATABASE_URL]
    #[arg(long, value_name = "URL", env = "KANCA_DATABASE_URL", hide_env = true, hide_env_values = true)]
    database: Option<String>,
}

/// Run `f` on the PostgreSQL history at `url`, for a command that uses it once.
pub(crate) fn on_postgres<T, E: Into<anyhow::Error>>(url: &str, f: impl AsyncFnOnce(kanca_core::pg::PgStore) -> Result<T, E>) -> Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let history = kanca_core::pg::PgStore::connect_reader(url)
            .await
            .with_context(|| format!("cannot use the PostgreSQL database {}", kanca_core::pg::redact(url)))?;
        f(history).await.map_err(Into::into)
    })
}

/// What `kanca history` and `kanca export` select calls by.
#[derive(clap::Args)]
pub struct HistoryFilters {
    /// A number in any spelling ("0532 444 55 66", "4445566", "+90532…"), an extension, group or
    /// menu number, a contact's name or company ("mehmet", "ışık"), or words of a note or tag
    query: Vec<String>,
    /// Only calls or only faxes
    #[arg(long, value_parser = ["call", "fax"])]
    kind: Option<String>,
    /// Only missed calls
    #[arg(long)]
    missed: bool,
    /// Only incoming or outgoing
    #[arg(long, value_parser = ["in", "out"])]
    direction: Option<String>,
    /// Calls from this day (YYYY-MM-DD, local time), or this moment (RFC 3339); also "today", "yesterday"
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Calls up to and including this day (YYYY-MM-DD), or before this moment (RFC 3339)
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Only calls carrying this tag
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
}

impl HistoryFilters {
    pub fn query(&self, limit: usize) -> Result<Query> {
        Ok(Query {
            text: self.query.join(" "),
            kind: self.kind.as_deref().and_then(CallKind::parse),
            missed_only: self.missed,
            direction: self.direction.as_deref().and_then(Direction::parse),
            since_us: self.since.as_deref().map(|s| parse_date(s, false)).transpose()?,
            until_us: self.until.as_deref().map(|s| parse_date(s, true)).transpose()?,
            before: None,
            limit,
            tag: self.tag.clone(),
        })
    }
}

/// Parse a DATE argument into microseconds. `end` moves a bare day to the next midnight so
/// `--until 2026-11-27` includes that day.
fn parse_date(text: &str, end: bool) -> Result<i64> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp_micros());
    }
    let today = Local::now().date_naive();
    let day = match t.to_ascii_lowercase().as_str() {
        "today" | "bugün" => today,
        "yesterday" | "dün" => today.pred_opt().unwrap_or(today),
        _ => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(t, "%d.%m.%Y"))
            .with_context(|| format!("{text:?} is not a date: use YYYY-MM-DD or RFC 3339 (2026-11-27T14:00:00+03:00)"))?,
    };
    let day = if end { day.succ_opt().unwrap_or(day) } else { day };
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    let local = Local
        .from_local_datetime(&midnight)
        .earliest()
        .with_context(|| format!("{text:?} has no midnight in the local time zone"))?;
    Ok(local.timestamp_micros())
}

/// Open the database for reading. None when there is none yet.
pub fn open_db(dir: &Path) -> Result<Option<store::Connection>> {
    let path = dir.join(store::DB_FILE);
    if !path.exists() {
        return Ok(None);
    }
    // store::open migrates an older database; it works beside a running `kanca serve`.
    let mut conn = store::open(&path)?;
    // Acknowledged events a receiver has not projected yet (or never will: it was killed)
    // belong in the history too.
    store::catch_up(&mut conn)?;
    Ok(Some(conn))
}

pub fn history(args: HistoryArgs) -> Result<ExitCode> {
    let dir = data_dir(args.data_dir.clone())?;
    let query = args.filters.query(args.limit)?;
    if args.limit == 0 {
        bail!("--limit must be at least 1");
    }
    let page = match &args.database {
        Some(url) => on_postgres(url, async |history| history.search(&query).await)?,
        None => {
            let Some(conn) = open_db(&dir)? else {
                if !args.json {
                    eprintln!("No calls yet: there is no database in {}.", dir.display());
                }
                return Ok(ExitCode::SUCCESS);
            };
            history::search(&conn, &query)?
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        for call in &page.calls {
            serde_json::to_writer(&mut out, call)?;
            out.write_all(b"\n")?;
        }
    } else if page.calls.is_empty() {
        writeln!(out, "No calls found.")?;
    } else {
        print_table(&mut out, &page.calls)?;
        if page.next_cursor.is_some() {
            writeln!(out, "… more; raise --limit or narrow the search.")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn local_time(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| d.with_timezone(&Local).format("%d.%m.%Y %H:%M:%S").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// The command line speaks English, in the catalogue's words: a fax shows as one in the table.
fn status(call: &Call) -> &'static str {
    match call.kind {
        CallKind::Fax => i18n::t(true, "call.fax"),
        CallKind::Call => i18n::state_word(true, call.kind, call.state),
    }
}

fn route_text(call: &Call) -> String {
    i18n::route_words(true, &call.route).join(" → ")
}

fn duration_text(s: Option<i64>) -> String {
    match s {
        Some(s) if s >= 3600 => format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
        Some(s) => format!("{}:{:02}", s / 60, s % 60),
        None => "-".into(),
    }
}

/// Untrusted text from a webhook must not move the terminal's cursor or change its colours.
pub fn printable(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect()
}

/// At most `n` characters of `s`, for a column.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

fn print_table(out: &mut impl Write, calls: &[Call]) -> Result<()> {
    writeln!(out, "{:<19}  {:<3}  {:<18}  {:<20}  {:<18}  {:<11}  {:>7}  ROUTE", "STARTED", "DIR", "CALLER", "NAME", "CALLEE", "STATUS", "TALK")?;
    for c in calls {
        // The other party's name: the caller's on incoming calls, the callee's on outgoing ones.
        let name = match c.direction {
            Direction::In => c.caller_name.as_deref(),
            Direction::Out => c.callee_name.as_deref(),
        };
        writeln!(
            out,
            "{:<19}  {:<3}  {:<18}  {:<20}  {:<18}  {:<11}  {:>7}  {}",
            local_time(&c.started_at),
            c.direction.as_str(),
            printable(c.caller.as_deref().unwrap_or("?")),
            printable(&clip(name.unwrap_or("-"), 20)),
            printable(c.callee.as_deref().unwrap_or("?")),
            status(c),
            duration_text(c.duration_s),
            printable(&route_text(c)),
        )?;
    }
    Ok(())
}

pub fn show(uuid: &str, json: bool, dir: Option<PathBuf>, database: Option<String>) -> Result<ExitCode> {
    let dir = data_dir(dir)?;
    let detail = match &database {
        Some(url) => on_postgres(url, async |history| history.get_call(uuid).await)?,
        None => match open_db(&dir)? {
            Some(conn) => history::get_call(&conn, uuid)?,
            None => None,
        },
    };
    let Some(detail) = detail else {
        let place = match &database {
            Some(url) => kanca_core::pg::redact(url),
            None => dir.display().to_string(),
        };
        eprintln!("kanca: no call with uuid {uuid:?} in {place}");
        return Ok(ExitCode::from(1));
    };
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &detail)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let c = &detail.call;
    let line = |out: &mut std::io::StdoutLock, k: &str, v: String| writeln!(out, "{k:<14}{}", printable(&v));
    line(&mut out, "Call", c.uuid.clone())?;
    line(&mut out, "Kind", format!("{} ({})", c.kind.as_str(), c.direction.as_str()))?;
    let with_name = |number: &Option<String>, name: &Option<String>| match name {
        Some(n) => format!("{} ({n})", number.as_deref().unwrap_or("?")),
        None => number.clone().unwrap_or_else(|| "?".into()),
    };
    line(&mut out, "Caller", with_name(&c.caller, &c.caller_name))?;
    line(&mut out, "Callee", with_name(&c.callee, &c.callee_name))?;
    if let Some(note) = &c.note {
        line(&mut out, "Note", note.clone())?;
    }
    if !c.tags.is_empty() {
        line(&mut out, "Tags", c.tags.join(", "))?;
    }
    line(&mut out, "Status", status(c).into())?;
    line(&mut out, "Started", local_time(&c.started_at))?;
    let ended = match (c.ended_at.as_deref(), c.state) {
        (Some(t), _) => local_time(t),
        (None, CallState::EndUnknown) => "unknown (no hang-up arrived)".into(),
        (None, _) => "-".into(),
    };
    line(&mut out, "Ended", ended)?;
    line(&mut out, "Talk time", duration_text(c.duration_s))?;
    if !c.route.is_empty() {
        line(&mut out, "Route", route_text(c))?;
    }
    if let Some(h) = &c.hangup_cause {
        let detail = c.hangup_detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
        line(&mut out, "Hang-up", format!("{h}{detail}"))?;
    }
    if let Some(r) = c.recorded {
        line(&mut out, "Recorded", if r { "yes" } else { "no" }.into())?;
    }
    if let Some(u) = &c.cdr_url {
        line(&mut out, "Bulutfon", u.clone())?;
    }
    for leg in &c.callflow {
        let target = leg.redirection_target.as_deref().map(|t| format!(" → {t}")).unwrap_or_default();
        line(
            &mut out,
            "Call flow",
            format!("{} {}{}", leg.callee.as_deref().unwrap_or("?"), leg.redirection.as_deref().unwrap_or(""), target),
        )?;
    }
    writeln!(out, "\nEvents:")?;
    for e in &detail.events {
        let when = e.timestamp.as_deref().or(e.received_at.as_deref()).map(local_time).unwrap_or_default();
        let spelled = if e.received_type != e.event_type { format!(" (sent as {})", e.received_type) } else { String::new() };
        writeln!(out, "  {when}  {}{}", printable(&e.event_type), printable(&spelled))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// What `kanca credentials` changes before printing.
pub struct CredentialChanges {
    pub regenerate: bool,
    pub rotate_secret: bool,
    pub form: Option<WebhookForm>,
}

/// Prints the keys. Changes are written to config.toml; a running Kanca on the same data
/// directory notices the file changed and uses the new keys from its next request on.
pub fn credentials(changes: CredentialChanges, json: bool, dir: Option<PathBuf>) -> Result<ExitCode> {
    let dir = data_dir(dir)?;
    let keys = config::webhook_keys(&dir)?;
    if changes.regenerate {
        if keys.credential_source == CredentialSource::Environment {
            bail!("the password comes from {}; change it there", config::ENV_PASSWORD);
        }
        config::regenerate_credentials(&dir)?;
    }
    if changes.rotate_secret {
        if keys.secret_source == CredentialSource::Environment {
            bail!("the URL secret comes from {}; change it there", config::ENV_SECRET);
        }
        config::rotate_secret(&dir)?;
    }
    if let Some(form) = changes.form {
        config::save_webhook_form(&dir, form)?;
    }
    let keys = config::webhook_keys(&dir)?;
    let (base, _) = known_base_url(&dir)?;
    let secret_url = config::secret_webhook_url(&base, &keys.secret);
    let basic_url = format!("{base}{}", config::WEBHOOK_PATH);
    let mut out = std::io::stdout().lock();
    if json {
        let v = serde_json::json!({
            "user": keys.credentials.user,
            "password": keys.credentials.password,
            "source": keys.credential_source,
            "secret": keys.secret.as_str(),
            "secret_source": keys.secret_source,
            "secret_url": secret_url,
            "url": basic_url,
            "form": keys.form,
        });
        serde_json::to_writer(&mut out, &v)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (one, three) = match keys.form {
        WebhookForm::UrlSecret => (" (shown in the guide)", ""),
        WebhookForm::BasicAuth => ("", " (shown in the guide)"),
    };
    writeln!(out, "One paste{one}: URL {secret_url}")?;
    writeln!(out, "  and leave the panel's basic-auth fields empty.")?;
    writeln!(out, "Basic auth{three}: URL {basic_url}")?;
    writeln!(out, "  User:     {}", keys.credentials.user)?;
    writeln!(out, "  Password: {}", keys.credentials.password)?;
    if base.starts_with("http://127.") || base.starts_with("http://[::1]") {
        writeln!(out, "These are local addresses: with a tunnel, put its public address before /webhook.")?;
    }
    if keys.credential_source == CredentialSource::Environment {
        writeln!(out, "(user and password from {} / {})", config::ENV_USER, config::ENV_PASSWORD)?;
    }
    if keys.secret_source == CredentialSource::Environment {
        writeln!(out, "(URL secret from {})", config::ENV_SECRET)?;
    }
    if changes.rotate_secret {
        writeln!(out, "New URL secret saved: the old URL no longer works. Paste the new one into Bulutfon's panel.")?;
    }
    if changes.regenerate {
        writeln!(out, "New password saved: the old one no longer works. Paste it into Bulutfon's panel.")?;
    }
    Ok(ExitCode::SUCCESS)
}
