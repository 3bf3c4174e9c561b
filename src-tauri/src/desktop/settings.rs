//! The one way the desktop settings change, from the window or the tray: start at login is
//! switched first, then config.toml is written (off the main thread), and only then does the
//! app take the new settings. A failure leaves the old settings in force and is returned, so
//! the caller can tell the user.

use std::sync::Arc;

use kanca_core::config::{self, DesktopSettings};
use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt as _;

use super::commands::{CommandError, ErrorCode};
use super::AppState;

pub async fn apply_settings(app: &AppHandle, state: &Arc<AppState>, mut settings: DesktopSettings) -> Result<DesktopSettings, CommandError> {
    // A CRM link is a web link with known placeholders, or none at all.
    settings.crm_url = settings.crm_url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    if let Some(url) = &settings.crm_url {
        kanca_core::crm::check(url).map_err(|e| CommandError::new(ErrorCode::InvalidUrl, e))?;
    }
    let before = state.settings();
    if settings.autostart != before.autostart {
        let launcher = app.autolaunch();
        if settings.autostart {
            launcher.enable()?;
        } else {
            launcher.disable()?;
        }
    }
    let (dir, saved) = (state.data_dir.clone(), settings.clone());
    tauri::async_runtime::spawn_blocking(move || config::save_desktop_settings(&dir, &saved)).await??;
    if let Ok(mut s) = state.settings.lock() {
        *s = settings.clone();
    }
    state.update_status(app, |_| {});
    Ok(settings)
}
