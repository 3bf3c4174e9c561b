//! "Test the connection": Kanca posts a test event to its own public webhook URL, in the form
//! the user chose (the one-paste URL without credentials, or `/webhook` with basic auth), the
//! way Bulutfon would, and checks that the event came back into this database. The event is marked as a test (`kanca_test`), so it is shown with a test badge and
//! counts in no caller's history.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::{self, WebhookForm, WebhookKeys, WebhookSecret};
use crate::{Backend, Engine};

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SelfTestResult {
    pub ok: bool,
    /// The URL posted to (in the one-paste form it holds the secret, as the UI shows it).
    pub url: String,
    pub http_status: Option<u16>,
    /// From the post to the answer (the listener answers only once the event is stored).
    #[ts(type = "number")]
    pub round_trip_ms: u64,
    /// The test call's uuid when it arrived.
    pub uuid: Option<String>,
    /// What went wrong, in plain words.
    pub error: Option<String>,
}

const TIMEOUT: Duration = Duration::from_secs(20);

/// Where and how to post under a base URL, in the chosen form.
struct Target {
    url: String,
    /// The Authorization header; none for the one-paste URL (the panel's fields stay empty).
    auth: Option<String>,
    secret: WebhookSecret,
}

impl Target {
    fn of(keys: &WebhookKeys, base_url: &str) -> Target {
        let auth = match keys.form {
            WebhookForm::UrlSecret => None,
            WebhookForm::BasicAuth => Some(keys.credentials.header_value()),
        };
        Target { url: config::chosen_webhook_url(base_url, keys), auth, secret: keys.secret.clone() }
    }
}

/// Posts a test event under `base_url` (a public or local base URL, no path) in the chosen
/// form and checks it arrived in the engine's database.
pub async fn self_test(engine: &Engine, base_url: &str) -> SelfTestResult {
    self_test_with(&engine.keys(), &Backend::Sqlite(engine.store().clone()), base_url).await
}

/// [`self_test`] for a receiver with these webhook `keys` that stores into `history` (SQLite
/// or the shared PostgreSQL database).
pub async fn self_test_with(keys: &WebhookKeys, history: &Backend, base_url: &str) -> SelfTestResult {
    crate::tunnel::install_tls_provider();
    let target = Target::of(keys, base_url);
    let webhook_url = target.url.as_str();
    let uuid = match crate::config::random_token(9) {
        Ok(t) => format!("kanca-test-{t}"),
        Err(e) => return failed(webhook_url, None, 0, format!("no randomness: {e}")),
    };
    let body = test_event("call_init", &uuid, serde_json::json!({}));
    let (url, auth) = (target.url.clone(), target.auth.clone());
    let started = Instant::now();
    let posted = tokio::task::spawn_blocking(move || post(&url, auth.as_deref(), &body)).await;
    let elapsed = started.elapsed().as_millis() as u64;
    let status = match posted {
        Ok(Ok(s)) => s,
        // Transport errors can quote the URL: keep the secret out of the message.
        Ok(Err(e)) => return failed(webhook_url, None, elapsed, config::redact_secret(&e, &target.secret)),
        Err(e) => return failed(webhook_url, None, elapsed, format!("the test did not finish: {e}")),
    };
    if !(200..300).contains(&status) {
        let why = match status {
            401 => "the listener refused the credentials (HTTP 401)".to_string(),
            404 if target.auth.is_none() => {
                "the URL was refused (HTTP 404): its secret is not the one in force here, or the path leads elsewhere".to_string()
            }
            404 => "something answered at that URL, but not Kanca's webhook (HTTP 404): check the path".to_string(),
            502..=504 => format!("the tunnel or proxy could not reach Kanca's listener (HTTP {status})"),
            s => format!("the URL answered HTTP {s}"),
        };
        return failed(webhook_url, Some(status), elapsed, why);
    }
    // The receiver that answered may be another process (`kanca self-test` beside `kanca serve`):
    // what it acknowledged reaches the history a moment after its answer.
    if let Err(e) = history.catch_up().await {
        return failed(webhook_url, Some(status), elapsed, format!("could not read the database: {e}"));
    }
    let arrived = history.get_call(uuid.clone()).await;
    match arrived {
        Ok(Some(_)) => SelfTestResult {
            ok: true,
            url: webhook_url.into(),
            http_status: Some(status),
            round_trip_ms: elapsed,
            uuid: Some(uuid),
            error: None,
        },
        Ok(None) => failed(
            webhook_url,
            Some(status),
            elapsed,
            "the URL accepted the event, but it did not reach this Kanca: the URL leads to another receiver".into(),
        ),
        Err(e) => failed(webhook_url, Some(status), elapsed, format!("could not read the database: {e}")),
    }
}

/// Hangs up a test call made by [`self_test`] (answered, 3 s), so it does not stay "ringing"
/// in the history. Best effort: the test already succeeded or failed.
pub async fn end_test_call(engine: &Engine, base_url: &str, uuid: &str) {
    end_test_call_with(&engine.keys(), base_url, uuid).await
}

/// [`end_test_call`] with these webhook `keys`.
pub async fn end_test_call_with(keys: &WebhookKeys, base_url: &str, uuid: &str) {
    let body = test_event(
        "call_hangup",
        uuid,
        serde_json::json!({ "hangup_cause": "NORMAL_CLEARING", "talk_duration": 3, "result_disposition": "SUCCESS" }),
    );
    let target = Target::of(keys, base_url);
    let (url, auth) = (target.url.clone(), target.auth.clone());
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || post(&url, auth.as_deref(), &body)).await {
        tracing::warn!("could not hang up the test call: {}", config::redact_secret(&e, &target.secret));
    }
}

/// A test call's event as Bulutfon would send it, marked `kanca_test`, with `extra` fields.
fn test_event(event_type: &str, uuid: &str, extra: serde_json::Value) -> String {
    let mut body = serde_json::json!({
        "event_type": event_type, "uuid": uuid, "caller": "905554443322", "callee": "908508850000",
        "direction": "IN", "timestamp": chrono::Utc::now().timestamp_micros(), "kanca_test": true,
    });
    if let (Some(body), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body.to_string()
}

fn failed(url: &str, http_status: Option<u16>, round_trip_ms: u64, error: String) -> SelfTestResult {
    SelfTestResult { ok: false, url: url.into(), http_status, round_trip_ms, uuid: None, error: Some(error) }
}

/// One POST, with basic auth when given; the HTTP status, or why there was none.
fn post(url: &str, auth: Option<&str>, body: &str) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(TIMEOUT)).http_status_as_error(false).build().into();
    let mut req = agent.post(url).header("Content-Type", "application/json");
    if let Some(auth) = auth {
        req = req.header("Authorization", auth);
    }
    match req.send(body) {
        Ok(resp) => Ok(resp.status().as_u16()),
        Err(ureq::Error::Timeout(_)) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
        Err(ureq::Error::HostNotFound) => Err("the host name of the URL was not found (DNS)".into()),
        Err(ureq::Error::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err("nothing is listening at that address (connection refused)".into())
        }
        Err(e) => Err(format!("the URL could not be reached: {e}")),
    }
}
