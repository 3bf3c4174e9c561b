//! The phone book: the user's own contacts, their numbers normalised like calls' numbers so a
//! caller is found by any spelling, import from vCard and CSV, export, and names for calls.
//!
//! A number matches a contact only as a whole: both sides are reduced to a [`number_key`]
//! (E.164 for valid numbers, the digits for extensions) and compared for equality through an
//! index, so "0532 444 55 66" on a call finds "+90 (532) 444-55-66" in the book, and a number
//! that merely ends the same way never does.

pub mod api;
pub mod csv;
pub mod text;
pub mod vcard;

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::phone::{self, NumberKind};
use crate::store::StoreError;
use crate::time::now_us;
pub use crate::fold::fold;


/// Back to the schema before migration 8 (`store::MIGRATIONS`), for tests that build an older
/// database.
#[cfg(test)]
pub const UNDO_MIGRATION: &str = "DROP TABLE contacts_fts; DROP TABLE contact_numbers; DROP TABLE contacts;
    DROP TABLE call_notes; DROP TABLE call_tags; DROP TABLE tag_colours;";

#[derive(Debug, thiserror::Error)]
pub enum ContactsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no contact with id {0}")]
    NotFound(i64),
    #[error("a contact needs a name")]
    NoName,
    #[error("{0:?} is not a phone number")]
    BadNumber(String),
}

impl From<rusqlite::Error> for ContactsError {
    fn from(e: rusqlite::Error) -> Self {
        ContactsError::Store(StoreError::Sqlite(e))
    }
}

/// Where a contact came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ContactSource {
    /// Imported from a vCard or CSV file.
    File,
    /// Typed in by the user.
    Typed,
    /// From Bulutfon (extension and group names).
    Bulutfon,
}

impl ContactSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactSource::File => "file",
            ContactSource::Typed => "typed",
            ContactSource::Bulutfon => "bulutfon",
        }
    }
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "file" => ContactSource::File,
            "bulutfon" => ContactSource::Bulutfon,
            _ => ContactSource::Typed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactNumber {
    /// As typed or imported.
    pub raw: String,
    /// E.164 ("+905324445566") when it is a valid number.
    pub e164: Option<String>,
    /// "cep", "iş", "ev", "faks" or the exporter's own label.
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Contact {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub company: Option<String>,
    pub numbers: Vec<ContactNumber>,
    pub email: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub source: ContactSource,
    /// The vCard UID it was imported with (exported again, so a re-import updates it).
    #[serde(skip)]
    #[ts(skip)]
    pub uid: Option<String>,
}

/// What the user types to add or change a contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ContactInput {
    pub name: String,
    pub company: Option<String>,
    pub numbers: Vec<NumberInput>,
    pub email: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct NumberInput {
    pub raw: String,
    pub label: Option<String>,
}

/// What a pop-up or a list shows for a number.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ContactMatch {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub company: Option<String>,
    pub note: Option<String>,
}

/// The key a number is matched by, whole: E.164 for a valid number, the digits of an extension
/// or of a number libphonenumber does not know. None for text that is no number.
pub fn number_key(raw: &str) -> Option<String> {
    key_of(&phone::normalize(raw))
}

fn key_of(p: &phone::PhoneNumber) -> Option<String> {
    match (&p.e164, p.kind) {
        (Some(e164), _) => Some(e164.clone()),
        (None, NumberKind::Internal) => Some(p.search.clone()),
        (None, _) if p.search.len() >= 3 && p.search.bytes().all(|b| b.is_ascii_digit()) => Some(turkish_form(&p.search)),
        _ => None,
    }
}

/// A number libphonenumber does not know (a new mobile range, a made-up test number) still
/// comes in Bulutfon's "90…" and the book's "0…" spellings: the Turkish ones meet at "+90"
/// and ten digits; any other stays as its digits.
fn turkish_form(digits: &str) -> String {
    let national = match digits.len() {
        14 => digits.strip_prefix("0090"),
        12 => digits.strip_prefix("90"),
        11 => digits.strip_prefix('0'),
        10 if !digits.starts_with('0') => Some(digits),
        _ => None,
    };
    match national {
        Some(n) if !n.starts_with('0') => format!("+90{n}"),
        _ => digits.to_owned(),
    }
}

/// A contact as read from a file, before it is stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Card {
    /// "card 3 (line 40)" or "line 12".
    pub at: String,
    pub name: String,
    pub company: Option<String>,
    pub numbers: Vec<CardNumber>,
    pub email: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub uid: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CardNumber {
    pub raw: String,
    pub label: Option<String>,
}

impl Card {
    /// The card as it can be stored, or why not: it needs a name (else the company or e-mail
    /// stands in) and a number or an e-mail.
    fn finish(mut self) -> Result<Card, String> {
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() {
            self.name = self.company.clone().or_else(|| self.email.clone()).unwrap_or_default();
        }
        self.numbers.retain(|n| !n.raw.trim().is_empty());
        if self.name.is_empty() {
            let first = self.numbers.first().map(|n| format!(" (number {})", n.raw)).unwrap_or_default();
            return Err(format!("no name{first}"));
        }
        if self.numbers.is_empty() && self.email.is_none() {
            return Err(format!("{:?} has no phone number or e-mail", self.name));
        }
        Ok(self)
    }
}

/// A card or row that was not imported: where it is in the file and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Skip {
    #[serde(rename = "where")]
    pub place: String,
    pub reason: String,
}

impl Skip {
    pub fn new(place: impl Into<String>, reason: impl Into<String>) -> Skip {
        Skip { place: place.into(), reason: reason.into() }
    }
}

/// What an import did. `kanca contacts import --json` prints it as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct ImportReport {
    #[ts(type = "number")]
    pub added: usize,
    #[ts(type = "number")]
    pub updated: usize,
    /// Already in the book exactly as in the file.
    #[ts(type = "number")]
    pub unchanged: usize,
    pub skipped: Vec<Skip>,
    /// Files that could not be read at all (also in `skipped`, with the reason).
    #[serde(skip)]
    #[ts(skip)]
    pub unreadable: Vec<String>,
}

impl ImportReport {
    pub fn merge(&mut self, other: ImportReport) {
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.skipped.extend(other.skipped);
        self.unreadable.extend(other.unreadable);
    }
}

/// The cards in a file's bytes: vCard when it starts like one, else CSV. `name` prefixes each
/// skip's place. Err when the file is neither.
pub fn parse_file(name: &str, bytes: &[u8]) -> Result<Vec<Result<Card, Skip>>, Skip> {
    let (text, encoding) = text::decode(bytes);
    let prefixed = |mut r: Result<Card, Skip>| {
        match &mut r {
            Ok(c) => c.at = format!("{name}: {}", c.at),
            Err(s) => s.place = format!("{name}: {}", s.place),
        }
        r
    };
    if vcard::looks_like(&text) {
        // QUOTED-PRINTABLE bytes with no CHARSET: the file's own legacy code page, else Turkish.
        let legacy = if encoding == "UTF-8" { encoding_rs::WINDOWS_1254 } else { text::detect(bytes) };
        return Ok(vcard::parse(&text, legacy).into_iter().map(prefixed).collect());
    }
    if text.trim().is_empty() {
        return Err(Skip::new(name, "the file is empty"));
    }
    if text.contains('\u{0}') {
        return Err(Skip::new(name, "not a vCard or CSV file (binary data)"));
    }
    csv::parse(&text).map(|rows| rows.into_iter().map(prefixed).collect()).map_err(|reason| Skip::new(name, format!("not a contacts file: {reason}")))
}

/// Which stored contact a card is: its vCard UID when it has one, else its folded name and
/// company, counted within the file ("#2" for the second "Ahmet Yılmaz" of the same file), so
/// importing the same file again finds every contact it added, and an edited file updates them.
/// A contact renamed in the file (without a UID) is a new contact; the old one stays.
fn identity(card: &Card, seen: &mut std::collections::HashMap<String, usize>) -> String {
    if let Some(uid) = &card.uid {
        return format!("uid:{uid}");
    }
    let base = format!("name:{}\u{1f}{}", fold(&card.name), fold(card.company.as_deref().unwrap_or("")));
    let n = seen.entry(base.clone()).or_insert(0);
    *n += 1;
    if *n == 1 {
        base
    } else {
        format!("{base}#{n}")
    }
}

pub(crate) fn folded_of(name: &str, company: Option<&str>) -> String {
    fold(&format!("{name} {}", company.unwrap_or("")))
}

/// A number as given, its E.164 form when it has one, and the key calls are matched with.
pub(crate) type KeyedNumber = (CardNumber, Option<String>, String);

/// Numbers that can be matched, each with its key; the others are reported.
fn keyed_numbers(numbers: &[CardNumber]) -> (Vec<KeyedNumber>, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for n in numbers {
        let p = phone::normalize(&n.raw);
        match key_of(&p) {
            Some(key) => ok.push((n.clone(), p.e164.clone(), key)),
            None => bad.push(n.raw.clone()),
        }
    }
    (ok, bad)
}

/// Import files, each in one transaction: every card of a file that can be stored is, or (on a
/// database error) none is. A file that cannot be read, or is no contacts file, is reported and
/// the others are still imported; what is wrong inside a file is in the report too.
pub fn import_files(conn: &mut Connection, paths: &[&Path]) -> Result<ImportReport, ContactsError> {
    let mut report = ImportReport::default();
    for path in paths {
        let Some((name, bytes)) = read_file(path, &mut report) else { continue };
        match parse_file(&name, &bytes) {
            Ok(cards) => report.merge(import_cards(conn, cards)?),
            Err(skip) => report.skipped.push(skip),
        }
    }
    Ok(report)
}

/// A file's name and bytes; None, and the reason in `report`, when it cannot be read.
pub(crate) fn read_file(path: &Path, report: &mut ImportReport) -> Option<(String, Vec<u8>)> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    match std::fs::read(path) {
        Ok(bytes) => Some((name, bytes)),
        Err(e) => {
            report.unreadable.push(path.display().to_string());
            report.skipped.push(Skip::new(path.display().to_string(), format!("cannot read the file: {e}")));
            None
        }
    }
}

/// Store cards (parsed from one file) in one transaction.
pub fn import_cards(conn: &mut Connection, cards: Vec<Result<Card, Skip>>) -> Result<ImportReport, ContactsError> {
    let mut report = ImportReport::default();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (skips, ready) in ready_cards(cards) {
        report.skipped.extend(skips);
        if let Some(ready) = ready {
            let existing: Option<i64> = tx.prepare_cached("SELECT id FROM contacts WHERE identity = ?1")?.query_row([&ready.identity], |r| r.get(0)).optional()?;
            let stored = match existing {
                Some(id) => {
                    let edited: Option<i64> = tx.prepare_cached("SELECT edited_at_us FROM contacts WHERE id = ?1")?.query_row([id], |r| r.get(0))?;
                    read_contact(&tx, id)?.map(|c| (c, edited.is_some()))
                }
                None => None,
            };
            let step = ready.step(stored.as_ref().map(|(c, edited)| (c, *edited)));
            write_card(&tx, &ready, &step)?;
            report.count(&ready, step);
        }
    }
    tx.commit()?;
    Ok(report)
}

/// A card of a file that can be stored: its numbers with their keys, and which stored contact
/// it is ([`identity`]).
pub(crate) struct Ready {
    pub card: Card,
    pub numbers: Vec<KeyedNumber>,
    pub identity: String,
}

/// What importing a card does to the phone book.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// A new contact.
    Add,
    /// The stored contact with this id takes the file's version.
    Update(i64),
    /// Already as in the file.
    Unchanged,
    /// The file has another version of a contact the user has edited since: kept.
    Kept,
}

/// Each card of a file with what is wrong with it (reported in the file's order), and the card
/// when it can be stored. Every backend imports through this, so they agree on what is kept.
pub(crate) fn ready_cards(cards: Vec<Result<Card, Skip>>) -> Vec<(Vec<Skip>, Option<Ready>)> {
    let mut seen = std::collections::HashMap::new();
    cards
        .into_iter()
        .map(|card| {
            let card = match card {
                Ok(c) => c,
                Err(skip) => return (vec![skip], None),
            };
            let (numbers, bad) = keyed_numbers(&card.numbers);
            let mut skips: Vec<Skip> = bad
                .iter()
                .map(|raw| Skip::new(card.at.clone(), format!("{raw:?} of {:?} is not a phone number (the contact is kept without it)", card.name)))
                .collect();
            if numbers.is_empty() && card.email.is_none() {
                skips.push(Skip::new(card.at.clone(), format!("{:?} has no phone number Kanca can match", card.name)));
                return (skips, None);
            }
            let identity = identity(&card, &mut seen);
            (skips, Some(Ready { card, numbers, identity }))
        })
        .collect()
}

impl Ready {
    /// What to do given the stored contact of the same identity (and whether the user edited it
    /// since it was imported), if there is one.
    pub(crate) fn step(&self, stored: Option<(&Contact, bool)>) -> Step {
        let Some((c, edited)) = stored else { return Step::Add };
        let card = &self.card;
        let same = c.name == card.name
            && c.company == card.company
            && c.email == card.email
            && c.note == card.note
            && c.tags == card.tags
            && c.uid == card.uid
            && c.numbers.len() == self.numbers.len()
            && c.numbers.iter().zip(&self.numbers).all(|(a, (b, _, _))| a.raw == b.raw && a.label == b.label);
        if same {
            Step::Unchanged
        } else if edited {
            // Changed by hand since it was imported: what the user typed wins over the file.
            Step::Kept
        } else {
            Step::Update(c.id)
        }
    }

    /// The card's tags as stored (a JSON array) and its folded name and company.
    pub(crate) fn stored_text(&self) -> (String, String) {
        (serde_json::to_string(&self.card.tags).unwrap_or_else(|_| "[]".into()), folded_of(&self.card.name, self.card.company.as_deref()))
    }
}

impl ImportReport {
    /// Count what `step` did with `ready`.
    pub(crate) fn count(&mut self, ready: &Ready, step: Step) {
        match step {
            Step::Add => self.added += 1,
            Step::Update(_) => self.updated += 1,
            Step::Unchanged => self.unchanged += 1,
            Step::Kept => {
                self.skipped.push(Skip::new(ready.card.at.clone(), format!("{:?} was changed in Kanca since it was imported: kept as it is", ready.card.name)))
            }
        }
    }
}

/// Write a card as `step` says, in the caller's transaction.
fn write_card(conn: &Connection, ready: &Ready, step: &Step) -> Result<(), ContactsError> {
    let card = &ready.card;
    let (tags, folded) = ready.stored_text();
    let id = match step {
        Step::Unchanged | Step::Kept => return Ok(()),
        Step::Update(id) => {
            conn.prepare_cached(
                "UPDATE contacts SET name = ?2, company = ?3, email = ?4, note = ?5, tags = ?6, uid = ?7, folded = ?8, updated_at_us = ?9 WHERE id = ?1",
            )?
            .execute(params![id, card.name, card.company, card.email, card.note, tags, card.uid, folded, now_us()])?;
            *id
        }
        Step::Add => {
            conn.prepare_cached(
                "INSERT INTO contacts (name, company, email, note, tags, source, uid, identity, folded, updated_at_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'file', ?6, ?7, ?8, ?9)",
            )?
            .execute(params![card.name, card.company, card.email, card.note, tags, card.uid, ready.identity, folded, now_us()])?;
            conn.last_insert_rowid()
        }
    };
    write_numbers(conn, id, ready.numbers.iter().map(|(n, e164, key)| (n.raw.as_str(), e164.as_deref(), key.as_str(), n.label.as_deref())))
}

fn write_numbers<'a>(conn: &Connection, id: i64, numbers: impl Iterator<Item = (&'a str, Option<&'a str>, &'a str, Option<&'a str>)>) -> Result<(), ContactsError> {
    conn.prepare_cached("DELETE FROM contact_numbers WHERE contact_id = ?1")?.execute([id])?;
    let mut insert = conn.prepare_cached("INSERT INTO contact_numbers (contact_id, position, raw, e164, number_key, label) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    for (i, (raw, e164, key, label)) in numbers.enumerate() {
        insert.execute(params![id, i as i64, raw, e164, key, label])?;
    }
    Ok(())
}

const CONTACT_COLUMNS: &str = "id, name, company, email, note, tags, source, uid";

fn contact_from_row(r: &rusqlite::Row) -> rusqlite::Result<Contact> {
    let tags: String = r.get(5)?;
    Ok(Contact {
        id: r.get(0)?,
        name: r.get(1)?,
        company: r.get(2)?,
        email: r.get(3)?,
        note: r.get(4)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        source: ContactSource::parse(&r.get::<_, String>(6)?),
        uid: r.get(7)?,
        numbers: Vec::new(),
    })
}

fn numbers_of(conn: &Connection, id: i64) -> Result<Vec<ContactNumber>, ContactsError> {
    let mut stmt = conn.prepare_cached("SELECT raw, e164, label FROM contact_numbers WHERE contact_id = ?1 ORDER BY position")?;
    let rows = stmt.query_map([id], |r| Ok(ContactNumber { raw: r.get(0)?, e164: r.get(1)?, label: r.get(2)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn read_contact(conn: &Connection, id: i64) -> Result<Option<Contact>, ContactsError> {
    let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = ?1");
    let Some(mut c) = conn.prepare_cached(&sql)?.query_row([id], contact_from_row).optional()? else { return Ok(None) };
    c.numbers = numbers_of(conn, id)?;
    Ok(Some(c))
}

/// Contacts whose name or company matches every word of `query` (folded: Turkish case, accents
/// forgiven), or that have a number matching it whole; all of them, by name, for an empty query.
pub fn list(conn: &Connection, query: &str, limit: usize) -> Result<Vec<Contact>, ContactsError> {
    let mut ids = if query.trim().is_empty() {
        conn.prepare_cached("SELECT id FROM contacts ORDER BY folded, id LIMIT ?1")?
            .query_map([limit as i64], |r| r.get(0))?
            .collect::<Result<Vec<i64>, _>>()?
    } else {
        matching_ids(conn, query, limit)?
    };
    if let Some(key) = query_number_key(query) {
        let by_number: Vec<i64> =
            conn.prepare_cached("SELECT contact_id FROM contact_numbers WHERE number_key = ?1")?.query_map([key], |r| r.get(0))?.collect::<Result<_, _>>()?;
        ids.extend(by_number.into_iter().filter(|id| !ids.contains(id)).collect::<Vec<_>>());
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids.into_iter().take(limit) {
        if let Some(c) = read_contact(conn, id)? {
            out.push(c);
        }
    }
    sort_listed(&mut out);
    Ok(out)
}

/// The key a contacts query also finds numbers by: a query that is a number, matched whole.
pub(crate) fn query_number_key(query: &str) -> Option<String> {
    phone::search_digits(query).and(number_key(query))
}

/// Contacts in the order a list shows them: by folded name, then by id.
pub(crate) fn sort_listed(list: &mut [Contact]) {
    list.sort_by_cached_key(|c| (fold(&c.name), c.id));
}

/// The folded words of a name query: all of them, those of three letters or more (a trigram
/// index finds them) and the shorter ones. None for a query with no word.
pub(crate) struct NameWords {
    pub all: Vec<String>,
    pub long: Vec<String>,
    pub short: Vec<String>,
}

/// The range of folded texts that start with `words` (for words too short for trigrams).
pub(crate) fn prefix_range(words: &[String]) -> (String, String) {
    let prefix = words.join(" ");
    let to = format!("{prefix}\u{10FFFF}");
    (prefix, to)
}

pub(crate) fn name_words(query: &str) -> Option<NameWords> {
    let folded = fold(query);
    let all: Vec<String> = folded.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
    if all.is_empty() {
        return None;
    }
    let (long, short) = all.iter().cloned().partition(|w| w.chars().count() >= 3);
    Some(NameWords { all, long, short })
}

/// Ids of contacts whose folded name and company contain every folded word of `query`,
/// through the trigram index; a query of only one- or two-letter words matches the start of the
/// name (or, without a name, the company).
pub fn matching_ids(conn: &Connection, query: &str, limit: usize) -> Result<Vec<i64>, ContactsError> {
    matching(conn, query, "c.id", limit)
}

/// The number keys of the contacts [`matching_ids`] finds, in one query.
pub fn matching_numbers(conn: &Connection, query: &str) -> Result<Vec<String>, ContactsError> {
    matching(conn, query, "n.number_key", usize::MAX >> 1)
}

fn matching<T: rusqlite::types::FromSql>(conn: &Connection, query: &str, what: &str, limit: usize) -> Result<Vec<T>, ContactsError> {
    let Some(NameWords { all: words, long, short }) = name_words(query) else { return Ok(Vec::new()) };
    let mut conds = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let from = if long.is_empty() {
        // Too short for trigrams: the start of the text, through the index on it.
        let (from, to) = prefix_range(&words);
        conds.push("c.folded >= ? AND c.folded < ?".to_string());
        args.push(from);
        args.push(to);
        "contacts c"
    } else {
        // Each word as a phrase of its trigrams: a substring, found in the index alone. User
        // text is only ever inside a quoted string, with its quotes doubled.
        conds.push("contacts_fts MATCH ?".to_string());
        args.push(long.iter().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" "));
        for w in &short {
            conds.push("instr(c.folded, ?) > 0".to_string());
            args.push(w.clone());
        }
        "contacts_fts JOIN contacts c ON c.id = contacts_fts.rowid"
    };
    let ids = format!("SELECT c.id FROM {from} WHERE {}", conds.join(" AND "));
    let sql = match what {
        // Long words only: the index alone names the contacts, straight to their numbers.
        "n.number_key" if !long.is_empty() && short.is_empty() => {
            "SELECT n.number_key FROM contacts_fts JOIN contact_numbers n ON n.contact_id = contacts_fts.rowid WHERE contacts_fts MATCH ?".to_string()
        }
        "n.number_key" => format!("SELECT n.number_key FROM contact_numbers n WHERE n.contact_id IN ({ids})"),
        _ => format!("{ids} LIMIT {}", limit.min(i64::MAX as usize)),
    };
    let found = conn.prepare_cached(&sql)?.query_map(rusqlite::params_from_iter(args), |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(found)
}


/// The contact a number belongs to (the oldest, when several share it), matched whole.
pub fn lookup(conn: &Connection, number: &str) -> Result<Option<ContactMatch>, ContactsError> {
    match number_key(number) {
        Some(key) => lookup_key(conn, &key),
        None => Ok(None),
    }
}

/// [`lookup`] by a key already computed ([`number_key`], or a call's stored E.164).
pub fn lookup_key(conn: &Connection, key: &str) -> Result<Option<ContactMatch>, ContactsError> {
    Ok(conn
        .prepare_cached(
            "SELECT c.id, c.name, c.company, c.note FROM contact_numbers n JOIN contacts c ON c.id = n.contact_id
             WHERE n.number_key = ?1 ORDER BY n.contact_id LIMIT 1",
        )?
        .query_row([key], |r| Ok(ContactMatch { id: r.get(0)?, name: r.get(1)?, company: r.get(2)?, note: r.get(3)? }))
        .optional()?)
}

pub(crate) fn checked_input(input: &ContactInput) -> Result<(Vec<KeyedNumber>, String), ContactsError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        return Err(ContactsError::NoName);
    }
    let cards: Vec<CardNumber> = input.numbers.iter().filter(|n| !n.raw.trim().is_empty()).map(|n| CardNumber { raw: n.raw.trim().to_owned(), label: n.label.clone() }).collect();
    let (ok, bad) = keyed_numbers(&cards);
    if let Some(raw) = bad.into_iter().next() {
        return Err(ContactsError::BadNumber(raw));
    }
    Ok((ok, name))
}

/// Add a contact the user typed in.
pub fn add(conn: &mut Connection, input: &ContactInput) -> Result<Contact, ContactsError> {
    let (numbers, name) = checked_input(input)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO contacts (name, company, email, note, tags, source, folded, updated_at_us) VALUES (?1, ?2, ?3, ?4, ?5, 'typed', ?6, ?7)",
        params![name, input.company, input.email, input.note, serde_json::to_string(&input.tags).unwrap_or_default(), folded_of(&name, input.company.as_deref()), now_us()],
    )?;
    let id = tx.last_insert_rowid();
    write_numbers(&tx, id, numbers.iter().map(|(n, e, k)| (n.raw.as_str(), e.as_deref(), k.as_str(), n.label.as_deref())))?;
    tx.commit()?;
    read_contact(conn, id)?.ok_or(ContactsError::NotFound(id))
}

/// Replace a contact's fields and numbers with `input`.
pub fn update(conn: &mut Connection, id: i64, input: &ContactInput) -> Result<Contact, ContactsError> {
    let (numbers, name) = checked_input(input)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx.execute(
        "UPDATE contacts SET name = ?2, company = ?3, email = ?4, note = ?5, tags = ?6, folded = ?7, updated_at_us = ?8, edited_at_us = ?8 WHERE id = ?1",
        params![id, name, input.company, input.email, input.note, serde_json::to_string(&input.tags).unwrap_or_default(), folded_of(&name, input.company.as_deref()), now_us()],
    )?;
    if n == 0 {
        return Err(ContactsError::NotFound(id));
    }
    write_numbers(&tx, id, numbers.iter().map(|(n, e, k)| (n.raw.as_str(), e.as_deref(), k.as_str(), n.label.as_deref())))?;
    tx.commit()?;
    read_contact(conn, id)?.ok_or(ContactsError::NotFound(id))
}

/// Add a number to a contact ("Kişilere ekle" on a call of a contact that exists); nothing
/// changes when the contact already has it, in any spelling.
pub fn add_number(conn: &mut Connection, id: i64, number: &NumberInput) -> Result<Contact, ContactsError> {
    let c = read_contact(conn, id)?.ok_or(ContactsError::NotFound(id))?;
    match with_number(&c, number)? {
        Some(input) => update(conn, id, &input),
        None => Ok(c),
    }
}

/// Contact `c` with `number` added, to write with `update`; None when it has the number already,
/// in any spelling.
pub(crate) fn with_number(c: &Contact, number: &NumberInput) -> Result<Option<ContactInput>, ContactsError> {
    let key = number_key(&number.raw).ok_or_else(|| ContactsError::BadNumber(number.raw.clone()))?;
    if c.numbers.iter().any(|n| number_key(&n.raw).as_deref() == Some(key.as_str())) {
        return Ok(None);
    }
    let mut numbers: Vec<NumberInput> = c.numbers.iter().map(|n| NumberInput { raw: n.raw.clone(), label: n.label.clone() }).collect();
    numbers.push(number.clone());
    Ok(Some(ContactInput { name: c.name.clone(), company: c.company.clone(), numbers, email: c.email.clone(), note: c.note.clone(), tags: c.tags.clone() }))
}

pub fn delete(conn: &Connection, id: i64) -> Result<(), ContactsError> {
    match conn.execute("DELETE FROM contacts WHERE id = ?1", [id])? {
        0 => Err(ContactsError::NotFound(id)),
        _ => Ok(()),
    }
}

/// Make the phone book `contacts`, ids included, in one transaction: an office desk mirrors its
/// receiver's phone book, so an edit made at the desk names the receiver's contact.
pub fn replace_all(conn: &mut Connection, contacts: &[Contact]) -> Result<(), ContactsError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM contacts", [])?;
    let now = now_us();
    for c in contacts {
        tx.execute(
            "INSERT INTO contacts (id, name, company, email, note, tags, source, folded, updated_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![c.id, c.name, c.company, c.email, c.note, serde_json::to_string(&c.tags).unwrap_or_default(), c.source.as_str(), folded_of(&c.name, c.company.as_deref()), now],
        )?;
        let keyed: Vec<(&ContactNumber, String)> = c.numbers.iter().filter_map(|n| Some((n, number_key(&n.raw)?))).collect();
        write_numbers(&tx, c.id, keyed.iter().map(|(n, k)| (n.raw.as_str(), n.e164.as_deref(), k.as_str(), n.label.as_deref())))?;
    }
    tx.commit()?;
    Ok(())
}

/// Every contact, by name, for export.
pub fn all(conn: &Connection) -> Result<Vec<Contact>, ContactsError> {
    list(conn, "", usize::MAX >> 1)
}

/// Fill in a call's names (from the book), note and tags. Cheap: indexed look-ups.
pub fn annotate(conn: &Connection, call: &mut crate::Call) -> Result<(), ContactsError> {
    annotate_all(conn, std::slice::from_mut(call))
}

/// [`annotate`] for a page of calls: each number looked up once (the company's own lines are
/// the other party of most calls), notes only read when there are any.
pub fn annotate_all(conn: &Connection, calls: &mut [crate::Call]) -> Result<(), ContactsError> {
    let mut names: std::collections::HashMap<String, Option<String>> = std::collections::HashMap::new();
    let mut name_of = |e164: &Option<String>, raw: &Option<String>| -> Result<Option<String>, ContactsError> {
        let Some(key) = e164.clone().or_else(|| raw.as_deref().and_then(number_key)) else { return Ok(None) };
        if let Some(hit) = names.get(&key) {
            return Ok(hit.clone());
        }
        let name = lookup_key(conn, &key)?.map(|m| m.name);
        names.insert(key, name.clone());
        Ok(name)
    };
    let any_notes: bool = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM call_notes)")?.query_row([], |r| r.get(0))?;
    for call in calls {
        call.caller_name = name_of(&call.caller_e164, &call.caller_raw)?;
        call.callee_name = name_of(&call.callee_e164, &call.callee_raw)?;
        if any_notes {
            (call.note, call.tags) = crate::notes::get(conn, &call.uuid)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
