//! The desktop app: a Tauri 2 tray app around the engine. The engine's listener runs inside
//! it; stored changes are forwarded to the window and to the pop-ups.

mod commands;
mod memory;
mod popups;
mod settings;
mod status;
mod tray;

pub use settings::apply_settings;
pub use status::{AppStatus, ListenerState, ListenerStatus, NotificationStatus};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kanca_core::config::{self, DesktopSettings};
use kanca_core::tunnel::{Tunnel, TunnelSettings, TunnelState};
use kanca_core::{Call, Change, Engine, WebhookListener};
use tauri::{AppHandle, Emitter, Manager, RunEvent, WindowEvent};

/// Event names shared with `ui/src/lib/backend.ts`.
pub mod events {
    pub const CALLS_CHANGED: &str = "calls-changed";
    pub const OPEN_CALL: &str = "open-call";
    pub const STATUS_CHANGED: &str = "status-changed";
    pub const NAVIGATE: &str = "navigate";
    /// A CommandError from something done outside the window (the tray): the window shows it.
    pub const ERROR: &str = "app-error";
}

pub const MAIN_WINDOW: &str = "main";
/// Passed by the start-at-login entry: start in the tray only.
const HIDDEN_FLAG: &str = "--hidden";
/// How long stored changes gather before the window hears of them.
const CHANGE_BATCH_MS: u64 = 100;

pub struct AppState {
    pub engine: Option<Engine>,
    pub data_dir: PathBuf,
    pub status: Mutex<AppStatus>,
    pub settings: Mutex<DesktopSettings>,
    pub recent: Mutex<Vec<Call>>,
    pub listener: tokio::sync::Mutex<Option<WebhookListener>>,
    pub popups: popups::Popups,
    pub tunnel_settings: Mutex<TunnelSettings>,
    tunnel: Mutex<Option<Tunnel>>,
    refresh_pending: AtomicBool,
    pending_changes: Mutex<Vec<Change>>,
    tidy: Arc<memory::Tidy>,
}


impl AppState {
    pub fn status(&self) -> AppStatus {
        let mut s = self.status.lock().map(|s| s.clone()).unwrap_or_default();
        if let Some(engine) = &self.engine {
            // Read each time: the keys may have changed in Settings or by `kanca credentials`.
            let keys = engine.keys();
            s.user = keys.credentials.user.clone();
            s.password = keys.credentials.password.clone();
            s.credential_source = keys.credential_source;
            s.secret_source = keys.secret_source;
            s.webhook_form = keys.form;
            let with_secret = |url: &Option<String>| {
                let base = url.as_deref()?.strip_suffix(config::WEBHOOK_PATH)?;
                Some(config::secret_webhook_url(base, &keys.secret))
            };
            s.secret_webhook_url = with_secret(&s.webhook_url);
            s.local_secret_webhook_url = with_secret(&s.local_webhook_url);
        }
        s.dnd = self.settings().dnd;
        s.system_language = if popups::os_is_english() { "en" } else { "tr" };
        s
    }

    /// The listener's base URL on this computer (no path), while it runs.
    pub fn local_base_url(&self) -> Option<String> {
        let addr = self.status.lock().ok()?.listener.addr.clone()?;
        addr.parse::<SocketAddr>().ok().map(config::local_base_url)
    }

    pub fn settings(&self) -> DesktopSettings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Change the status; the window and the tray hear of it within a quarter second. A burst
    /// of events (each sets `last_event_at`) then costs one status message and one tray menu,
    /// not one per event.
    pub fn update_status(&self, app: &AppHandle, f: impl FnOnce(&mut AppStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
        if self.refresh_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            let state = app.state::<Arc<AppState>>();
            state.refresh_pending.store(false, Ordering::Release);
            let _ = app.emit(events::STATUS_CHANGED, state.status());
            tray::refresh(&app);
        });
    }
}

/// Show the main window in front.
pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// Bring the window up on one call (pop-up click, tray entry).
pub fn open_call(app: &AppHandle, uuid: &str) {
    show_main(app);
    let _ = app.emit(events::OPEN_CALL, serde_json::json!({ "uuid": uuid }));
}

/// Start the desktop app. Problems (port in use, broken database, no notification server) are
/// shown in the window and the tray; the app keeps running.
pub fn run(listen: Option<String>, data_dir: Option<PathBuf>, hidden: bool, log_dir: PathBuf) -> anyhow::Result<()> {
    // GTK names the window's class after the program: `kanca`, as the desktop entry's
    // StartupWMClass says, also when the binary is the package's /usr/bin/kanca-desktop.
    #[cfg(target_os = "linux")]
    webkit2gtk::glib::set_prgname(Some("kanca"));
    popups::prepare_process();
    let data_dir = config::resolve_data_dir(data_dir)?;
    let file = config::FileConfig::load(&data_dir).unwrap_or_default();
    let (settings, tunnel_settings) = (file.desktop, file.tunnel);
    let addr = config::resolve_listen(listen, &data_dir);
    let (engine, database_error) = match Engine::open(&data_dir) {
        Ok(e) => (Some(e), None),
        Err(e) => {
            tracing::error!("cannot open the data directory: {e}");
            (None, Some(e.to_string()))
        }
    };
    let status = AppStatus {
        listener: ListenerStatus { state: ListenerState::Starting, ..Default::default() },
        credential_source: engine.as_ref().map(|e| e.credential_source()).unwrap_or_default(),
        data_dir: data_dir.display().to_string(),
        log_dir: log_dir.display().to_string(),
        database_error,
        version: env!("CARGO_PKG_VERSION"),
        ..Default::default()
    };
    let state = Arc::new(AppState {
        engine,
        data_dir,
        status: Mutex::new(status),
        settings: Mutex::new(settings),
        recent: Mutex::new(Vec::new()),
        listener: tokio::sync::Mutex::new(None),
        popups: popups::Popups::default(),
        tunnel_settings: Mutex::new(tunnel_settings),
        tunnel: Mutex::new(None),
        refresh_pending: AtomicBool::new(false),
        pending_changes: Mutex::new(Vec::new()),
        tidy: Arc::default(),
    });

    // Bind the listener before the window and tray are built: Bulutfon's deliveries are
    // answered as early as possible after start-up (or login).
    let early_listener = match (&state.engine, &addr) {
        (Some(engine), Ok(a)) => {
            let (engine, a) = (engine.clone(), *a);
            Some(tauri::async_runtime::spawn(async move { engine.start_listener(a).await }))
        }
        _ => None,
    };

    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            // A login start while Kanca already runs stays quiet; anything else brings it up.
            if !args.iter().any(|a| a == HIDDEN_FLAG) {
                show_main(app)
            }
        }))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, Some(vec![HIDDEN_FLAG])))
        .manage(state.clone())
        .invoke_handler(tauri::generate_handler![
            commands::search_calls,
            commands::get_call,
            commands::get_status,
            commands::get_settings,
            commands::save_settings,
            commands::regenerate_credentials,
            commands::rotate_webhook_secret,
            commands::set_webhook_form,
            commands::get_tunnel_settings,
            commands::save_tunnel_settings,
            commands::test_connection,
            commands::send_test_event,
            commands::copy_text,
            commands::open_url,
            commands::open_in_crm,
            commands::mark_missed_seen,
            commands::list_contacts,
            commands::get_contact,
            commands::add_contact,
            commands::update_contact,
            commands::delete_contact,
            commands::add_number_to_contact,
            commands::import_contacts,
            commands::import_contact_file,
            commands::export_contacts,
            commands::export_calls,
            commands::set_call_note,
            commands::set_call_tags,
            commands::list_tags,
        ])
        .setup(move |app| {
            let mut early_listener = early_listener;
            let handle = app.handle().clone();
            tune_webview(&handle);
            // A login start lives in the tray only; the window is not mapped before this runs.
            if hidden {
                if let Some(w) = handle.get_webview_window(MAIN_WINDOW) {
                    let _ = w.hide();
                }
            }
            tray::create(&handle)?;
            // "Last event N minutes ago" in the tray ages even when nothing arrives.
            let ticker = handle.clone();
            tauri::async_runtime::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
                every.tick().await;
                loop {
                    every.tick().await;
                    tray::refresh(&ticker);
                }
            });
            state.popups.start(handle.clone());
            start_engine(handle, state.clone(), addr, early_listener.take());
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window hides it: Kanca lives on in the tray until Quit.
            if let WindowEvent::CloseRequested { api, .. } = event {
                tracing::info!("window closed: Kanca stays in the tray until Quit");
                let _ = window.hide();
                api.prevent_close();
            }
        })
        .build(tauri::generate_context!())?;
    app.run(|_app, event| {
        if let RunEvent::ExitRequested { api, code, .. } = event {
            // No code: the last window went away; an explicit Quit passes a code.
            if code.is_none() {
                api.prevent_exit();
            }
        }
    });
    Ok(())
}

/// WebKitGTK renders a page like Kanca's (text, lists, a few small animations) as fast without
/// GPU compositing, and compositing costs about 85 MiB in the web process (a GL context, with
/// Mesa's software renderer where there is no GPU). `WEBKIT_DISABLE_COMPOSITING_MODE=0` in the
/// environment keeps WebKit's own choice.
fn tune_webview(app: &AppHandle) {
    #[cfg(target_os = "linux")]
    if std::env::var("WEBKIT_DISABLE_COMPOSITING_MODE").as_deref() != Ok("0") {
        if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
            let _ = w.with_webview(|wv| {
                use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt as _, WebViewExt as _};
                if let Some(settings) = wv.inner().settings() {
                    settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                }
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}


type EarlyListener = tauri::async_runtime::JoinHandle<Result<WebhookListener, kanca_core::EngineError>>;

fn start_engine(app: AppHandle, state: Arc<AppState>, addr: Result<SocketAddr, config::ConfigError>, early: Option<EarlyListener>) {
    let Some(engine) = state.engine.clone() else {
        state.update_status(&app, |s| {
            s.listener = ListenerStatus {
                state: ListenerState::Failed,
                error: Some("the database could not be opened".into()),
                hint: Some("see the database error above".into()),
                ..Default::default()
            }
        });
        return;
    };
    // Forward every stored change to the window, the tray and the pop-ups.
    let mut changes = engine.subscribe();
    let forward_app = app.clone();
    let forward_state = state.clone();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match changes.recv().await {
                Ok(change) => on_change(&forward_app, &forward_state, change),
                Err(RecvError::Lagged(n)) => tracing::warn!("window missed {n} updates"),
                Err(RecvError::Closed) => break,
            }
        }
    });
    let recent_engine = engine.clone();
    let recent_state = state.clone();
    let recent_app = app.clone();
    tauri::async_runtime::spawn(async move {
        let page = recent_engine
            .store()
            .read(|c| kanca_core::history::search(c, &kanca_core::history::Query { limit: 5, ..Default::default() }))
            .await;
        if let Ok(page) = page {
            let last = page.calls.first().map(|c| c.started_at.clone());
            if let Ok(mut r) = recent_state.recent.lock() {
                *r = page.calls;
            }
            recent_state.update_status(&recent_app, |s| s.last_event_at = last);
        }
    });
    tauri::async_runtime::spawn(async move {
        let addr = match addr {
            Ok(a) => a,
            Err(e) => {
                state.update_status(&app, |s| {
                    s.listener = ListenerStatus { state: ListenerState::Failed, error: Some(e.to_string()), ..Default::default() }
                });
                return;
            }
        };
        let started = match early {
            Some(task) => match task.await {
                Ok(result) => result,
                Err(_) => engine.start_listener(addr).await,
            },
            None => engine.start_listener(addr).await,
        };
        match started {
            Ok(listener) => {
                let bound = listener.addr;
                *state.listener.lock().await = Some(listener);
                tracing::info!("webhook listener on {bound}");
                state.update_status(&app, |s| {
                    s.listener = ListenerStatus { state: ListenerState::Running, addr: Some(bound.to_string()), ..Default::default() };
                    s.local_webhook_url = Some(config::webhook_url(bound));
                    s.webhook_url = s.local_webhook_url.clone();
                });
                restart_tunnel(&app, &state);
            }
            Err(e) => {
                tracing::error!("{e}");
                let hint = match &e {
                    kanca_core::EngineError::Listen { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => {
                        Some(format!("Another program uses port {}. Quit it, or start Kanca with --listen 127.0.0.1:PORT (or KANCA_LISTEN).", addr.port()))
                    }
                    _ => None,
                };
                state.update_status(&app, |s| {
                    s.listener = ListenerStatus { state: ListenerState::Failed, addr: Some(addr.to_string()), error: Some(e.to_string()), hint }
                });
            }
        }
    });
}

/// (Re)start the tunnel from the saved settings towards the running listener. Its status
/// follows into the window and the tray; the webhook URL becomes the public one while online.
pub fn restart_tunnel(app: &AppHandle, state: &Arc<AppState>) {
    let Some(addr) = state.status().listener.addr.and_then(|a| a.parse::<SocketAddr>().ok()) else { return };
    let settings = state.tunnel_settings.lock().map(|s| s.clone()).unwrap_or_default();
    let _guard = tauri::async_runtime::handle().inner().enter();
    let tunnel = Tunnel::start(settings, addr);
    let mut watch = tunnel.watch();
    // Replacing the old tunnel drops it: its task ends and a cloudflared child is killed.
    if let Ok(mut t) = state.tunnel.lock() {
        *t = Some(tunnel);
    }
    let app = app.clone();
    let state = state.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let status = watch.borrow_and_update().clone();
            state.update_status(&app, |s| {
                s.webhook_url = match (&status.state, &status.webhook_url) {
                    (TunnelState::Online, Some(url)) => Some(url.clone()),
                    _ => s.local_webhook_url.clone(),
                };
                s.tunnel = status;
            });
            if watch.changed().await.is_err() {
                break;
            }
        }
    });
}

fn on_change(app: &AppHandle, state: &Arc<AppState>, change: Change) {
    // The window hears of changes in batches: every message to the webview is a script WebKit
    // compiles and keeps for a while, so a busy line would otherwise grow the web process.
    let flush = state.pending_changes.lock().map(|mut p| {
        p.retain(|c| c.call.uuid != change.call.uuid);
        p.push(change.clone());
        p.len() == 1
    });
    if flush.unwrap_or(false) {
        let app = app.clone();
        let state = state.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(CHANGE_BATCH_MS)).await;
            let batch = state.pending_changes.lock().map(|mut p| std::mem::take(&mut *p)).unwrap_or_default();
            if !batch.is_empty() {
                let _ = app.emit(events::CALLS_CHANGED, &batch);
            }
        });
    }
    if let Ok(mut recent) = state.recent.lock() {
        recent.retain(|c| c.uuid != change.call.uuid);
        recent.push(change.call.clone());
        recent.sort_by(|a, b| b.started_at_us.cmp(&a.started_at_us));
        recent.truncate(5);
    }
    let now = chrono::Utc::now().to_rfc3339();
    state.update_status(app, |s| s.last_event_at = Some(now));
    state.popups.offer(change, &state.settings());
    state.tidy.note_change(app);
}
