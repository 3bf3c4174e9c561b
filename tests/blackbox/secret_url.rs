//! The one-paste webhook URL (`/webhook/{secret}`) against a real `kanca serve`: it stores
//! without basic auth; a wrong or missing secret stores nothing; `kanca credentials
//! --rotate-secret`, run beside the server, turns the old URL off at once and the new one on
//! without a restart; the secret is never printed by `serve` nor logged.

use std::time::Duration;

use kanca_tests::*;
use serde_json::Value;

const JSON: &str = "application/json";

fn credentials(data: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["credentials", "--json"];
    args.extend_from_slice(extra);
    let out = kanca_ok(data, &args);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("credentials --json: {e}: {out:?}"))
}

fn secret_of(creds: &Value) -> String {
    creds["secret"].as_str().unwrap_or_else(|| panic!("no secret in {creds}")).to_string()
}

fn event(uuid: &str, n: u64) -> String {
    event_json("call_init", uuid, 905324445566, 908508850000, "IN", 1_700_000_000_000_000 + n).to_string()
}

#[test]
fn the_secret_url_needs_no_auth_and_rotation_from_the_cli_replaces_it_at_once() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start_with(&data, Creds::Config);
    let creds = credentials(&data, &[]);
    let old = secret_of(&creds);
    assert_eq!(old.len(), 32, "{creds}");
    assert_eq!(creds["form"], "url_secret", "a new install shows the one-paste URL: {creds}");
    assert!(creds["secret_url"].as_str().unwrap().ends_with(&format!("/webhook/{old}")), "{creds}");

    server.post_to(&format!("/webhook/{old}"), JSON, &event("secret-1", 1), None).expect_accepted();

    // Wrong secrets, and no secret without basic auth, store nothing.
    let mut wrong = old.clone().into_bytes();
    wrong[0] = if wrong[0] == b'a' { b'b' } else { b'a' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert_eq!(server.post_to(&format!("/webhook/{wrong}"), JSON, &event("wrong-1", 2), None).expect_error(404)["error"]["code"], "not_found");
    server.post_to("/webhook/", JSON, &event("wrong-2", 3), None).expect_error(404);
    server.post_to("/webhook", JSON, &event("wrong-3", 4), None).expect_error(401);
    assert_eq!(history_uuids(&data, &[]), ["secret-1"]);

    // Rotated by another process while the server runs.
    let rotated = credentials(&data, &["--rotate-secret"]);
    let new = secret_of(&rotated);
    assert_ne!(new, old);
    assert_eq!(rotated["user"], creds["user"]);
    assert_eq!(rotated["password"], creds["password"], "rotation leaves the password alone");
    server.post_to(&format!("/webhook/{old}"), JSON, &event("after-rotation-old", 5), None).expect_error(404);
    assert_eq!(history_uuids(&data, &[]), ["secret-1"], "the old URL stored something after rotation");
    server.post_to(&format!("/webhook/{new}"), JSON, &event("after-rotation-new", 6), None).expect_accepted();

    // Basic auth keeps working beside it.
    let (user, password) = (creds["user"].as_str().unwrap(), creds["password"].as_str().unwrap());
    server.post_to("/webhook", JSON, &event("basic-1", 7), Some((user, password))).expect_accepted();
    let mut stored = history_uuids(&data, &[]);
    stored.sort();
    assert_eq!(stored, ["after-rotation-new", "basic-1", "secret-1"]);

    // Neither secret is on the server's stdout or in its log.
    let (_, line) = server.wait_for_line("One-paste URL", 0, Duration::from_secs(5));
    assert!(line.contains("kanca credentials"), "{line}");
    let log = server.log_text();
    for s in [&old, &new, &wrong] {
        assert!(!line.contains(s.as_str()) && !log.contains(s.as_str()), "a secret was printed:\n{line}\n{log}");
    }
}

#[test]
fn self_test_posts_in_the_chosen_form() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start_with(&data, Creds::Config);
    let secret = secret_of(&credentials(&data, &[]));
    let base = server.base_url();
    let self_test = || {
        let out = kanca(&data, &["self-test", "--json", "--url", &base]);
        let result: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        assert!(out.status.success(), "{result}");
        result
    };
    assert_eq!(self_test()["url"], format!("{base}/webhook/{secret}"));
    // The text output does not show the secret.
    let text = kanca_ok(&data, &["self-test", "--url", &base]);
    assert!(text.starts_with("OK") && !text.contains(&secret), "{text}");

    assert_eq!(credentials(&data, &["--form", "basic-auth"])["form"], "basic_auth");
    assert_eq!(self_test()["url"], format!("{base}/webhook"));
    drop(server);
}

#[test]
fn a_secret_from_the_environment_wins_and_cannot_be_rotated() {
    let work = Workdir::new();
    let data = work.data_dir();
    let env_secret = "Env-Secret_0123456789abcdefghijk";
    let out = kanca_env(&data, &["credentials", "--json"], &[("KANCA_WEBHOOK_SECRET", env_secret)]);
    assert!(out.status.success(), "{out:?}");
    let creds: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(creds["secret"], env_secret);
    assert_eq!(creds["secret_source"], "environment");

    let out = kanca_env(&data, &["credentials", "--rotate-secret"], &[("KANCA_WEBHOOK_SECRET", env_secret)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("KANCA_WEBHOOK_SECRET"), "{out:?}");

    let out = kanca_env(&data, &["credentials"], &[("KANCA_WEBHOOK_SECRET", "short")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 22 characters"), "{out:?}");
}
