//! Engine integration tests: the router driven through `oneshot` (no port), and the real
//! listener over TCP for timeouts and shutdown.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use kanca_core::history::{self, Query};
use kanca_core::listener::{router, ListenerState, Timeouts};
use kanca_core::{Credentials, Engine};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

struct Harness {
    _dir: tempfile::TempDir,
    engine: Engine,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        Harness { _dir: dir, engine }
    }

    fn state(&self) -> ListenerState {
        self.engine.listener_state(Timeouts::default())
    }

    fn auth(&self) -> String {
        self.engine.credentials().header_value()
    }

    async fn post(&self, content_type: &str, body: impl Into<Body>) -> (StatusCode, Value) {
        self.send(
            Request::post("/webhook")
                .header(header::AUTHORIZATION, self.auth())
                .header(header::CONTENT_TYPE, content_type)
                .body(body.into())
                .unwrap(),
        )
        .await
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = router(self.state()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn calls(&self, q: Query) -> Vec<kanca_core::Call> {
        let q = Query { limit: 100, ..q };
        self.engine.store().read(move |c| history::search(c, &q)).await.unwrap().calls
    }

    async fn event_count(&self) -> i64 {
        self.engine
            .store()
            .read(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?))
            .await
            .unwrap()
    }
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).unwrap()
}

#[tokio::test]
async fn every_documented_event_is_stored() {
    let h = Harness::new();
    for dir in ["seed", "documented-2021"] {
        for entry in std::fs::read_dir(format!("{FIXTURES}/{dir}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let (status, body) = h.post("application/json; charset=utf-8", std::fs::read(&path).unwrap()).await;
            assert_eq!(status, StatusCode::OK, "{}: {body}", path.display());
            assert!(matches!(body["status"].as_str(), Some("stored" | "duplicate")), "{body}");
        }
    }
    let calls = h.calls(Query::default()).await;
    assert_eq!(calls.len(), 2, "one call and one fax");
    let call = calls.iter().find(|c| c.uuid == "f615986c-2001-11e5-bdee-6599352d46ce").unwrap();
    let route: Vec<_> = call.route.iter().map(|r| r.destination.as_str()).collect();
    assert_eq!(route, ["10", "111", "1000"]);
    assert_eq!(call.duration_s, Some(35));
    // The raw body is kept verbatim, duplicate key and all.
    let raw: Vec<u8> = h
        .engine
        .store()
        .read(|c| Ok(c.query_row("SELECT raw FROM events WHERE received_type = 'call_hangup' AND timestamp_us = 1614261582000000", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(raw, fixture("documented-2021/call_hangup.json"));
}

#[tokio::test]
async fn form_and_json_give_the_same_call() {
    let json_h = Harness::new();
    let form_h = Harness::new();
    json_h.post("application/json", fixture("seed/call_init.json")).await;
    json_h.post("application/json", fixture("seed/call_hangup.json")).await;
    form_h
        .post(
            "application/x-www-form-urlencoded",
            "event_type=call_init&caller=90532000000&callee=908508850000&uuid=f615986c-2001-11e5-bdee-6599352d46ce&direction=IN&timestamp=1435762851086820",
        )
        .await;
    let hangup = "event_type=call_hangup&caller=90532000000&callee=908508850000&uuid=f615986c-2001-11e5-bdee-6599352d46ce\
        &timestamp=1435762855286302&hangup_cause=NORMAL_CLEARING&direction=IN\
        &cdr%5Buuid%5D=f615986c-2001-11e5-bdee-6599352d46ce&cdr%5Bbf_calltype%5D=voice&cdr%5Bbf_direction%5D=IN\
        &cdr%5Bbf_caller%5D=905326200000&cdr%5Bbf_callee%5D=908508850000&cdr%5Bcall_time%5D=2015-07-01T18%3A00%3A51%2B03%3A00\
        &cdr%5Banswer_time%5D=2015-07-01T18%3A00%3A51%2B03%3A00&cdr%5Bhangup_time%5D=2015-07-01T18%3A00%3A55%2B03%3A00\
        &cdr%5Bcall_record%5D=false&cdr%5Bhangup_cause%5D=NORMAL_CLEARING&cdr%5Bsip_hangup_disposition%5D=recv_bye\
        &cdr%5Bcallflow%5D%5B0%5D%5Bcallee%5D=908508850000&cdr%5Bcallflow%5D%5B0%5D%5Bstart_time%5D=2015-07-01T18%3A00%3A51%2B03%3A00\
        &cdr%5Bcallflow%5D%5B0%5D%5Banswer_time%5D=&cdr%5Bcallflow%5D%5B0%5D%5Bhangup_time%5D=\
        &cdr%5Bcallflow%5D%5B0%5D%5Bredirection%5D=REDIRECTED_TO_MENU&cdr%5Bcallflow%5D%5B0%5D%5Bredirection_target%5D=99\
        &cdr%5Bcallflow%5D%5B1%5D%5Bcallee%5D=99&cdr%5Bcallflow%5D%5B1%5D%5Bstart_time%5D=2015-07-01T18%3A00%3A51%2B03%3A00\
        &cdr%5Bcallflow%5D%5B1%5D%5Banswer_time%5D=2015-07-01T18%3A00%3A51%2B03%3A00\
        &cdr%5Bcallflow%5D%5B1%5D%5Bhangup_time%5D=2015-07-01T18%3A00%3A55%2B03%3A00&cdr%5Bcallflow%5D%5B1%5D%5Bredirection%5D=CONNECTING_TO_MENU";
    let (status, body) = form_h.post("application/x-www-form-urlencoded; charset=UTF-8", hangup).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json_h.calls(Query::default()).await, form_h.calls(Query::default()).await);
    let uuid = "f615986c-2001-11e5-bdee-6599352d46ce";
    let a = json_h.engine.store().read(move |c| history::get_call(c, uuid)).await.unwrap().unwrap();
    let b = form_h.engine.store().read(move |c| history::get_call(c, uuid)).await.unwrap().unwrap();
    assert_eq!(a.call, b.call);
    assert_eq!(b.call.callflow.len(), 2);
    assert_eq!(b.call.recorded, Some(false));
}

#[tokio::test]
async fn bad_requests_get_reasons_and_store_nothing() {
    let h = Harness::new();
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (Request::post("/webhook").header(header::CONTENT_TYPE, "application/json").body(Body::from(fixture("seed/call_init.json"))).unwrap(), StatusCode::UNAUTHORIZED, "unauthorized"),
        (
            Request::post("/webhook")
                .header(header::AUTHORIZATION, Credentials { user: "bulutfon".into(), password: "wrong".into() }.header_value())
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(fixture("seed/call_init.json")))
                .unwrap(),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (Request::post("/webhook").header(header::AUTHORIZATION, "Bearer x").body(Body::from("{}")).unwrap(), StatusCode::UNAUTHORIZED, "unauthorized"),
    ];
    for (req, status, code) in cases {
        let (s, body) = h.send(req).await;
        assert_eq!(s, status);
        assert_eq!(body["error"]["code"], code);
    }
    let resp = router(h.state())
        .oneshot(Request::post("/webhook").body(Body::from("{}")).unwrap())
        .await
        .unwrap();
    assert!(resp.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Basic realm="));

    let json = "application/json";
    for (ct, body, status, code) in [
        (json, "{\"event_type\":", StatusCode::BAD_REQUEST, "invalid_json"),
        (json, "[1,2]", StatusCode::BAD_REQUEST, "not_an_object"),
        (json, r#"{"uuid":"x"}"#, StatusCode::BAD_REQUEST, "missing_field"),
        (json, r#"{"event_type":"call_init"}"#, StatusCode::BAD_REQUEST, "missing_field"),
        (json, "", StatusCode::BAD_REQUEST, "empty_body"),
        ("text/html", "<p>hi</p>", StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_content_type"),
        (
            "application/x-www-form-urlencoded; charset=klingon",
            "event_type=call_init&uuid=k",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_charset",
        ),
        ("application/x-www-form-urlencoded", "caller=1&callee=2", StatusCode::BAD_REQUEST, "missing_field"),
    ] {
        let (s, b) = h.post(ct, body).await;
        assert_eq!(s, status, "{body}: {b}");
        assert_eq!(b["error"]["code"], code, "{body}");
        assert!(b["error"]["message"].as_str().unwrap().len() > 5);
    }
    let big = format!(r#"{{"event_type":"call_init","uuid":"big","pad":"{}"}}"#, "x".repeat(70 * 1024));
    let (s, b) = h.post(json, big.clone()).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(b["error"]["code"], "payload_too_large");
    // Without a Content-Length (chunked), the limit still holds.
    let stream = futures_stream(big.into_bytes());
    let (s, _) = h.post(json, stream).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(h.event_count().await, 0);
    let (s, _) = h.send(Request::get("/webhook").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
}

/// A JSON call_init POSTed to `path` with no Authorization header.
fn post_without_auth(path: &str, uuid: &str) -> Request<Body> {
    let body = format!(r#"{{"event_type":"call_init","uuid":"{uuid}","caller":"905324445566","callee":"908508850000","direction":"IN","timestamp":1700000000000000}}"#);
    Request::post(path).header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn the_secret_url_needs_no_basic_auth() {
    let h = Harness::new();
    let secret = h.engine.keys().secret.clone();
    let (s, b) = h.send(post_without_auth(&format!("/webhook/{}", secret.as_str()), "secret-1")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "stored");
    assert_eq!(h.calls(Query::default()).await.len(), 1);
}

#[tokio::test]
async fn a_wrong_secret_is_an_unknown_path_and_stores_nothing() {
    let h = Harness::new();
    let secret = h.engine.keys().secret.as_str().to_owned();
    let mut near = secret.clone().into_bytes();
    near[31] = if near[31] == b'A' { b'B' } else { b'A' };
    let near = String::from_utf8(near).unwrap();
    let (_, unknown) = h.send(post_without_auth("/no-such-endpoint", "x")).await;
    for path in [
        format!("/webhook/{near}"),
        format!("/webhook/{}", &secret[..31]),
        format!("/webhook/{secret}x"),
        format!("/webhook/{}", secret.to_uppercase()),
        format!("/webhook/{secret}/"),
        "/webhook/".to_string(),
        format!("/webhook/%{:02X}{}", secret.as_bytes()[0], &secret[1..]),
    ] {
        // With valid basic auth too: a wrong URL secret is not rescued by the other key.
        let mut req = post_without_auth(&path, "wrong-secret");
        req.headers_mut().insert(header::AUTHORIZATION, h.auth().parse().unwrap());
        let (s, b) = h.send(req).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(b, unknown, "{path}: the answer must not differ from an unknown path's");
    }
    assert_eq!(h.event_count().await, 0);
}

#[tokio::test]
async fn without_a_secret_segment_basic_auth_rules_apply() {
    let h = Harness::new();
    let (s, b) = h.send(post_without_auth("/webhook", "no-auth")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"]["code"], "unauthorized");
    assert_eq!(h.event_count().await, 0);
    let (s, _) = h.post("application/json", r#"{"event_type":"call_init","uuid":"with-auth"}"#).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn rotation_invalidates_the_old_url_at_once() {
    let h = Harness::new();
    let app = router(h.state());
    let old = h.engine.keys().secret.clone();
    let (s, _) = h.send(post_without_auth(&format!("/webhook/{}", old.as_str()), "before")).await;
    assert_eq!(s, StatusCode::OK);
    let new = h.engine.rotate_secret().unwrap().secret.clone();
    assert_ne!(new, old);
    // The router built before the rotation is the one a running listener keeps serving.
    let resp = app.clone().oneshot(post_without_auth(&format!("/webhook/{}", old.as_str()), "after-old")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = app.oneshot(post_without_auth(&format!("/webhook/{}", new.as_str()), "after-new")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let uuids: Vec<String> = h.calls(Query::default()).await.into_iter().map(|c| c.uuid).collect();
    assert_eq!(uuids.len(), 2, "{uuids:?}");
    assert!(!uuids.contains(&"after-old".to_string()), "{uuids:?}");
}

#[tokio::test]
async fn a_rotation_written_by_another_process_applies_to_the_next_request() {
    let h = Harness::new();
    let app = router(h.state());
    let old = h.engine.keys().secret.clone();
    // `kanca credentials --rotate-secret` only writes config.toml.
    let new = kanca_core::config::rotate_secret(h.engine.data_dir()).unwrap();
    let resp = app.clone().oneshot(post_without_auth(&format!("/webhook/{}", old.as_str()), "old")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = app.oneshot(post_without_auth(&format!("/webhook/{}", new.as_str()), "new")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

fn futures_stream(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(8192).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(tokio_stream_iter(chunks))
}

/// A stream over a vector without pulling in a stream crate.
fn tokio_stream_iter<T: Send + 'static>(items: Vec<T>) -> impl futures_core::Stream<Item = T> + Send {
    struct Iter<T>(std::vec::IntoIter<T>);
    impl<T> futures_core::Stream for Iter<T> {
        type Item = T;
        fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    impl<T> Unpin for Iter<T> {}
    Iter(items.into_iter())
}

#[tokio::test]
async fn health_needs_no_auth_and_says_nothing() {
    let h = Harness::new();
    let (s, body) = h.send(Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn unknown_event_types_are_kept() {
    let h = Harness::new();
    let (s, b) = h.post("application/json", r#"{"event_type":"call_transfer","uuid":"t1","caller":"905324445566","timestamp":1700000000000000,"new_field":[1,2]}"#).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["event_type"], "call_transfer");
    assert_eq!(h.event_count().await, 1);
    let raw: String = h
        .engine
        .store()
        .read(|c| Ok(c.query_row("SELECT CAST(raw AS TEXT) FROM events", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert!(raw.contains("new_field"));
}

#[tokio::test]
async fn redeliveries_at_the_same_moment_are_stored_once() {
    let h = Harness::new();
    let body = fixture("seed/call_init_group.json");
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let app = router(h.state());
        let req = Request::post("/webhook")
            .header(header::AUTHORIZATION, h.auth())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        tasks.push(tokio::spawn(async move { app.oneshot(req).await.unwrap().status() }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(h.event_count().await, 1);
}

#[tokio::test]
async fn storage_failure_is_a_5xx_the_sender_can_retry() {
    let h = Harness::new();
    // Break the database behind the engine's back.
    let path = h.engine.store().path().to_owned();
    rusqlite_exec(&path, "DROP TABLE events");
    let (s, b) = h.post("application/json", fixture("seed/call_init.json")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert_eq!(b["error"]["code"], "storage_unavailable");
    // Internals are not sent to the caller.
    assert!(!b.to_string().contains("events"), "{b}");
}

fn rusqlite_exec(path: &std::path::Path, sql: &str) {
    let conn = kanca_core::store::Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[tokio::test]
async fn changes_are_published_to_subscribers() {
    let h = Harness::new();
    let mut rx = h.engine.subscribe();
    h.post("application/json", fixture("seed/call_init.json")).await;
    h.post("application/json", fixture("seed/call_init_menu.json")).await;
    let first = rx.recv().await.unwrap();
    let second = rx.recv().await.unwrap();
    assert_eq!(first.event_type, "call_init");
    assert_eq!(second.call.route.len(), 1);
    // A redelivery changes nothing and publishes nothing.
    h.post("application/json", fixture("seed/call_init_menu.json")).await;
    assert!(rx.try_recv().is_err());
}

/// A client that sends half a request head and stalls is cut off; others are still served.
#[tokio::test]
async fn stalled_clients_are_timed_out() {
    let h = Harness::new();
    let timeouts = Timeouts { header: Duration::from_millis(300), body: Duration::from_millis(300), request: Duration::from_secs(5) };
    let listener = h.engine.start_listener_with("127.0.0.1:0".parse().unwrap(), timeouts).await.unwrap();
    let addr = listener.addr;

    let mut stalled_head = tokio::net::TcpStream::connect(addr).await.unwrap();
    stalled_head.write_all(b"POST /webhook HTTP/1.1\r\nHost: x\r\n").await.unwrap();

    let mut stalled_body = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"event_type\":",
        h.auth()
    );
    stalled_body.write_all(head.as_bytes()).await.unwrap();

    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stalled_head.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the stalled head was not cut off");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stalled_body.read_to_end(&mut buf)).await.expect("stalled body not cut off");
    let answer = String::from_utf8_lossy(&buf);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut buf = Vec::new();
    ok.read_to_end(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
    listener.shutdown().await;
    assert_eq!(h.event_count().await, 0);
}

#[tokio::test]
async fn port_in_use_is_explained() {
    let h = Harness::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = h.engine.start_listener(taken.local_addr().unwrap()).await.err().unwrap();
    assert!(err.to_string().contains("already uses this port"), "{err}");
    // Printed with its chain (as `kanca serve` does), the OS error appears once.
    let mut chained = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(e) = source {
        chained += &format!(": {e}");
        source = e.source();
    }
    assert_eq!(chained.matches("os error").count(), 1, "{chained}");
}

#[tokio::test]
async fn a_file_given_by_content_imports_like_one_given_by_path() {
    let h = Harness::new();
    let bytes = std::fs::read(format!("{FIXTURES}/contacts/outlook-1254.csv")).unwrap();
    let first = h.engine.import_contact_bytes("outlook-1254.csv".into(), bytes.clone()).await.unwrap();
    assert!(first.added > 0, "{first:?}");
    let again = h.engine.import_contact_bytes("outlook-1254.csv".into(), bytes).await.unwrap();
    assert_eq!((again.added, again.updated), (0, 0), "re-import adds nothing: {again:?}");
    let by_path = h.engine.import_contacts(vec![format!("{FIXTURES}/contacts/outlook-1254.csv").into()]).await.unwrap();
    assert_eq!((by_path.added, by_path.updated), (0, 0), "{by_path:?}");
    // Not a contacts file: reported, nothing stored.
    let junk = h.engine.import_contact_bytes("photo.jpg".into(), vec![0xFF, 0xD8, 0, 0, 1, 2]).await.unwrap();
    assert_eq!(junk.added, 0);
    assert!(junk.skipped[0].place.contains("photo.jpg"), "{junk:?}");
}
