//! The tray icon and its menu. Linux delivers no clicks on the icon itself, so every action
//! is a menu entry.

use std::sync::Arc;

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::{AppHandle, Emitter, Manager, Wry};
use tauri_plugin_clipboard_manager::ClipboardExt as _;

use kanca_core::i18n::{t, tf};
use kanca_core::tunnel::{TunnelState, TunnelStatus};

use super::{AppState, ListenerState, MAIN_WINDOW};

pub const TRAY_ID: &str = "kanca";

/// Menu entry ids.
pub mod ids {
    pub const OPEN: &str = "open";
    pub const MISSED: &str = "missed";
    pub const RECENT_PREFIX: &str = "recent:";
    pub const DND: &str = "dnd";
    pub const COPY_URL: &str = "copy-url";
    pub const SETTINGS: &str = "settings";
    pub const STATUS: &str = "status";
    pub const TUNNEL: &str = "tunnel";
    pub const LAST_EVENT: &str = "last-event";
    pub const QUIT: &str = "quit";
}

fn english(state: &AppState) -> bool {
    super::popups::english(&state.settings())
}

fn build_menu(app: &AppHandle, state: &AppState) -> tauri::Result<Menu<Wry>> {
    let en = english(state);
    let menu = Menu::new(app)?;
    menu.append(&MenuItem::with_id(app, ids::OPEN, t(en, "tray.open"), true, None::<&str>)?)?;
    let status = state.status();
    if status.missed_unseen > 0 {
        menu.append(&MenuItem::with_id(app, ids::MISSED, missed_line(status.missed_unseen, en), true, None::<&str>)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    let recent = state.recent.lock().map(|r| r.clone()).unwrap_or_default();
    if recent.is_empty() {
        menu.append(&MenuItem::with_id(app, "recent-none", t(en, "tray.noCalls"), false, None::<&str>)?)?;
    }
    for call in recent.iter().take(5) {
        let when = chrono::DateTime::parse_from_rfc3339(&call.started_at)
            .map(|d| d.with_timezone(&chrono::Local).format("%H:%M").to_string())
            .unwrap_or_default();
        let who = recent_who(call);
        let what = match (call.kind, call.state) {
            (kanca_core::CallKind::Fax, _) => format!(" · {}", t(en, "tray.recent.fax")),
            (_, kanca_core::CallState::Missed) => format!(" · {}", t(en, "tray.recent.missed")),
            (_, kanca_core::CallState::Ringing) => format!(" · {}", t(en, "tray.recent.ringing")),
            _ => String::new(),
        };
        // Menu labels are plain text; strip control characters from webhook text anyway.
        let label: String = format!("{when}  {who}{what}").chars().filter(|c| !c.is_control()).collect();
        let id = format!("{}{}", ids::RECENT_PREFIX, call.uuid);
        menu.append(&MenuItem::with_id(app, id, label, true, None::<&str>)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    let dnd = state.settings().dnd;
    menu.append(&CheckMenuItem::with_id(app, ids::DND, t(en, "dnd.toggleOn"), true, dnd, None::<&str>)?)?;
    if let Some(desk) = &status.office.desk {
        // A desk: the receiver has the webhook URL and the tunnel; the line says how it is.
        menu.append(&MenuItem::with_id(app, ids::SETTINGS, t(en, "nav.settings"), true, None::<&str>)?)?;
        menu.append(&MenuItem::with_id(app, ids::STATUS, desk_line(desk, en), false, None::<&str>)?)?;
    } else {
        menu.append(&MenuItem::with_id(app, ids::COPY_URL, t(en, "tray.copyUrl"), true, None::<&str>)?)?;
        menu.append(&MenuItem::with_id(app, ids::SETTINGS, t(en, "nav.settings"), true, None::<&str>)?)?;
        let line = match (status.listener.state, &status.listener.addr) {
            (ListenerState::Running, Some(a)) => tf(en, "tray.listening", &[("addr", a)]),
            (ListenerState::Failed, _) => t(en, "tray.listenerFailed").to_string(),
            _ => t(en, "tray.listenerStarting").to_string(),
        };
        menu.append(&MenuItem::with_id(app, ids::STATUS, line, false, None::<&str>)?)?;
        menu.append(&MenuItem::with_id(app, ids::TUNNEL, tunnel_line(&status.tunnel, en), false, None::<&str>)?)?;
    }
    menu.append(&MenuItem::with_id(app, ids::LAST_EVENT, last_event_line(status.last_event_at.as_deref(), chrono::Utc::now(), en), false, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, ids::QUIT, t(en, "tray.quit"), true, None::<&str>)?)?;
    Ok(menu)
}

/// "3 cevapsız arama — göster": stays until the user looks, whatever the pop-ups did.
/// "Mehmet Öztürk · 0 532 444 55 66" when the phone book knows the caller (a long name cut, so
/// the menu stays narrow), else the number.
fn recent_who(call: &kanca_core::Call) -> String {
    let number = call.caller.clone().unwrap_or_else(|| "?".into());
    match call.caller_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) if name.chars().count() > 40 => format!("{}… · {number}", name.chars().take(39).collect::<String>().trim_end()),
        Some(name) => format!("{name} · {number}"),
        None => number,
    }
}

fn missed_line(n: usize, en: bool) -> String {
    match n {
        1 => t(en, "tray.missedOne").into(),
        n => tf(en, "tray.missedMany", &[("n", &n)]),
    }
}

/// "Ofis alıcısına bağlı: 192.168.1.10:8498" and its troubles.
fn desk_line(desk: &kanca_core::office::desk::DeskStatus, en: bool) -> String {
    use kanca_core::office::desk::DeskState;
    let receiver: &str = &desk.receiver;
    match desk.state {
        DeskState::Connected => tf(en, "tray.office.connected", &[("addr", &receiver)]),
        DeskState::Connecting | DeskState::CatchingUp => t(en, "tray.office.connecting").into(),
        DeskState::Unreachable => t(en, "tray.office.unreachable").into(),
        DeskState::Refused => t(en, "tray.office.refused").into(),
    }
}

fn tunnel_line(tunnel: &TunnelStatus, en: bool) -> String {
    match tunnel.state {
        TunnelState::Off => t(en, "tray.tunnel.off").into(),
        TunnelState::Connecting => t(en, "tray.tunnel.connecting").into(),
        TunnelState::Online => tf(en, "tray.tunnel.online", &[("url", &tunnel.public_url.as_deref().unwrap_or(""))]),
        TunnelState::Reconnecting => t(en, "tray.tunnel.reconnecting").into(),
        TunnelState::Failed => t(en, "tray.tunnel.failed").into(),
    }
}

/// "Son olay: 5 dk önce" / "Last event: 5 min ago", refreshed with the menu every minute.
fn last_event_line(at: Option<&str>, now: chrono::DateTime<chrono::Utc>, en: bool) -> String {
    let Some(at) = at.and_then(|a| chrono::DateTime::parse_from_rfc3339(a).ok()) else {
        return t(en, "tray.lastEventNone").into();
    };
    let mins = (now - at.with_timezone(&chrono::Utc)).num_minutes().max(0);
    let when = match mins {
        0 => t(en, "rel.now").to_string(),
        m @ 1..=59 => tf(en, "rel.minutes", &[("n", &m)]),
        m @ 60..=1439 => tf(en, "rel.hours", &[("n", &(m / 60))]),
        m => tf(en, "rel.days", &[("n", &(m / 1440))]),
    };
    tf(en, "tray.lastEvent", &[("when", &when)])
}

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let state = app.state::<Arc<AppState>>();
    let menu = build_menu(app, &state)?;
    let icon = Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    tauri::tray::TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip("Kanca")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .build(app)?;
    Ok(())
}

/// Rebuild the menu (recent calls, status line, check marks).
/// Only when what it shows changed: a rebuilt menu closes under the user's pointer and gets new
/// entry ids, and status changes come often while calls arrive.
pub fn refresh(app: &AppHandle) {
    static SHOWN: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
    let state = app.state::<Arc<AppState>>();
    let now = signature(&state);
    if let Ok(mut shown) = SHOWN.lock() {
        if *shown == now {
            return;
        }
        *shown = now;
    }
    if let (Some(tray), Ok(menu)) = (app.tray_by_id(TRAY_ID), build_menu(app, &state)) {
        let _ = tray.set_menu(Some(menu));
    }
}

/// Everything the menu shows, as text.
fn signature(state: &AppState) -> String {
    let en = english(state);
    let status = state.status();
    let recent: Vec<String> = state
        .recent
        .lock()
        .map(|r| r.iter().map(|c| format!("{}|{:?}|{:?}|{:?}|{:?}|{}", c.uuid, c.caller, c.caller_name, c.kind, c.state, c.started_at)).collect())
        .unwrap_or_default();
    format!(
        "{en}|{}|{}|{:?}|{:?}|{}|{}|{recent:?}",
        status.missed_unseen,
        state.settings().dnd,
        status.listener.state,
        status.listener.addr,
        tunnel_line(&status.tunnel, en),
        last_event_line(status.last_event_at.as_deref(), chrono::Utc::now(), en),
    )
}

fn on_menu(app: &AppHandle, id: &str) {
    let state = app.state::<Arc<AppState>>();
    match id {
        ids::OPEN => super::show_main(app),
        ids::MISSED => {
            let status = state.status();
            super::popups::open_missed(app, status.missed_latest.as_deref(), status.missed_unseen);
            state.popups.missed_seen();
        }
        ids::DND => {
            let mut s = state.settings();
            s.dnd = !s.dnd;
            let (app, state) = (app.clone(), state.inner().clone());
            tauri::async_runtime::spawn(async move {
                if let Err(e) = super::apply_settings(&app, &state, s).await {
                    // The pause stays as it was; the menu's check mark goes back with the next
                    // rebuild, and the window says why.
                    tracing::warn!("could not save the pause: {}", e.message);
                    let _ = app.emit(super::events::ERROR, &e);
                    state.update_status(&app, |_| {});
                }
            });
        }
        ids::SETTINGS => super::commands::navigate(app, "settings"),
        ids::COPY_URL => {
            // The form the guide shows: the one-paste URL, or the one that goes with user and password.
            if let Some(url) = state.status().chosen_webhook_url() {
                let _ = app.clipboard().write_text(url);
            }
        }
        ids::QUIT => {
            if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
                let _ = w.hide();
            }
            let app = app.clone();
            let state = state.inner().clone();
            tauri::async_runtime::spawn(async move {
                // Let requests in flight finish before the process ends.
                if let Some(listener) = state.listener.lock().await.take() {
                    listener.shutdown().await;
                }
                app.exit(0);
            });
        }
        other => {
            if let Some(uuid) = other.strip_prefix(ids::RECENT_PREFIX) {
                super::open_call(app, uuid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_calls_read_as_a_count_to_open() {
        assert_eq!(missed_line(1, false), "1 cevapsız arama — göster");
        assert_eq!(missed_line(3, false), "3 cevapsız arama — göster");
        assert_eq!(missed_line(3, true), "3 missed calls — show");
    }

    #[test]
    fn recent_calls_name_the_caller_beside_the_number() {
        let body = br#"{"event_type":"call_init","uuid":"u","caller":"905324445566","direction":"IN","timestamp":1700000000000000}"#;
        let rec = kanca_core::call::EventRecord { event: kanca_core::webhook::parse(None, body).unwrap(), received_at_us: 1 };
        let mut call = kanca_core::call::assemble(&[rec]).unwrap();
        assert_eq!(recent_who(&call), "0 532 444 55 66");
        call.caller_name = Some("Mehmet Öztürk".into());
        assert_eq!(recent_who(&call), "Mehmet Öztürk · 0 532 444 55 66");
        call.caller_name = Some("Ş".repeat(5_000));
        assert_eq!(recent_who(&call), format!("{}… · 0 532 444 55 66", "Ş".repeat(39)));
    }

    #[test]
    fn last_event_reads_like_a_person_would_say_it() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(last_event_line(None, now, false), "Henüz olay gelmedi");
        assert_eq!(last_event_line(Some("2026-11-27T11:59:40Z"), now, false), "Son olay: az önce");
        assert_eq!(last_event_line(Some("2026-11-27T11:55:00Z"), now, false), "Son olay: 5 dk önce");
        assert_eq!(last_event_line(Some("2026-11-27T09:00:00+00:00"), now, true), "Last event: 3 h ago");
        assert_eq!(last_event_line(Some("2026-11-25T12:00:00Z"), now, false), "Son olay: 2 gün önce");
    }
}
