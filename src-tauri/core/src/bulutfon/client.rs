//! The HTTP side of Bulutfon's API: one blocking client (ureq with rustls) with timeouts on
//! connecting and on the whole request, and backoff on 429, 5xx and network errors. A token
//! Bulutfon refuses is an error at once, never retried. The token travels as the documented
//! `access_token` query parameter; it is never logged, never part of an error's text, and
//! redirects are not followed (a redirect would carry it to another address).

use std::time::Duration;

use serde_json::Value;
use url::Url;

/// The documented base address.
pub const DEFAULT_BASE_URL: &str = "https://api.bulutfon.com";
/// Overrides the base address (a proxy, a stand-in in tests).
pub const ENV_BASE_URL: &str = "KANCA_BULUTFON_API_URL";
/// Overrides the stored token.
pub const ENV_TOKEN: &str = "KANCA_BULUTFON_TOKEN";
/// Overrides the whole-request timeout, in seconds (tests use a short one).
pub const ENV_TIMEOUT: &str = "KANCA_BULUTFON_TIMEOUT";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts per request: the first and three retries.
const ATTEMPTS: u32 = 4;
/// The first retry waits this long, each later one twice as long (and at most [`MAX_WAIT`]).
const FIRST_WAIT: Duration = Duration::from_millis(500);
const MAX_WAIT: Duration = Duration::from_secs(30);
/// Largest JSON answer read (a page of records is a few tens of KiB).
const MAX_JSON_BYTES: u64 = 16 << 20;

/// The API token: shown nowhere, `Debug` included.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// A token as pasted: surrounding white space dropped; None when nothing is left or it
    /// holds characters no token has (a pasted sentence, a line break in the middle).
    pub fn parse(text: &str) -> Option<ApiToken> {
        let t = text.trim();
        let ok = !t.is_empty() && t.len() <= 512 && t.chars().all(|c| c.is_ascii_graphic());
        ok.then(|| ApiToken(t.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 401/403, or Bulutfon's `{"error": "Token expired"}`: the user must paste a new token.
    #[error("Bulutfon refused the API token ({0}); paste a new one from the panel (Uygulamalar > API Uygulamaları)")]
    BadToken(String),
    #[error("Bulutfon's API has no {0}")]
    NotFound(String),
    /// Still failing after the retries: rate limited, a server error, the network, a timeout.
    #[error("Bulutfon's API cannot be reached: {0}")]
    Unavailable(String),
    /// An answer that is not what the documentation describes (not JSON, not an object).
    #[error("Bulutfon's API answered something Kanca cannot read: {0}")]
    BadResponse(String),
    #[error("the Bulutfon API address is not usable: {0}")]
    BadUrl(String),
}

impl ApiError {
    /// A short code for JSON output and the window's status.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadToken(_) => "bad_token",
            ApiError::NotFound(_) => "not_found",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::BadResponse(_) => "bad_response",
            ApiError::BadUrl(_) => "bad_url",
        }
    }
}

/// A connection to one account's API.
#[derive(Clone)]
pub struct Client {
    base: Url,
    token: ApiToken,
    agent: ureq::Agent,
    first_wait: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base.as_str()).field("token", &self.token).finish()
    }
}

/// One answer: its status, its content type and its body.
struct Answer {
    status: u16,
    content_type: Option<String>,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

impl Client {
    /// A client for `base` (an http or https URL; its path, if any, prefixes every endpoint).
    pub fn new(base: &str, token: ApiToken) -> Result<Client, ApiError> {
        let mut base = Url::parse(base.trim()).map_err(|e| ApiError::BadUrl(format!("{base}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(ApiError::BadUrl(format!("{base}: not an http or https address")));
        }
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        crate::tunnel::install_tls_provider();
        let timeout = std::env::var(ENV_TIMEOUT)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(REQUEST_TIMEOUT);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT.min(timeout)))
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("Kanca/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client { base, token, agent, first_wait: FIRST_WAIT })
    }

    /// The client the environment and config.toml describe: `KANCA_BULUTFON_API_URL` or the
    /// documented address; `KANCA_BULUTFON_TOKEN`, else the stored token. None without a token.
    pub fn from_settings(stored_token: Option<&str>) -> Result<Option<Client>, ApiError> {
        let Some(token) = std::env::var(ENV_TOKEN).ok().or_else(|| stored_token.map(str::to_owned)).as_deref().and_then(ApiToken::parse)
        else {
            return Ok(None);
        };
        Client::new(&base_url(), token).map(Some)
    }

    /// Shorter waits between retries (tests).
    pub fn with_first_wait(mut self, wait: Duration) -> Client {
        self.first_wait = wait;
        self
    }

    pub fn token(&self) -> &ApiToken {
        &self.token
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The address of `path` (relative to the base, e.g. `cdrs` or `v2/cdr/2026/11/28/UUID`).
    fn url(&self, path: &str) -> Result<Url, ApiError> {
        self.base.join(path.trim_start_matches('/')).map_err(|e| ApiError::BadUrl(format!("{path}: {e}")))
    }

    /// GET `path` with `query` (the token added), as JSON.
    pub fn get_json(&self, path: &str, query: &[(String, String)]) -> Result<Value, ApiError> {
        self.get(path, query).map(|(value, _)| value)
    }

    /// [`Client::get_json`], with the body as received (so a record can be kept byte for byte).
    pub fn get_raw_json(&self, path: &str, query: &[(String, String)]) -> Result<Vec<u8>, ApiError> {
        self.get(path, query).map(|(_, body)| body)
    }

    fn get(&self, path: &str, query: &[(String, String)]) -> Result<(Value, Vec<u8>), ApiError> {
        let answer = self.request(path, |url| {
            let req = self.agent.get(url.as_str()).query_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            req.query("access_token", self.token.expose()).call()
        })?;
        Ok((json_of(path, &answer)?, answer.body))
    }

    /// GET `path` as bytes (a recording, a fax), at most `max_bytes`; with its content type.
    pub fn get_bytes(&self, path: &str, max_bytes: u64) -> Result<(Vec<u8>, Option<String>), ApiError> {
        let answer = self.request_limited(path, max_bytes, |url| self.agent.get(url.as_str()).query("access_token", self.token.expose()).call())?;
        Ok((answer.body, answer.content_type))
    }

    /// POST `form` to `path` (x-www-form-urlencoded, the token added), as JSON.
    pub fn post_form(&self, path: &str, form: &[(&str, String)]) -> Result<Value, ApiError> {
        let answer = self.request(path, |url| {
            let mut pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            pairs.push(("access_token", self.token.expose()));
            self.agent.post(url.as_str()).send_form(pairs)
        })?;
        json_of(path, &answer)
    }

    fn request(
        &self,
        path: &str,
        send: impl Fn(&Url) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, ApiError> {
        self.request_limited(path, MAX_JSON_BYTES, send)
    }

    /// One request with its retries. 429, 5xx and network errors are retried with backoff
    /// (Retry-After honoured when Bulutfon sends one); anything else is answered at once.
    fn request_limited(
        &self,
        path: &str,
        limit: u64,
        send: impl Fn(&Url) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, ApiError> {
        let url = self.url(path)?;
        let what = endpoint_name(path);
        let mut wait = self.first_wait;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            match send(&url).map_err(|e| self.describe(&e)).and_then(|resp| read(resp, limit).map_err(|e| self.describe(&e))) {
                Ok(answer) if (200..300).contains(&answer.status) => {
                    if token_expired(&answer.body) {
                        return Err(ApiError::BadToken("token expired".into()));
                    }
                    return Ok(answer);
                }
                Ok(answer) if matches!(answer.status, 401 | 403) || token_expired(&answer.body) => {
                    return Err(ApiError::BadToken(format!("HTTP {}", answer.status)));
                }
                Ok(answer) if answer.status == 404 => return Err(ApiError::NotFound(what)),
                Ok(answer) if answer.status == 429 || answer.status >= 500 => {
                    last = format!("HTTP {} from {what}", answer.status);
                    if let Some(after) = answer.retry_after {
                        wait = after.min(MAX_WAIT);
                    }
                }
                Ok(answer) => return Err(ApiError::BadResponse(format!("HTTP {} from {what}", answer.status))),
                Err(e) => last = format!("{e} ({what})"),
            }
            if attempt < ATTEMPTS {
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "Bulutfon API: {last}; trying again");
                std::thread::sleep(wait);
                wait = (wait * 2).min(MAX_WAIT);
            }
        }
        Err(ApiError::Unavailable(last))
    }

    /// An error's text without the token (ureq's messages may quote the URL).
    fn describe(&self, e: &ureq::Error) -> String {
        let text = match e {
            ureq::Error::Timeout(_) => "no answer in time".to_owned(),
            ureq::Error::HostNotFound => "the host name was not found (DNS)".to_owned(),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            other => other.to_string(),
        };
        text.replace(self.token.expose(), "<token>")
    }
}

/// The base address in force: `KANCA_BULUTFON_API_URL`, else the documented one.
pub fn base_url() -> String {
    std::env::var(ENV_BASE_URL).ok().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
}

fn read(mut resp: ureq::http::Response<ureq::Body>, limit: u64) -> Result<Answer, ureq::Error> {
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header("content-type");
    let retry_after = header("retry-after").and_then(|s| s.trim().parse::<u64>().ok()).map(Duration::from_secs);
    let status = resp.status().as_u16();
    let body = resp.body_mut().with_config().limit(limit).read_to_vec()?;
    Ok(Answer { status, content_type, retry_after, body })
}

/// `{"error": "Token expired"}` (the OAuth tokens' answer; documented without a status).
fn token_expired(body: &[u8]) -> bool {
    if body.len() > 4096 || !body.starts_with(b"{") {
        return false;
    }
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(|e| e.to_ascii_lowercase()))
        .is_some_and(|e| e.contains("token"))
}

fn json_of(path: &str, answer: &Answer) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::BadResponse(format!("{} did not answer with a JSON object", endpoint_name(path)))),
        Err(e) => Err(ApiError::BadResponse(format!("{}: {e}", endpoint_name(path)))),
    }
}

/// The endpoint for messages: its path without ids past the second segment.
fn endpoint_name(path: &str) -> String {
    let path = path.trim_start_matches('/');
    let short: Vec<&str> = path.split('/').take(2).collect();
    format!("/{}", short.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_never_shown() {
        let token = ApiToken::parse("  s3cr3t-token\n").unwrap();
        assert_eq!(token.expose(), "s3cr3t-token");
        assert!(!format!("{token:?}").contains("s3cr3t"));
        let client = Client::new("http://127.0.0.1:9/", token).unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t"));
        assert!(ApiToken::parse("two words").is_none());
        assert!(ApiToken::parse("   ").is_none());
    }

    #[test]
    fn endpoints_join_the_base_with_its_path() {
        let token = ApiToken::parse("t").unwrap();
        let c = Client::new("http://127.0.0.1:9/proxy/bulutfon", token.clone()).unwrap();
        assert_eq!(c.url("/cdrs").unwrap().as_str(), "http://127.0.0.1:9/proxy/bulutfon/cdrs");
        let c = Client::new("https://api.bulutfon.com", token.clone()).unwrap();
        assert_eq!(c.url("v2/cdr/2026/11/28/x").unwrap().as_str(), "https://api.bulutfon.com/v2/cdr/2026/11/28/x");
        assert!(matches!(Client::new("ftp://x", token.clone()), Err(ApiError::BadUrl(_))));
        assert!(matches!(Client::new("not a url", token), Err(ApiError::BadUrl(_))));
    }

    #[test]
    fn an_expired_token_is_recognised_by_its_body() {
        assert!(token_expired(br#"{"error": "Token expired"}"#));
        assert!(!token_expired(br#"{"error": "something else"}"#));
        assert!(!token_expired(br#"{"cdrs": []}"#));
        assert_eq!(endpoint_name("/cdrs/abc/def"), "/cdrs/abc");
    }
}
