//! A desk's side of the client API: HTTPS to the receiver, trusting its self-signed certificate
//! only by the SHA-256 fingerprint the pairing code carries (no certificate authority, no host
//! name), with the desk's token on every request; and the stream of changes read as
//! Server-Sent Events.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::TcpStream;

use super::clients::Pairing;

/// For the desk's writes (`send_json`).
pub use hyper::Method as HttpMethod;

/// Longest wait for the receiver to answer a connection and its TLS handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest an ordinary request may take (not the stream of changes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest one line of the stream may grow: a receiver sending more is not followed.
const MAX_EVENT_BYTES: usize = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the office receiver at {addr}: {message}")]
    Unreachable { addr: String, message: String },
    #[error("the office receiver at {addr} did not answer in time")]
    Timeout { addr: String },
    #[error("the receiver at {addr} is not the one this desk was paired with (its certificate changed): pair again with a new code")]
    WrongCertificate { addr: String },
    #[error("the receiver refused this desk: {0}")]
    Refused(String),
    #[error("the receiver answered {status}: {message}")]
    Status {
        status: u16,
        /// The API's error code (`bad_contact`, `call_not_found`, …).
        code: String,
        message: String,
    },
    #[error("the receiver's answer could not be read: {0}")]
    Bad(String),
}

impl ClientError {
    /// Worth trying again later (the network, the receiver restarting), unlike a refusal.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } | ClientError::Timeout { .. } | ClientError::Bad(_) => true,
            // 501: the receiver does not do that at all (its history on PostgreSQL).
            ClientError::Status { status, .. } => *status >= 500 && *status != 501,
            ClientError::WrongCertificate { .. } | ClientError::Refused(_) => false,
        }
    }
}

/// Accepts exactly the certificate whose SHA-256 is `fingerprint`; signatures are checked as
/// usual with the crypto provider's algorithms.
#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if super::tls::fingerprint(end_entity.as_ref()).eq_ignore_ascii_case(&self.fingerprint) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A paired desk's connection details; each request opens its own connection (desks make few).
/// When the office has several receivers (sharing a PostgreSQL history), a connection goes to
/// the one that last answered, and to the others in turn when it cannot be reached.
#[derive(Clone)]
pub struct OfficeClient {
    addrs: Arc<[String]>,
    /// Which of `addrs` answered last.
    current: Arc<AtomicUsize>,
    token: String,
    connector: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for OfficeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficeClient").field("addrs", &self.addrs).field("token", &"<redacted>").finish()
    }
}

impl OfficeClient {
    pub fn new(pairing: &Pairing) -> OfficeClient {
        crate::tunnel::install_tls_provider();
        let provider = rustls::crypto::CryptoProvider::get_default().cloned().unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let verifier = Arc::new(Pinned { fingerprint: pairing.fp.clone(), provider });
        let config = rustls::ClientConfig::builder().dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
        let addrs: Vec<String> = std::iter::once(pairing.addr.clone()).chain(pairing.also.iter().cloned()).collect();
        OfficeClient {
            addrs: addrs.into(),
            current: Arc::new(AtomicUsize::new(0)),
            token: pairing.token.clone(),
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
        }
    }

    /// The receiver requests go to now (the one that answered last).
    pub fn addr(&self) -> &str {
        &self.addrs[self.current.load(Ordering::Relaxed) % self.addrs.len()]
    }

    fn unreachable(&self, e: impl ToString) -> ClientError {
        ClientError::Unreachable { addr: self.addr().to_owned(), message: e.to_string() }
    }

    /// A TLS connection to the receiver at `addr`, its certificate checked.
    async fn connect_to(&self, addr: &str) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ClientError> {
        let unreachable = |e: &dyn ToString| ClientError::Unreachable { addr: addr.to_owned(), message: e.to_string() };
        let connect = async {
            let tcp = TcpStream::connect(addr).await.map_err(|e| unreachable(&e))?;
            let _ = tcp.set_nodelay(true);
            // The name is not checked (the fingerprint is); rustls wants one all the same.
            let name = ServerName::try_from("kanca-receiver").expect("a valid DNS name");
            self.connector.connect(name, tcp).await.map_err(|e| {
                let wrong = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()).is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
                if wrong {
                    ClientError::WrongCertificate { addr: addr.to_owned() }
                } else {
                    unreachable(&e)
                }
            })
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect).await.map_err(|_| ClientError::Timeout { addr: addr.to_owned() })?
    }

    /// A connection to the receiver that answered last, else to the others in turn; the first
    /// one's error when none answers.
    async fn connect(&self) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ClientError> {
        let start = self.current.load(Ordering::Relaxed);
        let mut first = None;
        for i in 0..self.addrs.len() {
            let at = (start + i) % self.addrs.len();
            match self.connect_to(&self.addrs[at]).await {
                Ok(tls) => {
                    if at != start % self.addrs.len() {
                        tracing::info!(receiver = %self.addrs[at], "office: {} did not answer; using {}", self.addrs[start % self.addrs.len()], self.addrs[at]);
                        self.current.store(at, Ordering::Relaxed);
                    }
                    return Ok(tls);
                }
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        Err(first.unwrap_or_else(|| self.unreachable("no address")))
    }

    /// Open a connection and send `req`; the answer's head, its body still to read.
    async fn send(&self, method: Method, path: &str, body: Option<(Vec<u8>, &str)>, last_event_id: Option<i64>) -> Result<hyper::Response<Incoming>, ClientError> {
        let tls = self.connect().await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| self.unreachable(e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut req = Request::builder().method(method).uri(path).header("host", self.addr()).header("authorization", format!("Bearer {}", self.token));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let req = match body {
            Some((bytes, content_type)) => req.header("content-type", content_type).body(Full::new(Bytes::from(bytes))),
            None => req.body(Full::new(Bytes::new())),
        }
        .map_err(|e| ClientError::Bad(e.to_string()))?;
        let resp = sender.send_request(req).await.map_err(|e| self.unreachable(e))?;
        match resp.status() {
            s if s.is_success() => Ok(resp),
            s => {
                let text = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                let json = serde_json::from_slice::<serde_json::Value>(&text).ok();
                let field = |k: &str| json.as_ref().and_then(|v| v.get(k)?.as_str().map(str::to_owned));
                let message = field("message").unwrap_or_else(|| String::from_utf8_lossy(&text).chars().take(200).collect());
                Err(match s {
                    StatusCode::UNAUTHORIZED => ClientError::Refused(message),
                    s => ClientError::Status { status: s.as_u16(), code: field("error").unwrap_or_default(), message },
                })
            }
        }
    }

    /// One request and its whole answer, within [`REQUEST_TIMEOUT`].
    pub async fn request(&self, method: Method, path: &str, body: Option<(Vec<u8>, &str)>) -> Result<Bytes, ClientError> {
        let whole = async {
            let resp = self.send(method, path, body, None).await?;
            resp.into_body().collect().await.map(|b| b.to_bytes()).map_err(|e| self.unreachable(e))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, whole).await.map_err(|_| ClientError::Timeout { addr: self.addr().to_owned() })?
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let bytes = self.request(Method::GET, path, None).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Bad(e.to_string()))
    }

    /// Send `body` as JSON with `method`; the answer read as `T` (`()` for an empty one).
    pub async fn send_json<T: DeserializeOwned>(&self, method: Method, path: &str, body: &impl Serialize) -> Result<T, ClientError> {
        let json = serde_json::to_vec(body).map_err(|e| ClientError::Bad(e.to_string()))?;
        let bytes = self.request(method, path, Some((json, "application/json"))).await?;
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| ClientError::Bad(e.to_string()))
    }

    /// The stream of changes, resuming after `last_event_id`.
    pub async fn events(&self, last_event_id: Option<i64>) -> Result<EventStream, ClientError> {
        let resp = self.send(Method::GET, "/v1/events", None, last_event_id).await?;
        Ok(EventStream { body: resp.into_body(), buf: Vec::new(), addr: self.addr().to_owned() })
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseMessage {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// The receiver's stream of changes as it arrives.
pub struct EventStream {
    body: Incoming,
    buf: Vec<u8>,
    addr: String,
}

impl EventStream {
    /// The next event; None when the receiver closed the stream. Keep-alive comments are
    /// skipped; a stream silent for `idle` (three keep-alives) counts as lost.
    pub async fn next(&mut self, idle: Duration) -> Result<Option<SseMessage>, ClientError> {
        loop {
            if let Some(m) = take_event(&mut self.buf) {
                if m.event.is_empty() && m.data.is_empty() {
                    continue;
                }
                return Ok(Some(m));
            }
            let frame = match tokio::time::timeout(idle, self.body.frame()).await {
                Err(_) => return Err(ClientError::Timeout { addr: self.addr.clone() }),
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => return Err(ClientError::Unreachable { addr: self.addr.clone(), message: e.to_string() }),
                Ok(Some(Ok(frame))) => frame,
            };
            if let Ok(data) = frame.into_data() {
                self.buf.extend_from_slice(&data);
                if self.buf.len() > MAX_EVENT_BYTES {
                    return Err(ClientError::Bad("an event of the stream is too long".into()));
                }
            }
        }
    }
}

/// Take one complete event (up to a blank line) off the front of `buf`.
fn take_event(buf: &mut Vec<u8>) -> Option<SseMessage> {
    let end = buf.windows(2).position(|w| w == b"\n\n")?;
    let block: Vec<u8> = buf.drain(..end + 2).collect();
    let block = String::from_utf8_lossy(&block);
    let mut m = SseMessage::default();
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').map(|(f, v)| (f, v.strip_prefix(' ').unwrap_or(v))).unwrap_or((line, ""));
        match field {
            "event" => m.event = value.to_owned(),
            "id" => m.id = Some(value.to_owned()),
            "data" => data.push(value),
            _ => {}
        }
    }
    m.data = data.join("\n");
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cut_at_blank_lines_and_comments_skipped() {
        let mut buf = b": keep-alive\n\nevent: change\nid: 7\ndata: {\"a\":1}\n\nevent: li".to_vec();
        assert_eq!(take_event(&mut buf), Some(SseMessage::default()));
        assert_eq!(take_event(&mut buf), Some(SseMessage { event: "change".into(), id: Some("7".into()), data: "{\"a\":1}".into() }));
        assert_eq!(take_event(&mut buf), None);
        assert_eq!(buf, b"event: li");
    }
}
