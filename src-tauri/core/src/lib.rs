//! Kanca's engine: receives Bulutfon webhooks, stores them durably, assembles calls and
//! searches them. It has no Tauri dependency so it runs headless (`kanca serve`) and is tested
//! without a display; the desktop shell subscribes to [`Engine::subscribe`].

pub mod call;
pub mod config;
pub mod history;
pub mod listener;
pub mod phone;
pub mod popup;
pub mod selftest;
pub mod store;
pub mod tunnel;
pub mod webhook;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub use call::{Call, CallKind, CallState, Direction};
pub use config::{CredentialSource, Credentials};
pub use listener::WebhookListener;
pub use store::{Change, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the webhook credentials come from KANCA_WEBHOOK_USER / KANCA_WEBHOOK_PASSWORD; change them there")]
    CredentialsFromEnvironment,
    #[error("cannot listen on {addr}: {source}{hint}")]
    Listen { addr: SocketAddr, source: std::io::Error, hint: &'static str },
}

/// The receiver's parts for one data directory: storage and webhook credentials.
#[derive(Clone)]
pub struct Engine {
    data_dir: PathBuf,
    store: Store,
    credentials: Arc<RwLock<Credentials>>,
    credential_source: CredentialSource,
}

impl Engine {
    /// Open the data directory: create it, migrate the database, load or create credentials.
    pub fn open(data_dir: &Path) -> Result<Engine, EngineError> {
        let store = Store::open(data_dir)?;
        let (credentials, credential_source) = config::webhook_credentials(data_dir)?;
        Ok(Engine { data_dir: data_dir.to_owned(), store, credentials: Arc::new(RwLock::new(credentials)), credential_source })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn credentials(&self) -> Credentials {
        self.credentials.read().map(|c| c.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Replace the password with a new random one, saved and in force at once. Refused when
    /// the environment sets the credentials (the file would not be used).
    pub fn regenerate_credentials(&self) -> Result<Credentials, EngineError> {
        if self.credential_source == CredentialSource::Environment {
            return Err(EngineError::CredentialsFromEnvironment);
        }
        let fresh = config::regenerate_credentials(&self.data_dir)?;
        if let Ok(mut c) = self.credentials.write() {
            *c = fresh.clone();
        }
        Ok(fresh)
    }

    pub fn credential_source(&self) -> CredentialSource {
        self.credential_source
    }

    /// Every stored event and the call it changed, as they are committed.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.store.subscribe()
    }

    /// Start the webhook listener on `addr` (port 0 picks a free port).
    pub async fn start_listener(&self, addr: SocketAddr) -> Result<WebhookListener, EngineError> {
        self.start_listener_with(addr, listener::Timeouts::default()).await
    }

    /// [`Engine::start_listener`] with other client timeouts (tests use short ones).
    pub async fn start_listener_with(&self, addr: SocketAddr, timeouts: listener::Timeouts) -> Result<WebhookListener, EngineError> {
        let state = listener::ListenerState {
            store: self.store.clone(),
            credentials: self.credentials.clone(),
            timeouts,
        };
        WebhookListener::start(addr, state).await.map_err(|source| {
            let hint = match source.kind() {
                std::io::ErrorKind::AddrInUse => {
                    " (another program, or another Kanca, already uses this port; choose another with --listen or KANCA_LISTEN)"
                }
                std::io::ErrorKind::AddrNotAvailable => " (this machine has no such address)",
                std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges; use a higher port)",
                _ => "",
            };
            EngineError::Listen { addr, source, hint }
        })
    }
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

    #[test]
    fn bindings_are_current() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings");
        if std::env::var_os("KANCA_UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            export(&committed);
            return;
        }
        let fresh = tempfile::tempdir().unwrap();
        export(fresh.path());
        let (want, have) = (read_dir(fresh.path()), read_dir(&committed));
        assert!(
            want == have,
            "ui/src/bindings is stale: run KANCA_UPDATE_BINDINGS=1 cargo test -p kanca-core bindings (differs in {:?})",
            want.keys().chain(have.keys()).filter(|k| want.get(*k) != have.get(*k)).collect::<Vec<_>>()
        );
    }
}
