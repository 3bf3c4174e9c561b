//! Bulutfon's API in the app: the sync service started with the engine, its status in the
//! window's status, and the commands of Settings' "Bulutfon API" section and of "Geri ara".
//! The token goes from the window to config.toml once, when pasted; it never comes back to
//! the window (the settings it reads carry only whether one is stored).

use std::sync::Arc;

use kanca_core::bulutfon::media::{self, MediaCache, MediaError};
use kanca_core::bulutfon::{self, ApiError, ApiService, ApiToken, CallBack, Client};
use kanca_core::config::{self, FileConfig};
use kanca_core::names::{self, NameEntry, NameKind};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};

use super::commands::{CommandError, ErrorCode};
use super::AppState;

type Result<T> = std::result::Result<T, CommandError>;

/// Start syncing with Bulutfon beside the engine; its status goes into the app's status.
pub fn start(app: &AppHandle, state: &Arc<AppState>, engine: &kanca_core::Engine) {
    let (app, state, store, engine) = (app.clone(), state.clone(), engine.store().clone(), engine.clone());
    // On the app's runtime: setup runs outside it, and the service spawns its task.
    tauri::async_runtime::spawn(async move {
        // Missed calls a backfill finds reach the pop-ups' missed-calls notice through the
        // store's changes, like any other: nothing more to do with them here.
        let service = ApiService::start(kanca_core::Backend::Sqlite(store), state.data_dir.clone(), Arc::new(|_| {}));
        let mut watch = service.watch();
        let _ = state.api.set(service);
        let mut synced = None;
        loop {
            let status = watch.borrow_and_update().clone();
            // Each finished sync may have brought new names: an office's desks copy them.
            if status.last_sync.is_some() && status.last_sync != synced {
                synced = status.last_sync.clone();
                engine.announce(kanca_core::Shared::Names);
            }
            state.update_status(&app, |s| s.api = status);
            if watch.changed().await.is_err() {
                break;
            }
        }
    });
}

/// What Settings shows of the connection (never the token).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BulutfonSettingsView {
    pub connected: bool,
    pub account: Option<String>,
    /// The user's own extension: "Geri ara" rings it first.
    pub extension: Option<String>,
    /// Which of the account's numbers a call back shows; None: the first.
    pub caller: Option<String>,
    /// The token comes from KANCA_BULUTFON_TOKEN: it cannot be changed here.
    pub from_environment: bool,
}

impl From<ApiError> for CommandError {
    fn from(e: ApiError) -> Self {
        let code = match e {
            ApiError::BadToken(_) => ErrorCode::BadToken,
            ApiError::BadUrl(_) => ErrorCode::InvalidUrl,
            _ => ErrorCode::ApiUnavailable,
        };
        CommandError::new(code, e)
    }
}

fn view(file: &FileConfig) -> BulutfonSettingsView {
    BulutfonSettingsView {
        connected: file.bulutfon.token.is_some() || std::env::var_os(bulutfon::client::ENV_TOKEN).is_some(),
        account: file.bulutfon.account.clone(),
        extension: file.bulutfon.extension.clone(),
        caller: file.bulutfon.caller.clone(),
        from_environment: std::env::var_os(bulutfon::client::ENV_TOKEN).is_some(),
    }
}

#[tauri::command]
pub fn get_bulutfon_settings(state: State<'_, Arc<AppState>>) -> Result<BulutfonSettingsView> {
    Ok(view(&FileConfig::load(&state.data_dir)?))
}

/// Check a pasted token with Bulutfon (`GET /me`), store it, and sync at once.
#[tauri::command]
pub async fn bulutfon_connect(state: State<'_, Arc<AppState>>, token: String) -> Result<BulutfonSettingsView> {
    let token = ApiToken::parse(&token).ok_or_else(|| CommandError::new(ErrorCode::BadToken, "that is not an API token"))?;
    let checked = token.clone();
    let account = tauri::async_runtime::spawn_blocking(move || {
        let client = Client::new(&bulutfon::client::base_url(), checked)?;
        bulutfon::me(&client)
    })
    .await
    .map_err(|e| CommandError::new(ErrorCode::Internal, e))??;
    let mut file = FileConfig::load(&state.data_dir)?;
    file.bulutfon.token = Some(token.expose().to_owned());
    file.bulutfon.account = Some(account.name);
    config::save_bulutfon_settings(&state.data_dir, &file.bulutfon)?;
    sync_now(&state);
    Ok(view(&file))
}

/// Forget the token (and stop syncing); names and backfilled calls stay.
#[tauri::command]
pub fn bulutfon_disconnect(state: State<'_, Arc<AppState>>) -> Result<BulutfonSettingsView> {
    let mut file = FileConfig::load(&state.data_dir)?;
    file.bulutfon.token = None;
    file.bulutfon.account = None;
    config::save_bulutfon_settings(&state.data_dir, &file.bulutfon)?;
    sync_now(&state);
    Ok(view(&file))
}

/// The user's extension and caller number for "Geri ara".
#[tauri::command]
pub fn save_bulutfon_settings(state: State<'_, Arc<AppState>>, extension: Option<String>, caller: Option<String>) -> Result<BulutfonSettingsView> {
    let clean = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (extension, caller) = (clean(extension), clean(caller));
    if let Some(e) = &extension {
        if e.len() > 8 || !e.chars().all(|c| c.is_ascii_digit()) {
            return Err(CommandError::new(ErrorCode::BadNumber, "an extension is a few digits"));
        }
    }
    let mut file = FileConfig::load(&state.data_dir)?;
    file.bulutfon.extension = extension;
    file.bulutfon.caller = caller;
    config::save_bulutfon_settings(&state.data_dir, &file.bulutfon)?;
    Ok(view(&file))
}

#[tauri::command]
pub fn bulutfon_sync_now(state: State<'_, Arc<AppState>>) {
    sync_now(&state);
}

fn sync_now(state: &AppState) {
    if let Some(api) = state.api.get() {
        api.sync_now();
    }
}

/// The API client for the token config.toml (or the environment) holds.
fn stored_client(file: &FileConfig) -> Result<Client> {
    Client::from_settings(file.bulutfon.token.as_deref())?.ok_or_else(|| CommandError::new(ErrorCode::BadToken, "no Bulutfon API token (Settings)"))
}

/// "Geri ara": Bulutfon rings the user's extension, then `number`. The window asks first.
#[tauri::command]
pub async fn call_back(state: State<'_, Arc<AppState>>, number: String) -> Result<String> {
    let file = FileConfig::load(&state.data_dir)?;
    let client = stored_client(&file)?;
    let destination = file
        .bulutfon
        .extension
        .clone()
        .ok_or_else(|| CommandError::new(ErrorCode::NoExtension, "which extension rings first is not set (Settings)"))?;
    let parsed = kanca_core::phone::normalize(&number);
    let Some(callee) = parsed.e164.map(|e| e.trim_start_matches('+').to_owned()) else {
        return Err(CommandError::new(ErrorCode::BadNumber, "not a phone number"));
    };
    let caller = file.bulutfon.caller.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let caller = match caller {
            Some(c) => c,
            None => bulutfon::fetch_names(&client)?.dids.into_iter().next().ok_or_else(|| ApiError::NotFound("number on this account".into()))?,
        };
        bulutfon::call_back(&client, &CallBack { caller, callee, destination })
    })
    .await
    .map_err(|e| CommandError::new(ErrorCode::Internal, e))?
    .map_err(Into::into)
}

/// The scheme the window loads recordings and fax pages from: `kanca-media://localhost/…` (on
/// Windows `http://kanca-media.localhost/…`). The engine fetches them with the token; the
/// window only ever sees the bytes. The CSP allows media and images from here and nowhere else.
pub const MEDIA_SCHEME: &str = "kanca-media";

/// Answer `recording/UUID` (the audio) and `fax/UUID/N` (page N of the fax as PNG, from 1).
pub fn serve_media(app: &AppHandle, request: tauri::http::Request<Vec<u8>>, responder: tauri::UriSchemeResponder) {
    use tauri::Manager as _;
    let state = app.state::<Arc<AppState>>().inner().clone();
    let path = request.uri().path().trim_start_matches('/').to_owned();
    tauri::async_runtime::spawn_blocking(move || {
        let response = match media_bytes(&state, &path) {
            Ok((bytes, content_type)) => tauri::http::Response::builder()
                .status(200)
                .header("Content-Type", content_type)
                .header("Cache-Control", "no-store")
                .header("X-Content-Type-Options", "nosniff")
                // The window's page (tauri://localhost) fetches recordings from this scheme.
                .header("Access-Control-Allow-Origin", "*")
                .body(bytes),
            Err(e) => {
                tracing::warn!("media {path}: {}", e.message);
                let status = if e.code == ErrorCode::BadToken { 403 } else if e.code == ErrorCode::CallNotFound { 404 } else { 502 };
                tauri::http::Response::builder()
                    .status(status)
                    .header("Content-Type", "text/plain")
                    .header("Access-Control-Allow-Origin", "*")
                    .body(e.message.into_bytes())
            }
        };
        responder.respond(response.unwrap_or_else(|_| tauri::http::Response::new(Vec::new())));
    });
}

fn media_bytes(state: &AppState, path: &str) -> Result<(Vec<u8>, &'static str)> {
    let parts: Vec<&str> = path.split('/').collect();
    if let Some(receiver) = state.office.client() {
        // A desk: the receiver holds the API token and fetches for it.
        return match parts.as_slice() {
            ["recording", uuid] => {
                let bytes = super::office::media(receiver, "recording", uuid)?;
                let kind = media::sniff(&bytes);
                Ok((bytes, kind))
            }
            ["fax", uuid, page] => {
                let n: usize = page.trim_end_matches(".png").parse().map_err(|_| CommandError::new(ErrorCode::CallNotFound, "no such page"))?;
                let pages = media::fax_pages(&super::office::media(receiver, "fax", uuid)?).map_err(media_error)?;
                let page = pages.get(n.wrapping_sub(1)).ok_or_else(|| CommandError::new(ErrorCode::CallNotFound, "no such page"))?;
                Ok((media::page_png(page).map_err(media_error)?, "image/png"))
            }
            _ => Err(CommandError::new(ErrorCode::CallNotFound, "no such media")),
        };
    }
    let cache = MediaCache::new(&state.data_dir);
    let client = || -> Result<Client> {
        let file = FileConfig::load(&state.data_dir)?;
        stored_client(&file)
    };
    match parts.as_slice() {
        ["recording", uuid] => {
            let cached = cache.recording(&client()?, uuid).map_err(media_error)?;
            let bytes = std::fs::read(&cached.path).map_err(|e| CommandError::new(ErrorCode::Internal, e))?;
            Ok((bytes, cached.content_type))
        }
        ["fax", uuid, page] => {
            let n: usize = page.trim_end_matches(".png").parse().map_err(|_| CommandError::new(ErrorCode::CallNotFound, "no such page"))?;
            let pages = cache.fax_page_pngs(&client()?, uuid).map_err(media_error)?;
            let page = pages.get(n.wrapping_sub(1)).ok_or_else(|| CommandError::new(ErrorCode::CallNotFound, "no such page"))?;
            Ok((std::fs::read(page).map_err(|e| CommandError::new(ErrorCode::Internal, e))?, "image/png"))
        }
        _ => Err(CommandError::new(ErrorCode::CallNotFound, "no such media")),
    }
}

fn fax_pages(state: &AppState, cache: &MediaCache, uuid: &str) -> Result<Vec<media::FaxPage>> {
    if let Some(receiver) = state.office.client() {
        return media::fax_pages(&super::office::media(receiver, "fax", uuid)?).map_err(media_error);
    }
    let file = FileConfig::load(&state.data_dir)?;
    let client = stored_client(&file)?;
    let cached = cache.fax(&client, uuid).map_err(media_error)?;
    let bytes = std::fs::read(&cached.path).map_err(|e| CommandError::new(ErrorCode::Internal, e))?;
    media::fax_pages(&bytes).map_err(media_error)
}

fn media_error(e: MediaError) -> CommandError {
    match e {
        MediaError::Api(ApiError::NotFound(what)) => CommandError::new(ErrorCode::CallNotFound, format!("Bulutfon has no {what}")),
        MediaError::Api(api) => api.into(),
        MediaError::BadFax(why) => CommandError::new(ErrorCode::BadFax, why),
        other => CommandError::new(ErrorCode::Internal, other),
    }
}

/// How many pages the fax has (fetching and decoding it): the window then shows each page.
#[tauri::command]
pub async fn fax_page_count(state: State<'_, Arc<AppState>>, uuid: String) -> Result<u32> {
    let state = state.inner().clone();
    tauri::async_runtime::spawn_blocking(move || {
        let cache = MediaCache::new(&state.data_dir);
        if state.office.client().is_some() {
            return fax_pages(&state, &cache, &uuid).map(|p| p.len() as u32);
        }
        let client = stored_client(&FileConfig::load(&state.data_dir)?)?;
        cache.fax_page_pngs(&client, &uuid).map(|p| p.len() as u32).map_err(media_error)
    })
    .await
    .map_err(|e| CommandError::new(ErrorCode::Internal, e))?
}

/// "Kaydet": the fax into the Downloads folder as PDF or as the TIFF Bulutfon sent.
#[tauri::command]
pub async fn save_fax(app: AppHandle, state: State<'_, Arc<AppState>>, uuid: String, pdf: bool) -> Result<String> {
    let state = state.inner().clone();
    let name = uuid.chars().filter(|c| c.is_ascii_alphanumeric()).take(8).collect::<String>();
    let path = super::commands::download_path(&app, &format!("faks-{name}"), if pdf { "pdf" } else { "tif" })?;
    let bytes = tauri::async_runtime::spawn_blocking(move || -> Result<Vec<u8>> {
        let cache = MediaCache::new(&state.data_dir);
        if pdf {
            Ok(media::fax_pdf(&fax_pages(&state, &cache, &uuid)?))
        } else if let Some(receiver) = state.office.client() {
            super::office::media(receiver, "fax", &uuid)
        } else {
            let file = FileConfig::load(&state.data_dir)?;
            let client = stored_client(&file)?;
            let cached = cache.fax(&client, &uuid).map_err(media_error)?;
            std::fs::read(&cached.path).map_err(|e| CommandError::new(ErrorCode::Internal, e))
        }
    })
    .await
    .map_err(|e| CommandError::new(ErrorCode::Internal, e))??;
    super::commands::write_file(path, bytes).await
}

/// The names of menus, groups, extensions and the account's numbers, Bulutfon's and the user's.
#[tauri::command]
pub async fn list_names(state: State<'_, Arc<AppState>>) -> Result<Vec<NameEntry>> {
    let engine = super::commands::engine(&state)?;
    Ok(engine.store().read(names::list).await?)
}

/// The user's own name for one of them (None or blank: Bulutfon's shows again).
#[tauri::command]
pub async fn set_name(state: State<'_, Arc<AppState>>, kind: NameKind, number: String, name: Option<String>) -> Result<Vec<NameEntry>> {
    let engine = super::commands::engine(&state)?;
    match state.office.client() {
        Some(receiver) => super::office::set_name(receiver, &engine, kind, &number, name).await?,
        None => engine.set_pbx_name(kind, number, name).await?,
    }
    Ok(engine.store().read(names::list).await?)
}
