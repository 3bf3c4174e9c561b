//! Kanca's engine: receives Bulutfon webhooks, stores them durably, assembles calls and
//! searches them. It has no Tauri dependency so it runs headless (`kanca serve`) and is tested
//! without a display; the desktop shell subscribes to [`Engine::subscribe`].

pub mod call;
pub mod config;
pub mod history;
pub mod listener;
pub mod phone;
pub mod store;
pub mod webhook;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    #[error("cannot listen on {addr}: {source}{hint}")]
    Listen { addr: SocketAddr, source: std::io::Error, hint: &'static str },
}

/// The receiver's parts for one data directory: storage and webhook credentials.
#[derive(Clone)]
pub struct Engine {
    data_dir: PathBuf,
    store: Store,
    credentials: Arc<Credentials>,
    credential_source: CredentialSource,
}

impl Engine {
    /// Open the data directory: create it, migrate the database, load or create credentials.
    pub fn open(data_dir: &Path) -> Result<Engine, EngineError> {
        let store = Store::open(data_dir)?;
        let (credentials, credential_source) = config::webhook_credentials(data_dir)?;
        Ok(Engine { data_dir: data_dir.to_owned(), store, credentials: Arc::new(credentials), credential_source })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
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
