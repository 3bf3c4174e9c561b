//! Keeping the history in step with Bulutfon while Kanca runs (`kanca serve` and the desktop
//! app): a sync at start, every few minutes, when the computer wakes (the wall clock jumped
//! ahead of the monotonic one), soon again after the network failed, and whenever asked (a new
//! token, "Şimdi eşitle"). A refused token stops the syncing until a new one is given: a clear
//! status, not a retry loop. The service reads config.toml at every pass, so a token stored by
//! `kanca bulutfon token` or the settings is picked up without a restart.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio::sync::{watch, Notify};

use super::backfill::{sync, Progress, SyncError};
use super::{ApiError, ApiToken, Client};
use crate::config::FileConfig;
use crate::Backend;
use crate::time::micros_to_rfc3339;

/// Between syncs while all is well.
pub const INTERVAL: Duration = Duration::from_secs(5 * 60);
/// After a failure the next try comes sooner: this, doubling up to [`INTERVAL`].
const RETRY_FIRST: Duration = Duration::from_secs(30);
/// How often the wall clock is compared with the monotonic one to notice a wake-up.
const WAKE_CHECK: Duration = Duration::from_secs(20);
/// A wall clock this far ahead of the monotonic one means the computer slept.
const WAKE_JUMP: Duration = Duration::from_secs(60);

/// Where the connection to Bulutfon's API stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ApiState {
    /// No token.
    #[default]
    Off,
    Syncing,
    Ok,
    /// Bulutfon refused the token: a new one is needed.
    BadToken,
    /// The API could not be reached or answered oddly; retried soon.
    Unavailable,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ApiStatus {
    pub state: ApiState,
    /// The account's name (`Bağlı: ornekticaret`), as stored when the token was checked.
    pub account: Option<String>,
    /// When the last sync finished well (RFC 3339).
    pub last_sync: Option<String>,
    /// While a backfill runs.
    pub progress: Option<Progress>,
    pub error: Option<String>,
    /// Calls the last sync added.
    #[ts(type = "number")]
    pub last_added: usize,
}

/// Missed calls a backfill found, for one summary (never one pop-up each).
pub type OnMissed = Arc<dyn Fn(Vec<String>) + Send + Sync>;

/// The running service; dropping it does not stop it (it lives as long as the runtime).
#[derive(Clone)]
pub struct ApiService {
    status: watch::Receiver<ApiStatus>,
    wake: Arc<Notify>,
}

impl ApiService {
    /// Start syncing `store` with the account config.toml in `data_dir` names. Must be called
    /// inside a tokio runtime.
    pub fn start(store: Backend, data_dir: PathBuf, on_missed: OnMissed) -> ApiService {
        let (tx, status) = watch::channel(ApiStatus::default());
        let wake = Arc::new(Notify::new());
        let asked = wake.clone();
        tokio::spawn(async move { run(store, data_dir, tx, asked, on_missed).await });
        ApiService { status, wake }
    }

    /// Sync now (a new token, the user asked).
    pub fn sync_now(&self) {
        self.wake.notify_one();
    }

    pub fn status(&self) -> ApiStatus {
        self.status.borrow().clone()
    }

    pub fn watch(&self) -> watch::Receiver<ApiStatus> {
        self.status.clone()
    }
}

async fn run(store: Backend, data_dir: PathBuf, tx: watch::Sender<ApiStatus>, wake: Arc<Notify>, on_missed: OnMissed) {
    let mut retry = RETRY_FIRST;
    // The token Bulutfon refused: not tried again until it changes.
    let mut refused: Option<ApiToken> = None;
    loop {
        let settings = FileConfig::load(&data_dir).map(|f| f.bulutfon).unwrap_or_default();
        let client = match Client::from_settings(settings.token.as_deref()) {
            Ok(Some(c)) if refused.as_ref() == Some(c.token()) => {
                // The settings are read again after the wait: a new token is tried at once;
                // the same one only when the user asks.
                if wait(Some(INTERVAL), &wake).await {
                    refused = None;
                }
                continue;
            }
            Ok(Some(c)) => Some(c),
            Ok(None) => None,
            Err(e) => {
                tx.send_modify(|s| {
                    s.state = ApiState::Unavailable;
                    s.error = Some(e.to_string());
                });
                None
            }
        };
        let next = match client {
            None => {
                if tx.borrow().state != ApiState::Unavailable {
                    tx.send_replace(ApiStatus::default());
                }
                // A token stored by `kanca bulutfon token` while this runs is found here.
                Some(INTERVAL)
            }
            Some(client) => {
                tx.send_modify(|s| {
                    s.state = ApiState::Syncing;
                    s.account = settings.account.clone();
                    s.progress = None;
                });
                let progress_tx = tx.clone();
                let progress = move |p: Progress| progress_tx.send_modify(|s| s.progress = Some(p));
                // The first backfill of an account brings a month: that is history, not news.
                let had_synced = super::backfill::last_sync_us(&store).await.ok().flatten().is_some();
                let outcome = sync(&client, &store, &progress).await;
                match outcome {
                    Ok(report) if report.busy => {
                        tracing::debug!("another receiver of the database is syncing with Bulutfon; this one waits its turn");
                        retry = RETRY_FIRST;
                        tx.send_modify(|s| {
                            s.state = ApiState::Ok;
                            s.error = None;
                            s.progress = None;
                        });
                        Some(INTERVAL)
                    }
                    Ok(report) => {
                        tracing::info!(added = report.calls_added, updated = report.calls_updated, pages = report.pages, "synced with Bulutfon");
                        retry = RETRY_FIRST;
                        tx.send_modify(|s| {
                            s.state = ApiState::Ok;
                            s.error = None;
                            s.progress = None;
                            s.last_added = report.calls_added;
                            s.last_sync = micros_to_rfc3339(crate::time::now_us());
                        });
                        if had_synced && !report.missed.is_empty() {
                            on_missed(report.missed);
                        }
                        Some(INTERVAL)
                    }
                    Err(SyncError::Api(ApiError::BadToken(why))) => {
                        tracing::warn!("Bulutfon refused the API token ({why}); syncing stops until a new one is given");
                        refused = Some(client.token().clone());
                        tx.send_modify(|s| {
                            s.state = ApiState::BadToken;
                            s.error = Some(ApiError::BadToken(why).to_string());
                            s.progress = None;
                        });
                        Some(INTERVAL)
                    }
                    Err(e) => {
                        tracing::warn!("syncing with Bulutfon failed, trying again in {} s: {e}", retry.as_secs());
                        tx.send_modify(|s| {
                            s.state = ApiState::Unavailable;
                            s.error = Some(e.to_string());
                            s.progress = None;
                        });
                        let wait = retry;
                        retry = (retry * 2).min(INTERVAL);
                        Some(wait)
                    }
                }
            }
        };
        wait(next, &wake).await;
    }
}

/// Until `next` has passed (or for ever when None), the computer woke, or someone asked (true).
async fn wait(next: Option<Duration>, wake: &Notify) -> bool {
    let started = Instant::now();
    let mut wall = SystemTime::now();
    let mut mono = Instant::now();
    loop {
        let left = next.map(|n| n.saturating_sub(started.elapsed()));
        if left.is_some_and(|l| l.is_zero()) {
            return false;
        }
        let step = left.map_or(WAKE_CHECK, |l| l.min(WAKE_CHECK));
        tokio::select! {
            _ = wake.notified() => return true,
            _ = tokio::time::sleep(step) => {}
        }
        // Suspend stops the monotonic clock (and tokio's timers), not the wall clock.
        let wall_passed = SystemTime::now().duration_since(wall).unwrap_or_default();
        if next.is_some() && wall_passed > mono.elapsed() + WAKE_JUMP {
            tracing::info!("the computer woke up: syncing with Bulutfon");
            return false;
        }
        wall = SystemTime::now();
        mono = Instant::now();
    }
}
