//! Giving memory back after a busy spell. A burst of calls leaves freed memory that the
//! allocator keeps (glibc's arenas, one per thread that allocated), SQLite's page caches, and
//! JavaScript garbage in the web process that WebKit collects only under pressure. None of it
//! is needed once the burst is over, and a tray app lives for days.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tauri::{AppHandle, Manager};

use super::AppState;

/// Quiet time after the last change before memory is tidied.
const QUIET: Duration = Duration::from_secs(3);

/// The web process's memory limit (MiB) that WebKit's memory-pressure handler works towards;
/// `KANCA_WEB_MEMORY_LIMIT_MB=0` leaves WebKit's default (a share of the machine's memory,
/// which on a desktop is never reached, so garbage waits for the next full collection).
#[cfg(target_os = "linux")]
const WEB_MEMORY_LIMIT_MB: u32 = 256;

/// Set before the first webview exists: WebKit reads it when it starts a web process.
pub fn limit_web_process() {
    #[cfg(target_os = "linux")]
    {
        let limit = std::env::var("KANCA_WEB_MEMORY_LIMIT_MB").ok().and_then(|v| v.parse::<u32>().ok()).unwrap_or(WEB_MEMORY_LIMIT_MB);
        if limit == 0 {
            return;
        }
        // Through the C API: the Rust wrappers insist on GTK being initialised, which Tauri
        // does only while it creates the window, and the setting must be in place by then.
        // Above half the limit WebKit frees caches and collects garbage in the background;
        // above three quarters it does so at once. Checked every 5 s instead of 30.
        use webkit2gtk::ffi;
        // SAFETY: plain calls on a settings object we own; WebKit copies it before we free it.
        unsafe {
            let settings = ffi::webkit_memory_pressure_settings_new();
            ffi::webkit_memory_pressure_settings_set_memory_limit(settings, limit);
            ffi::webkit_memory_pressure_settings_set_conservative_threshold(settings, 0.5);
            ffi::webkit_memory_pressure_settings_set_strict_threshold(settings, 0.75);
            ffi::webkit_memory_pressure_settings_set_poll_interval(settings, 5.0);
            ffi::webkit_website_data_manager_set_memory_pressure_settings(settings);
            ffi::webkit_memory_pressure_settings_free(settings);
        }
    }
}

#[derive(Default)]
pub struct Tidy {
    last_change: Mutex<Option<Instant>>,
    pending: AtomicBool,
}

impl Tidy {
    /// A change arrived: tidy once things have been quiet for a moment.
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
