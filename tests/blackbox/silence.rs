//! A call whose hang-up never arrives (a lost webhook) stops ringing after the silence limit
//! and shows "end unknown"; a hang-up that arrives later still completes it.

use std::time::{SystemTime, UNIX_EPOCH};

use kanca_tests::*;
use serde_json::Value;

const HOUR_US: u64 = 3_600_000_000;
const LOST: &str = "silent-3h-ago";
const FRESH: &str = "ringing-now";

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64
}

fn state_of(calls: &[Value], uuid: &str) -> String {
    let call = calls
        .iter()
        .find(|c| c["uuid"] == uuid)
        .unwrap_or_else(|| panic!("{uuid} not in history: {calls:#?}"));
    call["state"].as_str().unwrap_or_default().to_string()
}

fn text_line<'a>(table: &'a str, number: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.contains(number))
        .unwrap_or_else(|| panic!("no line with {number} in:\n{table}"))
}

#[test]
fn silent_call_ends_unknown_and_a_late_hangup_completes_it() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    let started = now_us() - 3 * HOUR_US;
    let lost = event_json("call_init", LOST, 905324445566, 908508850000, "IN", started);
    let fresh = event_json("call_init", FRESH, 905551112233, 908508850000, "IN", now_us());
    for body in [&lost, &fresh] {
        assert_eq!(server.post_json(&body.to_string()).expect_accepted(), "stored");
    }

    // Three hours without a hang-up: over, end unknown. A call from now still rings.
    let calls = history(&data, &[]);
    assert_eq!(state_of(&calls, LOST), "end_unknown", "{calls:#?}");
    assert_eq!(state_of(&calls, FRESH), "ringing", "{calls:#?}");
    let shown = show(&data, LOST);
    assert_eq!(shown["state"], "end_unknown", "{shown:#}");
    assert_eq!(shown["ended_at"], Value::Null, "no end time is made up: {shown:#}");
    assert_eq!(shown["missed"], false, "{shown:#}");
    // Not a missed call: nobody knows whether it was answered.
    let missed = history_uuids(&data, &["--missed"]);
    assert!(!missed.iter().any(|u| u == LOST), "{missed:?}");

    // The same in words (the catalogue's English, i18n/en.json).
    let table = kanca_ok(&data, &["history"]);
    assert!(text_line(&table, "532 444 55 66").contains("End unknown"), "{table}");
    assert!(text_line(&table, "555 111 22 33").contains("Ringing"), "{table}");
    let detail = kanca_ok(&data, &["show", LOST]);
    assert!(detail.lines().any(|l| l.starts_with("Status") && l.contains("End unknown")), "{detail}");
    assert!(detail.lines().any(|l| l.starts_with("Ended") && l.contains("no hang-up")), "{detail}");

    // The hang-up arrives after all (Bulutfon retried, or the call was that long).
    let mut hangup = event_json("call_hangup", LOST, 905324445566, 908508850000, "IN", started + 65_000_000);
    hangup["talk_duration"] = 60.into();
    hangup["result_disposition"] = "SUCCESS".into();
    assert_eq!(server.post_json(&hangup.to_string()).expect_accepted(), "stored");
    let calls = history(&data, &[]);
    assert_eq!(state_of(&calls, LOST), "answered", "{calls:#?}");
    let shown = show(&data, LOST);
    assert_eq!(shown["state"], "answered", "{shown:#}");
    assert_eq!(shown["duration_s"], 60, "{shown:#}");
    assert!(shown["ended_at"].is_string(), "{shown:#}");
    let table = kanca_ok(&data, &["history"]);
    assert!(text_line(&table, "532 444 55 66").contains("Answered"), "{table}");
}
