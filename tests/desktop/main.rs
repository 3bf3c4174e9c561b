//! End-to-end test of the desktop app: the real `kanca` (built with `--features desktop`) under
//! its own Xvfb, on its own D-Bus session with a recording notification server
//! (python3-dbusmock), driven through its real WebKit webview by WebDriver (tauri-driver).
//!
//! Needs a display stack and tauri-driver, so its tests are ignored unless asked for
//! (`cargo test -p kanca-tests --test desktop -- --ignored`); `tests/run.sh` installs what they
//! need and runs them. Screenshots go to `target/e2e-artifacts/`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{ClientBuilder, Locator};
use kanca_tests::{desktop_bin, fixture, free_port, wait_until, workspace_root, Workdir};
use serde_json::json;

mod bulutfon;
mod office;

const USER: &str = "bulutfon";
const PASSWORD: &str = "e2e-password";

/// A child process killed (with its group) when dropped.
struct Proc {
    child: Child,
    name: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(name: &'static str, cmd: &mut Command) -> Proc {
    let child = cmd.stdin(Stdio::null()).spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
    Proc { child, name }
}



fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let candidate = home.join(".cargo/bin/tauri-driver");
    if candidate.exists() {
        return candidate;
    }
    PathBuf::from("tauri-driver")
}

/// The session-bus environment every child shares.
struct Desktop {
    display: String,
    bus: String,
    _xvfb: Proc,
    _bus_daemon: BusDaemon,
}

struct BusDaemon(u32);
impl Drop for BusDaemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

impl Desktop {
    fn start() -> Desktop {
        // A display number of our own: the test starts its own Xvfb. Tests of this binary run
        // in parallel, so each takes the next number after the process's own.
        // Numbers held by another X server (its lock file) are skipped.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = loop {
            let n = 100 + (std::process::id() % 400 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) % 800;
            if !Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                break n;
            }
        };
        let display = format!(":{n}");
        let xvfb = spawn(
            "Xvfb",
            Command::new("Xvfb").args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"]).stderr(Stdio::null()),
        );
        wait_until("Xvfb", Duration::from_secs(10), || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists().then_some(()));
        let out = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .output()
            .expect("dbus-daemon");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines();
        let bus = lines.next().expect("bus address").trim().to_string();
        let pid: u32 = lines.next().expect("bus pid").trim().parse().unwrap();
        Desktop { display, bus, _xvfb: xvfb, _bus_daemon: BusDaemon(pid) }
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display).env("DBUS_SESSION_BUS_ADDRESS", &self.bus).env("NO_AT_BRIDGE", "1");
        c
    }

    /// The X ids of the visible windows whose title matches `name` (a regex).
    fn window_ids(&self, name: &str) -> Vec<u32> {
        let out = self.command("xdotool").args(["search", "--onlyvisible", "--name", name]).output().expect("xdotool");
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().filter_map(|l| l.trim().parse().ok()).collect()
    }

    /// Waits until a service owns `name` on the session bus.
    fn wait_for_name(&self, name: &str) {
        wait_until(&format!("{name} on the bus"), Duration::from_secs(15), || {
            let out = self
                .command("gdbus")
                .args(["call", "--session", "-d", "org.freedesktop.DBus", "-o", "/org/freedesktop/DBus", "-m", "org.freedesktop.DBus.NameHasOwner", name])
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stdout).contains("true").then_some(())
        });
    }

    fn gdbus(&self, args: &[&str]) -> String {
        let out = self.command("gdbus").args(args).output().expect("gdbus");
        assert!(out.status.success(), "gdbus {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    }
}

/// One Notify call as the mock server logged it.
#[derive(Debug, Clone)]
struct Notified {
    replaces_id: u32,
    summary: String,
    body: String,
}

/// Parse dbusmock's log: `TIME Notify "app" REPLACES "icon" "summary" "body" [actions] {hints} TIMEOUT`.
fn notifications(log: &Path) -> Vec<Notified> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(" Notify \"") {
        rest = &rest[i + " Notify ".len()..];
        let mut fields = Vec::new();
        let mut cur = rest;
        // app, then replaces_id (bare), then icon, summary, body (quoted; body may span lines)
        let (app, after) = quoted(cur);
        fields.push(app);
        cur = after.trim_start();
        let end = cur.find(' ').unwrap_or(cur.len());
        let replaces_id: u32 = cur[..end].parse().unwrap_or(u32::MAX);
        cur = cur[end..].trim_start();
        for _ in 0..3 {
            let (f, after) = quoted(cur);
            fields.push(f);
            cur = after.trim_start();
        }
        out.push(Notified { replaces_id, summary: fields[2].clone(), body: fields[3].clone() });
        rest = cur;
    }
    out
}

fn quoted(s: &str) -> (String, &str) {
    let s = s.strip_prefix('"').unwrap_or(s);
    // dbusmock writes the strings as they are; a field ends at `" ` followed by the next field.
    let mut idx = 0;
    let bytes = s.as_bytes();
    while idx < bytes.len() {
        if bytes[idx] == b'"' && (idx + 1 == bytes.len() || bytes[idx + 1] == b' ') {
            return (s[..idx].to_string(), &s[idx + 1..]);
        }
        idx += 1;
    }
    (s.to_string(), "")
}

fn post(port: u16, body: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let auth = format!("Basic {}", base64_encode(&format!("{USER}:{PASSWORD}")));
    agent
        .post(&format!("http://127.0.0.1:{port}/webhook"))
        .header("Content-Type", "application/json")
        .header("Authorization", &auth)
        .send(body.as_bytes())
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

fn base64_encode(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &x)| acc | (x as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn artifacts() -> PathBuf {
    let dir = workspace_root().join("target/e2e-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &fantoccini::Client, name: &str) {
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(artifacts().join(format!("{name}.png")), png);
    }
}

/// A screenshot through WebDriver, or of the X screen when WebKit's snapshot stalls (it has, for
/// minutes, on a loaded machine): the picture is for a person to look at, not an assertion.
async fn snapshot(client: &fantoccini::Client, desk: &Desktop, name: &str) {
    if tokio::time::timeout(Duration::from_secs(15), screenshot(client, name)).await.is_err() {
        let out = artifacts().join(format!("{name}.png"));
        let _ = desk.command("import").args(["-window", "root"]).arg(&out).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display stack and tauri-driver: run with --ignored (tests/run.sh does)"]
async fn popups_follow_the_call_and_a_click_opens_it() {
    let work = Workdir::new();
    let desk = Desktop::start();
    let log = work.tmp.path().join("notify.log");
    let _notify = spawn(
        "notification server",
        desk.command("/usr/bin/python3")
            .args(["-m", "dbusmock", "--template", "notification_daemon", "-l"])
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    desk.wait_for_name("org.freedesktop.Notifications");

    // A StatusNotifierWatcher for the tray to register with, so its menu is on the bus.
    let _watcher = spawn(
        "tray watcher",
        desk.command("/usr/bin/python3")
            .args(["-m", "dbusmock", "--session", "org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    desk.wait_for_name("org.kde.StatusNotifierWatcher");
    let watcher = ["--session", "-d", "org.kde.StatusNotifierWatcher", "-o", "/StatusNotifierWatcher"];
    desk.gdbus(&[&["call"][..], &watcher[..], &["-m", "org.freedesktop.DBus.Mock.AddMethod", "", "RegisterStatusNotifierItem", "s", "", ""][..]].concat());
    desk.gdbus(&[&["call"][..], &watcher[..], &["-m", "org.freedesktop.DBus.Mock.AddProperty", "", "IsStatusNotifierHostRegistered", "<true>"][..]].concat());

    // The app under WebDriver; its listener runs from start-up.
    let app = start_app(&desk, &work).await;
    let client = app.client.clone();
    let listen_port = app.listen_port;
    // LANG=tr_TR: the window speaks Turkish, whatever WebKit guesses (it may re-render once the
    // settings arrive, so read the live DOM).
    let mut nav_text = String::new();
    for _ in 0..50 {
        let v = client.execute("return document.querySelector('[data-testid=nav-history]').textContent", vec![]).await.unwrap();
        nav_text = v.as_str().unwrap_or_default().to_string();
        if nav_text.contains("Aramalar") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(nav_text.contains("Aramalar"), "the UI is in Turkish: {nav_text:?}");
    screenshot(&client, "01-first-run").await;

    // The guide's test event goes through the listener: a pop-up marked as a test, and the call
    // in history with its test badge.
    click(&client, "send-test-event").await;
    // It arrives, and the window opens it: the detail carries the test badge.
    // (The detail re-renders as the call's data arrives, so read the live DOM, not an element.)
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid=call-detail][data-uuid^='kanca-test-'] [data-testid=test-badge]"))
        .await
        .expect("the test call opens in the window, marked as a test");
    let badge = client
        .execute("return document.querySelector('[data-testid=call-detail] [data-testid=test-badge]')?.textContent ?? ''", vec![])
        .await
        .unwrap();
    assert_eq!(badge, json!("Test"), "the detail's test badge");
    let test_popup = wait_until("the test event's pop-up", Duration::from_secs(15), || notifications(&log).into_iter().next());
    assert_eq!(test_popup.summary, "Gelen arama: 0 555 444 33 22", "{test_popup:?}");
    assert!(test_popup.body.contains("(test olayı)"), "{test_popup:?}");
    click(&client, "nav-history").await;
    let rows = wait_until_async(&client, |rows: &[String]| rows.iter().any(|r| r.starts_with("kanca-test-"))).await;
    let test_uuid = rows.iter().find(|r| r.starts_with("kanca-test-")).unwrap().clone();
    let badge = client
        .execute(
            "return document.querySelector(`[data-testid=call-row][data-uuid='${arguments[0]}'] [data-testid=test-badge]`)?.textContent ?? null",
            vec![json!(test_uuid)],
        )
        .await
        .unwrap();
    assert_eq!(badge, json!("Test"), "the test call carries its badge in the list");
    screenshot(&client, "01b-test-event").await;
    let popups_before_call = notifications(&log).len();

    // A call starts and is routed: one pop-up, replaced in place at every step.
    let uuid = "f615986c-2001-11e5-bdee-6599352d46ce";
    // One step at a time: the service shows only the last of several queued updates of a call.
    for (i, name) in ["call_init", "call_init_menu", "call_init_group", "call_init_extension"].into_iter().enumerate() {
        assert_eq!(post(listen_port, &fresh(&fixture("seed", &format!("{name}.json")))), 200, "{name}");
        wait_until(&format!("the pop-up for {name}"), Duration::from_secs(15), || {
            (notifications(&log).len() > popups_before_call + i).then_some(())
        });
    }
    let shown = wait_until("four Notify calls", Duration::from_secs(15), || {
        let n = notifications(&log).split_off(popups_before_call);
        (n.len() >= 4).then_some(n)
    });
    assert_eq!(shown[0].replaces_id, 0, "the first pop-up is new: {shown:?}");
    let id = shown[1].replaces_id;
    assert!(id > 0, "later steps replace the first pop-up: {shown:?}");
    assert!(shown[1..4].iter().all(|n| n.replaces_id == id), "every step replaces the same pop-up: {shown:?}");
    assert!(shown[0].summary.starts_with("Gelen arama"), "{:?}", shown[0].summary);
    assert!(shown[3].body.contains("Aranan: 0 850 885 00 00"), "{:?}", shown[3].body);
    assert!(shown[3].body.contains("→ Menü 10 → Grup 111 → Dahili 1000"), "{:?}", shown[3].body);

    // Webhook text reaches the notification body escaped, and the webview as text.
    let evil = json!({"event_type":"call_init","uuid":"evil-1","caller":"905324445566","callee":"<b>x</b>&","direction":"IN","timestamp":now_us()}).to_string();
    assert_eq!(post(listen_port, &evil), 200);
    let evil_popup = wait_until("the pop-up of the second call", Duration::from_secs(15), || notifications(&log).into_iter().nth(popups_before_call + 4));
    assert!(evil_popup.body.contains("&lt;b&gt;x&lt;/b&gt;&amp;"), "{:?}", evil_popup.body);

    // Clicking the pop-up (its default action) opens that call in the window.
    desk.gdbus(&[
        "emit", "--session", "-o", "/org/freedesktop/Notifications", "-s", "org.freedesktop.Notifications.ActionInvoked",
        &format!("uint32 {id}"), "'default'",
    ]);
    let detail_css = format!("[data-testid=call-detail][data-uuid='{uuid}']");
    let status = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("{detail_css} [data-testid=detail-status]")))
        .await
        .expect("the clicked call's detail")
        .text()
        .await
        .unwrap();
    // Routed to an extension, not yet answered: still ringing.
    assert_eq!(status.trim(), "Çalıyor", "the clicked call's state");
    let mut types = Vec::new();
    for item in client.find_all(Locator::Css(&format!("{detail_css} [data-testid=timeline-event]"))).await.unwrap() {
        types.push(item.attr("data-type").await.unwrap().unwrap_or_default());
    }
    assert_eq!(types, ["call_init", "call_init_menu", "call_init_group", "call_init_extension"], "the timeline shows every event");
    screenshot(&client, "02-call-detail").await;

    // Search from the window.
    click(&client, "nav-history").await;
    let search = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=search-input]")).await.unwrap();
    search.send_keys("0532 444 55").await.unwrap();
    let rows = wait_until_async(&client, |rows: &[String]| rows == ["evil-1"]).await;
    assert_eq!(rows, ["evil-1"]);
    screenshot(&client, "03-search").await;
    let row_text = client
        .execute("return document.querySelector('[data-testid=call-row]').textContent", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string();
    // No element was created from the webhook's markup.
    let injected = client.execute("return document.querySelectorAll('[data-testid=call-row] b').length", vec![]).await.unwrap();
    assert_eq!(injected, json!(0));
    assert!(row_text.contains("0 532 444 55 66"), "{row_text}");
    assert!(row_text.contains("<b>x</b>&"), "webhook text is shown as text: {row_text}");

    click(&client, "nav-settings").await;
    client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=settings-webhook-url]")).await.unwrap();
    screenshot(&client, "04-settings").await;
    click(&client, "nav-faxes").await;
    client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=view-faxes]")).await.unwrap();
    screenshot(&client, "05-faxes").await;

    // The tray menu over D-Bus (Linux delivers no clicks on the icon itself).
    let tray = Tray::find(&desk);
    tray.click_label("Bildirimleri duraklat");
    // The window shows the pause once the app holds it.
    let paused = "return document.querySelector('[data-testid=sidebar-dnd][aria-pressed=true]') ? true : null";
    wait_for_js(&client, paused).await;
    let before = notifications(&log).len();
    let quiet = json!({"event_type":"call_init","uuid":"quiet-1","caller":"905551112233","callee":"908508850000","direction":"IN","timestamp":now_us()}).to_string();
    assert_eq!(post(listen_port, &quiet), 200);
    // The call still arrives in the window.
    click(&client, "nav-history").await;
    let search = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=search-input]")).await.unwrap();
    search.clear().await.unwrap();
    search.send_keys("555 111 22").await.unwrap();
    let rows = wait_until_async(&client, |rows: &[String]| rows == ["quiet-1"]).await;
    assert!(rows.iter().any(|r| r == "quiet-1"), "{rows:?}");
    // Resumed, the next call pops up; pop-ups are handled in order, so once it is on screen a
    // pop-up for the quiet call would have come before it.
    tray.click_label("Bildirimleri duraklat");
    wait_for_js(&client, "return document.querySelector('[data-testid=sidebar-dnd][aria-pressed=false]') ? true : null").await;
    let loud = json!({"event_type":"call_init","uuid":"loud-1","caller":"905557778899","callee":"908508850000","direction":"IN","timestamp":now_us()}).to_string();
    assert_eq!(post(listen_port, &loud), 200);
    let after = wait_until("the pop-up after resuming", Duration::from_secs(15), || {
        let n = notifications(&log).split_off(before);
        (!n.is_empty()).then_some(n)
    });
    assert_eq!(after.len(), 1, "paused: no pop-up for the call that came in meanwhile: {after:?}");
    assert_eq!(after[0].summary, "Gelen arama: 0 555 777 88 99", "{after:?}");

    // Start at login: the switch in settings creates and removes the autostart entry.
    let autostart_entry = work.tmp.path().join(".config/autostart/Kanca.desktop");
    click(&client, "nav-settings").await;
    // (The settings view re-renders as status arrives: look through the live DOM.)
    wait_for_js(&client, "return document.querySelector('[data-testid=settings-autostart]') ? true : null").await;
    assert!(!autostart_entry.exists(), "start at login is off by default");
    // The settings view re-renders as status arrives: click through the live DOM.
    let toggle = "document.querySelector('[data-testid=settings-autostart]').click(); return 1";
    client.execute(toggle, vec![]).await.unwrap();
    wait_until("the autostart entry", Duration::from_secs(10), || autostart_entry.exists().then_some(()));
    let entry = std::fs::read_to_string(&autostart_entry).unwrap();
    assert!(entry.contains(&format!("Exec={} --hidden", desktop_bin().display())), "starts Kanca in the tray: {entry}");
    client.execute(toggle, vec![]).await.unwrap();
    wait_until("the autostart entry to go", Duration::from_secs(10), || (!autostart_entry.exists()).then_some(()));

    // How Bulutfon reaches Kanca: off at first, so the connection test refuses to prove nothing;
    // then an own URL (here the listener itself; tests/blackbox/tunnel.rs puts nginx in front)
    // goes online and the test event comes back through it.
    let js = |script: &'static str| client.execute(script, vec![]);
    let state_of = |id: &'static str| {
        let client = client.clone();
        async move {
            client
                .execute(&format!("return document.querySelector('[data-testid={id}]')?.dataset.state ?? null"), vec![])
                .await
                .unwrap()
        }
    };
    assert_eq!(state_of("tunnel-status").await, json!("off"));
    js("document.querySelector('[data-testid=tunnel-test]').click(); return 1").await.unwrap();
    let result = wait_for_js(&client, "return document.querySelector('[data-testid=tunnel-test-result]')?.dataset.ok ?? null").await;
    assert_eq!(result, json!("false"), "no public URL: the test says so");
    js("document.querySelector('[data-testid=tunnel-mode-own_url]').click(); return 1").await.unwrap();
    let own = format!("http://127.0.0.1:{listen_port}");
    client
        .execute(
            "const i = document.querySelector('[data-testid=tunnel-own-url]'); i.value = arguments[0]; i.dispatchEvent(new Event('input', { bubbles: true })); return 1",
            vec![json!(own)],
        )
        .await
        .unwrap();
    js("document.querySelector('[data-testid=tunnel-save]').click(); return 1").await.unwrap();
    for _ in 0..100 {
        if state_of("tunnel-status").await == json!("online") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state_of("tunnel-status").await, json!("online"));
    assert_eq!(state_of("sidebar-tunnel").await, json!("online"));
    let saved = std::fs::read_to_string(work.data_dir().join("config.toml")).unwrap();
    assert!(saved.contains("mode = \"own_url\"") && saved.contains(&own), "{saved}");
    js("document.querySelector('[data-testid=tunnel-test]').click(); return 1").await.unwrap();
    let mut ok = json!(null);
    for _ in 0..100 {
        ok = client.execute("return document.querySelector('[data-testid=tunnel-test-result]')?.dataset.ok ?? null", vec![]).await.unwrap();
        if ok == json!("true") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ok, json!("true"), "the test event came back through the own URL");
    screenshot(&client, "06-tunnel").await;

    // Closing the window hides it; the app lives on in the tray.
    let window_visible = || {
        desk.command("xdotool").args(["search", "--onlyvisible", "--name", "^Kanca$"]).output().map(|o| o.status.success()).unwrap_or(false)
    };
    assert!(window_visible(), "the window is on screen");
    // Ask as a window manager would; GTK may drop a request that races its own event
    // handling, so ask again each second until the window is gone (or give up).
    let start = Instant::now();
    let mut asked = Instant::now() - Duration::from_secs(2);
    while window_visible() {
        if start.elapsed() > Duration::from_secs(15) {
            let logs = std::fs::read_dir(work.tmp.path().join(".local/state/kanca/logs"))
                .map(|d| d.filter_map(Result::ok).map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect::<String>())
                .unwrap_or_default();
            panic!("the window did not hide after WM_DELETE_WINDOW; app log:\n{logs}");
        }
        if asked.elapsed() >= Duration::from_secs(1) {
            for window in desk.window_ids("^Kanca$") {
                ask_window_to_close(&desk.display, window);
            }
            asked = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(std::net::TcpStream::connect(("127.0.0.1", listen_port)).is_ok(), "still listening with the window closed");
    // A second launch does not start another app: it brings the running one up and exits.
    let mut second = desk.command(desktop_bin());
    second
        .env("KANCA_DATA_DIR", work.data_dir())
        .env("KANCA_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("HOME", work.tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut second = spawn("second kanca", &mut second);
    let exit = wait_until("the second launch to hand over and exit", Duration::from_secs(20), || second.child.try_wait().ok().flatten());
    assert!(exit.success(), "second launch: {exit:?}");
    wait_until("the window back on screen", Duration::from_secs(10), || window_visible().then_some(()));
    assert!(std::net::TcpStream::connect(("127.0.0.1", listen_port)).is_ok(), "the first app still serves");

    Tray::find(&desk).click_label("Çıkış");
    wait_until("the app to quit", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", listen_port)).is_err().then_some(())
    });
    let _ = client.close().await;
}

/// Ask a window to close the way a window manager's close button does (WM_DELETE_WINDOW);
/// the test's Xvfb has no window manager to do it.
fn ask_window_to_close(display: &str, window: u32) {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt as _, EventMask};
    let (conn, _) = x11rb::connect(Some(display)).expect("connect to the test display");
    let protocols = conn.intern_atom(false, b"WM_PROTOCOLS").unwrap().reply().unwrap().atom;
    let delete = conn.intern_atom(false, b"WM_DELETE_WINDOW").unwrap().reply().unwrap().atom;
    let event = ClientMessageEvent::new(32, window, protocols, [delete, x11rb::CURRENT_TIME, 0, 0, 0]);
    conn.send_event(false, window, EventMask::NO_EVENT, event).unwrap();
    conn.flush().unwrap();
}

/// The app's tray item, found through the mock StatusNotifierWatcher it registered with.
struct Tray<'a> {
    desk: &'a Desktop,
    bus_name: String,
    menu_path: String,
}

impl<'a> Tray<'a> {
    fn find(desk: &'a Desktop) -> Tray<'a> {
        wait_until("the tray to register and export its menu", Duration::from_secs(60), || {
            let calls = desk.gdbus(&["call", "--session", "-d", "org.kde.StatusNotifierWatcher", "-o", "/StatusNotifierWatcher", "-m", "org.freedesktop.DBus.Mock.GetCalls"]);
            let item = calls.split("'RegisterStatusNotifierItem', [<'").nth(1)?.split('\'').next()?.to_string();
            // The registering connection is the app's: find it by its process name.
            let names = desk.gdbus(&["call", "--session", "-d", "org.freedesktop.DBus", "-o", "/org/freedesktop/DBus", "-m", "org.freedesktop.DBus.ListNames"]);
            for name in names.split('\'').filter(|n| n.starts_with(":1.")) {
                // Names come and go (gdbus itself is one): skip those already gone.
                let Ok(out) = desk
                    .command("gdbus")
                    .args(["call", "--session", "-d", "org.freedesktop.DBus", "-o", "/org/freedesktop/DBus", "-m", "org.freedesktop.DBus.GetConnectionUnixProcessID", name])
                    .output()
                else {
                    continue;
                };
                let pid = String::from_utf8_lossy(&out.stdout).to_string();
                // "(uint32 12345,)"
                let pid: String = pid.split_whitespace().nth(1).unwrap_or("").chars().filter(|c| c.is_ascii_digit()).collect();
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                if comm.trim() != "kanca" {
                    continue;
                }
                let path = if item.starts_with('/') { item.clone() } else { "/StatusNotifierItem".to_string() };
                // The app has other connections too (one per open pop-up): only the tray's
                // exports the item.
                let Ok(out) = desk
                    .command("gdbus")
                    .args(["call", "--session", "-d", name, "-o", &path, "-m", "org.freedesktop.DBus.Properties.Get", "org.kde.StatusNotifierItem", "Menu"])
                    .output()
                else {
                    continue;
                };
                let text = String::from_utf8_lossy(&out.stdout).to_string();
                let Some(menu_path) = text.split("objectpath '").nth(1).and_then(|t| t.split('\'').next()) else { continue };
                return Some(Tray { desk, bus_name: name.to_string(), menu_path: menu_path.to_string() });
            }
            None
        })
    }

    /// The id of the enabled menu entry whose label starts with `label`.
    fn item_id(&self, label: &str) -> Option<i32> {
        let layout = self.desk.gdbus(&["call", "--session", "-d", &self.bus_name, "-o", &self.menu_path, "-m", "com.canonical.dbusmenu.GetLayout", "0", "int32 -1", "@as []"]);
        // Entries look like `(12, {'label': <'Çıkış'>, ...}, [])`.
        layout.split('(').find_map(|part| {
            let (id, rest) = part.split_once(", {")?;
            let id: i32 = id.trim().parse().ok()?;
            let l = rest.split("'label': <'").nth(1)?.split('\'').next()?;
            l.starts_with(label).then_some(id)
        })
    }

    /// Clicks the entry whose label starts with `label`. The app rebuilds its menu when what it
    /// shows changes (a call, the tunnel, the minute), which renumbers the entries: look the
    /// entry up again if it moved between the lookup and the click.
    fn click_label(&self, label: &str) {
        for _ in 0..10 {
            let id = self.item_id(label).unwrap_or_else(|| panic!("no tray entry {label:?}"));
            let out = self
                .desk
                .command("gdbus")
                .args(["call", "--session", "-d", &self.bus_name, "-o", &self.menu_path, "-m", "com.canonical.dbusmenu.Event"])
                .args([&id.to_string(), "clicked", "<int32 0>", "0"])
                .output()
                .expect("gdbus");
            if out.status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("could not click the tray entry {label:?}");
    }
}

/// Clicks an element found by its test id in the live DOM, waiting for it to exist. (The
/// sidebar and Settings update in place; the guide and the lists still rebuild parts as data
/// arrives, where a WebDriver element handle could go stale.)
async fn click(client: &fantoccini::Client, testid: &str) {
    let script = "const e = document.querySelector(`[data-testid=${arguments[0]}]`); if (!e) return null; e.click(); return true";
    for _ in 0..100 {
        if client.execute(script, vec![json!(testid)]).await.unwrap() == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no element [data-testid={testid}] to click");
}

/// Polls a script until it returns something other than null.
async fn wait_for_js(client: &fantoccini::Client, script: &str) -> serde_json::Value {
    for _ in 0..200 {
        let v = client.execute(script, vec![]).await.unwrap();
        if !v.is_null() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no answer from {script}");
}

/// Poll the list's rows (their data-uuid) until `ok` accepts them or 10 s pass.
async fn wait_until_async(client: &fantoccini::Client, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
    let start = Instant::now();
    loop {
        let mut uuids = Vec::new();
        if let Ok(rows) = client.find_all(Locator::Css("[data-testid=call-row]")).await {
            for r in rows {
                if let Ok(Some(u)) = r.attr("data-uuid").await {
                    uuids.push(u);
                }
            }
        }
        if ok(&uuids) || start.elapsed() > Duration::from_secs(10) {
            return uuids;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The app under tauri-driver on `desk`, with a WebDriver session on its window.
struct RunningApp {
    client: fantoccini::Client,
    listen_port: u16,
    /// Where the app's browser (a stand-in `xdg-open`) writes each link it is given, one a line.
    opened: PathBuf,
    _driver: Proc,
}

impl RunningApp {
    /// Waits for the app to hand `url` to the browser (the system opener).
    fn wait_for_browser(&self, url: &str) {
        wait_until(&format!("the browser to open {url}"), Duration::from_secs(15), || {
            std::fs::read_to_string(&self.opened).ok().filter(|t| t.lines().any(|l| l == url)).map(|_| ())
        });
    }
}

/// A stand-in for `xdg-open`, first on the app's PATH, that writes the links it is given to a
/// file: a test sees what the app opened in the browser, and never starts a real one.
fn fake_browser(work: &Workdir) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = work.tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = work.tmp.path().join("opened.log");
    let script = bin.join("xdg-open");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >>'{}'\n", log.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    (PathBuf::from(path), log)
}

async fn start_app(desk: &Desktop, work: &Workdir) -> RunningApp {
    start_app_with(desk, work, &[]).await
}

/// [`start_app`] with more environment for the app (it inherits tauri-driver's).
async fn start_app_with(desk: &Desktop, work: &Workdir, env: &[(&str, String)]) -> RunningApp {
    start_app_listening(desk, work, env, true).await
}

/// [`start_app_with`]; `listens`: wait for the app's webhook listener (an office desk has none).
async fn start_app_listening(desk: &Desktop, work: &Workdir, env: &[(&str, String)], listens: bool) -> RunningApp {
    let (path, opened) = fake_browser(work);
    let listen_port = free_port();
    let driver_port = free_port();
    let native_port = free_port();
    let mut driver_cmd = desk.command(tauri_driver());
    driver_cmd
        .args(["--port", &driver_port.to_string(), "--native-port", &native_port.to_string(), "--native-driver", "/usr/bin/WebKitWebDriver"])
        .env("KANCA_DATA_DIR", work.data_dir())
        .env("KANCA_LISTEN", format!("127.0.0.1:{listen_port}"))
        .env("KANCA_WEBHOOK_USER", USER)
        .env("KANCA_WEBHOOK_PASSWORD", PASSWORD)
        .env("LANG", "tr_TR.UTF-8")
        // Start at login writes to $HOME/.config/autostart: a home of the test's own.
        .env("HOME", work.tmp.path())
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut driver = spawn("tauri-driver", &mut driver_cmd);
    wait_until("tauri-driver", Duration::from_secs(20), || std::net::TcpStream::connect(("127.0.0.1", driver_port)).ok());
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert("tauri:options".into(), json!({ "application": desktop_bin() }));
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .unwrap_or_else(|e| {
            let mut err = String::new();
            if let Some(s) = driver.child.stderr.as_mut() {
                let _ = s.read_to_string(&mut err);
            }
            panic!("WebDriver session: {e}\n{}: {err}", driver.name)
        });
    if listens {
        wait_until("the app's listener", Duration::from_secs(30), || std::net::TcpStream::connect(("127.0.0.1", listen_port)).ok());
    }
    // The window re-renders as settings and status arrive: ask the live DOM.
    wait_for_js(&client, "return document.querySelector('[data-testid=nav-history]') ? true : null").await;
    RunningApp { client, listen_port, opened, _driver: driver }
}

/// A recording notification server that offers what desktops offer (actions, markup,
/// persistence), started on `desk`'s bus and logging to `log`.
fn notification_server(desk: &Desktop, log: &Path) -> Proc {
    let p = spawn(
        "notification server",
        desk.command("/usr/bin/python3")
            .args(["-m", "dbusmock", "--template", "notification_daemon", "-p", r#"{"capabilities": "actions body body-markup persistence"}"#, "-l"])
            .arg(log)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    desk.wait_for_name("org.freedesktop.Notifications");
    p
}

/// Method calls to the notification service as dbus-monitor saw them: (sender, member).
fn notification_calls(monitor_log: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(monitor_log).unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("method call") && l.contains("interface=org.freedesktop.Notifications;"))
        .filter_map(|l| {
            let field = |key: &str| l.split(key).nth(1).map(|r| r.split([' ', ';']).next().unwrap_or("").to_string());
            Some((field(" sender=")?, field(" member=")?))
        })
        .collect()
}

fn now_us() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as i64
}

/// A documented payload as if it happened now: Kanca treats a call heard of hours ago as over
/// (its hang-up was lost), and the fixtures are from 2015.
fn fresh(body: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(body).expect("fixture JSON");
    v["timestamp"] = json!(now_us() - 60_000_000);
    v.to_string()
}

fn call_json(uuid: &str, event: &str, caller: &str, ts_s: i64) -> String {
    json!({"event_type": event, "uuid": uuid, "caller": caller, "callee": "908508850000", "direction": "IN", "timestamp": ts_s * 1_000_000}).to_string()
}

/// A busy session against a server that keeps few notices: every pop-up over one connection
/// that stays, a click on the oldest of 50 still opening its call, missed calls folded into
/// one notice that survives a restart of the server, and the missed calls kept in the window.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display stack and tauri-driver: run with --ignored (tests/run.sh does)"]
async fn popups_hold_through_a_busy_session_and_a_server_restart() {
    let work = Workdir::new();
    let desk = Desktop::start();
    let monitor_log = work.tmp.path().join("monitor.log");
    let _monitor = spawn(
        "dbus-monitor",
        desk.command("dbus-monitor")
            .args(["--session", "type='method_call',interface='org.freedesktop.Notifications'"])
            .stdout(std::fs::File::create(&monitor_log).unwrap())
            .stderr(Stdio::null()),
    );
    let log = work.tmp.path().join("notify.log");
    let mut server = notification_server(&desk, &log);
    let app = start_app(&desk, &work).await;
    let client = &app.client;
    let port = app.listen_port;

    // 50 calls ring: 50 pop-ups, each a notice of its own.
    // A few minutes ago: a call that started hours ago with nothing since is over, not ringing.
    let t0 = now_us() / 1_000_000 - 300;
    for i in 0..50 {
        assert_eq!(post(port, &call_json(&format!("busy-{i:02}"), "call_init", &format!("90532444{i:04}"), t0 + i)), 200);
    }
    let shown = wait_until("50 pop-ups", Duration::from_secs(30), || {
        let n = notifications(&log);
        (n.len() >= 50).then_some(n)
    });
    assert!(shown.iter().all(|n| n.replaces_id == 0), "one notice per call: {:?}", &shown[..3]);
    assert!(shown[0].summary.contains("0 532 444 00 00"), "{:?}", shown[0]);

    // Every call came over one connection, and it is still there.
    let calls = wait_until("dbus-monitor's record", Duration::from_secs(10), || {
        let c = notification_calls(&monitor_log);
        (c.iter().filter(|(_, m)| m == "Notify").count() >= 50).then_some(c)
    });
    let senders: std::collections::BTreeSet<&str> = calls.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(senders.len(), 1, "one bus connection for every pop-up: {senders:?}");
    let sender = senders.into_iter().next().unwrap().to_string();
    desk.wait_for_name(&sender);

    // A click on the oldest pop-up (the server's id 1) opens its call.
    desk.gdbus(&["emit", "--session", "-o", "/org/freedesktop/Notifications", "-s", "org.freedesktop.Notifications.ActionInvoked", "uint32 1", "'default'"]);
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid=call-detail][data-uuid='busy-00'] [data-testid=detail-status]"))
        .await
        .expect("the oldest pop-up's call opens");

    // Three calls are missed: one notice, updated in place, latest on top; the ringing
    // pop-ups of those calls are closed.
    let before = notifications(&log).len();
    for i in 0..3 {
        let uuid = format!("missed-{i}");
        let caller = format!("90212555000{i}");
        assert_eq!(post(port, &call_json(&uuid, "call_init", &caller, t0 + 100 + i)), 200);
        // It rings on screen first, so there is a ringing pop-up to close when it is missed.
        let ringing = format!("Gelen arama: 0 212 555 00 0{i}");
        wait_until("the ringing pop-up", Duration::from_secs(15), || notifications(&log)[before..].iter().any(|n| n.summary == ringing).then_some(()));
        assert_eq!(post(port, &call_json(&uuid, "missing_call", &caller, t0 + 110 + i)), 200);
        wait_until("the missed notice to count this call", Duration::from_secs(15), || {
            notifications(&log)[before..].iter().any(|n| n.summary.starts_with(&format!("{} cevapsız", i + 1)) || (i == 0 && n.summary.starts_with("Cevapsız arama"))).then_some(())
        });
    }
    let after: Vec<Notified> = notifications(&log).split_off(before);
    let missed: Vec<&Notified> = after.iter().filter(|n| n.summary.contains("evapsız")).collect();
    assert_eq!(missed.len(), 3, "{after:?}");
    assert_eq!(missed[0].summary, "Cevapsız arama: 0 212 555 00 00");
    assert_eq!(missed[0].replaces_id, 0);
    let missed_id = missed[1].replaces_id;
    assert!(missed_id > 0 && missed[2].replaces_id == missed_id, "updated in place: {missed:?}");
    assert_eq!(missed[2].summary, "3 cevapsız arama");
    let lines: Vec<&str> = missed[2].body.lines().collect();
    assert!(lines[0].contains("0 212 555 00 02") && lines[2].contains("0 212 555 00 00"), "latest on top: {lines:?}");
    let closes = notification_calls(&monitor_log).iter().filter(|(_, m)| m == "CloseNotification").count();
    assert!(closes >= 3, "the missed calls' ringing pop-ups are closed ({closes} closes)");

    // The window keeps the count, whatever the server does with the notice.
    let badge = wait_for_js(client, "return document.querySelector('[data-testid=sidebar-missed]')?.textContent ?? null").await;
    assert_eq!(badge, json!("3 cevapsız arama"));

    // The notification server restarts: the missed notice comes back on the new one, new
    // pop-ups go on, still from the same connection.
    drop(server);
    let log2 = work.tmp.path().join("notify-2.log");
    server = notification_server(&desk, &log2);
    let back = wait_until("the missed notice on the new server", Duration::from_secs(20), || notifications(&log2).into_iter().next());
    assert_eq!(back.summary, "3 cevapsız arama");
    assert_eq!(post(port, &call_json("after-restart", "call_init", "905321112233", t0 + 200)), 200);
    let next = wait_until("a pop-up after the restart", Duration::from_secs(20), || notifications(&log2).into_iter().nth(1));
    assert_eq!(next.summary, "Gelen arama: 0 532 111 22 33");
    let senders: std::collections::BTreeSet<String> = notification_calls(&monitor_log).into_iter().map(|(s, _)| s).collect();
    assert_eq!(senders.len(), 1, "the same connection after the restart: {senders:?}");
    screenshot(client, "07-missed-unseen").await;

    // A click on the missed notice (the new server's id 1) opens the missed calls; seen, the
    // count goes from the window.
    desk.gdbus(&["emit", "--session", "-o", "/org/freedesktop/Notifications", "-s", "org.freedesktop.Notifications.ActionInvoked", "uint32 1", "'default'"]);
    let pressed = wait_for_js(
        client,
        "const b = document.querySelector('[data-testid=filter-missed]'); return b && b.getAttribute('aria-pressed') === 'true' && !document.querySelector('[data-testid=sidebar-missed]') ? true : null",
    )
    .await;
    assert_eq!(pressed, json!(true));
    let rows = wait_until_async(client, |rows: &[String]| rows.len() == 3).await;
    assert_eq!(rows, ["missed-2", "missed-1", "missed-0"], "the list shows the missed calls, newest first");
    let banner = client.execute("return document.querySelector('[data-testid=error-banner]')?.textContent ?? null", vec![]).await.unwrap();
    assert_eq!(banner, json!(null), "no error on the way");
    screenshot(client, "08-missed-list").await;
    drop(server);
    let _ = app.client.clone().close().await;
}

/// A call that arrives the moment the listener answers, while the window and the tray are
/// still being built (a login start, Bulutfon retrying), still pops up: the app holds the
/// engine's changes from before its listener binds.
#[test]
#[ignore = "needs a display stack and python3-dbusmock: run with --ignored (tests/run.sh does)"]
fn a_call_in_the_first_moment_after_start_pops_up() {
    let work = Workdir::new();
    let desk = Desktop::start();
    let log = work.tmp.path().join("notify.log");
    let _server = notification_server(&desk, &log);
    let port = free_port();
    let app_log = work.tmp.path().join("kanca.log");
    let _app = spawn(
        "kanca",
        desk.command(desktop_bin())
            .env("KANCA_DATA_DIR", work.data_dir())
            .env("KANCA_LISTEN", format!("127.0.0.1:{port}"))
            .env("KANCA_WEBHOOK_USER", USER)
            .env("KANCA_WEBHOOK_PASSWORD", PASSWORD)
            .env("LANG", "tr_TR.UTF-8")
            .env("NO_COLOR", "1")
            .env("HOME", work.tmp.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&app_log).unwrap()),
    );
    // Post as soon as a connection is accepted: the listener binds before the window exists.
    wait_until("the app's listener", Duration::from_secs(60), || std::net::TcpStream::connect(("127.0.0.1", port)).ok());
    let first = call_json("first-moment", "call_init", "905550001122", now_us() / 1_000_000);
    assert_eq!(post(port, &first), 200);
    let popup = wait_until("the first call's pop-up", Duration::from_secs(30), || {
        notifications(&log).into_iter().find(|n| n.summary.contains("0 555 000 11 22"))
    });
    assert_eq!(popup.summary, "Gelen arama: 0 555 000 11 22", "{popup:?}\n{}", std::fs::read_to_string(&app_log).unwrap_or_default());
}

/// The phone book end to end: a vCard picked in the Contacts view names the pop-up of a call
/// from one of its numbers (in another spelling) and the history rows; a hostile name stays text
/// in the window and is cut short in the notification; a number added from a call's detail
/// names that call at once.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display stack and tauri-driver: run with --ignored (tests/run.sh does)"]
async fn contacts_name_pop_ups_and_rows_and_hostile_names_stay_text() {
    let work = Workdir::new();
    let desk = Desktop::start();
    let log = work.tmp.path().join("notify.log");
    let _server = notification_server(&desk, &log);
    let app = start_app(&desk, &work).await;
    let client = &app.client;
    let port = app.listen_port;
    let js = |script: &str, args: Vec<serde_json::Value>| {
        let client = client.clone();
        let script = script.to_string();
        async move { client.execute(&script, args).await.unwrap() }
    };

    let hostile = format!("<img src=x onerror=alert(1)><script>alert(2)</script>{}", "Ş".repeat(5_000));
    // What the window shows of it: the markup as text, cut at 120 characters.
    let shown = format!("{}…", hostile.chars().take(119).collect::<String>());
    let vcard = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Mehmet Öztürk\r\nORG:Öztürk Lojistik\r\nTEL;TYPE=CELL:0532 444 55 66\r\nNOTE:sabah 9'dan önce aramayın\r\nEND:VCARD\r\n\
         BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{hostile}\r\nTEL:0212 555 00 00\r\nEND:VCARD\r\n"
    );
    let file = work.tmp.path().join("rehber.vcf");
    std::fs::write(&file, vcard).unwrap();

    // Import through the file picker, as a user would.
    click(client, "nav-contacts").await;
    // The window re-renders once when the settings arrive (the language): an input found just
    // before that is gone. Find it again until the file is handed to the one on screen.
    let mut picked = Err(String::new());
    for _ in 0..10 {
        let input = client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=contacts-import-input]")).await.unwrap();
        picked = input.send_keys(&file.display().to_string()).await.map_err(|e| format!("{e:?}"));
        match &picked {
            Err(e) if e.contains("StaleElementReference") => continue,
            _ => break,
        }
    }
    picked.expect("pick the file");
    let summary = wait_for_js(client, "return document.querySelector('[data-testid=contacts-report-summary]')?.textContent ?? null").await;
    assert_eq!(summary, json!("2 eklendi, 0 güncellendi, 0 değişmedi, 0 atlandı"));
    let names = wait_for_js(client, "const n = [...document.querySelectorAll('[data-testid=contact-name]')].map(e => e.textContent); return n.length === 2 ? n : null").await;
    assert!(names.as_array().unwrap().iter().any(|n| n == &json!(shown)), "the hostile name is shown as text, cut short");
    assert!(names.as_array().unwrap().iter().any(|n| n == &json!("Mehmet Öztürk")), "{names:?}");
    assert_eq!(js("return document.querySelectorAll('#app img, #app script').length", vec![]).await, json!(0), "no element from a name");
    snapshot(client, &desk, "09-contacts").await;

    // A call from that number, spelt as Bulutfon sends it: the pop-up is titled with the name.
    let before = notifications(&log).len();
    assert_eq!(post(port, &call_json("named-1", "call_init", "905324445566", now_us() / 1_000_000 - 60)), 200);
    let named = wait_until("the named pop-up", Duration::from_secs(15), || notifications(&log).into_iter().nth(before));
    assert_eq!(named.summary, "Gelen arama: Mehmet Öztürk · Öztürk Lojistik", "{named:?}");
    assert_eq!(named.body.lines().next(), Some("0 532 444 55 66"), "the number under the name: {named:?}");
    assert!(named.body.contains("Not: sabah 9&#39;dan önce aramayın"), "the contact's note, escaped: {named:?}");

    // The hostile contact: plain text in the title, cut short, never markup in the body.
    assert_eq!(post(port, &call_json("hostile-1", "call_init", "902125550000", now_us() / 1_000_000 - 30)), 200);
    let evil = wait_until("the hostile pop-up", Duration::from_secs(15), || notifications(&log).into_iter().nth(before + 1));
    assert!(evil.summary.starts_with("Gelen arama: <img src=x onerror=alert(1)><script>alert(2)</script>ŞŞŞ"), "{:?}", evil.summary);
    assert!(evil.summary.chars().count() < 200, "cut short: {} characters", evil.summary.chars().count());
    assert!(!evil.body.contains('<'), "{:?}", evil.body);

    // The history rows carry the names, as text.
    click(client, "nav-history").await;
    wait_until_async(client, |rows: &[String]| rows.len() == 2).await;
    let row_names = wait_for_js(client, "const n = [...document.querySelectorAll('[data-testid=row-name]')].map(e => e.textContent); return n.length === 2 ? n : null").await;
    assert_eq!(row_names, json!([shown, "Mehmet Öztürk"]));
    assert_eq!(js("return document.querySelectorAll('#app img, #app script').length", vec![]).await, json!(0));
    snapshot(client, &desk, "10-history-names").await;

    // An unknown caller added from the call's detail: named there at once, and in later pop-ups.
    assert_eq!(post(port, &call_json("unknown-1", "call_init", "905551234567", now_us() / 1_000_000 - 10)), 200);
    wait_until("the unknown caller's pop-up", Duration::from_secs(15), || notifications(&log).into_iter().nth(before + 2));
    click(client, "nav-history").await;
    wait_until_async(client, |rows: &[String]| rows.first().map(String::as_str) == Some("unknown-1")).await;
    js("document.querySelector(`[data-testid=call-row][data-uuid='unknown-1']`).click(); return 1", vec![]).await;
    let opened = wait_for_js(client, "return document.querySelector(`[data-testid=call-detail][data-uuid='unknown-1'] [data-testid=detail-add-contact]`) ? true : null").await;
    assert_eq!(opened, json!(true));
    click(client, "detail-add-contact").await;
    wait_for_js(client, "return document.querySelector('[data-testid=contact-name]') ? true : null").await;
    js(
        "const i = document.querySelector('[data-testid=contact-name]'); i.value = arguments[0]; i.dispatchEvent(new Event('input', {bubbles: true})); return 1",
        vec![json!("Yeni Müşteri")],
    )
    .await;
    click(client, "contact-save").await;
    let detail_name = wait_for_js(client, "return document.querySelector(`[data-testid=call-detail][data-uuid='unknown-1'] [data-testid=detail-name]`)?.textContent ?? null").await;
    assert_eq!(detail_name, json!("Yeni Müşteri"));
    snapshot(client, &desk, "11-detail-named").await;
    assert_eq!(post(port, &call_json("unknown-2", "call_init", "05551234567", now_us() / 1_000_000)), 200);
    let later = wait_until("the next pop-up from that number", Duration::from_secs(15), || notifications(&log).into_iter().nth(before + 3));
    assert_eq!(later.summary, "Gelen arama: Yeni Müşteri");

    // A CRM link saved in Settings puts "CRM'de aç" on a call's detail.
    click(client, "nav-settings").await;
    wait_for_js(client, "return document.querySelector('[data-testid=settings-crm-url]') ? true : null").await;
    js(
        "const i = document.querySelector('[data-testid=settings-crm-url]'); i.scrollIntoView(); i.value = arguments[0]; i.dispatchEvent(new Event('change', {bubbles: true})); return 1",
        vec![json!("https://crm.example.com/ara?tel={e164}&ad={name}")],
    )
    .await;
    let saved = wait_until("the CRM link in config.toml", Duration::from_secs(10), || {
        std::fs::read_to_string(work.data_dir().join("config.toml")).ok().filter(|t| t.contains("crm_url"))
    });
    assert!(saved.contains("crm_url = \"https://crm.example.com/ara?tel={e164}&ad={name}\""), "{saved}");
    snapshot(client, &desk, "12-settings-crm").await;
    click(client, "nav-history").await;
    wait_until_async(client, |rows: &[String]| rows.first().map(String::as_str) == Some("unknown-2")).await;
    js("document.querySelector(`[data-testid=call-row][data-uuid='unknown-2']`).click(); return 1", vec![]).await;
    let crm = wait_for_js(client, "return document.querySelector(`[data-testid=call-detail][data-uuid='unknown-2'] [data-testid=detail-open-crm]`)?.textContent ?? null").await;
    assert_eq!(crm, json!("CRM'de aç"));
    click(client, "detail-open-crm").await;
    app.wait_for_browser("https://crm.example.com/ara?tel=%2B905551234567&ad=Yeni%20M%C3%BC%C5%9Fteri");

    let banner = js("return document.querySelector('[data-testid=error-banner]')?.textContent ?? null", vec![]).await;
    assert_eq!(banner, json!(null), "no error on the way");
    let _ = app.client.clone().close().await;
}

/// Saves the CRM link in Settings, as a user types it, and waits for it in config.toml.
async fn set_crm_link(client: &fantoccini::Client, work: &Workdir, link: &str) {
    click(client, "nav-settings").await;
    wait_for_js(client, "return document.querySelector('[data-testid=settings-crm-url]') ? true : null").await;
    client
        .execute(
            "const i = document.querySelector('[data-testid=settings-crm-url]'); i.scrollIntoView(); i.value = arguments[0]; i.dispatchEvent(new Event('change', {bubbles: true})); return 1",
            vec![json!(link)],
        )
        .await
        .unwrap();
    wait_until("the CRM link in config.toml", Duration::from_secs(10), || {
        std::fs::read_to_string(work.data_dir().join("config.toml")).ok().filter(|t| t.contains(link)).map(|_| ())
    });
}

/// Tag colours and the list's context menu in the real window: a colour picked in a call's
/// detail recolours the chip of every row carrying the tag (and is kept: the window reloaded
/// shows it), and the row's menu opens by a right click or Shift+F10 and sends the call to
/// the CRM in the browser.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display stack and tauri-driver: run with --ignored (tests/run.sh does)"]
async fn tag_colours_show_on_every_row_and_the_row_menu_opens_the_crm() {
    let work = Workdir::new();
    let desk = Desktop::start();
    let log = work.tmp.path().join("notify.log");
    let _server = notification_server(&desk, &log);
    let app = start_app(&desk, &work).await;
    let client = &app.client;
    let js = |script: &str, args: Vec<serde_json::Value>| {
        let client = client.clone();
        let script = script.to_string();
        async move { client.execute(&script, args).await.unwrap() }
    };
    let t0 = now_us() / 1_000_000 - 120;
    for (i, uuid) in ["tag-1", "tag-2", "tag-3"].iter().enumerate() {
        assert_eq!(post(app.listen_port, &call_json(uuid, "call_init", &format!("90532111220{i}"), t0 + i as i64)), 200);
    }
    click(client, "nav-history").await;
    let rows = wait_until_async(client, |rows: &[String]| rows.len() == 3).await;
    assert_eq!(rows, ["tag-3", "tag-2", "tag-1"]);

    // Tags typed in two calls' details and saved.
    for (uuid, tags) in [("tag-1", "acil, fatura"), ("tag-2", "acil")] {
        click(client, "nav-history").await;
        wait_until_async(client, |rows: &[String]| rows.len() == 3).await;
        js("document.querySelector(`[data-testid=call-row][data-uuid='${arguments[0]}']`).click(); return 1", vec![json!(uuid)]).await;
        wait_for_js(client, &format!("return document.querySelector(`[data-testid=call-detail][data-uuid='{uuid}'] [data-testid=detail-tags]`) ? true : null")).await;
        js(
            "const i = document.querySelector('[data-testid=detail-tags]'); i.value = arguments[0]; i.dispatchEvent(new Event('input', {bubbles: true})); return 1",
            vec![json!(tags)],
        )
        .await;
        click(client, "detail-note-save").await;
        let chips = wait_for_js(client, "const c = [...document.querySelectorAll('[data-testid=detail-tag]')].map(b => b.textContent); return c.length ? c : null").await;
        assert_eq!(chips, json!(tags.split(", ").collect::<Vec<_>>()));
    }

    // The rows show the tags as chips in the colours the engine gave them.
    let row_chips = "return [...document.querySelectorAll('[data-testid=row-tag]')].map(c => [c.closest('[data-uuid]').dataset.uuid, c.textContent, c.dataset.colour, getComputedStyle(c).backgroundColor]).sort()";
    click(client, "nav-history").await;
    let before = wait_for_js(client, &format!("const c = (() => {{ {row_chips} }})(); return c.length === 3 && c.every(x => x[2] !== 'none') ? c : null")).await;
    let before: Vec<(String, String, String, String)> = serde_json::from_value(before).unwrap();
    let acil = before.iter().find(|c| c.1 == "acil").unwrap().2.clone();
    let fatura = before.iter().find(|c| c.1 == "fatura").unwrap();
    // A colour other than acil's now (and other than fatura's, to tell the two apart).
    let pick = ["purple", "teal", "orange"].into_iter().find(|c| *c != acil && *c != fatura.2).unwrap();
    snapshot(client, &desk, "13-tag-chips").await;

    // The palette on the detail of tag-1: the colour picked there shows on the chip.
    js("document.querySelector(`[data-testid=call-row][data-uuid='tag-1']`).click(); return 1", vec![]).await;
    wait_for_js(client, "return document.querySelector(`[data-testid=call-detail][data-uuid='tag-1'] [data-testid=detail-tag]`) ? true : null").await;
    assert_eq!(js("return document.querySelector('[data-testid=detail-tag]').textContent", vec![]).await, json!("acil"));
    client.find(Locator::Css("[data-testid=detail-tag]")).await.unwrap().click().await.unwrap();
    let labels = wait_for_js(client, "const p = document.querySelector('[data-testid=tag-palette]'); return p ? [p.getAttribute('aria-label'), ...[...p.querySelectorAll('[role=menuitemradio]')].map(i => i.textContent)] : null").await;
    assert_eq!(labels, json!(["“acil” etiketinin rengi", "Kırmızı", "Turuncu", "Sarı", "Yeşil", "Turkuaz", "Mavi", "Mor", "Gri"]));
    snapshot(client, &desk, "14-tag-palette").await;
    client.find(Locator::Css(&format!("[data-testid=tag-colour-{pick}]"))).await.unwrap().click().await.unwrap();
    let detail_colour = wait_for_js(client, &format!("const c = document.querySelector('[data-testid=detail-tag] .tag-chip'); return c && c.dataset.colour === '{pick}' && !document.querySelector('[data-testid=tag-palette]') ? c.dataset.colour : null")).await;
    assert_eq!(detail_colour, json!(pick));

    // Both rows carrying acil show the new colour, painted differently; fatura keeps its own.
    click(client, "nav-history").await;
    let after = wait_for_js(client, &format!("const c = (() => {{ {row_chips} }})(); return c.length === 3 && c.filter(x => x[1] === 'acil').every(x => x[2] === '{pick}') ? c : null")).await;
    let after: Vec<(String, String, String, String)> = serde_json::from_value(after).unwrap();
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((&a.0, &a.1), (&b.0, &b.1));
        if a.1 == "acil" {
            assert_ne!(a.3, b.3, "the chip is painted in the new colour: {b:?} → {a:?}");
        } else {
            assert_eq!(a, b, "another tag keeps its colour");
        }
    }
    // Kept by the engine: the window read afresh shows it.
    js("window.oldPage = true; setTimeout(() => location.reload(), 0); return 1", vec![]).await;
    // While the page loads a script may fail: ask again until the new page answers.
    let fresh = format!("if (window.oldPage) return null; document.querySelector('[data-testid=nav-history]')?.click(); const c = (() => {{ {row_chips} }})(); return c.length === 3 && c.every(x => x[2] !== 'none') ? c : null");
    let mut reloaded = serde_json::Value::Null;
    for _ in 0..200 {
        reloaded = client.execute(&fresh, vec![]).await.unwrap_or_default();
        if !reloaded.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(serde_json::from_value::<Vec<(String, String, String, String)>>(reloaded).unwrap(), after);

    // The row's context menu: a right click on tag-2, "CRM'de aç" only once a CRM link is set.
    // A real right click through the X server (WebKitWebDriver's pointer actions release the
    // right button as the left one, which clicks the row). No window manager: the window is at
    // the screen's origin.
    let right_click = |uuid: &'static str| {
        let desk = &desk;
        async move {
            let at = wait_for_js(client, &format!("const r = document.querySelector(`[data-testid=call-row][data-uuid='{uuid}'] .row-caller`)?.getBoundingClientRect(); return r ? [Math.round(window.screenX + r.x + r.width / 2), Math.round(window.screenY + r.y + r.height / 2)] : null")).await;
            let (x, y) = (at[0].to_string(), at[1].to_string());
            let status = desk.command("xdotool").args(["mousemove", &x, &y, "click", "3"]).status().expect("xdotool");
            assert!(status.success());
            wait_for_js(client, "const m = document.querySelector('[data-testid=row-menu]'); return m ? [...m.querySelectorAll('[role=menuitem]')].map(i => i.textContent) : null").await
        }
    };
    let press = |keys: &'static [Key]| async move {
        let mut seq = KeyActions::new("keys".into());
        for k in keys {
            seq = seq.then(KeyAction::Down { value: (*k).into() });
        }
        for k in keys.iter().rev() {
            seq = seq.then(KeyAction::Up { value: (*k).into() });
        }
        client.perform_actions(seq).await.unwrap();
    };
    wait_until_async(client, |rows: &[String]| rows.len() == 3).await;
    assert_eq!(right_click("tag-2").await, json!(["Aç", "Numarayı kopyala", "Kişilere ekle"]));
    press(&[Key::Escape]).await;
    wait_for_js(client, "return document.querySelector('[data-testid=row-menu]') ? null : 'Escape closed the menu'").await;
    set_crm_link(client, &work, "https://crm.example.com/ara?tel={e164}&arama={uuid}").await;
    click(client, "nav-history").await;
    wait_until_async(client, |rows: &[String]| rows.len() == 3).await;
    assert_eq!(right_click("tag-2").await, json!(["Aç", "Numarayı kopyala", "CRM'de aç", "Kişilere ekle"]));
    snapshot(client, &desk, "15-row-menu").await;
    client.find(Locator::Css("[data-testid=row-menu-crm]")).await.unwrap().click().await.unwrap();
    app.wait_for_browser("https://crm.example.com/ara?tel=%2B905321112201&arama=tag-2");
    wait_for_js(client, "return document.querySelector('[data-testid=row-menu]') ? null : 'the choice closed the menu'").await;

    // From the keyboard: Shift+F10 on the selected row (tag-2, from the right click) opens its
    // menu with the focus on "Aç"; ↓ ↓ Enter is "CRM'de aç" again; Escape goes back to the list.
    let menu_focus = "const m = document.querySelector('[data-testid=row-menu]'); return m && m.contains(document.activeElement) ? document.activeElement.textContent : null";
    press(&[Key::Shift, Key::F10]).await;
    assert_eq!(wait_for_js(client, menu_focus).await, json!("Aç"));
    press(&[Key::Down]).await;
    press(&[Key::Down]).await;
    assert_eq!(wait_for_js(client, menu_focus).await, json!("CRM'de aç"));
    press(&[Key::Enter]).await;
    wait_until("the second CRM link", Duration::from_secs(15), || {
        std::fs::read_to_string(&app.opened).ok().filter(|t| t.lines().filter(|l| *l == "https://crm.example.com/ara?tel=%2B905321112201&arama=tag-2").count() == 2)
    });
    press(&[Key::Shift, Key::F10]).await;
    assert_eq!(wait_for_js(client, menu_focus).await, json!("Aç"));
    press(&[Key::Escape]).await;
    let back = wait_for_js(client, "return !document.querySelector('[data-testid=row-menu]') && document.activeElement?.dataset.testid === 'call-list' ? true : null").await;
    assert_eq!(back, json!(true));

    let banner = js("return document.querySelector('[data-testid=error-banner]')?.textContent ?? null", vec![]).await;
    assert_eq!(banner, json!(null), "no error on the way");
    let _ = app.client.clone().close().await;
}
