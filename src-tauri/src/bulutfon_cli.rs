//! `kanca bulutfon token`, `kanca sync`, `kanca call` and `kanca names`: Bulutfon's API from
//! the command line. The token is read from standard input when not given (so it stays out of
//! the shell's history), checked before it is stored, and never printed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use kanca_core::bulutfon::{self, ApiToken, CallBack, Client};
use kanca_core::config::{self, FileConfig};
use kanca_core::names::{self, NameKind};
use kanca_core::{store, Backend, Engine};

use crate::cli::{data_dir, printable};

/// The client config.toml and the environment describe, or a clear error without a token.
fn client(dir: &std::path::Path) -> Result<(Client, FileConfig)> {
    let file = FileConfig::load(dir)?;
    match Client::from_settings(file.bulutfon.token.as_deref())? {
        Some(c) => Ok((c, file)),
        None => bail!("no Bulutfon API token: run `kanca bulutfon token` (or set {})", bulutfon::client::ENV_TOKEN),
    }
}

/// Check a token with `GET /me` and store it with the account's name.
pub fn token(given: Option<String>, dir: Option<PathBuf>) -> Result<ExitCode> {
    let dir = data_dir(dir)?;
    let text = match given {
        Some(t) => t,
        None => {
            if std::io::stdin().is_terminal() {
                eprint!("Bulutfon API token (panel: Uygulamalar > API Uygulamaları): ");
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line
        }
    };
    let token = ApiToken::parse(&text).ok_or_else(|| anyhow!("that is not an API token (one word, no spaces)"))?;
    let client = Client::new(&bulutfon::client::base_url(), token.clone())?;
    let account = bulutfon::me(&client)?;
    let mut file = FileConfig::load(&dir)?;
    file.bulutfon.token = Some(token.expose().to_owned());
    file.bulutfon.account = Some(account.name.clone());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    config::save_bulutfon_settings(&dir, &file.bulutfon)?;
    let place = account.url.as_deref().map(|u| format!(" ({})", printable(u))).unwrap_or_default();
    println!("Connected: {}{place}", printable(&account.name));
    Ok(ExitCode::SUCCESS)
}

/// One pass of names and backfill, then exit; into the shared PostgreSQL history with
/// `database`.
pub fn sync(json: bool, dir: Option<PathBuf>, database: Option<String>) -> Result<ExitCode> {
    let dir = data_dir(dir)?;
    let (client, _) = client(&dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let history = match &database {
        None => Backend::Sqlite(Engine::open(&dir).with_context(|| format!("cannot open the data directory {}", dir.display()))?.store().clone()),
        Some(url) => Backend::Postgres(
            rt.block_on(kanca_core::pg::PgStore::connect_reader(url))
                .with_context(|| format!("cannot use the PostgreSQL database {}", kanca_core::pg::redact(url)))?,
        ),
    };
    let interactive = !json && std::io::stderr().is_terminal();
    let report = rt.block_on(async {
        let progress = move |p: bulutfon::backfill::Progress| {
            if interactive {
                match p.total_pages {
                    Some(t) => eprint!("\rReading call records: page {} of {t}, {} records ", p.pages, p.records),
                    None => eprint!("\rReading call records: page {}, {} records ", p.pages, p.records),
                }
            }
        };
        bulutfon::sync(&client, &history, &progress).await
    });
    if interactive {
        eprintln!();
    }
    let report = report?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else if report.busy {
        println!("Another receiver of this database is syncing with Bulutfon now: nothing done.");
    } else {
        println!(
            "Calls added {}, updated {} ({} pages). Names: {} extensions, {} groups, {} numbers.",
            report.calls_added, report.calls_updated, report.pages, report.extensions, report.groups, report.dids
        );
        if report.closed > 0 {
            println!("Closed {} calls whose hang-up had not arrived.", report.closed);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Call `number` back through Bulutfon: the user's extension rings first.
pub fn call(number: String, yes: bool, extension: Option<String>, caller: Option<String>, dir: Option<PathBuf>) -> Result<ExitCode> {
    let dir = data_dir(dir)?;
    let (client, file) = client(&dir)?;
    let destination = extension
        .or(file.bulutfon.extension.clone())
        .ok_or_else(|| anyhow!("which extension should ring first? give --extension 1000 (or set it in the app's settings)"))?;
    let caller = match caller.or(file.bulutfon.caller.clone()) {
        Some(c) => c,
        None => bulutfon::fetch_names(&client)?.dids.into_iter().next().ok_or_else(|| anyhow!("Bulutfon lists no numbers for this account"))?,
    };
    let parsed = kanca_core::phone::normalize(&number);
    let shown = parsed.display;
    if shown.chars().filter(char::is_ascii_digit).count() < 3 {
        bail!("{} is not a phone number", printable(&number));
    }
    // Bulutfon's numbers are written 90…: a Turkish number typed 0532… is sent that way.
    let callee = parsed.e164.map(|e| e.trim_start_matches('+').to_owned()).unwrap_or(number);
    if !yes {
        eprint!("Call {} from extension {}? [y/N] ", printable(&shown), printable(&destination));
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes" | "e" | "evet") {
            eprintln!("Not called.");
            return Ok(ExitCode::FAILURE);
        }
    }
    let message = bulutfon::call_back(&client, &CallBack { caller, callee, destination })?;
    println!("{}", if message.is_empty() { "The call has started.".to_owned() } else { printable(&message) });
    Ok(ExitCode::SUCCESS)
}

/// List names, or set / clear a local one.
pub fn names(
    kind: Option<String>,
    number: Option<String>,
    name: Option<String>,
    clear: bool,
    json: bool,
    dir: Option<PathBuf>,
    database: Option<String>,
) -> Result<ExitCode> {
    let set = match (&kind, &number) {
        (Some(kind), Some(number)) => {
            let kind = NameKind::parse(kind).ok_or_else(|| anyhow!("KIND is one of menu, group, extension, did"))?;
            if name.is_none() && !clear {
                bail!("give a NAME, or --clear to remove the local name");
            }
            Some((kind, number.as_str(), if clear { None } else { name.as_deref() }))
        }
        _ => None,
    };
    let all = match &database {
        Some(url) => crate::cli::on_postgres(url, async |history| {
            if let Some((kind, number, name)) = set {
                history.set_local_name(kind, number, name).await?;
            }
            history.names().await
        })?,
        None => {
            let dir = data_dir(dir)?;
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let conn = store::open(&dir.join(store::DB_FILE))?;
            if let Some((kind, number, name)) = set {
                names::set_local(&conn, kind, number, name)?;
            }
            names::list(&conn)?
        }
    };
    let mut out = std::io::stdout().lock();
    for e in all {
        if json {
            serde_json::to_writer(&mut out, &e)?;
            writeln!(out)?;
        } else {
            let local = e.local.as_deref().map(|_| format!("  (Bulutfon: {})", printable(e.bulutfon.as_deref().unwrap_or("-")))).unwrap_or_default();
            writeln!(out, "{:<10} {:<14} {}{local}", e.kind.as_str(), e.number, printable(e.shown().unwrap_or("")))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
