//! Giving memory back after a busy spell. A burst of calls leaves freed memory that the
//! allocator keeps (glibc's arenas, one per thread that allocated) and SQLite's page caches in
//! the pooled readers. None of it is needed once the burst is over, and a tray app lives for
//! days. (WebKit's memory-pressure settings were tried for the web process's share: with a
//! 256 MiB limit it ended a 10,000-event burst 20 MiB larger than without, so they are not set.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tauri::{AppHandle, Manager};

use super::AppState;

/// Quiet time after the last change before memory is tidied.
const QUIET: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct Tidy {
    last_change: Mutex<Option<Instant>>,
    pending: AtomicBool,
}

impl Tidy {
    /// Work was done (a change arrived, the pop-ups caught up): tidy once things have been
    /// quiet for a moment.
    pub fn note_change(self: &Arc<Self>, app: &AppHandle) {
        if let Ok(mut last) = self.last_change.lock() {
            *last = Some(Instant::now());
        }
        if self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            loop {
                tokio::time::sleep(QUIET).await;
                let quiet = this.last_change.lock().map(|l| l.is_none_or(|t| t.elapsed() >= QUIET)).unwrap_or(true);
                if quiet {
                    break;
                }
            }
            this.pending.store(false, Ordering::Release);
            tidy(&app).await;
        });
    }
}

async fn tidy(app: &AppHandle) {
    let state = app.state::<Arc<AppState>>().inner().clone();
    if let Some(engine) = &state.engine {
        engine.store().release_memory().await;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory at the top of glibc's heaps to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
