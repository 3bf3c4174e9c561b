//! The desktop app: a Tauri 2 tray app around the engine. The engine's listener runs inside
//! it; stored changes are forwarded to the window and to the pop-ups.

mod bulutfon;
mod changes;
mod commands;
mod engine;
mod memory;
mod office;
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
use kanca_core::tunnel::{Tunnel, TunnelSettings};
use kanca_core::{Call, Engine, WebhookListener};
use tauri::{AppHandle, Emitter, Manager, RunEvent, WindowEvent};

/// Event names shared with `ui/src/lib/backend.ts`.
pub mod events {
    /// Calls were stored: fetch them with `take_call_changes` (no payload, see `changes`).
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
    changes: changes::ChangeFeed,
    tidy: Arc<memory::Tidy>,
    /// Syncing with Bulutfon's API, once the engine runs.
    pub api: std::sync::OnceLock<kanca_core::bulutfon::ApiService>,
    /// Office mode: this computer as a desk of a receiver, or as the receiver of desks.
    pub office: office::Office,
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
    open_call_then(app, uuid, None);
}

/// [`open_call`], then do `then` there ("call_back": ask whether to call back).
pub fn open_call_then(app: &AppHandle, uuid: &str, then: Option<&str>) {
    show_main(app);
    let _ = app.emit(events::OPEN_CALL, serde_json::json!({ "uuid": uuid, "then": then }));
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
    let addr = config::resolve_listen(listen, &data_dir);
    let state = open_state(data_dir, log_dir);
    // Subscribed before the listener binds: a call that arrives while the window and the tray
    // are still being built is held for them, not published to no one.
    let changes = state.engine.as_ref().map(Engine::subscribe);
    let early_listener = bind_early(&state, &addr);
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
        .invoke_handler(commands::handler())
        .register_asynchronous_uri_scheme_protocol(bulutfon::MEDIA_SCHEME, |ctx, request, responder| {
            bulutfon::serve_media(ctx.app_handle(), request, responder)
        })
        .setup(move |app| {
            setup(app.handle(), state, hidden, addr, changes, early_listener)?;
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

/// The app's state before anything runs: settings from the config file, the engine (or why it
/// could not be opened, which the window then shows), the status as "starting".
fn open_state(data_dir: PathBuf, log_dir: PathBuf) -> Arc<AppState> {
    let file = config::FileConfig::load(&data_dir).unwrap_or_default();
    let office = office::Office::from_config(&file);
    // A desk's window reads its copy of the receiver's history, apart from its own.
    let history_dir = if office.pairing.is_some() { office::desk_dir(&data_dir) } else { data_dir.clone() };
    let (engine, database_error) = match Engine::open(&history_dir) {
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
    Arc::new(AppState {
        engine,
        data_dir,
        status: Mutex::new(status),
        settings: Mutex::new(file.desktop),
        recent: Mutex::new(Vec::new()),
        listener: tokio::sync::Mutex::new(None),
        popups: popups::Popups::default(),
        tunnel_settings: Mutex::new(file.tunnel),
        tunnel: Mutex::new(None),
        refresh_pending: AtomicBool::new(false),
        changes: changes::ChangeFeed::default(),
        tidy: Arc::default(),
        api: std::sync::OnceLock::new(),
        office,
    })
}

/// Bind the listener before the window and tray are built: Bulutfon's deliveries are answered
/// as early as possible after start-up (or login).
fn bind_early(state: &AppState, addr: &Result<SocketAddr, config::ConfigError>) -> Option<engine::EarlyListener> {
    let (Some(engine), Ok(addr), None) = (&state.engine, addr, &state.office.pairing) else { return None };
    let (engine, addr) = (engine.clone(), *addr);
    Some(tauri::async_runtime::spawn(async move { engine.start_listener(addr).await }))
}

/// Once the app exists: the window as asked, the tray, the pop-up service and the engine.
fn setup(
    app: &AppHandle,
    state: Arc<AppState>,
    hidden: bool,
    addr: Result<SocketAddr, config::ConfigError>,
    changes: Option<engine::Changes>,
    early_listener: Option<engine::EarlyListener>,
) -> tauri::Result<()> {
    tune_webview(app);
    // A login start lives in the tray only; the window is not mapped before this runs.
    if hidden {
        if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
            let _ = w.hide();
        }
    }
    tray::create(app)?;
    refresh_tray_every_minute(app.clone());
    state.popups.start(app.clone());
    engine::start(app.clone(), state, addr, changes, early_listener);
    Ok(())
}

/// "Last event N minutes ago" in the tray ages even when nothing arrives.
fn refresh_tray_every_minute(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        every.tick().await;
        loop {
            every.tick().await;
            tray::refresh(&app);
        }
    });
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


