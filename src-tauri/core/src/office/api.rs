//! The client API desks use (version 1, under `/v1`): history search with the same filters as
//! the window, a call's detail, contacts, notes and tags, names, and a stream of changes
//! (Server-Sent Events) that resumes after the last event id a desk saw. Every route but
//! `/v1/health` needs `Authorization: Bearer TOKEN` of a paired, unrevoked desk.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast;

use super::clients;
use crate::contacts::{ContactInput, ContactsError, NumberInput};
use crate::names::NameKind;
use crate::notes::{NotesError, Tag};
use crate::pg::PgStore;
use crate::store::{Change, StoreError};
use crate::backend::PhoneBook;
use crate::{history, names, Backend, Engine, Shared};

/// Most changes a desk is sent again when it comes back (older ones: it reads the journal).
pub const REPLAY_LIMIT: i64 = 10_000;
/// Largest contacts file a desk may send to import.
pub const IMPORT_LIMIT: usize = 64 << 20;
/// Most events one page of `/v1/journal` holds.
pub const JOURNAL_PAGE: i64 = 1_000;

#[derive(Clone)]
pub struct ApiState {
    pub receiver: Receiver,
    /// What every desk's stream sends, built once for all of them ([`fan_out`]).
    pub wire: broadcast::Sender<Arc<Wire>>,
}

/// Where the office's history is kept.
#[derive(Clone)]
pub enum Receiver {
    /// One receiver and its SQLite database.
    Sqlite(Engine),
    /// Receivers sharing one PostgreSQL database (any of them serves any desk); `data_dir` holds
    /// this one's settings.
    Postgres { history: PgStore, data_dir: std::path::PathBuf },
}

impl Receiver {
    pub fn history(&self) -> Backend {
        match self {
            Receiver::Sqlite(engine) => Backend::Sqlite(engine.store().clone()),
            Receiver::Postgres { history, .. } => Backend::Postgres(history.clone()),
        }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        match self {
            Receiver::Sqlite(engine) => engine.data_dir(),
            Receiver::Postgres { data_dir, .. } => data_dir,
        }
    }

    pub fn phone_book(&self) -> PhoneBook {
        match self {
            Receiver::Sqlite(engine) => PhoneBook::Sqlite(engine.clone()),
            Receiver::Postgres { history, .. } => PhoneBook::Postgres(history.clone()),
        }
    }
}

/// One message of the stream of changes, as every desk gets it.
#[derive(Debug)]
pub struct Wire {
    /// The event id of a `change` (None for the others).
    pub id: Option<i64>,
    /// `change`, `call`, `contacts`, `names`, `tags` or `reload`.
    pub event: &'static str,
    pub data: String,
}

impl Wire {
    fn sse(&self) -> Event {
        let e = Event::default().event(self.event).data(&self.data);
        match self.id {
            Some(id) => e.id(id.to_string()),
            None => e,
        }
    }
}

/// An event as the receiver stored it: what a desk stores in its own copy of the history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalEvent {
    pub id: i64,
    pub content_type: Option<String>,
    /// The body exactly as received, base64 (a form body may not be UTF-8).
    pub body: String,
    pub received_at_us: i64,
}

impl JournalEvent {
    pub fn raw(&self) -> Result<Vec<u8>, base64::DecodeError> {
        base64::engine::general_purpose::STANDARD.decode(&self.body)
    }
}

/// A `change` as it goes out: the change and the event that made it.
#[derive(Serialize)]
struct WireChange<'a> {
    #[serde(flatten)]
    change: &'a Change,
    event: &'a JournalEvent,
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { Json(json!({"api": 1, "receiver": env!("CARGO_PKG_VERSION")})) }))
        .route("/v1/calls", get(search))
        .route("/v1/calls/{uuid}", get(call))
        .route("/v1/calls/{uuid}/note", put(set_note))
        .route("/v1/calls/{uuid}/tags", put(set_tags))
        .route("/v1/contacts", get(list_contacts).post(add_contact))
        // A phone's whole address book with photos can be tens of megabytes.
        .route("/v1/contacts/import", post(import_contacts).layer(DefaultBodyLimit::max(IMPORT_LIMIT)))
        .route("/v1/contacts/{id}", put(update_contact).delete(delete_contact))
        .route("/v1/contacts/{id}/numbers", post(add_number))
        .route("/v1/names", get(list_names))
        .route("/v1/names/{kind}/{number}", put(set_name))
        .route("/v1/tags", get(list_tags))
        .route("/v1/notes", get(list_notes))
        .route("/v1/tags/{tag}/colour", put(set_tag_colour))
        .route("/v1/office", get(office))
        .route("/v1/media/recording/{uuid}", get(recording))
        .route("/v1/media/fax/{uuid}", get(fax_document))
        .route("/v1/journal", get(journal))
        .route("/v1/events", get(events))
        .with_state(state)
}

fn error(status: StatusCode, code: &str, message: impl ToString) -> Response {
    (status, Json(json!({"error": code, "message": message.to_string()}))).into_response()
}

fn store_error(e: StoreError) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "database", e)
}

fn contacts_error(e: ContactsError) -> Response {
    match e {
        ContactsError::Store(e) => store_error(e),
        ContactsError::NotFound(_) => error(StatusCode::NOT_FOUND, "contact_not_found", e),
        ContactsError::NoName | ContactsError::BadNumber(_) => error(StatusCode::BAD_REQUEST, "bad_contact", e),
    }
}

fn notes_error(e: NotesError) -> Response {
    match e {
        NotesError::Store(e) => store_error(e),
        NotesError::UnknownCall(_) => error(StatusCode::NOT_FOUND, "call_not_found", e),
        NotesError::BadColour(_) | NotesError::EmptyTag => error(StatusCode::BAD_REQUEST, "bad_annotation", e),
    }
}

/// The paired desk the request comes from, or the 401 to answer.
async fn desk(state: &ApiState, headers: &HeaderMap) -> Result<String, Response> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && t.len() <= 256);
    let Some(token) = token else {
        return Err(error(StatusCode::UNAUTHORIZED, "unauthorized", "pair this desk with the receiver first (a pairing code)"));
    };
    let found = match &state.receiver {
        Receiver::Sqlite(engine) => {
            engine.store().read(move |c| clients::authenticate(c, &token).map_err(|e| StoreError::Corrupt(e.to_string()))).await
        }
        Receiver::Postgres { history, .. } => history.authenticate_desk(&token).await,
    };
    let desk = found.map_err(store_error)?;
    let desk = desk.ok_or_else(|| error(StatusCode::UNAUTHORIZED, "unauthorized", "this desk's pairing was revoked or is unknown: pair it again"))?;
    // "Last seen" to the minute: not a write per request.
    if desk.last_seen_us.is_none_or(|t| crate::time::now_us() - t > SEEN_EVERY_US) {
        match &state.receiver {
            Receiver::Sqlite(engine) => {
                let path = engine.store().path().to_owned();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = crate::store::open(&path).map_err(|e| e.to_string()).and_then(|c| clients::mark_seen(&c, desk.id).map_err(|e| e.to_string())) {
                        tracing::warn!("office: cannot note when a desk was seen: {e}");
                    }
                });
            }
            Receiver::Postgres { history, .. } => {
                let history = history.clone();
                tokio::spawn(async move {
                    if let Err(e) = history.mark_desk_seen(desk.id).await {
                        tracing::warn!("office: cannot note when a desk was seen: {e}");
                    }
                });
            }
        }
    }
    Ok(desk.name)
}

/// How often a desk's "last seen" is written.
const SEEN_EVERY_US: i64 = 60_000_000;

/// Answer with `f`'s result as JSON once the request's desk is known.
macro_rules! for_desk {
    ($state:expr, $headers:expr) => {
        if let Err(r) = desk(&$state, &$headers).await {
            return r;
        }
    };
}

async fn search(State(state): State<ApiState>, headers: HeaderMap, Query(q): Query<history::Query>) -> Response {
    for_desk!(state, headers);
    match state.receiver.history().search(history::Query { limit: q.limit.clamp(1, 500), ..q }).await {
        Ok(page) => Json(page).into_response(),
        Err(e) => store_error(e),
    }
}

async fn call(State(state): State<ApiState>, headers: HeaderMap, Path(uuid): Path<String>) -> Response {
    for_desk!(state, headers);
    match state.receiver.history().get_call(uuid).await {
        Ok(Some(detail)) => Json(detail).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "call_not_found", "no such call"),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
struct NoteBody {
    note: String,
}

#[derive(Deserialize)]
struct TagsBody {
    tags: Vec<String>,
}

async fn set_note(State(state): State<ApiState>, headers: HeaderMap, Path(uuid): Path<String>, Json(body): Json<NoteBody>) -> Response {
    for_desk!(state, headers);
    let written = match &state.receiver {
        Receiver::Sqlite(engine) => engine.set_call_note(uuid.clone(), body.note).await,
        Receiver::Postgres { history, .. } => history.set_call_note(&uuid, &body.note).await,
    };
    match written {
        Ok(()) => call_now(&state, uuid).await,
        Err(e) => notes_error(e),
    }
}

async fn set_tags(State(state): State<ApiState>, headers: HeaderMap, Path(uuid): Path<String>, Json(body): Json<TagsBody>) -> Response {
    for_desk!(state, headers);
    let written = match &state.receiver {
        Receiver::Sqlite(engine) => engine.set_call_tags(uuid.clone(), body.tags).await,
        Receiver::Postgres { history, .. } => history.set_call_tags(&uuid, &body.tags).await,
    };
    match written {
        Ok(()) => call_now(&state, uuid).await,
        Err(e) => notes_error(e),
    }
}

/// The call as it now reads (after a note or tags were written).
async fn call_now(state: &ApiState, uuid: String) -> Response {
    match state.receiver.history().get_call(uuid).await {
        Ok(Some(detail)) => Json(detail.call).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "call_not_found", "no such call"),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
struct ContactsQuery {
    #[serde(default)]
    q: String,
    /// The whole phone book (a desk's copy), not the first 1,000 matches.
    #[serde(default)]
    all: bool,
}

async fn list_contacts(State(state): State<ApiState>, headers: HeaderMap, Query(q): Query<ContactsQuery>) -> Response {
    for_desk!(state, headers);
    let limit = if q.all { usize::MAX >> 1 } else { 1000 };
    match state.receiver.phone_book().list(q.q, limit).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => contacts_error(e),
    }
}

async fn add_contact(State(state): State<ApiState>, headers: HeaderMap, Json(input): Json<ContactInput>) -> Response {
    for_desk!(state, headers);
    match state.receiver.phone_book().add(input).await {
        Ok(c) => (StatusCode::CREATED, Json(c)).into_response(),
        Err(e) => contacts_error(e),
    }
}

async fn update_contact(State(state): State<ApiState>, headers: HeaderMap, Path(id): Path<i64>, Json(input): Json<ContactInput>) -> Response {
    for_desk!(state, headers);
    match state.receiver.phone_book().update(id, input).await {
        Ok(c) => Json(c).into_response(),
        Err(e) => contacts_error(e),
    }
}

async fn delete_contact(State(state): State<ApiState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    for_desk!(state, headers);
    match state.receiver.phone_book().delete(id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => contacts_error(e),
    }
}

async fn add_number(State(state): State<ApiState>, headers: HeaderMap, Path(id): Path<i64>, Json(number): Json<NumberInput>) -> Response {
    for_desk!(state, headers);
    match state.receiver.phone_book().add_number(id, number).await {
        Ok(c) => Json(c).into_response(),
        Err(e) => contacts_error(e),
    }
}

#[derive(Deserialize)]
struct ImportQuery {
    /// The file's name: its extension says vCard or CSV.
    name: String,
}

/// Import a vCard or CSV file sent as the body, as the window's import does.
async fn import_contacts(State(state): State<ApiState>, headers: HeaderMap, Query(q): Query<ImportQuery>, body: Bytes) -> Response {
    for_desk!(state, headers);
    match state.receiver.phone_book().import_bytes(q.name, body.to_vec()).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => contacts_error(e),
    }
}

async fn list_names(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    for_desk!(state, headers);
    match names_of(&state.receiver).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => store_error(e),
    }
}

async fn names_of(receiver: &Receiver) -> Result<Vec<names::NameEntry>, StoreError> {
    match receiver {
        Receiver::Sqlite(engine) => engine.store().read(names::list).await,
        Receiver::Postgres { history, .. } => history.names().await,
    }
}

#[derive(Deserialize)]
struct NameBody {
    name: Option<String>,
}

async fn set_name(State(state): State<ApiState>, headers: HeaderMap, Path((kind, number)): Path<(String, String)>, Json(body): Json<NameBody>) -> Response {
    for_desk!(state, headers);
    let Some(kind) = NameKind::parse(&kind) else {
        return error(StatusCode::BAD_REQUEST, "bad_kind", format!("{kind:?} is not menu, group, extension or did"));
    };
    let written = match &state.receiver {
        Receiver::Sqlite(engine) => engine.set_pbx_name(kind, number, body.name).await,
        Receiver::Postgres { history, .. } => history.set_local_name(kind, &number, body.name.as_deref()).await,
    };
    if let Err(e) = written {
        return error(StatusCode::BAD_REQUEST, "bad_name", e);
    }
    match names_of(&state.receiver).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => store_error(e),
    }
}

/// Every call's note and tags: what a desk copies when it (re)connects, so a note written while
/// it was away reaches it.
async fn list_notes(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    for_desk!(state, headers);
    let all = match &state.receiver {
        Receiver::Sqlite(engine) => engine.store().read(crate::notes::all).await,
        Receiver::Postgres { history, .. } => history.all_notes().await,
    };
    match all {
        Ok(list) => Json(list).into_response(),
        Err(e) => store_error(e),
    }
}

async fn list_tags(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    for_desk!(state, headers);
    match tags_of(&state.receiver).await {
        Ok(tags) => Json(tags).into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
struct ColourBody {
    colour: String,
}

async fn set_tag_colour(State(state): State<ApiState>, headers: HeaderMap, Path(tag): Path<String>, Json(body): Json<ColourBody>) -> Response {
    for_desk!(state, headers);
    let written = match &state.receiver {
        Receiver::Sqlite(engine) => engine.set_tag_colour(tag, body.colour).await,
        Receiver::Postgres { history, .. } => history.set_tag_colour(&tag, &body.colour).await,
    };
    if let Err(e) = written {
        return notes_error(e);
    }
    match tags_of(&state.receiver).await {
        Ok(tags) => Json::<Vec<Tag>>(tags).into_response(),
        Err(e) => store_error(e),
    }
}

async fn tags_of(receiver: &Receiver) -> Result<Vec<Tag>, StoreError> {
    match receiver {
        Receiver::Sqlite(engine) => engine.call_tags().await,
        Receiver::Postgres { history, .. } => history.tags().await,
    }
}

/// What the receiver offers desks besides the history: `media` when it holds a Bulutfon API
/// token, so desks can play recordings and show faxes through it; `phone_book` when it shares
/// its phone book (now always; an earlier receiver on PostgreSQL said false, which desks still honour).
async fn office(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    for_desk!(state, headers);
    let media = api_client(&state).is_ok();
    Json(json!({ "api": 1, "receiver": env!("CARGO_PKG_VERSION"), "media": media, "phone_book": true })).into_response()
}

/// The receiver's Bulutfon API client, from its stored token (or `KANCA_BULUTFON_TOKEN`).
fn api_client(state: &ApiState) -> Result<crate::bulutfon::Client, Box<Response>> {
    let file = crate::config::FileConfig::load(state.receiver.data_dir()).map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, "settings", e))?;
    match crate::bulutfon::Client::from_settings(file.bulutfon.token.as_deref()) {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(Box::new(error(StatusCode::CONFLICT, "no_api", "the receiver has no Bulutfon API token: recordings and faxes come through it"))),
        Err(e) => Err(Box::new(error(StatusCode::BAD_GATEWAY, "api_unavailable", e))),
    }
}

/// A call's recording or a fax's document as Bulutfon gave it (cached by the receiver).
async fn media(state: ApiState, uuid: String, fax: bool) -> Response {
    let client = match api_client(&state) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let cache = crate::bulutfon::media::MediaCache::new(state.receiver.data_dir());
    let fetched = tokio::task::spawn_blocking(move || {
        let cached = if fax { cache.fax(&client, &uuid) } else { cache.recording(&client, &uuid) }?;
        let bytes = std::fs::read(&cached.path).map_err(|source| crate::bulutfon::media::MediaError::Cache { path: cached.path.clone(), source })?;
        Ok::<_, crate::bulutfon::media::MediaError>((bytes, cached.content_type))
    })
    .await;
    match fetched {
        Ok(Ok((bytes, content_type))) => ([(axum::http::header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Ok(Err(crate::bulutfon::media::MediaError::BadUuid(u))) => error(StatusCode::BAD_REQUEST, "bad_uuid", format!("{u:?} is not a call's uuid")),
        Ok(Err(e)) => error(StatusCode::BAD_GATEWAY, "api_unavailable", e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e),
    }
}

async fn recording(State(state): State<ApiState>, headers: HeaderMap, Path(uuid): Path<String>) -> Response {
    for_desk!(state, headers);
    media(state, uuid, false).await
}

async fn fax_document(State(state): State<ApiState>, headers: HeaderMap, Path(uuid): Path<String>) -> Response {
    for_desk!(state, headers);
    media(state, uuid, true).await
}

#[derive(Deserialize)]
struct JournalQuery {
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

/// Stored events after `after`, oldest first, a page at a time: how a new desk (or one away
/// for longer than the stream replays) fills its copy of the history.
async fn journal(State(state): State<ApiState>, headers: HeaderMap, Query(q): Query<JournalQuery>) -> Response {
    for_desk!(state, headers);
    let limit = q.limit.unwrap_or(JOURNAL_PAGE).clamp(1, JOURNAL_PAGE);
    let read = match &state.receiver {
        Receiver::Sqlite(engine) => engine.store().read(move |c| journal_after(c, q.after, limit)).await,
        Receiver::Postgres { history, .. } => history.journal_after(q.after, limit).await,
    };
    match read {
        Ok(events) => Json(json!({ "events": events })).into_response(),
        Err(e) => store_error(e),
    }
}

fn journal_after(conn: &rusqlite::Connection, after: i64, limit: i64) -> Result<Vec<JournalEvent>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, content_type, raw, received_at_us FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let rows = stmt.query_map(rusqlite::params![after, limit], journal_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn journal_row(r: &rusqlite::Row) -> rusqlite::Result<JournalEvent> {
    let raw: Vec<u8> = r.get(2)?;
    Ok(JournalEvent { id: r.get(0)?, content_type: r.get(1)?, body: base64::engine::general_purpose::STANDARD.encode(raw), received_at_us: r.get(3)? })
}

fn journal_event(conn: &rusqlite::Connection, id: i64) -> Result<Option<JournalEvent>, StoreError> {
    use rusqlite::OptionalExtension as _;
    Ok(conn.prepare_cached("SELECT id, content_type, raw, received_at_us FROM events WHERE id = ?1")?.query_row([id], journal_row).optional()?)
}

/// Turn the engine's changes into the stream's messages, once for every desk: a stored event
/// with its raw body, a call's new note or tags, "the phone book / names / tag colours changed".
pub fn fan_out(receiver: &Receiver, wire: broadcast::Sender<Arc<Wire>>) -> tokio::task::JoinHandle<()> {
    let engine = match receiver {
        Receiver::Sqlite(engine) => engine,
        Receiver::Postgres { history, .. } => return fan_out_shared(receiver.clone(), history.clone(), wire),
    };
    let mut changes = engine.subscribe();
    let mut shared = engine.subscribe_shared();
    let engine = engine.clone();
    tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                got = changes.recv() => match got {
                    Ok(change) => change_wire(&engine, change).await,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("office: {n} changes were not sent live; desks read the journal");
                        Some(Wire { id: None, event: "reload", data: "{}".into() })
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                got = shared.recv() => match got {
                    Ok(what) => shared_wire(&Receiver::Sqlite(engine.clone()), what).await,
                    Err(broadcast::error::RecvError::Lagged(_)) => Some(Wire { id: None, event: "reload", data: "{}".into() }),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            if let Some(m) = message {
                let _ = wire.send(Arc::new(m));
            }
        }
    })
}

async fn change_wire(engine: &Engine, change: Change) -> Option<Wire> {
    let id = change.event_id;
    match engine.store().read(move |c| journal_event(c, id)).await {
        Ok(Some(event)) => Some(Wire { id: Some(id), event: "change", data: serde_json::to_string(&WireChange { change: &change, event: &event }).ok()? }),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("office: cannot read event {id} for the desks: {e}");
            Some(Wire { id: None, event: "reload", data: "{}".into() })
        }
    }
}

/// [`fan_out`] on PostgreSQL: the journal in position order as sequencer passes announce it
/// (any receiver's), and notes, tags and colours written through any receiver. Also every two
/// seconds, for an announcement lost with a connection.
fn fan_out_shared(receiver: Receiver, history: PgStore, wire: broadcast::Sender<Arc<Wire>>) -> tokio::task::JoinHandle<()> {
    let mut journal = history.subscribe_journal();
    let mut shared = history.subscribe_shared();
    tokio::spawn(async move {
        let mut last = loop {
            match history.journal_top().await {
                Ok(top) => break top,
                Err(e) => {
                    tracing::warn!("office: cannot read the journal: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        loop {
            tokio::select! {
                got = journal.recv() => if let Err(broadcast::error::RecvError::Closed) = got { return },
                got = shared.recv() => {
                    let message = match got {
                        Ok(what) => shared_wire(&receiver, what).await,
                        Err(broadcast::error::RecvError::Lagged(_)) => Some(Wire { id: None, event: "reload", data: "{}".into() }),
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    if let Some(m) = message {
                        let _ = wire.send(Arc::new(m));
                    }
                    continue;
                }
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            loop {
                match history.changes_after(last, JOURNAL_PAGE).await {
                    Ok(batch) => {
                        let full = batch.len() as i64 == JOURNAL_PAGE;
                        for (change, event) in batch {
                            last = event.id;
                            if let Ok(data) = serde_json::to_string(&WireChange { change: &change, event: &event }) {
                                let _ = wire.send(Arc::new(Wire { id: Some(event.id), event: "change", data }));
                            }
                        }
                        if !full {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!("office: cannot read the journal for the desks: {e}");
                        let _ = wire.send(Arc::new(Wire { id: None, event: "reload", data: "{}".into() }));
                        break;
                    }
                }
            }
        }
    })
}

async fn shared_wire(receiver: &Receiver, what: Shared) -> Option<Wire> {
    let (event, data) = match what {
        Shared::CallNotes(uuid) => {
            let detail = receiver.history().get_call(uuid).await.ok()??;
            ("call", serde_json::to_string(&detail.call).ok()?)
        }
        Shared::Contacts => ("contacts", "{}".into()),
        Shared::Names => ("names", "{}".into()),
        Shared::TagColours => ("tags", "{}".into()),
        // The desks read the journal and everything shared again.
        Shared::Everything => ("reload", "{}".into()),
    };
    Some(Wire { id: None, event, data })
}

#[derive(Deserialize)]
struct EventsQuery {
    /// Resume after this event id (as `Last-Event-ID`, for clients that cannot set headers).
    after: Option<i64>,
}

/// Changes as they are stored, after a replay of those since the desk's last event id.
async fn events(State(state): State<ApiState>, headers: HeaderMap, Query(q): Query<EventsQuery>) -> Response {
    for_desk!(state, headers);
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(q.after);
    // Subscribed before the replay is read: nothing stored in between is missed.
    let live = state.wire.subscribe();
    let replay = match after {
        Some(after) => {
            let read = match &state.receiver {
                Receiver::Sqlite(engine) => engine.store().read(move |c| changes_after(c, after)).await,
                Receiver::Postgres { history, .. } => replay_shared(history, after).await,
            };
            match read {
                Ok(r) => r,
                Err(e) => return store_error(e),
            }
        }
        None => Replay { changes: Vec::new(), through: 0, truncated: false },
    };
    let through = replay.through;
    let mut first: Vec<Result<Event, Infallible>> = Vec::new();
    if replay.truncated {
        // More than the replay holds: the desk reads the journal instead.
        first.push(Ok(Event::default().event("reload").data("{}")));
    }
    first.extend(replay.changes.iter().map(|w| Ok(w.sse())));
    // Tells the desk the replay is over: what follows happens now.
    first.push(Ok(Event::default().event("live").data(json!({ "through": through }).to_string())));
    let live = stream::unfold((live, through), |(mut live, through)| async move {
        loop {
            match live.recv().await {
                Ok(w) if w.id.is_some_and(|id| id <= through) => continue,
                Ok(w) => return Some((Ok(w.sse()), (live, through))),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some((Ok(Event::default().event("reload").data("{}")), (live, through)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let body = stream::iter(first).chain(live);
    Sse::new(body).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}

struct Replay {
    changes: Vec<Wire>,
    /// The newest event id the replay covers: live changes up to it are not sent again.
    through: i64,
    truncated: bool,
}

/// [`changes_after`] on PostgreSQL, by journal position.
async fn replay_shared(history: &PgStore, after: i64) -> Result<Replay, StoreError> {
    let mut rows = history.changes_after(after, REPLAY_LIMIT + 1).await?;
    let truncated = rows.len() as i64 > REPLAY_LIMIT;
    rows.truncate(REPLAY_LIMIT as usize);
    let through = rows.last().map_or(after, |(_, e)| e.id);
    let changes = rows
        .iter()
        .map(|(change, event)| Wire { id: Some(event.id), event: "change", data: serde_json::to_string(&WireChange { change, event }).unwrap_or_default() })
        .collect();
    Ok(Replay { changes, through, truncated })
}

/// The changes of every event stored after `after`, each with its call as it stands now.
fn changes_after(conn: &rusqlite::Connection, after: i64) -> Result<Replay, StoreError> {
    let through: i64 = conn.query_row("SELECT ifnull(max(id), 0) FROM events", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT id, uuid, event_type, received_type, content_type, raw, received_at_us FROM events WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3",
    )?;
    let rows: Vec<(String, String, String, JournalEvent)> = stmt
        .query_map(rusqlite::params![after, through, REPLAY_LIMIT + 1], |r| {
            let raw: Vec<u8> = r.get(5)?;
            let event = JournalEvent { id: r.get(0)?, content_type: r.get(4)?, body: base64::engine::general_purpose::STANDARD.encode(raw), received_at_us: r.get(6)? };
            Ok((r.get(1)?, r.get(2)?, r.get(3)?, event))
        })?
        .collect::<Result<_, _>>()?;
    let truncated = rows.len() as i64 > REPLAY_LIMIT;
    let mut changes = Vec::new();
    let mut calls: std::collections::HashMap<String, crate::Call> = std::collections::HashMap::new();
    for (uuid, event_type, received_type, event) in rows.into_iter().take(REPLAY_LIMIT as usize) {
        let call = match calls.get(&uuid) {
            Some(c) => c.clone(),
            None => match history::get_call(conn, &uuid)? {
                Some(detail) => {
                    calls.insert(uuid.clone(), detail.call.clone());
                    detail.call
                }
                None => continue,
            },
        };
        let change = Change { event_id: event.id, event_type, received_type, received_at_us: event.received_at_us, call };
        let data = serde_json::to_string(&WireChange { change: &change, event: &event }).unwrap_or_default();
        changes.push(Wire { id: Some(event.id), event: "change", data });
    }
    Ok(Replay { changes, through, truncated })
}
