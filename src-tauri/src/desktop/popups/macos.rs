//! macOS (and any other system without a backend of its own): pop-ups through notify-rust and
//! the system's notification centre. It keeps no ids Kanca could replace or close, so every
//! notice is shown anew; the notice's own click handler reports a click on it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use notify_rust::{Notification, Timeout};

use super::{Caps, Clicked, Notice, ServerEvent, Target};

type Events = Arc<dyn Fn(ServerEvent) + Send + Sync>;

pub struct Server {
    events: Events,
    next_id: AtomicU32,
}

impl Server {
    pub async fn connect(events: impl Fn(ServerEvent) + Send + Sync + 'static) -> Result<Server, String> {
        let events: Events = Arc::new(events);
        // Actions, plain text only, kept in the notification centre.
        events(ServerEvent::Ready { caps: Caps { actions: true, markup: false, persistence: true }, name: "macOS".into() });
        Ok(Server { events, next_id: AtomicU32::new(1) })
    }

    pub fn describe(&self) -> String {
        "macOS".into()
    }

    pub async fn show(&self, n: &Notice) -> Result<u32, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut note = Notification::new();
        note.appname("Kanca").summary(&n.summary).body(&n.body).timeout(if n.timeout_ms == 0 {
            Timeout::Never
        } else {
            Timeout::Milliseconds(n.timeout_ms as u32)
        });
        for (key, label) in &n.actions {
            note.action(key, label);
        }
        let events = self.events.clone();
        tauri::async_runtime::spawn_blocking(move || show_and_wait(note, id, events)).await.map_err(|e| e.to_string())??;
        Ok(id)
    }

    pub async fn close(&self, _id: u32, _shows: Option<&Target>) {}
}

fn show_and_wait(note: Notification, id: u32, events: Events) -> Result<(), String> {
    let handle = note.show().map_err(|e| e.to_string())?;
    // The notice reports its click or dismissal on a thread of its own.
    std::thread::spawn(move || {
        handle.wait_for_action(|a| match a {
            "__closed" => events(ServerEvent::Closed { id, reason: 1 }),
            action => events(ServerEvent::Action { on: Clicked::Notice(id), action: action.to_string() }),
        });
    });
    Ok(())
}
