//! The inbox: where a delivery is made durable before it is answered.
//!
//! A SQLite file of its own beside the database ([`INBOX_FILE`]), with its own write lock, so
//! journaling a delivery never waits for a projection and the two run on two threads at once.
//! Rows are appended in arrival order (no index but the rowid), so a commit writes a few pages
//! to the inbox's WAL and fsyncs them: the acknowledgement's cost. The projector moves rows into
//! `events` in the same transaction that projects them into calls and advances
//! `projection.through_inbox`; rows at or below a marker the database has made durable (fsynced)
//! are deleted by the next journal commit. A crash at any point leaves every acknowledged row
//! either in the inbox past the marker (moved at the next open, or by a reader catching up) or
//! in `events`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::{IncomingEvent, Job, Outcome, Progress, Reply, StoreError, LAG_WAIT, MAX_BATCH, MAX_LAG};

pub const INBOX_FILE: &str = "kanca-inbox.db";

/// The inbox's own schema version (`user_version`), independent of the database's.
const INBOX_VERSION: i64 = 1;

const INBOX_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS inbox (
        -- Given as max(id) + 1: the newest row is never deleted, so ids never go back (the
        -- marker counts on it).
        id             INTEGER PRIMARY KEY,
        uuid           TEXT NOT NULL,
        event_type     TEXT NOT NULL,
        received_type  TEXT NOT NULL,
        timestamp_us   INTEGER,
        destination    TEXT,
        received_at_us INTEGER NOT NULL,
        content_type   TEXT,
        raw            BLOB NOT NULL
    );";

/// Open (creating if needed) the inbox at `path` for writing: WAL, every commit fsynced.
pub fn open_inbox(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open { path: path.to_owned(), source };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
    // Small pages: a commit of a few deliveries rewrites its last, partly filled page, and a
    // 4 KiB page made that most of what the inbox wrote. Only takes effect on a new file,
    // before WAL is set.
    conn.pragma_update(None, "page_size", 1024).map_err(open_err)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > INBOX_VERSION {
        return Err(StoreError::TooNew { path: path.to_owned(), found: version, supported: INBOX_VERSION });
    }
    if version < INBOX_VERSION {
        conn.execute_batch(INBOX_SCHEMA)?;
        conn.pragma_update(None, "user_version", INBOX_VERSION)?;
    }
    Ok(conn)
}

/// Open the inbox at `path` for reading, if there is one (a database an older Kanca wrote has
/// none, and a reader must not create one).
pub fn open_inbox_reader(path: &Path) -> Result<Option<Connection>, StoreError> {
    if !path.exists() {
        return Ok(None);
    }
    let open_err = |source| StoreError::Open { path: path.to_owned(), source };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
    let has_table: bool = conn
        .query_row("SELECT 1 FROM sqlite_master WHERE name = 'inbox'", [], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    Ok(has_table.then_some(conn))
}

/// The highest inbox id given (0 for a new inbox).
pub fn last_id(inbox: &Connection) -> Result<i64, StoreError> {
    Ok(inbox.query_row("SELECT ifnull(max(id), 0) FROM inbox", [], |r| r.get(0))?)
}

/// Delete the rows up to `through` (the database holds them durably), but for the newest row:
/// the next id is max(id) + 1, and must not go back below what was moved.
const TRIM: &str = "DELETE FROM inbox WHERE id <= ?1 AND id < (SELECT max(id) FROM inbox)";

/// Delete the rows the database holds durably (up to `marker`), and make the inbox's next id
/// come after it. An inbox new beside a database that is not (deleted, or the database
/// restored from another machine) would give ids from 1 again, below the marker, where they
/// would be taken for moved already: it gets an empty row at `marker`, which is never moved.
pub fn settle(inbox: &mut Connection, marker: i64) -> Result<(), StoreError> {
    let tx = inbox.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if last_id(&tx)? < marker {
        tx.execute(
            "INSERT INTO inbox (id, uuid, event_type, received_type, received_at_us, raw) VALUES (?1, '', '', '', 0, x'')",
            [marker],
        )?;
    }
    tx.execute(TRIM, [marker])?;
    tx.commit()?;
    Ok(())
}

/// A row of the inbox, as `events` will hold it.
#[derive(Debug)]
pub struct Row {
    pub id: i64,
    pub uuid: String,
    pub event_type: String,
    pub received_type: String,
    pub timestamp_us: Option<i64>,
    pub destination: Option<String>,
    pub received_at_us: i64,
    pub content_type: Option<String>,
    pub raw: Vec<u8>,
}

/// Rows past `after`, in order.
pub fn rows_after(inbox: &Connection, after: i64) -> Result<Vec<Row>, StoreError> {
    let mut stmt = inbox.prepare_cached(
        "SELECT id, uuid, event_type, received_type, timestamp_us, destination, received_at_us, content_type, raw
         FROM inbox WHERE id > ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([after], |r| {
        Ok(Row {
            id: r.get(0)?,
            uuid: r.get(1)?,
            event_type: r.get(2)?,
            received_type: r.get(3)?,
            timestamp_us: r.get(4)?,
            destination: r.get(5)?,
            received_at_us: r.get(6)?,
            content_type: r.get(7)?,
            raw: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What makes two deliveries the same event (the `events_identity` index's columns).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    uuid: String,
    event_type: String,
    timestamp_us: i64,
    destination: String,
}

impl Identity {
    pub fn of(inc: &IncomingEvent) -> Identity {
        let ev = &inc.event;
        Identity {
            uuid: ev.uuid.clone(),
            event_type: ev.event_type.as_str().to_owned(),
            timestamp_us: ev.timestamp_us.unwrap_or(-1),
            destination: ev.destination.clone().unwrap_or_default(),
        }
    }
}

/// Identities of the events in the inbox and not yet in `events`, with their inbox ids: a
/// redelivery of one of them is a duplicate that the database cannot see yet.
#[derive(Default)]
pub struct InFlight(Mutex<HashMap<Identity, i64>>);

impl InFlight {
    fn contains(&self, id: &Identity) -> bool {
        self.0.lock().map(|m| m.contains_key(id)).unwrap_or(false)
    }

    fn add(&self, entries: impl IntoIterator<Item = (Identity, i64)>) {
        if let Ok(mut m) = self.0.lock() {
            m.extend(entries);
        }
    }

    /// Forget what the database holds now: everything moved up to `marker`.
    pub fn moved_through(&self, marker: i64) {
        if let Ok(mut m) = self.0.lock() {
            m.retain(|_, id| *id > marker);
        }
    }
}

/// A delivery the inbox holds, on its way to the projector.
pub struct Inboxed {
    pub id: i64,
    pub event: IncomingEvent,
}

/// What the projector is sent.
pub enum ToProjector {
    /// Deliveries journaled (and answered), in inbox order.
    Journaled(Vec<Inboxed>),
    /// Project what is journaled now rather than at the next tick (a reader is waiting).
    Project,
    /// Give back the page cache (after a busy spell).
    ReleaseMemory,
}

/// The journal thread: appends deliveries to the inbox in group commits, answers each once it
/// is durable, and hands them to the projector.
pub struct Journal {
    pub inbox: Connection,
    /// The database, read only: is a delivery a redelivery of an event already moved?
    pub db: Connection,
    pub in_flight: Arc<InFlight>,
    pub projector: mpsc::SyncSender<ToProjector>,
    pub progress: Arc<Progress>,
    /// Inbox rows up to here are in the database durably and may be deleted.
    pub durable: Arc<AtomicI64>,
    /// Inbox rows up to here are deleted.
    pub trimmed: i64,
}

impl Journal {
    pub fn run(mut self, rx: mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            self.progress.wait_lag(MAX_LAG, LAG_WAIT);
            // Group commit: everything that queued up while the last fsync ran goes in one
            // transaction, so concurrent deliveries share one fsync.
            let mut batch = Vec::new();
            let mut job = Some(first);
            while let Some(Job(inc, reply)) = job.take() {
                batch.push((*inc, reply));
                if batch.len() < MAX_BATCH {
                    job = rx.try_recv().ok();
                }
            }
            if !self.journal(batch) {
                tracing::error!("the projector has stopped; the journal stops too");
                break;
            }
        }
    }

    /// Journal `batch`, hand it to the projector and answer each delivery. False when the
    /// projector is gone.
    fn journal(&mut self, batch: Vec<(IncomingEvent, Reply)>) -> bool {
        if batch.is_empty() {
            return true;
        }
        let identities: Vec<Identity> = batch.iter().map(|(inc, _)| Identity::of(inc)).collect();
        let fresh = self.fresh(&identities);
        let to_store: Vec<&IncomingEvent> =
            batch.iter().zip(&fresh).filter(|(_, f)| matches!(f, Ok(true))).map(|((inc, _), _)| inc).collect();
        let durable = self.durable.load(Ordering::SeqCst);
        let trim = (durable > self.trimmed).then_some(durable);
        let (stored, trimmed) = journal_each(&mut self.inbox, &to_store, trim);
        if trimmed {
            self.trimmed = durable;
        }
        let mut answers = Vec::with_capacity(batch.len());
        let mut journaled = Vec::new();
        let mut added = Vec::new();
        let mut stored_iter = stored.into_iter();
        for (((inc, reply), identity), fresh) in batch.into_iter().zip(identities).zip(fresh) {
            let answer = match fresh {
                Err(e) => Err(e),
                Ok(false) => Ok(Outcome::Duplicate),
                Ok(true) => match stored_iter.next() {
                    Some(Ok(id)) => {
                        added.push((identity, id));
                        journaled.push(Inboxed { id, event: inc });
                        Ok(Outcome::Stored)
                    }
                    Some(Err(e)) => Err(e),
                    None => Err(Arc::new(StoreError::Corrupt("journal answered fewer events than it was given".into()))),
                },
            };
            answers.push((reply, answer));
        }
        self.in_flight.add(added);
        let mut alive = true;
        // Before answering: a read that follows an answer must know to wait for these events,
        // and the projector must have them.
        if let Some(last) = journaled.last() {
            self.progress.journaled.fetch_max(last.id, Ordering::SeqCst);
            alive = self.projector.send(ToProjector::Journaled(journaled)).is_ok();
        }
        for (reply, answer) in answers {
            let _ = reply.send(answer);
        }
        alive
    }

    /// For each delivery: true if it is new, false if it is a redelivery (of one in flight,
    /// one in the database, or an earlier one of this batch).
    fn fresh(&mut self, identities: &[Identity]) -> Vec<Result<bool, Arc<StoreError>>> {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<Result<bool, Arc<StoreError>>> = identities
            .iter()
            .map(|id| Ok(seen.insert(id) && !self.in_flight.contains(id)))
            .collect();
        // Checked after the in-flight set: an identity leaves that set only once the database
        // holds it, so none can slip between the two checks.
        let check = |db: &Connection, out: &mut Vec<Result<bool, Arc<StoreError>>>| -> Result<(), StoreError> {
            // One read transaction for the batch: one snapshot, one look at the WAL.
            let tx = db.unchecked_transaction()?;
            let mut stmt = tx.prepare_cached(
                "SELECT 1 FROM events WHERE uuid = ?1 AND event_type = ?2
                   AND ifnull(timestamp_us, -1) = ?3 AND ifnull(destination, '') = ?4",
            )?;
            for (id, slot) in identities.iter().zip(out.iter_mut()) {
                if matches!(slot, Ok(true))
                    && stmt.exists(params![id.uuid, id.event_type, id.timestamp_us, id.destination])?
                {
                    *slot = Ok(false);
                }
            }
            drop(stmt);
            tx.finish()?;
            Ok(())
        };
        if let Err(e) = check(&self.db, &mut out) {
            tracing::error!("cannot check deliveries against the stored events: {e}");
            let e = Arc::new(e);
            for slot in out.iter_mut().filter(|s| matches!(s, Ok(true))) {
                *slot = Err(e.clone());
            }
        }
        out
    }
}

/// Append `events` to the inbox in one transaction (deleting the rows up to `trim` in it);
/// if that fails, each in its own, so one bad event does not fail the others. Per event: its
/// inbox id or why it was not stored; and whether the trim was done.
fn journal_each(inbox: &mut Connection, events: &[&IncomingEvent], trim: Option<i64>) -> (Vec<Result<i64, Arc<StoreError>>>, bool) {
    if events.is_empty() {
        return (Vec::new(), false);
    }
    match append(inbox, events, trim) {
        Ok(ids) => (ids.into_iter().map(Ok).collect(), trim.is_some()),
        Err(e) if events.len() > 1 || trim.is_some() => {
            tracing::warn!("journaling {} event(s) failed ({e}); storing one by one", events.len());
            let each = events
                .iter()
                .map(|inc| match append(inbox, &[inc], None) {
                    Ok(mut ids) => ids.pop().ok_or_else(|| Arc::new(StoreError::Corrupt("no id".into()))),
                    Err(e) => {
                        tracing::error!(uuid = %inc.event.uuid, "storing event failed: {e}");
                        Err(Arc::new(e))
                    }
                })
                .collect();
            (each, false)
        }
        Err(e) => {
            tracing::error!("storing an event failed: {e}");
            (vec![Err(Arc::new(e))], false)
        }
    }
}

/// Insert `events` into the inbox in one IMMEDIATE transaction, committed (durably) before
/// returning; their ids in order.
pub fn append(inbox: &mut Connection, events: &[&IncomingEvent], trim: Option<i64>) -> Result<Vec<i64>, StoreError> {
    let tx = inbox.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(through) = trim {
        tx.prepare_cached(TRIM)?.execute([through])?;
    }
    let mut ids = Vec::with_capacity(events.len());
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO inbox (uuid, event_type, received_type, timestamp_us, destination, received_at_us, content_type, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for inc in events {
            stmt.execute(inc.columns())?;
            ids.push(tx.last_insert_rowid());
        }
    }
    tx.commit()?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{open, open_reader, DB_FILE};
    use tokio::sync::oneshot;

    fn delivery(uuid: &str) -> IncomingEvent {
        let body = format!(r#"{{"event_type":"call_init","uuid":"{uuid}","caller":905324445566,"direction":"IN","timestamp":1700000000000000}}"#);
        IncomingEvent {
            event: crate::webhook::parse(Some("application/json"), body.as_bytes()).unwrap(),
            raw: body.into_bytes(),
            content_type: Some("application/json".into()),
            received_at_us: 1,
        }
    }

    /// A journal whose projector never moves anything: every delivery stays in flight.
    fn journal(dir: &Path) -> (Journal, mpsc::Receiver<ToProjector>) {
        drop(open(&dir.join(DB_FILE)).unwrap());
        let (tx, rx) = mpsc::sync_channel(16);
        let journal = Journal {
            inbox: open_inbox(&dir.join(INBOX_FILE)).unwrap(),
            db: open_reader(&dir.join(DB_FILE)).unwrap(),
            in_flight: Arc::default(),
            projector: tx,
            progress: Arc::default(),
            durable: Arc::default(),
            trimmed: 0,
        };
        (journal, rx)
    }

    fn answer(journal: &mut Journal, inc: IncomingEvent) -> Outcome {
        let (reply, wait) = oneshot::channel();
        assert!(journal.journal(vec![(inc, reply)]));
        wait.blocking_recv().unwrap().unwrap()
    }

    #[test]
    fn a_redelivery_of_an_event_not_yet_moved_is_a_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, rx) = journal(dir.path());
        assert_eq!(answer(&mut journal, delivery("a")), Outcome::Stored);
        // In a commit of its own, while the first is in the inbox only.
        assert_eq!(answer(&mut journal, delivery("a")), Outcome::Duplicate);
        assert_eq!(answer(&mut journal, delivery("b")), Outcome::Stored);
        let handed: Vec<i64> = rx
            .try_iter()
            .flat_map(|m| match m {
                ToProjector::Journaled(v) => v.into_iter().map(|i| i.id).collect(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(handed, [1, 2], "each stored delivery handed over once, in inbox order");
        // Once moved, the database answers for it.
        journal.in_flight.moved_through(2);
        let mut db = open(&dir.path().join(DB_FILE)).unwrap();
        crate::store::ingest_batch(&mut db, &[delivery("a")]).unwrap();
        assert_eq!(answer(&mut journal, delivery("a")), Outcome::Duplicate);
        assert_eq!(answer(&mut journal, delivery("c")), Outcome::Stored);
    }

    #[test]
    fn a_gone_projector_stops_the_journal_after_answering() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, rx) = journal(dir.path());
        drop(rx);
        let (reply, wait) = oneshot::channel();
        assert!(!journal.journal(vec![(delivery("x"), reply)]));
        // Durable in the inbox: the answer says so; the next open moves it.
        assert_eq!(wait.blocking_recv().unwrap().unwrap(), Outcome::Stored);
    }
}
