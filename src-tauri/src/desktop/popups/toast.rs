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

/// Windows shows a toast under the app whose AppUserModelID the process carries, and starts
/// that app when a toast is clicked after it quit. The installers' Start-menu shortcuts carry
/// the same id (Tauri sets it from `identifier`), which is what lets toasts appear at all.
#[cfg(target_os = "windows")]
pub fn set_app_user_model_id() {
    let wide: Vec<u16> = APP_USER_MODEL_ID.encode_utf16().chain(std::iter::once(0)).collect();
    // SAFETY: a NUL-terminated UTF-16 string that outlives the call.
    let hr = unsafe { windows_sys::Win32::UI::Shell::SetCurrentProcessExplicitAppUserModelID(wide.as_ptr()) };
    if hr < 0 {
        tracing::warn!("could not set the AppUserModelID ({hr:#x}); toasts may show under another name");
    }
}

pub struct Server {
    events: Events,
    next_id: AtomicU32,
}

impl Server {
    pub async fn connect(events: impl Fn(ServerEvent) + Send + Sync + 'static) -> Result<Server, String> {
        #[cfg(target_os = "windows")]
        set_app_user_model_id();
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
