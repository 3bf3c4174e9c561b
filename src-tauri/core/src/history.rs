//! Call and fax history: newest-first, filtered, paged search over the assembled calls.
//!
//! Number queries in any spelling are reduced to digits and matched as a substring through the
//! trigram index (FTS5 `GLOB`). Words also find the calls of the phone book's contacts whose
//! name or company has them (matched by the contacts' whole numbers), and calls whose note or
//! tags have them; calls are read with their names, note and tags filled in. User text never
//! becomes query syntax: every term is bound as a parameter with GLOB's wildcards escaped (and
//! quoted as a phrase for the phone book's index), so no input can make a query fail.

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::call::{Call, CallKind, Direction};
use crate::phone;
use crate::time::now_us;
use crate::store::{call_from_row, load_events, sort_key_floor, EventView, StoreError, CALL_COLUMNS, MIN_SUFFIX};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, TS)]
#[serde(default)]
pub struct Query {
    /// Number in any spelling, destination, or other text; empty means everything.
    pub text: String,
    pub kind: Option<CallKind>,
    pub missed_only: bool,
    pub direction: Option<Direction>,
    /// Calls that started at or after this time (microseconds).
    #[ts(type = "number | null")]
    pub since_us: Option<i64>,
    /// Calls that started before this time (microseconds).
    #[ts(type = "number | null")]
    pub until_us: Option<i64>,
    /// Continue after this cursor (from [`Page::next_cursor`]).
    #[serde(with = "cursor_text")]
    #[ts(type = "string | null")]
    pub before: Option<i64>,
    #[ts(type = "number")]
    pub limit: usize,
    /// Only calls carrying this tag.
    #[ts(optional)]
    pub tag: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Page {
    pub calls: Vec<Call>,
    /// Pass as [`Query::before`] to get the next page; None when this was the last.
    #[serde(with = "cursor_text")]
    #[ts(type = "string | null")]
    pub next_cursor: Option<i64>,
}

/// Cursors are sort keys (~1.8e18), beyond what a JavaScript number holds exactly: they travel
/// as strings.
mod cursor_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(k) => s.serialize_str(&k.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(t) => t.parse().map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

pub const MAX_LIMIT: usize = 100_000;

/// How the search text is matched.
#[derive(Debug, PartialEq)]
enum Needle {
    None,
    /// Through the trigram index, each term as a substring.
    Fts(Vec<String>),
    /// Too short for trigrams (1–2 characters): a scan, newest first, cheap since such
    /// needles match most rows.
    Scan(Vec<String>),
    /// Both: long terms through the index, short ones checked on the rows it yields.
    Both(Vec<String>, Vec<String>),
}

/// A GLOB pattern matching `term` anywhere, with GLOB's special characters taken literally.
fn contains_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('*');
    for c in term.chars() {
        match c {
            '*' | '?' | '[' => {
                p.push('[');
                p.push(c);
                p.push(']');
            }
            _ => p.push(c),
        }
    }
    p.push('*');
    p
}

fn needle(text: &str) -> Needle {
    let text = text.trim();
    if text.is_empty() {
        return Needle::None;
    }
    let terms: Vec<String> = match phone::search_digits(text) {
        Some(digits) => vec![digits],
        None => text.split_whitespace().map(|t| t.to_lowercase()).collect(),
    };
    // Trigrams need three characters; shorter terms are checked on the rows found.
    let (long, short): (Vec<String>, Vec<String>) = terms.into_iter().partition(|t| t.chars().count() >= 3);
    match (long.is_empty(), short.is_empty()) {
        (true, true) => Needle::None,
        (true, false) => Needle::Scan(short),
        (false, true) => Needle::Fts(long),
        (false, false) => Needle::Both(long, short),
    }
}

/// The kind, missed and direction filters as SQL conditions on `calls c` with their arguments.
fn push_filters(q: &Query, conds: &mut Vec<String>, args: &mut Vec<SqlValue>) {
    if let Some(k) = q.kind {
        // A literal, not a parameter: SQLite only uses the partial index of faxes
        // (calls_fax_text) when the query names its condition itself. The value is one of
        // CallKind's fixed names, never user text.
        conds.push(format!("c.kind = '{}'", k.as_str()));
    }
    if q.missed_only {
        conds.push("c.missed = 1".into());
    }
    if let Some(d) = q.direction {
        conds.push("c.direction = ?".into());
        args.push(SqlValue::Text(d.as_str().into()));
    }
}

/// Search the history as it stands now. Never fails on what the user typed; errors are
/// database errors only.
pub fn search(conn: &Connection, q: &Query) -> Result<Page, StoreError> {
    search_at(conn, q, now_us())
}

/// [`search`] with every call settled at `now_us` (calls silent too long are no longer ringing).
pub fn search_at(conn: &Connection, q: &Query, now_us: i64) -> Result<Page, StoreError> {
    let mut page = search_stored(conn, q)?;
    for call in &mut page.calls {
        call.settle(now_us);
    }
    annotate(conn, &mut page.calls)?;
    Ok(page)
}

/// What a call read from the store is given beside what is stored: the phone book's names, the
/// note and tags, the names of its route's menus, groups and extensions and of the line it came
/// in on.
pub fn annotate(conn: &Connection, calls: &mut [Call]) -> Result<(), StoreError> {
    crate::contacts::annotate_all(conn, calls).map_err(store_error)?;
    crate::names::annotate_all(conn, calls)
}

/// Reading the phone book only fails in the database.
fn store_error(e: crate::contacts::ContactsError) -> StoreError {
    match e {
        crate::contacts::ContactsError::Store(s) => s,
        other => StoreError::Corrupt(other.to_string()),
    }
}

/// Calls found, newest first, each with its sort key; `more` when there are more past them.
#[derive(Default)]
struct Hits {
    calls: Vec<(i64, Call)>,
    more: bool,
}

impl Hits {
    fn page(self) -> Page {
        let next_cursor = if self.more { self.calls.last().map(|(k, _)| *k) } else { None };
        Page { calls: self.calls.into_iter().map(|(_, c)| c).collect(), next_cursor }
    }

    /// Both lists' calls, newest first, without repeats, at most `limit`.
    fn merge(self, other: Hits, limit: usize) -> Hits {
        let more = self.more || other.more;
        let mut all: Vec<(i64, Call)> = self.calls.into_iter().chain(other.calls).collect();
        all.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
        all.dedup_by_key(|(k, _)| *k);
        let over = all.len() > limit;
        all.truncate(limit);
        Hits { calls: all, more: more || over }
    }
}

fn search_stored(conn: &Connection, q: &Query) -> Result<Page, StoreError> {
    let limit = q.limit.clamp(1, MAX_LIMIT);
    if let Some(tag) = &q.tag {
        return Ok(search_tagged(conn, q, tag, limit)?.page());
    }
    let text = search_plain(conn, q, limit)?;
    Ok(match named(conn, q)? {
        Some(names) => text.merge(search_named(conn, q, &names, limit)?, limit).page(),
        None => text.page(),
    })
}

/// The calls that the search text matches through the number and text indexes.
fn search_plain(conn: &Connection, q: &Query, limit: usize) -> Result<Hits, StoreError> {
    if let Some(digits) = phone::search_digits(&q.text).filter(|d| d.len() >= MIN_SUFFIX) {
        if let Some(hits) = search_by_number(conn, q, &digits, limit)? {
            return Ok(hits);
        }
    }
    let mut sql = format!("SELECT c.sort_key, {CALL_COLUMNS} FROM ");
    let mut args: Vec<SqlValue> = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    let mut n = needle(&q.text);
    // Faxes are a few percent of the history: walking the fax index and checking each fax's
    // numbers beats walking the text index for matches that are rarely faxes.
    if q.kind == Some(CallKind::Fax) {
        n = match n {
            Needle::Fts(terms) => Needle::Scan(terms),
            Needle::Both(long, short) => Needle::Scan(long.into_iter().chain(short).collect()),
            other => other,
        };
    }
    // One or two letters match no number: walking every call for them would find nothing
    // but take a scan of the history; they find names (and faxes' own text, a small index).
    if let Needle::Scan(short) = &n {
        if q.kind != Some(CallKind::Fax) && short.iter().all(|t| !t.chars().any(|c| c.is_ascii_digit())) {
            return Ok(Hits::default());
        }
    }
    // The sort key orders calls by start time, so the FTS rowid order *is* newest-first and
    // SQLite can stop after `limit` matches instead of sorting them all.
    let key = match &n {
        Needle::Fts(long) | Needle::Both(long, _) => {
            sql.push_str("calls_fts f JOIN calls c ON c.sort_key = f.rowid");
            for t in long {
                conds.push("f.search_text GLOB ?".into());
                args.push(SqlValue::Text(contains_pattern(t)));
            }
            "f.rowid"
        }
        _ => {
            sql.push_str("calls c");
            "c.sort_key"
        }
    };
    if let Needle::Scan(short) | Needle::Both(_, short) = &n {
        for t in short {
            conds.push("instr(c.search_text, ?) > 0".into());
            args.push(SqlValue::Text(t.clone()));
        }
    }
    push_filters(q, &mut conds, &mut args);
    if let Some(s) = q.since_us {
        conds.push(format!("{key} >= ?"));
        args.push(SqlValue::Integer(sort_key_floor(s)));
    }
    if let Some(u) = q.until_us {
        conds.push(format!("{key} < ?"));
        args.push(SqlValue::Integer(sort_key_floor(u)));
    }
    if let Some(b) = q.before {
        conds.push(format!("{key} < ?"));
        args.push(SqlValue::Integer(b));
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(&format!(" ORDER BY {key} DESC LIMIT ?"));
    args.push(SqlValue::Integer(limit as i64 + 1));

    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut hits = Hits { calls: Vec::with_capacity(limit.min(1024)), more: false };
    while let Some(row) = rows.next()? {
        if hits.calls.len() == limit {
            hits.more = true;
            break;
        }
        hits.calls.push((row.get::<_, i64>(0)?, call_from_row(row, 1)?));
    }
    Ok(hits)
}

/// More matches than this and a number query is common enough for the trigram index, which
/// stops after a page; fewer, and fetching them by key beats intersecting trigram lists.
const MAX_NUMBER_HITS: usize = 5000;

/// A number fragment of 6+ digits through the suffix index; None when it matches so many calls
/// that the trigram path is faster.
fn search_by_number(conn: &Connection, q: &Query, digits: &str, limit: usize) -> Result<Option<Hits>, StoreError> {
    // Calls with a suffix starting with `digits`: a prefix query, the term quoted as every
    // term from user text is (it is digits only anyway).
    let keys: Vec<i64> = conn
        .prepare_cached("SELECT rowid FROM call_numbers WHERE call_numbers MATCH ?1 LIMIT ?2")?
        .query_map(rusqlite::params![format!("\"{digits}\" *"), MAX_NUMBER_HITS as i64 + 1], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if keys.len() > MAX_NUMBER_HITS {
        return Ok(None);
    }
    Ok(Some(fetch_keys(conn, q, keys, limit, |_, _| Ok(true))?))
}

/// The calls with these sort keys that pass the query's filters and `keep`, newest first.
fn fetch_keys(
    conn: &Connection,
    q: &Query,
    mut keys: Vec<i64>,
    limit: usize,
    mut keep: impl FnMut(i64, &Call) -> Result<bool, StoreError>,
) -> Result<Hits, StoreError> {
    keys.sort_unstable_by(|a, b| b.cmp(a));
    keys.dedup();
    let lo = q.since_us.map(sort_key_floor).unwrap_or(i64::MIN);
    let hi = q.until_us.map(sort_key_floor).unwrap_or(i64::MAX).min(q.before.unwrap_or(i64::MAX));
    let mut conds = vec!["c.sort_key = ?".to_string()];
    let mut args = vec![SqlValue::Null];
    push_filters(q, &mut conds, &mut args);
    let sql = format!("SELECT {CALL_COLUMNS} FROM calls c WHERE {}", conds.join(" AND "));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut hits = Hits::default();
    for key in keys.into_iter().filter(|k| *k >= lo && *k < hi) {
        args[0] = SqlValue::Integer(key);
        let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
        if let Some(row) = rows.next()? {
            let call = call_from_row(row, 0)?;
            if !keep(key, &call)? {
                continue;
            }
            if hits.calls.len() == limit {
                hits.more = true;
                break;
            }
            hits.calls.push((key, call));
        }
    }
    Ok(hits)
}

/// What a text query matches besides the calls' own text: the numbers of the contacts whose
/// name or company has every word, and the calls whose note or tags have every word.
struct Named {
    numbers: std::collections::HashSet<String>,
    noted: std::collections::HashSet<i64>,
}


/// None when the query is a number or empty: names only answer words.
fn named(conn: &Connection, q: &Query) -> Result<Option<Named>, StoreError> {
    let text = q.text.trim();
    let folded = crate::contacts::fold(text);
    if folded.is_empty() || phone::search_digits(text).is_some() || folded.chars().count() < 2 {
        return Ok(None);
    }
    let numbers = crate::contacts::matching_numbers(conn, text).map_err(store_error)?.into_iter().collect();
    let mut conds = Vec::new();
    let mut args = Vec::new();
    for w in folded.split(' ') {
        conds.push("instr(n.folded, ?) > 0");
        args.push(w.to_owned());
    }
    let sql = format!("SELECT c.sort_key FROM call_notes n JOIN calls c ON c.uuid = n.uuid WHERE {}", conds.join(" AND "));
    let noted = conn.prepare_cached(&sql)?.query_map(rusqlite::params_from_iter(args), |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(Some(Named { numbers, noted }))
}

/// Whether a party of `call` is one of `numbers` (matched whole).
fn has_number(call: &Call, numbers: &std::collections::HashSet<String>) -> bool {
    [(&call.caller_e164, &call.caller_raw), (&call.callee_e164, &call.callee_raw)].into_iter().any(|(e164, raw)| {
        let key = match (e164, raw) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(r)) => crate::contacts::number_key(r),
            _ => None,
        };
        key.is_some_and(|k| numbers.contains(&k))
    })
}

/// Rows a name query walks per number it matched before it seeks each number's calls instead:
/// a seek in the number index costs about as much as reading a few rows.
const SCAN_ROWS_PER_NUMBER: usize = 8;

/// The calls of the contacts a name query matched, and those whose note matched. A common name
/// (thousands of numbers, whose calls are everywhere) is quickest found by walking the history
/// newest first; a rare one by seeking its few numbers. The walk gets the rows the seeks would
/// cost, and the seeks run only when it did not fill the page in them.
fn search_named(conn: &Connection, q: &Query, names: &Named, limit: usize) -> Result<Hits, StoreError> {
    let budget = names.numbers.len().saturating_mul(SCAN_ROWS_PER_NUMBER);
    if let Some(hits) = scan_named(conn, q, names, limit, budget)? {
        return Ok(hits);
    }
    let mut keys: Vec<i64> = names.noted.iter().copied().collect();
    // The calls with the whole number as one of their suffix tokens (quoted, no prefix `*`).
    let mut stmt = conn.prepare_cached("SELECT rowid FROM call_numbers WHERE call_numbers MATCH ?1")?;
    for key in &names.numbers {
        let digits = key.trim_start_matches('+');
        if digits.len() < MIN_SUFFIX {
            continue;
        }
        for k in stmt.query_map([format!("\"{digits}\"")], |r| r.get::<_, i64>(0))? {
            keys.push(k?);
        }
    }
    // The suffix index also holds the tails of longer numbers: keep the calls whose number is
    // the contact's whole number.
    fetch_keys(conn, q, keys, limit, |key, call| Ok(names.noted.contains(&key) || has_number(call, &names.numbers)))
}

/// Walk at most `budget` calls newest first for those of the matched numbers or notes. None
/// when the budget ran out before a page (and one more) was found.
fn scan_named(conn: &Connection, q: &Query, names: &Named, limit: usize, budget: usize) -> Result<Option<Hits>, StoreError> {
    if budget == 0 {
        return Ok(None);
    }
    let mut conds = Vec::new();
    let mut args = Vec::new();
    push_filters(q, &mut conds, &mut args);
    for (bound, op) in [(q.since_us.map(sort_key_floor), ">="), (q.until_us.map(sort_key_floor), "<"), (q.before, "<")] {
        if let Some(b) = bound {
            conds.push(format!("c.sort_key {op} ?"));
            args.push(SqlValue::Integer(b));
        }
    }
    let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    let sql = format!("SELECT c.sort_key, c.caller_e164, c.callee_e164, c.caller, c.callee FROM calls c {filter} ORDER BY c.sort_key DESC LIMIT ?");
    args.push(SqlValue::Integer(budget.min(i64::MAX as usize) as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let (mut keys, mut walked) = (Vec::new(), 0usize);
    let known = |e164: Option<String>, raw: Option<String>| {
        e164.or_else(|| raw.as_deref().and_then(crate::contacts::number_key)).is_some_and(|k| names.numbers.contains(&k))
    };
    while let Some(row) = rows.next()? {
        walked += 1;
        let key: i64 = row.get(0)?;
        if names.noted.contains(&key) || known(row.get(1)?, row.get(3)?) || known(row.get(2)?, row.get(4)?) {
            keys.push(key);
            if keys.len() > limit {
                break;
            }
        }
    }
    if keys.len() <= limit && walked >= budget {
        return Ok(None);
    }
    Ok(Some(fetch_keys(conn, q, keys, limit, |_, _| Ok(true))?))
}

/// Calls with a tag (a few, as tags are put on by hand), matching the text when there is one.
fn search_tagged(conn: &Connection, q: &Query, tag: &str, limit: usize) -> Result<Hits, StoreError> {
    let keys: Vec<i64> = conn
        .prepare_cached("SELECT c.sort_key FROM call_tags t JOIN calls c ON c.uuid = t.uuid WHERE t.tag = ?1")?
        .query_map([tag], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let text = q.text.trim();
    if text.is_empty() {
        return fetch_keys(conn, q, keys, limit, |_, _| Ok(true));
    }
    let terms: Vec<String> = match phone::search_digits(text) {
        Some(d) => vec![d],
        None => text.split_whitespace().map(str::to_lowercase).collect(),
    };
    let names = named(conn, q)?;
    let mut own = conn.prepare_cached("SELECT search_text FROM calls WHERE sort_key = ?1")?;
    fetch_keys(conn, q, keys, limit, |key, call| {
        if let Some(n) = &names {
            if n.noted.contains(&key) || has_number(call, &n.numbers) {
                return Ok(true);
            }
        }
        let searched: String = own.query_row([key], |r| r.get(0))?;
        Ok(terms.iter().all(|t| searched.contains(t.as_str())))
    })
}

/// One call with every event stored for it, for `kanca show` and the detail view.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: Call,
    pub events: Vec<EventView>,
}

/// The call `uuid` as it stands now, re-assembled from its events (so it includes the CDR call
/// flow).
pub fn get_call(conn: &Connection, uuid: &str) -> Result<Option<CallDetail>, StoreError> {
    get_call_at(conn, uuid, now_us())
}

/// [`get_call`] with the call settled at `now_us`.
pub fn get_call_at(conn: &Connection, uuid: &str, now_us: i64) -> Result<Option<CallDetail>, StoreError> {
    let stored = load_events(conn, uuid)?;
    let records = stored.iter().map(|e| e.record()).collect::<Result<Vec<_>, _>>()?;
    let Some(call) = crate::call::assemble(&records) else { return Ok(None) };
    let mut call = call.at(now_us);
    annotate(conn, std::slice::from_mut(&mut call))?;
    let events = stored.iter().zip(&records).map(|(s, r)| EventView::new(s, r)).collect();
    Ok(Some(CallDetail { call, events }))
}

/// How many calls are stored.
pub fn count_calls(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM calls", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{CallState, SILENCE_LIMIT_US};
    use crate::store::{ingest_batch, open, IncomingEvent, DB_FILE};
    use crate::webhook;
    use proptest::prelude::*;

    fn incoming(body: String) -> IncomingEvent {
        IncomingEvent {
            event: webhook::parse(Some("application/json"), body.as_bytes()).unwrap(),
            raw: body.into_bytes(),
            content_type: Some("application/json".into()),
            received_at_us: 1,
        }
    }

    fn ev(ty: &str, uuid: &str, caller: &str, ts: i64, extra: &str) -> IncomingEvent {
        incoming(format!(
            r#"{{"event_type":"{ty}","uuid":"{uuid}","caller":"{caller}","callee":908508850000,"direction":"IN","timestamp":{ts}{extra}}}"#
        ))
    }

    const T0: i64 = 1_700_000_000_000_000;
    const HOUR: i64 = 3_600_000_000;

    fn sample_db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join(DB_FILE)).unwrap();
        let evs = vec![
            ev("call_init", "a", "905324445566", T0, ""),
            ev("call_init_extension", "a", "905324445566", T0 + 1, r#","destination":1000"#),
            ev("call_init", "b", "905551112233", T0 + HOUR, ""),
            ev("missing_call", "b", "905551112233", T0 + HOUR + 1, ""),
            ev("fax_init", "c", "902125551234", T0 + 2 * HOUR, ""),
            ev("call_init", "d", "+90 532 444 55 66", T0 + 3 * HOUR, r#","direction":"OUT""#),
        ];
        ingest_batch(&mut conn, &evs).unwrap();
        (dir, conn)
    }

    fn uuids(conn: &Connection, q: Query) -> Vec<String> {
        let q = Query { limit: if q.limit == 0 { 50 } else { q.limit }, ..q };
        search(conn, &q).unwrap().calls.into_iter().map(|c| c.uuid).collect()
    }

    fn text(t: &str) -> Query {
        Query { text: t.into(), ..Default::default() }
    }

    #[test]
    fn numbers_in_any_spelling() {
        let (_d, conn) = sample_db();
        for q in ["4445566", "532 444 55 66", "0532 444", "+90532444", "0 (532) 444-55-66", "905324445566"] {
            assert_eq!(uuids(&conn, text(q)), ["d", "a"], "query {q:?}");
        }
        assert_eq!(uuids(&conn, text("555 11")), ["b"]);
        assert_eq!(uuids(&conn, text("1000")), ["a"], "by destination");
        assert_eq!(uuids(&conn, text("66")).len(), 2, "short needle scans");
        assert!(uuids(&conn, text("999999")).is_empty());
    }

    #[test]
    fn filters_and_newest_first() {
        let (_d, conn) = sample_db();
        assert_eq!(uuids(&conn, Query::default()), ["d", "c", "b", "a"]);
        assert_eq!(uuids(&conn, Query { missed_only: true, ..Default::default() }), ["b"]);
        assert_eq!(uuids(&conn, Query { kind: Some(CallKind::Fax), ..Default::default() }), ["c"]);
        assert_eq!(uuids(&conn, Query { direction: Some(Direction::Out), ..Default::default() }), ["d"]);
        let window = Query { since_us: Some(T0 + HOUR), until_us: Some(T0 + 3 * HOUR), ..Default::default() };
        assert_eq!(uuids(&conn, window), ["c", "b"]);
        let combined = Query { direction: Some(Direction::In), ..text("4445566") };
        assert_eq!(uuids(&conn, combined), ["a"]);
    }

    #[test]
    fn paging_with_cursor_visits_every_call_once() {
        let (_d, conn) = sample_db();
        let mut seen = Vec::new();
        let mut q = Query { limit: 3, ..Default::default() };
        loop {
            let page = search(&conn, &q).unwrap();
            seen.extend(page.calls.into_iter().map(|c| c.uuid));
            match page.next_cursor {
                Some(c) => q.before = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, ["d", "c", "b", "a"]);
    }

    #[test]
    fn fts_syntax_is_inert() {
        let (_d, conn) = sample_db();
        for q in ["\"", "AND", "OR NOT", "*", "a*", "NEAR(a b)", "col:1", "(", ")", "'", "^x", "\"\"\"", "-", "a\0b"] {
            search(&conn, &text(q)).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        }
    }

    #[test]
    fn get_call_includes_events() {
        let (_d, conn) = sample_db();
        let detail = get_call(&conn, "a").unwrap().unwrap();
        assert_eq!(detail.events.len(), 2);
        assert_eq!(detail.call.route.len(), 1);
        assert!(detail.events[0].raw.contains("call_init"));
        assert!(get_call(&conn, "nope").unwrap().is_none());
    }

    fn states(page: Page) -> Vec<(String, CallState)> {
        page.calls.into_iter().map(|c| (c.uuid, c.state)).collect()
    }

    #[test]
    fn silent_calls_are_settled_wherever_they_are_read() {
        let (_d, conn) = sample_db();
        let all = Query { limit: 50, ..Default::default() };
        // "a" was last heard of at T0 + 1 µs, "d" at T0 + 3 h.
        let at = |now| states(search_at(&conn, &all, now).unwrap());
        let ringing = [CallState::Ringing, CallState::Ringing];
        assert_eq!(at(T0 + SILENCE_LIMIT_US).iter().filter(|(u, _)| u == "a" || u == "d").map(|(_, s)| *s).collect::<Vec<_>>(), ringing);
        let later = at(T0 + 1 + SILENCE_LIMIT_US);
        assert!(later.contains(&("a".into(), CallState::EndUnknown)), "{later:?}");
        assert!(later.contains(&("d".into(), CallState::Ringing)), "{later:?}");
        assert!(later.contains(&("b".into(), CallState::Missed)), "ended calls keep their state: {later:?}");
        // The number index path settles too.
        assert_eq!(states(search_at(&conn, &Query { limit: 50, ..text("905324445566") }, T0 + 3 * HOUR + SILENCE_LIMIT_US).unwrap()),
            [("d".to_string(), CallState::EndUnknown), ("a".to_string(), CallState::EndUnknown)]);
        assert_eq!(get_call_at(&conn, "a", T0 + 1 + SILENCE_LIMIT_US).unwrap().unwrap().call.state, CallState::EndUnknown);
        assert_eq!(get_call_at(&conn, "d", T0 + 1 + SILENCE_LIMIT_US).unwrap().unwrap().call.state, CallState::Ringing);
        // The table keeps what the events say; only reading applies the clock.
        let stored: String = conn.query_row("SELECT state FROM calls WHERE uuid = 'a'", [], |r| r.get(0)).unwrap();
        assert_eq!(stored, "ringing");
    }

    #[test]
    fn version_3_database_learns_when_calls_were_last_heard_of() {
        let (dir, conn) = sample_db();
        // Newest first: migration 11 adds a column to the table migration 5 made.
        conn.execute_batch(crate::names::UNDO_MIGRATION).unwrap();
        conn.execute_batch(crate::contacts::UNDO_MIGRATION).unwrap();
        conn.execute_batch(
            "ALTER TABLE calls DROP COLUMN last_heard_us; DROP TABLE projection;
             ALTER TABLE calls DROP COLUMN caller_display; ALTER TABLE calls DROP COLUMN caller_e164;
             ALTER TABLE calls DROP COLUMN callee_display; ALTER TABLE calls DROP COLUMN callee_e164;
             DROP INDEX calls_fax_text; CREATE INDEX calls_kind ON calls(kind);
             PRAGMA user_version = 3;",
        )
        .unwrap();
        drop(conn);
        let conn = open(&dir.path().join(DB_FILE)).unwrap();
        let page = search_at(&conn, &Query { limit: 50, ..Default::default() }, T0 + 1 + SILENCE_LIMIT_US).unwrap();
        assert!(states(page).contains(&("a".into(), CallState::EndUnknown)));
    }

    #[test]
    fn calls_projected_before_stored_numbers_read_the_same() {
        let (_d, conn) = sample_db();
        let all = Query { limit: 50, ..Default::default() };
        let stored = search_at(&conn, &all, T0).unwrap().calls;
        assert_eq!(stored.iter().find(|c| c.uuid == "d").unwrap().caller.as_deref(), Some("0 532 444 55 66"));
        // As a call projected before the forms were stored, and not filled.
        conn.execute_batch("UPDATE calls SET caller_display = NULL, caller_e164 = NULL, callee_display = NULL, callee_e164 = NULL").unwrap();
        assert_eq!(search_at(&conn, &all, T0).unwrap().calls, stored);
    }

    #[test]
    fn version_5_database_gains_the_stored_number_forms() {
        let (dir, conn) = sample_db();
        conn.execute_batch(
            "ALTER TABLE calls DROP COLUMN caller_display; ALTER TABLE calls DROP COLUMN caller_e164;
             ALTER TABLE calls DROP COLUMN callee_display; ALTER TABLE calls DROP COLUMN callee_e164;
             DROP INDEX calls_fax_text; CREATE INDEX calls_kind ON calls(kind);
             PRAGMA user_version = 5;",
        )
        .unwrap();
        conn.execute_batch(crate::names::UNDO_MIGRATION).unwrap();
        conn.execute_batch(crate::contacts::UNDO_MIGRATION).unwrap();
        drop(conn);
        let conn = open(&dir.path().join(DB_FILE)).unwrap();
        let (display, e164): (String, String) =
            conn.query_row("SELECT caller_display, caller_e164 FROM calls WHERE uuid = 'd'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((display.as_str(), e164.as_str()), ("0 532 444 55 66", "+905324445566"));
    }

    #[test]
    fn late_hangup_completes_a_call_that_ended_unknown() {
        let (_d, mut conn) = sample_db();
        let now = T0 + 3 * HOUR + SILENCE_LIMIT_US;
        assert_eq!(get_call_at(&conn, "a", now).unwrap().unwrap().call.state, CallState::EndUnknown);
        let hangup = ev("call_hangup", "a", "905324445566", T0 + 60_000_000, r#","talk_duration":50,"result_disposition":"SUCCESS""#);
        ingest_batch(&mut conn, &[hangup]).unwrap();
        let page = search_at(&conn, &Query { limit: 50, ..text("4445566") }, now).unwrap();
        assert!(states(page).contains(&("a".into(), CallState::Answered)));
        assert_eq!(get_call_at(&conn, "a", now).unwrap().unwrap().call.state, CallState::Answered);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn arbitrary_text_never_errors(t in "\\PC{0,24}", fts in "[\"*()^:+\\-ANDORNT 0-9a-z]{0,16}") {
            let (_d, conn) = sample_db();
            prop_assert!(search(&conn, &text(&t)).is_ok());
            prop_assert!(search(&conn, &text(&fts)).is_ok());
        }
    }
}
