//! Office mode, the receiver's side: one Kanca receives the webhooks and serves every desk over
//! a client API of its own (default port 8498, apart from the webhook's), over TLS with a
//! self-signed certificate that desks pin ([`tls`]), to desks paired one by one ([`clients`]).
//! The API itself is [`api`].

pub mod api;
pub mod client;
pub mod clients;
pub mod desk;
mod shared;
pub mod tls;

use std::net::SocketAddr;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::Engine;

/// The client API's port unless told otherwise.
pub const DEFAULT_PORT: u16 = 8498;
/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Clients(#[from] clients::ClientsError),
    #[error(transparent)]
    Store(#[from] crate::StoreError),
    #[error("cannot listen for desks on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// Pair a new desk named `name` with the receiver whose data is in `data_dir`: its pairing code's
/// contents. `addr` is how desks reach the client API; by default this computer's address on
/// its network and the default port. Blocking (a database write).
pub fn pair_desk(data_dir: &std::path::Path, name: &str, addr: Option<String>) -> Result<clients::Pairing, OfficeError> {
    let identity = tls::load_or_create(data_dir)?;
    std::fs::create_dir_all(data_dir).map_err(|e| tls::TlsError::Io { path: data_dir.to_owned(), source: e })?;
    let conn = crate::store::open(&data_dir.join(crate::store::DB_FILE))?;
    let addr = addr.unwrap_or_else(default_addr);
    let token = clients::add(&conn, name)?;
    Ok(clients::Pairing { addr, also: Vec::new(), fp: identity.fingerprint(), token, name: name.trim().to_owned() })
}

/// The address put in a pairing code when none is given: this computer's, on the default port.
fn default_addr() -> String {
    let ip = local_address().map(|ip| ip.to_string()).unwrap_or_else(|| "127.0.0.1".into());
    format!("{ip}:{DEFAULT_PORT}")
}

/// [`pair_desk`] for receivers sharing a PostgreSQL history: the desk is kept in the database,
/// so every receiver knows it, and the pairing code names every receiver's address (`addrs`,
/// the first tried first) with the certificate they all serve.
pub async fn pair_desk_shared(history: &crate::pg::PgStore, data_dir: &std::path::Path, name: &str, addrs: Vec<String>) -> Result<clients::Pairing, OfficeError> {
    let identity = history.office_identity(tls::load_or_create(data_dir)?).await?;
    let mut addrs = addrs.into_iter();
    let addr = addrs.next().unwrap_or_else(default_addr);
    let token = history.add_desk(name).await?;
    Ok(clients::Pairing { addr, also: addrs.collect(), fp: identity.fingerprint(), token, name: name.trim().to_owned() })
}

/// This computer's address on its network, as other desks reach it: the one the OS would send
/// from (no packet is sent).
pub fn local_address() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    s.local_addr().ok().map(|a| a.ip()).filter(|ip| !ip.is_unspecified())
}

/// The running client API.
pub struct OfficeServer {
    pub addr: SocketAddr,
    pub fingerprint: String,
    /// The accept loop and the fan-out of changes.
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl OfficeServer {
    /// Serve `engine`'s history to paired desks on `addr`. Inside a tokio runtime.
    pub async fn start(engine: &Engine, addr: SocketAddr) -> Result<OfficeServer, OfficeError> {
        OfficeServer::start_for(api::Receiver::Sqlite(engine.clone()), addr).await
    }

    /// Serve a PostgreSQL history to paired desks on `addr`, as one of the receivers sharing it:
    /// with the certificate they all serve (this one's, if it is the first).
    pub async fn start_shared(history: crate::pg::PgStore, data_dir: &std::path::Path, addr: SocketAddr) -> Result<OfficeServer, OfficeError> {
        OfficeServer::start_for(api::Receiver::Postgres { history, data_dir: data_dir.to_owned() }, addr).await
    }

    async fn start_for(receiver: api::Receiver, addr: SocketAddr) -> Result<OfficeServer, OfficeError> {
        let local = tls::load_or_create(receiver.data_dir())?;
        let identity = match &receiver {
            api::Receiver::Sqlite(_) => local,
            api::Receiver::Postgres { history, .. } => history.office_identity(local).await?,
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(identity.server_config()?);
        let listener = TcpListener::bind(addr).await.map_err(|source| OfficeError::Listen { addr, source })?;
        let addr = listener.local_addr().map_err(|source| OfficeError::Listen { addr, source })?;
        let (wire, _) = tokio::sync::broadcast::channel(4096);
        let fan_out = api::fan_out(&receiver, wire.clone());
        let app = api::router(api::ApiState { receiver, wire });
        let task = tokio::spawn(async move {
            // The desks' connections end with the server (switched off in the app): a stream
            // left open would look connected to a desk and bring nothing.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                while connections.try_join_next().is_some() {}
                let (tcp, peer) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!("office: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                connections.spawn(async move {
                    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => return tracing::debug!(%peer, "office: TLS handshake failed: {e}"),
                        Err(_) => return tracing::debug!(%peer, "office: TLS handshake timed out"),
                    };
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HANDSHAKE_TIMEOUT)
                        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app));
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, "office: connection ended: {e}");
                    }
                });
            }
        });
        Ok(OfficeServer { addr, fingerprint: identity.fingerprint(), tasks: [task, fan_out] })
    }
}

impl Drop for OfficeServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
