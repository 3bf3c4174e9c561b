//! Tauri commands: one-line adapters from the webview onto the engine. Errors reach the UI as
//! `{code, message}` so it branches on the code, not on text.

use std::sync::Arc;

use kanca_core::config::{self, DesktopSettings};
use kanca_core::history::{self, CallDetail, Page, Query};
use kanca_core::selftest::SelfTestResult;
use kanca_core::tunnel::{self, TunnelMode, TunnelSettings, TunnelState};
use kanca_core::{Change, Engine, EngineError, KeysError, WebhookForm};
use serde::Serialize;
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use tauri_plugin_opener::OpenerExt as _;

use super::{events, AppState, AppStatus};

#[derive(Debug, Serialize)]
pub struct CommandError {
    code: &'static str,
    message: String,
}

impl CommandError {
    fn new(code: &'static str, message: impl ToString) -> Self {
        CommandError { code, message: message.to_string() }
    }
}

type Result<T> = std::result::Result<T, CommandError>;

fn engine(state: &AppState) -> Result<Engine> {
    state
        .engine
        .clone()
        .ok_or_else(|| CommandError::new("database_unavailable", "the database could not be opened; see Settings"))
}

#[tauri::command]
pub async fn search_calls(state: State<'_, Arc<AppState>>, query: Query) -> Result<Page> {
    let engine = engine(&state)?;
    engine.store().read(move |c| history::search(c, &query)).await.map_err(|e| CommandError::new("database", e))
}

#[tauri::command]
pub async fn get_call(state: State<'_, Arc<AppState>>, uuid: String) -> Result<Option<CallDetail>> {
    let engine = engine(&state)?;
    engine.store().read(move |c| history::get_call(c, &uuid)).await.map_err(|e| CommandError::new("database", e))
}

#[tauri::command]
pub fn get_status(state: State<'_, Arc<AppState>>) -> AppStatus {
    state.status()
}

#[tauri::command]
pub fn get_settings(state: State<'_, Arc<AppState>>) -> DesktopSettings {
    state.settings()
}

#[tauri::command]
pub fn save_settings(app: AppHandle, state: State<'_, Arc<AppState>>, settings: DesktopSettings) -> Result<DesktopSettings> {
    let before = state.settings();
    if settings.autostart != before.autostart {
        let launcher = app.autolaunch();
        let done = if settings.autostart { launcher.enable() } else { launcher.disable() };
        done.map_err(|e| CommandError::new("autostart", e))?;
    }
    config::save_desktop_settings(&state.data_dir, &settings).map_err(|e| CommandError::new("settings", e))?;
    if let Ok(mut s) = state.settings.lock() {
        *s = settings.clone();
    }
    state.update_status(&app, |_| {});
    Ok(settings)
}

#[tauri::command]
pub fn get_tunnel_settings(state: State<'_, Arc<AppState>>) -> TunnelSettings {
    state.tunnel_settings.lock().map(|s| s.clone()).unwrap_or_default()
}

/// Save how Bulutfon reaches Kanca and restart the tunnel; its status follows by event.
#[tauri::command]
pub fn save_tunnel_settings(app: AppHandle, state: State<'_, Arc<AppState>>, mut settings: TunnelSettings) -> Result<TunnelSettings> {
    if settings.mode == TunnelMode::OwnUrl {
        let url = settings.own_url.as_deref().unwrap_or("");
        let base = tunnel::parse_own_url(url).map_err(|e| CommandError::new("invalid_url", e))?;
        settings.own_url = Some(base);
    }
    config::save_tunnel_settings(&state.data_dir, &settings).map_err(|e| CommandError::new("settings", e))?;
    if let Ok(mut s) = state.tunnel_settings.lock() {
        *s = settings.clone();
    }
    super::restart_tunnel(&app, state.inner());
    Ok(settings)
}

/// "Test the connection": a test event to the URL Bulutfon uses (the public one when there is
/// one), checked to arrive in this database.
#[tauri::command]
pub async fn test_connection(state: State<'_, Arc<AppState>>) -> Result<SelfTestResult> {
    let engine = engine(&state)?;
    let status = state.status();
    if status.local_webhook_url.is_none() {
        return Err(CommandError::new("listener_down", "the webhook listener is not running"));
    }
    // Testing the local address would prove nothing about Bulutfon reaching Kanca.
    let url = match (status.tunnel.state, status.tunnel.public_url) {
        (TunnelState::Online, Some(base)) => base,
        _ => {
            return Err(CommandError::new(
                "no_public_url",
                "Bulutfon cannot reach Kanca yet: choose a way in Settings (ngrok, cloudflared or your own URL) and wait until it is online",
            ))
        }
    };
    let result = engine.self_test(&url).await;
    if let (true, Some(uuid)) = (result.ok, result.uuid.clone()) {
        end_test_call_later(engine, url, uuid);
    }
    Ok(result)
}

#[tauri::command]
pub fn regenerate_credentials(app: AppHandle, state: State<'_, Arc<AppState>>) -> Result<AppStatus> {
    engine(&state)?.regenerate_credentials().map_err(|e| keys_error("credentials", e))?;
    state.update_status(&app, |_| {});
    Ok(state.status())
}

/// A new secret for the one-paste URL. The old URL is refused from the next request on, so the
/// UI asks first and then shows the new URL to paste into the panel.
#[tauri::command]
pub async fn rotate_webhook_secret(app: AppHandle, state: State<'_, Arc<AppState>>) -> Result<AppStatus> {
    let engine = engine(&state)?;
    // Writes and fsyncs config.toml: off the async workers.
    tauri::async_runtime::spawn_blocking(move || engine.rotate_secret())
        .await
        .map_err(|e| CommandError::new("secret", e))?
        .map_err(|e| keys_error("secret", e))?;
    state.update_status(&app, |_| {});
    Ok(state.status())
}

/// Which form the guide, Settings and the tray show; the listener accepts both either way.
#[tauri::command]
pub async fn set_webhook_form(app: AppHandle, state: State<'_, Arc<AppState>>, form: WebhookForm) -> Result<AppStatus> {
    let engine = engine(&state)?;
    tauri::async_runtime::spawn_blocking(move || engine.set_webhook_form(form))
        .await
        .map_err(|e| CommandError::new("settings", e))?
        .map_err(|e| keys_error("settings", e))?;
    state.update_status(&app, |_| {});
    Ok(state.status())
}

/// Keys set in the environment get their own code: the UI explains where to change them.
fn keys_error(code: &'static str, e: EngineError) -> CommandError {
    match e {
        EngineError::Keys(KeysError::CredentialsFromEnvironment | KeysError::SecretFromEnvironment) => {
            CommandError::new("from_environment", e)
        }
        e => CommandError::new(code, e),
    }
}

/// Post a sample call through Kanca's own listener, exactly as Bulutfon would: it travels the
/// real path (auth, parsing, storage), shows a pop-up and appears in history, marked as a test.
#[tauri::command]
pub async fn send_test_event(state: State<'_, Arc<AppState>>) -> Result<String> {
    let engine = engine(&state)?;
    let url = state.local_base_url().ok_or_else(|| CommandError::new("listener_down", "the webhook listener is not running"))?;
    let result = engine.self_test(&url).await;
    match (result.ok, result.uuid) {
        (true, Some(uuid)) => {
            end_test_call_later(engine, url, uuid.clone());
            Ok(uuid)
        }
        _ => Err(CommandError::new("test_failed", result.error.unwrap_or_else(|| "the test event did not arrive".into()))),
    }
}

/// The test call rings for a few seconds (its pop-up is seen), then is hung up.
fn end_test_call_later(engine: Engine, base_url: String, uuid: String) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(4)).await;
        engine.end_test_call(&base_url, &uuid).await;
    });
}

#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) -> Result<()> {
    app.clipboard().write_text(text).map_err(|e| CommandError::new("clipboard", e))
}

/// Open a link from a call (Bulutfon's panel) in the browser; only web links.
#[tauri::command]
pub fn open_url(app: AppHandle, url: String) -> Result<()> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(CommandError::new("bad_url", "only web links can be opened"));
    }
    app.opener().open_url(url, None::<&str>).map_err(|e| CommandError::new("opener", e))
}

/// Navigate the window (tray entries).
pub fn navigate(app: &AppHandle, view: &str) {
    navigate_filtered(app, view, None);
}

/// Bring the window up on a view, optionally with a list filter ("missed").
pub fn navigate_filtered(app: &AppHandle, view: &str, filter: Option<&str>) {
    super::show_main(app);
    let _ = app.emit(events::NAVIGATE, serde_json::json!({ "view": view, "filter": filter }));
}

/// The calls stored since the last fetch, oldest first (the window fetches them when told by
/// `calls-changed`); None when more changed than were kept: the window reloads its lists.
#[tauri::command]
pub fn take_call_changes(state: State<'_, Arc<AppState>>) -> Option<Vec<Change>> {
    state.changes.take()
}

/// The user has looked at the missed calls (the window's missed list): the tray entry and the
/// missed-calls notice go away.
#[tauri::command]
pub fn mark_missed_seen(state: State<'_, Arc<AppState>>) {
    state.popups.missed_seen();
}
