//! What a Windows toast says and how it is named, kept apart from the WinRT calls (`winrt.rs`)
//! so that it is tested on every platform: the toast's XML, with the webhook's text (caller
//! names and numbers are untrusted) escaped; the tag and group that let a routing update replace
//! a call's toast; and the arguments a click hands back, read back into what was clicked.

use super::{Clicked, Notice, Target, Urgency, ACTION_OPEN};

/// Windows shows a toast under the app whose AppUserModelID it names. The installers'
/// Start-menu shortcuts carry the same id (Tauri sets it from tauri.conf.json's `identifier`),
/// which is what lets Windows show the toasts at all; the process carries it too, so the
/// taskbar and the toasts agree.
pub const APP_USER_MODEL_ID: &str = "com.kanca.desktop";
/// Each call's toast is tagged with the call within this group.
pub const GROUP_CALLS: &str = "calls";
/// The missed-calls toast: a group of its own, so no call id can ever name it.
pub const GROUP_MISSED: &str = "missed";
pub const TAG_MISSED: &str = "missed";
/// Windows refuses a longer tag or group (since Windows 10 1703; 16 before).
const MAX_TAG: usize = 64;
/// A call id longer than this is not put into a click's arguments; the toast's number is.
const MAX_ARGUMENT_CALL: usize = 128;
/// The most of one line a toast shows; a webhook may send far longer names.
const MAX_TEXT: usize = 200;
/// Windows shows a toast this long (25 s) at "long", about 7 s otherwise.
const LONG_MS: i32 = 25_000;

/// The tag and group of the toast that shows `target`. A call id is the tag as it is when
/// Windows accepts it; any other is replaced by a hash of it, so every call keeps one tag.
pub fn tag_and_group(target: &Target) -> (String, &'static str) {
    match target {
        Target::Call { uuid, .. } => (call_tag(uuid), GROUP_CALLS),
        Target::Missed => (TAG_MISSED.to_string(), GROUP_MISSED),
    }
}

fn call_tag(uuid: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    if !uuid.is_empty() && uuid.len() <= MAX_TAG && uuid.chars().all(plain) {
        uuid.to_string()
    } else {
        format!("h{:016x}", fnv1a(uuid.as_bytes()))
    }
}

/// FNV-1a: stable across Rust versions and runs, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The arguments a click on `target` hands back: `action:call:<id>`, `action:missed`, or
/// `action:notice:<n>` for a call id too long to carry.
pub fn arguments(action: &str, target: &Target, id: u32) -> String {
    match target {
        Target::Missed => format!("{action}:missed"),
        Target::Call { uuid, .. } if !uuid.is_empty() && uuid.len() <= MAX_ARGUMENT_CALL => format!("{action}:call:{uuid}"),
        Target::Call { .. } => format!("{action}:notice:{id}"),
    }
}

/// What a click's arguments name, and the action: the inverse of [`arguments`]. Anything else
/// (an old or foreign toast) is `None`.
pub fn parse_arguments(args: &str) -> Option<(Clicked, String)> {
    let (action, rest) = args.split_once(':')?;
    if action.is_empty() || !action.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let clicked = match rest.split_once(':') {
        None if rest == "missed" => Clicked::Missed,
        Some(("call", uuid)) if !uuid.is_empty() => Clicked::Call(uuid.to_string()),
        Some(("notice", n)) => Clicked::Notice(n.parse().ok()?),
        _ => return None,
    };
    Some((clicked, action.to_string()))
}

/// The toast's XML. A click on its body opens what it shows; each action is a button. A
/// ringing call stays on screen until it is answered, ends or is dismissed (the "reminder"
/// scenario, which Windows grants only to a toast with buttons); a routing update of a call
/// replaces its toast silently.
pub fn toast_xml(n: &Notice, id: u32) -> String {
    let mut x = String::with_capacity(512);
    x.push_str("<toast launch=\"");
    x.push_str(&escape(&arguments(ACTION_OPEN, &n.target, id)));
    x.push('"');
    if n.timeout_ms == 0 || n.timeout_ms >= LONG_MS {
        x.push_str(" duration=\"long\"");
    }
    if n.urgency == Urgency::Critical && !n.actions.is_empty() {
        x.push_str(" scenario=\"reminder\"");
    }
    x.push_str("><visual><binding template=\"ToastGeneric\">");
    // Windows shows the title and two more texts: the body's first line, then the rest.
    let mut lines = n.body.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next();
    let rest = lines.collect::<Vec<_>>().join("\n");
    for text in [Some(n.summary.as_str()), first, Some(rest.as_str()).filter(|r| !r.is_empty())].into_iter().flatten() {
        x.push_str("<text>");
        x.push_str(&escape(&shorten(text)));
        x.push_str("</text>");
    }
    x.push_str("</binding></visual>");
    if !n.actions.is_empty() {
        x.push_str("<actions>");
        for (key, label) in &n.actions {
            x.push_str("<action content=\"");
            x.push_str(&escape(&shorten(label)));
            x.push_str("\" arguments=\"");
            x.push_str(&escape(&arguments(key, &n.target, id)));
            x.push_str("\" activationType=\"foreground\"/>");
        }
        x.push_str("</actions>");
    }
    if n.replaces.is_some() && matches!(n.target, Target::Call { .. }) {
        x.push_str("<audio silent=\"true\"/>");
    }
    x.push_str("</toast>");
    x
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Text for an XML attribute or element. Characters XML cannot hold at all (most control
/// characters) are dropped, since Windows refuses the whole toast over one of them; line breaks
/// and tabs become character references so an attribute keeps them.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::super::{Caps, ACTION_COPY};
    use super::*;
    use kanca_core::popup::{Popup, PopupKind};

    fn call(uuid: &str) -> Target {
        Target::Call { uuid: uuid.into(), kind: PopupKind::Ringing, number: Some("+905324445566".into()) }
    }

    fn ringing(uuid: &str, summary: &str, body: &str, replaces: Option<u32>) -> Notice {
        let p = Popup { uuid: uuid.into(), kind: PopupKind::Ringing, summary: summary.into(), body: body.into(), number: Some("+905324445566".into()) };
        super::super::call_notice(&p, Caps { actions: true, markup: false, persistence: true }, replaces, false, super::super::Links::default())
    }

    #[test]
    fn toasts_name_the_app_the_installers_shortcut_names() {
        // Tauri's NSIS and WiX templates give the Start-menu shortcut the bundle identifier as
        // its AppUserModelID; a toast under any other id is not shown.
        let conf: serde_json::Value = serde_json::from_str(include_str!("../../../tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], APP_USER_MODEL_ID);
    }

    #[test]
    fn a_call_keeps_one_tag_that_windows_accepts() {
        let uuid = "3f2b9a4e-2c1d-4b7a-9a0e-6f1c2d3e4b5a";
        assert_eq!(tag_and_group(&call(uuid)), (uuid.to_string(), GROUP_CALLS));
        assert_eq!(tag_and_group(&Target::Missed), (TAG_MISSED.to_string(), GROUP_MISSED));
        for odd in ["", "a b", "ç", &"x".repeat(65), "missed\u{0}"] {
            let (tag, group) = tag_and_group(&call(odd));
            assert!(tag.len() <= MAX_TAG && tag.starts_with('h'), "{odd:?} → {tag}");
            assert_eq!(tag, tag_and_group(&call(odd)).0, "the same call, the same tag: its update replaces it");
            assert_eq!(group, GROUP_CALLS);
        }
        assert_ne!(tag_and_group(&call("a b")).0, tag_and_group(&call("a  b")).0);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c, "FNV-1a as published");
    }

    #[test]
    fn a_click_names_the_call_it_was_on() {
        let uuid = "3f2b9a4e-2c1d-4b7a-9a0e-6f1c2d3e4b5a";
        for (target, id, clicked) in [
            (call(uuid), 7, Clicked::Call(uuid.into())),
            (call("odd:id with spaces"), 7, Clicked::Call("odd:id with spaces".into())),
            (call(&"x".repeat(200)), 7, Clicked::Notice(7)),
            (Target::Missed, 9, Clicked::Missed),
        ] {
            for action in [ACTION_OPEN, ACTION_COPY] {
                assert_eq!(parse_arguments(&arguments(action, &target, id)), Some((clicked.clone(), action.to_string())));
            }
        }
        for foreign in ["", "default", "default:", "default:call:", "Default:missed", "default:notice:x", "default:missed:1", ":missed"] {
            assert_eq!(parse_arguments(foreign), None, "{foreign:?}");
        }
    }

    #[test]
    fn webhook_text_cannot_break_out_of_the_toast() {
        let n = ringing("u\"><x/>", "Gelen arama: <b>Ali & Veli</b>", "Aranan: 'a'\u{1}\u{b}\nGüzergâh: → Menü 10", None);
        let xml = toast_xml(&n, 1);
        assert!(xml.contains("<text>Gelen arama: &lt;b&gt;Ali &amp; Veli&lt;/b&gt;</text>"), "{xml}");
        assert!(xml.contains("<text>Aranan: &apos;a&apos;</text>"), "control characters dropped: {xml}");
        assert!(xml.contains("<text>Güzergâh: → Menü 10</text>"), "{xml}");
        assert!(xml.contains("launch=\"default:call:u&quot;&gt;&lt;x/&gt;\""), "{xml}");
        assert!(!xml.contains("<x/>"));
        assert_eq!(escape("a\nb\tc\r"), "a&#10;b&#9;c&#13;");
        assert_eq!(escape("\u{fffe}\u{1F4DE}"), "\u{1F4DE}");
        let long = toast_xml(&ringing("u", &"ş".repeat(5000), "", None), 1);
        assert!(long.contains(&format!("<text>{}…</text>", "ş".repeat(MAX_TEXT))), "a huge name is cut short");
    }

    #[test]
    fn a_ringing_toast_stays_and_its_updates_are_quiet() {
        let first = toast_xml(&ringing("u1", "Gelen arama: 0 532 444 55 66", "Aranan: 0 850 885 00 00\n→ Menü 10\n3. arama", None), 4);
        assert_eq!(
            first,
            "<toast launch=\"default:call:u1\" duration=\"long\" scenario=\"reminder\"><visual><binding template=\"ToastGeneric\">\
             <text>Gelen arama: 0 532 444 55 66</text><text>Aranan: 0 850 885 00 00</text><text>→ Menü 10&#10;3. arama</text>\
             </binding></visual><actions>\
             <action content=\"Aç\" arguments=\"default:call:u1\" activationType=\"foreground\"/>\
             <action content=\"Numarayı kopyala\" arguments=\"copy:call:u1\" activationType=\"foreground\"/>\
             </actions></toast>"
        );
        let update = toast_xml(&ringing("u1", "Gelen arama: 0 532 444 55 66", "→ Dahili 1000", Some(4)), 4);
        assert!(update.ends_with("<audio silent=\"true\"/></toast>"), "a routing update does not chime again: {update}");
        let missed = super::super::missed_notice("3 cevapsız arama".into(), "a\nb".into(), Caps { actions: true, ..Caps::default() }, Some(2), false);
        let xml = toast_xml(&missed, 2);
        assert!(xml.starts_with("<toast launch=\"default:missed\" duration=\"long\">"), "{xml}");
        assert!(!xml.contains("scenario") && !xml.contains("silent"), "a new missed call is announced: {xml}");
    }
}
