//! A 200 means the event is on disk: killing the server mid-burst loses nothing acknowledged.

use kanca_tests::*;
use std::collections::HashSet;
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
    let acked = Mutex::new(Vec::new());
    let t0 = 1_700_000_000_000_000u64;

    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= TOTAL || killed.load(Ordering::SeqCst) {
                    break;
                }
                let uuid = format!("burst-{i:04}");
                let body = event_json(
                    "call_init",
                    &uuid,
                    905324445566,
                    908508850000,
                    "IN",
                    t0 + i as u64 * 1000,
                )
                .to_string();
                match server.try_post("application/json", &body, Some((USER, PASSWORD))) {
                    Ok(reply) if (200..300).contains(&reply.status) => {
                        acked.lock().unwrap().push(uuid);
                        if acked_count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                            // Flag first, so no thread mistakes the kill's errors for refusals.
                            killed.store(true, Ordering::SeqCst);
                            server.signal("KILL");
                        }
                    }
                    Ok(reply) => assert!(
                        killed.load(Ordering::SeqCst),
                        "{uuid} refused before the kill: {} {}",
                        reply.status,
                        reply.body
                    ),
                    Err(e) => assert!(
                        killed.load(Ordering::SeqCst),
                        "{uuid} failed before the kill: {e}"
                    ),
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
    assert!(
        acked.len() >= KILL_AFTER && acked.len() < TOTAL,
        "{} acknowledged",
        acked.len()
    );

    let check = |when: &str| {
        let stored: HashSet<String> = history_uuids(&data, &["--limit", "100000"])
            .into_iter()
            .collect();
        let lost: Vec<_> = acked.iter().filter(|u| !stored.contains(*u)).collect();
        assert!(
            lost.is_empty(),
            "{when}: {} of {} acknowledged events lost: {lost:?}",
            lost.len(),
            acked.len()
        );
        assert!(
            stored.iter().all(|u| u.starts_with("burst-")),
            "{when}: strange calls stored"
        );
    };
    check("after SIGKILL, no server running");

    // The data directory is still usable by a new server.
    let server = Server::start(&data);
    check("after restart");
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
    assert_eq!(show(&data, "after-crash")["uuid"], "after-crash");
}
