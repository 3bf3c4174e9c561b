//! The CRM link: a URL template the user sets (Settings), with the other party's number, name
//! and the call's uuid put in, each percent-encoded, so "CRM'de aç" opens the caller in the
//! company's own system. Only web links: a template is checked before anything is put in it.

use crate::call::{Call, Direction};

/// What a template may contain, besides text.
pub const PLACEHOLDERS: [&str; 5] = ["{number}", "{e164}", "{national}", "{name}", "{uuid}"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrmError {
    #[error("the CRM link must start with https:// or http://")]
    NotWeb,
    #[error("{0} is not a placeholder: use {{number}}, {{e164}}, {{national}}, {{name}} or {{uuid}}")]
    UnknownPlaceholder(String),
}

/// Whether `template` is a usable CRM link: http(s), with known placeholders only.
pub fn check(template: &str) -> Result<(), CrmError> {
    let t = template.trim();
    let lower = t.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).ok_or(CrmError::NotWeb)?;
    // A host before anything is put in: "https://{number}" would let a caller pick the site.
    if rest.is_empty() || rest.starts_with(['/', '{', '?', '#']) {
        return Err(CrmError::NotWeb);
    }
    let mut from = 0;
    while let Some(open) = t[from..].find('{') {
        let open = from + open;
        let close = t[open..].find('}').map(|c| open + c + 1).unwrap_or(t.len());
        let token = &t[open..close];
        if !PLACEHOLDERS.contains(&token) {
            return Err(CrmError::UnknownPlaceholder(token.to_owned()));
        }
        from = close;
    }
    Ok(())
}

/// Percent-encode everything but RFC 3986's unreserved characters (UTF-8 bytes, so Turkish
/// letters arrive intact).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The link for `call`'s other party (the caller; the callee of an outgoing call).
pub fn link(template: &str, call: &Call) -> Result<String, CrmError> {
    check(template)?;
    let (raw, e164, name) = match call.direction {
        Direction::Out => (&call.callee_raw, &call.callee_e164, &call.callee_name),
        Direction::In => (&call.caller_raw, &call.caller_e164, &call.caller_name),
    };
    let raw = raw.clone().unwrap_or_default();
    let e164 = e164.clone().unwrap_or_default();
    // "05324445566" for a Turkish number, else the digits as received.
    let national = match e164.strip_prefix("+90") {
        Some(rest) => format!("0{rest}"),
        None => raw.chars().filter(char::is_ascii_digit).collect(),
    };
    let values = [raw, e164, national, name.clone().unwrap_or_default(), call.uuid.clone()];
    let mut out = template.trim().to_owned();
    for (placeholder, value) in PLACEHOLDERS.iter().zip(values) {
        out = out.replace(placeholder, &encode(&value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{assemble, EventRecord};

    fn call(direction: &str, name: Option<&str>) -> Call {
        let body = format!(
            r#"{{"event_type":"call_init","uuid":"f615986c-2001","caller":"905324445566","callee":"908508850000","direction":"{direction}","timestamp":1700000000000000}}"#
        );
        let mut c = assemble(&[EventRecord { event: crate::webhook::parse(None, body.as_bytes()).unwrap(), received_at_us: 1 }]).unwrap();
        c.caller_name = name.map(Into::into);
        c
    }

    #[test]
    fn placeholders_are_filled_and_percent_encoded() {
        let t = "https://crm.example.com/ara?tel={e164}&n={national}&ham={number}&ad={name}&id={uuid}";
        let url = link(t, &call("IN", Some("İpek Işık & Co/?#"))).unwrap();
        assert_eq!(
            url,
            "https://crm.example.com/ara?tel=%2B905324445566&n=05324445566&ham=905324445566&ad=%C4%B0pek%20I%C5%9F%C4%B1k%20%26%20Co%2F%3F%23&id=f615986c-2001"
        );
        // Unknown name: empty, not "null".
        assert!(link("https://crm.example.com/?ad={name}", &call("IN", None)).unwrap().ends_with("?ad="));
        // An outgoing call links the number called.
        assert_eq!(link("https://crm.example.com/{national}", &call("OUT", None)).unwrap(), "https://crm.example.com/08508850000");
    }

    #[test]
    fn only_web_links_with_known_placeholders_and_a_fixed_host() {
        assert_eq!(check("HTTPS://crm.example.com/{e164}"), Ok(()));
        assert_eq!(check("http://10.0.0.5:8080/c?n={number}"), Ok(()));
        for bad in ["javascript:alert(1)//{number}", "file:///etc/passwd", "crm.example.com/{number}", "https://{number}.example.com", "https://", " ftp://x/{e164}"] {
            assert_eq!(check(bad), Err(CrmError::NotWeb), "{bad}");
        }
        assert_eq!(check("https://crm.example.com/{phone}"), Err(CrmError::UnknownPlaceholder("{phone}".into())));
        assert_eq!(check("https://crm.example.com/{number"), Err(CrmError::UnknownPlaceholder("{number".into())));
        assert!(link("javascript:{number}", &call("IN", None)).is_err());
    }
}
