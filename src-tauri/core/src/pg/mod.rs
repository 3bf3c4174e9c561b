//! The receiver's history on PostgreSQL (`kanca serve --database postgres://…`), so that two or
//! more receivers behind one webhook URL share it.
//!
//! The same ideas as the SQLite store ([`crate::store`]): events are the source of truth with
//! their raw bodies, and calls are derived from them by the same [`assemble`]. What differs is
//! what sharing a database across processes needs:
//! - An event and its call are written in one transaction, under a transaction-scoped advisory
//!   lock on the call's uuid, so two receivers given events of one call at once take turns and
//!   each assembles from every event committed before it. The 2xx goes out after `COMMIT`.
//! - A redelivery is stored once by the `events_identity` unique index (`ON CONFLICT DO
//!   NOTHING`), also when two receivers get it at the same moment: no check-then-insert.
//! - The transaction ends with `NOTIFY kanca, '<event id>'`. Every receiver `LISTEN`s and
//!   publishes the change from there, its own events included, so whatever follows a receiver
//!   (desks, the log) hears of events that reached any receiver of the database. PostgreSQL
//!   delivers notifications in commit order.
//! - Number and text search go through a pg_trgm GIN index of the calls' search text.
//!
//! Calls derive from events only, so the schema's migrations can always rebuild them.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio_postgres::error::SqlState;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::call::{assemble, search_text, Call, CallKind, EventRecord};
use crate::history::{CallDetail, Page, Query, MAX_LIMIT};
use crate::phone;
use crate::store::{
    change_of, route_json, sort_key_floor, sources_text, Change, EventView, IncomingEvent, Outcome, StoreError, StoredCall,
    StoredEvent, MIN_SUFFIX,
};
use crate::time::now_us;

/// The environment variable every command that reads or writes the history honours.
pub const ENV_DATABASE_URL: &str = "KANCA_DATABASE_URL";

mod contacts;
mod gaps;
mod journal;
mod names;

pub use gaps::GapPass;

/// The channel the receivers tell each other of new events on.
const CHANNEL: &str = "kanca";
/// The channel a sequencer pass announces new journal positions on ([`journal`]).
const JOURNAL_CHANNEL: &str = "kanca_journal";
/// The channel notes, tags and tag colours are announced on.
const SHARED_CHANNEL: &str = "kanca_shared";

/// Advisory lock key held while migrating, so receivers starting together migrate once.
const MIGRATION_LOCK: i64 = 0x6b61_6e63_6100_0001;

/// Schema migrations, applied in order in one transaction; `kanca_schema.version` records how
/// many ran.
const MIGRATIONS: &[&str] = &[
    // 1: events (verbatim), calls derived from them, a trigram index for search.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE TABLE events (
        id             bigserial PRIMARY KEY,
        uuid           text NOT NULL,
        event_type     text NOT NULL,
        received_type  text NOT NULL,
        timestamp_us   bigint,
        destination    text,
        received_at_us bigint NOT NULL,
        content_type   text,
        raw            bytea NOT NULL
    );
    -- One row per (uuid, type, timestamp, destination): redeliveries are stored once, also
    -- when two receivers insert the same one at the same moment.
    CREATE UNIQUE INDEX events_identity
        ON events (uuid, event_type, coalesce(timestamp_us, -1), coalesce(destination, ''));
    CREATE TABLE calls (
        uuid           text PRIMARY KEY,
        sort_key       bigint NOT NULL UNIQUE,   -- started_at_us * 1000 + tie-breaker, as on SQLite
        kind           text NOT NULL,
        direction      text NOT NULL,
        missed         boolean NOT NULL,
        answered       boolean,
        state          text NOT NULL,
        started_at_us  bigint NOT NULL,
        ended_at_us    bigint,
        caller         text,
        callee         text,
        duration_s     bigint,
        hangup_cause   text,
        route          text,
        event_count    bigint NOT NULL,
        test           boolean NOT NULL,
        search_text    text NOT NULL,
        last_heard_us  bigint,
        caller_display text,
        caller_e164    text,
        callee_display text,
        callee_e164    text,
        sources        text
    );
    CREATE INDEX calls_search ON calls USING gin (search_text gin_trgm_ops);
    CREATE INDEX calls_missed ON calls (sort_key) WHERE missed;
    CREATE INDEX calls_fax ON calls (sort_key) WHERE kind = 'fax';",
    // 2: office mode. Events get journal positions in commit order (`journal`); notes, tags and
    // tag colours as on SQLite; the paired desks; the certificate every receiver serves them;
    // names of menus, groups, extensions and lines (`names`).
    "ALTER TABLE events ADD COLUMN pos bigint;
    CREATE SEQUENCE events_pos AS bigint;
    UPDATE events e SET pos = o.n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM events) o WHERE e.id = o.id;
    SELECT setval('events_pos', coalesce((SELECT max(pos) FROM events), 0) + 1, false);
    CREATE UNIQUE INDEX events_journal ON events (pos);
    CREATE INDEX events_unsequenced ON events (id) WHERE pos IS NULL;
    CREATE TABLE call_notes (
        uuid          text PRIMARY KEY,
        note          text,
        tags          text NOT NULL DEFAULT '[]',
        folded        text NOT NULL,
        updated_at_us bigint NOT NULL
    );
    CREATE INDEX call_notes_folded ON call_notes USING gin (folded gin_trgm_ops);
    CREATE TABLE call_tags (
        tag  text NOT NULL,
        uuid text NOT NULL,
        PRIMARY KEY (tag, uuid)
    );
    CREATE INDEX call_tags_uuid ON call_tags (uuid);
    CREATE TABLE tag_colours (
        tag    text PRIMARY KEY,
        colour text NOT NULL
    );
    CREATE TABLE office_desks (
        id            bigserial PRIMARY KEY,
        name          text NOT NULL,
        token_hash    text NOT NULL UNIQUE,
        paired_at_us  bigint NOT NULL,
        last_seen_us  bigint,
        revoked_at_us bigint
    );
    CREATE UNIQUE INDEX office_desks_live ON office_desks (name) WHERE revoked_at_us IS NULL;
    CREATE TABLE office_identity (
        id   int PRIMARY KEY CHECK (id = 1),
        cert bytea NOT NULL,
        key  bytea NOT NULL
    );
    CREATE TABLE pbx_names (
        kind   text NOT NULL,
        number text NOT NULL,
        source text NOT NULL,
        name   text NOT NULL,
        PRIMARY KEY (kind, number, source)
    );",
    // 3: the phone book (`contacts`), as on SQLite; each call party's key in it, so a name finds
    // its contact's calls through an index (filled for the calls already stored by
    // `fill_party_keys`); the state of filling gaps from Bulutfon's API.
    "CREATE TABLE contacts (
        id            bigserial PRIMARY KEY,
        name          text NOT NULL,
        company       text,
        email         text,
        note          text,
        tags          text NOT NULL DEFAULT '[]',
        source        text NOT NULL,
        uid           text,
        identity      text UNIQUE,
        folded        text NOT NULL,
        updated_at_us bigint NOT NULL,
        edited_at_us  bigint
    );
    CREATE INDEX contacts_by_name ON contacts ((folded COLLATE \"C\"), id);
    CREATE INDEX contacts_folded ON contacts USING gin (folded gin_trgm_ops);
    CREATE TABLE contact_numbers (
        contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        position   int NOT NULL,
        raw        text NOT NULL,
        e164       text,
        number_key text NOT NULL,
        label      text,
        PRIMARY KEY (contact_id, position)
    );
    CREATE INDEX contact_numbers_key ON contact_numbers (number_key, contact_id);
    ALTER TABLE calls ADD COLUMN caller_key text, ADD COLUMN callee_key text;
    CREATE INDEX calls_caller_key ON calls (caller_key, sort_key) WHERE caller_key IS NOT NULL;
    CREATE INDEX calls_callee_key ON calls (callee_key, sort_key) WHERE callee_key IS NOT NULL;
    -- Filling gaps from Bulutfon's API (`gaps`): how far the last walk reached, lost ends asked.
    CREATE TABLE api_state (
        key   text PRIMARY KEY,
        value text NOT NULL
    );",
];

/// The migration that added the calls' party keys, which SQL alone cannot compute.
const PARTY_KEYS_MIGRATION: usize = 3;

/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Columns [`stored_call`] reads, in order (the same as [`crate::store::CALL_COLUMNS`]).
const CALL_COLUMNS: &str = "c.uuid, c.kind, c.direction, c.missed, c.answered, c.state, c.started_at_us, \
    c.ended_at_us, c.caller, c.callee, c.duration_s, c.hangup_cause, c.route, c.event_count, c.test, c.last_heard_us, \
    c.caller_display, c.caller_e164, c.callee_display, c.callee_e164, c.sources";

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        // The server's own message (and its detail) say more than the driver's "db error".
        match e.as_db_error() {
            Some(db) => StoreError::Postgres(match db.detail() {
                Some(detail) => format!("{} ({detail})", db.message()),
                None => db.message().to_owned(),
            }),
            None => StoreError::Postgres(e.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => StoreError::Postgres(other.to_string()),
        }
    }
}

/// The history in one PostgreSQL database. Cloning is cheap; every clone shares the pool and
/// the change feed.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: Pool,
    /// The database named without its password, for messages.
    shown: Arc<str>,
    changes: broadcast::Sender<Change>,
    /// Journal positions as sequencer passes give them (from every receiver).
    journal: broadcast::Sender<i64>,
    /// Notes, tags and colours as any receiver writes them.
    shared: broadcast::Sender<crate::Shared>,
    /// Wakes this receiver's sequencer after it stored an event.
    sequencer: Arc<tokio::sync::Notify>,
    _listening: Option<Arc<ListenTask>>,
    _sequencing: Option<Arc<ListenTask>>,
}

/// Stops the LISTEN task when the last clone of its store goes.
struct ListenTask(tokio::task::JoinHandle<()>);

impl Drop for ListenTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How a connection string may be written: `postgres://user:pw@host:port/db?…` or
/// `host=… dbname=…`; a Unix socket is a `host` that is a directory.
fn parse_url(url: &str) -> Result<tokio_postgres::Config, StoreError> {
    let config = tokio_postgres::Config::from_str(url)
        .map_err(|e| StoreError::Postgres(format!("{} is not a PostgreSQL connection string: {e}", redact(url))))?;
    if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        return Err(StoreError::Postgres(
            "sslmode=require is not supported yet: reach PostgreSQL on a Unix socket, on loopback, or through a TLS tunnel"
                .into(),
        ));
    }
    Ok(config)
}

/// `url` with its password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        // key=value form: hide password=… whatever it is.
        Err(_) => url
            .split_whitespace()
            .map(|kv| if kv.starts_with("password=") { "password=***" } else { kv })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

impl PgStore {
    /// Connect to `url`, create or migrate the schema (in one transaction, refused when the
    /// database was written by a newer Kanca) and start following the change feed. Must be
    /// called inside a tokio runtime.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        PgStore::open(url, true).await
    }

    /// [`PgStore::connect`] without the change feed, for a command that only reads or writes
    /// (`kanca history`): [`PgStore::subscribe`] then hears nothing.
    pub async fn connect_reader(url: &str) -> Result<PgStore, StoreError> {
        PgStore::open(url, false).await
    }

    async fn open(url: &str, follow_feed: bool) -> Result<PgStore, StoreError> {
        let config = parse_url(url)?;
        let shown: Arc<str> = redact(url).into();
        let manager = Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Postgres(e.to_string()))?;
        let mut client = pool.get().await.map_err(|e| match StoreError::from(e) {
            StoreError::Postgres(m) => StoreError::Postgres(format!("cannot connect to {shown}: {m}")),
            other => other,
        })?;
        migrate(&mut client).await?;
        drop(client);
        let (changes, _) = broadcast::channel(1024);
        let (journal, _) = broadcast::channel(1024);
        let (shared, _) = broadcast::channel(256);
        let feeds = Feeds { changes: changes.clone(), journal: journal.clone(), shared: shared.clone() };
        let sequencer = Arc::new(tokio::sync::Notify::new());
        let listening = if follow_feed {
            // Listening before this returns: an event committed after it is published.
            let (ready, listening) = tokio::sync::oneshot::channel();
            let task = tokio::spawn(listen(config, pool.clone(), feeds, ready));
            match tokio::time::timeout(Duration::from_secs(10), listening).await {
                Ok(Ok(())) => {}
                _ => {
                    task.abort();
                    return Err(StoreError::Postgres(format!("cannot LISTEN on {shown} for changes")));
                }
            }
            Some(Arc::new(ListenTask(task)))
        } else {
            None
        };
        // A receiver numbers events for the desks' journal; a reading command does not.
        let sequencing = follow_feed.then(|| Arc::new(ListenTask(tokio::spawn(journal::run_sequencer(pool.clone(), sequencer.clone())))));
        Ok(PgStore { pool, shown, changes, journal, shared, sequencer, _listening: listening, _sequencing: sequencing })
    }

    /// The database, without its password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Every stored event and the call it changed, from every receiver of this database.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Store one event and its call in one transaction. Resolves only after the commit.
    pub async fn ingest(&self, event: IncomingEvent) -> Result<Outcome, Arc<StoreError>> {
        // Two different calls starting in the same microsecond may pick the same sort key at the
        // same moment on two receivers; the loser of that race (or of a deadlock) tries again.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.ingest_once(&event).await {
                Ok(Outcome::Stored) => {
                    // The desks' journal numbers it soon after (passes coalesce under load).
                    self.sequencer.notify_one();
                    return Ok(Outcome::Stored);
                }
                Err(Retry::Again(e)) if attempt < 5 => {
                    tracing::debug!(uuid = %event.event.uuid, "storing again after a conflict: {e}");
                }
                Err(Retry::Again(e) | Retry::Fail(e)) => {
                    tracing::error!(uuid = %event.event.uuid, "storing event failed: {e}");
                    return Err(Arc::new(e));
                }
                Ok(outcome) => return Ok(outcome),
            }
        }
    }

    async fn ingest_once(&self, inc: &IncomingEvent) -> Result<Outcome, Retry> {
        let mut client = self.pool.get().await.map_err(|e| Retry::Fail(e.into()))?;
        let tx = client.transaction().await?;
        let ev = &inc.event;
        // Events of one call take turns, across receivers: each assembles from all before it.
        let lock = tx.prepare_cached("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").await?;
        tx.execute(&lock, &[&ev.uuid]).await?;
        let insert = tx
            .prepare_cached(
                "INSERT INTO events (uuid, event_type, received_type, timestamp_us, destination, received_at_us, content_type, raw)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT DO NOTHING RETURNING id",
            )
            .await?;
        let inserted = tx
            .query_opt(
                &insert,
                &[
                    &ev.uuid,
                    &ev.event_type.as_str(),
                    &ev.received_type,
                    &ev.timestamp_us,
                    &ev.destination,
                    &inc.received_at_us,
                    &inc.content_type,
                    &inc.raw,
                ],
            )
            .await?;
        let Some(row) = inserted else {
            tx.rollback().await?;
            return Ok(Outcome::Duplicate);
        };
        let id: i64 = row.get(0);
        project_call(&tx, &ev.uuid).await?;
        let notify = tx.prepare_cached("SELECT pg_notify($1, $2)").await?;
        tx.execute(&notify, &[&CHANNEL, &id.to_string()]).await?;
        tx.commit().await?;
        Ok(Outcome::Stored)
    }

    /// Search the history as it stands now, like [`crate::history::search`] on SQLite: the
    /// same query syntax and the same calls.
    pub async fn search(&self, q: &Query) -> Result<Page, StoreError> {
        let client = self.pool.get().await?;
        search(&client, q, now_us()).await
    }

    /// The call `uuid` with every event stored for it, like [`crate::history::get_call`].
    pub async fn get_call(&self, uuid: &str) -> Result<Option<CallDetail>, StoreError> {
        let client = self.pool.get().await?;
        let stored = load_events(&**client, uuid).await?;
        let records = stored.iter().map(StoredEvent::record).collect::<Result<Vec<_>, _>>()?;
        let Some(call) = assemble(&records) else { return Ok(None) };
        let mut call = call.at(now_us());
        annotate(&**client, std::slice::from_mut(&mut call)).await?;
        let events = stored.iter().zip(&records).map(|(s, r)| EventView::new(s, r)).collect();
        Ok(Some(CallDetail { call, events }))
    }

    /// How many calls are stored.
    pub async fn count_calls(&self) -> Result<i64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.query_one("SELECT count(*) FROM calls", &[]).await?.get(0))
    }

    /// How many events are stored.
    pub async fn count_events(&self) -> Result<i64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.query_one("SELECT count(*) FROM events", &[]).await?.get(0))
    }
}

/// Why a store attempt failed: a conflict worth trying again, or anything else.
enum Retry {
    Again(StoreError),
    Fail(StoreError),
}

impl From<tokio_postgres::Error> for Retry {
    fn from(e: tokio_postgres::Error) -> Self {
        let again = matches!(
            e.code(),
            Some(c) if *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
        );
        if again {
            Retry::Again(e.into())
        } else {
            Retry::Fail(e.into())
        }
    }
}

impl From<StoreError> for Retry {
    fn from(e: StoreError) -> Self {
        Retry::Fail(e)
    }
}

async fn migrate(client: &mut deadpool_postgres::Object) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    // Quietly: PostgreSQL's "already exists, skipping" notice would be logged on every start.
    tx.batch_execute(
        "SET LOCAL client_min_messages = warning;
         CREATE TABLE IF NOT EXISTS kanca_schema (id int PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
    )
    .await?;
    let found: i64 = tx.query_opt("SELECT version FROM kanca_schema WHERE id = 1", &[]).await?.map_or(0, |r| r.get(0));
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNewDatabase { found, supported: SCHEMA_VERSION });
    }
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql)
            .await
            .map_err(|e| StoreError::Postgres(format!("migration {} failed: {}", n + 1, StoreError::from(e))))?;
        if n + 1 == PARTY_KEYS_MIGRATION {
            fill_party_keys(&tx).await?;
        }
    }
    if found < SCHEMA_VERSION {
        tx.execute(
            "INSERT INTO kanca_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            &[&SCHEMA_VERSION],
        )
        .await?;
        tracing::info!(from = found, to = SCHEMA_VERSION, "migrated the PostgreSQL schema");
    }
    tx.commit().await?;
    Ok(())
}

/// Give the calls stored before migration 3 their parties' phone book keys, a batch at a time.
async fn fill_party_keys(tx: &deadpool_postgres::Transaction<'_>) -> Result<(), StoreError> {
    let mut after = String::new();
    loop {
        let rows = tx
            .query("SELECT uuid, caller_e164, caller, callee_e164, callee FROM calls WHERE uuid > $1 ORDER BY uuid LIMIT 10000", &[&after])
            .await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.get(0);
        let uuids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let callers: Vec<Option<String>> = rows.iter().map(|r| contacts::party_key(&r.get(1), &r.get(2))).collect();
        let callees: Vec<Option<String>> = rows.iter().map(|r| contacts::party_key(&r.get(3), &r.get(4))).collect();
        tx.execute(
            "UPDATE calls c SET caller_key = k.caller, callee_key = k.callee
             FROM unnest($1::text[], $2::text[], $3::text[]) AS k (uuid, caller, callee) WHERE c.uuid = k.uuid",
            &[&uuids, &callers, &callees],
        )
        .await?;
    }
}

/// Every event stored for a call, oldest first, as on SQLite.
pub(crate) async fn load_events(client: &impl tokio_postgres::GenericClient, uuid: &str) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = client
        .query(
            "SELECT id, received_type, timestamp_us, received_at_us, content_type, raw, event_type
             FROM events WHERE uuid = $1 ORDER BY coalesce(timestamp_us, received_at_us), id",
            &[&uuid],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| StoredEvent {
            id: r.get(0),
            received_type: r.get(1),
            timestamp_us: r.get(2),
            received_at_us: r.get(3),
            content_type: r.get(4),
            raw: r.get(5),
            event_type: r.get(6),
        })
        .collect())
}

/// A call's events parsed, with their ids. An unreadable event fails the whole call.
pub(crate) fn records(stored: &[StoredEvent]) -> Result<Vec<(i64, EventRecord)>, StoreError> {
    stored.iter().map(|e| Ok((e.id, e.record()?))).collect()
}

/// Assemble the call `uuid` from its events and write it, inside the caller's transaction
/// (which holds the call's advisory lock).
async fn project_call(tx: &deadpool_postgres::Transaction<'_>, uuid: &str) -> Result<(), Retry> {
    let events = records(&load_events(&**tx, uuid).await?)?;
    let recs: Vec<EventRecord> = events.into_iter().map(|(_, r)| r).collect();
    let Some(call) = assemble(&recs) else { return Ok(()) };
    let last_heard_us = recs.iter().map(EventRecord::time_us).max();
    let stored = tx.prepare_cached("SELECT sort_key, started_at_us FROM calls WHERE uuid = $1").await?;
    let old: Option<(i64, i64)> = tx.query_opt(&stored, &[&uuid]).await?.map(|r| (r.get(0), r.get(1)));
    let sort_key = match old {
        Some((key, started)) if started == call.started_at_us => key,
        _ => free_sort_key(tx, call.started_at_us).await?,
    };
    let text = search_text(&call);
    let upsert = tx
        .prepare_cached(
            "INSERT INTO calls (uuid, sort_key, kind, direction, missed, answered, state, started_at_us, ended_at_us,
                            caller, callee, duration_s, hangup_cause, route, event_count, test, search_text,
                            last_heard_us, caller_display, caller_e164, callee_display, callee_e164, sources, caller_key, callee_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
         ON CONFLICT (uuid) DO UPDATE SET
            sort_key = excluded.sort_key, kind = excluded.kind, direction = excluded.direction,
            missed = excluded.missed, answered = excluded.answered, state = excluded.state,
            started_at_us = excluded.started_at_us, ended_at_us = excluded.ended_at_us,
            caller = excluded.caller, callee = excluded.callee, duration_s = excluded.duration_s,
            hangup_cause = excluded.hangup_cause, route = excluded.route, event_count = excluded.event_count,
            test = excluded.test, search_text = excluded.search_text, last_heard_us = excluded.last_heard_us,
            caller_display = excluded.caller_display, caller_e164 = excluded.caller_e164,
            callee_display = excluded.callee_display, callee_e164 = excluded.callee_e164, sources = excluded.sources,
            caller_key = excluded.caller_key, callee_key = excluded.callee_key",
        )
        .await?;
    tx.execute(
        &upsert,
        &[
            &call.uuid,
            &sort_key,
            &call.kind.as_str(),
            &call.direction.as_str(),
            &call.missed,
            &call.answered,
            &call.state.as_str(),
            &call.started_at_us,
            &call.ended_at_us,
            &call.caller_raw,
            &call.callee_raw,
            &call.duration_s,
            &call.hangup_cause,
            &route_json(&call),
            &(call.event_count as i64),
            &call.test,
            &text,
            &last_heard_us,
            &call.caller,
            &call.caller_e164,
            &call.callee,
            &call.callee_e164,
            &sources_text(&call),
            &contacts::party_key(&call.caller_e164, &call.caller_raw),
            &contacts::party_key(&call.callee_e164, &call.callee_raw),
        ],
    )
    .await?;
    Ok(())
}

/// The first free sort key of calls starting at `us`, as on SQLite.
async fn free_sort_key(tx: &deadpool_postgres::Transaction<'_>, started_at_us: i64) -> Result<i64, Retry> {
    let base = sort_key_floor(started_at_us);
    let top = tx.prepare_cached("SELECT max(sort_key) FROM calls WHERE sort_key BETWEEN $1 AND $1 + 999").await?;
    let top: Option<i64> = tx.query_one(&top, &[&base]).await?.get(0);
    match top {
        None => Ok(base),
        Some(t) if t < base + 999 => Ok(t + 1),
        Some(_) => {
            let free: Option<i64> = tx
                .query_one(
                    "SELECT min(k) FROM generate_series($1::bigint, $1::bigint + 999) k
                     WHERE NOT EXISTS (SELECT 1 FROM calls WHERE sort_key = k)",
                    &[&base],
                )
                .await?
                .get(0);
            free.ok_or_else(|| Retry::Fail(StoreError::Corrupt("no free sort key".into())))
        }
    }
}

fn stored_call(r: &tokio_postgres::Row, first: usize) -> Result<Call, StoreError> {
    let g = |i: usize| first + i;
    StoredCall {
        uuid: r.get(g(0)),
        kind: r.get(g(1)),
        direction: r.get(g(2)),
        missed: r.get(g(3)),
        answered: r.get(g(4)),
        state: r.get(g(5)),
        started_at_us: r.get(g(6)),
        ended_at_us: r.get(g(7)),
        caller_raw: r.get(g(8)),
        callee_raw: r.get(g(9)),
        duration_s: r.get(g(10)),
        hangup_cause: r.get(g(11)),
        route: r.get(g(12)),
        event_count: r.get(g(13)),
        test: r.get(g(14)),
        last_heard_us: r.get(g(15)),
        caller_display: r.get(g(16)),
        caller_e164: r.get(g(17)),
        callee_display: r.get(g(18)),
        callee_e164: r.get(g(19)),
        sources: r.get(g(20)),
    }
    .into_call()
    .map_err(|what| StoreError::Corrupt(format!("a stored call's {what} is not one Kanca writes")))
}

/// A LIKE pattern matching `term` anywhere, its wildcards taken literally.
fn contains_like(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// SQL parameters of a query being built.
#[derive(Default)]
pub(super) struct Args(Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>>);

impl Args {
    /// Add `v`; its placeholder.
    pub(super) fn push(&mut self, v: impl tokio_postgres::types::ToSql + Sync + Send + 'static) -> String {
        self.0.push(Box::new(v));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
        self.0.iter().map(|b| &**b as &(dyn tokio_postgres::types::ToSql + Sync)).collect()
    }
}

/// The calls a query finds, newest first. The rules are SQLite's ([`crate::history`]): a
/// number in any spelling is matched as digits inside one of a call's numbers (6 or more
/// digits: inside a number at least that long); words are matched as substrings of a call's
/// text, all of them; one or two letters alone find no call's own text; words also find the
/// calls whose note or tags hold every one of them (folded); a tag narrows to its calls.
async fn search(client: &tokio_postgres::Client, q: &Query, now: i64) -> Result<Page, StoreError> {
    let limit = q.limit.clamp(1, MAX_LIMIT);
    let text = q.text.trim();
    let folded = crate::fold::fold(text);
    // Words (not a number) of two or more characters also look in notes and tags.
    let noted: Option<Vec<String>> = (!folded.is_empty() && phone::search_digits(text).is_none() && folded.chars().count() >= 2)
        .then(|| folded.split(' ').map(str::to_owned).collect());
    // ... and find the calls of the contacts whose name or company holds them.
    let named: Vec<String> = if noted.is_some() { contacts::matching_numbers(client, text).await? } else { Vec::new() };
    let mut pages = Vec::new();
    if let Some(tag) = &q.tag {
        // A tag's calls are few (tags are put on by hand): their own text is simply searched.
        let mut args = Args::default();
        let mut conds = filters(q, &mut args);
        if !text.is_empty() {
            let terms: Vec<String> = match phone::search_digits(text) {
                Some(d) => vec![d],
                None => text.split_whitespace().map(str::to_lowercase).collect(),
            };
            let own: Vec<String> = terms.into_iter().map(|t| format!("strpos(c.search_text, {}) > 0", args.push(t))).collect();
            let mut either = format!("({})", own.join(" AND "));
            if let Some(words) = &noted {
                either = format!("({either} OR {})", noted_exists(words, &mut args));
            }
            if !named.is_empty() {
                either = format!("({either} OR {})", of_numbers(named.clone(), &mut args));
            }
            conds.push(either);
        }
        let t = args.push(tag.clone());
        conds.push(format!("EXISTS (SELECT 1 FROM call_tags t WHERE t.uuid = c.uuid AND t.tag = {t})"));
        pages.push(fetch(client, "calls c", conds, args, limit).await?);
    } else {
        if let Some(own) = own_text(q, text) {
            let mut args = Args::default();
            let mut conds = filters(q, &mut args);
            conds.extend(own.into_iter().map(|(sql, value)| sql.replace("{}", &args.push(value))));
            pages.push(fetch(client, "calls c", conds, args, limit).await?);
        }
        if let Some(words) = &noted {
            let mut args = Args::default();
            let mut conds = filters(q, &mut args);
            conds.extend(words.iter().map(|w| format!("strpos(n.folded, {}) > 0", args.push(w.clone()))));
            pages.push(fetch(client, "call_notes n JOIN calls c ON c.uuid = n.uuid", conds, args, limit).await?);
        }
        if !named.is_empty() {
            let mut args = Args::default();
            let mut conds = filters(q, &mut args);
            conds.push(of_contacts(client, named, &mut args).await?);
            pages.push(fetch(client, "calls c", conds, args, limit).await?);
        }
    }
    // Both lists newest first, without repeats, as SQLite merges them.
    let more = pages.iter().any(|(_, more)| *more);
    let mut all: Vec<(i64, Call)> = pages.into_iter().flat_map(|(calls, _)| calls).collect();
    all.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
    all.dedup_by_key(|(k, _)| *k);
    let more = more || all.len() > limit;
    all.truncate(limit);
    let next_cursor = if more { all.last().map(|(k, _)| *k) } else { None };
    let mut calls: Vec<Call> = all.into_iter().map(|(_, mut c)| {
        c.settle(now);
        c
    }).collect();
    annotate(client, &mut calls).await?;
    Ok(Page { calls, next_cursor })
}

/// What a call's own text must match for `text`, as conditions with one `{}` placeholder each
/// and its value; None when no call's own text can match (one or two letters alone).
fn own_text(q: &Query, text: &str) -> Option<Vec<(String, String)>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    Some(match phone::search_digits(text) {
        Some(digits) if digits.len() >= MIN_SUFFIX => {
            // Digits inside one all-digit word of at least MIN_SUFFIX digits, as SQLite's
            // suffix index finds them (the trigram index narrows the regex too).
            let re = format!("(^| )[0-9]*{digits}[0-9]*( |$)");
            vec![("c.search_text LIKE {}".into(), contains_like(&digits)), ("c.search_text ~ {}".into(), re)]
        }
        Some(digits) => vec![("c.search_text LIKE {}".into(), contains_like(&digits))],
        None => {
            let terms: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
            // One or two letters match no number (SQLite finds only names for them).
            if q.kind != Some(CallKind::Fax) && terms.iter().all(|t| t.chars().count() < 3 && !t.chars().any(|c| c.is_ascii_digit())) {
                return None;
            }
            terms.iter().map(|t| ("c.search_text LIKE {}".to_owned(), contains_like(t))).collect()
        }
    })
}

/// What calls read from the database are given beside what is stored, as on SQLite
/// ([`crate::history::annotate`]): the phone book's names, the note and tags, the names of
/// their route's steps and line.
async fn annotate(client: &impl tokio_postgres::GenericClient, calls: &mut [Call]) -> Result<(), StoreError> {
    contacts::annotate(client, calls).await?;
    journal::annotate(client, calls).await?;
    names::annotate(client, calls).await
}

/// Most calls of the contacts a name matched that are fetched by their sort keys; with more, the
/// names are common and a walk of the history newest first fills a page sooner.
const MAX_NAMED_SEEK: i64 = 5000;

/// The calls of the contacts' numbers `keys`: by their sort keys when there are few (read from
/// the key indexes), else by the keys themselves. Left to itself, the planner walks the history
/// newest first for a rare name too, through most of it (90 ms and more at a million calls).
async fn of_contacts(client: &tokio_postgres::Client, keys: Vec<String>, args: &mut Args) -> Result<String, StoreError> {
    // UNION ALL streams, so the limit stops a common number's scan early; a call found twice
    // (both parties in the book) is harmless in `= ANY`.
    let rows = client
        .query(
            "SELECT sort_key FROM calls WHERE caller_key = ANY($1) UNION ALL SELECT sort_key FROM calls WHERE callee_key = ANY($1) LIMIT $2",
            &[&keys, &(MAX_NAMED_SEEK + 1)],
        )
        .await?;
    if rows.len() as i64 > MAX_NAMED_SEEK {
        return Ok(of_numbers(keys, args));
    }
    let sort_keys: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    Ok(format!("c.sort_key = ANY({})", args.push(sort_keys)))
}

/// The calls with a party whose phone book key is one of `keys`.
fn of_numbers(keys: Vec<String>, args: &mut Args) -> String {
    let k = args.push(keys);
    format!("(c.caller_key = ANY({k}) OR c.callee_key = ANY({k}))")
}

/// The calls whose note or tags hold every (folded) word.
fn noted_exists(words: &[String], args: &mut Args) -> String {
    let conds: Vec<String> = words.iter().map(|w| format!("strpos(n.folded, {}) > 0", args.push(w.clone()))).collect();
    format!("EXISTS (SELECT 1 FROM call_notes n WHERE n.uuid = c.uuid AND {})", conds.join(" AND "))
}

/// The query's filters besides its text: kind, missed, direction, dates, the page's cursor.
fn filters(q: &Query, args: &mut Args) -> Vec<String> {
    let mut conds = Vec::new();
    if let Some(k) = q.kind {
        // A literal, so the planner can use the partial index of faxes; never user text.
        conds.push(format!("c.kind = '{}'", k.as_str()));
    }
    if q.missed_only {
        conds.push("c.missed".into());
    }
    if let Some(d) = q.direction {
        let p = args.push(d.as_str().to_owned());
        conds.push(format!("c.direction = {p}"));
    }
    if let Some(s) = q.since_us {
        let p = args.push(sort_key_floor(s));
        conds.push(format!("c.sort_key >= {p}"));
    }
    if let Some(u) = q.until_us {
        let p = args.push(sort_key_floor(u));
        conds.push(format!("c.sort_key < {p}"));
    }
    if let Some(b) = q.before {
        let p = args.push(b);
        conds.push(format!("c.sort_key < {p}"));
    }
    conds
}

/// The newest `limit` calls of `from` (naming the calls `c`) meeting `conds`, with their sort
/// keys; and whether there are more.
async fn fetch(client: &tokio_postgres::Client, from: &str, conds: Vec<String>, mut args: Args, limit: usize) -> Result<(Vec<(i64, Call)>, bool), StoreError> {
    let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    let lim = args.push(limit as i64 + 1);
    let sql = format!("SELECT c.sort_key, {CALL_COLUMNS} FROM {from} {filter} ORDER BY c.sort_key DESC LIMIT {lim}");
    let rows = client.query(&sql, &args.refs()).await?;
    let more = rows.len() > limit;
    let calls = rows.iter().take(limit).map(|row| Ok((row.get::<_, i64>(0), stored_call(row, 1)?))).collect::<Result<_, StoreError>>()?;
    Ok((calls, more))
}

/// Where what the receivers announce is published in this process.
struct Feeds {
    changes: broadcast::Sender<Change>,
    journal: broadcast::Sender<i64>,
    shared: broadcast::Sender<crate::Shared>,
}

/// Follow the change feed: LISTEN on a connection of its own, and publish each event's change
/// as every receiver of the database commits it. After a lost connection, reconnect (backing
/// off up to 10 s), publish what was committed meanwhile, and announce `Shared::Everything`.
async fn listen(config: tokio_postgres::Config, pool: Pool, feeds: Feeds, ready: tokio::sync::oneshot::Sender<()>) {
    let mut last_seen: Option<i64> = None;
    let mut delay = Duration::from_millis(100);
    let mut ready = Some(ready);
    loop {
        let started = std::time::Instant::now();
        let result = follow(&config, &pool, &feeds, &mut last_seen, &mut ready).await;
        // A connection that held for a while was not the trouble: try again soon.
        if started.elapsed() > Duration::from_secs(30) {
            delay = Duration::from_millis(100);
        }
        match result {
            Ok(()) => delay = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!("the PostgreSQL change feed stopped ({e}); reconnecting in {} ms", delay.as_millis());
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

async fn follow(
    config: &tokio_postgres::Config,
    pool: &Pool,
    feeds: &Feeds,
    last_seen: &mut Option<i64>,
    ready: &mut Option<tokio::sync::oneshot::Sender<()>>,
) -> Result<(), StoreError> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(Ok((n.channel().to_owned(), n.payload().to_owned()))).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(StoreError::from(e)));
                    break;
                }
            }
        }
    });
    let _stop_driver = AbortOnDrop(driver);
    client.batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {JOURNAL_CHANNEL}; LISTEN {SHARED_CHANNEL}")).await?;
    let changes = &feeds.changes;
    // What was committed while no connection listened (a first start publishes nothing old).
    let db = pool.get().await?;
    match *last_seen {
        None => *last_seen = Some(db.query_one("SELECT coalesce(max(id), 0) FROM events", &[]).await?.get(0)),
        Some(after) => {
            let missed: Vec<i64> =
                db.query("SELECT id FROM events WHERE id > $1 ORDER BY id", &[&after]).await?.iter().map(|r| r.get(0)).collect();
            for id in missed {
                publish(&db, changes, id).await?;
                *last_seen = Some(id);
            }
        }
    }
    // Whoever follows the journal reads what was numbered while no connection listened.
    let top: i64 = db.query_one("SELECT coalesce(max(pos), 0) FROM events", &[]).await?.get(0);
    let _ = feeds.journal.send(top);
    drop(db);
    // Listening again after a lost connection (the first one made `ready` known): what was
    // announced while no connection listened cannot be known, so whoever follows reads
    // everything shared again.
    if ready.is_none() {
        let _ = feeds.shared.send(crate::Shared::Everything);
    }
    if let Some(ready) = ready.take() {
        let _ = ready.send(());
    }
    while let Some(message) = rx.recv().await {
        let (channel, payload) = message?;
        if channel == JOURNAL_CHANNEL {
            if let Ok(top) = payload.parse::<i64>() {
                let _ = feeds.journal.send(top);
            }
            continue;
        }
        if channel == SHARED_CHANNEL {
            if let Some(what) = journal::parse_shared(&payload) {
                let _ = feeds.shared.send(what);
            }
            continue;
        }
        let Ok(id) = payload.parse::<i64>() else { continue };
        // Nobody follows (a plain `kanca serve`): no connection, no read.
        if changes.receiver_count() > 0 {
            let db = pool.get().await?;
            publish(&db, changes, id).await?;
        }
        *last_seen = Some(last_seen.map_or(id, |s| s.max(id)));
    }
    Err(StoreError::Postgres("the listening connection closed".into()))
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Publish the change event `id` made (nothing when no one listens).
async fn publish(client: &tokio_postgres::Client, changes: &broadcast::Sender<Change>, id: i64) -> Result<(), StoreError> {
    if changes.receiver_count() == 0 {
        return Ok(());
    }
    let Some(row) = client.query_opt("SELECT uuid FROM events WHERE id = $1", &[&id]).await? else { return Ok(()) };
    let uuid: String = row.get(0);
    let events = match records(&load_events(client, &uuid).await?) {
        Ok(events) => events,
        Err(e) => {
            tracing::error!(%uuid, "cannot publish a change of this call: {e}");
            return Ok(());
        }
    };
    if let Some(change) = change_of(&events, id, None) {
        let _ = changes.send(change);
    }
    Ok(())
}
