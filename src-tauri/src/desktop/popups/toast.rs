//! Windows and macOS: pop-ups through notify-rust (WinRT toasts, macOS notification centre).
//! These systems keep no server-side ids that Kanca could replace or close, so every notice is
//! shown anew; a toast's own click handler reports a click on it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use notify_rust::{Notification, Timeout};

use super::{Caps, Notice, ServerEvent, Urgency};

/// Windows attributes toasts to this AppUserModelID; the installer's Start-menu shortcut
/// carries the same one (tauri.conf.json `identifier`).
#[cfg(target_os = "windows")]
pub const APP_USER_MODEL_ID: &str = "com.kanca.desktop";

type Events = Arc<dyn Fn(ServerEvent) + Send + Sync>;

pub struct Server {
    events: Events,
    next_id: AtomicU32,
}

impl Server {
    pub async fn connect(events: impl Fn(ServerEvent) + Send + Sync + 'static) -> Result<Server, String> {
        let events: Events = Arc::new(events);
        // Toasts take actions, show plain text only and stay in the action centre.
        events(ServerEvent::Ready { caps: Caps { actions: true, markup: false, persistence: true }, name: platform_name().into() });
        Ok(Server { events, next_id: AtomicU32::new(1) })
    }

    pub fn describe(&self) -> String {
        platform_name().into()
    }

    pub async fn show(&self, n: &Notice) -> Result<u32, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut note = Notification::new();
        note.appname("Kanca").summary(&n.summary).body(&n.body).timeout(if n.timeout_ms == 0 {
            Timeout::Never
        } else {
            Timeout::Milliseconds(n.timeout_ms as u32)
        });
        #[cfg(target_os = "windows")]
        {
            note.app_id(APP_USER_MODEL_ID);
            note.urgency(if n.urgency == Urgency::Critical { notify_rust::Urgency::Critical } else { notify_rust::Urgency::Normal });
        }
        #[cfg(not(target_os = "windows"))]
        let _ = n.urgency == Urgency::Critical;
        for (key, label) in &n.actions {
            note.action(key, label);
        }
        let events = self.events.clone();
        tauri::async_runtime::spawn_blocking(move || show_and_wait(note, id, events)).await.map_err(|e| e.to_string())??;
        Ok(id)
    }

    pub async fn close(&self, _id: u32) {}
}

fn show_and_wait(note: Notification, id: u32, events: Events) -> Result<(), String> {
    let handle = note.show().map_err(|e| e.to_string())?;
    // The toast reports its click or dismissal on a thread of its own.
    std::thread::spawn(move || {
        #[cfg(target_os = "windows")]
        let _ = handle.wait_for_response(|r: &notify_rust::NotificationResponse| match r {
            notify_rust::NotificationResponse::Default => events(ServerEvent::Action { id, action: super::ACTION_OPEN.into() }),
            notify_rust::NotificationResponse::Action(a) => events(ServerEvent::Action { id, action: a.clone() }),
            _ => events(ServerEvent::Closed { id, reason: 1 }),
        });
        #[cfg(not(target_os = "windows"))]
        handle.wait_for_action(|a| {
            let action = if a == "__closed" { None } else { Some(a.to_string()) };
            match action {
                Some(action) => events(ServerEvent::Action { id, action }),
                None => events(ServerEvent::Closed { id, reason: 1 }),
            }
        });
    });
    Ok(())
}

fn platform_name() -> &'static str {
    if cfg!(target_os = "windows") {
        "Windows"
    } else {
        "macOS"
    }
}
