//! Stored changes on their way to the window. WebKit runs every message the app sends the
//! webview as a script and keeps the compiled code (JavaScriptCore's code cache), so messages
//! that carry calls grow the web process with every distinct one: about 40 MiB over a burst of
//! 10,000 events. The window therefore hears a signal that is the same script every time and
//! fetches the changes with a command, whose answer is data, not code.

use std::sync::Mutex;

use kanca_core::Change;

/// Calls kept for the window between two fetches. A window that fell this far behind reloads
/// its lists instead.
const MAX_PENDING: usize = 1000;

#[derive(Default)]
pub struct ChangeFeed {
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    /// The latest change of each call, oldest first.
    changes: Vec<Change>,
    /// More calls changed than are kept: the window reloads.
    overflowed: bool,
}

impl ChangeFeed {
    /// Keep `change` for the window. True when the feed was empty: the window has to be told.
    pub fn push(&self, change: Change) -> bool {
        let Ok(mut p) = self.pending.lock() else { return false };
        let was_empty = p.changes.is_empty() && !p.overflowed;
        p.changes.retain(|c| c.call.uuid != change.call.uuid);
        if p.overflowed {
            return was_empty;
        }
        p.changes.push(change);
        if p.changes.len() > MAX_PENDING {
            p.changes = Vec::new();
            p.overflowed = true;
        }
        was_empty
    }

    /// Everything since the last take, oldest first; None when more changed than the feed
    /// keeps, and the window should reload what it shows.
    pub fn take(&self) -> Option<Vec<Change>> {
        let Ok(mut p) = self.pending.lock() else { return Some(Vec::new()) };
        let changes = std::mem::take(&mut p.changes);
        if std::mem::take(&mut p.overflowed) {
            return None;
        }
        Some(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(uuid: &str, event_id: i64) -> Change {
        let call = serde_json::json!({
            "uuid": uuid, "kind": "call", "direction": "in", "caller": null, "caller_raw": null,
            "caller_e164": null, "callee": null, "callee_raw": null, "callee_e164": null,
            "started_at": "2026-11-27T12:00:00Z", "ended_at": null, "answered": null, "missed": false,
            "state": "ringing", "ringing_until_us": null, "duration_s": null, "hangup_cause": null,
            "route": [], "event_count": 1, "test": false, "started_at_us": 0, "ended_at_us": null,
        });
        Change {
            event_id,
            event_type: "call_init".into(),
            received_type: "call_init".into(),
            received_at_us: 0,
            call: serde_json::from_value(call).unwrap(),
        }
    }

    #[test]
    fn the_window_is_told_once_per_fetch_and_gets_each_calls_latest_change() {
        let feed = ChangeFeed::default();
        assert!(feed.push(change("a", 1)));
        assert!(!feed.push(change("b", 2)));
        assert!(!feed.push(change("a", 3)));
        let got: Vec<(String, i64)> = feed.take().unwrap().into_iter().map(|c| (c.call.uuid, c.event_id)).collect();
        assert_eq!(got, [("b".to_string(), 2), ("a".to_string(), 3)]);
        assert_eq!(feed.take().unwrap().len(), 0);
        assert!(feed.push(change("c", 4)), "after a fetch the next change is signalled again");
    }

    #[test]
    fn a_window_that_fell_behind_is_told_to_reload() {
        let feed = ChangeFeed::default();
        for i in 0..=MAX_PENDING {
            feed.push(change(&format!("call-{i}"), i as i64));
        }
        assert!(!feed.push(change("late", 0)), "no second signal while the first is not fetched");
        assert!(feed.take().is_none());
        assert!(feed.push(change("next", 1)));
        assert_eq!(feed.take().unwrap().len(), 1);
    }
}
