//! Parsing of Bulutfon webhook bodies (JSON or form-encoded) into a [`CallEvent`].
//!
//! Bulutfon's two documentation revisions disagree on spellings and fields, so parsing is
//! deliberately lenient about *values* (numbers as strings, timestamps in several units, extra or
//! missing fields) and strict only about what makes a body an event at all: an object with an
//! `event_type` and a `uuid`.
//!
//! Text may arrive in a Turkish legacy charset (Windows-1254 / ISO-8859-9): form values are
//! percent-decoded to bytes first and only then decoded to text, see [`form_encoding`].

use std::borrow::Cow;

use chrono::DateTime;

use crate::time::rfc3339_to_micros;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1254};
use serde::Serialize;
use serde_json::{Map, Value};

/// Largest body accepted; Bulutfon's biggest documented payload (a hang-up with CDR) is ~1.5 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What kind of event Bulutfon reported, with every documented spelling folded into one name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    CallInit,
    RoutedToMenu,
    RoutedToGroup,
    RoutedToExtension,
    Hangup,
    Missed,
    FaxInit,
    /// A call detail record read from Bulutfon's REST API (`GET /cdrs`), not a webhook: the call
    /// as the PBX recorded it once it was over (`bulutfon::backfill`).
    ApiCdr,
    /// The same with its `call_flow` (`GET /cdrs/UUID`), read for a call whose end was lost.
    ApiCdrDetail,
    /// An event type this version does not know; kept with its (lower-cased) name.
    Other(String),
}

impl EventType {
    pub fn from_received(s: &str) -> EventType {
        let norm = s.trim().to_ascii_lowercase();
        match norm.as_str() {
            "call_init" => EventType::CallInit,
            // "call_init_manu" is the spelling in the documented list of events.
            "call_init_menu" | "call_init_manu" | "incoming_call_menu" => EventType::RoutedToMenu,
            "call_init_group" | "incoming_call_group" => EventType::RoutedToGroup,
            "call_init_extension" | "incoming_call_extension" => EventType::RoutedToExtension,
            "call_hangup" => EventType::Hangup,
            "missing_call" | "missed_call" => EventType::Missed,
            "fax_init" => EventType::FaxInit,
            _ => EventType::Other(norm),
        }
    }

    /// The canonical name stored and shown (the older documentation's spelling).
    pub fn as_str(&self) -> &str {
        match self {
            EventType::CallInit => "call_init",
            EventType::RoutedToMenu => "call_init_menu",
            EventType::RoutedToGroup => "call_init_group",
            EventType::RoutedToExtension => "call_init_extension",
            EventType::Hangup => "call_hangup",
            EventType::Missed => "missing_call",
            EventType::FaxInit => "fax_init",
            EventType::ApiCdr => "api_cdr",
            EventType::ApiCdrDetail => "api_cdr_detail",
            EventType::Other(s) => s,
        }
    }

    /// Read from Bulutfon's API rather than posted to the webhook.
    pub fn is_api(&self) -> bool {
        matches!(self, EventType::ApiCdr | EventType::ApiCdrDetail)
    }

    pub fn route_type(&self) -> Option<RouteType> {
        match self {
            EventType::RoutedToMenu => Some(RouteType::Menu),
            EventType::RoutedToGroup => Some(RouteType::Group),
            EventType::RoutedToExtension => Some(RouteType::Extension),
            _ => None,
        }
    }
}

impl Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Where a call was routed. Ordered as calls usually flow (menu, then group, then extension),
/// which breaks ties between routing events that carry the same timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RouteType {
    Menu,
    Group,
    Extension,
}

/// One webhook delivery, parsed. `fields` keeps every top-level field as received (numbers
/// turned into strings are *not* applied there) so nothing Bulutfon sends is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    pub event_type: EventType,
    /// `event_type` exactly as received.
    pub received_type: String,
    pub uuid: String,
    /// Microseconds since the Unix epoch, when the event carried a usable timestamp.
    pub timestamp_us: Option<i64>,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub direction: Option<String>,
    pub destination: Option<String>,
    /// The whole payload as a JSON object (form bodies converted, nested brackets expanded).
    pub fields: Map<String, Value>,
}

/// Why a body is not a Bulutfon event. The message is shown to the sender verbatim.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("unsupported content type {0:?}: send application/json or application/x-www-form-urlencoded")]
    UnsupportedContentType(String),
    #[error("body is not valid JSON: {0}")]
    BadJson(String),
    #[error("body is not a valid form: {0}")]
    BadForm(String),
    #[error("body must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    #[error("missing field {0:?}")]
    MissingField(&'static str),
    #[error("field {0:?} must be a non-empty string or number")]
    BadField(&'static str),
    #[error("body is empty")]
    Empty,
    #[error("unsupported charset {0:?}: send utf-8, windows-1254 or iso-8859-9")]
    UnsupportedCharset(String),
}

impl ParseError {
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::UnsupportedContentType(_) => "unsupported_content_type",
            ParseError::BadJson(_) => "invalid_json",
            ParseError::BadForm(_) => "invalid_form",
            ParseError::NotAnObject(_) => "not_an_object",
            ParseError::MissingField(_) => "missing_field",
            ParseError::BadField(_) => "invalid_field",
            ParseError::Empty => "empty_body",
            ParseError::UnsupportedCharset(_) => "unsupported_charset",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Form,
}

fn format_of(content_type: Option<&str>, body: &[u8]) -> Result<Format, ParseError> {
    let mime = content_type
        .map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    match mime.as_str() {
        "application/json" | "text/json" => Ok(Format::Json),
        m if m.starts_with("application/") && m.ends_with("+json") => Ok(Format::Json),
        "application/x-www-form-urlencoded" => Ok(Format::Form),
        // No or a generic content type: look at the body rather than refuse a real event.
        "" | "text/plain" | "application/octet-stream" => {
            match body.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') | Some(b'[') => Ok(Format::Json),
                Some(_) if body.contains(&b'=') => Ok(Format::Form),
                _ => Err(ParseError::UnsupportedContentType(mime)),
            }
        }
        _ => Err(ParseError::UnsupportedContentType(mime)),
    }
}

/// Parse a webhook body. `content_type` is the request's Content-Type header, if any.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<CallEvent, ParseError> {
    let declared = declared_encoding(content_type)?;
    parse_in(content_type, body, declared)
}

/// Parse a body read back from the database. Bodies stored before charsets were honoured may
/// name a charset this version refuses; it was ignored when they were accepted, so ignore it
/// again rather than lose a stored event.
pub fn parse_stored(content_type: Option<&str>, body: &[u8]) -> Result<CallEvent, ParseError> {
    if content_type == Some(API_CDR_CONTENT_TYPE) {
        return parse_api_cdr(body);
    }
    let declared = declared_encoding(content_type).unwrap_or(None);
    parse_in(content_type, body, declared)
}

fn parse_in(content_type: Option<&str>, body: &[u8], declared: Option<&'static Encoding>) -> Result<CallEvent, ParseError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let value = match format_of(content_type, body)? {
        Format::Json => parse_json(body, declared)?,
        Format::Form => parse_form(body, declared)?,
    };
    from_value(value)
}

/// The `charset` parameter of a Content-Type, unquoted; None when absent or empty.
fn charset_param(content_type: Option<&str>) -> Option<&str> {
    content_type?.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        let value = value.trim().trim_matches('"').trim();
        (name.trim().eq_ignore_ascii_case("charset") && !value.is_empty()).then_some(value)
    })
}

/// The encoding the sender declared, by the WHATWG labels encoding_rs knows (case-insensitive:
/// "windows-1254", "iso-8859-9" and "latin5" are all Windows-1254, a superset of ISO-8859-9 that
/// puts the same Turkish letters at the same bytes). An unknown label is refused rather than
/// guessed: storing wrongly decoded names would be silent.
fn declared_encoding(content_type: Option<&str>) -> Result<Option<&'static Encoding>, ParseError> {
    match charset_param(content_type) {
        None => Ok(None),
        Some(label) => Encoding::for_label(label.as_bytes())
            .map(Some)
            .ok_or_else(|| ParseError::UnsupportedCharset(label.chars().take(64).collect())),
    }
}

/// The text of a body for display: UTF-8 as it is, otherwise decoded with its declared charset
/// (Windows-1254 when none is declared, as for forms).
pub fn body_text<'a>(content_type: Option<&str>, body: &'a [u8]) -> Cow<'a, str> {
    match std::str::from_utf8(body) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            let encoding = declared_encoding(content_type).ok().flatten().unwrap_or(WINDOWS_1254);
            encoding.decode_without_bom_handling(body).0
        }
    }
}

fn parse_json(body: &[u8], declared: Option<&'static Encoding>) -> Result<Value, ParseError> {
    // serde_json keeps the last of repeated keys, which is what the 2021 hang-up example
    // (with "hangup_cause" twice) needs.
    let parsed = match declared {
        // JSON is UTF-8 by its spec; only a sender that says otherwise is decoded first.
        Some(encoding) if encoding != UTF_8 => serde_json::from_str::<Value>(&encoding.decode(body).0),
        _ => serde_json::from_slice::<Value>(body),
    };
    parsed.map_err(|e| ParseError::BadJson(e.to_string()))
}

fn parse_form(body: &[u8], declared: Option<&'static Encoding>) -> Result<Value, ParseError> {
    let encoding = form_encoding(body, declared)?;
    // Only a body that is not already UTF-8 is rewritten: UTF-8 bodies reach serde_qs untouched.
    let body = if encoding == UTF_8 && form_is_utf8(body) { Cow::Borrowed(body) } else { Cow::Owned(transcode_form(body, encoding)) };
    // Form encoding: `+` is a space and bracketed keys may arrive percent-encoded
    // (`cdr%5Buuid%5D`), as browsers and most HTTP libraries send them.
    let config = serde_qs::Config::new().max_depth(8).use_form_encoding(true);
    let value: Value = config
        .deserialize_bytes(&body)
        .map_err(|e| ParseError::BadForm(e.to_string()))?;
    Ok(form_arrays(value))
}

/// The encoding of a form body's percent-decoded bytes: the declared charset, else UTF-8 when
/// every key and value is valid UTF-8, else Windows-1254. Bulutfon is a Turkish PBX, and the
/// only non-UTF-8 senders it meets are Turkish Windows (1254) and ISO-8859-9 systems, which
/// agree on every Turkish letter; a statistical detector (chardetng) would guess from a few
/// bytes of a name and could pick a Latin-1 cousin that turns "ş" into "þ".
fn form_encoding(body: &[u8], declared: Option<&'static Encoding>) -> Result<&'static Encoding, ParseError> {
    match declared {
        // Bytes of UTF-16 and the like cannot be split on `&` and `=`.
        Some(encoding) if !encoding.is_ascii_compatible() => Err(ParseError::UnsupportedCharset(encoding.name().to_ascii_lowercase())),
        Some(encoding) => Ok(encoding),
        None if form_is_utf8(body) => Ok(UTF_8),
        None => Ok(WINDOWS_1254),
    }
}

fn form_is_utf8(body: &[u8]) -> bool {
    form_pairs(body).all(|(k, v)| std::str::from_utf8(&k).is_ok() && v.is_none_or(|v| std::str::from_utf8(&v).is_ok()))
}

/// The `key=value` pairs of a form body, percent-decoded to bytes (`+` is a space).
fn form_pairs(body: &[u8]) -> impl Iterator<Item = (Vec<u8>, Option<Vec<u8>>)> + '_ {
    body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()).map(|pair| {
        match pair.iter().position(|&b| b == b'=') {
            Some(i) => (percent_decode(&pair[..i]), Some(percent_decode(&pair[i + 1..]))),
            None => (percent_decode(pair), None),
        }
    })
}

fn percent_decode(text: &[u8]) -> Vec<u8> {
    let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match (text[i], hex(text.get(i + 1)), hex(text.get(i + 2))) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            // A `%` not followed by two hex digits is taken literally, as browsers do.
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    out
}

/// The form re-encoded as UTF-8: each key and value decoded from `encoding` after
/// percent-decoding (so `%DE` is a byte of Windows-1254, not of the body as a whole), then
/// percent-encoded again for serde_qs, which builds the nested structure.
fn transcode_form(body: &[u8], encoding: &'static Encoding) -> Vec<u8> {
    let mut out = String::with_capacity(body.len() * 2);
    for (key, value) in form_pairs(body) {
        if !out.is_empty() {
            out.push('&');
        }
        // Malformed bytes become U+FFFD: one bad byte must not lose a call.
        let text = |bytes: &[u8]| encoding.decode_without_bom_handling(bytes).0.into_owned();
        out.extend(url::form_urlencoded::byte_serialize(text(&key).as_bytes()));
        if let Some(value) = value {
            out.push('=');
            out.extend(url::form_urlencoded::byte_serialize(text(&value).as_bytes()));
        }
    }
    out.into_bytes()
}

/// serde_qs yields `a[0][x]` as a map keyed "0", "1", …; turn such maps back into arrays.
fn form_arrays(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let all_indices = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if all_indices {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(usize::MAX), form_arrays(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, form_arrays(v))).collect())
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(form_arrays).collect()),
        other => other,
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A scalar as text: numbers without exponent or a trailing ".0", strings trimmed.
/// Null, empty strings, arrays and objects give None.
pub fn scalar_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                let f = n.as_f64()?;
                if f.fract() == 0.0 && f.abs() < 1e18 {
                    format!("{}", f as i64)
                } else {
                    n.to_string()
                }
            }
        }
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn required_text(map: &Map<String, Value>, key: &'static str) -> Result<String, ParseError> {
    match map.get(key) {
        None | Some(Value::Null) => Err(ParseError::MissingField(key)),
        Some(v) => scalar_text(v)
            .filter(|s| !matches!(v, Value::Bool(_)) && s.len() <= 256)
            .ok_or(ParseError::BadField(key)),
    }
}

/// Validate a decoded body and pull out the fields every event shares.
pub fn from_value(value: Value) -> Result<CallEvent, ParseError> {
    let fields = match value {
        Value::Object(map) => map,
        other => return Err(ParseError::NotAnObject(kind_name(&other))),
    };
    let received_type = required_text(&fields, "event_type")?;
    let uuid = required_text(&fields, "uuid")?;
    let text = |k: &str| fields.get(k).and_then(scalar_text);
    Ok(CallEvent {
        event_type: EventType::from_received(&received_type),
        timestamp_us: fields.get("timestamp").and_then(timestamp_us),
        caller: text("caller"),
        callee: text("callee"),
        direction: text("direction"),
        destination: text("destination"),
        received_type,
        uuid,
        fields,
    })
}

/// The content type under which a CDR read from Bulutfon's API is stored as an event: the raw
/// body is the record's JSON object exactly as the API gave it. Never accepted from the webhook
/// listener (it only stores what [`parse`] accepts, and [`parse`] does not know this type).
pub const API_CDR_CONTENT_TYPE: &str = "application/vnd.kanca.bulutfon-cdr+json";

/// A CDR from the API as an event: its uuid, its end (else its start) as the event's time, its
/// numbers and direction; the whole record as `fields`. A record with `call_flow` is the detail
/// (`GET /cdrs/UUID`), stored beside the list's record of the same call.
pub fn parse_api_cdr(body: &[u8]) -> Result<CallEvent, ParseError> {
    let fields = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(other) => return Err(ParseError::NotAnObject(kind_name(&other))),
        Err(e) => return Err(ParseError::BadJson(e.to_string())),
    };
    let uuid = required_text(&fields, "uuid")?;
    let event_type = if fields.contains_key("call_flow") { EventType::ApiCdrDetail } else { EventType::ApiCdr };
    let text = |k: &str| fields.get(k).and_then(scalar_text);
    Ok(CallEvent {
        received_type: event_type.as_str().to_owned(),
        event_type,
        timestamp_us: cdr_time_us(fields.get("hangup_time")).or_else(|| cdr_time_us(fields.get("call_time"))),
        caller: text("caller"),
        callee: text("callee"),
        direction: text("direction"),
        destination: None,
        uuid,
        fields,
    })
}

/// Bulutfon's `timestamp`: documented as microseconds since the epoch (1435762851086820), while
/// the newer text calls it "Unix epoch time". Accept seconds, milliseconds, microseconds and
/// nanoseconds by magnitude, as a number or a string, and RFC 3339 text.
pub fn timestamp_us(v: &Value) -> Option<i64> {
    let text = scalar_text(v)?;
    if let Some(us) = rfc3339_to_micros(&text) {
        return Some(us);
    }
    let n: f64 = text.parse().ok()?;
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    let us = if n < 1e11 {
        n * 1e6 // seconds
    } else if n < 1e14 {
        n * 1e3 // milliseconds
    } else if n < 1e17 {
        n // microseconds
    } else {
        n / 1e3 // nanoseconds
    };
    // Refuse times before 2000 or after 2200: such a value is not a time we can trust.
    (9.46e14..7.26e15).contains(&us).then_some(us.round() as i64)
}

/// An RFC 3339 time with offset from a CDR (`2015-07-01T18:00:51+03:00`), in microseconds.
pub fn cdr_time_us(v: Option<&Value>) -> Option<i64> {
    let s = v.and_then(scalar_text)?;
    rfc3339_to_micros(&s).or_else(|| {
        DateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%z")
            .or_else(|_| DateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S %z"))
            .map(|d| d.timestamp_micros())
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(path: &str) -> Vec<u8> {
        let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/");
        std::fs::read(format!("{base}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn every_fixture_parses() {
        let cases = [
            ("seed/call_init.json", EventType::CallInit),
            ("seed/call_init_extension.json", EventType::RoutedToExtension),
            ("seed/call_init_group.json", EventType::RoutedToGroup),
            ("seed/call_init_menu.json", EventType::RoutedToMenu),
            ("seed/call_hangup.json", EventType::Hangup),
            ("seed/missing_call.json", EventType::Missed),
            ("seed/fax_init.json", EventType::FaxInit),
            ("documented-2021/call_init.json", EventType::CallInit),
            ("documented-2021/call_init_menu.json", EventType::RoutedToMenu),
            ("documented-2021/incoming_call_group.json", EventType::RoutedToGroup),
            ("documented-2021/incoming_call_extension.json", EventType::RoutedToExtension),
            ("documented-2021/call_hangup.json", EventType::Hangup),
            ("documented-2021/missing_call.json", EventType::Missed),
            ("documented-2021/fax_init.json", EventType::FaxInit),
        ];
        for (path, ty) in cases {
            let ev = parse(Some("application/json"), &fixture(path)).unwrap();
            assert_eq!(ev.event_type, ty, "{path}");
            assert!(ev.timestamp_us.unwrap() > 1_400_000_000_000_000, "{path}");
            assert_eq!(ev.caller.as_deref().map(|c| c.starts_with("90")), Some(true));
        }
    }

    #[test]
    fn duplicate_key_keeps_last_value() {
        let ev = parse(Some("application/json"), &fixture("documented-2021/call_hangup.json")).unwrap();
        assert_eq!(ev.fields["hangup_cause"], json!("NORMAL_CLEARING"));
        let ev = parse(None, br#"{"event_type":"call_hangup","uuid":"u","hangup_cause":"A","hangup_cause":"B"}"#)
            .unwrap();
        assert_eq!(ev.fields["hangup_cause"], json!("B"));
    }

    #[test]
    fn spellings_fold_to_one_type() {
        for s in ["call_init_manu", "call_init_menu", "CALL_INIT_MENU ", "incoming_call_menu"] {
            assert_eq!(EventType::from_received(s), EventType::RoutedToMenu, "{s}");
        }
        assert_eq!(EventType::from_received("incoming_call_group"), EventType::RoutedToGroup);
        assert_eq!(EventType::from_received("incoming_call_extension"), EventType::RoutedToExtension);
        assert_eq!(EventType::from_received("call_transfer").as_str(), "call_transfer");
    }

    #[test]
    fn flat_form_with_charset() {
        let body = b"event_type=call_init&caller=%2B90+532+444+55+66&callee=908508850000&uuid=abc&direction=IN&timestamp=1435762851086820";
        let ev = parse(Some("application/x-www-form-urlencoded; charset=UTF-8"), body).unwrap();
        assert_eq!(ev.event_type, EventType::CallInit);
        assert_eq!(ev.caller.as_deref(), Some("+90 532 444 55 66"));
        assert_eq!(ev.timestamp_us, Some(1435762851086820));
    }

    #[test]
    fn nested_form_brackets_plain_and_percent_encoded() {
        let plain = "event_type=call_hangup&uuid=u1&cdr[uuid]=u1&cdr[call_record]=false\
            &cdr[callflow][0][callee]=908508850000&cdr[callflow][0][redirection]=REDIRECTED_TO_MENU\
            &cdr[callflow][1][callee]=99&cdr[callflow][1][redirection]=CONNECTING_TO_MENU";
        let encoded = plain.replace('[', "%5B").replace(']', "%5D");
        for body in [plain.to_string(), encoded] {
            let ev = parse(Some("application/x-www-form-urlencoded"), body.as_bytes()).unwrap();
            let flow = ev.fields["cdr"]["callflow"].as_array().expect("callflow array");
            assert_eq!(flow.len(), 2, "{body}");
            assert_eq!(flow[1]["callee"], json!("99"));
            assert_eq!(ev.fields["cdr"]["uuid"], json!("u1"));
        }
    }

    #[test]
    fn numbers_and_timestamps_in_any_form() {
        let ev = from_value(json!({"event_type":"call_init","uuid":123,"caller":"905324445566",
            "callee":908508850000u64,"timestamp":"1435762851086820"}))
        .unwrap();
        assert_eq!(ev.uuid, "123");
        assert_eq!(ev.callee.as_deref(), Some("908508850000"));
        assert_eq!(ev.timestamp_us, Some(1435762851086820));
        assert_eq!(timestamp_us(&json!(1435762851)), Some(1435762851000000));
        assert_eq!(timestamp_us(&json!(1435762851086u64)), Some(1435762851086000));
        assert_eq!(timestamp_us(&json!(1435762851086820123u64)), Some(1435762851086820));
        assert_eq!(timestamp_us(&json!("2015-07-01T18:00:51+03:00")), Some(1435762851000000));
        assert_eq!(timestamp_us(&json!(-5)), None);
        assert_eq!(timestamp_us(&json!("soon")), None);
        assert_eq!(timestamp_us(&json!(1e300)), None);
        assert_eq!(scalar_text(&json!(905324445566.0)).as_deref(), Some("905324445566"));
    }

    #[test]
    fn not_an_event() {
        let ct = Some("application/json");
        assert_eq!(parse(ct, b"").unwrap_err(), ParseError::Empty);
        assert!(matches!(parse(ct, b"{not json").unwrap_err(), ParseError::BadJson(_)));
        assert_eq!(parse(ct, b"[1,2]").unwrap_err(), ParseError::NotAnObject("an array"));
        assert_eq!(parse(ct, b"\"x\"").unwrap_err(), ParseError::NotAnObject("a string"));
        assert_eq!(parse(ct, br#"{"uuid":"x"}"#).unwrap_err(), ParseError::MissingField("event_type"));
        assert_eq!(parse(ct, br#"{"event_type":"call_init"}"#).unwrap_err(), ParseError::MissingField("uuid"));
        assert_eq!(
            parse(ct, br#"{"event_type":"call_init","uuid":""}"#).unwrap_err(),
            ParseError::BadField("uuid")
        );
        assert_eq!(
            parse(ct, br#"{"event_type":{"a":1},"uuid":"x"}"#).unwrap_err(),
            ParseError::BadField("event_type")
        );
        assert!(matches!(
            parse(Some("text/html"), b"<b>hi</b>").unwrap_err(),
            ParseError::UnsupportedContentType(_)
        ));
        assert!(matches!(
            parse(Some("application/x-www-form-urlencoded"), b"caller=1").unwrap_err(),
            ParseError::MissingField("event_type")
        ));
    }

    #[test]
    fn unknown_fields_and_nulls_survive() {
        let ev = parse(
            Some("application/json"),
            br#"{"event_type":"call_init","uuid":"x","caller":null,"brand_new":{"a":[1]}}"#,
        )
        .unwrap();
        assert_eq!(ev.caller, None);
        assert_eq!(ev.fields["brand_new"], json!({"a":[1]}));
    }

    const FORM: &str = "application/x-www-form-urlencoded";
    /// "Şişli Müşteri" in Windows-1254 / ISO-8859-9: Ş = DE, ş = FE, ü = FC; `+` is the space.
    const NAME_1254: &str = "event_type=call_init&uuid=t1&caller=%2B905324445566&caller_name=%DEi%FEli+M%FC%FEteri";
    const NAME: &str = "Şişli Müşteri";

    fn caller_name(ct: Option<&str>, body: &[u8]) -> Value {
        parse(ct, body).unwrap().fields["caller_name"].clone()
    }

    #[test]
    fn turkish_form_in_a_declared_charset() {
        for ct in [
            "application/x-www-form-urlencoded; charset=windows-1254",
            "application/x-www-form-urlencoded; charset=ISO-8859-9",
            "application/x-www-form-urlencoded;charset=\"latin5\"",
            "Application/X-WWW-Form-Urlencoded; Charset=CP1254",
        ] {
            assert_eq!(caller_name(Some(ct), NAME_1254.as_bytes()), json!(NAME), "{ct}");
        }
        // Only the percent-decoded bytes are Windows-1254: `%2B` is still a plus, `+` a space.
        let ev = parse(Some("application/x-www-form-urlencoded; charset=windows-1254"), NAME_1254.as_bytes()).unwrap();
        assert_eq!(ev.caller.as_deref(), Some("+905324445566"));
    }

    #[test]
    fn turkish_form_without_charset_is_detected() {
        assert_eq!(caller_name(Some(FORM), NAME_1254.as_bytes()), json!(NAME));
        assert_eq!(caller_name(None, NAME_1254.as_bytes()), json!(NAME));
        // Bytes sent without percent-encoding are decoded the same way.
        let bare = b"event_type=call_init&uuid=t1&caller_name=\xDEi\xFEli M\xFC\xFEteri";
        assert_eq!(caller_name(Some(FORM), bare), json!(NAME));
        // Keys too, and nested ones keep their structure.
        let nested = "event_type=call_hangup&uuid=t1&cdr[callflow][0][redirection_target]=%DEi%FEli&not%FD=1";
        let ev = parse(Some(FORM), nested.as_bytes()).unwrap();
        assert_eq!(ev.fields["cdr"]["callflow"][0]["redirection_target"], json!("Şişli"));
        assert_eq!(ev.fields["notı"], json!("1"));
    }

    #[test]
    fn utf8_form_is_unchanged() {
        let utf8 = "event_type=call_init&uuid=t1&caller_name=%C5%9Ei%C5%9Fli+M%C3%BC%C5%9Fteri";
        for ct in [None, Some(FORM), Some("application/x-www-form-urlencoded; charset=utf-8")] {
            assert_eq!(caller_name(ct, utf8.as_bytes()), json!(NAME), "{ct:?}");
        }
        // A declared charset wins over detection, even when the bytes would pass as UTF-8.
        let declared = caller_name(Some("application/x-www-form-urlencoded; charset=windows-1254"), utf8.as_bytes());
        // (0x9E has no letter in Windows-1254: it stays the control character U+009E.)
        assert_eq!(declared, json!("Å\u{9e}iÅŸli MÃ¼ÅŸteri"));
        // Invalid bytes under a declared UTF-8 are replaced, not a lost call.
        let bad = caller_name(Some("application/x-www-form-urlencoded; charset=utf-8"), NAME_1254.as_bytes());
        assert_eq!(bad, json!("\u{FFFD}i\u{FFFD}li M\u{FFFD}\u{FFFD}teri"));
    }

    #[test]
    fn unknown_charset_is_refused() {
        let err = parse(Some("application/x-www-form-urlencoded; charset=klingon"), NAME_1254.as_bytes()).unwrap_err();
        assert_eq!(err, ParseError::UnsupportedCharset("klingon".into()));
        assert_eq!(err.code(), "unsupported_charset");
        let json_body = br#"{"event_type":"call_init","uuid":"x"}"#;
        assert!(matches!(parse(Some("application/json; charset=bogus"), json_body), Err(ParseError::UnsupportedCharset(_))));
        // UTF-16 is a real charset but a form in it cannot be split into pairs.
        let utf16 = parse(Some("application/x-www-form-urlencoded; charset=utf-16"), NAME_1254.as_bytes());
        assert_eq!(utf16.unwrap_err(), ParseError::UnsupportedCharset("utf-16le".into()));
        // A body stored before charsets were honoured still reads back.
        let stored = parse_stored(Some("application/x-www-form-urlencoded; charset=klingon"), NAME_1254.as_bytes()).unwrap();
        assert_eq!(stored.fields["caller_name"], json!(NAME));
        // An empty parameter says nothing.
        assert_eq!(caller_name(Some("application/x-www-form-urlencoded; charset="), NAME_1254.as_bytes()), json!(NAME));
    }

    #[test]
    fn json_is_utf8_unless_declared_otherwise() {
        let utf8 = r#"{"event_type":"call_init","uuid":"j","caller_name":"Şişli Müşteri"}"#;
        assert_eq!(caller_name(Some("application/json"), utf8.as_bytes()), json!(NAME));
        assert_eq!(caller_name(Some("application/json; charset=UTF-8"), utf8.as_bytes()), json!(NAME));
        let cp1254 = b"{\"event_type\":\"call_init\",\"uuid\":\"j\",\"caller_name\":\"\xDEi\xFEli M\xFC\xFEteri\"}";
        assert_eq!(caller_name(Some("application/json; charset=windows-1254"), cp1254), json!(NAME));
        assert!(matches!(parse(Some("application/json"), cp1254), Err(ParseError::BadJson(_))));
    }

    #[test]
    fn body_text_decodes_only_what_is_not_utf8() {
        assert_eq!(body_text(Some(FORM), NAME_1254.as_bytes()), NAME_1254);
        assert_eq!(body_text(Some(FORM), b"caller_name=\xDEi\xFEli"), "caller_name=Şişli");
        assert_eq!(body_text(Some("text/plain; charset=windows-1252"), b"\xDE"), "Þ");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
                                        form in proptest::bool::ANY) {
            let ct = if form { "application/x-www-form-urlencoded" } else { "application/json" };
            let _ = parse(Some(ct), &body);
        }
    }
}
