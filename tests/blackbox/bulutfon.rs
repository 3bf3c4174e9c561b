//! Bulutfon's API through the command line, against a stand-in API server
//! (tests/support/bulutfon.rs): the token is checked, stored and never shown; a sync brings the
//! names and the calls Kanca missed, merged with what the webhooks brought; the API's failures
//! are clear errors that lose nothing; a backfill killed half-way is finished by the next one.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use kanca_tests::bulutfon::{generated_record, Failure, StandIn, TOKEN};
use kanca_tests::*;
use serde_json::Value;

fn env_of(api: &StandIn) -> Vec<(&'static str, String)> {
    api.env()
}

fn run(data: &std::path::Path, args: &[&str], api: &StandIn, extra: &[(&str, &str)]) -> std::process::Output {
    let env = env_of(api);
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    kanca_env(data, args, &all)
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn sync_json(data: &std::path::Path, api: &StandIn) -> Value {
    let out = run(data, &["sync", "--json"], api, &[]);
    assert!(out.status.success(), "kanca sync failed: {}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("sync --json is not one object ({e}): {stdout}"))
}

#[test]
fn a_token_is_checked_stored_and_never_shown() {
    let work = Workdir::new();
    let data = work.data_dir();
    let api = StandIn::start();
    // A wrong token is refused at once, stored nowhere.
    let wrong = kanca_env(&data, &["bulutfon", "token", "not-the-token"], &[("KANCA_BULUTFON_API_URL", &api.base_url())]);
    assert!(!wrong.status.success(), "a wrong token was accepted: {}", text(&wrong));
    assert!(text(&wrong).contains("refused the API token"), "{}", text(&wrong));
    assert_eq!(api.count("/me"), 1, "a refused token must not be retried: {:?}", api.seen());
    assert!(!data.join("config.toml").exists() || !std::fs::read_to_string(data.join("config.toml")).unwrap().contains("not-the-token"));

    // The right one, pasted on standard input (out of the shell's history).
    let mut child = kanca_command()
        .args(["bulutfon", "token", "--data-dir"])
        .arg(&data)
        .env("KANCA_BULUTFON_API_URL", api.base_url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("  {TOKEN}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Connected: ornekticaret"), "{}", text(&out));
    assert!(!text(&out).contains(TOKEN), "the token was printed: {}", text(&out));
    let config = std::fs::read_to_string(data.join("config.toml")).unwrap();
    assert!(config.contains(TOKEN) && config.contains("ornekticaret"), "{config}");
    // Windows has no file modes (its profile folder's permissions do that job, README).
    #[cfg(unix)]
    if wine().is_none() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("config.toml")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "config.toml holds the token");
    }

    // The stored token is used; with debug logging it still appears nowhere.
    api.clear_seen();
    let out = kanca_env(&data, &["sync", "--json"], &[("KANCA_BULUTFON_API_URL", &api.base_url()), ("KANCA_LOG", "debug")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(TOKEN), "the token is in sync's output: {}", text(&out));
    assert!(api.seen().iter().all(|s| s.token_ok), "{:?}", api.seen());
}

#[test]
fn a_sync_brings_names_and_missed_calls_merged_with_the_webhooks() {
    let work = Workdir::new();
    let data = work.data_dir();
    let api = StandIn::start();
    // The seed webhooks' call, whose record is also on page 2 of the API's list.
    let server = Server::start(&data);
    for name in ["call_init", "call_init_menu", "call_init_group", "call_init_extension", "call_hangup"] {
        server.post_json(&fixture("seed", &format!("{name}.json"))).expect_accepted();
    }
    let first = sync_json(&data, &api);
    assert_eq!(
        (&first["calls_added"], &first["calls_updated"], &first["pages"]),
        (&Value::from(8), &Value::from(1), &Value::from(2)),
        "{first}"
    );
    assert_eq!((&first["extensions"], &first["groups"], &first["dids"]), (&Value::from(4), &Value::from(3), &Value::from(3)), "{first}");
    // Every request went to the stand-in's address (next_page names api.bulutfon.com), with
    // the token added again.
    assert!(api.seen().iter().all(|s| s.token_ok), "{:?}", api.seen());
    assert_eq!(api.seen().iter().filter(|s| s.path == "/cdrs").map(|s| s.params["page"].clone()).collect::<Vec<_>>(), ["1", "2"]);

    let calls = history(&data, &["--limit", "50"]);
    assert_eq!(calls.len(), 9, "{calls:#?}");
    let by = |uuid: &str| calls.iter().find(|c| c["uuid"] == uuid).unwrap_or_else(|| panic!("{uuid} in {calls:#?}")).clone();
    // Known from both: one call.
    let seed = by("f615986c-2001-11e5-bdee-6599352d46ce");
    assert_eq!(seed["sources"], serde_json::json!(["webhook", "api"]), "{seed}");
    // A missed call only the API knew of.
    let missed = by("704b83fa-4d98-40f3-97cb-44882dcbed04");
    assert_eq!((missed["state"].as_str(), missed["missed"].as_bool(), &missed["sources"]), (Some("missed"), Some(true), &serde_json::json!(["api"])), "{missed}");
    // Its route came from the detail's flow, with Bulutfon's names.
    let routed = show(&data, "dd3b3506-e40e-11e4-9880-17aee3ce4e7b");
    let steps: Vec<(String, Value)> =
        routed["route"].as_array().unwrap().iter().map(|s| (format!("{} {}", s["type"].as_str().unwrap(), s["destination"].as_str().unwrap()), s["name"].clone())).collect();
    assert_eq!(
        steps,
        [
            ("menu 10".to_owned(), Value::Null),
            ("group 101".to_owned(), Value::from("Teknik Destek")),
            ("extension 1004".to_owned(), Value::from("Şule Çağlar"))
        ],
        "{routed}"
    );
    // The webhook call's extension has its name too (Bulutfon lists 1000 as Ayşe Yılmaz).
    let seed_route = &show(&data, "f615986c-2001-11e5-bdee-6599352d46ce")["route"];
    assert_eq!(seed_route[2]["name"], "Ayşe Yılmaz", "{seed_route}");

    // Nothing new: a second sync reads one page and adds nothing.
    api.clear_seen();
    let second = sync_json(&data, &api);
    assert_eq!((&second["calls_added"], &second["calls_updated"], &second["pages"]), (&Value::from(0), &Value::from(0), &Value::from(1)), "{second}");
    assert_eq!(api.count("/cdrs"), 1, "{:?}", api.seen());
    assert_eq!(history(&data, &["--limit", "50"]).len(), 9);

    // Two new calls arrive: the next sync brings exactly them, still from one page.
    api.prepend(vec![generated_record(0), generated_record(1)]);
    api.clear_seen();
    let third = sync_json(&data, &api);
    assert_eq!(third["calls_added"], 2, "{third}");
    assert_eq!(api.count("/cdrs"), 1, "{:?}", api.seen());
    drop(server);
}

#[test]
fn a_local_name_wins_over_bulutfon_s() {
    let work = Workdir::new();
    let data = work.data_dir();
    let api = StandIn::start();
    sync_json(&data, &api);
    kanca_ok(&data, &["names", "group", "101", "Destek Ekibi"]);
    sync_json(&data, &api);
    let routed = show(&data, "dd3b3506-e40e-11e4-9880-17aee3ce4e7b");
    assert_eq!(routed["route"][1]["name"], "Destek Ekibi", "{routed}");
    let listed = kanca_ok(&data, &["names", "--json"]);
    let group: Value = listed.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|e| e["kind"] == "group" && e["number"] == "101").unwrap();
    assert_eq!((group["bulutfon"].as_str(), group["local"].as_str()), (Some("Teknik Destek"), Some("Destek Ekibi")));
    kanca_ok(&data, &["names", "group", "101", "--clear"]);
    assert_eq!(show(&data, "dd3b3506-e40e-11e4-9880-17aee3ce4e7b")["route"][1]["name"], "Teknik Destek");
}

#[test]
fn the_api_s_failures_are_clear_and_lose_nothing() {
    let work = Workdir::new();
    let data = work.data_dir();
    let api = StandIn::start();
    // Rate limited and a server error: retried with backoff, then it works.
    api.fail_next([Failure::Status(429), Failure::Status(503)]);
    let ok = sync_json(&data, &api);
    assert_eq!(ok["calls_added"], 9, "{ok}");

    // Malformed JSON: a clear error, the history as it was.
    let fresh = Workdir::new();
    let fresh_data = fresh.data_dir();
    api.clear_seen();
    api.fail_next([Failure::Malformed]);
    let bad = run(&fresh_data, &["sync"], &api, &[]);
    assert!(!bad.status.success(), "{}", text(&bad));
    assert!(text(&bad).contains("cannot read"), "{}", text(&bad));

    // An expired token: refused once, not retried.
    api.clear_seen();
    api.fail_next([Failure::ExpiredToken]);
    let expired = run(&data, &["sync"], &api, &[]);
    assert!(!expired.status.success());
    assert!(text(&expired).contains("refused the API token"), "{}", text(&expired));
    assert_eq!(api.seen().len(), 1, "{:?}", api.seen());

    // Slower than the timeout, every time: unavailable after the retries, nothing changed.
    api.clear_seen();
    api.fail_next((0..4).map(|_| Failure::Slow(Duration::from_secs(3))));
    let slow = run(&data, &["sync"], &api, &[("KANCA_BULUTFON_TIMEOUT", "0.5")]);
    assert!(!slow.status.success());
    assert!(text(&slow).contains("cannot be reached"), "{}", text(&slow));
    assert_eq!(api.count("/extensions"), 4, "{:?}", api.seen());
    assert_eq!(history(&data, &["--limit", "50"]).len(), 9);
    assert!(!text(&slow).contains(TOKEN));
}

#[test]
fn malformed_records_are_skipped_and_an_empty_list_adds_nothing() {
    let work = Workdir::new();
    let data = work.data_dir();
    let mut records = vec![generated_record(0)];
    records.push(serde_json::json!({"no_uuid": true}));
    records.push(serde_json::json!("not an object"));
    records.push(serde_json::json!({"uuid": 12, "caller": {"odd": []}, "call_time": "yesterday"}));
    let api = StandIn::with_records(records, 10, Default::default());
    let report = sync_json(&data, &api);
    assert_eq!(report["calls_added"], 2, "{report}");
    let empty = StandIn::with_records(Vec::new(), 10, Default::default());
    let fresh = Workdir::new();
    assert_eq!(sync_json(&fresh.data_dir(), &empty)["calls_added"], 0);
}

not_under_wine! {
    "kills the process with SIGKILL mid-request and counts pages as they are served",

    #[test]
    fn a_backfill_killed_half_way_is_finished_by_the_next_without_doubles() {
        let work = Workdir::new();
        let data = work.data_dir();
        let api = StandIn::generated(2000, 100);
        api.set_page_delay(Duration::from_millis(150));
        let env = env_of(&api);
        let mut child = kanca_command()
            .args(["sync", "--data-dir"])
            .arg(&data)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("five pages served", Duration::from_secs(60), || (api.count("/cdrs") >= 5).then_some(()));
        child.kill().unwrap();
        child.wait().unwrap();
        let partial = history(&data, &["--limit", "5000"]).len();
        assert!(partial > 0 && partial < 2000, "the kill came too late to test anything: {partial} calls");

        api.set_page_delay(Duration::ZERO);
        let report = sync_json(&data, &api);
        let calls = history(&data, &["--limit", "5000"]);
        assert_eq!(calls.len(), 2000, "after the second sync ({report})");
        let mut uuids: Vec<&str> = calls.iter().map(|c| c["uuid"].as_str().unwrap()).collect();
        uuids.sort();
        uuids.dedup();
        assert_eq!(uuids.len(), 2000);
        assert_eq!(report["calls_added"].as_u64().unwrap() as usize, 2000 - partial, "{report}");
        // Every record is one event: nothing was stored twice.
        let one = show(&data, "0b0b0000-0000-4000-8000-000000000007");
        assert_eq!(one["events"].as_array().map(Vec::len), Some(1), "{one}");
        assert_eq!(history(&data, &["--missed", "--limit", "5000"]).len(), 667);
    }
}

#[test]
fn a_call_back_rings_the_extension_then_the_number() {
    let work = Workdir::new();
    let data = work.data_dir();
    let api = StandIn::start();
    let out = run(&data, &["call", "0532 111 22 33", "--yes", "--extension", "1000"], &api, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Arama başarıyla başlatıldı."), "{}", text(&out));
    let post = api.seen().into_iter().find(|s| s.path == "/call_and_bridge").expect("a POST to /call_and_bridge");
    assert!(post.token_ok);
    assert_eq!(post.params["destination"], "1000");
    assert_eq!(post.params["callee"], "905321112233");
    // The account's first number (dids.json) when none is set.
    assert_eq!(post.params["caller"], "908508850000");
    // Without --yes and nobody to say yes: nothing is called.
    api.clear_seen();
    let asked = run(&data, &["call", "05321112233", "--extension", "1000"], &api, &[]);
    assert!(!asked.status.success());
    assert_eq!(api.count("/call_and_bridge"), 0);
}

#[test]
fn serve_fills_the_history_at_start_and_keeps_the_token_out_of_its_log() {
    let work = Workdir::new();
    let data = work.data_dir();
    let api = StandIn::start();
    let mut env = api.env();
    env.push(("KANCA_LOG", "debug".to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with_env(&data, Creds::Env, &[], &env);
    server.wait_for_line("Bulutfon API: synced, 9 calls added", 0, Duration::from_secs(60));
    assert_eq!(history(&data, &["--limit", "50"]).len(), 9);
    // Webhooks are received as ever meanwhile.
    server.post_json(&fixture("seed", "call_init.json")).expect_accepted();
    let log = server.log_text();
    assert!(log.contains("synced with Bulutfon"), "{log}");
    assert!(!log.contains(TOKEN), "the token is in the log");
}

#[test]
fn a_call_whose_hang_up_was_lost_is_closed_by_its_record() {
    let work = Workdir::new();
    let data = work.data_dir();
    let api = StandIn::with_records(Vec::new(), 10, Default::default());
    let server = Server::start(&data);
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    // Two calls that started 20 minutes ago and were never heard of again; one names its
    // record's dated address (as the 2021 documentation's events do).
    let start = |uuid: &str, extra: Value| {
        let mut body = event_json("call_init", uuid, 905321112233, 908508850000, "IN", (now_s as u64 - 1200) * 1_000_000);
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        server.post_json(&body.to_string()).expect_accepted();
    };
    let lost = "5a1e0000-0000-4000-8000-000000000001";
    let dated = "5a1e0000-0000-4000-8000-000000000002";
    start(lost, serde_json::json!({}));
    start(dated, serde_json::json!({"cdr_api_url": format!("https://api.bulutfon.com/v2/cdr/2026/11/30/{dated}")}));
    for uuid in [lost, dated] {
        let mut record = generated_record(1);
        record["uuid"] = uuid.into();
        record["caller"] = 905321112233u64.into();
        api.add_detail(serde_json::json!({"cdr": record}));
    }
    assert!(history(&data, &[]).iter().all(|c| c["state"] == "ringing"), "{:?}", history(&data, &[]));

    let report = sync_json(&data, &api);
    assert_eq!(report["closed"], 2, "{report}");
    assert_eq!(api.count(&format!("/cdrs/{lost}")), 1, "{:?}", api.seen());
    assert_eq!(api.count(&format!("/v2/cdr/2026/11/30/{dated}")), 1, "{:?}", api.seen());
    for uuid in [lost, dated] {
        let call = show(&data, uuid);
        assert_eq!(call["state"], "answered", "{call}");
        assert_eq!(call["sources"], serde_json::json!(["webhook", "api"]));
    }
    // Not asked again: they are closed.
    api.clear_seen();
    let again = sync_json(&data, &api);
    assert_eq!(again["closed"], 0);
    assert!(api.seen().iter().all(|s| !s.path.contains("5a1e")), "{:?}", api.seen());
    drop(server);
}

#[test]
fn a_slow_or_failing_api_never_holds_up_webhooks() {
    let work = Workdir::new();
    let data = work.data_dir();
    let api = StandIn::start();
    // Every request answers late, past Kanca's timeout, while webhooks arrive.
    api.fail_next((0..40).map(|_| Failure::Slow(Duration::from_secs(5))));
    let mut env = api.env();
    env.push(("KANCA_BULUTFON_TIMEOUT", "2".to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with_env(&data, Creds::Env, &[], &env);
    wait_until("the first sync under way", Duration::from_secs(20), || (!api.seen().is_empty()).then_some(()));
    for i in 0..20u64 {
        server.post_json(&event_json("call_init", &format!("during-{i}"), 905320000000 + i, 908508850000, "IN", 1_700_000_000_000_000 + i).to_string()).expect_accepted();
    }
    // Every delivery was acknowledged while the API had not answered anything yet.
    assert_eq!(api.answered(), 0, "the webhooks waited for the API: {:?}", api.seen());
    assert_eq!(history(&data, &["--limit", "50"]).len(), 20);
    server.wait_for_line("Bulutfon API: Bulutfon's API cannot be reached", 0, Duration::from_secs(60));
}
