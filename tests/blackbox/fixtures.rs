//! Every documented payload, of both documentation revisions, is accepted and shows up.

use kanca_tests::*;
use serde_json::{json, Value};

const CALL: &str = "f615986c-2001-11e5-bdee-6599352d46ce";
const FAX: &str = "kkk919b-aaaa-aaaa-bbbb-ccccccfd40ee";

fn expected_route() -> Value {
    json!([
        {"type": "menu", "destination": "10"},
        {"type": "group", "destination": "111"},
        {"type": "extension", "destination": "1000"},
    ])
}

/// Posts the fixtures in order, asserting each is newly stored; returns (name, body).
fn post_all(server: &Server, revision: &str, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| {
            let body = fixture(revision, name);
            let reply = server.post_json(&body);
            assert_eq!(
                reply.expect_accepted(),
                "stored",
                "{revision}/{name}: {}",
                reply.body
            );
            (name.to_string(), body)
        })
        .collect()
}

/// Asserts that `call` holds one event per posted body, with its canonical and received
/// type and the body kept byte for byte.
fn assert_events(call: &Value, posted: &[(&str, &str, &str)]) {
    let events = call["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {call}"));
    assert_eq!(
        events.len(),
        posted.len(),
        "events of {}: {call:#}",
        call["uuid"]
    );
    for (canonical, received, body) in posted {
        let event = events
            .iter()
            .find(|e| e["received_type"] == *received)
            .unwrap_or_else(|| panic!("no event received as {received} in {call:#}"));
        assert_eq!(event["type"], *canonical, "canonical type of {received}");
        assert_eq!(
            event["raw"].as_str(),
            Some(*body),
            "raw body of {received} not kept byte for byte"
        );
        let ct = event["content_type"].as_str().unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "content_type of {received}: {ct:?}"
        );
        assert!(
            event["received_at"].is_string(),
            "received_at of {received}: {event}"
        );
    }
}

#[test]
fn seed_revision_fixtures_are_accepted_and_shown() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    let posted = post_all(
        &server,
        "seed",
        &[
            "call_init.json",
            "call_init_menu.json",
            "call_init_group.json",
            "call_init_extension.json",
            "call_hangup.json",
            "missing_call.json",
            "fax_init.json",
        ],
    );
    let body = |name: &str| posted.iter().find(|(n, _)| n == name).unwrap().1.clone();

    // Newest first: the fax (December 2015) before the call (July 2015).
    let calls = history(&data, &[]);
    let uuids: Vec<_> = calls
        .iter()
        .map(|c| c["uuid"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(uuids, [FAX, CALL], "history: {calls:#?}");

    let call = show(&data, CALL);
    assert_eq!(call["uuid"], CALL);
    assert_eq!(call["kind"], "call", "{call:#}");
    assert_eq!(call["direction"], "in", "{call:#}");
    assert_eq!(route_of(&call), expected_route(), "route of {call:#}");
    assert_eq!(call["hangup_cause"], "NORMAL_CLEARING", "{call:#}");
    assert_eq!(
        rfc3339_seconds(call["started_at"].as_str().expect("started_at")),
        1435762851,
        "{call:#}"
    );
    assert_eq!(
        rfc3339_seconds(call["ended_at"].as_str().expect("ended_at")),
        1435762855,
        "{call:#}"
    );
    assert_events(
        &call,
        &[
            ("call_init", "call_init", &body("call_init.json")),
            (
                "call_init_menu",
                "call_init_menu",
                &body("call_init_menu.json"),
            ),
            (
                "call_init_group",
                "call_init_group",
                &body("call_init_group.json"),
            ),
            (
                "call_init_extension",
                "call_init_extension",
                &body("call_init_extension.json"),
            ),
            ("call_hangup", "call_hangup", &body("call_hangup.json")),
            ("missing_call", "missing_call", &body("missing_call.json")),
        ],
    );
    assert_eq!(
        contract_view(&calls[1]),
        contract_view(&call),
        "history and show disagree on the call"
    );

    let fax = show(&data, FAX);
    assert_eq!(fax["uuid"], FAX);
    assert_eq!(fax["kind"], "fax", "{fax:#}");
    assert_eq!(fax["direction"], "in", "{fax:#}");
    assert_eq!(
        rfc3339_seconds(fax["started_at"].as_str().expect("started_at")),
        1450458620,
        "{fax:#}"
    );
    assert_events(&fax, &[("fax_init", "fax_init", &body("fax_init.json"))]);
    assert_eq!(
        contract_view(&calls[0]),
        contract_view(&fax),
        "history and show disagree on the fax"
    );
}

#[test]
fn revision_2021_fixtures_are_accepted_and_shown() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    // call_hangup.json repeats the key "hangup_cause": it must still be accepted.
    let posted = post_all(
        &server,
        "documented-2021",
        &[
            "call_init.json",
            "call_init_menu.json",
            "incoming_call_group.json",
            "incoming_call_extension.json",
            "call_hangup.json",
            "missing_call.json",
            "fax_init.json",
        ],
    );
    let body = |name: &str| posted.iter().find(|(n, _)| n == name).unwrap().1.clone();

    // This revision's fax example reuses the call's uuid: one entry in all.
    let calls = history(&data, &[]);
    assert_eq!(calls.len(), 1, "history: {calls:#?}");
    assert_eq!(calls[0]["uuid"], CALL);

    let call = show(&data, CALL);
    assert_eq!(call["direction"], "in", "{call:#}");
    assert_eq!(route_of(&call), expected_route(), "route of {call:#}");
    assert_eq!(call["hangup_cause"], "NORMAL_CLEARING", "{call:#}");
    assert_eq!(
        call["duration_s"], 35,
        "talk_duration of the 2021 hangup: {call:#}"
    );
    assert!(
        call["ended_at"].is_string(),
        "hung-up call without ended_at: {call:#}"
    );
    assert_events(
        &call,
        &[
            ("call_init", "call_init", &body("call_init.json")),
            (
                "call_init_menu",
                "call_init_menu",
                &body("call_init_menu.json"),
            ),
            (
                "call_init_group",
                "incoming_call_group",
                &body("incoming_call_group.json"),
            ),
            (
                "call_init_extension",
                "incoming_call_extension",
                &body("incoming_call_extension.json"),
            ),
            ("call_hangup", "call_hangup", &body("call_hangup.json")),
            ("missing_call", "missing_call", &body("missing_call.json")),
            ("fax_init", "fax_init", &body("fax_init.json")),
        ],
    );
    assert_eq!(
        contract_view(&calls[0]),
        contract_view(&call),
        "history and show disagree"
    );
}

#[test]
fn call_init_manu_spelling_is_a_menu() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    let body = fixture("seed", "call_init_menu.json").replace("call_init_menu", "call_init_manu");
    server.post_json(&body).expect_accepted();
    let call = show(&data, CALL);
    assert_eq!(
        route_of(&call),
        json!([{"type": "menu", "destination": "10"}]),
        "{call:#}"
    );
    assert_eq!(call["events"][0]["type"], "call_init_menu", "{call:#}");
    assert_eq!(
        call["events"][0]["received_type"], "call_init_manu",
        "{call:#}"
    );
}
