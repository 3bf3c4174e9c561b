//! Two `kanca serve --database` receivers on one PostgreSQL database behave as one receiver:
//! the same delivery reaching both at once is stored once, a receiver killed in a burst loses
//! nothing it acknowledged while the other goes on, and `kanca history` / `kanca show` read the
//! shared history. Needs Debian's postgresql (tests/run.sh installs it), hence ignored in a
//! plain `cargo test`; not in the Wine run (the server listens on a Unix socket).

use kanca_tests::pg::PgServer;
use kanca_tests::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

const TOTAL: usize = 300;
const THREADS: usize = 8;
const KILL_AFTER: usize = 120;

fn receiver(work: &Workdir, url: &str) -> Server {
    Server::start_with_args(&work.data_dir(), Creds::Env, &["--database", url])
}

#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn two_receivers_share_one_history_and_survive_a_kill() {
    let pg = PgServer::start();
    let url = pg.url();
    let (work_a, work_b) = (Workdir::new(), Workdir::new());
    let mut a = receiver(&work_a, &url);
    let b = receiver(&work_b, &url);
    let t0 = 1_700_000_000_000_000u64;

    // The same delivery through both at the same moment, ten times: one "stored" each time.
    for round in 0..10u64 {
        let body = event_json("call_init", &format!("both-{round}"), 905324445566, 908508850000, "IN", t0 + round).to_string();
        let (ra, rb) = std::thread::scope(|s| {
            let ha = s.spawn(|| a.post_json(&body));
            let hb = s.spawn(|| b.post_json(&body));
            (ha.join().unwrap(), hb.join().unwrap())
        });
        let mut words = [ra.expect_accepted(), rb.expect_accepted()];
        words.sort();
        assert_eq!(words, ["duplicate".to_string(), "stored".to_string()], "round {round}");
    }

    // A burst spread over both, as a round-robin proxy would; receiver A is killed part way.
    // A delivery A did not acknowledge is retried on B, as a proxy fails over.
    let next = AtomicUsize::new(0);
    let acked_count = AtomicUsize::new(0);
    let killed = AtomicBool::new(false);
    let acked: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= TOTAL {
                    break;
                }
                let uuid = format!("burst-{i:04}");
                for (n, kind) in ["call_init", "missing_call"].into_iter().enumerate() {
                    let body = event_json(kind, &uuid, 905324445566, 908508850000, "IN", t0 + 1_000_000 + i as u64 * 1000 + n as u64).to_string();
                    let via_a = i % 2 == 0 && !killed.load(Ordering::SeqCst);
                    let first = if via_a { a.try_post("application/json", &body, Some((USER, PASSWORD))) } else { b.try_post("application/json", &body, Some((USER, PASSWORD))) };
                    let reply = match first {
                        Ok(r) if (200..300).contains(&r.status) => r,
                        other => {
                            assert!(via_a && killed.load(Ordering::SeqCst), "{uuid} {kind} failed on a live receiver: {other:?}");
                            let r = b.post_json(&body);
                            r.expect_accepted();
                            r
                        }
                    };
                    assert_eq!(reply.status, 200, "{uuid} {kind}: {}", reply.body);
                    *acked.lock().unwrap().entry(uuid.clone()).or_default() += 1;
                    if acked_count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                        killed.store(true, Ordering::SeqCst);
                        a.signal("KILL");
                    }
                }
            });
        }
    });
    assert!(killed.load(Ordering::SeqCst), "the burst ended before the kill");
    a.kill();
    let acked = acked.into_inner().unwrap();
    assert_eq!(acked.len(), TOTAL);
    assert!(acked.values().all(|n| *n == 2), "every event was acknowledged by one receiver or the other");

    // Every acknowledged event is in its call, read through either data directory.
    let all = history(&work_a.data_dir(), &["--database", &url, "--limit", "100000"]);
    let calls: HashMap<&str, &serde_json::Value> = all.iter().map(|c| (c["uuid"].as_str().unwrap(), c)).collect();
    assert_eq!(calls.len(), TOTAL + 10, "calls in the shared history");
    for uuid in acked.keys() {
        let call = calls.get(uuid.as_str()).unwrap_or_else(|| panic!("{uuid} acknowledged but not in the history"));
        assert_eq!(call["event_count"], 2, "{uuid}: {call}");
        assert_eq!(call["missed"], true, "{uuid}: {call}");
    }
    let shown = kanca_ok(&work_b.data_dir(), &["show", "burst-0007", "--json", "--database", &url]);
    let shown: serde_json::Value = serde_json::from_str(shown.trim()).unwrap();
    assert_eq!(shown["events"].as_array().map(Vec::len), Some(2), "{shown}");
    // The number search of the SQLite history works the same way here.
    let by_number = history(&work_b.data_dir(), &["--database", &url, "--limit", "100000", "0532 444 55 66"]);
    assert_eq!(by_number.len(), TOTAL + 10);
    drop(b);
    drop(pg);
}

/// KANCA_DATABASE_URL reaches the commands that read the history, and the ones that keep their
/// data in SQLite only refuse to run rather than quietly use the wrong database.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn the_environment_names_the_database() {
    let pg = PgServer::start();
    let url = pg.url();
    let work = Workdir::new();
    let env = [("KANCA_DATABASE_URL", url.as_str())];
    let server = Server::start_with_env(&work.data_dir(), Creds::Env, &[], &env);
    server.post_json(&event_json("call_init", "env-1", 905324445566, 908508850000, "IN", 1_700_000_000_000_000).to_string()).expect_accepted();
    let out = kanca_env(&work.data_dir(), &["history", "--json"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("env-1"));
    // Not in the data directory's SQLite file: there is none.
    assert!(!work.data_dir().join("kanca.db").exists(), "kanca serve --database wrote a SQLite history too");
    let refused = kanca_env(&work.data_dir(), &["contacts", "list"], &env);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("KANCA_DATABASE_URL"), "{}", String::from_utf8_lossy(&refused.stderr));
    // A wrong database is a clear error, with no password in it.
    let bad = kanca(&work.data_dir(), &["history", "--database", "postgres://kanca:s3cret@127.0.0.1:1/none"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("cannot use the PostgreSQL database") && !err.contains("s3cret"), "{err}");
    drop(server);
    drop(pg);
}
