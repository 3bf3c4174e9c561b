//! A 200 means the event is on disk: killing the server mid-burst loses nothing acknowledged,
//! and every acknowledged event reaches its call, whether a reader or the restarted server
//! projects what the killed one had journaled but not yet projected.

use kanca_tests::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

const TOTAL: usize = 400;
const THREADS: usize = 16;
const KILL_AFTER: usize = 150;

#[test]
fn acknowledged_events_survive_sigkill() {
    let work = Workdir::new();
    let data = work.data_dir();
    let mut server = Server::start(&data);
    let next = AtomicUsize::new(0);
    let acked_count = AtomicUsize::new(0);
    let killed = AtomicBool::new(false);
    // Acknowledged events per call: each call is a call_init then a missing_call.
    let acked: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    let t0 = 1_700_000_000_000_000u64;

    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= TOTAL || killed.load(Ordering::SeqCst) {
                    break;
                }
                let uuid = format!("burst-{i:04}");
                for (n, kind) in ["call_init", "missing_call"].into_iter().enumerate() {
                    if killed.load(Ordering::SeqCst) {
                        break;
                    }
                    let body = event_json(kind, &uuid, 905324445566, 908508850000, "IN", t0 + i as u64 * 1000 + n as u64)
                        .to_string();
                    match server.try_post("application/json", &body, Some((USER, PASSWORD))) {
                        Ok(reply) if (200..300).contains(&reply.status) => {
                            *acked.lock().unwrap().entry(uuid.clone()).or_default() += 1;
                            if acked_count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                                // Flag first, so no thread mistakes the kill's errors for refusals.
                                killed.store(true, Ordering::SeqCst);
                                server.signal("KILL");
                            }
                        }
                        Ok(reply) => assert!(
                            killed.load(Ordering::SeqCst),
                            "{uuid} {kind} refused before the kill: {} {}",
                            reply.status,
                            reply.body
                        ),
                        Err(e) => assert!(killed.load(Ordering::SeqCst), "{uuid} {kind} failed before the kill: {e}"),
                    }
                }
            });
        }
    });
    assert!(
        killed.load(Ordering::SeqCst),
        "the burst ended before the kill"
    );
    server.kill();
    let acked = acked.into_inner().unwrap();
    let total: usize = acked.values().sum();
    assert!((KILL_AFTER..2 * TOTAL).contains(&total), "{total} acknowledged");
    // A copy as the kill left it, for the restarted server to recover on its own.
    let work2 = Workdir::new();
    let data2 = work2.data_dir();
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), data2.join(entry.file_name())).unwrap();
        }
    }

    let check = |dir: &std::path::Path, when: &str| {
        let stored: HashMap<String, serde_json::Value> = history(dir, &["--limit", "100000"])
            .into_iter()
            .map(|c| (c["uuid"].as_str().unwrap().to_string(), c))
            .collect();
        let mut lost = Vec::new();
        for (uuid, n) in &acked {
            let Some(call) = stored.get(uuid) else {
                lost.push(format!("{uuid}: no call"));
                continue;
            };
            if call["event_count"].as_u64().unwrap_or(0) < *n as u64 {
                lost.push(format!("{uuid}: {n} acknowledged, call has {}", call["event_count"]));
            }
            if *n == 2 && call["state"] != "missed" {
                lost.push(format!("{uuid}: missing_call acknowledged, call is {}", call["state"]));
            }
        }
        assert!(lost.is_empty(), "{when}: acknowledged events not in their calls: {lost:?}");
        assert!(stored.keys().all(|u| u.starts_with("burst-")), "{when}: strange calls stored");
    };
    // `kanca history` finds no receiver projecting and projects what was journaled itself.
    check(&data, "after SIGKILL, no server running");

    // The restarted server projects what was journaled before it answers anything.
    let server = Server::start(&data2);
    check(&data2, "after restart");
    let body = event_json(
        "call_init",
        "after-crash",
        905324445566,
        908508850000,
        "IN",
        t0 + 10_000_000,
    )
    .to_string();
    assert_eq!(server.post_json(&body).expect_accepted(), "stored");
    assert_eq!(show(&data2, "after-crash")["uuid"], "after-crash");
}
