//! Kanca's engine: receives Bulutfon webhooks, stores them durably, assembles calls and
//! searches them. It has no Tauri dependency so it runs headless (`kanca serve`) and is tested
//! without a display; the desktop shell subscribes to [`Engine::subscribe`].

pub mod bulutfon;
pub mod call;
pub mod child;
pub mod config;
pub mod contacts;
pub mod crm;
pub mod export;
pub mod fold;
pub mod gaps;
pub mod history;
pub mod i18n;
pub mod keys;
pub mod listener;
pub mod names;
pub mod notes;
pub mod office;
pub mod pg;
pub mod phone;
pub mod popup;
pub mod selftest;
pub mod store;
pub mod backend;
pub mod time;
pub mod tunnel;
pub mod webhook;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use call::{Call, CallKind, CallState, Direction};
pub use config::{CredentialSource, Credentials, WebhookForm, WebhookKeys, WebhookSecret};
pub use keys::{KeysError, LiveKeys};
pub use listener::WebhookListener;
pub use backend::Backend;
pub use store::{Change, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeysError),
    /// The OS error is part of the message and deliberately not the error's `source()`:
    /// printed with its chain (`{:#}`), it would otherwise appear twice.
    #[error("cannot listen on {addr}: {io}{hint}")]
    Listen { addr: SocketAddr, io: std::io::Error, hint: &'static str },
}

/// The receiver's parts for one data directory: storage and the webhook's keys.
#[derive(Clone)]
pub struct Engine {
    data_dir: PathBuf,
    store: Store,
    keys: Arc<LiveKeys>,
    shared: tokio::sync::broadcast::Sender<Shared>,
}

/// A change to what an office shares besides the calls themselves: the desks of an office
/// (`office`) hear of each at once and read it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// A call's note or tags (its uuid).
    CallNotes(String),
    Contacts,
    /// Names of extensions, groups and numbers.
    Names,
    TagColours,
    /// Anything shared may have changed (every call's note and tags included): read it all
    /// again. A desk announces it after copying its receiver's notes; a receiver on PostgreSQL
    /// after its change feed was lost for a while, when announcements may have been missed.
    Everything,
}

impl Engine {
    /// Open the data directory: create it, migrate the database, load or create the keys.
    pub fn open(data_dir: &Path) -> Result<Engine, EngineError> {
        // Pop-ups name the caller: each published change carries the phone book's names.
        let store = Store::open_annotated(data_dir, |conn, call| Ok(history::annotate(conn, std::slice::from_mut(call))?))?;
        let keys = Arc::new(LiveKeys::open(data_dir)?);
        let (shared, _) = tokio::sync::broadcast::channel(256);
        Ok(Engine { data_dir: data_dir.to_owned(), store, keys, shared })
    }

    /// Changes to notes, tags, contacts and names as they are written.
    pub fn subscribe_shared(&self) -> tokio::sync::broadcast::Receiver<Shared> {
        self.shared.subscribe()
    }

    /// Tell whoever follows (the office's desks) that `what` changed.
    pub fn announce(&self, what: Shared) {
        let _ = self.shared.send(what);
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The keys in force (followed as config.toml changes, see [`keys`]).
    pub fn keys(&self) -> Arc<WebhookKeys> {
        self.keys.current()
    }

    pub fn credentials(&self) -> Credentials {
        self.keys.credentials()
    }

    /// Replace the password with a new random one, saved and in force at once. Refused when
    /// the environment sets the credentials (the file would not be used).
    pub fn regenerate_credentials(&self) -> Result<Credentials, EngineError> {
        Ok(self.keys.regenerate_password()?.credentials.clone())
    }

    /// Replace the URL secret with a new random one, saved and in force at once: the old
    /// one-paste URL is refused from the next request on. Refused when KANCA_WEBHOOK_SECRET
    /// sets it.
    pub fn rotate_secret(&self) -> Result<Arc<WebhookKeys>, EngineError> {
        Ok(self.keys.rotate_secret()?)
    }

    /// Choose the URL form shown to the user (both are accepted either way).
    pub fn set_webhook_form(&self, form: WebhookForm) -> Result<Arc<WebhookKeys>, EngineError> {
        Ok(self.keys.set_form(form)?)
    }

    pub fn credential_source(&self) -> CredentialSource {
        self.keys.current().credential_source
    }

    /// Every stored event and the call it changed, as they are committed.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.store.subscribe()
    }

    /// Start the webhook listener on `addr` (port 0 picks a free port).
    pub async fn start_listener(&self, addr: SocketAddr) -> Result<WebhookListener, EngineError> {
        self.start_listener_with(addr, listener::Timeouts::default()).await
    }

    /// What the listener serves with: this engine's store and live keys.
    pub fn listener_state(&self, timeouts: listener::Timeouts) -> listener::ListenerState {
        listener::ListenerState { store: self.store.clone().into(), keys: self.keys.clone(), timeouts }
    }

    /// [`Engine::start_listener`] with other client timeouts (tests use short ones).
    pub async fn start_listener_with(&self, addr: SocketAddr, timeouts: listener::Timeouts) -> Result<WebhookListener, EngineError> {
        start_listener(addr, self.listener_state(timeouts)).await
    }
}

/// Start the webhook listener on `addr` with `state` (an [`Engine`]'s, or a PostgreSQL
/// history's with the data directory's keys); the error says what to do about a port in use.
pub async fn start_listener(addr: SocketAddr, state: listener::ListenerState) -> Result<WebhookListener, EngineError> {
    WebhookListener::start(addr, state).await.map_err(|source| {
        let hint = match source.kind() {
            std::io::ErrorKind::AddrInUse => {
                " (another program, or another Kanca, already uses this port; choose another with --listen or KANCA_LISTEN)"
            }
            std::io::ErrorKind::AddrNotAvailable => " (this machine has no such address)",
            std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges; use a higher port)",
            _ => "",
        };
        EngineError::Listen { addr, io: source, hint }
    })
}

/// The TypeScript types of everything the UI receives, generated from the Rust types above.
/// `ui/src/bindings/` is committed; this test fails when it no longer matches the Rust types.
/// Regenerate with `KANCA_UPDATE_BINDINGS=1 cargo test -p kanca-core bindings`.
#[cfg(test)]
mod bindings {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use ts_rs::TS;

    fn export(dir: &Path) {
        let cfg = ts_rs::Config::new().with_out_dir(dir);
        crate::history::Page::export_all(&cfg).unwrap();
        crate::history::CallDetail::export_all(&cfg).unwrap();
        crate::history::Query::export_all(&cfg).unwrap();
        crate::store::Change::export_all(&cfg).unwrap();
        crate::store::Outcome::export_all(&cfg).unwrap();
        crate::tunnel::TunnelSettings::export_all(&cfg).unwrap();
        crate::tunnel::TunnelStatus::export_all(&cfg).unwrap();
        crate::selftest::SelfTestResult::export_all(&cfg).unwrap();
        crate::config::WebhookForm::export_all(&cfg).unwrap();
        crate::config::DesktopSettings::export_all(&cfg).unwrap();
        crate::config::CredentialSource::export_all(&cfg).unwrap();
        crate::contacts::Contact::export_all(&cfg).unwrap();
        crate::contacts::ContactInput::export_all(&cfg).unwrap();
        crate::contacts::ContactMatch::export_all(&cfg).unwrap();
        crate::contacts::ImportReport::export_all(&cfg).unwrap();
        crate::contacts::api::ExportFormat::export_all(&cfg).unwrap();
        crate::notes::Tag::export_all(&cfg).unwrap();
        crate::names::NameEntry::export_all(&cfg).unwrap();
    }

    fn read_dir(dir: &Path) -> BTreeMap<String, String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The desktop shell exports its own types (AppStatus, CommandError) into the same folder;
    /// this test answers for the engine's files only.
    #[test]
    fn bindings_are_current() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings");
        if std::env::var_os("KANCA_UPDATE_BINDINGS").is_some() {
            export(&committed);
            return;
        }
        let fresh = tempfile::tempdir().unwrap();
        export(fresh.path());
        let (want, have) = (read_dir(fresh.path()), read_dir(&committed));
        let stale: Vec<_> = want.keys().filter(|k| want.get(*k) != have.get(*k)).collect();
        assert!(
            stale.is_empty(),
            "ui/src/bindings is stale: run KANCA_UPDATE_BINDINGS=1 cargo test -p kanca-core bindings (differs in {stale:?})"
        );
    }
}
