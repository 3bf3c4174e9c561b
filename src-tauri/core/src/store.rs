//! Durable storage: one SQLite file for the history, versioned migrations, and beside it an
//! inbox file (`inbox.rs`) where deliveries are journaled; one thread journals concurrent
//! deliveries together, another projects them; read connections serve queries.
//!
//! Events are the source of truth (the raw body is kept verbatim); the `calls` table and its
//! search indexes are derived from them. A delivery is acknowledged once it is committed to the
//! inbox (the journal step, on a write lock of its own); the projector then moves the rows
//! journaled since its last run into `events` and projects them into their calls in one
//! transaction (a few milliseconds later, see [`PROJECT_IDLE`] and [`PROJECT_LAG`]), and
//! `projection.through_inbox` and `through_event` record how far it got, so a crash between the
//! two steps is made good by the next projection (at start, or by a reader catching up).

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

pub use rusqlite::Connection;
use rusqlite::{params, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use tokio::sync::{broadcast, oneshot};

mod inbox;

pub use inbox::INBOX_FILE;
use inbox::{Inboxed, InFlight, ToProjector};

use crate::call::{assemble, assemble_of, party, ringing_until, search_text, Call, CallKind, CallState, Direction, EventRecord, RouteStep};
use crate::time::{micros_to_rfc3339, rfc3339_to_micros};
use crate::webhook::{self, CallEvent, RouteType};

pub const DB_FILE: &str = "kanca.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database {path} was written by a newer Kanca (schema version {found}, this Kanca knows up to {supported}); update Kanca or use another --data-dir")]
    TooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("cannot open the database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("stored event is unreadable: {0}")]
    Corrupt(String),
    #[error("the PostgreSQL database was written by a newer Kanca (schema version {found}, this Kanca knows up to {supported}); update Kanca")]
    TooNewDatabase { found: i64, supported: i64 },
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("not available with this database: {0}")]
    Unsupported(&'static str),
}

/// Schema migrations, applied in order; `user_version` records how many ran.
/// Version 1 holds the events (the source of truth); version 2 derives calls from them, so a
/// database written by version 1 gains its calls on upgrade.
const MIGRATIONS: &[&str] = &[
    // 1: every accepted webhook delivery, verbatim.
    "CREATE TABLE events (
        id             INTEGER PRIMARY KEY,
        uuid           TEXT NOT NULL,
        event_type     TEXT NOT NULL,   -- canonical name
        received_type  TEXT NOT NULL,   -- as sent
        timestamp_us   INTEGER,         -- Bulutfon's timestamp, microseconds
        destination    TEXT,
        received_at_us INTEGER NOT NULL,
        content_type   TEXT,
        raw            BLOB NOT NULL
    );
    -- One row per (uuid, type, timestamp, destination): redeliveries are stored once.
    CREATE UNIQUE INDEX events_identity
        ON events(uuid, event_type, ifnull(timestamp_us, -1), ifnull(destination, ''));",
    // 2: calls assembled from events, keyed for newest-first scans, with a trigram index for
    // substring search of numbers.
    "CREATE TABLE calls (
        sort_key      INTEGER PRIMARY KEY,  -- started_at_us * 1000 + tie-breaker
        uuid          TEXT NOT NULL UNIQUE,
        kind          TEXT NOT NULL,
        direction     TEXT NOT NULL,
        missed        INTEGER NOT NULL,
        answered      INTEGER,
        state         TEXT NOT NULL,
        started_at_us INTEGER NOT NULL,
        ended_at_us   INTEGER,
        caller        TEXT,                 -- as received
        callee        TEXT,
        duration_s    INTEGER,
        hangup_cause  TEXT,
        route         TEXT,                 -- JSON [[type, destination, at_us], ...], NULL if none
        event_count   INTEGER NOT NULL,
        test          INTEGER NOT NULL,
        search_text   TEXT NOT NULL
    );
    CREATE INDEX calls_missed ON calls(missed) WHERE missed = 1;
    CREATE INDEX calls_kind ON calls(kind);
    CREATE INDEX calls_direction ON calls(direction);
    CREATE VIRTUAL TABLE calls_fts USING fts5(
        search_text, content='calls', content_rowid='sort_key', tokenize='trigram case_sensitive 1', detail='none'
    );
    -- Marker for rebuild_all_calls() below.
    CREATE TABLE IF NOT EXISTS _rebuild_calls(x);",
    // 3: every suffix (6+ digits) of every number of a call, so a specific number query finds
    // its few calls by a range seek instead of intersecting long trigram lists.
    "CREATE TABLE call_numbers (
        suffix   TEXT NOT NULL,
        sort_key INTEGER NOT NULL,
        PRIMARY KEY (suffix, sort_key)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS _fill_call_numbers(x);",
    // 4: when each call was last heard of (its latest event time), so a call whose hang-up was
    // lost stops ringing after call::SILENCE_LIMIT_US. The fact is stored, the limit is not:
    // changing the limit needs no migration.
    "ALTER TABLE calls ADD COLUMN last_heard_us INTEGER;
    UPDATE calls SET last_heard_us =
        (SELECT max(ifnull(e.timestamp_us, e.received_at_us)) FROM events e WHERE e.uuid = calls.uuid);",
    // 5: events are journaled first and projected into calls after the commit; this row says
    // up to which event id the calls reflect the journal. Until now every event was projected in
    // its own transaction, so all are.
    "CREATE TABLE projection (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        through_event INTEGER NOT NULL
    );
    INSERT INTO projection (id, through_event) SELECT 1, ifnull(max(id), 0) FROM events;",
    // 6: each party's number as shown and in E.164, stored when the call is projected, so
    // listing calls needs no libphonenumber (loading its metadata and compiling its patterns
    // cost a CLI query most of its time). Filled for existing calls by fill_party_forms(); a
    // NULL display is still normalised when read.
    "ALTER TABLE calls ADD COLUMN caller_display TEXT;
    ALTER TABLE calls ADD COLUMN caller_e164 TEXT;
    ALTER TABLE calls ADD COLUMN callee_display TEXT;
    ALTER TABLE calls ADD COLUMN callee_e164 TEXT;
    CREATE TABLE IF NOT EXISTS _fill_party_forms(x);
    -- Faxes are a few percent of calls: a fax query with a short fragment walks this small
    -- index newest first and checks the text in it, reading only the rows that match. It
    -- replaces the index on kind, which only ever helped fax queries (calls are nearly all
    -- rows) and cost every projected call a write.
    CREATE INDEX calls_fax_text ON calls(sort_key, search_text) WHERE kind = 'fax';
    DROP INDEX calls_kind;",
    // 7: the number suffixes move from a B-tree table to an FTS5 index of their own (one
    // document per call, its suffixes as tokens, found by prefix). Every new caller's number
    // put its suffixes on seven random pages of the table, rewritten at every commit and
    // checkpoint: most of what projecting a call cost. FTS5 writes a transaction's terms as one
    // new segment and merges segments in the background of later writes. Filled from the calls
    // by fill_number_index().
    "DROP TABLE call_numbers;
    CREATE VIRTUAL TABLE call_numbers USING fts5(
        suffixes, content='', detail='none', columnsize=0, tokenize='ascii'
    );
    CREATE TABLE IF NOT EXISTS _fill_call_numbers(x);",
    // 8: the phone book (contacts/): contacts, their numbers by the key calls are matched with,
    // a trigram index of the folded name and company; and notes and tags on calls (notes.rs).
    "CREATE TABLE contacts (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        company       TEXT,
        email         TEXT,
        note          TEXT,
        tags          TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
        source        TEXT NOT NULL,               -- file | typed | bulutfon
        uid           TEXT,                        -- vCard UID, kept for export
        identity      TEXT UNIQUE,                 -- see contacts::identity; NULL for typed contacts
        folded        TEXT NOT NULL,               -- fold(name company), what name search matches
        updated_at_us INTEGER NOT NULL,
        edited_at_us  INTEGER                      -- last changed in Kanca: an import keeps it
    );
    CREATE TABLE contact_numbers (
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        position   INTEGER NOT NULL,
        raw        TEXT NOT NULL,
        e164       TEXT,
        number_key TEXT NOT NULL,
        label      TEXT,
        PRIMARY KEY (contact_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX contact_numbers_key ON contact_numbers(number_key, contact_id);
    -- Positions kept (detail full) so a word is matched as a phrase of its trigrams inside the
    -- index, without reading each candidate's text back; names are short, the index stays small.
    CREATE VIRTUAL TABLE contacts_fts USING fts5(
        folded, content='contacts', content_rowid='id', tokenize='trigram case_sensitive 1'
    );
    -- One or two letters: names (or companies) that start with them.
    CREATE INDEX contacts_folded ON contacts(folded);
    CREATE TRIGGER contacts_ai AFTER INSERT ON contacts BEGIN
        INSERT INTO contacts_fts(rowid, folded) VALUES (new.id, new.folded);
    END;
    CREATE TRIGGER contacts_ad AFTER DELETE ON contacts BEGIN
        INSERT INTO contacts_fts(contacts_fts, rowid, folded) VALUES ('delete', old.id, old.folded);
    END;
    CREATE TRIGGER contacts_au AFTER UPDATE OF folded ON contacts BEGIN
        INSERT INTO contacts_fts(contacts_fts, rowid, folded) VALUES ('delete', old.id, old.folded);
        INSERT INTO contacts_fts(rowid, folded) VALUES (new.id, new.folded);
    END;
    -- A note and tags on a call, by uuid (a call's sort key moves when its start time does).
    CREATE TABLE call_notes (
        uuid          TEXT PRIMARY KEY,
        note          TEXT,
        tags          TEXT NOT NULL DEFAULT '[]',
        folded        TEXT NOT NULL,               -- fold(note tags), what search matches
        updated_at_us INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE call_tags (
        tag  TEXT NOT NULL,
        uuid TEXT NOT NULL,
        PRIMARY KEY (tag, uuid)
    ) WITHOUT ROWID;
    CREATE TABLE tag_colours (
        tag    TEXT PRIMARY KEY,
        colour TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 9: Bulutfon's API (bulutfon/). Where each call's events came from (NULL: the webhook, as
    // every call before this version); names of menus, groups, extensions and the account's
    // numbers, Bulutfon's and the user's own (a local name wins); what the backfill has read.
    "ALTER TABLE calls ADD COLUMN sources TEXT;
    CREATE TABLE pbx_names (
        kind   TEXT NOT NULL,   -- menu | group | extension | did
        number TEXT NOT NULL,   -- as Bulutfon numbers it (101, 1004, 908508850000)
        source TEXT NOT NULL,   -- bulutfon | local
        name   TEXT NOT NULL,
        PRIMARY KEY (kind, number, source)
    ) WITHOUT ROWID;
    CREATE TABLE api_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 10: office mode (office/): the desks paired with this receiver, each token kept hashed.
    "CREATE TABLE office_clients (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        token_hash    TEXT NOT NULL UNIQUE,
        paired_at_us  INTEGER NOT NULL,
        last_seen_us  INTEGER,
        revoked_at_us INTEGER
    );",
    // 11: deliveries are journaled in a file of their own (store/inbox.rs) and moved into
    // `events` as they are projected; this says up to which inbox id they have been.
    "ALTER TABLE projection ADD COLUMN through_inbox INTEGER NOT NULL DEFAULT 0;",
];

/// Shortest number fragment kept in `call_numbers`; shorter queries use the trigram index.
pub const MIN_SUFFIX: usize = 6;

/// The suffixes of the numbers in a call's search text that `call_numbers` holds.
pub fn number_suffixes(search_text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = search_text
        .split(' ')
        .filter(|w| w.len() >= MIN_SUFFIX && w.bytes().all(|b| b.is_ascii_digit()))
        .flat_map(|w| (0..=w.len() - MIN_SUFFIX).map(move |i| &w[i..]))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A call's document in `call_numbers`: its number suffixes, space-separated; empty when it
/// has no number long enough (such a call has no document there).
fn number_document(search_text: &str) -> String {
    number_suffixes(search_text).join(" ")
}

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // WAL lets `kanca history` read while `kanca serve` writes; synchronous=FULL makes every
    // commit durable (fsync of the WAL) before we answer 2xx.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Open (creating if needed) and migrate the database at `path`.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open { path: path.to_owned(), source };
    let mut conn = Connection::open(path).map_err(open_err)?;
    configure(&conn).map_err(open_err)?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// The database's schema version; an error if a newer Kanca wrote it.
fn schema_version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew { path: path.to_owned(), found: version, supported: SCHEMA_VERSION });
    }
    Ok(version)
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version = schema_version(conn, path)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    // IMMEDIATE: two processes starting at once must not both migrate.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = schema_version(&tx, path)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)?;
        tracing::debug!(to = i + 1, "migrated database");
    }
    // One line, not one per step: a new database is not news, an upgrade is.
    if version == 0 {
        tracing::info!(path = %path.display(), "created the database");
    } else {
        tracing::info!(from = version, to = SCHEMA_VERSION, path = %path.display(), "upgraded the database");
    }
    let needs_rebuild: bool = tx
        .query_row("SELECT 1 FROM sqlite_master WHERE name = '_rebuild_calls'", [], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if needs_rebuild {
        rebuild_all_calls(&tx)?;
        tx.execute_batch("DROP TABLE _rebuild_calls")?;
    }
    let needs_numbers: bool = tx
        .query_row("SELECT 1 FROM sqlite_master WHERE name = '_fill_call_numbers'", [], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if needs_numbers {
        // Calls rebuilt just above already have theirs (an FTS5 document must not be added
        // twice).
        if !needs_rebuild {
            fill_number_index(&tx)?;
        }
        tx.execute_batch("DROP TABLE _fill_call_numbers")?;
    }
    let needs_forms: bool = tx
        .query_row("SELECT 1 FROM sqlite_master WHERE name = '_fill_party_forms'", [], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if needs_forms {
        fill_party_forms(&tx)?;
        tx.execute_batch("DROP TABLE _fill_party_forms")?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Index the numbers of every stored call in `call_numbers` (migration 7).
fn fill_number_index(conn: &Connection) -> Result<(), StoreError> {
    let mut rows = conn.prepare("SELECT sort_key, search_text FROM calls ORDER BY sort_key")?;
    let mut rows = rows.query([])?;
    let mut insert = conn.prepare("INSERT INTO call_numbers(rowid, suffixes) VALUES (?1, ?2)")?;
    while let Some(row) = rows.next()? {
        let document = number_document(&row.get::<_, String>(1)?);
        if !document.is_empty() {
            insert.execute(params![row.get::<_, i64>(0)?, document])?;
        }
    }
    Ok(())
}

/// Store the shown and E.164 forms of the numbers of calls projected before migration 6.
fn fill_party_forms(conn: &Connection) -> Result<(), StoreError> {
    let rows: Vec<(i64, Option<String>, Option<String>)> = conn
        .prepare("SELECT sort_key, caller, callee FROM calls")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare(
        "UPDATE calls SET caller_display = ?2, caller_e164 = ?3, callee_display = ?4, callee_e164 = ?5 WHERE sort_key = ?1",
    )?;
    for (key, caller, callee) in rows {
        let (caller_display, caller_e164) = party(caller.as_deref());
        let (callee_display, callee_e164) = party(callee.as_deref());
        update.execute(params![key, caller_display, caller_e164, callee_display, callee_e164])?;
    }
    Ok(())
}

fn rebuild_all_calls(conn: &Connection) -> Result<(), StoreError> {
    let uuids: Vec<String> = conn
        .prepare("SELECT DISTINCT uuid FROM events")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for uuid in uuids {
        rebuild_call(conn, &uuid)?;
    }
    Ok(())
}

/// An accepted delivery on its way to the database.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    pub event: CallEvent,
    pub raw: Vec<u8>,
    pub content_type: Option<String>,
    pub received_at_us: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Stored,
    /// Same uuid, type, timestamp and destination as an event already stored.
    Duplicate,
}

/// What the engine publishes after each commit.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Change {
    #[ts(type = "number")]
    pub event_id: i64,
    pub event_type: String,
    pub received_type: String,
    /// When the receiver acknowledged the event. A desk of an office catching up with what it
    /// missed stores the receiver's time: what arrived long ago is news, not a ringing phone.
    #[ts(type = "number")]
    pub received_at_us: i64,
    pub call: Call,
}

/// Journal one event. Returns the event id, or None for a redelivery.
fn insert_event(conn: &Connection, inc: &IncomingEvent) -> Result<Option<i64>, StoreError> {
    insert_columns(conn, inc.columns())
}

impl IncomingEvent {
    /// The delivery as `events` and the inbox store it: uuid, event_type, received_type,
    /// timestamp_us, destination, received_at_us, content_type, raw.
    fn columns(&self) -> impl rusqlite::Params + '_ {
        let ev = &self.event;
        (
            ev.uuid.as_str(),
            ev.event_type.as_str(),
            ev.received_type.as_str(),
            ev.timestamp_us,
            ev.destination.as_deref(),
            self.received_at_us,
            self.content_type.as_deref(),
            self.raw.as_slice(),
        )
    }
}

/// Move one inbox row into `events`. Returns the event id, or None for a redelivery.
fn insert_inbox_row(conn: &Connection, row: &inbox::Row) -> Result<Option<i64>, StoreError> {
    insert_columns(
        conn,
        params![
            row.uuid,
            row.event_type,
            row.received_type,
            row.timestamp_us,
            row.destination,
            row.received_at_us,
            row.content_type,
            row.raw,
        ],
    )
}

fn insert_columns(conn: &Connection, columns: impl rusqlite::Params) -> Result<Option<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO events (uuid, event_type, received_type, timestamp_us, destination,
                             received_at_us, content_type, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT DO NOTHING",
    )?;
    let n = stmt.execute(columns)?;
    Ok((n == 1).then(|| conn.last_insert_rowid()))
}

/// Every event stored for a call, re-parsed from the raw bodies.
pub fn load_events(conn: &Connection, uuid: &str) -> Result<Vec<StoredEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, received_type, timestamp_us, received_at_us, content_type, raw, event_type
         FROM events WHERE uuid = ?1 ORDER BY ifnull(timestamp_us, received_at_us), id",
    )?;
    let rows = stmt.query_map([uuid], |r| {
        Ok(StoredEvent {
            id: r.get(0)?,
            received_type: r.get(1)?,
            timestamp_us: r.get(2)?,
            received_at_us: r.get(3)?,
            content_type: r.get(4)?,
            raw: r.get(5)?,
            event_type: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An event as stored, for `kanca show` and the call detail view.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub event_type: String,
    pub received_type: String,
    pub timestamp_us: Option<i64>,
    pub received_at_us: i64,
    pub content_type: Option<String>,
    pub raw: Vec<u8>,
}

impl StoredEvent {
    pub fn record(&self) -> Result<EventRecord, StoreError> {
        let event = webhook::parse_stored(self.content_type.as_deref(), &self.raw)
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", self.id)))?;
        Ok(EventRecord { event, received_at_us: self.received_at_us })
    }
}

/// The event as JSON for `kanca show --json`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct EventView {
    #[serde(rename = "type")]
    pub event_type: String,
    pub received_type: String,
    pub timestamp: Option<String>,
    #[ts(type = "number | null")]
    pub timestamp_us: Option<i64>,
    pub received_at: Option<String>,
    pub content_type: Option<String>,
    /// The body exactly as received; a body that is not UTF-8 is shown decoded with its charset.
    pub raw: String,
    /// The body as Kanca understood it (form bodies as JSON, text decoded from their charset),
    /// so a name sent in Windows-1254 can be checked without decoding `raw` by hand.
    #[ts(type = "Record<string, unknown>")]
    pub payload: serde_json::Map<String, serde_json::Value>,
}

impl EventView {
    pub fn new(stored: &StoredEvent, record: &EventRecord) -> Self {
        let e = stored;
        EventView {
            event_type: e.event_type.clone(),
            received_type: e.received_type.clone(),
            timestamp: e.timestamp_us.and_then(micros_to_rfc3339),
            timestamp_us: e.timestamp_us,
            received_at: micros_to_rfc3339(e.received_at_us),
            content_type: e.content_type.clone(),
            raw: webhook::body_text(e.content_type.as_deref(), &e.raw).into_owned(),
            payload: record.event.fields.clone(),
        }
    }
}

/// Re-assemble the call `uuid` from its events and write it (and its search entry).
pub fn rebuild_call(conn: &Connection, uuid: &str) -> Result<Option<Call>, StoreError> {
    let records: Vec<EventRecord> =
        load_events(conn, uuid)?.iter().map(StoredEvent::record).collect::<Result<_, _>>()?;
    let Some(call) = assemble(&records) else { return Ok(None) };
    let old = stored_key(conn, uuid)?;
    let mut search = SearchIndexWrites::default();
    write_call(conn, &call, last_heard(&records), old, &mut search)?;
    search.apply(conn)?;
    Ok(Some(call))
}

/// Writes to the search indexes (`calls_fts`, `call_numbers`), applied at the end of a
/// transaction in rowid order. FTS5 turns its pending terms into a new segment whenever a write
/// goes back in rowid order, and calls are projected in the order their events arrived, not in
/// start order: applied as they come, most calls of a busy projection would make a segment of
/// their own, to be merged again.
#[derive(Default)]
struct SearchIndexWrites(Vec<(i64, bool, String)>);

impl SearchIndexWrites {
    /// Take the call at `key` with `search_text` out of the indexes.
    fn delete(&mut self, key: i64, search_text: &str) {
        self.0.push((key, false, search_text.to_owned()));
    }

    /// Put the call at `key` with `search_text` in the indexes.
    fn insert(&mut self, key: i64, search_text: &str) {
        self.0.push((key, true, search_text.to_owned()));
    }

    fn apply(mut self, conn: &Connection) -> Result<(), StoreError> {
        // A key's old entry goes before its new one (false sorts first).
        self.0.sort_by_key(|(key, insert, _)| (*key, *insert));
        let mut trigrams_delete =
            conn.prepare_cached("INSERT INTO calls_fts(calls_fts, rowid, search_text) VALUES('delete', ?1, ?2)")?;
        let mut trigrams_insert = conn.prepare_cached("INSERT INTO calls_fts(rowid, search_text) VALUES (?1, ?2)")?;
        // A contentless index forgets a document by being given it again.
        let mut numbers_delete =
            conn.prepare_cached("INSERT INTO call_numbers(call_numbers, rowid, suffixes) VALUES('delete', ?1, ?2)")?;
        let mut numbers_insert = conn.prepare_cached("INSERT INTO call_numbers(rowid, suffixes) VALUES (?1, ?2)")?;
        for (key, insert, text) in &self.0 {
            let document = number_document(text);
            if *insert {
                trigrams_insert.execute(params![key, text])?;
                if !document.is_empty() {
                    numbers_insert.execute(params![key, document])?;
                }
            } else {
                trigrams_delete.execute(params![key, text])?;
                if !document.is_empty() {
                    numbers_delete.execute(params![key, document])?;
                }
            }
        }
        Ok(())
    }
}

/// Where the call `uuid` is stored: (sort key, start, search text); None if it is not yet.
type StoredKey = Option<(i64, i64, String)>;

fn stored_key(conn: &Connection, uuid: &str) -> Result<StoredKey, StoreError> {
    Ok(conn
        .prepare_cached("SELECT sort_key, started_at_us, search_text FROM calls WHERE uuid = ?1")?
        .query_row([uuid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// When the latest of a call's events happened.
fn last_heard<'a>(records: impl IntoIterator<Item = &'a EventRecord>) -> Option<i64> {
    records.into_iter().map(EventRecord::time_us).max()
}

/// Write `call`, last heard of at `last_heard_us`, over what `old` says is stored for it.
fn write_call(
    conn: &Connection,
    call: &Call,
    last_heard_us: Option<i64>,
    old: StoredKey,
    search: &mut SearchIndexWrites,
) -> Result<(), StoreError> {
    let text = search_text(call);
    let sort_key = match &old {
        Some((key, started, _)) if *started == call.started_at_us => *key,
        _ => free_sort_key(conn, call.started_at_us)?,
    };
    // The index entry only changes when the call moves (new start time) or its text changes.
    let index_current = matches!(&old, Some((k, _, t)) if *k == sort_key && *t == text);
    if let Some((old_key, _, old_text)) = &old {
        if !index_current {
            search.delete(*old_key, old_text);
        }
        conn.prepare_cached("DELETE FROM calls WHERE sort_key = ?1")?.execute([old_key])?;
    }
    let route = route_json(call);
    conn.prepare_cached(
        "INSERT INTO calls (sort_key, uuid, kind, direction, missed, answered, state, started_at_us,
                            ended_at_us, caller, callee, duration_s, hangup_cause, route, event_count, test, search_text,
                            last_heard_us, caller_display, caller_e164, callee_display, callee_e164, sources)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
    )?
    .execute(params![
        sort_key,
        call.uuid,
        call.kind.as_str(),
        call.direction.as_str(),
        call.missed,
        call.answered,
        call.state.as_str(),
        call.started_at_us,
        call.ended_at_us,
        call.caller_raw,
        call.callee_raw,
        call.duration_s,
        call.hangup_cause,
        route,
        call.event_count as i64,
        call.test,
        text,
        last_heard_us,
        call.caller,
        call.caller_e164,
        call.callee,
        call.callee_e164,
        sources_text(call),
    ])?;
    if !index_current {
        search.insert(sort_key, &text);
    }
    Ok(())
}

/// Columns [`call_from_row`] reads, in order.
pub const CALL_COLUMNS: &str = "c.uuid, c.kind, c.direction, c.missed, c.answered, c.state, c.started_at_us, \
    c.ended_at_us, c.caller, c.callee, c.duration_s, c.hangup_cause, c.route, c.event_count, c.test, c.last_heard_us, \
    c.caller_display, c.caller_e164, c.callee_display, c.callee_e164, c.sources";

/// A call's stored columns, in [`CALL_COLUMNS`] order, whatever database they were read from.
pub struct StoredCall {
    pub uuid: String,
    pub kind: String,
    pub direction: String,
    pub missed: bool,
    pub answered: Option<bool>,
    pub state: String,
    pub started_at_us: i64,
    pub ended_at_us: Option<i64>,
    pub caller_raw: Option<String>,
    pub callee_raw: Option<String>,
    pub duration_s: Option<i64>,
    pub hangup_cause: Option<String>,
    /// [`route_json`]'s form.
    pub route: Option<String>,
    pub event_count: i64,
    pub test: bool,
    pub last_heard_us: Option<i64>,
    pub caller_display: Option<String>,
    pub caller_e164: Option<String>,
    pub callee_display: Option<String>,
    pub callee_e164: Option<String>,
    /// [`sources_text`]'s form.
    pub sources: Option<String>,
}

/// A route as stored: JSON `[[type, destination, at_us], ...]`, None for a call without one.
pub fn route_json(call: &Call) -> Option<String> {
    (!call.route.is_empty()).then(|| {
        let compact: Vec<(RouteType, &str, Option<i64>)> = call
            .route
            .iter()
            .map(|r| (r.kind, r.destination.as_str(), r.at.as_deref().and_then(rfc3339_to_micros)))
            .collect();
        serde_json::to_string(&compact).unwrap_or_default()
    })
}

/// Where a call's events came from as stored: None for the common case, a call only the
/// webhook told of.
pub fn sources_text(call: &Call) -> Option<String> {
    (call.sources.iter().any(|s| s != crate::call::SOURCE_WEBHOOK)).then(|| call.sources.join(","))
}

impl StoredCall {
    /// A call as listed (without the CDR detail only [`crate::history::get_call`] reads), as
    /// stored: the caller settles it ([`Call::settle`]) at the time it reads. Err names the
    /// column that holds what no Kanca writes.
    pub fn into_call(self) -> Result<Call, &'static str> {
        // The forms stored at projection; a call stored before they were is normalised now.
        let stored_party = |raw: &Option<String>, display: Option<String>, e164: Option<String>| match display {
            Some(display) if raw.is_some() => (Some(display), e164),
            _ => party(raw.as_deref()),
        };
        let (caller, caller_e164) = stored_party(&self.caller_raw, self.caller_display, self.caller_e164);
        let (callee, callee_e164) = stored_party(&self.callee_raw, self.callee_display, self.callee_e164);
        let route = match self.route {
            None => Vec::new(),
            Some(json) => serde_json::from_str::<Vec<(RouteType, String, Option<i64>)>>(&json)
                .map_err(|_| "route")?
                .into_iter()
                .map(|(kind, destination, at)| RouteStep { kind, destination, at: at.and_then(micros_to_rfc3339), name: None })
                .collect(),
        };
        let kind = CallKind::parse(&self.kind).ok_or("kind")?;
        let sources = match self.sources {
            None => vec![crate::call::SOURCE_WEBHOOK.to_owned()],
            Some(list) => list.split(',').map(str::to_owned).collect(),
        };
        Ok(Call {
            uuid: self.uuid,
            kind,
            direction: Direction::parse(&self.direction).ok_or("direction")?,
            missed: self.missed,
            answered: self.answered,
            state: CallState::parse(&self.state).ok_or("state")?,
            ringing_until_us: ringing_until(kind, self.ended_at_us, self.last_heard_us),
            started_at: micros_to_rfc3339(self.started_at_us).unwrap_or_default(),
            ended_at: self.ended_at_us.and_then(micros_to_rfc3339),
            started_at_us: self.started_at_us,
            ended_at_us: self.ended_at_us,
            caller,
            caller_raw: self.caller_raw,
            caller_e164,
            callee,
            callee_raw: self.callee_raw,
            callee_e164,
            duration_s: self.duration_s,
            hangup_cause: self.hangup_cause,
            route,
            event_count: self.event_count as usize,
            sources,
            test: self.test,
            caller_name: None,
            callee_name: None,
            note: None,
            tags: Vec::new(),
            hangup_detail: None,
            recorded: None,
            cdr_url: None,
            cdr_api_url: None,
            callflow: Vec::new(),
        })
    }
}

/// A call read from `calls` by [`CALL_COLUMNS`] starting at column `first`; see
/// [`StoredCall::into_call`].
pub fn call_from_row(r: &rusqlite::Row, first: usize) -> rusqlite::Result<Call> {
    let g = |i: usize| first + i;
    let stored = StoredCall {
        uuid: r.get(g(0))?,
        kind: r.get(g(1))?,
        direction: r.get(g(2))?,
        missed: r.get(g(3))?,
        answered: r.get(g(4))?,
        state: r.get(g(5))?,
        started_at_us: r.get(g(6))?,
        ended_at_us: r.get(g(7))?,
        caller_raw: r.get(g(8))?,
        callee_raw: r.get(g(9))?,
        duration_s: r.get(g(10))?,
        hangup_cause: r.get(g(11))?,
        route: r.get(g(12))?,
        event_count: r.get(g(13))?,
        test: r.get(g(14))?,
        last_heard_us: r.get(g(15))?,
        caller_display: r.get(g(16))?,
        caller_e164: r.get(g(17))?,
        callee_display: r.get(g(18))?,
        callee_e164: r.get(g(19))?,
        sources: r.get(g(20))?,
    };
    const COLUMN: [(&str, usize); 4] = [("kind", 1), ("direction", 2), ("state", 5), ("route", 12)];
    stored.into_call().map_err(|what| {
        let at = COLUMN.iter().find(|(name, _)| *name == what).map_or(first, |(_, i)| first + i);
        rusqlite::Error::FromSqlConversionFailure(at, rusqlite::types::Type::Text, what.to_string().into())
    })
}

/// Keys are `started_at_us * 1000 + n`: ordering by key is ordering by start time, and up to a
/// thousand calls may start in the same microsecond.
fn free_sort_key(conn: &Connection, started_at_us: i64) -> Result<i64, StoreError> {
    let base = sort_key_floor(started_at_us);
    let top: Option<i64> = conn
        .prepare_cached("SELECT max(sort_key) FROM calls WHERE sort_key BETWEEN ?1 AND ?1 + 999")?
        .query_row([base], |r| r.get(0))?;
    match top {
        None => Ok(base),
        Some(t) if t < base + 999 => Ok(t + 1),
        // A thousand calls in one microsecond: take any free slot.
        Some(_) => {
            let mut stmt = conn.prepare_cached("SELECT 1 FROM calls WHERE sort_key = ?1")?;
            for k in base..base + 1000 {
                if !stmt.exists([k])? {
                    return Ok(k);
                }
            }
            Err(StoreError::Corrupt("no free sort key".into()))
        }
    }
}

/// The smallest sort key of calls starting at `us` (saturating for absurd times).
pub fn sort_key_floor(us: i64) -> i64 {
    us.clamp(0, i64::MAX / 1000 - 1) * 1000
}

type Reply = oneshot::Sender<Result<Outcome, Arc<StoreError>>>;

/// A delivery for the journal thread, answered once it is durable. Boxed: the channel's slots
/// and a full channel's hand-over stay small.
struct Job(Box<IncomingEvent>, Reply);

/// Handle to the database used by the listener and the app. Cloning is cheap.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    journal: mpsc::SyncSender<Job>,
    projector: mpsc::SyncSender<ToProjector>,
    changes: broadcast::Sender<Change>,
    readers: Arc<Mutex<Vec<Connection>>>,
    progress: Arc<Progress>,
}

/// Most deliveries committed in one transaction.
const MAX_BATCH: usize = 256;
/// Project once no delivery has arrived for this long: a quiet receiver makes a call visible
/// (and pops it up) a millisecond after acknowledging it.
pub const PROJECT_IDLE: Duration = Duration::from_millis(1);
/// Under a steady stream, project at the latest this long after the oldest unprojected event
/// was acknowledged: batching the projection is what makes ingest cheap (one search-index
/// flush and one commit for many calls), and history stays well within 100 ms of the journal.
pub const PROJECT_LAG: Duration = Duration::from_millis(20);
/// Project sooner when this many events are waiting, so a burst's projection stays short.
const MAX_PENDING: usize = 4096;
/// Journal commits handed to the projector and not yet taken.
const PROJECTOR_QUEUE: usize = 256;
/// Acknowledged events not yet projected: past this many the journal waits for the projector
/// (up to [`LAG_WAIT`]) before it commits more, so under a load the projector cannot keep up
/// with, answers slow down instead of the history falling behind without bound.
const MAX_LAG: i64 = 512;
const LAG_WAIT: Duration = Duration::from_secs(1);
/// Projections commit without an fsync of their own (the inbox holds every event until the
/// database has it durably); one in this long does fsync, and lets the inbox forget what it
/// made durable.
const SYNC_EVERY: Duration = Duration::from_millis(200);
/// How long an in-process read waits for the projection to catch up with what was
/// acknowledged before reading anyway (only reached if projecting keeps failing).
const READ_WAIT: Duration = Duration::from_secs(2);

/// How far the journal and the projection have got in this process, so reads through the
/// [`Store`] see every event acknowledged before they started. Both count inbox ids.
#[derive(Default)]
struct Progress {
    /// Highest inbox id acknowledged.
    journaled: std::sync::atomic::AtomicI64,
    /// Highest inbox id projected into calls.
    projected: Mutex<i64>,
    moved: std::sync::Condvar,
}

impl Progress {
    fn projected(&self, through: i64) {
        if let Ok(mut p) = self.projected.lock() {
            *p = (*p).max(through);
        }
        self.moved.notify_all();
    }

    /// Wait until fewer than `max` acknowledged events are waiting for the projector, at most
    /// `timeout`.
    fn wait_lag(&self, max: i64, timeout: Duration) {
        let journaled = self.journaled.load(std::sync::atomic::Ordering::SeqCst);
        if let Ok(guard) = self.projected.lock() {
            let _ = self.moved.wait_timeout_while(guard, timeout, |p| journaled - *p > max);
        }
    }

    /// Wait until events up to `target` are projected; false after [`READ_WAIT`].
    fn wait_projected(&self, target: i64) -> bool {
        let Ok(guard) = self.projected.lock() else { return false };
        match self.moved.wait_timeout_while(guard, READ_WAIT, |p| *p < target) {
            Ok((_, timeout)) => !timeout.timed_out(),
            Err(_) => false,
        }
    }
}

/// Adds to a call what the store does not know (the phone book's names), before its change is
/// published. Given by the engine, which knows both: the store does not depend on contacts.
pub type Annotate = fn(&Connection, &mut Call) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The inbox beside the database at `db_path`.
fn inbox_path(db_path: &Path) -> PathBuf {
    db_path.with_file_name(INBOX_FILE)
}

impl Store {
    /// Open the database in `data_dir` (creating the directory), move into it and project
    /// whatever a crash left in the inbox or journaled but not projected, and start the
    /// journal and projector threads.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_annotated(data_dir, |_, _| Ok(()))
    }

    /// [`Store::open`], with every published change's call passed through `annotate` first.
    pub fn open_annotated(data_dir: &Path, annotate: Annotate) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Open {
            path: data_dir.to_owned(),
            source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
        })?;
        let path = data_dir.join(DB_FILE);
        let mut conn = open(&path)?;
        let mut inbox_conn = inbox::open_inbox(&inbox_path(&path))?;
        // Committed with synchronous=FULL (the connection's setting until now), so the inbox
        // may forget what it moved.
        let recovered = project_inbox(&mut conn, Some(&inbox_conn), Vec::new())?;
        if !recovered.changes.is_empty() {
            tracing::info!(events = recovered.changes.len(), "projected events journaled before a crash");
        }
        inbox::settle(&mut inbox_conn, recovered.inbox_through)?;
        // From here on the inbox is what makes an event durable: projections need no fsync.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let inbox_reader = inbox::open_inbox_reader(&inbox_path(&path))?;
        let db_reader = open_reader(&path)?;
        let progress = Arc::new(Progress::default());
        progress.journaled.store(recovered.inbox_through, std::sync::atomic::Ordering::SeqCst);
        progress.projected(recovered.inbox_through);
        let in_flight = Arc::new(InFlight::default());
        let durable = Arc::new(std::sync::atomic::AtomicI64::new(recovered.inbox_through));
        let (journal_tx, journal_rx) = mpsc::sync_channel(4096);
        let (projector_tx, projector_rx) = mpsc::sync_channel(PROJECTOR_QUEUE);
        let (changes, _) = broadcast::channel(1024);
        let projector = Projector {
            conn,
            inbox: inbox_reader,
            publish: changes.clone(),
            annotate,
            progress: progress.clone(),
            in_flight: in_flight.clone(),
            durable: durable.clone(),
            pending: Vec::new(),
            oldest: None,
            synced: std::time::Instant::now(),
        };
        let journal = inbox::Journal {
            inbox: inbox_conn,
            db: db_reader,
            in_flight,
            projector: projector_tx.clone(),
            progress: progress.clone(),
            trimmed: recovered.inbox_through,
            durable,
        };
        let spawn_err = |e: std::io::Error| StoreError::Corrupt(format!("cannot start the storage threads: {e}"));
        std::thread::Builder::new().name("kanca-projector".into()).spawn(move || projector.run(projector_rx)).map_err(spawn_err)?;
        std::thread::Builder::new().name("kanca-journal".into()).spawn(move || journal.run(journal_rx)).map_err(spawn_err)?;
        Ok(Store {
            path,
            journal: journal_tx,
            projector: projector_tx,
            changes,
            readers: Arc::new(Mutex::new(Vec::new())),
            progress,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every stored event and the call it changed, as they are projected.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Store one event durably. Resolves only after the commit is on disk.
    pub async fn ingest(&self, event: IncomingEvent) -> Result<Outcome, Arc<StoreError>> {
        let (reply, wait) = oneshot::channel();
        let gone = || Arc::new(StoreError::WriterGone);
        match self.journal.try_send(Job(Box::new(event), reply)) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(gone()),
            Err(mpsc::TrySendError::Full(job)) => {
                // The journal is far behind: wait for room on a blocking thread, not on the
                // async executor.
                let journal = self.journal.clone();
                tokio::task::spawn_blocking(move || journal.send(job))
                    .await
                    .map_err(|_| gone())?
                    .map_err(|_| gone())?;
            }
        }
        wait.await.map_err(|_| gone())?
    }

    /// Run `f` on a read connection, off the async executor.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.read_blocking(f))
            .await
            .map_err(|e| StoreError::Corrupt(format!("reader panicked: {e}")))?
    }

    /// Run `f` on a write connection of its own on a blocking thread, for what is written
    /// rarely (contacts, notes, names, the API's state): deliveries are journaled in the inbox
    /// and are never held up by it.
    pub async fn write_side<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || f(&mut open(&path)?))
            .await
            .map_err(|e| StoreError::Corrupt(format!("writer panicked: {e}")))?
    }

    /// Same as [`Store::read`] for callers that are already on a blocking thread. Sees every
    /// event acknowledged before it was called, projected into its call.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let target = self.progress.journaled.load(std::sync::atomic::Ordering::SeqCst);
        if self.progress.projected.lock().map(|p| *p < target).unwrap_or(false) {
            // Nudge the projector; if its queue is full it is busy and projects within
            // PROJECT_LAG.
            let _ = self.projector.try_send(ToProjector::Project);
            if !self.progress.wait_projected(target) {
                tracing::warn!("reading before the history caught up with event {target}");
            }
        }
        let pooled = self.readers.lock().map(|mut v| v.pop()).unwrap_or(None);
        let conn = match pooled {
            Some(c) => c,
            None => open_reader(&self.path)?,
        };
        let out = f(&conn);
        if let Ok(mut v) = self.readers.lock() {
            if v.len() < 4 {
                v.push(conn);
            }
        }
        out
    }

    /// Close the pooled reader connections, and with them their page caches (a few MiB each
    /// after a busy spell); the next read opens a fresh one, which costs well under a
    /// millisecond. The projector empties its own page cache too (up to 2 MiB); the pages it
    /// needs next come back from the OS's file cache.
    pub async fn release_memory(&self) {
        let _ = self.projector.try_send(ToProjector::ReleaseMemory);
        let readers = self.readers.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let closed: Vec<Connection> = readers.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
            drop(closed);
        })
        .await;
    }
}

/// A connection for queries only (the CLI uses this while a server may be writing).
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open { path: path.to_owned(), source };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
    schema_version(&conn, path)?;
    Ok(conn)
}

/// An event moved into `events` and not projected yet, parsed, so projecting it needs neither
/// a read nor a parse.
struct Journaled {
    id: i64,
    record: EventRecord,
}

/// The projector thread: moves what the journal thread committed to the inbox into `events`,
/// projects it into calls, and publishes the changes.
struct Projector {
    conn: Connection,
    /// The inbox, read only: rows the journal thread did not hand over (another process
    /// journaled them, or a projection that failed had them).
    inbox: Option<Connection>,
    publish: broadcast::Sender<Change>,
    annotate: Annotate,
    progress: Arc<Progress>,
    in_flight: Arc<InFlight>,
    /// Inbox rows up to here are in the database durably (told to the journal thread).
    durable: Arc<std::sync::atomic::AtomicI64>,
    pending: Vec<Inboxed>,
    /// When the oldest of `pending` was acknowledged.
    oldest: Option<std::time::Instant>,
    /// When a projection last committed with an fsync.
    synced: std::time::Instant,
}

impl Projector {
    fn run(mut self, rx: mpsc::Receiver<ToProjector>) {
        loop {
            // With events waiting for projection, wait for more only until the projection is
            // due.
            let next = match self.oldest {
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                Some(t) => rx.recv_timeout(PROJECT_IDLE.min(PROJECT_LAG.saturating_sub(t.elapsed()))),
            };
            let first = match next {
                Ok(msg) => msg,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.project();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut asked = false;
            let mut release = false;
            let mut msg = Some(first);
            while let Some(m) = msg.take() {
                match m {
                    ToProjector::Journaled(batch) => {
                        self.oldest.get_or_insert_with(std::time::Instant::now);
                        self.pending.extend(batch);
                    }
                    ToProjector::Project => asked = true,
                    ToProjector::ReleaseMemory => release = true,
                }
                if self.pending.len() < MAX_PENDING {
                    msg = rx.try_recv().ok();
                }
            }
            let due = self.oldest.is_some_and(|t| t.elapsed() >= PROJECT_LAG) || self.pending.len() >= MAX_PENDING;
            if asked || due {
                self.project();
            }
            if release {
                if let Err(e) = self.conn.execute_batch("PRAGMA shrink_memory") {
                    tracing::warn!("could not shrink the projector's cache: {e}");
                }
            }
        }
        // The journal is gone: leave nothing unprojected that can be projected now, durably.
        self.project_synced(true);
    }

    /// Move what is journaled into `events`, project it, publish the changes, and tell
    /// waiting readers.
    ///
    /// The projection commits without its own fsync (synchronous=NORMAL), but for one every
    /// [`SYNC_EVERY`]: every event it moves is still in the inbox, which keeps its rows until a
    /// synced projection has moved them. The WAL is written in order and that fsync covers the
    /// projections before it; a power cut can only lose projections made since, and those also
    /// lose their `projection.through_inbox`, so the next open moves them again.
    fn project(&mut self) {
        self.project_synced(self.synced.elapsed() >= SYNC_EVERY);
    }

    /// [`Projector::project`], committing with an fsync if `sync`.
    fn project_synced(&mut self, sync: bool) {
        if sync {
            if let Err(e) = self.conn.pragma_update(None, "synchronous", "FULL") {
                tracing::warn!("cannot make this projection durable: {e}");
            }
        }
        // Taken, not copied: a projection that fails reads the events back from the inbox.
        let waiting = self.pending.len();
        let projected = project_inbox(&mut self.conn, self.inbox.as_ref(), std::mem::take(&mut self.pending));
        if sync {
            if let Err(e) = self.conn.pragma_update(None, "synchronous", "NORMAL") {
                tracing::warn!("cannot relax the projection's sync: {e}");
            }
        }
        match projected {
            Ok(done) => {
                self.oldest = None;
                if sync {
                    self.synced = std::time::Instant::now();
                    self.durable.fetch_max(done.inbox_through, std::sync::atomic::Ordering::SeqCst);
                }
                self.in_flight.moved_through(done.inbox_through);
                self.progress.projected(done.inbox_through);
                // Names from the phone book for the pop-up (indexed look-ups, microseconds), only
                // when someone listens: `kanca serve` alone publishes to no one.
                let listened = self.publish.receiver_count() > 0;
                for mut change in done.changes {
                    if listened {
                        if let Err(e) = (self.annotate)(&self.conn, &mut change.call) {
                            tracing::warn!("cannot look up names for call {}: {e}", change.call.uuid);
                        }
                    }
                    let _ = self.publish.send(change);
                }
            }
            // The events are durable in the inbox; the next tick tries again.
            Err(e) => tracing::error!("projecting {waiting} event(s) into calls failed: {e}"),
        }
    }
}

/// Insert `events` in one IMMEDIATE transaction, committed (durably) before returning.
fn journal_all(conn: &mut Connection, events: &[&IncomingEvent]) -> Result<Vec<Option<i64>>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids = events.iter().map(|inc| insert_event(&tx, inc)).collect::<Result<Vec<_>, _>>()?;
    tx.commit()?;
    Ok(ids)
}

/// What a projection did.
#[derive(Debug, Default)]
struct Projected {
    /// Every event up to this id is reflected in `calls`.
    through: i64,
    /// Every inbox row up to this id is in `events` (and so in `calls`).
    inbox_through: i64,
    /// One per event projected, in event order, each with its call as that event left it.
    changes: Vec<Change>,
}

/// Project every journaled event past `projection.through_event` into its call, in one
/// IMMEDIATE transaction. `known` holds events the caller already has parsed; others are read
/// back from the journal. Safe to run from several connections: the marker is read inside the
/// transaction, so each event is projected once.
fn project(conn: &mut Connection, known: Vec<Journaled>) -> Result<Projected, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done = project_in(&tx, known)?;
    tx.commit()?;
    Ok(done)
}

/// Move the inbox's rows past `projection.through_inbox` into `events` and project them (and
/// any other event not projected yet), in one IMMEDIATE transaction. `batch` is what the
/// journal thread handed over, in inbox order: when it follows the marker without a gap, it is
/// all there is to move, parsed already; otherwise (rows another process journaled, or rows a
/// failed projection had) the rows are read from `inbox`.
fn project_inbox(conn: &mut Connection, inbox: Option<&Connection>, mut batch: Vec<Inboxed>) -> Result<Projected, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let marker: i64 = tx.query_row("SELECT through_inbox FROM projection WHERE id = 1", [], |r| r.get(0))?;
    batch.retain(|b| b.id > marker);
    let follows = batch.first().is_some_and(|b| b.id == marker + 1) && batch.windows(2).all(|w| w[1].id == w[0].id + 1);
    let mut moved_through = marker;
    let mut known = Vec::with_capacity(batch.len());
    if follows || inbox.is_none() {
        for b in batch {
            moved_through = moved_through.max(b.id);
            if let Some(id) = insert_event(&tx, &b.event)? {
                known.push(Journaled { id, record: EventRecord { event: b.event.event, received_at_us: b.event.received_at_us } });
            }
        }
    } else if let Some(inbox) = inbox {
        for row in inbox::rows_after(inbox, marker)? {
            moved_through = row.id;
            insert_inbox_row(&tx, &row)?;
        }
    }
    if moved_through > marker {
        tx.prepare_cached("UPDATE projection SET through_inbox = ?1 WHERE id = 1")?.execute([moved_through])?;
    }
    let mut done = project_in(&tx, known)?;
    tx.commit()?;
    done.inbox_through = moved_through;
    Ok(done)
}

/// [`project`] inside a transaction the caller commits.
fn project_in(tx: &Connection, known: Vec<Journaled>) -> Result<Projected, StoreError> {
    let through: i64 = tx.query_row("SELECT through_event FROM projection WHERE id = 1", [], |r| r.get(0))?;
    let pending: Vec<(i64, String)> = tx
        .prepare_cached("SELECT id, uuid FROM events WHERE id > ?1 ORDER BY id")?
        .query_map([through], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let Some(&(last, _)) = pending.last() else { return Ok(Projected { through, ..Projected::default() }) };
    // Calls in the order their first pending event arrived, each with its pending event ids.
    let mut calls: Vec<(String, Vec<i64>)> = Vec::new();
    let mut slot: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (id, uuid) in &pending {
        let i = *slot.entry(uuid).or_insert_with(|| {
            calls.push((uuid.clone(), Vec::new()));
            calls.len() - 1
        });
        calls[i].1.push(*id);
    }
    let mut known: std::collections::HashMap<i64, EventRecord> = known.into_iter().map(|j| (j.id, j.record)).collect();
    let mut changes = Vec::new();
    let mut search = SearchIndexWrites::default();
    for (uuid, ids) in &calls {
        changes.append(&mut project_call(tx, uuid, ids, &mut known, &mut search)?);
    }
    search.apply(tx)?;
    tx.prepare_cached("UPDATE projection SET through_event = ?1 WHERE id = 1")?.execute([last])?;
    changes.sort_by_key(|c| c.event_id);
    Ok(Projected { through: last, changes, ..Projected::default() })
}

/// Assemble and write the call `uuid`, whose events `ids` are new. Returns a change per new
/// event, with the call as it stood after that event (what a pop-up decides on). Takes the
/// records it uses out of `known`: a record is copied nowhere on the way to its change.
fn project_call(
    conn: &Connection,
    uuid: &str,
    ids: &[i64],
    known: &mut std::collections::HashMap<i64, EventRecord>,
    search: &mut SearchIndexWrites,
) -> Result<Vec<Change>, StoreError> {
    let old = stored_key(conn, uuid)?;
    // A call not stored yet has no events but the new ones; when all are in memory, nothing
    // needs reading back (the common case: every call_init).
    let in_memory = old.is_none() && ids.iter().all(|id| known.contains_key(id));
    let events: Vec<(i64, EventRecord)> = if in_memory {
        ids.iter().filter_map(|id| known.remove(id).map(|r| (*id, r))).collect()
    } else {
        let stored = load_events(conn, uuid)?;
        match stored.iter().map(|e| Ok((e.id, e.record()?))).collect::<Result<_, StoreError>>() {
            Ok(evs) => evs,
            // One call with an unreadable event must not hold up the others (no savepoint
            // per call: it would flush the search index for every call). Its events stay
            // in the journal; its next event tries again.
            Err(e) => {
                tracing::error!(%uuid, "cannot project call: {e}");
                return Ok(Vec::new());
            }
        }
    };
    let Some(call) = assemble_of(events.iter().map(|(_, r)| r)) else { return Ok(Vec::new()) };
    write_call(conn, &call, last_heard(events.iter().map(|(_, r)| r)), old, search)?;
    let Some((last, earlier)) = ids.split_last() else { return Ok(Vec::new()) };
    let mut changes = Vec::with_capacity(ids.len());
    for id in earlier {
        changes.extend(change_of(&events, *id, None));
    }
    changes.extend(change_of(&events, *last, Some(call)));
    Ok(changes)
}

/// The change event `id` (one of `events`, a call's events in time order) made: its call as the
/// events up to it left it (ids grow with arrival), as it stood on arrival. `whole` is the call
/// assembled from all of `events`, when `id` is the newest of them.
pub(crate) fn change_of(events: &[(i64, EventRecord)], id: i64, whole: Option<Call>) -> Option<Change> {
    let (_, rec) = events.iter().find(|(i, _)| *i == id)?;
    let as_then = match whole {
        Some(call) => call,
        None => assemble_of(events.iter().filter(|(i, _)| *i <= id).map(|(_, r)| r))?,
    };
    Some(Change {
        event_id: id,
        event_type: rec.event.event_type.as_str().to_string(),
        received_type: rec.event.received_type.clone(),
        received_at_us: rec.received_at_us,
        // As it stands on arrival: a call_init delivered hours late must not pop up as ringing.
        call: as_then.at(rec.received_at_us),
    })
}

/// For a process that reads the database directly (`kanca history`): make the calls reflect
/// every journaled event. A running receiver projects within [`PROJECT_LAG`], so wait for it a
/// little; if it does not (it crashed, or none runs), project here.
pub fn catch_up(conn: &mut Connection) -> Result<(), StoreError> {
    let inbox = match conn.path().filter(|p| !p.is_empty()) {
        Some(path) => inbox::open_inbox_reader(&inbox_path(Path::new(path)))?,
        None => None,
    };
    let marks = |c: &Connection| -> Result<(i64, i64), StoreError> {
        Ok(c.query_row("SELECT through_event, through_inbox FROM projection WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?)
    };
    // What was journaled when the reader came; under a steady stream there is always a newer
    // event unprojected, and waiting for that would never end.
    let events: i64 = conn.query_row("SELECT ifnull(max(id), 0) FROM events", [], |r| r.get(0))?;
    let inboxed = match &inbox {
        Some(i) => inbox::last_id(i)?,
        None => 0,
    };
    let deadline = std::time::Instant::now() + PROJECT_LAG * 10;
    loop {
        let (through_event, through_inbox) = marks(conn)?;
        if through_event >= events && through_inbox >= inboxed {
            break;
        }
        if std::time::Instant::now() >= deadline {
            let done = project_inbox(conn, inbox.as_ref(), Vec::new())?;
            tracing::info!(through = done.through, "projected events no receiver had projected");
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// Store events synchronously and project them (imports, benchmarks, tests). Returns how many
/// were new.
pub fn ingest_batch(conn: &mut Connection, events: &[IncomingEvent]) -> Result<usize, StoreError> {
    let refs: Vec<&IncomingEvent> = events.iter().collect();
    let ids = journal_all(conn, &refs)?;
    let known: Vec<Journaled> = ids
        .iter()
        .zip(events)
        .filter_map(|(id, inc)| {
            id.map(|id| Journaled { id, record: EventRecord { event: inc.event.clone(), received_at_us: inc.received_at_us } })
        })
        .collect();
    let stored = known.len();
    project(conn, known)?;
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::now_us;

    fn incoming(body: &str) -> IncomingEvent {
        IncomingEvent {
            event: webhook::parse(Some("application/json"), body.as_bytes()).unwrap(),
            raw: body.as_bytes().to_vec(),
            content_type: Some("application/json".into()),
            received_at_us: now_us(),
        }
    }

    fn call_init(uuid: &str, ts: i64) -> String {
        format!(r#"{{"event_type":"call_init","uuid":"{uuid}","caller":905324445566,"callee":908508850000,"direction":"IN","timestamp":{ts}}}"#)
    }

    #[test]
    fn redelivery_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join(DB_FILE)).unwrap();
        let ev = incoming(&call_init("a", 1_700_000_000_000_000));
        assert_eq!(ingest_batch(&mut conn, &[ev.clone(), ev.clone()]).unwrap(), 1);
        assert_eq!(ingest_batch(&mut conn, &[ev]).unwrap(), 0);
        let n: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn start_time_change_moves_the_call_and_its_index_entry() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join(DB_FILE)).unwrap();
        let hangup = r#"{"event_type":"call_hangup","uuid":"m","caller":905324445566,"direction":"IN","timestamp":1700000100000000,"talk_duration":10}"#;
        ingest_batch(&mut conn, &[incoming(hangup)]).unwrap();
        let k1: i64 = conn.query_row("SELECT sort_key FROM calls", [], |r| r.get(0)).unwrap();
        ingest_batch(&mut conn, &[incoming(&call_init("m", 1_700_000_000_000_000))]).unwrap();
        let k2: i64 = conn.query_row("SELECT sort_key FROM calls", [], |r| r.get(0)).unwrap();
        assert_eq!(k2, 1_700_000_000_000_000 * 1000);
        assert_ne!(k1, k2);
        let hits: Vec<i64> = conn
            .prepare("SELECT rowid FROM calls_fts WHERE search_text GLOB '*4445566*'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(hits, [k2]);
        conn.execute("INSERT INTO calls_fts(calls_fts) VALUES('integrity-check')", []).unwrap();
        let numbers: Vec<i64> = conn
            .prepare("SELECT rowid FROM call_numbers WHERE call_numbers MATCH '\"5324445566\" *'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(numbers, [k2], "the number index follows the call");
        conn.execute("INSERT INTO call_numbers(call_numbers, rank) VALUES('integrity-check', 0)", []).unwrap();
    }

    #[test]
    fn version_6_database_gets_its_numbers_indexed_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..6] {
                conn.execute_batch(sql).unwrap();
            }
            for marker in ["_rebuild_calls", "_fill_call_numbers", "_fill_party_forms"] {
                conn.execute_batch(&format!("DROP TABLE {marker}")).unwrap();
            }
            conn.pragma_update(None, "user_version", 6).unwrap();
            conn.execute(
                "INSERT INTO calls (sort_key, uuid, kind, direction, missed, state, started_at_us, caller, callee,
                                    event_count, test, search_text)
                 VALUES (1700000000000000000, 'v6', 'call', 'in', 0, 'answered', 1700000000000000, '905324445566',
                         '908508850000', 2, 0, '905324445566 908508850000')",
                [],
            )
            .unwrap();
            conn.execute("INSERT INTO call_numbers (suffix, sort_key) VALUES ('4445566', 1700000000000000000)", []).unwrap();
        }
        let conn = open(&path).unwrap();
        let q = crate::history::Query { text: "0532 444 55 66".into(), limit: 10, ..Default::default() };
        let found: Vec<String> = crate::history::search(&conn, &q).unwrap().calls.into_iter().map(|c| c.uuid).collect();
        assert_eq!(found, ["v6"]);
        let marker_left: bool = conn.query_row("SELECT 1 FROM sqlite_master WHERE name = '_fill_call_numbers'", [], |_| Ok(true)).optional().unwrap().unwrap_or(false);
        assert!(!marker_left);
    }

    #[test]
    fn calls_starting_in_the_same_microsecond_get_distinct_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join(DB_FILE)).unwrap();
        let evs: Vec<_> = (0..5).map(|i| incoming(&call_init(&format!("u{i}"), 1_700_000_000_000_000))).collect();
        ingest_batch(&mut conn, &evs).unwrap();
        let n: i64 = conn.query_row("SELECT count(DISTINCT sort_key) FROM calls", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 5);
    }

    #[test]
    fn newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = open(&path).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
        assert!(err.to_string().contains("newer Kanca"));
        assert!(matches!(open_reader(&path).unwrap_err(), StoreError::TooNew { .. }));
    }

    #[test]
    fn version_1_database_gains_its_calls_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            let ev = incoming(&call_init("old", 1_600_000_000_000_000));
            insert_event_v1(&conn, &ev);
        }
        let conn = open(&path).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let uuid: String = conn.query_row("SELECT uuid FROM calls", [], |r| r.get(0)).unwrap();
        assert_eq!(uuid, "old");
    }

    /// Inserts the way version 1 did (no calls table yet).
    fn insert_event_v1(conn: &Connection, inc: &IncomingEvent) {
        conn.execute(
            "INSERT INTO events (uuid, event_type, received_type, timestamp_us, destination, received_at_us, content_type, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![inc.event.uuid, inc.event.event_type.as_str(), inc.event.received_type, inc.event.timestamp_us,
                    inc.event.destination, inc.received_at_us, inc.content_type, inc.raw],
        )
        .unwrap();
    }

    fn calls_in(conn: &Connection) -> Vec<String> {
        conn.prepare("SELECT uuid FROM calls ORDER BY uuid").unwrap().query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    /// Events journaled by a receiver that died before projecting them (kill -9 between the
    /// two steps): journal_all is the acknowledged state.
    fn journal_without_projecting(path: &Path, uuids: &[&str]) {
        let mut conn = open(path).unwrap();
        let evs: Vec<IncomingEvent> = uuids.iter().map(|u| incoming(&call_init(u, 1_700_000_000_000_000))).collect();
        journal_all(&mut conn, &evs.iter().collect::<Vec<_>>()).unwrap();
        assert!(calls_in(&conn).is_empty(), "nothing projected yet");
    }

    #[test]
    fn opening_the_store_projects_what_a_crash_left_journaled() {
        let dir = tempfile::tempdir().unwrap();
        journal_without_projecting(&dir.path().join(DB_FILE), &["x", "y"]);
        let store = Store::open(dir.path()).unwrap();
        let uuids = store.read_blocking(|c| Ok(calls_in(c))).unwrap();
        assert_eq!(uuids, ["x", "y"]);
        let through: i64 = store.read_blocking(|c| Ok(c.query_row("SELECT through_event FROM projection", [], |r| r.get(0))?)).unwrap();
        assert_eq!(through, 2);
    }

    #[test]
    fn a_reader_catches_up_when_no_receiver_projects() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        journal_without_projecting(&path, &["a"]);
        let mut conn = open(&path).unwrap();
        catch_up(&mut conn).unwrap();
        assert_eq!(calls_in(&conn), ["a"]);
        // A later event of the same call is projected onto the stored call.
        let hangup = r#"{"event_type":"call_hangup","uuid":"a","caller":905324445566,"direction":"IN","timestamp":1700000060000000,"talk_duration":50,"result_disposition":"SUCCESS"}"#;
        journal_all(&mut conn, &[&incoming(hangup)]).unwrap();
        catch_up(&mut conn).unwrap();
        let state: String = conn.query_row("SELECT state FROM calls WHERE uuid = 'a'", [], |r| r.get(0)).unwrap();
        assert_eq!(state, "answered");
    }

    /// Deliveries a receiver journaled in the inbox and answered, then died before moving
    /// (kill -9 between the two threads' steps).
    fn inbox_without_moving(dir: &Path, uuids: &[&str]) -> Vec<i64> {
        drop(open(&dir.join(DB_FILE)).unwrap());
        let mut inbox = inbox::open_inbox(&dir.join(INBOX_FILE)).unwrap();
        let evs: Vec<IncomingEvent> = uuids.iter().map(|u| incoming(&call_init(u, 1_700_000_000_000_000))).collect();
        inbox::append(&mut inbox, &evs.iter().collect::<Vec<_>>(), None).unwrap()
    }

    /// The uuids of the inbox's rows up to `through`.
    fn inbox_rows(dir: &Path, through: i64) -> Vec<String> {
        let inbox = inbox::open_inbox(&dir.join(INBOX_FILE)).unwrap();
        let mut stmt = inbox.prepare("SELECT uuid FROM inbox WHERE id <= ?1 ORDER BY id").unwrap();
        stmt.query_map([through], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn opening_the_store_moves_what_a_crash_left_in_the_inbox() {
        let dir = tempfile::tempdir().unwrap();
        inbox_without_moving(dir.path(), &["i1", "i2"]);
        assert_eq!(inbox_rows(dir.path(), 2), ["i1", "i2"]);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.read_blocking(|c| Ok(calls_in(c))).unwrap(), ["i1", "i2"]);
        // Moved with an fsync: the inbox has forgotten them, but for its newest row, which
        // keeps the next id from going back.
        assert_eq!(inbox_rows(dir.path(), 2), ["i2"]);
    }

    #[test]
    fn a_reader_moves_what_no_receiver_moved() {
        let dir = tempfile::tempdir().unwrap();
        inbox_without_moving(dir.path(), &["cli"]);
        let mut conn = open(&dir.path().join(DB_FILE)).unwrap();
        catch_up(&mut conn).unwrap();
        assert_eq!(calls_in(&conn), ["cli"]);
        // The inbox is left as it was (a reader does not write it); the marker says it is moved.
        let marker: i64 = conn.query_row("SELECT through_inbox FROM projection", [], |r| r.get(0)).unwrap();
        assert_eq!(marker, 1);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.read_blocking(|c| Ok(calls_in(c))).unwrap(), ["cli"]);
        let events: i64 = store.read_blocking(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)).unwrap();
        assert_eq!(events, 1, "moved once");
    }

    #[test]
    fn rows_the_projector_was_not_handed_are_read_from_the_inbox() {
        let dir = tempfile::tempdir().unwrap();
        let ids = inbox_without_moving(dir.path(), &["g1", "g2", "g3"]);
        let mut conn = open(&dir.path().join(DB_FILE)).unwrap();
        let inbox = inbox::open_inbox_reader(&dir.path().join(INBOX_FILE)).unwrap().unwrap();
        // Handed only the last one (the first two were journaled by another process).
        let last = Inboxed { id: ids[2], event: incoming(&call_init("g3", 1_700_000_000_000_000)) };
        let done = project_inbox(&mut conn, Some(&inbox), vec![last]).unwrap();
        assert_eq!(done.inbox_through, ids[2]);
        assert_eq!(done.changes.len(), 3);
        assert_eq!(calls_in(&conn), ["g1", "g2", "g3"]);
        // Handed again (a second projector, or a retry): nothing is moved twice.
        let again = Inboxed { id: ids[2], event: incoming(&call_init("g3", 1_700_000_000_000_000)) };
        assert!(project_inbox(&mut conn, Some(&inbox), vec![again]).unwrap().changes.is_empty());
        let events: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
        assert_eq!(events, 3);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_new_inbox_beside_an_old_database_does_not_give_ids_already_moved() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            for i in 0..5 {
                store.ingest(incoming(&call_init(&format!("old{i}"), 1_700_000_000_000_000 + i))).await.unwrap();
            }
            assert_eq!(store.read(|c| Ok(calls_in(c))).await.unwrap().len(), 5);
        }
        // Wait for the threads to let go of the files before removing the inbox.
        let inbox = dir.path().join(INBOX_FILE);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", inbox.display()));
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.ingest(incoming(&call_init("new", 1_700_000_000_000_010))).await.unwrap(), Outcome::Stored);
        let calls = store.read(|c| Ok(calls_in(c))).await.unwrap();
        assert!(calls.contains(&"new".to_string()), "{calls:?}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_redelivery_is_a_duplicate_in_flight_and_once_moved() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let body = call_init("dup", 1_700_000_000_000_000);
        // Both sent before either is answered: the second finds the first in the inbox, not in
        // the database.
        let (a, b) = tokio::join!(store.ingest(incoming(&body)), store.ingest(incoming(&body)));
        let mut outcomes = [a.unwrap(), b.unwrap()];
        outcomes.sort_by_key(|o| *o == Outcome::Duplicate);
        assert_eq!(outcomes, [Outcome::Stored, Outcome::Duplicate]);
        store.read(|_| Ok(())).await.unwrap();
        assert_eq!(store.ingest(incoming(&body)).await.unwrap(), Outcome::Duplicate);
        let events: i64 = store.read(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(events, 1);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_inbox_forgets_what_the_database_holds_durably() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for i in 0..20 {
            store.ingest(incoming(&call_init(&format!("t{i}"), 1_700_000_000_000_000 + i))).await.unwrap();
        }
        // A synced projection (one per SYNC_EVERY) lets the next journal commit delete what it
        // moved; keep delivering until the first twenty are gone.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut i = 20;
        while !inbox_rows(dir.path(), 20).is_empty() {
            assert!(std::time::Instant::now() < deadline, "the inbox still holds {:?}", inbox_rows(dir.path(), 20));
            store.ingest(incoming(&call_init(&format!("t{i}"), 1_700_000_000_000_000 + i))).await.unwrap();
            store.read(|_| Ok(())).await.unwrap();
            i += 1;
        }
        assert_eq!(store.read(|c| Ok(calls_in(c))).await.unwrap().len() as i64, i);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_read_after_the_answer_sees_the_call() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for i in 0..20 {
            let uuid = format!("r{i}");
            assert_eq!(store.ingest(incoming(&call_init(&uuid, 1_700_000_000_000_000 + i))).await.unwrap(), Outcome::Stored);
            let found = store.read(move |c| Ok(calls_in(c).contains(&uuid))).await.unwrap();
            assert!(found, "call {i} not visible right after its answer");
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn each_event_publishes_the_call_as_it_left_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join(DB_FILE)).unwrap();
        // Times of now: a call_init read hours after it happened is no longer ringing.
        let t = now_us();
        let init = incoming(&call_init("p", t));
        let hangup = incoming(&format!(r#"{{"event_type":"missing_call","uuid":"p","caller":905324445566,"direction":"IN","timestamp":{}}}"#, t + 9_000_000));
        // Both journaled before one projection, as under load.
        let ids = journal_all(&mut conn, &[&init, &hangup]).unwrap();
        let known: Vec<Journaled> = ids
            .iter()
            .zip([&init, &hangup])
            .map(|(id, inc)| Journaled { id: id.unwrap(), record: EventRecord { event: inc.event.clone(), received_at_us: inc.received_at_us } })
            .collect();
        let done = project(&mut conn, known).unwrap();
        let states: Vec<(&str, CallState)> = done.changes.iter().map(|c| (c.event_type.as_str(), c.call.state)).collect();
        assert_eq!(states, [("call_init", CallState::Ringing), ("missing_call", CallState::Missed)]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_ingest_commits_and_publishes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut changes = store.subscribe();
        let mut tasks = Vec::new();
        for i in 0..50 {
            let s = store.clone();
            // Every second delivery is a redelivery of the one before.
            let body = call_init(&format!("c{}", i / 2), 1_700_000_000_000_000);
            tasks.push(tokio::spawn(async move { s.ingest(incoming(&body)).await.unwrap() }));
        }
        let mut stored = 0;
        for t in tasks {
            if t.await.unwrap() == Outcome::Stored {
                stored += 1;
            }
        }
        assert_eq!(stored, 25);
        let first = changes.recv().await.unwrap();
        assert_eq!(first.event_type, "call_init");
        let n = store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM calls", [], |r| r.get::<_, i64>(0))?))
            .await
            .unwrap();
        assert_eq!(n, 25);
    }
}
