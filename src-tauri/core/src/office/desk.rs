//! A desk of an office: its history is a copy of the receiver's, kept by reading the receiver's
//! journal (every stored event, with its raw body) and then following its stream of changes.
//! The copy is an ordinary Kanca database, so the window, the tray, the pop-ups and search work
//! on it as on a receiver's own, at local speed. Events are stored with the receiver's time of
//! arrival; what arrives long after that is caught up with, not rung for (`popup::is_late`).
//! Notes, tags, contacts, names and tag colours are written at the receiver (see
//! `office::client`) and come back to every desk through the stream.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::api::{JournalEvent, JOURNAL_PAGE};
use super::client::{ClientError, OfficeClient, SseMessage};
use super::clients::Pairing;
use crate::contacts::Contact;
use crate::names::NameEntry;
use crate::notes::Tag;
use crate::store::IncomingEvent;
use crate::{Call, Engine};

/// The stream sends a keep-alive every 15 s: silent for this long, it is lost.
const STREAM_IDLE: Duration = Duration::from_secs(50);
/// Waits between attempts while the receiver cannot be reached.
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Wait after the receiver refused this desk (revoked, or a new certificate) before asking again.
const REFUSED_RETRY: Duration = Duration::from_secs(60);
/// File in the desk's data directory: how far the copy has got.
const CURSOR_FILE: &str = "receiver.json";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DeskState {
    #[default]
    Connecting,
    /// Reading what happened while away.
    CatchingUp,
    Connected,
    /// Cannot reach the receiver; trying again with backoff.
    Unreachable,
    /// The receiver refused this desk (revoked) or is not the one paired with: pair again.
    Refused,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DeskStatus {
    pub state: DeskState,
    /// `host:port` of the receiver.
    pub receiver: String,
    /// This desk's name at the receiver.
    pub name: String,
    pub error: Option<String>,
    /// Since when the state holds (RFC 3339).
    pub since: Option<String>,
    /// Events the last catching up brought.
    #[ts(type = "number")]
    pub caught_up: u64,
    /// The receiver has Bulutfon's API: recordings and faxes can be fetched through it.
    pub media: bool,
    /// The receiver shares no phone book (its history is on PostgreSQL): contacts cannot be
    /// added, edited or imported at this desk.
    pub no_phone_book: bool,
}

/// How far the copy has got, and from which receiver.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct Cursor {
    fingerprint: String,
    after: i64,
}

fn load_cursor(dir: &Path, fingerprint: &str) -> i64 {
    let cursor: Cursor = std::fs::read(dir.join(CURSOR_FILE)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    if cursor.fingerprint == fingerprint {
        cursor.after
    } else {
        0
    }
}

fn save_cursor(dir: &Path, fingerprint: &str, after: i64) {
    let path = dir.join(CURSOR_FILE);
    let tmp: PathBuf = dir.join(format!("{CURSOR_FILE}.tmp"));
    let json = serde_json::to_vec(&Cursor { fingerprint: fingerprint.to_owned(), after }).unwrap_or_default();
    if let Err(e) = std::fs::write(&tmp, json).and_then(|_| std::fs::rename(&tmp, &path)) {
        tracing::warn!("office: cannot note how far this desk has read ({}): {e}", path.display());
    }
}

fn now_text() -> String {
    crate::time::micros_to_rfc3339(crate::time::now_us()).unwrap_or_default()
}

/// Which of the events a desk stores are caught up with rather than happening now, by the
/// receiver's time of arrival: everything up to a mark. Set before the events are stored, so
/// the pop-ups never see one of them first.
#[derive(Debug, Default)]
pub struct CatchUp {
    /// The first copy of a new desk: history, announced nowhere.
    quiet_through_us: AtomicI64,
    /// Missed while the desk was away or closed: one summary, no ringing.
    late_through_us: AtomicI64,
}

/// Events the receiver stored this recently are news even when caught up with (clocks of one
/// office's computers agree to well within this).
const FRESH_US: i64 = 10_000_000;

/// How the pop-ups treat an event the desk stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    Now,
    /// Caught up with after being away: summarised.
    Late,
    /// Part of the desk's first copy: history only.
    History,
}

impl CatchUp {
    pub fn arrival(&self, received_at_us: i64) -> Arrival {
        if received_at_us <= self.quiet_through_us.load(Ordering::Acquire) {
            Arrival::History
        } else if received_at_us <= self.late_through_us.load(Ordering::Acquire) {
            Arrival::Late
        } else {
            Arrival::Now
        }
    }

    /// Count what the receiver stored up to `received_at_us` as caught up with, unless it is
    /// from the last few seconds: a call ringing while the desk reconnects still pops up.
    fn mark(&self, received_at_us: i64, first_copy: bool) {
        if crate::time::now_us().saturating_sub(received_at_us) < FRESH_US {
            return;
        }
        let mark = if first_copy { &self.quiet_through_us } else { &self.late_through_us };
        mark.fetch_max(received_at_us, Ordering::AcqRel);
    }
}

/// The running desk; dropping it stops following.
pub struct Desk {
    client: OfficeClient,
    status: watch::Receiver<DeskStatus>,
    catch_up: Arc<CatchUp>,
    task: tokio::task::JoinHandle<()>,
}

impl Desk {
    /// Follow the receiver of `pairing` into `engine`'s database. Inside a tokio runtime.
    pub fn start(engine: Engine, pairing: &Pairing) -> Desk {
        let client = OfficeClient::new(pairing);
        let first = DeskStatus { receiver: pairing.addr.clone(), name: pairing.name.clone(), since: Some(now_text()), ..Default::default() };
        let (tx, status) = watch::channel(first);
        let catch_up = Arc::new(CatchUp::default());
        let follower = Follower { engine, client: client.clone(), fingerprint: pairing.fp.clone(), tx, catch_up: catch_up.clone() };
        let task = tokio::spawn(follower.run());
        Desk { client, status, catch_up, task }
    }

    /// Whether an event the desk stored (by the receiver's time of arrival) is news.
    pub fn arrival(&self, received_at_us: i64) -> Arrival {
        self.catch_up.arrival(received_at_us)
    }

    /// For writing notes, tags, contacts and names at the receiver.
    pub fn client(&self) -> &OfficeClient {
        &self.client
    }

    pub fn status(&self) -> DeskStatus {
        self.status.borrow().clone()
    }

    pub fn watch(&self) -> watch::Receiver<DeskStatus> {
        self.status.clone()
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Follower {
    engine: Engine,
    client: OfficeClient,
    fingerprint: String,
    tx: watch::Sender<DeskStatus>,
    catch_up: Arc<CatchUp>,
}

/// What a `change` message carries that the desk uses.
#[derive(Deserialize)]
struct WireChange {
    event: JournalEvent,
}

#[derive(Deserialize)]
struct JournalPage {
    events: Vec<JournalEvent>,
}

impl Follower {
    async fn run(self) {
        let mut backoff = BACKOFF_FIRST;
        loop {
            let result = self.follow(&mut backoff).await;
            let (state, error, wait) = match result {
                Ok(()) => (DeskState::Unreachable, "the receiver closed the connection".to_owned(), BACKOFF_FIRST),
                Err(e) if e.is_transient() => {
                    let wait = backoff;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    (DeskState::Unreachable, e.to_string(), wait)
                }
                Err(e) => (DeskState::Refused, e.to_string(), REFUSED_RETRY),
            };
            tracing::warn!("office: {error}; trying again in {} s", wait.as_secs());
            self.set(state, Some(error), None);
            tokio::time::sleep(wait).await;
        }
    }

    fn set(&self, state: DeskState, error: Option<String>, caught_up: Option<u64>) {
        self.tx.send_modify(|s| {
            if s.state != state {
                s.since = Some(now_text());
            }
            s.state = state;
            s.error = error;
            if let Some(n) = caught_up {
                s.caught_up = n;
            }
        });
    }

    fn dir(&self) -> &Path {
        self.engine.data_dir()
    }

    /// One connection's life: catch up, then follow the stream until it ends.
    async fn follow(&self, backoff: &mut Duration) -> Result<(), ClientError> {
        let mut after = load_cursor(self.dir(), &self.fingerprint);
        // Read apart from `set`: a watch's read guard held while writing would deadlock.
        let (state, error) = {
            let s = self.tx.borrow();
            (s.state, s.error.clone())
        };
        if state != DeskState::Connected {
            self.set(DeskState::Connecting, error, None);
        }
        // What the receiver shares besides calls, as it is now: changes made while away.
        self.refresh_contacts().await?;
        self.refresh_names().await?;
        self.refresh_tags().await?;
        // A receiver before this route answers 404: no media through it, a phone book.
        let (media, phone_book) = match self.client.get::<serde_json::Value>("/v1/office").await {
            Ok(v) => (v["media"].as_bool().unwrap_or(false), v["phone_book"].as_bool().unwrap_or(true)),
            Err(e) if e.is_transient() => return Err(e),
            Err(_) => (false, true),
        };
        self.tx.send_modify(|s| (s.media, s.no_phone_book) = (media, !phone_book));
        self.set(DeskState::CatchingUp, None, None);
        let (through, brought) = self.catch_up(after).await?;
        after = through;
        self.refresh_notes().await?;
        let mut stream = self.client.events(Some(after)).await?;
        tracing::info!(receiver = self.client.addr(), brought, "office: following the receiver");
        // Which of the office's receivers answered (several share a PostgreSQL history).
        self.tx.send_modify(|s| s.receiver = self.client.addr().to_owned());
        self.set(DeskState::Connected, None, Some(brought));
        *backoff = BACKOFF_FIRST;
        let mut saved = after;
        // Until the receiver says "live", the stream replays what happened since `after`.
        let mut live = false;
        loop {
            let Some(m) = stream.next(STREAM_IDLE).await? else { return Ok(()) };
            match m.event.as_str() {
                "live" => live = true,
                "change" => {
                    if let Some(id) = self.on_change(&m, !live).await? {
                        after = after.max(id);
                    }
                }
                "call" => self.on_call(&m).await,
                "contacts" => self.refresh_contacts().await?,
                "names" => self.refresh_names().await?,
                "tags" => self.refresh_tags().await?,
                "reload" => {
                    // More happened than the stream could hold, or the receiver may have missed
                    // announcements: read the journal and everything shared, follow again.
                    let (through, _) = self.catch_up(after).await?;
                    after = through;
                    self.refresh_contacts().await?;
                    self.refresh_names().await?;
                    self.refresh_tags().await?;
                    self.refresh_notes().await?;
                    save_cursor(self.dir(), &self.fingerprint, after);
                    stream = self.client.events(Some(after)).await?;
                    live = false;
                }
                _ => {}
            }
            if after != saved {
                save_cursor(self.dir(), &self.fingerprint, after);
                saved = after;
            }
        }
    }

    /// Read the journal after `after` page by page into the copy: (newest id, events read).
    async fn catch_up(&self, mut after: i64) -> Result<(i64, u64), ClientError> {
        let mut brought = 0u64;
        let first_copy = after == 0;
        loop {
            let page: JournalPage = self.client.get(&format!("/v1/journal?after={after}&limit={JOURNAL_PAGE}")).await?;
            let n = page.events.len();
            let Some(last) = page.events.last().map(|e| e.id) else { break };
            for e in &page.events {
                self.catch_up.mark(e.received_at_us, first_copy);
            }
            // Sent together, the events are committed in a few transactions, not one each.
            let stored = futures_util::future::join_all(page.events.iter().map(|e| self.store(e))).await;
            if let Some(e) = stored.into_iter().find_map(Result::err) {
                return Err(e);
            }
            brought += n as u64;
            after = last;
            save_cursor(self.dir(), &self.fingerprint, after);
            if (n as i64) < JOURNAL_PAGE {
                break;
            }
        }
        Ok((after, brought))
    }

    /// Store one of the receiver's events in the copy. An event that cannot be read is logged
    /// and skipped (the receiver stored it; the desk cannot make it better); a database that
    /// cannot store is an error, so the event is read again later.
    async fn store(&self, e: &JournalEvent) -> Result<(), ClientError> {
        let raw = match e.raw() {
            Ok(r) => r,
            Err(err) => {
                tracing::warn!("office: event {} came with a body that is not base64 ({err}); skipped", e.id);
                return Ok(());
            }
        };
        let event = match crate::webhook::parse_stored(e.content_type.as_deref(), &raw) {
            Ok(ev) => ev,
            Err(err) => {
                tracing::warn!("office: the receiver's event {} cannot be read ({err}); skipped", e.id);
                return Ok(());
            }
        };
        let incoming = IncomingEvent { event, raw, content_type: e.content_type.clone(), received_at_us: e.received_at_us };
        self.engine.store().ingest(incoming).await.map(|_| ()).map_err(|err| ClientError::Bad(format!("this desk cannot store the receiver's event: {err}")))
    }

    /// A stored event from the stream; `replayed` while the stream still replays the past.
    async fn on_change(&self, m: &SseMessage, replayed: bool) -> Result<Option<i64>, ClientError> {
        let change: WireChange = match serde_json::from_str(&m.data) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("office: a change from the receiver cannot be read ({e}); skipped");
                return Ok(None);
            }
        };
        if replayed {
            self.catch_up.mark(change.event.received_at_us, false);
        }
        self.store(&change.event).await?;
        Ok(Some(change.event.id))
    }

    /// A call's note or tags changed at the receiver (or another desk).
    async fn on_call(&self, m: &SseMessage) {
        match serde_json::from_str::<Call>(&m.data) {
            Ok(call) => copy_call_notes(&self.engine, &call).await,
            Err(_) => tracing::warn!("office: a call's note from the receiver cannot be read; skipped"),
        }
    }

    async fn refresh_contacts(&self) -> Result<(), ClientError> {
        copy_contacts(&self.engine, &self.client).await
    }

    async fn refresh_names(&self) -> Result<(), ClientError> {
        copy_names(&self.engine, &self.client).await
    }

    async fn refresh_tags(&self) -> Result<(), ClientError> {
        copy_tag_colours(&self.engine, &self.client).await
    }

    /// Every call's note and tags as the receiver has them (after the calls are copied): notes
    /// written while this desk was away. A receiver from before `/v1/notes` has none to give.
    async fn refresh_notes(&self) -> Result<(), ClientError> {
        match copy_notes(&self.engine, &self.client).await {
            Err(ClientError::Status { status: 404, .. }) => Ok(()),
            other => other,
        }
    }
}

/// Copy every call's note and tags from the receiver.
pub async fn copy_notes(engine: &Engine, client: &OfficeClient) -> Result<(), ClientError> {
    let list: Vec<crate::notes::CallNote> = client.get("/v1/notes").await?;
    replace(
        engine,
        move |c| match crate::notes::replace_all(c, &list) {
            Ok(0) => Ok(()),
            Ok(n) => {
                tracing::warn!("office: {n} notes are on calls this desk does not have yet; left out");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        crate::Shared::Everything,
    )
    .await
}

/// Copy the receiver's phone book into the desk's database (ids kept).
pub async fn copy_contacts(engine: &Engine, client: &OfficeClient) -> Result<(), ClientError> {
    let list: Vec<Contact> = client.get("/v1/contacts?all=true").await?;
    replace(engine, move |c| crate::contacts::replace_all(c, &list).map_err(|e| e.to_string()), crate::Shared::Contacts).await
}

/// Copy the receiver's names of menus, groups, extensions and numbers.
pub async fn copy_names(engine: &Engine, client: &OfficeClient) -> Result<(), ClientError> {
    let list: Vec<NameEntry> = client.get("/v1/names").await?;
    replace(engine, move |c| crate::names::replace_all(c, &list).map_err(|e| e.to_string()), crate::Shared::Names).await
}

/// Copy the receiver's tag colours.
pub async fn copy_tag_colours(engine: &Engine, client: &OfficeClient) -> Result<(), ClientError> {
    let list: Vec<Tag> = client.get("/v1/tags").await?;
    replace(engine, move |c| crate::notes::replace_tag_colours(c, &list).map_err(|e| e.to_string()), crate::Shared::TagColours).await
}

/// Write the receiver's copy of something into the desk's database and tell the window.
async fn replace(
    engine: &Engine,
    write: impl FnOnce(&mut rusqlite::Connection) -> Result<(), String> + Send + 'static,
    what: crate::Shared,
) -> Result<(), ClientError> {
    let path = engine.store().path().to_owned();
    let written = tokio::task::spawn_blocking(move || crate::store::open(&path).map_err(|e| e.to_string()).and_then(|mut c| write(&mut c))).await;
    match written.map_err(|e| e.to_string()).and_then(|r| r) {
        Ok(()) => {
            engine.announce(what);
            Ok(())
        }
        Err(e) => Err(ClientError::Bad(format!("this desk cannot store the receiver's data: {e}"))),
    }
}

/// A call's note and tags as the receiver answered after writing them, copied into the desk's
/// database at once (the stream brings the same moments later; writing it twice is harmless).
pub async fn copy_call_notes(engine: &Engine, call: &Call) {
    let (uuid, note, tags) = (call.uuid.clone(), call.note.clone().unwrap_or_default(), call.tags.clone());
    if let Err(e) = engine.set_call_note(uuid.clone(), note).await {
        tracing::warn!("office: cannot copy the note of call {uuid}: {e}");
    }
    if let Err(e) = engine.set_call_tags(uuid.clone(), tags).await {
        tracing::warn!("office: cannot copy the tags of call {uuid}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caught_up_events_are_late_or_history_but_the_last_seconds_are_news() {
        let now = crate::time::now_us();
        let c = CatchUp::default();
        assert_eq!(c.arrival(now - 3_600_000_000), Arrival::Now, "nothing caught up yet");
        // A new desk's first copy: history.
        c.mark(now - 3_600_000_000, true);
        assert_eq!(c.arrival(now - 3_600_000_000), Arrival::History);
        // Back after being away: what came meanwhile is late…
        c.mark(now - 120_000_000, false);
        assert_eq!(c.arrival(now - 600_000_000), Arrival::Late);
        assert_eq!(c.arrival(now - 120_000_000), Arrival::Late);
        // …but not what the receiver stored in the last seconds, nor anything after.
        c.mark(now - 2_000_000, false);
        assert_eq!(c.arrival(now - 2_000_000), Arrival::Now);
        assert_eq!(c.arrival(now), Arrival::Now);
    }
}
