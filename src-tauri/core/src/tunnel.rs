//! How Bulutfon reaches a listener behind NAT: a tunnel kept up next to the listener.
//!
//! Modes: ngrok through its own Rust library (a stable URL with the user's static domain),
//! cloudflared's quick tunnel (a new URL on every start), a public URL the user already routes
//! to the listener, or off. A [`Tunnel`] supervises one mode: it reports its [`TunnelStatus`]
//! on a watch channel, retries with backoff when the tunnel fails or drops, and never touches
//! the local listener. The ngrok authtoken is never logged (see the `Debug` impl).

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::watch;

// The settings live with the rest of config.toml; re-exported here, where they are used.
pub use crate::config::{TunnelMode, TunnelSettings};
use crate::config::WEBHOOK_PATH;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TunnelState {
    #[default]
    Off,
    Connecting,
    Online,
    /// Was online, dropped; retrying.
    Reconnecting,
    /// Could not come up; `error` says why, `retry_in_s` when it tries again.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct TunnelStatus {
    pub mode: TunnelMode,
    pub state: TunnelState,
    /// The public base URL while online.
    pub public_url: Option<String>,
    /// The complete URL to paste into Bulutfon's panel.
    pub webhook_url: Option<String>,
    /// In plain words, for the user.
    pub error: Option<String>,
    #[ts(type = "number | null")]
    pub retry_in_s: Option<u64>,
    /// The URL changes whenever the tunnel restarts (cloudflared quick tunnels, ngrok without a
    /// static domain): it has to be pasted into the panel again.
    pub url_changes: bool,
}

impl TunnelStatus {
    fn new(mode: TunnelMode, state: TunnelState) -> Self {
        TunnelStatus { mode, state, ..Default::default() }
    }

    fn online(mode: TunnelMode, base: &str, url_changes: bool) -> Self {
        let base = base.trim_end_matches('/').to_string();
        TunnelStatus {
            mode,
            state: TunnelState::Online,
            webhook_url: Some(format!("{base}{WEBHOOK_PATH}")),
            public_url: Some(base),
            url_changes,
            ..Default::default()
        }
    }
}

/// Checks a user-typed public base URL; returns it without a trailing slash.
pub fn parse_own_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let parsed = url::Url::parse(url).map_err(|e| format!("not a valid URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the URL must start with https:// (or http://)".into());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host name".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("the URL must not have a query (?…) or fragment (#…)".into());
    }
    let mut base = url.trim_end_matches('/').to_string();
    // Pasting the full webhook URL (either form) is a natural mistake: keep the base.
    if let Some((head, tail)) = base.rsplit_once(&format!("{WEBHOOK_PATH}/")) {
        if !tail.contains('/') {
            base = head.to_string();
        }
    }
    if let Some(stripped) = base.strip_suffix(WEBHOOK_PATH) {
        base = stripped.to_string();
    }
    Ok(base)
}

/// The quick-tunnel URL in a line of cloudflared's output, if there is one.
pub fn cloudflared_url(line: &str) -> Option<String> {
    line.split(|c: char| c.is_whitespace() || c == '|' || c == '"')
        .find(|w| w.starts_with("https://") && w.trim_end_matches('/').ends_with(".trycloudflare.com"))
        .map(|w| w.trim_end_matches('/').to_string())
}

/// Retry delays: 1, 2, 4 … 60 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(6)).min(Duration::from_secs(60))
}

/// A running tunnel; dropping it stops the tunnel (and a cloudflared child with it).
pub struct Tunnel {
    status: watch::Receiver<TunnelStatus>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Two TLS stacks meet in this process (ngrok's aws-lc-rs, ureq's ring): choose one for every
/// rustls user, once, before any TLS connection.
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

impl Tunnel {
    /// Starts the tunnel for `settings` towards the listener at `local`. Must be called inside a
    /// tokio runtime.
    pub fn start(settings: TunnelSettings, local: SocketAddr) -> Tunnel {
        install_tls_provider();
        let (tx, rx) = watch::channel(TunnelStatus::new(settings.mode, TunnelState::Off));
        let local = loopback_of(local);
        let task = tokio::spawn(async move {
            match settings.mode {
                TunnelMode::Off => {}
                TunnelMode::OwnUrl => match settings.own_url.as_deref().map(parse_own_url) {
                    Some(Ok(base)) => {
                        let _ = tx.send(TunnelStatus::online(TunnelMode::OwnUrl, &base, false));
                    }
                    Some(Err(e)) => fail_forever(&tx, TunnelMode::OwnUrl, format!("the public URL is not usable: {e}")),
                    None => fail_forever(&tx, TunnelMode::OwnUrl, "no public URL is set".into()),
                },
                TunnelMode::Cloudflared => supervise(&tx, TunnelMode::Cloudflared, |tx| run_cloudflared(tx, &settings, local)).await,
                TunnelMode::Ngrok => supervise(&tx, TunnelMode::Ngrok, |tx| run_ngrok(tx, &settings, local)).await,
            }
        });
        Tunnel { status: rx, task }
    }

    pub fn status(&self) -> TunnelStatus {
        self.status.borrow().clone()
    }

    /// Resolves on every status change.
    pub fn watch(&self) -> watch::Receiver<TunnelStatus> {
        self.status.clone()
    }
}

/// The listener may be bound to all interfaces; the tunnel talks to it over loopback.
fn loopback_of(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        let ip = if addr.is_ipv4() { std::net::Ipv4Addr::LOCALHOST.into() } else { std::net::Ipv6Addr::LOCALHOST.into() };
        SocketAddr::new(ip, addr.port())
    } else {
        addr
    }
}

fn fail_forever(tx: &watch::Sender<TunnelStatus>, mode: TunnelMode, error: String) {
    let _ = tx.send(TunnelStatus { error: Some(error), ..TunnelStatus::new(mode, TunnelState::Failed) });
}

/// How one attempt ended.
enum Ended {
    /// It never came up.
    Failed(String),
    /// It was online and then dropped.
    Dropped(String),
    /// It cannot work until the user changes something: do not retry.
    Fatal(String),
}

/// Runs attempts until the task is dropped, with backoff between them.
async fn supervise<F, Fut>(tx: &watch::Sender<TunnelStatus>, mode: TunnelMode, mut attempt: F)
where
    F: FnMut(watch::Sender<TunnelStatus>) -> Fut,
    Fut: std::future::Future<Output = Ended>,
{
    let mut failures = 0u32;
    loop {
        if failures == 0 {
            let _ = tx.send(TunnelStatus::new(mode, TunnelState::Connecting));
        } else {
            // Trying again now: keep the reason on screen until the attempt decides.
            tx.send_modify(|s| s.retry_in_s = None);
        }
        let started = tokio::time::Instant::now();
        let ended = attempt(tx.clone()).await;
        // A tunnel that stayed up a while starts its backoff again.
        if started.elapsed() > Duration::from_secs(120) {
            failures = 0;
        }
        let delay = backoff(failures);
        failures += 1;
        let (state, error) = match ended {
            Ended::Failed(e) => (TunnelState::Failed, e),
            Ended::Dropped(e) => (TunnelState::Reconnecting, e),
            Ended::Fatal(e) => {
                tracing::warn!("tunnel ({mode:?}) stopped: {e}");
                fail_forever(tx, mode, e);
                return;
            }
        };
        tracing::warn!("tunnel ({mode:?}): {error}; retrying in {} s", delay.as_secs());
        let _ = tx.send(TunnelStatus {
            error: Some(error),
            retry_in_s: Some(delay.as_secs()),
            ..TunnelStatus::new(mode, state)
        });
        tokio::time::sleep(delay).await;
    }
}

async fn run_cloudflared(tx: watch::Sender<TunnelStatus>, settings: &TunnelSettings, local: SocketAddr) -> Ended {
    let configured = settings.cloudflared_path.as_deref();
    let Some(program) = crate::child::find_program(configured, "cloudflared", |k| std::env::var_os(k)) else {
        return Ended::Failed(
            "cloudflared is not installed (not on the PATH nor where its installer puts it): install it from Cloudflare's package repository, or choose another way"
                .into(),
        );
    };
    let mut command = tokio::process::Command::new(&program);
    command
        .args(["tunnel", "--no-autoupdate", "--url", &format!("http://{local}")])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // If Kanca itself is killed (no chance to drop the tunnel), cloudflared goes with it
    // instead of holding a tunnel to a listener that is gone.
    crate::child::die_with_parent(&mut command);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ended::Failed(format!(
                "cloudflared is not installed (no program “{}”): install it from Cloudflare's package repository, or choose another way",
                program.display()
            ))
        }
        Err(e) => return Ended::Failed(format!("cloudflared could not be started: {e}")),
    };
    if let Err(e) = crate::child::adopt(&child) {
        tracing::warn!("cloudflared may outlive Kanca if it is killed: {e}");
    }
    // cloudflared logs to stderr; read both streams line by line.
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    if let Some(out) = child.stdout.take() {
        forward_lines(out, lines_tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        forward_lines(err, lines_tx.clone());
    }
    drop(lines_tx);
    let mut online = false;
    let mut last_error: Option<String> = None;
    let exit = loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some(line) => {
                    if !online {
                        if let Some(url) = cloudflared_url(&line) {
                            online = true;
                            tracing::info!("cloudflared tunnel online at {url}");
                            let _ = tx.send(TunnelStatus::online(TunnelMode::Cloudflared, &url, true));
                        }
                    }
                    if line.contains(" ERR ") || line.contains("error") {
                        last_error = Some(line.trim().chars().take(300).collect());
                    }
                }
                None => break child.wait().await,
            },
            status = child.wait() => break status,
        }
    };
    let why = match exit {
        Ok(s) => format!("cloudflared exited ({s})"),
        Err(e) => format!("cloudflared stopped: {e}"),
    };
    let why = match &last_error {
        Some(l) => format!("{why}: {l}"),
        None => why,
    };
    if online {
        Ended::Dropped(why)
    } else {
        Ended::Failed(why)
    }
}

/// Sends each line of a child's output stream to `tx` until the stream ends.
fn forward_lines(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static, tx: tokio::sync::mpsc::UnboundedSender<String>) {
    tokio::spawn(async move {
        let mut r = BufReader::new(stream).lines();
        while let Ok(Some(l)) = r.next_line().await {
            let _ = tx.send(l);
        }
    });
}

async fn run_ngrok(tx: watch::Sender<TunnelStatus>, settings: &TunnelSettings, local: SocketAddr) -> Ended {
    use ngrok::config::ForwarderBuilder as _;
    use ngrok::tunnel::EndpointInfo as _;
    let Some(token) = settings.ngrok_authtoken.clone().filter(|t| !t.trim().is_empty()) else {
        return Ended::Fatal("no ngrok authtoken is set: copy it from dashboard.ngrok.com → Your Authtoken".into());
    };
    let mut builder = ngrok::Session::builder();
    builder.authtoken(token.trim());
    let session = match tokio::time::timeout(Duration::from_secs(30), builder.connect()).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Ended::Failed(explain_ngrok(&e.to_string())),
        Err(_) => return Ended::Failed("ngrok did not answer within 30 s: is this computer online?".into()),
    };
    let mut endpoint = session.http_endpoint();
    if let Some(domain) = settings.ngrok_domain.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        endpoint.domain(domain.trim_start_matches("https://").trim_end_matches('/'));
    }
    let to = match url::Url::parse(&format!("http://{local}")) {
        Ok(u) => u,
        Err(e) => return Ended::Fatal(format!("bad local address: {e}")),
    };
    let mut forwarder = match endpoint.listen_and_forward(to).await {
        Ok(f) => f,
        Err(e) => return Ended::Failed(explain_ngrok(&e.to_string())),
    };
    let url = forwarder.url().to_string();
    tracing::info!("ngrok tunnel online at {url}");
    let url_changes = settings.ngrok_domain.as_deref().is_none_or(|d| d.trim().is_empty());
    let _ = tx.send(TunnelStatus::online(TunnelMode::Ngrok, &url, url_changes));
    let why = match forwarder.join().await {
        Ok(Ok(())) => "the ngrok tunnel closed".to_string(),
        Ok(Err(e)) => explain_ngrok(&e.to_string()),
        Err(e) => format!("the ngrok tunnel stopped: {e}"),
    };
    Ended::Dropped(why)
}

/// ngrok's errors in words a receptionist can act on, keeping the original for support.
fn explain_ngrok(e: &str) -> String {
    let lower = e.to_lowercase();
    let hint = if lower.contains("authtoken") || lower.contains("err_ngrok_105") || lower.contains("err_ngrok_107") {
        "ngrok refused the authtoken: copy it again from dashboard.ngrok.com → Your Authtoken"
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") || lower.contains("connect") {
        "ngrok could not be reached: is this computer online?"
    } else if lower.contains("domain") || lower.contains("err_ngrok_319") {
        "ngrok did not accept the domain: use the static domain shown in your ngrok dashboard"
    } else {
        "ngrok could not open the tunnel"
    };
    format!("{hint} ({})", e.chars().take(300).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_quick_tunnel_url_in_cloudflared_output() {
        let banner = "2024-05-01T10:00:00Z INF |  https://rapid-frog-example.trycloudflare.com                                    |";
        assert_eq!(cloudflared_url(banner).as_deref(), Some("https://rapid-frog-example.trycloudflare.com"));
        assert_eq!(cloudflared_url("INF Requesting new quick Tunnel on trycloudflare.com..."), None);
        assert_eq!(cloudflared_url("see https://developers.cloudflare.com/ for docs"), None);
    }

    #[test]
    fn own_url_is_checked_and_trimmed() {
        assert_eq!(parse_own_url(" https://kanca.example.com/ ").unwrap(), "https://kanca.example.com");
        assert_eq!(parse_own_url("https://kanca.example.com/webhook").unwrap(), "https://kanca.example.com");
        assert_eq!(parse_own_url("https://example.com/bulutfon").unwrap(), "https://example.com/bulutfon");
        assert_eq!(parse_own_url("https://kanca.example.com/webhook/abcdefghijklmnopqrstuvwxyz_-0123").unwrap(), "https://kanca.example.com");
        assert_eq!(parse_own_url("https://example.com/webhook/a/b").unwrap(), "https://example.com/webhook/a/b");
        assert!(parse_own_url("ftp://example.com").is_err());
        assert!(parse_own_url("example.com").is_err());
        assert!(parse_own_url("https://example.com/?a=1").is_err());
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let s = TunnelSettings { mode: TunnelMode::Ngrok, ngrok_authtoken: Some("2abcSECRET".into()), ..Default::default() };
        assert!(!format!("{s:?}").contains("SECRET"));
    }

    #[test]
    fn backoff_grows_to_a_minute() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(20), Duration::from_secs(60));
    }
}
