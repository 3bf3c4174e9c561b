//! Native caller-ID pop-ups (notify-rust over D-Bus), one per call, updated in place as the
//! call is routed. All D-Bus work happens on a thread of its own: a missing, slow or wedged
//! notification server never delays the webhook answer or the window.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use kanca_core::config::DesktopSettings;
use kanca_core::popup::{self, Popup, PopupKind, PopupPrefs};
use kanca_core::Change;
use notify_rust::{CloseReason, Hint, Notification, NotificationResponse, Timeout, Urgency};
use std::sync::atomic::{AtomicU64, Ordering};
use tauri::{AppHandle, Manager};
use tauri_plugin_clipboard_manager::ClipboardExt as _;

use super::{AppState, NotificationStatus};

/// Actions on a pop-up (the default one is a click on its body).
const ACTION_OPEN: &str = "default";
const ACTION_COPY: &str = "copy";
/// Pop-ups that stay clickable at once; older ones are closed (the window lists every call).
const MAX_WAITERS: usize = 24;
static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

pub fn english(settings: &DesktopSettings) -> bool {
    match settings.language.as_deref() {
        Some("en") => true,
        Some(_) => false,
        None => os_is_english(),
    }
}

/// Turkish first: only a clearly non-Turkish locale (not C/POSIX) means English.
pub fn os_is_english() -> bool {
    let lang = ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    lang.map(|l| {
        let base = l.split(['.', '@']).next().unwrap_or("").to_string();
        !base.is_empty() && !base.starts_with("tr") && base != "C" && base != "POSIX"
    })
    .unwrap_or(false)
}

#[derive(Default)]
pub struct Popups {
    queue: Mutex<Option<mpsc::Sender<Change>>>,
}

impl Popups {
    pub fn start(&self, app: AppHandle) {
        let (tx, rx) = mpsc::channel();
        if let Ok(mut q) = self.queue.lock() {
            *q = Some(tx);
        }
        let _ = std::thread::Builder::new().name("kanca-popups".into()).spawn(move || popup_loop(app, rx));
    }

    /// Hand a change to the pop-up thread; never blocks.
    pub fn offer(&self, change: Change) {
        if let Ok(q) = self.queue.lock() {
            if let Some(tx) = q.as_ref() {
                let _ = tx.send(change);
            }
        }
    }
}

/// The notification currently shown for a call.
struct Shown {
    id: u32,
    /// Order shown, to find the oldest.
    seq: u64,
    /// Ends the click waiter and closes the pop-up.
    cancel: Option<tokio::sync::oneshot::Sender<()>>,
    /// What "copy number" copies, from the latest update.
    number: Option<String>,
}

fn popup_loop(app: AppHandle, rx: mpsc::Receiver<Change>) {
    let shown: Arc<Mutex<HashMap<String, Shown>>> = Arc::default();
    let (actions, capabilities) = probe(&app);
    while let Ok(first) = rx.recv() {
        // If the server was slow, several updates of one call may have queued: show the last.
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut latest: Vec<Change> = Vec::new();
        for c in batch {
            latest.retain(|l| l.call.uuid != c.call.uuid);
            latest.push(c);
        }
        for change in latest {
            let state = app.state::<Arc<AppState>>();
            let Some(engine) = state.engine.clone() else { continue };
            let settings = state.settings();
            let prefs = PopupPrefs {
                events: settings.popup_events.clone(),
                only_my_extensions: settings.only_my_extensions,
                my_extensions: settings.my_extensions.clone(),
                do_not_disturb: settings.dnd,
                english: english(&settings),
            };
            let now = chrono::Local::now();
            let history = engine
                .store()
                .read_blocking(|c| popup::caller_history(c, &change.call, now))
                .unwrap_or_default();
            let Some(p) = popup::plan(&change, &prefs, &history, now) else { continue };
            match show(&app, &p, &shown, actions, capabilities.contains(&"body-markup".to_string()), prefs.english) {
                Ok(()) => state.update_status(&app, |s| {
                    s.notifications.available = true;
                    s.notifications.error = None;
                }),
                Err(e) => {
                    tracing::warn!("pop-up failed: {e}");
                    state.update_status(&app, |s| {
                        s.notifications.available = false;
                        s.notifications.error = Some(format!(
                            "no notification server answered ({e}); pop-ups need a desktop notification service"
                        ));
                    });
                }
            }
        }
    }
}

/// Ask the server who it is and what it supports; record it in the status.
fn probe(app: &AppHandle) -> (bool, Vec<String>) {
    let state = app.state::<Arc<AppState>>();
    let caps = notify_rust::get_capabilities();
    let info = notify_rust::get_server_information();
    let status = match (&caps, &info) {
        (Ok(_), Ok(i)) => NotificationStatus { available: true, server: Some(format!("{} {}", i.name, i.version)), error: None },
        (Err(e), _) | (_, Err(e)) => NotificationStatus {
            available: false,
            server: None,
            error: Some(format!("no notification server answered ({e}); pop-ups need a desktop notification service")),
        },
    };
    state.update_status(app, |s| s.notifications = status);
    let caps = caps.unwrap_or_default();
    (caps.iter().any(|c| c == "actions"), caps)
}

fn show(
    app: &AppHandle,
    p: &Popup,
    shown: &Arc<Mutex<HashMap<String, Shown>>>,
    actions: bool,
    markup: bool,
    english: bool,
) -> Result<(), notify_rust::error::Error> {
    let mut n = Notification::new();
    n.appname("Kanca").summary(&p.summary).icon("call-start");
    // Without markup support the server shows the body literally: send it unescaped then.
    if markup {
        n.body(&p.body);
    } else {
        n.body(&unescape(&p.body));
    }
    match p.kind {
        PopupKind::Ringing => {
            n.urgency(Urgency::Critical).timeout(Timeout::Milliseconds(30_000)).hint(Hint::Category("im.received".into()));
        }
        PopupKind::Missed => {
            n.urgency(Urgency::Normal).timeout(Timeout::Never).icon("call-missed");
        }
        PopupKind::Fax => {
            n.urgency(Urgency::Normal).timeout(Timeout::Milliseconds(15_000)).icon("printer");
        }
    }
    // The default action is a click on the pop-up; offer it even where the server does not
    // advertise action buttons.
    n.action(ACTION_OPEN, if english { "Open" } else { "Aç" });
    if actions {
        if p.number.is_some() {
            n.action(ACTION_COPY, if english { "Copy number" } else { "Numarayı kopyala" });
        }
    }
    let previous = shown.lock().ok().and_then(|m| m.get(&p.uuid).map(|s| s.id));
    if let Some(id) = previous {
        // Same call: replace its pop-up in place instead of stacking another.
        n.id(id);
    }
    let handle = n.show()?;
    let id = handle.id();
    if previous == Some(id) {
        // Replaced in place: its click waiter is already listening for this id.
        if let Ok(mut map) = shown.lock() {
            if let Some(s) = map.get_mut(&p.uuid) {
                s.number = p.number.clone();
            }
        }
        return Ok(());
    }
    // One waiter per visible pop-up. It is a task, not a thread: each still holds the pop-up's
    // own D-Bus connection (a socket), so only the newest MAX_WAITERS stay clickable and older
    // ones are closed, which keeps threads and file descriptors flat on a busy line.
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let seq = NEXT_SEQ.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut map) = shown.lock() {
        map.insert(p.uuid.clone(), Shown { id, seq, number: p.number.clone(), cancel: Some(cancel) });
        while map.len() > MAX_WAITERS {
            let Some(oldest) = map.iter().min_by_key(|(_, s)| s.seq).map(|(k, _)| k.clone()) else { break };
            if let Some(mut old) = map.remove(&oldest) {
                if let Some(c) = old.cancel.take() {
                    let _ = c.send(());
                }
            }
        }
    }
    let app = app.clone();
    let uuid = p.uuid.clone();
    let shown = shown.clone();
    tauri::async_runtime::spawn(async move {
        let response = tokio::select! {
            r = wait_response(&handle) => Some(r),
            _ = cancelled => None,
        };
        match response {
            None => handle.close_async().await,
            Some(NotificationResponse::Default) => super::open_call(&app, &uuid),
            Some(NotificationResponse::Action(a)) if a == ACTION_OPEN => super::open_call(&app, &uuid),
            Some(NotificationResponse::Action(a)) if a == ACTION_COPY => {
                let number = shown.lock().ok().and_then(|m| m.get(&uuid).and_then(|s| s.number.clone()));
                if let Some(n) = number {
                    let _ = app.clipboard().write_text(n);
                }
            }
            Some(_) => {}
        }
        // Closed or acted on: a later update of this call shows a fresh pop-up with a waiter.
        if let Ok(mut m) = shown.lock() {
            if m.get(&uuid).map(|s| s.id) == Some(id) {
                m.remove(&uuid);
            }
        }
    });
    Ok(())
}

async fn wait_response(handle: &notify_rust::NotificationHandle) -> NotificationResponse {
    let mut out = None;
    handle.wait_for_action_async(|r| out = Some(r.clone())).await;
    out.unwrap_or(NotificationResponse::Closed(CloseReason::Other(0)))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}
