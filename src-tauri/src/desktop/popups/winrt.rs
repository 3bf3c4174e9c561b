//! Windows: pop-ups as WinRT toasts, through the `windows` crate's ToastNotification API (the
//! crate Tauri already builds on; notify-rust's Windows backend sets neither a tag nor click
//! arguments). Each call's toast is tagged with the call (`toast.rs`), so a routing update
//! replaces it in place and the call's end removes it; a click comes back through the toast's
//! Activated event while Kanca runs, with arguments that name the call.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use windows::core::{IInspectable, Interface as _, HSTRING};
use windows::Data::Xml::Dom::XmlDocument;
use windows::Foundation::TypedEventHandler;
use windows::UI::Notifications::{
    ToastActivatedEventArgs, ToastDismissalReason, ToastDismissedEventArgs, ToastFailedEventArgs, ToastNotification,
    ToastNotificationManager, ToastNotifier,
};

use super::toast::{self, APP_USER_MODEL_ID};
use super::{Caps, Clicked, Notice, ServerEvent, Target, ACTION_OPEN, CLOSED_DISMISSED};

/// Toasts whose click handlers are kept, newest first (Action Center keeps 20 per app).
const KEEP: usize = 32;
/// The Desktop Notifications "expired" reason, given for a toast Windows failed to show.
const CLOSED_FAILED: u32 = 1;

type Events = Arc<dyn Fn(ServerEvent) + Send + Sync>;

/// Windows attributes the process's windows and toasts to this id; it must be set before any
/// window exists.
pub fn set_app_user_model_id() {
    let wide: Vec<u16> = APP_USER_MODEL_ID.encode_utf16().chain(std::iter::once(0)).collect();
    // SAFETY: a NUL-terminated UTF-16 string that outlives the call.
    let hr = unsafe { windows_sys::Win32::UI::Shell::SetCurrentProcessExplicitAppUserModelID(wide.as_ptr()) };
    if hr < 0 {
        tracing::warn!("could not set the AppUserModelID ({hr:#x}); toasts may show under another name");
    }
}

pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    events: Events,
    notifier: ToastNotifier,
    next_id: AtomicU32,
    seq: AtomicU64,
    /// The toasts whose handlers are live. A toast's handlers go with the last reference to it,
    /// so the newest are held here until closed, dismissed or pushed out by newer ones.
    live: Mutex<HashMap<u32, Live>>,
}

struct Live {
    toast: ToastNotification,
    handlers: [i64; 3],
    seq: u64,
}

impl Live {
    fn release(&self) {
        let [activated, dismissed, failed] = self.handlers;
        let _ = self.toast.RemoveActivated(activated);
        let _ = self.toast.RemoveDismissed(dismissed);
        let _ = self.toast.RemoveFailed(failed);
    }
}

impl Server {
    pub async fn connect(events: impl Fn(ServerEvent) + Send + Sync + 'static) -> Result<Server, String> {
        let events: Events = Arc::new(events);
        let notifier = blocking(|| ToastNotificationManager::CreateToastNotifierWithId(&HSTRING::from(APP_USER_MODEL_ID)))
            .await
            .map_err(|e| format!("cannot reach Windows notifications ({e})"))?;
        // Buttons, plain text only, kept in Action Center.
        events(ServerEvent::Ready { caps: Caps { actions: true, markup: false, persistence: true }, name: "Windows".into() });
        let inner = Inner { events, notifier, next_id: AtomicU32::new(1), seq: AtomicU64::new(0), live: Mutex::default() };
        Ok(Server { inner: Arc::new(inner) })
    }

    pub fn describe(&self) -> String {
        format!("Windows toasts ({APP_USER_MODEL_ID})")
    }

    pub async fn show(&self, n: &Notice) -> Result<u32, String> {
        let (inner, n) = (self.inner.clone(), n.clone());
        blocking(move || inner.show(&n)).await
    }

    /// Take the toast off the screen and out of Action Center.
    pub async fn close(&self, id: u32, shows: Option<&Target>) {
        let (inner, shows) = (self.inner.clone(), shows.cloned());
        let _ = blocking(move || {
            inner.close(id, shows.as_ref());
            Ok(())
        })
        .await;
    }
}

/// WinRT calls off the async executor: the first one on a thread may wait on COM's start-up.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> windows::core::Result<T> + Send + 'static) -> Result<T, String> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())
}

impl Inner {
    fn show(self: &Arc<Self>, n: &Notice) -> windows::core::Result<u32> {
        // A replacement keeps the id, so the service sees the notice updated in place.
        let id = n.replaces.unwrap_or_else(|| self.next_id.fetch_add(1, Ordering::Relaxed));
        let doc = XmlDocument::new()?;
        doc.LoadXml(&HSTRING::from(toast::toast_xml(n, id)))?;
        let note = ToastNotification::CreateToastNotification(&doc)?;
        let (tag, group) = toast::tag_and_group(&n.target);
        note.SetTag(&HSTRING::from(tag))?;
        note.SetGroup(&HSTRING::from(group))?;
        let handlers = self.listen(&note, id)?;
        // A toast with the tag and group of an earlier one replaces it, on screen and in
        // Action Center.
        self.notifier.Show(&note)?;
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let released = match self.live.lock() {
            Ok(mut live) => {
                let mut out: Vec<Live> = live.insert(id, Live { toast: note, handlers, seq }).into_iter().collect();
                while live.len() > KEEP {
                    let Some(oldest) = live.iter().min_by_key(|(_, l)| l.seq).map(|(id, _)| *id) else { break };
                    out.extend(live.remove(&oldest));
                }
                out
            }
            Err(_) => Vec::new(),
        };
        // Outside the lock: Windows may call a handler while one is being removed.
        released.iter().for_each(Live::release);
        Ok(id)
    }

    fn listen(self: &Arc<Self>, toast: &ToastNotification, id: u32) -> windows::core::Result<[i64; 3]> {
        let events = self.events.clone();
        let activated = toast.Activated(&TypedEventHandler::<ToastNotification, IInspectable>::new(move |_, args| {
            let args = args.as_ref().and_then(|a| a.cast::<ToastActivatedEventArgs>().ok()).and_then(|a| a.Arguments().ok());
            let (on, action) = args
                .and_then(|a| toast::parse_arguments(&a.to_string_lossy()))
                .unwrap_or_else(|| (Clicked::Notice(id), ACTION_OPEN.to_string()));
            events(ServerEvent::Action { on, action });
            Ok(())
        }))?;
        // The handlers hold the service weakly: it holds them.
        let this: Weak<Inner> = Arc::downgrade(self);
        let dismissed = toast.Dismissed(&TypedEventHandler::<ToastNotification, ToastDismissedEventArgs>::new(move |sender, args| {
            // Only the user's own dismissal closes it: a toast that timed out waits in Action
            // Center, and one Kanca hid or replaced is already accounted for.
            if args.as_ref().and_then(|a| a.Reason().ok()) == Some(ToastDismissalReason::UserCanceled) {
                if let Some(inner) = this.upgrade() {
                    inner.gone(sender.as_ref(), id, CLOSED_DISMISSED);
                }
            }
            Ok(())
        }))?;
        let this: Weak<Inner> = Arc::downgrade(self);
        let failed = toast.Failed(&TypedEventHandler::<ToastNotification, ToastFailedEventArgs>::new(move |sender, args| {
            let code = args.as_ref().and_then(|a| a.ErrorCode().ok()).map(|c| c.0).unwrap_or_default();
            tracing::warn!("pop-up: Windows could not show toast {id} ({code:#x})");
            if let Some(inner) = this.upgrade() {
                inner.gone(sender.as_ref(), id, CLOSED_FAILED);
            }
            Ok(())
        }))?;
        Ok([activated, dismissed, failed])
    }

    /// Windows took toast `id` away: tell the service, unless a newer toast has the id by now.
    fn gone(&self, sender: Option<&ToastNotification>, id: u32, reason: u32) {
        let removed = match self.live.lock() {
            Ok(mut live) if live.get(&id).is_some_and(|l| Some(&l.toast) == sender) => live.remove(&id),
            _ => None,
        };
        if let Some(l) = removed {
            l.release();
            (self.events)(ServerEvent::Closed { id, reason });
        }
    }

    fn close(&self, id: u32, shows: Option<&Target>) {
        let live = self.live.lock().ok().and_then(|mut live| live.remove(&id));
        if let Some(l) = &live {
            l.release();
            let _ = self.notifier.Hide(&l.toast);
        }
        // By tag, also once the toast has left the screen or its handlers were let go.
        if let Some(target) = shows {
            let (tag, group) = toast::tag_and_group(target);
            let removed = ToastNotificationManager::History()
                .and_then(|h| h.RemoveGroupedTagWithId(&HSTRING::from(tag), &HSTRING::from(group), &HSTRING::from(APP_USER_MODEL_ID)));
            if let Err(e) = removed {
                tracing::debug!("pop-ups: removing toast {id} from Action Center: {e}");
            }
        }
    }
}
