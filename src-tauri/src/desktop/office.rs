//! Office mode in the desktop app. A desk follows the office's receiver: its window, tray and
//! pop-ups read a copy of the receiver's history (kept by `kanca_core::office::desk` in
//! `<data dir>/desk`), its own listener and tunnel stay off, and what the user writes (notes,
//! tags, contacts, names) is written at the receiver, which tells every desk. A receiver is the
//! usual app that also serves the desks ("Bu bilgisayar ofisin alıcısı olsun").

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use kanca_core::config::{self, FileConfig, OfficeSettings};
use kanca_core::contacts::{Contact, ContactInput, ImportReport, NumberInput};
use kanca_core::names::{NameEntry, NameKind};
use kanca_core::notes::Tag;
use kanca_core::office::client::{ClientError, HttpMethod, OfficeClient};
use kanca_core::office::clients::{self, ClientInfo, Pairing};
use kanca_core::office::desk::{self, Desk, DeskStatus};
use kanca_core::office::{OfficeServer, DEFAULT_PORT};
use kanca_core::{Engine, Shared};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};

use super::commands::{engine, CommandError, ErrorCode};
use super::AppState;

/// Event to the window: something shared changed (payload [`SharedChanged`]).
pub const SHARED_CHANGED: &str = "shared-changed";

/// What this computer is in its office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum OfficeRole {
    /// On its own (receives its own webhooks; no desks).
    #[default]
    Alone,
    Receiver,
    Desk,
}

/// The receiver's side as Settings shows it.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReceiverView {
    /// Where desks reach the client API while it runs.
    pub addr: Option<String>,
    pub fingerprint: Option<String>,
    /// Why the client API is not running.
    pub error: Option<String>,
    pub desks: Vec<ClientInfo>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OfficeView {
    pub role: OfficeRole,
    /// A desk's connection to its receiver.
    pub desk: Option<DeskStatus>,
    pub receiver: Option<ReceiverView>,
}

/// Payload of [`SHARED_CHANGED`].
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SharedChanged {
    /// `call`, `contacts`, `names` or `tags`.
    pub what: &'static str,
    /// The call whose note or tags changed.
    pub uuid: Option<String>,
}

/// The app's office parts.
#[derive(Default)]
pub struct Office {
    /// Set when this computer is a desk (from `[office] join`).
    pub pairing: Option<Pairing>,
    desk: OnceLock<Desk>,
    server: tokio::sync::Mutex<Option<OfficeServer>>,
    server_error: Mutex<Option<String>>,
}

impl Office {
    /// From `[office]`; a pairing code that cannot be read is logged and ignored.
    pub fn from_config(file: &FileConfig) -> Office {
        let pairing = file.office.join.as_deref().and_then(|code| match Pairing::parse(code) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!("config.toml's [office] join is no pairing code ({e}); this computer works on its own");
                None
            }
        });
        Office { pairing, ..Default::default() }
    }

    /// Whether a stored event is news or caught up with (always news off a desk).
    pub fn arrival(&self, received_at_us: i64) -> desk::Arrival {
        self.desk.get().map_or(desk::Arrival::Now, |d| d.arrival(received_at_us))
    }

    /// The receiver's client to write through, when this computer is a desk.
    pub fn client(&self) -> Option<&OfficeClient> {
        self.desk.get().map(Desk::client)
    }
}

/// Where a desk keeps its copy of the receiver's history.
pub fn desk_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("desk")
}

/// Start what the settings ask: follow the receiver (a desk) or serve the desks (a receiver).
/// The window hears of every shared change either way.
pub fn start(app: &AppHandle, state: &Arc<AppState>, engine: &Engine) {
    forward_shared(app, engine);
    if let Some(pairing) = &state.office.pairing {
        let _guard = tauri::async_runtime::handle().inner().enter();
        let desk = Desk::start(engine.clone(), pairing);
        let mut watch = desk.watch();
        let _ = state.office.desk.set(desk);
        let (app, state) = (app.clone(), state.clone());
        tauri::async_runtime::spawn(async move {
            loop {
                let s = watch.borrow_and_update().clone();
                state.update_status(&app, |st| st.office = OfficeView { role: OfficeRole::Desk, desk: Some(s), receiver: None });
                if watch.changed().await.is_err() {
                    break;
                }
            }
        });
    } else if settings(state).receiver {
        let (app, state, engine) = (app.clone(), state.clone(), engine.clone());
        tauri::async_runtime::spawn(async move { serve(&app, &state, &engine).await });
    }
}

fn settings(state: &AppState) -> OfficeSettings {
    FileConfig::load(&state.data_dir).map(|f| f.office).unwrap_or_default()
}

/// Tell the window (and the tray's names) about notes, tags, contacts and names written here,
/// at the receiver or at another desk.
fn forward_shared(app: &AppHandle, engine: &Engine) {
    let mut shared = engine.subscribe_shared();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let what = match shared.recv().await {
                Ok(w) => w,
                Err(RecvError::Lagged(_)) => Shared::Contacts,
                Err(RecvError::Closed) => break,
            };
            let payload = match what {
                Shared::CallNotes(uuid) => SharedChanged { what: "call", uuid: Some(uuid) },
                Shared::Contacts => {
                    let state = app.state::<Arc<AppState>>().inner().clone();
                    super::commands::contacts_changed(&app, &state).await;
                    SharedChanged { what: "contacts", uuid: None }
                }
                Shared::Names => SharedChanged { what: "names", uuid: None },
                Shared::TagColours => SharedChanged { what: "tags", uuid: None },
                // The window reads everything again for a kind it has no list for.
                Shared::Everything => {
                    let state = app.state::<Arc<AppState>>().inner().clone();
                    super::commands::contacts_changed(&app, &state).await;
                    SharedChanged { what: "all", uuid: None }
                }
            };
            let _ = app.emit(SHARED_CHANGED, payload);
        }
    });
}

/// Serve the desks on the configured address; the outcome shows in Settings.
async fn serve(app: &AppHandle, state: &Arc<AppState>, engine: &Engine) {
    let text = settings(state).listen.unwrap_or_else(|| format!("0.0.0.0:{DEFAULT_PORT}"));
    let result = match text.trim().parse() {
        Ok(addr) => OfficeServer::start(engine, addr).await.map_err(|e| e.to_string()),
        Err(_) => Err(format!("{text:?} is not an address such as 0.0.0.0:{DEFAULT_PORT}")),
    };
    match result {
        Ok(server) => {
            tracing::info!("office: serving desks on {} (certificate fingerprint {})", server.addr, server.fingerprint);
            *state.office.server.lock().await = Some(server);
            set_error(state, None);
        }
        Err(e) => {
            tracing::error!("office: cannot serve desks: {e}");
            set_error(state, Some(e));
        }
    }
    let view = view(state).await;
    state.update_status(app, |s| s.office = view);
}

fn set_error(state: &AppState, e: Option<String>) {
    if let Ok(mut err) = state.office.server_error.lock() {
        *err = e;
    }
}

/// The office as Settings shows it now.
async fn view(state: &AppState) -> OfficeView {
    if let Some(desk) = state.office.desk.get() {
        return OfficeView { role: OfficeRole::Desk, desk: Some(desk.status()), receiver: None };
    }
    if !settings(state).receiver {
        return OfficeView::default();
    }
    let (addr, fingerprint) = match &*state.office.server.lock().await {
        Some(s) => (Some(s.addr.to_string()), Some(s.fingerprint.clone())),
        None => (None, None),
    };
    let desks = match &state.engine {
        Some(e) => e.store().read(|c| clients::list(c).map_err(|e| kanca_core::StoreError::Corrupt(e.to_string()))).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let error = state.office.server_error.lock().ok().and_then(|e| e.clone());
    OfficeView { role: OfficeRole::Receiver, desk: None, receiver: Some(ReceiverView { addr, fingerprint, error, desks }) }
}

type Result<T> = std::result::Result<T, CommandError>;

impl From<ClientError> for CommandError {
    fn from(e: ClientError) -> Self {
        let code = match &e {
            ClientError::Refused(_) | ClientError::WrongCertificate { .. } => ErrorCode::OfficeRefused,
            ClientError::Status { code, .. } if code == "contact_not_found" => ErrorCode::ContactNotFound,
            ClientError::Status { code, .. } if code == "call_not_found" => ErrorCode::CallNotFound,
            ClientError::Status { code, message, .. } if code == "bad_contact" && message.contains("name") => ErrorCode::ContactNoName,
            ClientError::Status { code, .. } if code == "bad_contact" => ErrorCode::BadNumber,
            ClientError::Status { code, .. } if code == "bad_annotation" => ErrorCode::BadTag,
            ClientError::Status { code, .. } if code == "not_on_postgres" => ErrorCode::NotShared,
            _ => ErrorCode::OfficeUnreachable,
        };
        CommandError::new(code, e)
    }
}

#[tauri::command]
pub async fn get_office(state: State<'_, Arc<AppState>>) -> Result<OfficeView> {
    Ok(view(&state).await)
}

/// Make this computer a desk of the receiver the code names. The code is checked against the
/// receiver first (address, certificate, token); then the app starts again as a desk.
#[tauri::command]
pub async fn join_office(app: AppHandle, state: State<'_, Arc<AppState>>, code: String) -> Result<()> {
    let pairing = Pairing::parse(&code).map_err(|e| CommandError::new(ErrorCode::BadPairingCode, e))?;
    let client = OfficeClient::new(&pairing);
    let _: Vec<NameEntry> = client.get("/v1/names").await?;
    // A copy from another receiver (or an earlier pairing) must not mix with this one.
    let dir = desk_dir(&state.data_dir);
    let old = FileConfig::load(&state.data_dir).ok().and_then(|f| f.office.join).and_then(|c| Pairing::parse(&c).ok());
    if old.is_none_or(|o| o.fp != pairing.fp) && dir.exists() {
        tracing::info!("office: starting a new copy of the receiver's history");
        let _ = std::fs::remove_dir_all(&dir);
    }
    let mut settings = settings(&state);
    settings.join = Some(pairing.code());
    settings.receiver = false;
    config::save_office_settings(&state.data_dir, &settings)?;
    tracing::info!(receiver = %pairing.addr, "office: this computer is now a desk; starting again");
    app.restart();
}

/// Stop being a desk: the app starts again on its own, with its own history as before.
#[tauri::command]
pub async fn leave_office(app: AppHandle, state: State<'_, Arc<AppState>>) -> Result<()> {
    let mut settings = settings(&state);
    settings.join = None;
    config::save_office_settings(&state.data_dir, &settings)?;
    tracing::info!("office: this computer works on its own again; starting again");
    app.restart();
}

/// Switch serving the office's desks on or off.
#[tauri::command]
pub async fn set_office_receiver(app: AppHandle, state: State<'_, Arc<AppState>>, on: bool) -> Result<OfficeView> {
    if state.office.pairing.is_some() {
        return Err(CommandError::new(ErrorCode::Settings, "a desk cannot also be the office's receiver: disconnect from the receiver first"));
    }
    let engine = engine(&state)?;
    let mut settings = settings(&state);
    settings.receiver = on;
    config::save_office_settings(&state.data_dir, &settings)?;
    if on {
        if state.office.server.lock().await.is_none() {
            serve(&app, &state, &engine).await;
        }
    } else {
        *state.office.server.lock().await = None;
        set_error(&state, None);
    }
    let v = view(&state).await;
    state.update_status(&app, |s| s.office = v.clone());
    Ok(v)
}

/// Pair a desk: its one-time pairing code.
#[tauri::command]
pub async fn add_desk(state: State<'_, Arc<AppState>>, name: String) -> Result<String> {
    let data_dir = state.data_dir.clone();
    let port = state.office.server.lock().await.as_ref().map(|s| s.addr.port()).unwrap_or(DEFAULT_PORT);
    let addr = kanca_core::office::local_address().map(|ip| format!("{ip}:{port}"));
    let pairing = tauri::async_runtime::spawn_blocking(move || kanca_core::office::pair_desk(&data_dir, &name, addr))
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, e))?
        .map_err(|e| CommandError::new(ErrorCode::BadDeskName, e))?;
    Ok(pairing.code())
}

#[tauri::command]
pub async fn revoke_desk(state: State<'_, Arc<AppState>>, name: String) -> Result<OfficeView> {
    let path = engine(&state)?.store().path().to_owned();
    tauri::async_runtime::spawn_blocking(move || -> std::result::Result<(), String> {
        let conn = kanca_core::store::open(&path).map_err(|e| e.to_string())?;
        clients::revoke(&conn, &name).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| CommandError::new(ErrorCode::Internal, e))?
    .map_err(|e| CommandError::new(ErrorCode::BadDeskName, e))?;
    Ok(view(&state).await)
}

// Writes a desk makes at the receiver. Each answers once the receiver has written it and the
// desk's copy has it too, so the window reads the new state at once.

fn path_part(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn set_call_note(client: &OfficeClient, engine: &Engine, uuid: &str, note: String) -> Result<()> {
    let call: kanca_core::Call = client.send_json(HttpMethod::PUT, &format!("/v1/calls/{}/note", path_part(uuid)), &serde_json::json!({ "note": note })).await?;
    desk::copy_call_notes(engine, &call).await;
    Ok(())
}

pub async fn set_call_tags(client: &OfficeClient, engine: &Engine, uuid: &str, tags: Vec<String>) -> Result<()> {
    let call: kanca_core::Call = client.send_json(HttpMethod::PUT, &format!("/v1/calls/{}/tags", path_part(uuid)), &serde_json::json!({ "tags": tags })).await?;
    desk::copy_call_notes(engine, &call).await;
    Ok(())
}

/// A contact write at the receiver, then the desk's copy of the phone book refreshed.
async fn contact_write<T: serde::de::DeserializeOwned>(client: &OfficeClient, engine: &Engine, method: HttpMethod, path: &str, body: &impl Serialize) -> Result<T> {
    let out = client.send_json(method, path, body).await?;
    desk::copy_contacts(engine, client).await?;
    Ok(out)
}

pub async fn add_contact(client: &OfficeClient, engine: &Engine, input: &ContactInput) -> Result<Contact> {
    contact_write(client, engine, HttpMethod::POST, "/v1/contacts", input).await
}

pub async fn update_contact(client: &OfficeClient, engine: &Engine, id: i64, input: &ContactInput) -> Result<Contact> {
    contact_write(client, engine, HttpMethod::PUT, &format!("/v1/contacts/{id}"), input).await
}

pub async fn delete_contact(client: &OfficeClient, engine: &Engine, id: i64) -> Result<()> {
    client.request(HttpMethod::DELETE, &format!("/v1/contacts/{id}"), None).await?;
    desk::copy_contacts(engine, client).await?;
    Ok(())
}

pub async fn add_number(client: &OfficeClient, engine: &Engine, id: i64, number: &NumberInput) -> Result<Contact> {
    contact_write(client, engine, HttpMethod::POST, &format!("/v1/contacts/{id}/numbers"), number).await
}

/// Import a file at the receiver: the report is the receiver's.
pub async fn import_file(client: &OfficeClient, engine: &Engine, name: &str, bytes: Vec<u8>) -> Result<ImportReport> {
    let answer = client.request(HttpMethod::POST, &format!("/v1/contacts/import?name={}", path_part(name)), Some((bytes, "application/octet-stream"))).await?;
    let report = serde_json::from_slice(&answer).map_err(|e| CommandError::new(ErrorCode::OfficeUnreachable, e))?;
    desk::copy_contacts(engine, client).await?;
    Ok(report)
}

pub async fn set_tag_colour(client: &OfficeClient, engine: &Engine, tag: &str, colour: &str) -> Result<Vec<Tag>> {
    let _: Vec<Tag> = client.send_json(HttpMethod::PUT, &format!("/v1/tags/{}/colour", path_part(tag)), &serde_json::json!({ "colour": colour })).await?;
    desk::copy_tag_colours(engine, client).await?;
    Ok(engine.call_tags().await?)
}

pub async fn set_name(client: &OfficeClient, engine: &Engine, kind: NameKind, number: &str, name: Option<String>) -> Result<()> {
    let _: Vec<NameEntry> = client.send_json(HttpMethod::PUT, &format!("/v1/names/{}/{}", kind.as_str(), path_part(number)), &serde_json::json!({ "name": name })).await?;
    desk::copy_names(engine, client).await?;
    Ok(())
}

/// A recording or a fax document (`kind`: `recording` or `fax`) fetched through the receiver,
/// which holds Bulutfon's API token. Blocking: for the media scheme's worker thread.
pub fn media(client: &OfficeClient, kind: &str, uuid: &str) -> Result<Vec<u8>> {
    let path = format!("/v1/media/{kind}/{}", path_part(uuid));
    let bytes = tauri::async_runtime::block_on(client.request(HttpMethod::GET, &path, None)).map_err(|e| match e {
        ClientError::Status { status: 409, message, .. } => CommandError::new(ErrorCode::BadToken, message),
        e => CommandError::from(e),
    })?;
    Ok(bytes.to_vec())
}
