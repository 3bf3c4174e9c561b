//! A throw-away PostgreSQL server for tests: `initdb` into a temporary directory, started with
//! `pg_ctl` on a Unix socket in that directory (no TCP port to collide on), stopped and removed
//! when dropped. Debian's `postgresql` package provides the programs (`tests/run.sh` installs
//! it). PostgreSQL refuses to run as root, so as root (CI) the server runs as the `postgres`
//! user the package creates.
//!
//! Shared by the black-box tests (`kanca_tests::pg`) and the engine's own tests
//! (`src-tauri/core/tests/pg.rs` includes this file), so it uses only std and tempfile.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running PostgreSQL server for one test.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    run_as: Option<&'static str>,
}

/// The newest PostgreSQL server installed (`/usr/lib/postgresql/VERSION/bin`).
fn server_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("no PostgreSQL server under /usr/lib/postgresql: install Debian's postgresql and postgresql-contrib (tests/run.sh does)")
    })
}

fn is_root() -> bool {
    // `id -u` rather than libc, to keep this file std-only.
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

impl PgServer {
    /// Create and start a server; panics with the reason when it cannot.
    pub fn start() -> PgServer {
        let bin = server_bin();
        let dir = tempfile::Builder::new().prefix("kanca-pg-").tempdir().expect("a temporary directory");
        let run_as = is_root().then_some("postgres");
        if let Some(user) = run_as {
            let status = Command::new("chown").arg(user).arg(dir.path()).status().expect("chown");
            assert!(status.success(), "chown {user} {}", dir.path().display());
        }
        let server = PgServer { dir, bin, run_as };
        let data = server.data_dir();
        let socket = server.socket_dir().to_owned();
        // No fsync: a test's database dies with the test.
        server.run("initdb", &["-D", path(&data), "-U", "kanca", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"]);
        let options = format!("-k {} -c listen_addresses='' -c fsync=off -c max_connections=200", socket.display());
        server.run("pg_ctl", &["-D", path(&data), "-l", path(&server.dir.path().join("server.log")), "-o", &options, "-w", "-t", "60", "start"]);
        server
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Run one of the server's programs (as `postgres` when this is root); panics on failure.
    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        }
    }

    /// The connection string of the server's `postgres` database.
    pub fn url(&self) -> String {
        format!("host={} user=kanca dbname=postgres", self.socket_dir().display())
    }

    /// The server's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self.command("pg_ctl").args(["-D", path(&data), "-m", "immediate", "-w", "stop"]).output();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}
