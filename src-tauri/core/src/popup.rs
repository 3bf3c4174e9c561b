//! What a caller-ID pop-up says and whether it is shown at all: pure decisions over a stored
//! change and the user's preferences, so the desktop shell only has to display the result.

use chrono::{DateTime, Datelike, Local, TimeZone};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::call::{Call, CallKind, CallState, Direction, RouteStep};
use crate::contacts::ContactMatch;
use crate::i18n::{route_words, t, tf};
use crate::store::{Change, StoreError};
use crate::webhook::RouteType;

/// Which events pop up; saved in the desktop settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct PopupEvents {
    pub call_init: bool,
    pub routed: bool,
    pub missed: bool,
    pub fax: bool,
    pub outgoing: bool,
}

impl Default for PopupEvents {
    fn default() -> Self {
        PopupEvents { call_init: true, routed: true, missed: true, fax: true, outgoing: false }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PopupPrefs {
    pub events: PopupEvents,
    /// Only calls routed to one of `my_extensions` (a call not yet routed still pops up, so
    /// the phone ringing is never silent on screen).
    pub only_my_extensions: bool,
    pub my_extensions: Vec<String>,
    pub do_not_disturb: bool,
    pub english: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopupKind {
    Ringing,
    Missed,
    Fax,
}

/// A pop-up to show (or to update in place: one per call uuid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popup {
    pub uuid: String,
    pub kind: PopupKind,
    /// Plain text.
    pub summary: String,
    /// Notification body markup: every piece of webhook text is escaped.
    pub body: String,
    /// The number to copy from the pop-up's action, when there is one.
    pub number: Option<String>,
}

/// What Kanca knows of a caller: earlier calls, and the phone book's entry for the other party.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallerHistory {
    /// Calls from this number since Monday 00:00, including this one.
    pub this_week: i64,
    /// The previous call: start (microseconds) and whether it was missed.
    pub previous: Option<(i64, bool)>,
    /// The contact of the caller (of the callee for an outgoing call), when the book has one.
    pub contact: Option<ContactMatch>,
}

/// Longest name or note a pop-up shows; a longer one is cut with "…" (a 5,000-character name
/// from an imported file must not fill the screen).
const NAME_CHARS: usize = 80;
const NOTE_CHARS: usize = 200;

/// One line of plain text from untrusted text: control characters and runs of white space
/// become one space, and it is cut at `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let words: Vec<&str> = s.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
    let joined = words.join(" ");
    if joined.chars().count() <= max {
        joined
    } else {
        let mut cut: String = joined.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

/// "Mehmet Öztürk · Öztürk Lojistik" (plain text), or None when the contact has no usable name.
pub fn contact_title(c: &ContactMatch) -> Option<String> {
    let name = one_line(&c.name, NAME_CHARS);
    if name.is_empty() {
        return None;
    }
    match c.company.as_deref().map(|co| one_line(co, NAME_CHARS)).filter(|co| !co.is_empty()) {
        Some(co) => Some(format!("{name} · {co}")),
        None => Some(name),
    }
}

/// Escape text for the Desktop Notifications body markup (a small subset of HTML).
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// "→ Menü 10 → Grup 111 → Dahili 1000" (unescaped).
pub fn route_text(route: &[RouteStep], english: bool) -> String {
    route_words(english, route).iter().map(|w| format!("→ {w}")).collect::<Vec<_>>().join(" ")
}

fn when_text(us: i64, now: DateTime<Local>, english: bool) -> String {
    let Some(t) = Local.timestamp_micros(us).single() else { return String::new() };
    let days = (now.date_naive() - t.date_naive()).num_days();
    let hm = t.format("%H:%M");
    match days {
        0 => tf(english, "popup.today", &[("time", &hm)]),
        1 => tf(english, "popup.yesterday", &[("time", &hm)]),
        _ => t.format("%d.%m.%Y %H:%M").to_string(),
    }
}

/// "3. arama bu hafta · son: dün 14:02, cevapsız" (unescaped), or "İlk arama" for a new number.
pub fn history_text(h: &CallerHistory, now: DateTime<Local>, english: bool) -> String {
    let Some((prev_us, prev_missed)) = h.previous else {
        return t(english, "popup.firstCall").into();
    };
    let when = when_text(prev_us, now, english);
    let key = if prev_missed { "popup.historyMissed" } else { "popup.history" };
    tf(english, key, &[("n", &h.this_week.max(1)), ("when", &when)])
}

/// Whether `change` pops up at all, and as what. Cheap: the caller's history (a query) is only
/// needed for the text of a pop-up that will be shown.
pub fn wanted(change: &Change, prefs: &PopupPrefs) -> Option<PopupKind> {
    let call = &change.call;
    if prefs.do_not_disturb {
        return None;
    }
    let kind = match (call.kind, call.state) {
        (CallKind::Fax, _) => PopupKind::Fax,
        (_, CallState::Missed) => PopupKind::Missed,
        (_, CallState::Ringing) => PopupKind::Ringing,
        // Answered or ended: the pop-up has served its purpose.
        _ => return None,
    };
    let wanted = match kind {
        PopupKind::Fax => prefs.events.fax && change.event_type == "fax_init",
        PopupKind::Missed => prefs.events.missed && matches!(change.event_type.as_str(), "missing_call" | "call_hangup"),
        PopupKind::Ringing => match change.event_type.as_str() {
            "call_init" => prefs.events.call_init,
            "call_init_menu" | "call_init_group" | "call_init_extension" => prefs.events.routed,
            _ => false,
        },
    };
    if !wanted || (call.direction == Direction::Out && !prefs.events.outgoing) {
        return None;
    }
    if prefs.only_my_extensions && !routed_to_mine(call, &prefs.my_extensions) {
        return None;
    }
    Some(kind)
}

/// Decide whether `change` pops up and with what text.
pub fn plan(change: &Change, prefs: &PopupPrefs, history: &CallerHistory, now: DateTime<Local>) -> Option<Popup> {
    let call = &change.call;
    let en = prefs.english;
    let kind = wanted(change, prefs)?;
    let caller = call.caller.clone().unwrap_or_else(|| t(en, "call.unknownNumber").into());
    let callee = call.callee.clone().unwrap_or_else(|| "?".into());
    let outgoing = call.direction == Direction::Out && kind == PopupKind::Ringing;
    // A known party's name (and company) is the title; its number moves to the first line.
    let named = history.contact.as_ref().and_then(contact_title);
    let party = |number: &String| named.clone().unwrap_or_else(|| number.clone());
    let summary = match (kind, outgoing) {
        (PopupKind::Fax, _) => tf(en, "popup.fax", &[("caller", &party(&caller))]),
        (PopupKind::Missed, _) => tf(en, "popup.missed", &[("caller", &party(&caller))]),
        (PopupKind::Ringing, true) => tf(en, "popup.outgoing", &[("callee", &party(&callee))]),
        (PopupKind::Ringing, false) => tf(en, "popup.incoming", &[("caller", &party(&caller))]),
    };
    let mut lines = Vec::new();
    if named.is_some() {
        lines.push(if outgoing { callee.clone() } else { caller.clone() });
    }
    if let (Some(callee), false) = (&call.callee, outgoing && named.is_some()) {
        lines.push(tf(en, "popup.to", &[("callee", callee)]));
    }
    if let Some(note) = history.contact.as_ref().and_then(|c| c.note.as_deref()).map(|n| one_line(n, NOTE_CHARS)).filter(|n| !n.is_empty()) {
        lines.push(tf(en, "popup.note", &[("note", &note)]));
    }
    if !call.route.is_empty() {
        lines.push(route_text(&call.route, en));
    }
    lines.push(history_text(history, now, en));
    if call.test {
        lines.push(t(en, "popup.test").into());
    }
    let body = lines.iter().map(|l| escape_markup(l)).collect::<Vec<_>>().join("\n");
    let number = call.caller_e164.clone().or_else(|| call.caller_raw.clone());
    Some(Popup { uuid: call.uuid.clone(), kind, summary, body, number })
}

/// A missed call waiting to be seen, as the missed-calls notice lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedEntry {
    pub uuid: String,
    /// The caller's name from the phone book, else the display form of the number
    /// ("0 532 444 55 66"), or None when withheld.
    pub caller: Option<String>,
    pub started_at_us: i64,
    /// The last extension or group it rang at, if routed ("Dahili 1000").
    pub last_route: Option<String>,
    /// Known only from Bulutfon's API: a backfill found it, Kanca was not running when it rang.
    pub backfilled: bool,
    /// Reached this desk late (see [`is_late`]): it rang while the desk was away.
    pub late: bool,
}

impl MissedEntry {
    pub fn of(call: &Call, english: bool) -> MissedEntry {
        MissedEntry {
            uuid: call.uuid.clone(),
            // The phone book's name when the writer found one, else the number.
            caller: call.caller_name.as_deref().map(|n| one_line(n, NAME_CHARS)).filter(|n| !n.is_empty()).or_else(|| call.caller.clone()),
            started_at_us: call.started_at_us,
            last_route: route_words(english, &call.route).pop(),
            backfilled: !call.sources.is_empty() && call.sources.iter().all(|s| s == crate::call::SOURCE_API),
            late: false,
        }
    }
}

/// A missed call a backfill found this long after it rang is history, not news: it stays in the
/// list (filtered to missed calls) but does not join the missed-calls notice. Three days cover
/// a night and a weekend with Kanca closed; an account's first backfill brings a month.
pub const BACKFILL_NEWS_US: i64 = 72 * 3600 * 1_000_000;

/// Whether `change` is a backfill's record (or a late copy, see [`is_late`]) of a call that rang
/// too long ago to announce.
pub fn is_old_backfill(change: &Change, now_us: i64) -> bool {
    (change.event_type.starts_with("api_cdr") || is_late(change, now_us)) && now_us.saturating_sub(change.call.started_at_us) > BACKFILL_NEWS_US
}

/// An event the receiver acknowledged this long before it reached the pop-ups is being caught
/// up with (an office desk that was away or closed), not happening now.
pub const LATE_US: i64 = 60 * 1_000_000;

/// Whether `change` arrives late: no ringing pop-up for it; a missed call joins the one notice,
/// shown once when the catching up is done.
pub fn is_late(change: &Change, now_us: i64) -> bool {
    now_us.saturating_sub(change.received_at_us) > LATE_US
}

/// Lines listed in the missed-calls notice before "and N more".
pub const MISSED_LINES: usize = 5;

/// The one notice that stands for every missed call not yet seen: (summary, body markup).
/// `entries` are oldest first, as they arrived; the notice lists the latest on top. One call
/// reads like any other pop-up ("Cevapsız arama: 0 532 …"); more become "3 cevapsız arama".
pub fn missed_notice(entries: &[MissedEntry], now: DateTime<Local>, english: bool) -> Option<(String, String)> {
    let latest = entries.last()?;
    let who = |e: &MissedEntry| {
        e.caller.clone().unwrap_or_else(|| t(english, "call.unknownNumber").into())
    };
    let summary = match entries.len() {
        // Every one found by a backfill: say why no pop-up rang for them.
        1 if latest.backfilled => tf(english, "popup.missedWhileClosedOne", &[("caller", &who(latest))]),
        n if entries.iter().all(|e| e.backfilled) => tf(english, "popup.missedWhileClosed", &[("n", &n)]),
        // Every one caught up with by a desk that was away from its receiver.
        1 if latest.late => tf(english, "popup.missedWhileAwayOne", &[("caller", &who(latest))]),
        n if entries.iter().all(|e| e.backfilled || e.late) => tf(english, "popup.missedWhileAway", &[("n", &n)]),
        1 => tf(english, "popup.missed", &[("caller", &who(latest))]),
        n => tf(english, "popup.missedMany", &[("n", &n)]),
    };
    let mut lines: Vec<String> = entries
        .iter()
        .rev()
        .take(MISSED_LINES)
        .map(|e| {
            let when = when_text(e.started_at_us, now, english);
            let route = e.last_route.as_deref().map(|r| format!(" → {r}")).unwrap_or_default();
            if entries.len() == 1 {
                format!("{when}{route}")
            } else {
                format!("{when} · {}{route}", who(e))
            }
        })
        .collect();
    if entries.len() > MISSED_LINES {
        let more = entries.len() - MISSED_LINES;
        lines.push(tf(english, "popup.missedMore", &[("n", &more)]));
    }
    let body = lines.iter().map(|l| escape_markup(l)).collect::<Vec<_>>().join("\n");
    Some((summary, body))
}

fn routed_to_mine(call: &Call, mine: &[String]) -> bool {
    let extensions: Vec<&str> =
        call.route.iter().filter(|r| r.kind == RouteType::Extension).map(|r| r.destination.as_str()).collect();
    // Not routed to any extension yet: still ringing at the company, so it may be ours.
    extensions.is_empty() || extensions.iter().any(|e| mine.iter().any(|m| m.trim() == *e))
}

const CALLER_HISTORY: &str = "SELECT c.uuid, c.started_at_us, c.missed FROM calls_fts f JOIN calls c ON c.sort_key = f.rowid
     WHERE f.search_text GLOB ?1 AND c.kind = 'call' AND c.test = 0 ORDER BY f.rowid DESC LIMIT 200";

/// Run the caller-history query once on `conn` (a number no call has), so the first pop-up
/// after start finds its statement prepared and the index's first pages read.
pub fn warm_up(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached(CALLER_HISTORY)?.query_map(["0*"], |_| Ok(()))?.for_each(drop);
    Ok(())
}

/// Earlier calls from the same number (matched on E.164 when known, else as received). Test
/// events (the guide's, "Test the connection") are not calls and are not counted.
pub fn caller_history(conn: &Connection, call: &Call, now: DateTime<Local>) -> Result<CallerHistory, StoreError> {
    let contact = party_contact(conn, call);
    let Some(raw) = call.caller_raw.as_deref() else { return Ok(CallerHistory { contact, ..Default::default() }) };
    let digits = crate::phone::normalize(raw).search;
    if digits.is_empty() {
        return Ok(CallerHistory { contact, ..Default::default() });
    }
    let monday = now.date_naive() - chrono::Duration::days(now.weekday().num_days_from_monday() as i64);
    let week_start = Local
        .from_local_datetime(&monday.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .map(|d| d.timestamp_micros())
        .unwrap_or(0);
    // The caller's number is the first word of the search text.
    let pattern = format!("{}*", digits.replace(['*', '?', '['], ""));
    let mut stmt = conn.prepare_cached(CALLER_HISTORY)?;
    let rows = stmt.query_map([pattern], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?)))?;
    let mut h = CallerHistory { contact, ..Default::default() };
    for row in rows {
        let (uuid, started, missed) = row?;
        if started >= week_start {
            h.this_week += 1;
        }
        if uuid != call.uuid && h.previous.is_none() && started <= call.started_at_us {
            h.previous = Some((started, missed));
        }
    }
    if h.this_week == 0 {
        h.this_week = 1;
    }
    Ok(h)
}

/// The phone book's entry for the other party of `call` (the caller, the callee of an outgoing
/// call): one indexed look-up of the whole number. A failed look-up only costs the name.
fn party_contact(conn: &Connection, call: &Call) -> Option<ContactMatch> {
    let (e164, raw) = match call.direction {
        Direction::Out => (&call.callee_e164, &call.callee_raw),
        Direction::In => (&call.caller_e164, &call.caller_raw),
    };
    let key = e164.clone().or_else(|| raw.as_deref().and_then(crate::contacts::number_key))?;
    crate::contacts::lookup_key(conn, &key).unwrap_or_else(|e| {
        tracing::warn!("cannot look up the contact of call {}: {e}", call.uuid);
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{assemble, EventRecord};
    use crate::webhook;

    fn change(bodies: &[&str], last_type: &str) -> Change {
        let recs: Vec<EventRecord> = bodies
            .iter()
            .map(|b| EventRecord { event: webhook::parse(Some("application/json"), b.as_bytes()).unwrap(), received_at_us: 1 })
            .collect();
        Change { event_id: 1, event_type: last_type.into(), received_type: last_type.into(), received_at_us: 1, call: assemble(&recs).unwrap() }
    }

    const INIT: &str = r#"{"event_type":"call_init","uuid":"u","caller":"905324445566","callee":"908508850000","direction":"IN","timestamp":1700000000000000}"#;
    const MENU: &str = r#"{"event_type":"call_init_menu","uuid":"u","caller":"905324445566","callee":"908508850000","direction":"IN","timestamp":1700000001000000,"destination":10}"#;
    const EXT: &str = r#"{"event_type":"call_init_extension","uuid":"u","caller":"905324445566","callee":"908508850000","direction":"IN","timestamp":1700000002000000,"destination":1000}"#;

    fn now() -> DateTime<Local> {
        Local.timestamp_micros(1_700_000_100_000_000).unwrap()
    }

    #[test]
    fn ringing_call_pops_up_with_route_and_history() {
        let c = change(&[INIT, MENU, EXT], "call_init_extension");
        let h = CallerHistory { this_week: 3, previous: Some((1_700_000_000_000_000 - 86_400_000_000, true)), contact: None };
        let p = plan(&c, &PopupPrefs::default(), &h, now()).unwrap();
        assert_eq!(p.kind, PopupKind::Ringing);
        assert_eq!(p.summary, "Gelen arama: 0 532 444 55 66");
        assert!(p.body.contains("Aranan: 0 850 885 00 00"));
        assert!(p.body.contains("→ Menü 10 → Dahili 1000"), "{}", p.body);
        assert!(p.body.contains("3. arama bu hafta · son: dün"), "{}", p.body);
        assert!(p.body.ends_with(", cevapsız"));
        assert_eq!(p.number.as_deref(), Some("+905324445566"));
    }

    #[test]
    fn caller_text_is_escaped_in_the_body() {
        let evil = r#"{"event_type":"call_init","uuid":"x","caller":"<img src=x onerror=alert(1)>","callee":"<b>&","direction":"IN","timestamp":1700000000000000}"#;
        let p = plan(&change(&[evil], "call_init"), &PopupPrefs::default(), &CallerHistory::default(), now()).unwrap();
        assert!(p.body.contains("&lt;b&gt;&amp;"), "{}", p.body);
        assert!(!p.body.contains('<'));
    }

    fn known(name: &str, company: Option<&str>, note: Option<&str>) -> CallerHistory {
        let contact = ContactMatch { id: 1, name: name.into(), company: company.map(Into::into), note: note.map(Into::into) };
        CallerHistory { contact: Some(contact), ..Default::default() }
    }

    #[test]
    fn a_known_caller_is_named_in_the_title_with_the_number_under_it() {
        let c = change(&[INIT, MENU, EXT], "call_init_extension");
        let h = known("Mehmet Öztürk", Some("Öztürk Lojistik"), Some("sabah 9'dan önce\naramayın"));
        let p = plan(&c, &PopupPrefs::default(), &h, now()).unwrap();
        assert_eq!(p.summary, "Gelen arama: Mehmet Öztürk · Öztürk Lojistik");
        let lines: Vec<&str> = p.body.lines().collect();
        assert_eq!(lines[0], "0 532 444 55 66", "{}", p.body);
        assert!(lines.contains(&"Not: sabah 9&#39;dan önce aramayın"), "one line, escaped: {}", p.body);
        assert_eq!(p.number.as_deref(), Some("+905324445566"));
        let en = plan(&c, &PopupPrefs { english: true, ..Default::default() }, &known("Ayşe", None, None), now()).unwrap();
        assert!(en.summary.ends_with(": Ayşe"), "{}", en.summary);
        assert!(!en.body.contains("Note"), "{}", en.body);
        // Unknown numbers read as before.
        let p = plan(&c, &PopupPrefs::default(), &CallerHistory::default(), now()).unwrap();
        assert_eq!(p.summary, "Gelen arama: 0 532 444 55 66");
    }

    #[test]
    fn a_hostile_contact_name_stays_plain_text_and_short() {
        let c = change(&[INIT], "call_init");
        let long = "Ş".repeat(5_000);
        let hostile = format!("<b>Evil</b><script>alert(1)</script>\n{long}");
        let p = plan(&c, &PopupPrefs::default(), &known(&hostile, Some("<i>&Co</i>"), Some("<a href='x'>tık</a>")), now()).unwrap();
        // The title is plain text (the server does not read markup there): shown as written,
        // on one line, cut short.
        assert!(p.summary.starts_with("Gelen arama: <b>Evil</b><script>alert(1)</script> ŞŞŞ"), "{}", p.summary);
        assert!(!p.summary.contains('\n'));
        assert!(p.summary.chars().count() < 200, "{} characters", p.summary.chars().count());
        assert!(p.summary.contains("… · <i>&Co</i>"), "{}", p.summary);
        // The body is markup: every piece of the contact is escaped.
        assert!(!p.body.contains('<'), "{}", p.body);
        assert!(p.body.contains("Not: &lt;a href=&#39;x&#39;&gt;tık&lt;/a&gt;"), "{}", p.body);
        // A name of nothing but blanks does not make an empty title.
        let p = plan(&c, &PopupPrefs::default(), &known(" \t ", None, None), now()).unwrap();
        assert_eq!(p.summary, "Gelen arama: 0 532 444 55 66");
    }

    #[test]
    fn an_outgoing_call_names_the_callee() {
        let out = INIT.replace("\"IN\"", "\"OUT\"");
        let prefs = PopupPrefs { events: PopupEvents { outgoing: true, ..Default::default() }, ..Default::default() };
        let p = plan(&change(&[&out], "call_init"), &prefs, &known("Bulutfon Destek", None, None), now()).unwrap();
        assert_eq!(p.summary, "Giden arama: Bulutfon Destek");
        assert_eq!(p.body.lines().next(), Some("0 850 885 00 00"), "{}", p.body);
    }

    #[test]
    fn the_phone_book_names_the_caller_from_the_database() {
        use crate::store::{ingest_batch, open, IncomingEvent, DB_FILE};
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join(DB_FILE)).unwrap();
        let input = crate::contacts::ContactInput {
            name: "Mehmet Öztürk".into(),
            numbers: vec![crate::contacts::NumberInput { raw: "0532 444 55 66".into(), label: None }],
            note: Some("VIP".into()),
            ..Default::default()
        };
        crate::contacts::add(&mut conn, &input).unwrap();
        let ev = IncomingEvent { event: webhook::parse(None, INIT.as_bytes()).unwrap(), raw: INIT.as_bytes().to_vec(), content_type: None, received_at_us: 1 };
        ingest_batch(&mut conn, &[ev]).unwrap();
        let call = crate::history::get_call(&conn, "u").unwrap().unwrap().call;
        let h = caller_history(&conn, &call, now()).unwrap();
        assert_eq!(h.contact.as_ref().map(|c| c.name.as_str()), Some("Mehmet Öztürk"));
        assert_eq!(h.contact.as_ref().and_then(|c| c.note.as_deref()), Some("VIP"));
        assert_eq!(MissedEntry::of(&call, false).caller.as_deref(), Some("Mehmet Öztürk"));
    }

    #[test]
    fn preferences_filter_popups() {
        let c = change(&[INIT, MENU, EXT], "call_init_extension");
        let h = CallerHistory::default();
        let dnd = PopupPrefs { do_not_disturb: true, ..Default::default() };
        assert!(plan(&c, &dnd, &h, now()).is_none());
        let no_routed = PopupPrefs { events: PopupEvents { routed: false, ..Default::default() }, ..Default::default() };
        assert!(plan(&c, &no_routed, &h, now()).is_none());
        let mine = |ext: &str| PopupPrefs { only_my_extensions: true, my_extensions: vec![ext.into()], ..Default::default() };
        assert!(plan(&c, &mine("1000"), &h, now()).is_some());
        assert!(plan(&c, &mine("1001"), &h, now()).is_none());
        // Not routed yet: it may be for me.
        assert!(plan(&change(&[INIT], "call_init"), &mine("1001"), &h, now()).is_some());
        let out = INIT.replace("\"IN\"", "\"OUT\"");
        assert!(plan(&change(&[&out], "call_init"), &PopupPrefs::default(), &h, now()).is_none());
        let outgoing = PopupPrefs { events: PopupEvents { outgoing: true, ..Default::default() }, ..Default::default() };
        assert!(plan(&change(&[&out], "call_init"), &outgoing, &h, now()).is_some());
    }

    #[test]
    fn missed_and_fax_have_their_own_popups() {
        let missed = r#"{"event_type":"missing_call","uuid":"u","caller":"905324445566","callee":"908508850000","direction":"IN","timestamp":1700000009000000}"#;
        let p = plan(&change(&[INIT, missed], "missing_call"), &PopupPrefs::default(), &CallerHistory::default(), now()).unwrap();
        assert_eq!(p.kind, PopupKind::Missed);
        assert!(p.summary.starts_with("Cevapsız arama"));
        let fax = INIT.replace("call_init", "fax_init");
        let p = plan(&change(&[&fax], "fax_init"), &PopupPrefs::default(), &CallerHistory::default(), now()).unwrap();
        assert_eq!(p.kind, PopupKind::Fax);
        let answered = r#"{"event_type":"call_hangup","uuid":"u","caller":"905324445566","direction":"IN","timestamp":1700000009000000,"talk_duration":20,"result_disposition":"SUCCESS"}"#;
        assert!(plan(&change(&[INIT, answered], "call_hangup"), &PopupPrefs::default(), &CallerHistory::default(), now()).is_none());
    }

    #[test]
    fn missed_calls_share_one_notice_latest_on_top() {
        let e = |uuid: &str, caller: Option<&str>, min: i64| MissedEntry {
            uuid: uuid.into(),
            caller: caller.map(Into::into),
            started_at_us: 1_700_000_100_000_000 - min * 60_000_000,
            last_route: Some("Dahili 1000".into()),
            backfilled: false,
            late: false,
        };
        assert_eq!(missed_notice(&[], now(), false), None);
        let (summary, body) = missed_notice(&[e("a", Some("0 532 444 55 66"), 5)], now(), false).unwrap();
        assert_eq!(summary, "Cevapsız arama: 0 532 444 55 66");
        assert!(body.ends_with("→ Dahili 1000"), "{body}");
        let three = [e("a", Some("0 532 444 55 66"), 5), e("b", None, 3), e("c", Some("<b>"), 1)];
        let (summary, body) = missed_notice(&three, now(), false).unwrap();
        assert_eq!(summary, "3 cevapsız arama");
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("&lt;b&gt;"), "latest first, escaped: {body}");
        assert!(lines[1].contains("Bilinmeyen numara"), "{body}");
        assert!(lines[2].contains("0 532 444 55 66"), "{body}");
        let many: Vec<MissedEntry> = (0..8).map(|i| e(&i.to_string(), Some("0 212 000 00 00"), 10 - i)).collect();
        let (summary, body) = missed_notice(&many, now(), true).unwrap();
        assert_eq!(summary, "8 missed calls");
        assert_eq!(body.lines().count(), MISSED_LINES + 1);
        assert!(body.ends_with("and 3 more"), "{body}");
        // Found by a backfill: said so, and once one rang while Kanca ran, no longer.
        let mut closed: Vec<MissedEntry> = three.iter().cloned().map(|m| MissedEntry { backfilled: true, ..m }).collect();
        assert_eq!(missed_notice(&closed, now(), false).unwrap().0, "Kanca kapalıyken 3 cevapsız arama");
        assert_eq!(missed_notice(&closed[..1], now(), true).unwrap().0, "Missed while Kanca was closed: 0 532 444 55 66");
        closed.push(e("d", None, 0));
        assert_eq!(missed_notice(&closed, now(), false).unwrap().0, "4 cevapsız arama");
        // Caught up with by a desk that was away: said so, with or without a backfill's.
        let mut away: Vec<MissedEntry> = three.iter().cloned().map(|m| MissedEntry { late: true, ..m }).collect();
        assert_eq!(missed_notice(&away[..1], now(), false).unwrap().0, "Siz yokken 1 cevapsız arama: 0 532 444 55 66");
        away[0].late = false;
        away[0].backfilled = true;
        assert_eq!(missed_notice(&away, now(), true).unwrap().0, "3 missed calls while you were away");
    }

    #[test]
    fn an_event_acknowledged_long_ago_is_late() {
        let mut c = change(&[INIT], "call_init");
        let now = 1_700_000_000_000_000;
        c.received_at_us = now - 5_000_000;
        assert!(!is_late(&c, now));
        c.received_at_us = now - LATE_US - 1;
        assert!(is_late(&c, now));
        c.call.started_at_us = now - BACKFILL_NEWS_US - 1;
        assert!(is_old_backfill(&c, now), "a late copy of a call from days ago is history");
    }

    #[test]
    fn history_from_the_database() {
        use crate::store::{ingest_batch, open, IncomingEvent, DB_FILE};
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join(DB_FILE)).unwrap();
        // Warming up on an empty history prepares the query and changes nothing.
        warm_up(&conn).unwrap();
        let mk = |uuid: &str, ts: i64, ty: &str| {
            let body = format!(r#"{{"event_type":"{ty}","uuid":"{uuid}","caller":"905324445566","callee":"908508850000","direction":"IN","timestamp":{ts}}}"#);
            IncomingEvent { event: webhook::parse(None, body.as_bytes()).unwrap(), raw: body.into_bytes(), content_type: None, received_at_us: ts }
        };
        let t = 1_700_000_000_000_000;
        let mut test_call = mk("test-1", t - 60_000_000, "call_init");
        let body = String::from_utf8(test_call.raw.clone()).unwrap().replace("}", r#","kanca_test":true}"#);
        test_call.event = webhook::parse(None, body.as_bytes()).unwrap();
        test_call.raw = body.into_bytes();
        ingest_batch(&mut conn, &[mk("a", t - 3_600_000_000, "call_init"), mk("a", t - 3_500_000_000, "missing_call"), test_call, mk("b", t, "call_init")])
            .unwrap();
        let call = crate::history::get_call(&conn, "b").unwrap().unwrap().call;
        // A minute after the last call (a Tuesday in every time zone's week of it).
        let at = chrono::DateTime::from_timestamp_micros(t + 60_000_000).unwrap().with_timezone(&chrono::Local);
        let h = caller_history(&conn, &call, at).unwrap();
        // The later test call is neither the previous call nor counted.
        assert_eq!(h.previous, Some((t - 3_600_000_000, true)));
        assert_eq!(h.this_week, 2, "a and b this week, the test call not");
        // Seen from a later week, neither counts, but the call at hand is always one.
        let later = at + chrono::Duration::days(14);
        assert_eq!(caller_history(&conn, &call, later).unwrap().this_week, 1);
    }
}
