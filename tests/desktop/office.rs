//! Office mode with real desktops: one `kanca serve --office` receiver and three desktop apps
//! paired with it, each on its own display and session bus with a recording notification
//! server. A webhook posted to the receiver pops up at every desk; a desk closed while calls
//! come in catches up exactly once when it opens again, with one missed-calls summary instead
//! of a pop-up per call; a desk paired from Settings by its pairing code pops up the
//! receiver's calls.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kanca_tests::{desktop_bin, free_port, kanca_ok, wait_until, Creds, Server, Workdir};
use serde_json::Value;

use super::{call_json, notification_server, notifications, now_us, spawn, Desktop, Proc};

/// The receiver with its desks' API on a free loopback port: (server, "127.0.0.1:PORT").
fn receiver(data: &Path) -> (Server, String) {
    let server = Server::start_with_args(data, Creds::Env, &["--office", "127.0.0.1:0"]);
    let (_, line) = server.wait_for_line("Office client API: ", 0, Duration::from_secs(30));
    let addr = line.split("Office client API: ").nth(1).unwrap().split(' ').next().unwrap().to_owned();
    (server, addr)
}

/// A pairing code for desk `name`, as `kanca clients add` prints it.
fn pairing_code(data: &Path, name: &str, addr: &str) -> String {
    let out = kanca_ok(data, &["clients", "add", name, "--address", addr, "--json"]);
    let made: Value = serde_json::from_str(out.trim()).unwrap();
    made["code"].as_str().unwrap().to_owned()
}

/// A desk: its display and bus, its notification server's log, its data directory.
struct Desk {
    desktop: Desktop,
    notify_log: PathBuf,
    data: PathBuf,
    home: PathBuf,
    _server: Proc,
    app: Option<Proc>,
    /// Each start's log (stderr), newest last.
    logs: Vec<PathBuf>,
}

impl Desk {
    /// A desk whose config.toml holds `code` (as Settings writes it), not started yet.
    fn new(root: &Path, name: &str, code: &str) -> Desk {
        let home = root.join(name);
        let data = home.join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("config.toml"), format!("[office]\njoin = \"{code}\"\n")).unwrap();
        let desktop = Desktop::start();
        let notify_log = home.join("notify.log");
        let server = notification_server(&desktop, &notify_log);
        Desk { desktop, notify_log, data, home, _server: server, app: None, logs: Vec::new() }
    }

    fn start(&mut self) {
        let log = self.home.join(format!("kanca-{}.log", self.logs.len()));
        let app = spawn(
            "kanca desk",
            self.desktop
                .command(desktop_bin())
                .env("KANCA_DATA_DIR", &self.data)
                // Not used by a desk (it does not listen); a port of its own all the same.
                .env("KANCA_LISTEN", format!("127.0.0.1:{}", free_port()))
                .env("LANG", "tr_TR.UTF-8")
                .env("NO_COLOR", "1")
                .env("HOME", &self.home)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap()),
        );
        self.logs.push(log);
        self.app = Some(app);
    }

    fn log(&self) -> String {
        self.logs.last().map(|l| std::fs::read_to_string(l).unwrap_or_default()).unwrap_or_default()
    }

    /// Waits until this start of the app follows the receiver's stream.
    fn wait_connected(&self) {
        wait_until("the desk to follow its receiver", Duration::from_secs(60), || self.log().contains("office: following the receiver").then_some(()));
    }

    fn stop(&mut self) {
        self.app = None;
    }

    fn summaries(&self) -> Vec<String> {
        notifications(&self.notify_log).into_iter().map(|n| n.summary).collect()
    }

    fn wait_for_summary(&self, summary: &str) {
        wait_until(&format!("{summary:?} at a desk"), Duration::from_secs(30), || self.summaries().iter().any(|s| s == summary).then_some(()));
    }

    /// Events in the desk's copy of the history, by call.
    fn events_of(&self, uuid: &str) -> usize {
        let out = kanca_ok(&self.data.join("desk"), &["show", uuid, "--json"]);
        let v: Value = serde_json::from_str(out.trim()).unwrap_or(Value::Null);
        v["events"].as_array().map(Vec::len).unwrap_or(0)
    }
}

#[test]
#[ignore = "needs a display stack and python3-dbusmock: run with --ignored (tests/run.sh does)"]
fn three_desks_pop_up_the_receivers_calls_and_one_catches_up_once() {
    let work = Workdir::new();
    let receiver_data = work.tmp.path().join("receiver");
    let (server, addr) = receiver(&receiver_data);
    let mut desks: Vec<Desk> =
        ["ayse", "burak", "cem"].iter().map(|name| Desk::new(work.tmp.path(), name, &pairing_code(&receiver_data, name, &addr))).collect();
    for d in &mut desks {
        d.start();
    }
    for d in &desks {
        d.wait_connected();
    }

    // A call reaches the receiver: every desk pops it up.
    let now_s = now_us() / 1_000_000;
    server.post_json(&call_json("office-live", "call_init", "905321234567", now_s)).expect_accepted();
    for d in &desks {
        d.wait_for_summary("Gelen arama: 0 532 123 45 67");
    }

    // Cem's desk is closed; two calls ring and are missed meanwhile.
    desks[2].stop();
    let posted = std::time::Instant::now();
    for (i, caller) in ["905330000001", "905330000002"].iter().enumerate() {
        let uuid = format!("office-away-{i}");
        server.post_json(&call_json(&uuid, "call_init", caller, now_s + 1)).expect_accepted();
        server.post_json(&call_json(&uuid, "missing_call", caller, now_s + 20)).expect_accepted();
    }
    desks[0].wait_for_summary("2 cevapsız arama");
    let before = desks[2].summaries().len();
    // Away for longer than the few seconds in which a call caught up with still rings.
    wait_until_not_fresh(posted);
    desks[2].start();
    desks[2].wait_connected();
    // One summary of what was missed, no pop-up per call.
    desks[2].wait_for_summary("Siz yokken 2 cevapsız arama");
    let after: Vec<String> = desks[2].summaries().split_off(before);
    assert!(after.iter().all(|s| !s.starts_with("Gelen arama")), "no ringing pop-ups for calls that are over: {after:?}");
    // Each event exactly once in the desk's copy, as many as the receiver has.
    for uuid in ["office-away-0", "office-away-1", "office-live"] {
        let at_receiver = {
            let out = kanca_ok(&receiver_data, &["show", uuid, "--json"]);
            serde_json::from_str::<Value>(out.trim()).unwrap()["events"].as_array().map(Vec::len).unwrap()
        };
        assert_eq!(desks[2].events_of(uuid), at_receiver, "{uuid} at the desk that was closed");
    }
    // Live again: the next call rings at the desk that came back.
    server.post_json(&call_json("office-back", "call_init", "905339999999", now_us() / 1_000_000)).expect_accepted();
    desks[2].wait_for_summary("Gelen arama: 0 533 999 99 99");
}

/// Events a receiver stored this recently still pop up at a desk catching up (core
/// `office::desk`'s FRESH_US): a test of catching up waits until its events are older.
const FRESH: Duration = Duration::from_secs(10);

/// Waits until what was posted at `posted` is no longer news to a desk catching up.
fn wait_until_not_fresh(posted: std::time::Instant) {
    wait_until("the posted events to be older than a desk's fresh window", FRESH + Duration::from_secs(5), || {
        (posted.elapsed() > FRESH + Duration::from_millis(500)).then_some(())
    });
}

/// Ends every process started with `KANCA_DATA_DIR=data` (an app that restarted itself is no
/// child of the test).
fn kill_apps_of(data: &Path) {
    let needle = format!("KANCA_DATA_DIR={}", data.display());
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(env) = std::fs::read(entry.path().join("environ")) else { continue };
        if env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) && pid != std::process::id() as i32 {
            let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

/// Kills the desk's restarted app however the test ends.
struct KillAppsOf(PathBuf);
impl Drop for KillAppsOf {
    fn drop(&mut self) {
        kill_apps_of(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display stack and tauri-driver: run with --ignored (tests/run.sh does)"]
async fn a_desk_paired_in_settings_pops_up_the_receivers_calls() {
    let work = Workdir::new();
    let receiver_data = work.tmp.path().join("receiver");
    let (server, addr) = receiver(&receiver_data);
    let code = pairing_code(&receiver_data, "Resepsiyon", &addr);
    // Stored before the desk joins: copied as history, never popped up.
    let now_s = now_us() / 1_000_000;
    server.post_json(&call_json("before-join", "call_init", "905321110000", now_s)).expect_accepted();
    let posted = std::time::Instant::now();

    let desk = Desktop::start();
    let log = work.tmp.path().join("notify.log");
    let _notifications = notification_server(&desk, &log);
    let _cleanup = KillAppsOf(work.data_dir());
    // Where this app serves desks while it is a receiver (the default, 8498, may be taken).
    std::fs::create_dir_all(work.data_dir()).unwrap();
    std::fs::write(work.data_dir().join("config.toml"), format!("[office]\nlisten = \"127.0.0.1:{}\"\n", free_port())).unwrap();
    let app = super::start_app(&desk, &work).await;
    let client = &app.client;
    super::click(client, "nav-settings").await;
    super::wait_for_js(client, "return document.querySelector('[data-testid=office-join-code]') ? true : null").await;
    show_office_card(client).await;
    super::snapshot(client, &desk, "office-alone").await;

    // For a moment the office's receiver: Masa ekle gives a desk's code.
    super::click(client, "office-receiver").await;
    super::wait_for_js(client, "return document.querySelector('[data-testid=office-desk-name-input]') ? true : null").await;
    set_value(client, "office-desk-name-input", "Muhasebe").await;
    super::click(client, "office-add-desk").await;
    let made = super::wait_for_js(client, "const e = document.querySelector('[data-testid=office-code]'); return e && e.value.startsWith('KANCA1-') ? e.value : null").await;
    let made = pairing_name(made.as_str().unwrap());
    assert_eq!(made, "Muhasebe", "the code names the desk");
    let listed = kanca_ok(&work.data_dir(), &["clients", "list", "--json"]);
    assert!(listed.contains("\"Muhasebe\""), "paired at this receiver: {listed}");
    show_office_card(client).await;
    super::snapshot(client, &desk, "office-receiver").await;
    super::click(client, "office-receiver").await;
    super::wait_for_js(client, "return document.querySelector('[data-testid=office-join-code]') ? true : null").await;
    // A wrong code is refused in place, with the reason.
    client.find(fantoccini::Locator::Css("[data-testid=office-join-code]")).await.unwrap().send_keys("KANCA1-bozuk").await.unwrap();
    super::click(client, "office-join-button").await;
    let error = super::wait_for_js(client, "const e = document.querySelector('[data-testid=office-join-error]'); return e && e.textContent.trim() ? e.textContent : null").await;
    assert!(error.as_str().unwrap_or_default().contains("eşleştirme kodu"), "{error}");
    set_value(client, "office-join-code", &code).await;
    // The call before joining is history once it is more than a few seconds old.
    wait_until_not_fresh(posted);
    // The app starts again at once: the session may end before the click's script answers.
    let _ = client.execute("document.querySelector('[data-testid=office-join-button]').click(); return true", vec![]).await;

    // The app starts again as a desk: it copies the history, then follows the receiver.
    let cursor = work.data_dir().join("desk").join("receiver.json");
    wait_until("the desk's first copy", Duration::from_secs(60), || cursor.exists().then_some(()));
    let config = std::fs::read_to_string(work.data_dir().join("config.toml")).unwrap();
    assert!(config.contains("[office]") && config.contains("KANCA1-"), "the code is kept: {config}");
    server.post_json(&call_json("after-join", "call_init", "905322220000", now_us() / 1_000_000)).expect_accepted();
    wait_until("the receiver's call to pop up at the desk", Duration::from_secs(30), || {
        notifications(&log).into_iter().find(|n| n.summary == "Gelen arama: 0 532 222 00 00")
    });
    let summaries: Vec<String> = notifications(&log).into_iter().map(|n| n.summary).collect();
    assert!(!summaries.iter().any(|s| s.contains("0 532 111 00 00")), "the history copied on joining does not pop up: {summaries:?}");
}

/// Bring Settings' office card into view (for the pictures).
async fn show_office_card(client: &fantoccini::Client) {
    let _ = client.execute("document.querySelector('[data-testid=settings-office]')?.scrollIntoView(); return true", vec![]).await;
}

/// Type `value` into the field `testid` as a paste would.
async fn set_value(client: &fantoccini::Client, testid: &str, value: &str) {
    let script = "const e = document.querySelector(`[data-testid=${arguments[0]}]`); if (!e) return null; e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true})); return true";
    let done = client.execute(script, vec![serde_json::json!(testid), serde_json::json!(value)]).await.unwrap();
    assert_eq!(done, serde_json::json!(true), "no field [data-testid={testid}]");
}

/// The desk name a pairing code carries.
fn pairing_name(code: &str) -> String {
    use base64::Engine as _;
    let body = code.trim().strip_prefix("KANCA1-").expect("a pairing code");
    let json: Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
    json["name"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display stack and tauri-driver: run with --ignored (tests/run.sh does)"]
async fn a_desk_plays_recordings_and_shows_faxes_through_its_receiver() {
    use kanca_tests::bulutfon::{record_ending, StandIn};
    let work = Workdir::new();
    // The receiver holds Bulutfon's API token; its start-up sync brings a recorded call.
    let now_s = now_us() / 1_000_000;
    let mut answered = record_ending(1, now_s - 3600);
    answered["call_record"] = "YES".into();
    let answered_uuid = answered["uuid"].as_str().unwrap().to_owned();
    let api = StandIn::with_records(vec![answered], 100, Default::default());
    let env = api.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let receiver_data = work.tmp.path().join("receiver");
    let server = Server::start_with_env(&receiver_data, Creds::Env, &["--office", "127.0.0.1:0"], &env);
    let (_, line) = server.wait_for_line("Office client API: ", 0, Duration::from_secs(30));
    let addr = line.split("Office client API: ").nth(1).unwrap().split(' ').next().unwrap().to_owned();
    server.post_json(&serde_json::json!({"event_type": "fax_init", "uuid": "fax-desk", "caller": "903124445566", "callee": "908508850000", "direction": "IN", "timestamp": now_s * 1_000_000}).to_string()).expect_accepted();
    let code = pairing_code(&receiver_data, "Resepsiyon", &addr);

    std::fs::create_dir_all(work.data_dir()).unwrap();
    std::fs::write(work.data_dir().join("config.toml"), format!("[office]\njoin = \"{code}\"\n")).unwrap();
    let desk = Desktop::start();
    let _notifications = notification_server(&desk, &work.tmp.path().join("notify.log"));
    let _cleanup = KillAppsOf(work.data_dir());
    let app = super::start_app_listening(&desk, &work, &[], false).await;
    let client = &app.client;
    let js = |script: String| {
        let client = client.clone();
        async move { client.execute(&script, vec![]).await.unwrap() }
    };

    super::click(client, "nav-history").await;
    super::wait_until_async(client, |rows: &[String]| rows.contains(&answered_uuid)).await;
    js(format!("document.querySelector(`[data-testid=call-row][data-uuid='{answered_uuid}']`).click(); return 1")).await;
    super::wait_for_js(client, &format!("return document.querySelector(`[data-testid=call-detail][data-uuid='{answered_uuid}'] [data-testid=detail-listen]`) ? true : null")).await;
    super::click(client, "detail-listen").await;
    let duration = super::wait_for_js(client, "const a = document.querySelector('[data-testid=detail-audio]'); return a && a.readyState >= 1 && a.duration > 0 ? a.duration : null").await;
    assert!((duration.as_f64().unwrap() - 1.0).abs() < 0.1, "the one-second tone, through the receiver: {duration}");
    super::snapshot(client, &desk, "office-desk-recording").await;

    super::click(client, "nav-faxes").await;
    super::wait_until_async(client, |rows: &[String]| rows.first().map(String::as_str) == Some("fax-desk")).await;
    js("document.querySelector(`[data-testid=call-row][data-uuid='fax-desk']`).click(); return 1".into()).await;
    super::wait_for_js(client, "return document.querySelector(`[data-testid=call-detail][data-uuid='fax-desk'] [data-testid=detail-show-fax]`) ? true : null").await;
    super::click(client, "detail-show-fax").await;
    let pages = super::wait_for_js(client, "const p = [...document.querySelectorAll('[data-testid=fax-page]')]; return p.length === 2 && p.every(i => i.complete && i.naturalWidth > 0) ? p.length : null").await;
    assert_eq!(pages, serde_json::json!(2));
    // Bulutfon was asked once for each: the receiver keeps what it fetched.
    assert_eq!(api.count(&format!("/call-records/{answered_uuid}")), 1, "{:?}", api.seen());
    assert_eq!(api.count("/incoming-faxes/fax-desk"), 1, "{:?}", api.seen());
}
