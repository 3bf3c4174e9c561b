//! Bulutfon redelivers on timeouts: the same event arriving again is stored once.

use kanca_tests::*;
use serde_json::json;
use std::sync::Barrier;

#[test]
fn concurrent_redeliveries_are_stored_once() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    let uuid = "redelivered-0001";
    let mut event = event_json(
        "call_init_menu",
        uuid,
        905324445566,
        908508850000,
        "IN",
        1_700_000_000_000_000,
    );
    event["destination"] = json!(10);
    let body = event.to_string();

    let barrier = Barrier::new(20);
    let statuses: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    server.post_json(&body).expect_accepted()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let stored = statuses.iter().filter(|s| *s == "stored").count();
    assert_eq!(
        stored, 1,
        "statuses of 20 identical deliveries: {statuses:?}"
    );

    // The same event again, re-serialised with the timestamp as a string: still a duplicate.
    let mut again = event.clone();
    again["timestamp"] = json!("1700000000000000");
    assert_eq!(
        server.post_json(&format!("{again:#}")).expect_accepted(),
        "duplicate"
    );

    let call = show(&data, uuid);
    assert_eq!(call["events"].as_array().map(Vec::len), Some(1), "{call:#}");
    assert_eq!(call["route"].as_array().map(Vec::len), Some(1), "{call:#}");
    assert_eq!(history_uuids(&data, &[]), [uuid]);

    // Another destination at the same instant is another event.
    let mut other = event.clone();
    other["destination"] = json!(20);
    assert_eq!(
        server.post_json(&other.to_string()).expect_accepted(),
        "stored"
    );
    assert_eq!(
        show(&data, uuid)["events"].as_array().map(Vec::len),
        Some(2)
    );
}
