//! Office mode, the receiver's side: `kanca serve --office` serves paired desks over TLS; a
//! desk without a pairing, or with a revoked one, is refused; a desk's stream of changes resumes
//! after the last event it saw, sending each missed event exactly once; a note written by one
//! desk reaches the others at once.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use kanca_tests::*;
use serde_json::Value;

/// The receiver with its client API on a free loopback port: (server, "127.0.0.1:PORT", fingerprint).
fn receiver(data: &std::path::Path) -> (Server, String, String) {
    let server = Server::start_with_args(data, Creds::Env, &["--office", "127.0.0.1:0"]);
    let (_, line) = server.wait_for_line("Office client API: ", 0, Duration::from_secs(30));
    let rest = line.split("Office client API: ").nth(1).unwrap();
    let addr = rest.split(' ').next().unwrap().to_owned();
    let fp = rest.split("fingerprint ").nth(1).unwrap().trim_end_matches(')').to_owned();
    (server, addr, fp)
}

/// Pair a desk: the pairing code's fields.
fn pair(data: &std::path::Path, name: &str, addr: &str) -> Value {
    let out = kanca_ok(data, &["clients", "add", name, "--address", addr, "--json"]);
    let made: Value = serde_json::from_str(out.trim()).unwrap();
    let code = made["code"].as_str().unwrap();
    let body = code.strip_prefix("KANCA1-").expect("a pairing code");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap()
}

/// A TLS client for the receiver. It does not verify the certificate: pinning is the desk's
/// job; here the fingerprint is compared with what the receiver printed.
fn agent() -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder().disable_verification(true).build();
    ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).timeout_global(Some(Duration::from_secs(20))).build().into()
}

fn get(addr: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = agent().get(format!("https://{addr}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut resp = req.call().unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// One Server-Sent Event: (event, id, data).
type Sse = (String, Option<String>, String);

/// The stream of changes, read on a thread into a channel.
fn stream(addr: &str, token: &str, last_id: Option<&str>) -> mpsc::Receiver<Sse> {
    let tls = ureq::tls::TlsConfig::builder().disable_verification(true).build();
    // No overall timeout: the stream stays open.
    let streaming: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let mut req = streaming.get(format!("https://{addr}/v1/events")).header("Authorization", format!("Bearer {token}"));
    if let Some(id) = last_id {
        req = req.header("Last-Event-ID", id);
    }
    let resp = req.call().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(resp.into_body().into_reader());
        let (mut event, mut id, mut data) = (String::from("message"), None, String::new());
        for line in reader.lines() {
            let Ok(line) = line else { break };
            if line.is_empty() {
                if !data.is_empty() && tx.send((std::mem::replace(&mut event, "message".into()), id.take(), std::mem::take(&mut data))).is_err() {
                    break;
                }
                continue;
            }
            if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("id:") {
                id = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
    });
    rx
}

/// The next `n` change events, in order: (event id, call uuid).
fn changes(rx: &mpsc::Receiver<Sse>, n: usize) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    while out.len() < n {
        let (event, id, data) = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("only {} of {n} changes arrived: {out:?}", out.len()));
        if event != "change" {
            continue;
        }
        let change: Value = serde_json::from_str(&data).unwrap();
        out.push((id.unwrap().parse().unwrap(), change["call"]["uuid"].as_str().unwrap().to_owned()));
    }
    out
}

fn call(server: &Server, uuid: &str, i: u64) {
    server.post_json(&event_json("call_init", uuid, 905320000000 + i, 908508850000, "IN", 1_700_000_000_000_000 + i * 1_000_000).to_string()).expect_accepted();
}

#[test]
fn desks_need_a_pairing_and_a_revoked_one_is_refused() {
    let work = Workdir::new();
    let data = work.data_dir();
    let (server, addr, fp) = receiver(&data);
    let pairing = pair(&data, "Resepsiyon", &addr);
    assert_eq!(pairing["fp"], fp.as_str(), "the code pins the certificate the receiver serves");
    assert_eq!(pairing["addr"], addr.as_str());
    let token = pairing["token"].as_str().unwrap().to_owned();
    call(&server, "office-1", 1);

    assert_eq!(get(&addr, "/v1/health", None).0, 200);
    let (status, body) = get(&addr, "/v1/calls?limit=10", None);
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
    assert_eq!(get(&addr, "/v1/calls", Some("not-a-token")).0, 401);
    let (status, page) = get(&addr, "/v1/calls?limit=10&text=905320000001", Some(&token));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["calls"][0]["uuid"], "office-1", "{page}");
    let (status, detail) = get(&addr, "/v1/calls/office-1", Some(&token));
    assert_eq!((status, detail["uuid"].as_str(), detail["events"].as_array().map(Vec::len)), (200, Some("office-1"), Some(1)));
    let listed = kanca_ok(&data, &["clients", "list", "--json"]);
    let desk: Value = serde_json::from_str(listed.trim()).unwrap();
    assert_eq!((desk["name"].as_str(), desk["revoked"].as_bool()), (Some("Resepsiyon"), Some(false)));
    assert!(desk["last_seen"].is_string(), "{desk}");

    kanca_ok(&data, &["clients", "revoke", "Resepsiyon"]);
    assert_eq!(get(&addr, "/v1/calls", Some(&token)).0, 401, "a revoked desk is refused at once");
    // The token is kept hashed: it is nowhere in the database file.
    let db = std::fs::read(data.join("kanca.db")).unwrap();
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()));
}

#[test]
fn a_desk_away_for_a_while_catches_up_exactly_once() {
    let work = Workdir::new();
    let data = work.data_dir();
    let (server, addr, _) = receiver(&data);
    let token = pair(&data, "Muhasebe", &addr)["token"].as_str().unwrap().to_owned();
    let live = stream(&addr, &token, None);
    for i in 0..3 {
        call(&server, &format!("before-{i}"), i);
    }
    let seen = changes(&live, 3);
    assert_eq!(seen.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(), ["before-0", "before-1", "before-2"]);
    drop(live);

    // Away: five calls arrive meanwhile.
    for i in 0..5 {
        call(&server, &format!("away-{i}"), 10 + i);
    }
    let last = seen.last().unwrap().0.to_string();
    let back = stream(&addr, &token, Some(&last));
    call(&server, "after-0", 20);
    let caught = changes(&back, 6);
    let uuids: Vec<&str> = caught.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(uuids, ["away-0", "away-1", "away-2", "away-3", "away-4", "after-0"], "each missed event once, in order, then live");
    assert!(caught.windows(2).all(|w| w[0].0 < w[1].0), "ids increase: {caught:?}");
    // Nothing more: no event is sent twice.
    let extra = back.recv_timeout(Duration::from_millis(500)).ok().filter(|e| e.0 == "change");
    assert_eq!(extra, None);

    // The journal a new desk copies: every stored event with its body as received, a page at a
    // time after a given id.
    let (status, page) = get(&addr, "/v1/journal?after=0&limit=4", Some(&token));
    assert_eq!(status, 200, "{page}");
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    let body = base64::engine::general_purpose::STANDARD.decode(events[0]["body"].as_str().unwrap()).unwrap();
    let first: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(first["uuid"], "before-0", "the raw body as posted");
    let after = events[3]["id"].as_i64().unwrap();
    let (_, rest) = get(&addr, &format!("/v1/journal?after={after}"), Some(&token));
    assert_eq!(rest["events"].as_array().map(Vec::len), Some(5), "the other five, none twice: {rest}");
}

#[test]
fn a_note_written_at_one_desk_reaches_the_others() {
    let work = Workdir::new();
    let data = work.data_dir();
    let (server, addr, _) = receiver(&data);
    let a = pair(&data, "Masa A", &addr)["token"].as_str().unwrap().to_owned();
    let b = pair(&data, "Masa B", &addr)["token"].as_str().unwrap().to_owned();
    call(&server, "noted", 1);
    let at_b = stream(&addr, &b, None);
    let resp = agent()
        .put(format!("https://{addr}/v1/calls/noted/note"))
        .header("Authorization", format!("Bearer {a}"))
        .header("Content-Type", "application/json")
        .send(serde_json::json!({"note": "Geri aranacak <b>yarın</b>"}).to_string())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // The stream first says it is live (nothing to replay), and may bring the call's own change
    // (stored a moment before desk B subscribed); then the note.
    let (event, _, data) = std::iter::from_fn(|| at_b.recv_timeout(Duration::from_secs(10)).ok()).find(|e| e.0 != "live" && e.0 != "change").expect("the note at desk B");
    assert_eq!(event, "call");
    let call: Value = serde_json::from_str(&data).unwrap();
    assert_eq!((call["uuid"].as_str(), call["note"].as_str()), (Some("noted"), Some("Geri aranacak <b>yarın</b>")));
}

/// The bytes of `path` at the receiver: (status, body).
fn get_bytes(addr: &str, path: &str, token: &str) -> (u16, Vec<u8>) {
    let mut resp = agent().get(format!("https://{addr}{path}")).header("Authorization", format!("Bearer {token}")).call().unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_vec().unwrap_or_default())
}

#[test]
fn desks_play_recordings_and_show_faxes_through_the_receiver() {
    let api = kanca_tests::bulutfon::StandIn::start();
    let work = Workdir::new();
    let data = work.data_dir();
    let env = api.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with_env(&data, Creds::Env, &["--office", "127.0.0.1:0"], &env);
    let (_, line) = server.wait_for_line("Office client API: ", 0, Duration::from_secs(30));
    let addr = line.split("Office client API: ").nth(1).unwrap().split(' ').next().unwrap().to_owned();
    let token = pair(&data, "Resepsiyon", &addr)["token"].as_str().unwrap().to_owned();
    let (status, office) = get(&addr, "/v1/office", Some(&token));
    assert_eq!((status, office["media"].as_bool()), (200, Some(true)), "{office}");
    assert_eq!(office["phone_book"], true, "a receiver on SQLite shares its phone book: {office}");
    let uuid = "0b0b0000-0000-4000-8000-000000000001";
    let (status, wav) = get_bytes(&addr, &format!("/v1/media/recording/{uuid}"), &token);
    assert_eq!(status, 200);
    assert_eq!(&wav[..4], b"RIFF", "the recording as Bulutfon gave it");
    let (status, tiff) = get_bytes(&addr, &format!("/v1/media/fax/{uuid}"), &token);
    assert_eq!(status, 200);
    assert!(tiff.starts_with(b"II*\0") || tiff.starts_with(b"MM\0*"), "the fax document (TIFF)");
    // Cached by the receiver: asking again does not reach Bulutfon again.
    get_bytes(&addr, &format!("/v1/media/recording/{uuid}"), &token);
    assert_eq!(api.count(&format!("/call-records/{uuid}")), 1, "{:?}", api.seen());
    assert_eq!(get_bytes(&addr, "/v1/media/recording/not%20a%20uuid", &token).0, 400);
    assert_eq!(get_bytes(&addr, &format!("/v1/media/recording/{uuid}"), "wrong").0, 401);

    // A receiver without Bulutfon's API says so, and desks offer no media.
    let bare = Workdir::new();
    let (_server, bare_addr, _) = receiver(&bare.data_dir());
    let bare_token = pair(&bare.data_dir(), "Resepsiyon", &bare_addr)["token"].as_str().unwrap().to_owned();
    assert_eq!(get(&bare_addr, "/v1/office", Some(&bare_token)).1["media"].as_bool(), Some(false));
    let (status, body) = get(&bare_addr, &format!("/v1/media/recording/{uuid}"), Some(&bare_token));
    assert_eq!((status, body["error"].as_str()), (409, Some("no_api")));
}
