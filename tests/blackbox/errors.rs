//! Bad deliveries are refused with the documented status and error body, and store nothing.

use kanca_tests::*;
use serde_json::json;

fn valid_event(uuid: &str) -> serde_json::Value {
    event_json(
        "call_init",
        uuid,
        905324445566,
        908508850000,
        "IN",
        1_700_000_000_000_000,
    )
}

/// Runs `refuse` against a fresh server, then checks that nothing was stored and that the
/// same server still takes a good delivery.
fn refused_and_nothing_stored(refuse: impl FnOnce(&Server)) {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    refuse(&server);
    assert_eq!(
        history(&data, &[]),
        Vec::<serde_json::Value>::new(),
        "refused requests were stored"
    );
    server
        .post_json_new_connection(&valid_event("good-uuid").to_string())
        .expect_accepted();
    assert_eq!(history_uuids(&data, &[]), ["good-uuid"]);
}

#[test]
fn malformed_bodies_get_400() {
    refused_and_nothing_stored(|server| {
        server
            .post_json(r#"{"event_type": "call_init", "uuid": "#)
            .expect_error(400);
        server.post_json("[1, 2, 3]").expect_error(400);
        server.post_json(r#""call_init""#).expect_error(400);

        let mut no_uuid = valid_event("x");
        no_uuid.as_object_mut().unwrap().remove("uuid");
        server.post_json(&no_uuid.to_string()).expect_error(400);

        let mut no_type = valid_event("no-type-uuid");
        no_type.as_object_mut().unwrap().remove("event_type");
        server.post_json(&no_type.to_string()).expect_error(400);
    });
}

#[test]
fn missing_or_wrong_credentials_get_401_and_health_needs_none() {
    refused_and_nothing_stored(|server| {
        let health = server.get("/health");
        assert_eq!(health.status, 200, "GET /health without auth: {health:?}");

        let body = valid_event("unauthorised-uuid").to_string();
        let reply = server.post("application/json", &body, None);
        reply.expect_error(401);
        let challenge = reply
            .header("WWW-Authenticate")
            .unwrap_or_else(|| panic!("401 without WWW-Authenticate: {reply:?}"));
        assert!(
            challenge.to_ascii_lowercase().starts_with("basic"),
            "WWW-Authenticate: {challenge:?}"
        );
        let reply = server.post("application/json", &body, Some((USER, "wrong-password")));
        reply.expect_error(401);
        assert!(
            reply.header("WWW-Authenticate").is_some(),
            "401 without WWW-Authenticate: {reply:?}"
        );
        server
            .post("application/json", &body, Some(("someone-else", PASSWORD)))
            .expect_error(401);
        server
            .post("application/json", &body, Some((USER, "")))
            .expect_error(401);
    });
}

#[test]
fn bodies_over_64_kib_get_413() {
    refused_and_nothing_stored(|server| {
        // A valid event padded past 64 KiB.
        let mut big = valid_event("too-big-uuid");
        big["padding"] = json!("x".repeat(70 * 1024));
        let reply = server.post_json_new_connection(&big.to_string());
        reply.expect_error(413);
        // The server stops reading the body and drops the connection after answering, so the
        // answer must say `Connection: close`: a sender that pools connections would otherwise
        // lose its next delivery on the dropped connection.
        assert!(
            reply
                .header("Connection")
                .is_some_and(|c| c.eq_ignore_ascii_case("close")),
            "413 answer without `Connection: close`: {reply:?}"
        );
    });
}

#[test]
fn unsupported_content_types_get_415() {
    refused_and_nothing_stored(|server| {
        // A well-formed event, labelled as something Bulutfon never sends. (A missing or
        // generic type, text/plain or application/octet-stream, is read by its content.)
        let event = valid_event("xml-uuid").to_string();
        server
            .post("application/xml", &event, Some((USER, PASSWORD)))
            .expect_error(415);
        server
            .post(
                "multipart/form-data; boundary=x",
                &event,
                Some((USER, PASSWORD)),
            )
            .expect_error(415);
        server
            .post("text/plain", "hello", Some((USER, PASSWORD)))
            .expect_error(415);
    });
}

#[test]
fn unknown_event_types_are_accepted_and_kept() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    server
        .post_json(&valid_event("unknown-type-uuid").to_string())
        .expect_accepted();
    let before = show(&data, "unknown-type-uuid");

    let mut unknown = valid_event("unknown-type-uuid");
    unknown["event_type"] = json!("call_recording_ready");
    unknown["timestamp"] = json!(1_700_000_090_000_000u64);
    unknown["recording_url"] = json!("https://example.invalid/r.mp3");
    let body = unknown.to_string();
    assert_eq!(server.post_json(&body).expect_accepted(), "stored");

    let after = show(&data, "unknown-type-uuid");
    let events = after["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{after:#}");
    let kept = events
        .iter()
        .find(|e| e["received_type"] == "call_recording_ready")
        .unwrap_or_else(|| panic!("unknown event not kept: {after:#}"));
    assert_eq!(kept["type"], "call_recording_ready");
    assert_eq!(kept["raw"].as_str(), Some(body.as_str()));
    assert_eq!(
        contract_view(&after),
        contract_view(&before),
        "an unknown event changed the call"
    );
}
