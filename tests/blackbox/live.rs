//! The CLI reads the data directory while `kanca serve` is writing to it.

use kanca_tests::*;
use serde_json::json;

#[test]
fn history_and_show_work_while_serve_runs() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    let t0 = 1_700_000_000_000_000u64;

    server
        .post_json(
            &event_json("call_init", "live-1", 905324445566, 908508850000, "IN", t0).to_string(),
        )
        .expect_accepted();
    let calls = history(&data, &[]);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0]["uuid"], "live-1");
    assert!(
        calls[0]["ended_at"].is_null(),
        "a ringing call has ended_at null: {:#}",
        calls[0]
    );

    let mut hangup = event_json(
        "call_hangup",
        "live-1",
        905324445566,
        908508850000,
        "IN",
        t0 + 20_000_000,
    );
    hangup["talk_duration"] = json!(12);
    hangup["hangup_cause"] = json!("NORMAL_CLEARING");
    server.post_json(&hangup.to_string()).expect_accepted();
    server
        .post_json(
            &event_json(
                "call_init",
                "live-2",
                905551112233,
                908508850000,
                "IN",
                t0 + 60_000_000,
            )
            .to_string(),
        )
        .expect_accepted();

    assert_eq!(
        history_uuids(&data, &[]),
        ["live-2", "live-1"],
        "newest first"
    );
    let call = show(&data, "live-1");
    assert!(call["ended_at"].is_string(), "{call:#}");
    assert_eq!(call["events"].as_array().map(Vec::len), Some(2), "{call:#}");

    let plain = kanca_ok(&data, &["history"]);
    assert!(
        plain.contains("0 532 444 55 66"),
        "table output lacks the caller: {plain}"
    );
    assert!(
        !plain.trim_start().starts_with('{'),
        "history without --json printed JSON: {plain}"
    );

    let out = kanca(&data, &["show", "no-such-uuid", "--json"]);
    assert!(
        !out.status.success(),
        "show of an unknown uuid succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !out.stderr.is_empty(),
        "show of an unknown uuid said nothing on stderr"
    );

    // The server is still serving after all that reading.
    server
        .post_json(
            &event_json(
                "call_init",
                "live-3",
                905551112233,
                908508850000,
                "IN",
                t0 + 90_000_000,
            )
            .to_string(),
        )
        .expect_accepted();
    assert_eq!(history_uuids(&data, &[])[0], "live-3");
}

#[test]
fn credentials_printed_are_the_ones_serve_accepts() {
    let work = Workdir::new();
    let data = work.data_dir();
    // No credential variables: kanca makes its own and keeps them in the data directory.
    let server = Server::start_with(&data, Creds::Config);
    let out = kanca_ok(&data, &["credentials", "--json"]);
    let creds: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("credentials --json: {e}: {out:?}"));
    let user = creds["user"]
        .as_str()
        .unwrap_or_else(|| panic!("no user in {creds}"))
        .to_string();
    let password = creds["password"]
        .as_str()
        .unwrap_or_else(|| panic!("no password in {creds}"))
        .to_string();
    assert!(!password.is_empty());

    let body = event_json(
        "call_init",
        "creds-1",
        905324445566,
        908508850000,
        "IN",
        1_700_000_000_000_000,
    )
    .to_string();
    server
        .post("application/json", &body, Some((&user, &password)))
        .expect_accepted();
    server
        .post("application/json", &body, Some((&user, "not-the-password")))
        .expect_error(401);

    // They stay the same across a restart.
    drop(server);
    let server = Server::start_with(&data, Creds::Config);
    assert_eq!(kanca_ok(&data, &["credentials", "--json"]), out);
    let body = event_json(
        "call_init",
        "creds-2",
        905324445566,
        908508850000,
        "IN",
        1_700_000_001_000_000,
    )
    .to_string();
    server
        .post("application/json", &body, Some((&user, &password)))
        .expect_accepted();
}
