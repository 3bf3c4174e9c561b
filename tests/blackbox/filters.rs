//! `kanca history` filters: missed calls, faxes, direction, dates, limit.

use kanca_tests::*;
use serde_json::json;

/// Microseconds since the epoch of 12:00 UTC on 2024-03-DAY (noon keeps date-only filters
/// on the right side in any usual time zone).
fn noon(day: u32) -> u64 {
    rfc3339_seconds(&format!("2024-03-{day:02}T12:00:00Z")) as u64 * 1_000_000
}

#[test]
fn history_filters_select_what_the_user_asked_for() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    let post = |v: serde_json::Value| {
        assert_eq!(
            server.post_json(&v.to_string()).expect_accepted(),
            "stored",
            "{v}"
        )
    };

    // answered: an incoming call, talked 45 s (2021-style hangup).
    post(event_json(
        "call_init",
        "answered",
        905324445566,
        908508850000,
        "IN",
        noon(10),
    ));
    let mut hangup = event_json(
        "call_hangup",
        "answered",
        905324445566,
        908508850000,
        "IN",
        noon(10) + 60_000_000,
    );
    hangup["talk_duration"] = json!(45);
    hangup["hangup_cause"] = json!("NORMAL_CLEARING");
    hangup["hangup_detail"] = json!("send_bye");
    hangup["result_disposition"] = json!("SUCCESS");
    post(hangup);
    // missed: an incoming call nobody took.
    post(event_json(
        "call_init",
        "missed",
        905324445566,
        908508850000,
        "IN",
        noon(11),
    ));
    post(event_json(
        "missing_call",
        "missed",
        905324445566,
        908508850000,
        "IN",
        noon(11) + 20_000_000,
    ));
    // a fax.
    post(event_json(
        "fax_init",
        "fax",
        903124445566,
        908508850000,
        "IN",
        noon(12),
    ));
    // an outgoing call.
    post(event_json(
        "call_init",
        "outgoing",
        908508850000,
        905551112233,
        "OUT",
        noon(13),
    ));
    let mut hangup = event_json(
        "call_hangup",
        "outgoing",
        908508850000,
        905551112233,
        "OUT",
        noon(13) + 30_000_000,
    );
    hangup["talk_duration"] = json!(10);
    hangup["hangup_cause"] = json!("NORMAL_CLEARING");
    post(hangup);

    let h = |args: &[&str]| history_uuids(&data, args);
    assert_eq!(
        h(&[]),
        ["outgoing", "fax", "missed", "answered"],
        "newest first"
    );
    assert_eq!(h(&["--missed"]), ["missed"]);
    assert_eq!(h(&["--kind", "fax"]), ["fax"]);
    assert_eq!(h(&["--kind", "call"]), ["outgoing", "missed", "answered"]);
    assert_eq!(h(&["--direction", "out"]), ["outgoing"]);
    assert_eq!(h(&["--direction", "in"]), ["fax", "missed", "answered"]);
    assert_eq!(h(&["--since", "2024-03-12"]), ["outgoing", "fax"]);
    assert_eq!(
        h(&["--until", "2024-03-11T18:00:00Z"]),
        ["missed", "answered"]
    );
    assert_eq!(
        h(&[
            "--since",
            "2024-03-11T00:00:00Z",
            "--until",
            "2024-03-12T18:00:00Z"
        ]),
        ["fax", "missed"]
    );
    assert_eq!(h(&["--limit", "2"]), ["outgoing", "fax"]);
    assert_eq!(h(&["--missed", "--direction", "out"]), Vec::<String>::new());

    let calls = history(&data, &[]);
    let by = |uuid: &str| calls.iter().find(|c| c["uuid"] == uuid).unwrap().clone();
    let answered = by("answered");
    assert_eq!(answered["answered"], true, "{answered:#}");
    assert_eq!(answered["missed"], false, "{answered:#}");
    assert_eq!(answered["duration_s"], 45, "{answered:#}");
    let missed = by("missed");
    assert_eq!(missed["missed"], true, "{missed:#}");
    assert_eq!(missed["answered"], false, "{missed:#}");
    let fax = by("fax");
    assert_eq!(fax["kind"], "fax", "{fax:#}");
    assert_eq!(fax["caller"], "0 312 444 55 66", "{fax:#}");
    let outgoing = by("outgoing");
    assert_eq!(outgoing["direction"], "out", "{outgoing:#}");
    assert_eq!(outgoing["callee"], "0 555 111 22 33", "{outgoing:#}");
    assert_eq!(outgoing["caller"], "0 850 885 00 00", "{outgoing:#}");
}
