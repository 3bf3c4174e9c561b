//! Native caller-ID pop-ups: one notice per ringing call, updated in place as the call is routed
//! and closed when it ends, and one notice for every missed call not yet seen.
//!
//! The service is one task that owns the notification server's connection for the life of the
//! app (`xdg` on Linux: one D-Bus connection; `winrt` on Windows: WinRT toasts, whose content
//! is `toast`; `macos` elsewhere, through notify-rust). Servers differ: GNOME keeps
//! three notices per app and drops the oldest, some have no actions or markup, and any may
//! restart. So the service tracks what the server closed, folds missed calls into one notice,
//! and keeps the missed calls in the app status, where the tray and the window show them even
//! after the server dropped the notice. Nothing here runs on the webhook's path: a slow or
//! absent server delays only pop-ups.

#[cfg(target_os = "linux")]
#[path = "xdg.rs"]
mod server;
#[cfg(target_os = "windows")]
#[path = "winrt.rs"]
mod server;
#[cfg(not(any(target_os = "linux", target_os = "windows")))]
#[path = "macos.rs"]
mod server;
#[cfg(any(target_os = "windows", test))]
mod toast;

use kanca_core::office::desk::Arrival;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kanca_core::call::{CallKind, CallState, Direction};
use kanca_core::config::DesktopSettings;
use kanca_core::i18n::t;
use kanca_core::popup::{self, MissedEntry, Popup, PopupKind, PopupPrefs};
use kanca_core::Change;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use tokio::sync::mpsc;

use super::{AppState, NotificationStatus};

/// The action a click on a notice's body sends.
pub const ACTION_OPEN: &str = "default";
const ACTION_COPY: &str = "copy";
/// Open the call in the user's CRM (Settings' CRM link), where one is set.
const ACTION_CRM: &str = "crm";
/// "Geri ara": opens the call, where the window asks before Bulutfon rings anything.
const ACTION_CALL_BACK: &str = "call-back";
/// Entries remembered for clicks. Servers report closed notices, so this only bounds memory
/// against a server that never does; a notice this old has long left any screen.
const MAX_TRACKED: usize = 4096;
/// How long one call to the server may take before the service gives up on it.
const SERVER_CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Reconnection backoff when the session bus itself cannot be reached.
const RECONNECT_MIN: Duration = Duration::from_secs(1);
const RECONNECT_MAX: Duration = Duration::from_secs(30);

/// Set up what the process must carry before any window exists: on Windows the
/// AppUserModelID that toasts and the taskbar attribute to Kanca.
pub fn prepare_process() {
    #[cfg(target_os = "windows")]
    server::set_app_user_model_id();
}

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

/// What the notification server offers (its GetCapabilities answer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    pub actions: bool,
    pub markup: bool,
    pub persistence: bool,
}

impl Caps {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub fn from_list(list: &[String]) -> Caps {
        let has = |c: &str| list.iter().any(|x| x == c);
        Caps { actions: has("actions"), markup: has("body-markup"), persistence: has("persistence") }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    Critical,
}

/// One notice as the server is asked to show it; platform-neutral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The notice this one replaces in place.
    pub replaces: Option<u32>,
    /// Plain text.
    pub summary: String,
    /// Markup where the server takes it, else plain text.
    pub body: String,
    pub icon: &'static str,
    pub urgency: Urgency,
    /// Milliseconds; 0 is "until dismissed".
    pub timeout_ms: i32,
    /// (key, label); empty where the server offers no actions.
    pub actions: Vec<(&'static str, String)>,
    pub category: Option<&'static str>,
    /// Not kept in the server's history once it leaves the screen (ringing is stale by then).
    pub transient: bool,
    /// What it shows: toasts are tagged with it and name it in a click's arguments.
    pub target: Target,
}

/// Which notice a click was on: D-Bus names the notice; a toast's arguments name what it shows,
/// which still holds after the service has forgotten the notice.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(target_os = "windows"), allow(dead_code))]
pub enum Clicked {
    Notice(u32),
    Call(String),
    Missed,
}

/// What the server tells the service. (Toasts have no server that could go away.)
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub enum ServerEvent {
    /// A server answers (at start, or a new one took the name after a restart).
    Ready { caps: Caps, name: String },
    /// No server owns the name (it quit or crashed); ids it gave are void.
    Gone,
    /// The connection to the session bus itself ended.
    Disconnected,
    Action { on: Clicked, action: String },
    Closed { id: u32, reason: u32 },
}

/// NotificationClosed reasons (Desktop Notifications spec).
const CLOSED_DISMISSED: u32 = 2;

enum Msg {
    /// A stored change, with the pop-up preferences in force when it arrived: a call that came
    /// in while pop-ups were paused stays quiet even if the user resumes before it is handled.
    Change(Box<Change>, PopupPrefs),
    Server(ServerEvent),
    /// The user looked at the missed calls (the window's missed list, the tray entry).
    MissedSeen,
}

/// Sends work to the pop-up service; cheap to call from anywhere, never blocks.
#[derive(Default)]
pub struct Popups {
    queue: Mutex<Option<mpsc::UnboundedSender<Msg>>>,
}

impl Popups {
    pub fn start(&self, app: AppHandle) {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut q) = self.queue.lock() {
            *q = Some(tx.clone());
        }
        tauri::async_runtime::spawn(run(app, tx, rx));
    }

    pub fn offer(&self, change: Change, settings: &DesktopSettings) {
        self.send(Msg::Change(Box::new(change), prefs_of(settings)));
    }

    pub fn missed_seen(&self) {
        self.send(Msg::MissedSeen);
    }

    fn send(&self, msg: Msg) {
        if let Ok(q) = self.queue.lock() {
            if let Some(tx) = q.as_ref() {
                let _ = tx.send(msg);
            }
        }
    }
}

/// What a shown notice stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Call { uuid: String, kind: PopupKind, number: Option<String> },
    Missed,
}

/// The service's memory of what is on screen.
#[derive(Default)]
struct Board {
    caps: Caps,
    /// Notice id → what it shows, with the order it was shown in.
    shown: HashMap<u32, (u64, Target)>,
    /// Call uuid → its notice id.
    by_call: HashMap<String, u32>,
    missed_id: Option<u32>,
    /// Missed calls not yet seen, oldest first.
    missed: Vec<MissedEntry>,
    /// The server pushed the missed notice out to make room for a newer pop-up of ours; it
    /// comes back as soon as one of our notices leaves the screen.
    missed_evicted: bool,
    /// A backfill added missed calls in this batch: the missed notice is shown once after it
    /// (no pop-up rang for them; one notice says so, never one each).
    backfill_missed: bool,
    seq: u64,
}

impl Board {
    fn track(&mut self, id: u32, target: Target) {
        self.seq += 1;
        if let Some((_, old)) = self.shown.insert(id, (self.seq, target.clone())) {
            // Replaced in place, or an id the server hands out again after the old notice
            // closed: the old target no longer owns it.
            self.untrack_target(&old, id);
        }
        match &target {
            Target::Call { uuid, .. } => {
                self.by_call.insert(uuid.clone(), id);
            }
            Target::Missed => self.missed_id = Some(id),
        }
        while self.shown.len() > MAX_TRACKED {
            let Some(oldest) = self.shown.iter().min_by_key(|(_, (s, _))| *s).map(|(id, _)| *id) else { break };
            self.forget(oldest);
        }
    }

    fn untrack_target(&mut self, target: &Target, id: u32) {
        match target {
            Target::Call { uuid, .. } => {
                if self.by_call.get(uuid) == Some(&id) {
                    self.by_call.remove(uuid);
                }
            }
            Target::Missed => {
                if self.missed_id == Some(id) {
                    self.missed_id = None;
                }
            }
        }
    }

    /// What a click was on. A call no longer tracked still opens (its number is not known).
    fn clicked(&self, on: Clicked) -> Option<Target> {
        let known = |id: &u32| self.shown.get(id).map(|(_, t)| t.clone());
        match on {
            Clicked::Notice(id) => known(&id),
            Clicked::Call(uuid) => self.by_call.get(&uuid).and_then(known).or(Some(Target::Call { uuid, kind: PopupKind::Ringing, number: None })),
            Clicked::Missed => Some(Target::Missed),
        }
    }

    /// The server closed `id` (or it is void): forget it.
    fn forget(&mut self, id: u32) -> Option<Target> {
        let (_, target) = self.shown.remove(&id)?;
        self.untrack_target(&target, id);
        Some(target)
    }

    fn clear(&mut self) {
        self.shown.clear();
        self.by_call.clear();
        self.missed_id = None;
        self.missed_evicted = false;
    }

    /// Record a missed call (whatever the pop-up settings say: the tray and window show it).
    /// Returns true when the list changed.
    fn note_missed(&mut self, change: &Change, english: bool, arrival: Arrival) -> bool {
        let call = &change.call;
        let is_missed = call.kind == CallKind::Call && call.state == CallState::Missed && call.direction == Direction::In && !call.test;
        let pos = self.missed.iter().position(|m| m.uuid == call.uuid);
        let now_us = kanca_core::time::now_us();
        match (is_missed, pos) {
            (true, Some(i)) => {
                let late = self.missed[i].late;
                self.missed[i] = MissedEntry { late, ..MissedEntry::of(call, english) };
                true
            }
            // Found by a backfill days after it rang: in the list, not in the notice.
            (true, None) if arrival == Arrival::History || popup::is_old_backfill(change, now_us) => false,
            (true, None) => {
                let late = arrival == Arrival::Late || popup::is_late(change, now_us);
                self.missed.push(MissedEntry { late, ..MissedEntry::of(call, english) });
                true
            }
            (false, Some(i)) => {
                self.missed.remove(i);
                true
            }
            (false, None) => false,
        }
    }
}

fn prefs_of(settings: &DesktopSettings) -> PopupPrefs {
    PopupPrefs {
        events: settings.popup_events.clone(),
        only_my_extensions: settings.only_my_extensions,
        my_extensions: settings.my_extensions.clone(),
        do_not_disturb: settings.dnd,
        english: english(settings),
    }
}

/// A call's notice as the server at hand should get it; `crm` when a CRM link is set.
/// The buttons a call's pop-up may carry beside "open" and "copy".
#[derive(Debug, Clone, Copy, Default)]
struct Links {
    /// A CRM link is set: "CRM'de aç".
    crm: bool,
    /// Bulutfon's API is connected: "Geri ara".
    call_back: bool,
}

fn call_notice(p: &Popup, caps: Caps, replaces: Option<u32>, english: bool, links: Links) -> Notice {
    let Links { crm, call_back } = links;
    let (icon, urgency, timeout_ms, category, transient) = match p.kind {
        PopupKind::Ringing => ("call-start", Urgency::Critical, 30_000, Some("im.received"), true),
        PopupKind::Fax => ("printer", Urgency::Normal, 15_000, None, false),
        PopupKind::Missed => ("call-missed", Urgency::Normal, 0, None, false),
    };
    let mut actions = Vec::new();
    if caps.actions {
        actions.push((ACTION_OPEN, t(english, "popup.actionOpen").to_string()));
        if p.number.is_some() {
            actions.push((ACTION_COPY, t(english, "popup.actionCopy").to_string()));
        }
        if crm {
            actions.push((ACTION_CRM, t(english, "popup.actionCrm").to_string()));
        }
        if call_back && p.number.is_some() && p.kind != PopupKind::Fax {
            actions.push((ACTION_CALL_BACK, t(english, "popup.actionCallBack").to_string()));
        }
    }
    Notice {
        replaces,
        summary: p.summary.clone(),
        body: body_for(&p.body, caps),
        icon,
        urgency,
        timeout_ms,
        actions,
        category,
        transient: transient && caps.persistence,
        target: Target::Call { uuid: p.uuid.clone(), kind: p.kind, number: p.number.clone() },
    }
}

fn missed_notice(summary: String, body: String, caps: Caps, replaces: Option<u32>, english: bool) -> Notice {
    let mut actions = Vec::new();
    if caps.actions {
        actions.push((ACTION_OPEN, t(english, "popup.actionShowMissed").to_string()));
    }
    Notice {
        replaces,
        summary,
        body: body_for(&body, caps),
        icon: "call-missed",
        urgency: Urgency::Normal,
        timeout_ms: 0,
        actions,
        category: None,
        transient: false,
        target: Target::Missed,
    }
}

/// Without markup support the server shows the body literally: send it unescaped then.
fn body_for(markup: &str, caps: Caps) -> String {
    if caps.markup {
        markup.to_string()
    } else {
        unescape(markup)
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

struct Service {
    app: AppHandle,
    events: mpsc::UnboundedSender<Msg>,
    server: Option<server::Server>,
    board: Board,
    backoff: Duration,
}

async fn run(app: AppHandle, tx: mpsc::UnboundedSender<Msg>, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut svc = Service { app, events: tx, server: None, board: Board::default(), backoff: RECONNECT_MIN };
    svc.connect().await;
    svc.warm_up().await;
    while let Some(first) = svc.next_message(&mut rx).await {
        // If the server was slow, several updates of one call may have queued: take them all.
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        svc.handle(batch).await;
        // After a burst the pop-ups may still be busy when the last change has arrived: memory
        // is tidied once they are done too.
        svc.state().tidy.note_change(&svc.app);
    }
}

impl Service {
    fn state(&self) -> Arc<AppState> {
        self.app.state::<Arc<AppState>>().inner().clone()
    }

    /// The first pop-up after start should be as quick as the later ones: a reader opened and
    /// the caller-history query prepared now, not when the first call rings.
    async fn warm_up(&self) {
        if let Some(engine) = &self.state().engine {
            if let Err(e) = engine.store().read(popup::warm_up).await {
                tracing::debug!("warming up the caller history: {e}");
            }
        }
    }

    /// The next message; while there is no server, reconnect (with backoff) between them.
    /// None when the app is going away.
    async fn next_message(&mut self, rx: &mut mpsc::UnboundedReceiver<Msg>) -> Option<Msg> {
        loop {
            if self.server.is_some() {
                return rx.recv().await;
            }
            match tokio::time::timeout(self.backoff, rx.recv()).await {
                Ok(msg) => return msg,
                Err(_) => {
                    self.backoff = (self.backoff * 2).min(RECONNECT_MAX);
                    self.connect().await;
                }
            }
        }
    }

    /// Handle queued messages in order; of several changes of one call in a row only the last
    /// is shown (server events and the user's actions come after the changes before them).
    async fn handle(&mut self, batch: Vec<Msg>) {
        let mut changes: Vec<(Box<Change>, PopupPrefs)> = Vec::new();
        for m in batch {
            match m {
                Msg::Change(c, prefs) => {
                    changes.retain(|(l, _)| l.call.uuid != c.call.uuid);
                    changes.push((c, prefs));
                }
                other => {
                    for (c, prefs) in changes.drain(..) {
                        self.on_change(&c, &prefs).await;
                    }
                    self.on_other(other).await;
                }
            }
        }
        for (c, prefs) in changes {
            self.on_change(&c, &prefs).await;
        }
        if std::mem::take(&mut self.board.backfill_missed) {
            self.show_missed().await;
        }
    }

    async fn connect(&mut self) {
        let forward = self.events.clone();
        let events = move |e: ServerEvent| {
            let _ = forward.send(Msg::Server(e));
        };
        match server::Server::connect(events).await {
            Ok(s) => {
                tracing::info!("pop-ups: connected to the notification service as {}", s.describe());
                self.server = Some(s);
                self.backoff = RECONNECT_MIN;
            }
            Err(e) => {
                tracing::warn!("pop-ups: {e}");
                self.set_status(false, None, Some(e));
            }
        }
    }

    fn set_status(&self, available: bool, server: Option<String>, error: Option<String>) {
        let state = self.state();
        state.update_status(&self.app, |s| s.notifications = NotificationStatus { available, server, error });
    }

    fn publish_missed(&self) {
        let count = self.board.missed.len();
        let latest = self.board.missed.last().map(|m| m.uuid.clone());
        self.state().update_status(&self.app, |s| {
            s.missed_unseen = count;
            s.missed_latest = latest;
        });
    }

    async fn on_change(&mut self, change: &Change, prefs: &PopupPrefs) {
        let state = self.state();
        let en = prefs.english;
        // Caught up with after the desk was away: the missed ones join the notice, shown once
        // after the batch, and nothing rings.
        let arrival = state.office.arrival(change.received_at_us);
        let late = arrival != Arrival::Now || popup::is_late(change, kanca_core::time::now_us());
        if self.board.note_missed(change, en, arrival) {
            self.publish_missed();
            let backfilled = (late || change.event_type.starts_with("api_cdr")) && change.call.state == CallState::Missed;
            if backfilled && prefs.events.missed && !prefs.do_not_disturb && self.board.missed.iter().any(|m| m.uuid == change.call.uuid) {
                self.board.backfill_missed = true;
            }
        }
        // Most changes pop nothing up (answered, ended, routed elsewhere, a burst of old
        // events): those skip the caller's history, a query per change.
        let history = match &state.engine {
            Some(engine) if !late && popup::wanted(change, prefs).is_some() => {
                let call = change.call.clone();
                let now = chrono::Local::now();
                engine.store().read(move |c| popup::caller_history(c, &call, now)).await.unwrap_or_default()
            }
            _ => Default::default(),
        };
        let plan = if late { None } else { popup::plan(change, prefs, &history, chrono::Local::now()) };
        let uuid = &change.call.uuid;
        let current = self.board.by_call.get(uuid).copied();
        match plan {
            Some(p) if p.kind == PopupKind::Missed => {
                // The ringing notice has served its purpose; the call joins the missed notice,
                // which is shown (or updated) right after, so no room needs announcing.
                if let Some(id) = current {
                    self.close_only(id).await;
                }
                self.show_missed().await;
            }
            Some(p) => {
                let state = self.state();
                let links = Links {
                    crm: state.settings().crm_url.is_some(),
                    call_back: state.status.lock().map(|s| s.api.state != kanca_core::bulutfon::ApiState::Off).unwrap_or(false),
                };
                let notice = call_notice(&p, self.board.caps, current, en, links);
                if let Some(id) = self.show(&notice).await {
                    self.board.track(id, notice.target);
                }
            }
            None => {
                // Answered or ended: a ringing notice would now say something false.
                let ringing = current.and_then(|id| self.board.shown.get(&id).map(|(_, t)| (id, t.clone())));
                if let Some((id, Target::Call { kind: PopupKind::Ringing, .. })) = ringing {
                    if change.call.state != CallState::Ringing || prefs.do_not_disturb {
                        self.close(id).await;
                    }
                }
                if self.board.missed.is_empty() {
                    if let Some(id) = self.board.missed_id {
                        self.close(id).await;
                    }
                }
            }
        }
    }

    async fn show_missed(&mut self) {
        let en = english(&self.state().settings());
        let Some((summary, body)) = popup::missed_notice(&self.board.missed, chrono::Local::now(), en) else { return };
        let notice = missed_notice(summary, body, self.board.caps, self.board.missed_id, en);
        if let Some(id) = self.show(&notice).await {
            self.board.track(id, Target::Missed);
            self.board.missed_evicted = false;
        }
    }

    /// A notice of ours left the screen: if it had pushed the missed notice out, there is room
    /// for the missed notice again.
    async fn room_freed(&mut self) {
        if self.board.missed_evicted && !self.board.missed.is_empty() && !self.state().settings().dnd {
            self.show_missed().await;
        }
    }

    async fn show(&mut self, notice: &Notice) -> Option<u32> {
        let server = self.server.as_ref()?;
        match tokio::time::timeout(SERVER_CALL_TIMEOUT, server.show(notice)).await {
            Ok(Ok(id)) => {
                let status = self.state().status().notifications;
                if !status.available {
                    self.set_status(true, status.server, None);
                }
                Some(id)
            }
            Ok(Err(e)) => {
                tracing::warn!("pop-up failed: {e}");
                self.set_status(false, None, Some(format!("the notification service refused a pop-up ({e})")));
                None
            }
            Err(_) => {
                tracing::warn!("pop-up: the notification service did not answer within {SERVER_CALL_TIMEOUT:?}");
                self.set_status(false, None, Some("the notification service does not answer".into()));
                None
            }
        }
    }

    async fn close(&mut self, id: u32) {
        if self.close_only(id).await {
            self.room_freed().await;
        }
    }

    /// Close a notice; true when it was a call's.
    async fn close_only(&mut self, id: u32) -> bool {
        let shows = self.board.forget(id);
        if let Some(server) = self.server.as_ref() {
            let _ = tokio::time::timeout(SERVER_CALL_TIMEOUT, server.close(id, shows.as_ref())).await;
        }
        matches!(shows, Some(Target::Call { .. }))
    }

    async fn on_other(&mut self, msg: Msg) {
        match msg {
            Msg::Change(..) => {}
            Msg::MissedSeen => self.missed_seen().await,
            Msg::Server(ServerEvent::Ready { caps, name }) => {
                tracing::info!("pop-ups: notification server {name} ({caps:?})");
                // A new server knows none of the old ids: start afresh, and bring back the
                // missed-calls notice the old one took with it.
                self.board.clear();
                self.board.caps = caps;
                self.set_status(true, Some(name), None);
                if !self.board.missed.is_empty() && !self.state().settings().dnd {
                    self.show_missed().await;
                }
            }
            Msg::Server(ServerEvent::Gone) => {
                tracing::warn!("pop-ups: the notification server went away; waiting for it to come back");
                self.board.clear();
                self.set_status(false, None, Some("no notification service is running; pop-ups resume when one starts".into()));
            }
            Msg::Server(ServerEvent::Disconnected) => {
                tracing::warn!("pop-ups: lost the session bus; reconnecting");
                self.server = None;
                self.board.clear();
                self.backoff = RECONNECT_MIN;
            }
            Msg::Server(ServerEvent::Closed { id, reason }) => {
                let shown_at = self.board.shown.get(&id).map(|(seq, _)| *seq);
                match self.board.forget(id) {
                    Some(Target::Missed) if !self.board.missed.is_empty() => {
                        if reason == CLOSED_DISMISSED {
                            // Dismissed by the user: seen.
                            self.board.missed.clear();
                            self.publish_missed();
                        } else if shown_at.is_some_and(|at| at < self.board.seq) {
                            // Pushed out by a newer pop-up of ours (GNOME keeps three per app).
                            // Showing it again at once would push out a call that is still
                            // ringing; it comes back when one of ours leaves. (A server that
                            // drops notices on its own, with nothing newer of ours, is not
                            // fought.)
                            self.board.missed_evicted = true;
                        }
                    }
                    Some(Target::Call { .. }) => self.room_freed().await,
                    _ => {}
                }
            }
            Msg::Server(ServerEvent::Action { on, action }) => self.on_action(on, &action).await,
        }
    }

    async fn on_action(&mut self, on: Clicked, action: &str) {
        let Some(target) = self.board.clicked(on) else { return };
        match (target, action) {
            (Target::Missed, _) => {
                open_missed(&self.app, self.board.missed.last().map(|m| m.uuid.as_str()), self.board.missed.len());
                self.missed_seen().await;
            }
            (Target::Call { number: Some(n), .. }, ACTION_COPY) => {
                let _ = self.app.clipboard().write_text(n);
            }
            (Target::Call { uuid, .. }, ACTION_CRM) => {
                let app = self.app.clone();
                tauri::async_runtime::spawn(async move {
                    let state = app.state::<Arc<AppState>>().inner().clone();
                    if let Err(e) = super::commands::open_call_in_crm(&app, &state, uuid).await {
                        tracing::warn!("CRM link from a pop-up: {}", e.message);
                        let _ = app.emit(super::events::ERROR, &e);
                    }
                });
            }
            (Target::Call { uuid, .. }, ACTION_CALL_BACK) => super::open_call_then(&self.app, &uuid, Some("call_back")),
            (Target::Call { uuid, .. }, _) => super::open_call(&self.app, &uuid),
        }
    }

    async fn missed_seen(&mut self) {
        if self.board.missed.is_empty() && self.board.missed_id.is_none() {
            return;
        }
        self.board.missed.clear();
        self.publish_missed();
        if let Some(id) = self.board.missed_id {
            self.close(id).await;
        }
    }
}

/// One missed call opens as itself; several open the list filtered to missed calls.
pub fn open_missed(app: &AppHandle, latest: Option<&str>, count: usize) {
    match (count, latest) {
        (1, Some(uuid)) => super::open_call(app, uuid),
        _ => super::commands::navigate_filtered(app, "history", Some("missed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_follow_the_server_capabilities() {
        let p = Popup {
            uuid: "u".into(),
            kind: PopupKind::Ringing,
            summary: "Gelen arama: 0 532 444 55 66".into(),
            body: "Aranan: &lt;b&gt;".into(),
            number: Some("+905324445566".into()),
        };
        let bare = call_notice(&p, Caps::default(), None, false, Links { crm: true, call_back: true });
        assert!(bare.actions.is_empty(), "no actions where none are offered");
        assert_eq!(bare.body, "Aranan: <b>", "plain text where markup is not offered");
        assert!(!bare.transient);
        let full = call_notice(&p, Caps { actions: true, markup: true, persistence: true }, Some(7), false, Links::default());
        assert_eq!(full.actions.iter().map(|a| a.0).collect::<Vec<_>>(), [ACTION_OPEN, ACTION_COPY]);
        // With a CRM link set, a button opens the call there.
        let crm = call_notice(&p, Caps { actions: true, markup: true, persistence: true }, None, false, Links { crm: true, call_back: false });
        assert_eq!(crm.actions.iter().map(|a| a.0).collect::<Vec<_>>(), [ACTION_OPEN, ACTION_COPY, ACTION_CRM]);
        assert_eq!(crm.actions[2].1, "CRM'de aç");
        // With Bulutfon's API connected, "Geri ara" (the window asks before it rings anything).
        let back = call_notice(&p, Caps { actions: true, markup: true, persistence: true }, None, false, Links { crm: false, call_back: true });
        assert_eq!(back.actions.iter().map(|a| (a.0, a.1.as_str())).collect::<Vec<_>>()[2], (ACTION_CALL_BACK, "Geri ara"));
        assert_eq!(full.body, "Aranan: &lt;b&gt;");
        assert!(full.transient, "a ringing notice is stale once the call ends: not kept in history");
        assert_eq!(full.replaces, Some(7));
        assert_eq!(full.urgency, Urgency::Critical);
        let m = missed_notice("3 cevapsız arama".into(), "x".into(), Caps { persistence: true, ..Caps::default() }, None, false);
        assert_eq!(m.timeout_ms, 0, "the missed notice stays until seen");
        assert!(!m.transient);
    }

    #[test]
    fn the_board_forgets_what_the_server_closed() {
        let mut b = Board::default();
        let call = |u: &str| Target::Call { uuid: u.into(), kind: PopupKind::Ringing, number: None };
        b.track(1, call("a"));
        b.track(2, call("b"));
        b.track(3, Target::Missed);
        b.track(3, Target::Missed);
        assert_eq!(b.missed_id, Some(3), "replaced in place, still the missed notice");
        assert_eq!(b.by_call.get("a"), Some(&1));
        assert_eq!(b.forget(1), Some(call("a")));
        assert!(!b.by_call.contains_key("a"));
        assert_eq!(b.forget(3), Some(Target::Missed));
        assert_eq!(b.missed_id, None);
        // Replaced in place: still the same call's.
        b.track(2, call("b"));
        assert_eq!(b.by_call.get("b"), Some(&2));
        // An id given again by the server now shows another call.
        b.track(2, call("c"));
        assert!(!b.by_call.contains_key("b"));
        assert_eq!(b.by_call.get("c"), Some(&2));
        // A click named by what it shows still opens a call the board has forgotten.
        assert_eq!(b.clicked(Clicked::Call("c".into())), Some(call("c")));
        assert_eq!(b.clicked(Clicked::Notice(2)), Some(call("c")));
        assert!(matches!(b.clicked(Clicked::Call("gone".into())), Some(Target::Call { uuid, number: None, .. }) if uuid == "gone"));
        assert_eq!(b.clicked(Clicked::Notice(99)), None);
        assert_eq!(b.clicked(Clicked::Missed), Some(Target::Missed));
        for i in 10..(10 + MAX_TRACKED as u32 + 5) {
            b.track(i, call(&i.to_string()));
        }
        assert_eq!(b.shown.len(), MAX_TRACKED);
        assert!(!b.shown.contains_key(&10), "the oldest is forgotten first");
    }
}
