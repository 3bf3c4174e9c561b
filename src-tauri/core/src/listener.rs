//! The webhook listener: an axum router (`POST /webhook` with basic auth, `POST /webhook/{secret}`
//! without, `GET /health`) and a server loop that times out slow clients and shuts down
//! gracefully. Nothing here logs a request's path or headers: the path can hold the secret.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::config::{Credentials, WEBHOOK_PATH};
use crate::keys::LiveKeys;
use crate::backend::Backend;
use crate::store::{IncomingEvent, Outcome};
use crate::time::now_us;
use crate::webhook::{self, ParseError, MAX_BODY_BYTES};

/// How long clients may take; slow or stalled ones cannot hold the listener.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To send the request head.
    pub header: Duration,
    /// To send the body.
    pub body: Duration,
    /// For the whole request, including the durable commit.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { header: Duration::from_secs(10), body: Duration::from_secs(15), request: Duration::from_secs(30) }
    }
}

/// Connections served at once; further ones wait in the kernel's accept queue.
pub const MAX_CONNECTIONS: usize = 512;
/// How long in-flight requests may take to finish on shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The one-paste route; the segment is compared with the secret in force.
const SECRET_ROUTE: &str = "/webhook/{secret}";

#[derive(Clone)]
pub struct ListenerState {
    pub store: Backend,
    /// Read on every request, so a new password or secret (from Settings, or from
    /// `kanca credentials` in another process) applies without restarting the listener.
    pub keys: Arc<LiveKeys>,
    pub timeouts: Timeouts,
}

/// An error answer: `{"error":{"code","message"}}`. Internals are logged, never sent.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        let mut resp = (self.status, body).into_response();
        // These are answered without reading the whole body; the connection cannot carry
        // another request, so say so rather than let the sender's next delivery fail.
        if matches!(
            self.status,
            StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
        ) {
            resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Kanca webhook\", charset=\"UTF-8\""),
            );
        }
        resp
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        let status = match e {
            ParseError::UnsupportedContentType(_) | ParseError::UnsupportedCharset(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// The router, without a port, so tests can drive it with `oneshot`.
pub fn router(state: ListenerState) -> Router {
    let timeouts = state.timeouts;
    Router::new()
        .route(WEBHOOK_PATH, post(receive_webhook))
        .route(SECRET_ROUTE, post(receive_with_secret))
        .route("/health", get(health))
        .fallback(|| async { not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "use POST for /webhook")
        })
        .layer(RequestBodyTimeoutLayer::new(timeouts.body))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeouts.request))
        .with_state(state)
}

/// Also the answer to a wrong secret, word for word, so it tells nothing about the secret.
fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint; post webhooks to /webhook")
}

async fn health() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

fn authorized(headers: &HeaderMap, expected: &Credentials) -> bool {
    let Some(given) = headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes) else {
        return false;
    };
    let want = expected.header_value();
    // Constant-time comparison of the whole header value; the scheme name is
    // case-insensitive, so compare its token separately.
    let (scheme, rest) = match given.iter().position(|&b| b == b' ') {
        Some(i) => (&given[..i], &given[i..]),
        None => return false,
    };
    let scheme_ok = scheme.eq_ignore_ascii_case(b"basic");
    let rest_ok: bool = rest.trim_ascii().ct_eq(&want.as_bytes()["Basic ".len()..]).into();
    scheme_ok & rest_ok
}

/// `POST /webhook`: basic auth, as Bulutfon's panel sends it when its fields are filled in.
async fn receive_webhook(State(state): State<ListenerState>, req: Request) -> Result<Response, ApiError> {
    if !authorized(req.headers(), &state.keys.current().credentials) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong basic-auth credentials; use the user and password Kanca shows in its settings",
        ));
    }
    ingest(&state, req).await
}

/// `POST /webhook/{secret}`: the URL is the credential; an Authorization header is not needed
/// and not looked at. A wrong secret is answered as an unknown path.
async fn receive_with_secret(State(state): State<ListenerState>, req: Request) -> Result<Response, ApiError> {
    // The raw segment, not percent-decoded: the secret is URL-safe as made, so any encoded
    // spelling of it is not the URL Kanca showed.
    let given = req.uri().path().strip_prefix(WEBHOOK_PATH).and_then(|p| p.strip_prefix('/')).unwrap_or("");
    if !state.keys.secret_matches(given.as_bytes()) {
        return Err(not_found());
    }
    ingest(&state, req).await
}

/// Read, parse and store an authorised delivery.
async fn ingest(state: &ListenerState, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("body is larger than {} KiB", MAX_BODY_BYTES / 1024),
        )
    };
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let raw = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            let inner = e.into_inner();
            return Err(if caused_by::<http_body_util::LengthLimitError>(&*inner) {
                too_large()
            } else if caused_by::<tower_http::timeout::TimeoutError>(&*inner) {
                ApiError::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", "the body took too long to arrive")
            } else {
                tracing::debug!("reading body failed: {inner}");
                ApiError::new(StatusCode::BAD_REQUEST, "bad_body", "the body could not be read")
            });
        }
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let event = webhook::parse(content_type.as_deref(), &raw)?;
    // Parse the numbers here, on the async workers, so the projector thread finds them
    // cached (libphonenumber is the costliest step of assembling a call).
    for number in [&event.caller, &event.callee].into_iter().flatten() {
        crate::phone::normalize(number);
    }
    let (uuid, event_type) = (event.uuid.clone(), event.event_type.as_str().to_owned());
    let incoming = IncomingEvent { event, raw: raw.to_vec(), content_type, received_at_us: now_us() };
    match state.store.ingest(incoming).await {
        Ok(outcome) => {
            let status = match outcome {
                Outcome::Stored => "stored",
                Outcome::Duplicate => "duplicate",
            };
            Ok(Json(json!({"status": status, "uuid": uuid, "event_type": event_type})).into_response())
        }
        Err(e) => {
            tracing::error!(%uuid, "could not store event: {e}");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the event could not be stored; please retry",
            ))
        }
    }
}

/// Whether `T` is anywhere in the error's chain (layers wrap body errors in their own).
fn caused_by<T: std::error::Error + 'static>(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<T>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Serve `router` on `listener` until `shutdown` resolves, then let in-flight requests finish
/// (up to [`SHUTDOWN_GRACE`]).
pub async fn serve(listener: TcpListener, router: Router, header_timeout: Duration, shutdown: impl Future<Output = ()>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("some requests did not finish in time"),
    }
}

/// A running listener: where it listens and how to stop it.
pub struct WebhookListener {
    pub addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookListener {
    /// Bind `addr` and serve in the background.
    pub async fn start(addr: SocketAddr, state: ListenerState) -> std::io::Result<WebhookListener> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        tokio::task::spawn_blocking(crate::phone::warm_up);
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let header_timeout = state.timeouts.header;
        let app = router(state);
        let task = tokio::spawn(serve(listener, app, header_timeout, async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        Ok(WebhookListener { addr, stop, task })
    }

    /// Stop accepting, finish in-flight requests, return when done.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
