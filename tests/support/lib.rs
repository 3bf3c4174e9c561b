//! Helpers for the black-box tests: run the built `kanca` binary, post webhooks to it, read its CLI.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod bulutfon;
pub mod pg;

/// Credentials every test server is started with.
pub const USER: &str = "bulutfon";
pub const PASSWORD: &str = "kanca-test-password";

const START_TIMEOUT: Duration = Duration::from_secs(30);
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The `kanca` binary under test: `KANCA_BIN` if set, else `<workspace>/target/debug/kanca`,
/// built once with `cargo build -p kanca` if it is missing. Under Wine ([`wine`]) it is the
/// Windows build, `kanca.exe`, and `KANCA_BIN` must name it.
pub fn kanca_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("KANCA_BIN") {
            let bin = PathBuf::from(bin);
            assert!(bin.exists(), "KANCA_BIN={} does not exist", bin.display());
            return bin;
        }
        assert!(wine().is_none(), "KANCA_WINE is set: KANCA_BIN must name the kanca.exe to run under it");
        let root = workspace_root();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let bin = target.join("debug").join("kanca");
        if !bin.exists() {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "kanca"])
                .current_dir(&root)
                .status()
                .expect("run cargo build -p kanca");
            assert!(status.success(), "cargo build -p kanca failed");
        }
        assert!(bin.exists(), "{} missing after cargo build", bin.display());
        bin
    })
}

/// [`kanca_bin`] for the desktop tests, which need the app itself: fails at once, saying why, if
/// it is the lean build without the desktop feature (that one starts `kanca-desktop` beside it,
/// so a test would find the app under another name and time out waiting for it).
pub fn desktop_bin() -> &'static Path {
    let bin = kanca_bin();
    let out = Command::new("ldd").arg(bin).output().expect("run ldd");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("libwebkit2gtk"),
        "{} is not the desktop build (it does not link WebKit): run `cargo build -p kanca --features desktop`",
        bin.display()
    );
    bin
}

/// The Wine loader (`KANCA_WINE`, e.g. /usr/lib/wine/wine64) when the binary under test is a
/// Windows build run under Wine, as tests/windows-wine.sh does; None for a native binary. The
/// Wine prefix and the rest of Wine's environment (WINEPREFIX, WINEDEBUG...) are inherited.
pub fn wine() -> Option<&'static Path> {
    static WINE: OnceLock<Option<PathBuf>> = OnceLock::new();
    WINE.get_or_init(|| std::env::var_os("KANCA_WINE").filter(|w| !w.is_empty()).map(PathBuf::from))
        .as_deref()
}

/// The text of a fixture, e.g. `fixture("seed", "call_init.json")`.
pub fn fixture(revision: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(revision)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A fresh temporary directory with a `data` directory inside for kanca's data.
pub struct Workdir {
    pub tmp: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("kanca-bb-")
            .tempdir()
            .unwrap();
        std::fs::create_dir(tmp.path().join("data")).unwrap();
        Workdir { tmp }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.tmp.path().join("data")
    }
}

impl Default for Workdir {
    fn default() -> Self {
        Self::new()
    }
}

/// A TCP port free on 127.0.0.1 right now, for a listener the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `f` every 100 ms until it returns something; fails the test after `timeout`.
pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// POSTs a JSON body to a webhook `url` with USER / PASSWORD, on a connection of its own: for
/// a kanca the test started itself (the desktop app). Panics on transport errors.
pub fn post_webhook_json(url: &str, body: &str) -> Reply {
    post_url(
        &new_agent(),
        url,
        "application/json",
        body,
        Some((USER, PASSWORD)),
    )
    .unwrap_or_else(|e| panic!("POST {url} failed: {e}"))
}

/// A base `kanca` command with a clean environment of our own (no inherited KANCA_*).
/// Under Wine the loader runs the .exe in the same process, so the child's pid is the Windows
/// program's: signals reach it, not a launcher in between.
pub fn kanca_command() -> Command {
    let mut cmd = match wine() {
        Some(loader) => {
            let mut cmd = Command::new(loader);
            cmd.arg(kanca_bin());
            cmd
        }
        None => Command::new(kanca_bin()),
    };
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KANCA_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Which credentials a server is started with.
#[derive(Clone, Copy, Debug)]
pub enum Creds {
    /// USER / PASSWORD through KANCA_WEBHOOK_USER / KANCA_WEBHOOK_PASSWORD.
    Env,
    /// No credential variables: kanca uses (or makes) its own in config.toml.
    Config,
}

/// A running `kanca serve`, killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub data_dir: PathBuf,
    log: PathBuf,
    agent: ureq::Agent,
    /// Every line `kanca serve` printed on stdout so far.
    stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "answer is not JSON ({e}): status {} body {:?}",
                self.status, self.body
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts a 200 `{"status": "stored"|"duplicate"}` and returns the status word.
    pub fn expect_accepted(&self) -> String {
        assert_eq!(
            self.status, 200,
            "expected 200, got {} body {:?}",
            self.status, self.body
        );
        let v = self.json();
        let status = v["status"]
            .as_str()
            .unwrap_or_else(|| panic!("no status in {v}"));
        assert!(
            status == "stored" || status == "duplicate",
            "unexpected status {status:?} in {v}"
        );
        status.to_string()
    }

    /// Asserts an error answer with the given HTTP status and a `{"error":{"code","message"}}` body.
    pub fn expect_error(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {} body {:?}",
            self.status, self.body
        );
        let v = self.json();
        let code = v["error"]["code"].as_str();
        let message = v["error"]["message"].as_str();
        assert!(
            code.is_some_and(|c| !c.is_empty()) && message.is_some_and(|m| !m.is_empty()),
            "error body is not {{\"error\":{{\"code\",\"message\"}}}}: {v}"
        );
        v
    }
}

impl Server {
    /// Starts `kanca serve --listen 127.0.0.1:0 --data-dir DIR` with USER / PASSWORD.
    pub fn start(data_dir: &Path) -> Server {
        Self::start_with(data_dir, Creds::Env)
    }

    pub fn start_with(data_dir: &Path, creds: Creds) -> Server {
        Self::start_with_args(data_dir, creds, &[])
    }

    /// As [`Server::start_with`], with more arguments for `kanca serve`.
    pub fn start_with_args(data_dir: &Path, creds: Creds, extra: &[&str]) -> Server {
        Self::start_with_env(data_dir, creds, extra, &[])
    }

    /// As [`Server::start_with_args`], with these environment variables set (last).
    pub fn start_with_env(data_dir: &Path, creds: Creds, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let log = data_dir
            .parent()
            .unwrap_or(data_dir)
            .join(format!("serve-{}.log", unique_suffix()));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut cmd = kanca_command();
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        if let Creds::Env = creds {
            cmd.env("KANCA_WEBHOOK_USER", USER)
                .env("KANCA_WEBHOOK_PASSWORD", PASSWORD);
        }
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().expect("spawn kanca serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = lines.clone();
        std::thread::spawn(move || {
            // Keep draining stdout so the server never blocks on a full pipe.
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                keep.lock().unwrap().push(line.clone());
                if !sent {
                    if let Some(port) = parse_webhook_url_port(&line) {
                        let _ = tx.send(port);
                        sent = true;
                    }
                }
            }
        });
        let agent = new_agent();
        let mut server = Server {
            child: Some(child),
            port: 0,
            data_dir: data_dir.to_path_buf(),
            log,
            agent,
            stdout: lines,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(port) => {
                    server.port = port;
                    return server;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = server.child.as_mut().unwrap().wait().unwrap();
                    panic!(
                        "kanca serve closed stdout without printing 'Webhook URL: ...' ({status}); stderr:\n{}",
                        server.log_text()
                    );
                }
            }
            if let Ok(Some(status)) = server.child.as_mut().unwrap().try_wait() {
                panic!(
                    "kanca serve exited early ({status}); stderr:\n{}",
                    server.log_text()
                );
            }
            if Instant::now() > deadline {
                panic!("kanca serve printed no 'Webhook URL: ...' line in {START_TIMEOUT:?}; stderr:\n{}", server.log_text());
            }
        }
    }

    /// Waits for a stdout line containing `needle` printed after the first `skip` lines; returns
    /// it with its index.
    pub fn wait_for_line(&self, needle: &str, skip: usize, timeout: Duration) -> (usize, String) {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let lines = self.stdout.lock().unwrap();
                if let Some((i, l)) = lines.iter().enumerate().skip(skip).find(|(_, l)| l.contains(needle)) {
                    return (i, l.clone());
                }
                if Instant::now() > deadline {
                    panic!("no line with {needle:?} in {timeout:?}; stdout:\n{}\nstderr:\n{}", lines.join("\n"), self.log_text());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server still owned").id()
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn webhook_url(&self) -> String {
        format!("{}/webhook", self.base_url())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// POSTs a JSON body with the right credentials.
    pub fn post_json(&self, body: &str) -> Reply {
        self.post("application/json", body, Some((USER, PASSWORD)))
    }

    /// POSTs a form-encoded body with the right credentials.
    pub fn post_form(&self, body: &str) -> Reply {
        self.post(
            "application/x-www-form-urlencoded",
            body,
            Some((USER, PASSWORD)),
        )
    }

    /// POSTs `body` to /webhook; panics on transport errors.
    pub fn post(&self, content_type: &str, body: &str, auth: Option<(&str, &str)>) -> Reply {
        self.try_post(content_type, body, auth).unwrap_or_else(|e| {
            panic!(
                "POST /webhook failed: {e}; server stderr:\n{}",
                self.log_text()
            )
        })
    }

    /// POSTs `body` to /webhook; transport errors are returned.
    pub fn try_post(
        &self,
        content_type: &str,
        body: &str,
        auth: Option<(&str, &str)>,
    ) -> Result<Reply, ureq::Error> {
        self.try_post_with(&self.agent, content_type, body, auth)
    }

    /// POSTs `body` with the right credentials on a connection of its own (not from the pool).
    pub fn post_json_new_connection(&self, body: &str) -> Reply {
        self.try_post_with(
            &new_agent(),
            "application/json",
            body,
            Some((USER, PASSWORD)),
        )
        .unwrap_or_else(|e| {
            panic!(
                "POST /webhook failed: {e}; server stderr:\n{}",
                self.log_text()
            )
        })
    }

    /// POSTs `body` to `path` (e.g. `/webhook/SECRET`) on a connection of its own; panics on
    /// transport errors.
    pub fn post_to(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        auth: Option<(&str, &str)>,
    ) -> Reply {
        let url = format!("{}{path}", self.base_url());
        post_url(&new_agent(), &url, content_type, body, auth).unwrap_or_else(|e| {
            panic!("POST {path} failed: {e}; server stderr:\n{}", self.log_text())
        })
    }

    fn try_post_with(
        &self,
        agent: &ureq::Agent,
        content_type: &str,
        body: &str,
        auth: Option<(&str, &str)>,
    ) -> Result<Reply, ureq::Error> {
        post_url(agent, &self.webhook_url(), content_type, body, auth)
    }


    pub fn get(&self, path: &str) -> Reply {
        let resp = self
            .agent
            .get(format!("{}{}", self.base_url(), path))
            .call()
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"));
        into_reply(resp)
    }

    /// Sends a signal (`TERM`, `INT`, `KILL`) with kill(1). The child is not reaped yet, so
    /// its pid cannot have been reused.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{sig} {} failed", self.pid());
    }

    /// Waits for the server to exit, at most `timeout`; None if it is still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().expect("server still owned");
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- kanca serve stderr (port {}) ---\n{}",
                self.port,
                self.log_text()
            );
        }
    }
}

fn new_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(HTTP_TIMEOUT))
        .build()
        .into()
}

fn into_reply(resp: ureq::http::Response<ureq::Body>) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = String::new();
    let _ = resp.into_body().into_reader().read_to_string(&mut body);
    Reply {
        status,
        headers,
        body,
    }
}

fn post_url(
    agent: &ureq::Agent,
    url: &str,
    content_type: &str,
    body: &str,
    auth: Option<(&str, &str)>,
) -> Result<Reply, ureq::Error> {
    let mut req = agent.post(url).header("Content-Type", content_type);
    if let Some((user, password)) = auth {
        req = req.header("Authorization", basic_auth(user, password));
    }
    let resp = req.send(body.as_bytes())?;
    Ok(into_reply(resp))
}

fn parse_webhook_url_port(line: &str) -> Option<u16> {
    let rest = line.trim().strip_prefix("Webhook URL: http://")?;
    let host_port = rest.strip_suffix("/webhook")?;
    host_port.rsplit(':').next()?.parse().ok()
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `kanca ARGS --data-dir DIR` to completion.
pub fn kanca(data_dir: &Path, args: &[&str]) -> Output {
    kanca_env(data_dir, args, &[])
}

/// [`kanca`] with these environment variables set.
pub fn kanca_env(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = kanca_command()
        .envs(env.iter().copied())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::null())
        .output()
        .expect("run kanca");
    out
}

/// Runs `kanca ARGS --data-dir DIR`, asserts success and returns stdout.
pub fn kanca_ok(data_dir: &Path, args: &[&str]) -> String {
    let out = kanca(data_dir, args);
    assert!(
        out.status.success(),
        "kanca {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// `kanca history ARGS --json`: one JSON object per line.
pub fn history(data_dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut full: Vec<&str> = vec!["history"];
    full.extend_from_slice(args);
    full.push("--json");
    let out = kanca_ok(data_dir, &full);
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("history line is not JSON ({e}): {l:?}"))
        })
        .collect()
}

/// The uuids of `history ARGS --json`, in order.
pub fn history_uuids(data_dir: &Path, args: &[&str]) -> Vec<String> {
    history(data_dir, args)
        .iter()
        .map(|c| {
            c["uuid"]
                .as_str()
                .unwrap_or_else(|| panic!("no uuid in {c}"))
                .to_string()
        })
        .collect()
}

/// `kanca show UUID --json`.
pub fn show(data_dir: &Path, uuid: &str) -> Value {
    let out = kanca_ok(data_dir, &["show", uuid, "--json"]);
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("show output is not JSON ({e}): {out:?}"))
}

/// A call as the user sees it, without its event list (which carries receipt times).
pub fn call_view(call: &Value) -> Value {
    let mut call = call.clone();
    if let Some(obj) = call.as_object_mut() {
        obj.remove("events");
    }
    call
}

/// The route of a call as (type, destination) pairs: `[{"type": "menu", "destination": "10"}]`,
/// leaving out any further fields an entry may carry.
pub fn route_of(call: &Value) -> Value {
    let route = call["route"]
        .as_array()
        .unwrap_or_else(|| panic!("no route list in {call}"));
    Value::Array(
        route
            .iter()
            .map(|r| serde_json::json!({"type": r["type"], "destination": r["destination"]}))
            .collect(),
    )
}

/// The fields of a call that `kanca history --json` promises, with the route as `route_of`.
pub fn contract_view(call: &Value) -> Value {
    let mut view = serde_json::Map::new();
    for key in [
        "uuid",
        "kind",
        "direction",
        "caller",
        "callee",
        "started_at",
        "ended_at",
        "answered",
        "missed",
        "duration_s",
        "hangup_cause",
    ] {
        view.insert(
            key.to_string(),
            call.get(key)
                .cloned()
                .unwrap_or_else(|| panic!("no {key} in {call}")),
        );
    }
    view.insert("route".to_string(), route_of(call));
    Value::Object(view)
}

/// The events of a `show --json` answer as (type, received_type, timestamp) triples, sorted.
pub fn event_keys(call: &Value) -> Vec<(String, String, String)> {
    let mut keys: Vec<_> = call["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events list in {call}"))
        .iter()
        .map(|e| {
            (
                json_text(&e["type"]),
                json_text(&e["received_type"]),
                json_text(&e["timestamp"]),
            )
        })
        .collect();
    keys.sort();
    keys
}

/// A JSON value as text (strings without quotes), to compare numbers and strings alike.
pub fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Authorization: Basic ...` value.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Encodes a JSON object the way Bulutfon's x-www-form-urlencoded hooks do: every value a
/// string, nested objects and lists in bracket form (`cdr[callflow][0][callee]=99`), null as empty.
/// `Brackets::Encoded` percent-encodes the brackets as a browser's form serializer would.
pub fn form_encode(v: &Value, brackets: Brackets) -> String {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}[{k}]")
                    };
                    walk(&key, v, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), v, out);
                }
            }
            Value::Null => out.push((prefix.to_string(), String::new())),
            Value::String(s) => out.push((prefix.to_string(), s.clone())),
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut pairs = Vec::new();
    walk("", v, &mut pairs);
    pairs
        .iter()
        .map(|(k, v)| {
            let key = match brackets {
                Brackets::Encoded => percent_encode(k),
                Brackets::Literal => percent_encode(k).replace("%5B", "[").replace("%5D", "]"),
            };
            format!("{key}={}", percent_encode(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// How `form_encode` writes the brackets of nested keys.
#[derive(Clone, Copy, Debug)]
pub enum Brackets {
    Literal,
    Encoded,
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Seconds since the epoch of an RFC 3339 time (`2015-07-01T18:00:51.0868+03:00`, `...Z`).
pub fn rfc3339_seconds(s: &str) -> i64 {
    let bad = || panic!("not an RFC 3339 time: {s:?}");
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ')
    {
        bad();
    }
    let num = |r: std::ops::Range<usize>| -> i64 {
        s.get(r).and_then(|x| x.parse().ok()).unwrap_or_else(bad)
    };
    let (y, mo, d) = (num(0..4), num(5..7), num(8..10));
    let (h, mi, sec) = (num(11..13), num(14..16), num(17..19));
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z') | Some(b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = num(i + 1..i + 3);
            let om = num(i + 4..i + 6);
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => bad(),
    };
    days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset
}

// Howard Hinnant's days_from_civil.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// A call event body in Bulutfon's JSON form.
pub fn event_json(
    event_type: &str,
    uuid: &str,
    caller: u64,
    callee: u64,
    direction: &str,
    timestamp_us: u64,
) -> Value {
    serde_json::json!({
        "event_type": event_type,
        "caller": caller,
        "callee": callee,
        "uuid": uuid,
        "direction": direction,
        "timestamp": timestamp_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(base64(b"bulutfon:x"), "YnVsdXRmb246eA==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(rfc3339_seconds("2015-07-01T18:00:51+03:00"), 1435762851);
        assert_eq!(rfc3339_seconds("2015-07-01T15:00:51.086820Z"), 1435762851);
        assert_eq!(
            parse_webhook_url_port("Webhook URL: http://127.0.0.1:4567/webhook"),
            Some(4567)
        );
        let v = serde_json::json!({"a": "x y", "cdr": {"callflow": [{"callee": 99, "t": null}]}});
        assert_eq!(
            form_encode(&v, Brackets::Encoded),
            "a=x+y&cdr%5Bcallflow%5D%5B0%5D%5Bcallee%5D=99&cdr%5Bcallflow%5D%5B0%5D%5Bt%5D="
        );
        assert_eq!(
            form_encode(&v, Brackets::Literal),
            "a=x+y&cdr[callflow][0][callee]=99&cdr[callflow][0][t]="
        );
    }
}
