//! The installed package: the .deb that `packaging/build.sh` makes is installed with apt, the
//! installed `kanca serve` stores a webhook, the desktop entry and icons are what a menu needs,
//! the installed app starts under its own Xvfb and D-Bus session, and removing the package leaves
//! none of its files behind.
//!
//! Installing a package changes the machine, so this test is ignored unless asked for (`--ignored`),
//! with KANCA_PACKAGE_DEB naming the .deb (tests/run.sh builds one and does both). It needs root,
//! or sudo.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kanca_tests::{basic_auth, free_port, wait_until, workspace_root, Workdir, PASSWORD, USER};
use serde_json::Value;

const PACKAGE: &str = "kanca";
/// The CLI and receiver: a build without the desktop libraries, so a query starts fast.
const BIN: &str = "/usr/bin/kanca";
/// The desktop app, which `kanca` with no subcommand hands over to.
const APP: &str = "/usr/bin/kanca-desktop";
const START_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
#[ignore = "installs a package (root or sudo): run with --ignored and KANCA_PACKAGE_DEB=path/to.deb (tests/run.sh does)"]
fn deb_installs_serves_starts_and_removes_cleanly() {
    let deb = std::env::var_os("KANCA_PACKAGE_DEB").expect("KANCA_PACKAGE_DEB=/path/to/kanca.deb names the package to test");
    // Relative to the workspace (cargo runs tests in tests/); apt takes a file only by a path
    // with a slash in it.
    let deb = std::fs::canonicalize(workspace_root().join(&deb))
        .unwrap_or_else(|e| panic!("KANCA_PACKAGE_DEB={deb:?}: {e}"));

    // What apt reads: the name users remove it by and the libraries the app loads.
    assert_eq!(deb_field(&deb, "Package"), PACKAGE);
    let depends = deb_field(&deb, "Depends");
    for lib in [
        "libwebkit2gtk-4.1-0",
        "libgtk-3-0",
        "libayatana-appindicator3-1",
    ] {
        assert!(
            depends.split(',').any(|d| d.trim().starts_with(lib)),
            "Depends lacks {lib}: {depends}"
        );
    }

    if installed() {
        // Left behind by an interrupted run; apt would not reinstall the same version.
        apt(&["remove", "-y", PACKAGE]);
    }
    let package = Installed::install(&deb);
    let work = Workdir::new();

    for bin in [BIN, APP] {
        assert!(
            package.files.iter().any(|f| f == Path::new(bin)),
            "{bin} is not in the package: {:?}",
            package.files
        );
        assert!(
            Path::new(bin).metadata().is_ok_and(|m| m.mode() & 0o111 != 0),
            "{bin} is not an executable file"
        );
    }
    // The CLI loads none of the desktop libraries; the app does.
    let libraries = |bin: &str| {
        let out = Command::new("ldd").arg(bin).output().expect("run ldd");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let cli_libs = libraries(BIN);
    assert!(
        cli_libs.contains("libc.so") && !cli_libs.contains("libwebkit2gtk") && !cli_libs.contains("libgtk-3"),
        "{BIN} links:\n{cli_libs}"
    );
    assert!(libraries(APP).contains("libwebkit2gtk"), "{APP} is not the desktop app");

    serve_stores_a_webhook(&work);
    desktop_entry_and_icons_are_valid(&package);
    app_starts_under_xvfb(&work);

    package.remove();
}

/// The installed `kanca serve` acknowledges a webhook, and the installed `kanca history` lists it.
fn serve_stores_a_webhook(work: &Workdir) {
    let port = free_port();
    let log = work.tmp.path().join("serve.log");
    let mut serve = Proc::spawn(
        "kanca serve",
        kanca_command(Command::new(BIN).arg("serve"), work, port),
        &log,
    );
    wait_for_health(port, &mut serve);

    let body = r#"{"event_type":"call_init","uuid":"pkg-1","caller":"905324445566","callee":"908508850000","direction":"IN","timestamp":1700000000000000}"#;
    let (status, answer) = post_webhook(port, body);
    assert_eq!(
        status,
        200,
        "POST /webhook answered {status}: {answer}; log:\n{}",
        serve.log()
    );

    let out = Command::new(BIN)
        .args(["history", "--json"])
        .env("KANCA_DATA_DIR", work.data_dir())
        .output()
        .expect("run kanca history");
    assert!(
        out.status.success(),
        "kanca history --json: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("history line is not JSON ({e}): {l:?}"))
        })
        .collect();
    assert!(
        calls
            .iter()
            .any(|c| c["uuid"] == "pkg-1" && c["caller"] == "0 532 444 55 66"),
        "the posted call is not in kanca history: {calls:?}"
    );
}

/// A menu shows Kanca with its name, its comment in Turkish and English and its icon at every
/// size, and starts the installed binary.
fn desktop_entry_and_icons_are_valid(package: &Installed) {
    let entries: Vec<&PathBuf> = package
        .files
        .iter()
        .filter(|f| {
            f.starts_with("/usr/share/applications")
                && f.extension().is_some_and(|e| e == "desktop")
        })
        .collect();
    assert_eq!(entries.len(), 1, "one desktop entry: {entries:?}");
    let entry = entries[0];
    let out = Command::new("desktop-file-validate")
        .arg(entry)
        .output()
        .expect("run desktop-file-validate");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !report.contains("error") && !report.contains("warning"),
        "desktop-file-validate {}:\n{report}",
        entry.display()
    );

    let text = std::fs::read_to_string(entry).unwrap();
    let key = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {k} in {text}"))
    };
    assert_eq!(key("Name"), "Kanca");
    assert!(
        !key("Comment").is_empty() && !key("Comment[tr]").is_empty(),
        "{text}"
    );
    let exec = key("Exec").split_whitespace().next().unwrap();
    assert!(
        exec == APP || Path::new("/usr/bin").join(exec) == Path::new(APP),
        "Exec={exec} does not start {APP}"
    );

    assert_eq!(key("StartupWMClass"), "kanca", "the window's class (GTK's program name)");

    let icon = key("Icon");
    for size in [16, 24, 32, 48, 64, 128, 256, 512] {
        let path = PathBuf::from(format!(
            "/usr/share/icons/hicolor/{size}x{size}/apps/{icon}.png"
        ));
        assert_eq!(png_size(&path), (size, size), "{}", path.display());
    }
}

/// The installed app, started as `kanca` with no subcommand (which hands over to the app),
/// brings up its listener and its window, whose class matches the desktop entry.
fn app_starts_under_xvfb(work: &Workdir) {
    let desk = Desktop::start();
    let port = free_port();
    let home = work.tmp.path();
    let mut cmd = desk.command(BIN);
    // Its own config, cache and data directories: nothing of the machine's user is read or left.
    cmd.env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("share"));
    let mut app = Proc::spawn(
        "the installed app",
        kanca_command(&mut cmd, work, port),
        &home.join("app.log"),
    );
    wait_for_health(port, &mut app);
    let window = wait_until("a visible window named Kanca", START_TIMEOUT, || {
        desk.visible_window("^Kanca$")
    });

    // Docks and task switchers match the window to the desktop entry's StartupWMClass=kanca.
    let out = desk
        .command("xprop")
        .args(["-id", &window, "WM_CLASS"])
        .output()
        .expect("run xprop");
    let class = String::from_utf8_lossy(&out.stdout);
    assert!(
        class.contains("\"kanca\""),
        "WM_CLASS of the window: {class}"
    );
}

/// The installed package, removed when dropped if the test did not get to remove it.
struct Installed {
    files: Vec<PathBuf>,
    directories: Vec<PathBuf>,
    removed: bool,
}

impl Installed {
    fn install(deb: &Path) -> Installed {
        // Recommends (a notification daemon) left out: the machine's D-Bus set-up stays as the
        // other tests expect it.
        apt(&[
            "install",
            "-y",
            "--no-install-recommends",
            deb.to_str().expect("UTF-8 path"),
        ]);
        assert!(
            installed(),
            "{PACKAGE} is not installed after apt-get install"
        );
        let out = Command::new("dpkg")
            .args(["-L", PACKAGE])
            .output()
            .expect("run dpkg -L");
        assert!(
            out.status.success(),
            "dpkg -L {PACKAGE}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (directories, files) = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(PathBuf::from)
            .filter(|p| p != Path::new("/."))
            .partition(|p| p.is_dir());
        Installed {
            files,
            directories,
            removed: false,
        }
    }

    fn remove(mut self) {
        self.removed = true;
        apt(&["remove", "-y", PACKAGE]);
        assert!(
            !installed(),
            "{PACKAGE} is still installed after apt-get remove"
        );
        let left: Vec<_> = self
            .files
            .iter()
            .filter(|f| f.symlink_metadata().is_ok())
            .collect();
        assert!(left.is_empty(), "files left after apt-get remove: {left:?}");
        // A directory may stay only for another package or for files that are not ours.
        let left: Vec<_> = self
            .directories
            .iter()
            .filter(|d| {
                d.read_dir().is_ok_and(|mut e| e.next().is_none()) && !owned_by_a_package(d)
            })
            .collect();
        assert!(
            left.is_empty(),
            "empty directories left after apt-get remove: {left:?}"
        );
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        if !self.removed {
            let _ = apt_command(&["remove", "-y", PACKAGE]).output();
        }
    }
}

fn deb_field(deb: &Path, field: &str) -> String {
    let out = Command::new("dpkg-deb")
        .arg("--field")
        .arg(deb)
        .arg(field)
        .output()
        .expect("run dpkg-deb");
    assert!(
        out.status.success(),
        "dpkg-deb --field {}: {}",
        deb.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn installed() -> bool {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", PACKAGE])
        .output()
        .expect("run dpkg-query");
    String::from_utf8_lossy(&out.stdout) == "installed"
}

fn owned_by_a_package(path: &Path) -> bool {
    Command::new("dpkg-query")
        .arg("-S")
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn apt(args: &[&str]) {
    let out = apt_command(args).output().expect("run apt-get");
    assert!(
        out.status.success(),
        "apt-get {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// apt-get as root (through sudo when the test is not root), waiting for another apt to finish.
fn apt_command(args: &[&str]) -> Command {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let mut cmd = if root {
        Command::new("env")
    } else {
        Command::new("sudo")
    };
    if !root {
        cmd.arg("env");
    }
    cmd.args([
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "-o",
        "DPkg::Lock::Timeout=300",
    ])
    .args(args);
    cmd
}

/// The width and height of a PNG, from its IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(
        bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR",
        "{} is not a PNG",
        path.display()
    );
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Environment of an installed `kanca` under test: its own data directory, port and credentials,
/// and none of the KANCA_* variables this test was started with.
fn kanca_command<'a>(cmd: &'a mut Command, work: &Workdir, port: u16) -> &'a mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KANCA_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("KANCA_DATA_DIR", work.data_dir())
        .env("KANCA_LISTEN", format!("127.0.0.1:{port}"))
        .env("KANCA_WEBHOOK_USER", USER)
        .env("KANCA_WEBHOOK_PASSWORD", PASSWORD)
}


fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn post_webhook(port: u16, body: &str) -> (u16, String) {
    let resp = agent()
        .post(format!("http://127.0.0.1:{port}/webhook"))
        .header("Content-Type", "application/json")
        .header("Authorization", basic_auth(USER, PASSWORD))
        .send(body.as_bytes())
        .unwrap_or_else(|e| panic!("POST /webhook: {e}"));
    let status = resp.status().as_u16();
    (
        status,
        resp.into_body().read_to_string().unwrap_or_default(),
    )
}

/// Waits until GET /health answers `{"status":"ok"}`; fails at once if the process exits.
fn wait_for_health(port: u16, proc: &mut Proc) {
    let agent = agent();
    let url = format!("http://127.0.0.1:{port}/health");
    let start = Instant::now();
    loop {
        if let Some(status) = proc.child.try_wait().unwrap() {
            panic!(
                "{} exited ({status}) before its listener answered; log:\n{}",
                proc.name,
                proc.log()
            );
        }
        if let Ok(resp) = agent.get(&url).call() {
            let body = resp.into_body().read_to_string().unwrap_or_default();
            assert!(body.contains("\"ok\""), "GET /health answered {body:?}");
            return;
        }
        assert!(
            start.elapsed() < START_TIMEOUT,
            "{} did not answer /health in {START_TIMEOUT:?}; log:\n{}",
            proc.name,
            proc.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}


/// A child process with its output in a log file, killed when dropped.
struct Proc {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command, log: &Path) -> Proc {
        let out = File::create(log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Proc {
            child,
            name,
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A display and a session bus of the test's own (there is no desktop on a CI machine).
struct Desktop {
    display: String,
    bus: String,
    _xvfb: Proc,
    _bus_daemon: BusDaemon,
    _logs: tempfile::TempDir,
}

/// The forked `dbus-daemon --session`, stopped when dropped.
struct BusDaemon(u32);

impl Drop for BusDaemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

impl Desktop {
    fn start() -> Desktop {
        let logs = tempfile::tempdir().unwrap();
        // Display numbers apart from the desktop test's (100..500), in case both run at once.
        let n = 500 + std::process::id() % 400;
        let display = format!(":{n}");
        let xvfb = Proc::spawn(
            "Xvfb",
            Command::new("Xvfb").args([
                display.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ]),
            &logs.path().join("xvfb.log"),
        );
        wait_until("Xvfb", Duration::from_secs(10), || {
            Path::new(&format!("/tmp/.X11-unix/X{n}"))
                .exists()
                .then_some(())
        });
        let out: Output = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .output()
            .expect("run dbus-daemon");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines();
        let bus = lines.next().expect("bus address").trim().to_string();
        let pid = lines
            .next()
            .expect("bus pid")
            .trim()
            .parse()
            .expect("bus pid is a number");
        Desktop {
            display,
            bus,
            _xvfb: xvfb,
            _bus_daemon: BusDaemon(pid),
            _logs: logs,
        }
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("NO_AT_BRIDGE", "1");
        cmd
    }

    /// The X id of a visible window whose title matches `name` (a regex), if there is one.
    fn visible_window(&self, name: &str) -> Option<String> {
        let out = self
            .command("xdotool")
            .args(["search", "--onlyvisible", "--name", name])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .map(|l| l.trim().to_string())
    }
}
