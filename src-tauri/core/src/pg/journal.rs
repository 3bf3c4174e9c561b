//! What an office's desks need of a PostgreSQL history, so that any receiver of the database
//! serves any desk: a journal in commit order, notes and tags, tag colours. (The office module
//! reads the journal and keeps the paired desks and the certificate: `office/shared.rs`.)
//!
//! ## The journal
//! A desk copies the history by reading every event after the last one it has, by position.
//! Event ids come from a sequence, and two receivers commit out of id order: a desk that read
//! id 12 could later miss id 11, committed a moment after. So events get a second number,
//! `pos`, after they are committed: a sequencer pass, run by any receiver under one advisory
//! lock, numbers the committed events that have none, in one transaction. Passes take turns,
//! so every position a pass gives is above every position a reader could already have seen,
//! and "after `pos`" never skips anything. The pass ends with `NOTIFY kanca_journal`.
//!
//! Each receiver runs a pass after it stores an event (wake-ups coalesce under load) and every
//! second (events a receiver committed just before it was killed).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::{PgStore, JOURNAL_CHANNEL, SHARED_CHANNEL};
use crate::notes::{self, NotesError, Tag, TagColour};
use crate::store::StoreError;
use crate::time::now_us;
use crate::Call;

/// Advisory lock key a sequencer pass holds: passes take turns across receivers.
const SEQUENCER_LOCK: i64 = 0x6b61_6e63_6100_0002;
/// Most events one pass numbers.
const SEQUENCE_BATCH: i64 = 10_000;
/// How often a receiver looks for events nobody numbered.
const SEQUENCE_EVERY: Duration = Duration::from_secs(1);
/// The shortest time between two passes of one receiver: under load a pass numbers what came in
/// meanwhile, rather than a pass per event (each rewrites its events' rows).
const SEQUENCE_GAP: Duration = Duration::from_millis(20);

/// What a note, tags or colour change is announced as on [`SHARED_CHANNEL`].
pub(super) fn shared_payload(what: &crate::Shared) -> String {
    match what {
        crate::Shared::CallNotes(uuid) => format!("call:{uuid}"),
        crate::Shared::Contacts => "contacts".into(),
        crate::Shared::Names => "names".into(),
        crate::Shared::TagColours => "tags".into(),
        crate::Shared::Everything => "all".into(),
    }
}

pub(super) fn parse_shared(payload: &str) -> Option<crate::Shared> {
    Some(match payload {
        "contacts" => crate::Shared::Contacts,
        "names" => crate::Shared::Names,
        "tags" => crate::Shared::TagColours,
        "all" => crate::Shared::Everything,
        other => crate::Shared::CallNotes(other.strip_prefix("call:")?.to_owned()),
    })
}

/// Number the committed events that have no position yet: (the highest position given, how
/// many), None when there were none.
pub(super) async fn sequence(pool: &deadpool_postgres::Pool) -> Result<Option<(i64, i64)>, StoreError> {
    let mut client = pool.get().await?;
    let pending = client.prepare_cached("SELECT EXISTS (SELECT 1 FROM events WHERE pos IS NULL)").await?;
    if !client.query_one(&pending, &[]).await?.get::<_, bool>(0) {
        return Ok(None);
    }
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEQUENCER_LOCK]).await?;
    // A statement of its own after the lock: it sees every pass before it.
    let top: Option<(i64, i64)> = tx
        .query_one(
            "WITH todo AS (SELECT id FROM events WHERE pos IS NULL ORDER BY id LIMIT $1),
                  numbered AS (SELECT id, nextval('events_pos') AS p FROM todo),
                  done AS (UPDATE events e SET pos = n.p FROM numbered n WHERE e.id = n.id RETURNING e.pos)
             SELECT max(pos), count(*) FROM done",
            &[&SEQUENCE_BATCH],
        )
        .await
        .map(|r| r.get::<_, Option<i64>>(0).map(|top| (top, r.get::<_, i64>(1))))?;
    if let Some((top, _)) = top {
        tx.execute("SELECT pg_notify($1, $2)", &[&JOURNAL_CHANNEL, &top.to_string()]).await?;
    }
    tx.commit().await?;
    Ok(top)
}

/// A receiver's sequencer: a pass when woken (after each stored event, at most one per
/// [`SEQUENCE_GAP`]) and every second.
pub(super) async fn run_sequencer(pool: deadpool_postgres::Pool, wake: Arc<Notify>) {
    loop {
        // A wake-up that comes meanwhile is kept (`notify_one`), so none is lost.
        let _ = tokio::time::timeout(SEQUENCE_EVERY, wake.notified()).await;
        loop {
            match sequence(&pool).await {
                // A full batch: more may be waiting.
                Ok(Some((_, n))) if n >= SEQUENCE_BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!("cannot number new events for the desks' journal: {e}");
                    break;
                }
            }
        }
        tokio::time::sleep(SEQUENCE_GAP).await;
    }
}

impl PgStore {
    /// The highest journal position given so far (0 when none).
    pub async fn journal_top(&self) -> Result<i64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.query_one("SELECT coalesce(max(pos), 0) FROM events", &[]).await?.get(0))
    }

    /// Number what is committed and unnumbered now (tests; receivers do it on their own).
    pub async fn sequence_now(&self) -> Result<(), StoreError> {
        while sequence(&self.pool).await?.is_some() {}
        Ok(())
    }

    /// Positions given after `after`: the journal moved (from every receiver of the database).
    pub fn subscribe_journal(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.journal.subscribe()
    }

    /// Notes, tags and colours changed through any receiver of the database.
    pub fn subscribe_shared(&self) -> tokio::sync::broadcast::Receiver<crate::Shared> {
        self.shared.subscribe()
    }

    /// Set the note of call `uuid` (an empty note removes it), as [`notes::set_note`] does.
    pub async fn set_call_note(&self, uuid: &str, note: &str) -> Result<(), NotesError> {
        let note = notes::clean_note(note);
        self.write_notes(uuid, move |_, tags| (note, tags)).await
    }

    /// Set the tags of call `uuid`, as [`notes::set_tags`] does.
    pub async fn set_call_tags(&self, uuid: &str, tags: &[String]) -> Result<(), NotesError> {
        let tags = notes::clean_tags(tags)?;
        self.write_notes(uuid, move |note, _| (note, tags)).await
    }

    /// Read a call's note and tags, change them and write them back, under the call's lock (the
    /// one ingest takes), so two desks writing the note and the tags at once keep both.
    async fn write_notes(
        &self,
        uuid: &str,
        change: impl FnOnce(Option<String>, Vec<String>) -> (Option<String>, Vec<String>),
    ) -> Result<(), NotesError> {
        let mut client = self.pool.get().await.map_err(StoreError::from)?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let pg = |e: tokio_postgres::Error| NotesError::Store(e.into());
        tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&uuid]).await.map_err(pg)?;
        if tx.query_opt("SELECT 1 FROM calls WHERE uuid = $1", &[&uuid]).await.map_err(pg)?.is_none() {
            return Err(NotesError::UnknownCall(uuid.to_owned()));
        }
        let (note, tags) = read_notes(&*tx, uuid).await?;
        let (note, tags) = change(note, tags);
        if note.is_none() && tags.is_empty() {
            tx.execute("DELETE FROM call_notes WHERE uuid = $1", &[&uuid]).await.map_err(pg)?;
        } else {
            tx.execute(
                "INSERT INTO call_notes (uuid, note, tags, folded, updated_at_us) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (uuid) DO UPDATE SET note = $2, tags = $3, folded = $4, updated_at_us = $5",
                &[&uuid, &note, &serde_json::to_string(&tags).unwrap_or_default(), &notes::folded(note.as_deref(), &tags), &now_us()],
            )
            .await
            .map_err(pg)?;
        }
        tx.execute("DELETE FROM call_tags WHERE uuid = $1", &[&uuid]).await.map_err(pg)?;
        for t in &tags {
            tx.execute("INSERT INTO call_tags (tag, uuid) VALUES ($1, $2) ON CONFLICT DO NOTHING", &[t, &uuid]).await.map_err(pg)?;
            tx.execute("INSERT INTO tag_colours (tag, colour) VALUES ($1, $2) ON CONFLICT DO NOTHING", &[t, &notes::first_colour(t).as_str()])
                .await
                .map_err(pg)?;
        }
        let payload = shared_payload(&crate::Shared::CallNotes(uuid.to_owned()));
        tx.execute("SELECT pg_notify($1, $2)", &[&SHARED_CHANNEL, &payload]).await.map_err(pg)?;
        tx.commit().await.map_err(pg)?;
        Ok(())
    }

    /// Every call's note and tags, by uuid (byte order, as SQLite), as [`notes::all`].
    pub async fn all_notes(&self) -> Result<Vec<notes::CallNote>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT uuid, note, tags FROM call_notes ORDER BY uuid COLLATE \"C\"", &[]).await?;
        Ok(rows
            .iter()
            .map(|r| notes::CallNote { uuid: r.get(0), note: r.get(1), tags: serde_json::from_str(r.get::<_, &str>(2)).unwrap_or_default() })
            .collect())
    }

    /// Every tag with its colour and how many calls carry it, by name (byte order, as SQLite).
    pub async fn tags(&self) -> Result<Vec<Tag>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT t.tag, t.colour, (SELECT count(*) FROM call_tags c WHERE c.tag = t.tag) FROM tag_colours t ORDER BY t.tag COLLATE \"C\"",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Tag { name: r.get(0), colour: TagColour::parse(r.get(1)).unwrap_or(TagColour::Grey), calls: r.get(2) })
            .collect())
    }

    /// Choose a tag's colour, as [`notes::set_tag_colour`] does.
    pub async fn set_tag_colour(&self, tag: &str, colour: &str) -> Result<(), NotesError> {
        let (tag, colour) = notes::check_tag_colour(tag, colour)?;
        let mut client = self.pool.get().await.map_err(StoreError::from)?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let pg = |e: tokio_postgres::Error| NotesError::Store(e.into());
        tx.execute(
            "INSERT INTO tag_colours (tag, colour) VALUES ($1, $2) ON CONFLICT (tag) DO UPDATE SET colour = $2",
            &[&tag, &colour.as_str()],
        )
        .await
        .map_err(pg)?;
        tx.execute("SELECT pg_notify($1, $2)", &[&SHARED_CHANNEL, &shared_payload(&crate::Shared::TagColours)]).await.map_err(pg)?;
        tx.commit().await.map_err(pg)?;
        Ok(())
    }

}

/// A call's note and tags (None and none when it has neither).
async fn read_notes(client: &impl tokio_postgres::GenericClient, uuid: &str) -> Result<(Option<String>, Vec<String>), StoreError> {
    let row = client.query_opt("SELECT note, tags FROM call_notes WHERE uuid = $1", &[&uuid]).await?;
    Ok(match row {
        Some(r) => (r.get(0), serde_json::from_str(r.get::<_, &str>(1)).unwrap_or_default()),
        None => (None, Vec::new()),
    })
}

/// Fill in the notes and tags of `calls` (one query for the page).
pub(super) async fn annotate(client: &impl tokio_postgres::GenericClient, calls: &mut [Call]) -> Result<(), StoreError> {
    if calls.is_empty() {
        return Ok(());
    }
    let uuids: Vec<&str> = calls.iter().map(|c| c.uuid.as_str()).collect();
    let rows = client.query("SELECT uuid, note, tags FROM call_notes WHERE uuid = ANY($1)", &[&uuids]).await?;
    let mut found: std::collections::HashMap<String, (Option<String>, Vec<String>)> = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), (r.get(1), serde_json::from_str(r.get::<_, &str>(2)).unwrap_or_default())))
        .collect();
    for call in calls {
        if let Some((note, tags)) = found.remove(&call.uuid) {
            (call.note, call.tags) = (note, tags);
        }
    }
    Ok(())
}
