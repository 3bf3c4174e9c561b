//! The engine inside the app: its stored changes reach the window, the tray and the pop-ups;
//! its listener and the tunnel in front of it report into the status.

use std::net::SocketAddr;
use std::sync::Arc;

use kanca_core::config;
use kanca_core::tunnel::{Tunnel, TunnelState};
use kanca_core::{Change, Engine, EngineError, WebhookListener};
use tauri::{AppHandle, Emitter};

use super::{events, AppState, ListenerState, ListenerStatus, CHANGE_BATCH_MS};

/// The engine's stored changes, subscribed to before anything could be stored.
pub type Changes = tokio::sync::broadcast::Receiver<Change>;

/// The listener bound before the window existed (see `bind_early`).
pub type EarlyListener = tauri::async_runtime::JoinHandle<Result<WebhookListener, EngineError>>;

/// Wire the engine into the app and start its listener on `addr` (or take the one bound early).
pub fn start(
    app: AppHandle,
    state: Arc<AppState>,
    addr: Result<SocketAddr, config::ConfigError>,
    changes: Option<Changes>,
    early: Option<EarlyListener>,
) {
    let (Some(engine), Some(changes)) = (state.engine.clone(), changes) else {
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
    forward_changes(&app, &state, changes);
    load_recent(&app, &state, &engine);
    super::office::start(&app, &state, &engine);
    if state.office.pairing.is_some() {
        // A desk: the receiver receives the webhooks and syncs with Bulutfon's API.
        state.update_status(&app, |s| s.listener = ListenerStatus { state: ListenerState::Off, ..Default::default() });
        return;
    }
    super::bulutfon::start(&app, &state, &engine);
    tauri::async_runtime::spawn(async move {
        match addr {
            Ok(addr) => serve(&app, &state, &engine, addr, early).await,
            Err(e) => state.update_status(&app, |s| {
                s.listener = ListenerStatus { state: ListenerState::Failed, error: Some(e.to_string()), ..Default::default() }
            }),
        }
    });
}

/// Every stored change goes to the window, the tray and the pop-ups, in order.
fn forward_changes(app: &AppHandle, state: &Arc<AppState>, mut changes: Changes) {
    let (app, state) = (app.clone(), state.clone());
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match changes.recv().await {
                Ok(change) => on_change(&app, &state, change),
                Err(RecvError::Lagged(n)) => tracing::warn!("window missed {n} updates"),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// The tray's last five calls and "last event" from what is already stored.
fn load_recent(app: &AppHandle, state: &Arc<AppState>, engine: &Engine) {
    let (app, state, engine) = (app.clone(), state.clone(), engine.clone());
    tauri::async_runtime::spawn(async move {
        let query = kanca_core::history::Query { limit: 5, ..Default::default() };
        let Ok(page) = engine.store().read(move |c| kanca_core::history::search(c, &query)).await else { return };
        let last = page.calls.first().map(|c| c.started_at.clone());
        if let Ok(mut r) = state.recent.lock() {
            *r = page.calls;
        }
        state.update_status(&app, |s| s.last_event_at = last);
    });
}

/// Run the listener (the early one if it was bound) and the tunnel in front of it; a listener
/// that cannot start says why, with a hint where there is one.
async fn serve(app: &AppHandle, state: &Arc<AppState>, engine: &Engine, addr: SocketAddr, early: Option<EarlyListener>) {
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
            state.update_status(app, |s| {
                s.listener = ListenerStatus { state: ListenerState::Running, addr: Some(bound.to_string()), ..Default::default() };
                s.local_webhook_url = Some(config::webhook_url(bound));
                s.webhook_url = s.local_webhook_url.clone();
            });
            restart_tunnel(app, state);
        }
        Err(e) => {
            tracing::error!("{e}");
            let hint = listen_hint(&e, addr);
            state.update_status(app, |s| {
                s.listener = ListenerStatus { state: ListenerState::Failed, addr: Some(addr.to_string()), error: Some(e.to_string()), hint }
            });
        }
    }
}

fn listen_hint(e: &EngineError, addr: SocketAddr) -> Option<String> {
    match e {
        EngineError::Listen { io, .. } if io.kind() == std::io::ErrorKind::AddrInUse => {
            Some(format!("Another program uses port {}. Quit it, or start Kanca with --listen 127.0.0.1:PORT (or KANCA_LISTEN).", addr.port()))
        }
        _ => None,
    }
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
    // The window is told once per batch and fetches the changes itself (see `changes`).
    if state.changes.push(change.clone()) {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(CHANGE_BATCH_MS)).await;
            let _ = app.emit(events::CALLS_CHANGED, ());
        });
    }
    if let Ok(mut recent) = state.recent.lock() {
        recent.retain(|c| c.uuid != change.call.uuid);
        recent.push(change.call.clone());
        recent.sort_by_key(|c| std::cmp::Reverse(c.started_at_us));
        recent.truncate(5);
    }
    let now = chrono::Utc::now().to_rfc3339();
    state.update_status(app, |s| s.last_event_at = Some(now));
    state.popups.offer(change, &state.settings());
    state.tidy.note_change(app);
}
