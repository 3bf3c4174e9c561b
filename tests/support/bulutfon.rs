//! A stand-in for Bulutfon's REST API: an axum app on a loopback port that serves the
//! documented bodies (tests/fixtures/api), pages of call records, and, on demand, the ways the
//! real one can fail: 429, a 5xx, an answer slower than Kanca's timeout, an expired token,
//! malformed JSON. It records every request (the token replaced by whether it was right), so a
//! test can count what Kanca asked for. Kanca is pointed at it with `KANCA_BULUTFON_API_URL`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::fixture;

/// The token the stand-in accepts.
pub const TOKEN: &str = "kanca-test-api-token-5f2c9e";

/// What the next request gets instead of its answer.
#[derive(Debug, Clone)]
pub enum Failure {
    Status(u16),
    /// The real answer, after this long.
    Slow(Duration),
    Malformed,
    ExpiredToken,
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: &'static str,
    pub path: String,
    /// Query or form parameters, without the token.
    pub params: HashMap<String, String>,
    pub token_ok: bool,
}

#[derive(Default)]
struct Inner {
    records: Vec<Value>,
    per_page: usize,
    details: HashMap<String, Value>,
    failures: VecDeque<Failure>,
    /// Every page of /cdrs takes this long (a backfill a test can interrupt).
    page_delay: Duration,
    seen: Vec<Seen>,
    /// Answers sent back so far (a slow one counts once it has gone).
    answered: usize,
}

/// A running stand-in; stops with the test process.
#[derive(Clone)]
pub struct StandIn {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl StandIn {
    /// The documented records (tests/fixtures/api/cdrs-page-*.json) in pages of six, the
    /// documented detail for its uuid.
    pub fn start() -> StandIn {
        let mut records = Vec::new();
        for page in ["cdrs-page-1.json", "cdrs-page-2.json"] {
            let body: Value = serde_json::from_str(&fixture("api", page)).unwrap();
            records.extend(body["cdrs"].as_array().unwrap().iter().cloned());
        }
        let detail: Value = serde_json::from_str(&fixture("api", "cdr-detail.json")).unwrap();
        let mut details = HashMap::new();
        details.insert(detail["cdr"]["uuid"].as_str().unwrap().to_owned(), detail);
        StandIn::with_records(records, 6, details)
    }

    /// `records` (newest first) in pages of `per_page`.
    pub fn with_records(records: Vec<Value>, per_page: usize, details: HashMap<String, Value>) -> StandIn {
        let inner = Arc::new(Mutex::new(Inner { records, per_page, details, ..Default::default() }));
        let (tx, rx) = std::sync::mpsc::channel();
        let state = inner.clone();
        std::thread::Builder::new()
            .name("bulutfon-stand-in".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    tx.send(listener.local_addr().unwrap()).unwrap();
                    axum::serve(listener, app(state)).await.unwrap();
                });
            })
            .unwrap();
        let addr = rx.recv_timeout(Duration::from_secs(10)).expect("the stand-in API started");
        StandIn { addr, inner }
    }

    /// `count` generated incoming records, newest first, one minute apart, ending at
    /// 2026-11-28T12:00:00+03:00; every third one missed.
    pub fn generated(count: usize, per_page: usize) -> StandIn {
        StandIn::with_records((0..count).map(generated_record).collect(), per_page, HashMap::new())
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment that points `kanca` at this stand-in with its token.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("KANCA_BULUTFON_API_URL", self.base_url()), ("KANCA_BULUTFON_TOKEN", TOKEN.to_owned())]
    }

    pub fn fail_next(&self, failures: impl IntoIterator<Item = Failure>) {
        self.inner.lock().unwrap().failures.extend(failures);
    }

    pub fn set_page_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().page_delay = delay;
    }

    /// Put records in front (newer calls arrived).
    pub fn prepend(&self, records: Vec<Value>) {
        let mut inner = self.inner.lock().unwrap();
        let old = std::mem::take(&mut inner.records);
        inner.records = records.into_iter().chain(old).collect();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }

    /// How many requests went to `path`.
    pub fn count(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }

    /// How many answers have gone back.
    pub fn answered(&self) -> usize {
        self.inner.lock().unwrap().answered
    }

    pub fn clear_seen(&self) {
        self.inner.lock().unwrap().seen.clear();
    }
}

/// An incoming call record, `i` minutes before 2026-11-28T12:00:00+03:00.
pub fn generated_record(i: usize) -> Value {
    record_ending(i, 1_795_856_400 - (i as i64) * 60) // 2026-11-28T09:00:00Z
}

/// Record `i` (uuid and caller from `i`; every third one missed) of a call that ended at `end`
/// (seconds since the epoch), in Istanbul time as Bulutfon writes it.
pub fn record_ending(i: usize, end: i64) -> Value {
    let at = |t: i64| {
        let secs = t + 3 * 3600;
        let (d, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, dd) = civil(d);
        format!("{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}+03:00", s / 3600, s / 60 % 60, s % 60)
    };
    let missed = i.is_multiple_of(3);
    json!({
        "uuid": format!("0b0b0000-0000-4000-8000-{i:012}"), "bf_calltype": "voice", "direction": "IN",
        "caller": 905320000000u64 + i as u64, "callee": 908508850000u64,
        "call_time": at(end - 40), "answer_time": if missed { Value::Null } else { json!(at(end - 30)) }, "hangup_time": at(end),
        "missing_call": missed, "call_record": "NO", "hangup_cause": if missed { "ORIGINATOR_CANCEL" } else { "NORMAL_CLEARING" },
        "hangup_state": "recv_bye"
    })
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

type Shared = Arc<Mutex<Inner>>;

fn app(state: Shared) -> Router {
    Router::new()
        .route("/me", get(|s: State<Shared>, q: Params| fixed(s, q, "/me", "me.json")))
        .route("/extensions", get(|s: State<Shared>, q: Params| fixed(s, q, "/extensions", "extensions.json")))
        .route("/groups", get(|s: State<Shared>, q: Params| fixed(s, q, "/groups", "groups.json")))
        .route("/dids", get(|s: State<Shared>, q: Params| fixed(s, q, "/dids", "dids.json")))
        .route("/cdrs", get(cdrs))
        .route("/cdrs/{uuid}", get(cdr))
        .route("/v2/cdr/{y}/{m}/{d}/{uuid}", get(cdr_dated))
        .route("/call_and_bridge", post(call_and_bridge))
        .route("/call-records/{uuid}", get(recording))
        .route("/incoming-faxes/{uuid}", get(fax_document))
        // Not Bulutfon's: how many requests each path got, for a benchmark run from outside.
        .route("/_stats", get(stats))
        .with_state(state)
}

type Params = Query<HashMap<String, String>>;

/// Record the request; the failure it is to get, if any (the token checked first).
fn arrive(state: &Shared, method: &'static str, path: &str, mut params: HashMap<String, String>) -> (bool, Option<Failure>) {
    let token_ok = params.remove("access_token").as_deref() == Some(TOKEN);
    let mut inner = state.lock().unwrap();
    inner.seen.push(Seen { method, path: path.to_owned(), params, token_ok });
    let failure = inner.failures.pop_front();
    (token_ok, failure)
}

async fn answer(state: &Shared, token_ok: bool, failure: Option<Failure>, body: impl FnOnce() -> Response) -> Response {
    let response = answer_now(token_ok, failure, body).await;
    state.lock().unwrap().answered += 1;
    response
}

async fn answer_now(token_ok: bool, failure: Option<Failure>, body: impl FnOnce() -> Response) -> Response {
    if !token_ok {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "Token expired"}))).into_response();
    }
    match failure {
        None => body(),
        Some(Failure::Slow(d)) => {
            tokio::time::sleep(d).await;
            body()
        }
        Some(Failure::Status(code)) => (StatusCode::from_u16(code).unwrap(), "busy").into_response(),
        Some(Failure::Malformed) => ([(header::CONTENT_TYPE, "application/json")], "{\"cdrs\": [{\"uuid\": ").into_response(),
        Some(Failure::ExpiredToken) => (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "Token expired"}))).into_response(),
    }
}

async fn fixed(State(state): State<Shared>, Query(q): Params, path: &'static str, file: &'static str) -> Response {
    let (ok, failure) = arrive(&state, "GET", path, q);
    answer(&state, ok, failure, || json_body(fixture("api", file))).await
}

fn json_body(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], text).into_response()
}

async fn cdrs(State(state): State<Shared>, Query(q): Params) -> Response {
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let (ok, failure) = arrive(&state, "GET", "/cdrs", q);
    let (body, delay) = {
        let inner = state.lock().unwrap();
        let per = inner.per_page.max(1);
        let total = inner.records.len();
        let pages = total.div_ceil(per).max(1);
        let slice: Vec<Value> = inner.records.iter().skip((page - 1) * per).take(per).cloned().collect();
        // next_page names the real API's host, as Bulutfon writes it: Kanca must keep to the
        // address it was given.
        let link = |p: usize| json!(format!("https://api.bulutfon.com/cdrs?page={p}&limit={per}"));
        let body = json!({
            "cdrs": slice,
            "pagination": {
                "page": page, "total_count": total, "total_pages": pages, "limit": per,
                "previous_page": if page > 1 { link(page - 1) } else { Value::Null },
                "next_page": if page < pages { link(page + 1) } else { Value::Null },
            }
        });
        (body.to_string(), inner.page_delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    answer(&state, ok, failure, || json_body(body)).await
}

async fn cdr(State(state): State<Shared>, UrlPath(uuid): UrlPath<String>, Query(q): Params) -> Response {
    detail(&state, &format!("/cdrs/{uuid}"), &uuid, q).await
}

async fn cdr_dated(State(state): State<Shared>, UrlPath((y, m, d, uuid)): UrlPath<(String, String, String, String)>, Query(q): Params) -> Response {
    detail(&state, &format!("/v2/cdr/{y}/{m}/{d}/{uuid}"), &uuid, q).await
}

/// One call's record with its flow, at either of its addresses; 404 for a call it has none of.
async fn detail(state: &Shared, path: &str, uuid: &str, q: HashMap<String, String>) -> Response {
    let (ok, failure) = arrive(state, "GET", path, q);
    let found = state.lock().unwrap().details.get(uuid).cloned();
    answer(state, ok, failure, || match found {
        Some(d) => json_body(d.to_string()),
        None => (StatusCode::NOT_FOUND, axum::Json(json!({"error": "Not found"}))).into_response(),
    })
    .await
}

async fn stats(State(state): State<Shared>) -> Response {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for s in &state.lock().unwrap().seen {
        *counts.entry(s.path.clone()).or_default() += 1;
    }
    axum::Json(counts).into_response()
}

async fn recording(State(state): State<Shared>, UrlPath(uuid): UrlPath<String>, Query(q): Params) -> Response {
    let (ok, failure) = arrive(&state, "GET", &format!("/call-records/{uuid}"), q);
    // Declared as something else: Kanca must go by the bytes.
    answer(&state, ok, failure, || ([(header::CONTENT_TYPE, "application/octet-stream")], wav_tone(1.0)).into_response()).await
}

async fn fax_document(State(state): State<Shared>, UrlPath(uuid): UrlPath<String>, Query(q): Params) -> Response {
    let (ok, failure) = arrive(&state, "GET", &format!("/incoming-faxes/{uuid}"), q);
    answer(&state, ok, failure, || ([(header::CONTENT_TYPE, "image/tiff")], fax_tiff(2)).into_response()).await
}

/// A WAV file: `seconds` of a 440 Hz tone, 8 kHz, 16-bit mono.
pub fn wav_tone(seconds: f32) -> Vec<u8> {
    let rate = 8000u32;
    let n = (rate as f32 * seconds) as u32;
    let mut out = Vec::with_capacity(44 + 2 * n as usize);
    let data_len = n * 2;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..n {
        let v = ((i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 8000.0) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// A fax of `pages` pages as TIFF: 8-bit grey, fax resolution (204 × 98 dpi), each page with a
/// black bar whose length tells the page.
pub fn fax_tiff(pages: usize) -> Vec<u8> {
    use tiff::encoder::{colortype::Gray8, Rational, TiffEncoder};
    let (w, h) = (1728u32, 1100u32);
    let mut out = std::io::Cursor::new(Vec::new());
    let mut enc = TiffEncoder::new(&mut out).unwrap();
    for p in 0..pages {
        let mut img = vec![255u8; (w * h) as usize];
        for y in 100..160 {
            for x in 100..(100 + 300 * (p as u32 + 1)).min(w) {
                img[(y * w + x) as usize] = 0;
            }
        }
        let mut page = enc.new_image::<Gray8>(w, h).unwrap();
        page.resolution(tiff::tags::ResolutionUnit::Inch, Rational { n: 204, d: 1 });
        page.y_resolution(Rational { n: 98, d: 1 });
        page.write_data(&img).unwrap();
    }
    out.into_inner()
}

async fn call_and_bridge(State(state): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let (ok, failure) = arrive(&state, "POST", "/call_and_bridge", form);
    answer(&state, ok, failure, || json_body(fixture("api", "call-and-bridge.json"))).await
}

impl StandIn {
    /// Serve `detail` (an object with `cdr`) for its uuid at /cdrs/UUID and the dated path.
    pub fn add_detail(&self, detail: Value) {
        let uuid = detail["cdr"]["uuid"].as_str().expect("a detail names its uuid").to_owned();
        self.inner.lock().unwrap().details.insert(uuid, detail);
    }
}
