//! What the window and the tray show about the app's health, as the UI receives it (its
//! TypeScript types are generated from these: ui/src/bindings).

use kanca_core::tunnel::TunnelStatus;
use kanca_core::{CredentialSource, WebhookForm};
use serde::Serialize;

/// The webhook listener's state, as the window and the tray show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ListenerState {
    #[default]
    Starting,
    Running,
    Failed,
    /// Not run: this computer is a desk of the office's receiver.
    Off,
}

#[derive(Debug, Clone, Serialize, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ListenerStatus {
    pub state: ListenerState,
    pub addr: Option<String>,
    pub error: Option<String>,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct NotificationStatus {
    pub available: bool,
    pub server: Option<String>,
    pub error: Option<String>,
}

/// What the window and the tray show about the app's health. No `Debug`: it holds the
/// password and the URL secret, and nothing should print it by accident.
#[derive(Clone, Serialize, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppStatus {
    pub listener: ListenerStatus,
    /// The basic-auth URL to paste into Bulutfon's panel: the public one while the tunnel is
    /// online.
    pub webhook_url: Option<String>,
    /// The listener's own basic-auth URL on this computer.
    pub local_webhook_url: Option<String>,
    /// Which form the guide, Settings and the tray's copy show.
    pub webhook_form: WebhookForm,
    /// The one-paste URL (`…/webhook/{secret}`) under the same base as `webhook_url`.
    pub secret_webhook_url: Option<String>,
    /// The one-paste URL on this computer.
    pub local_secret_webhook_url: Option<String>,
    /// Where the URL secret comes from ("environment": it cannot be rotated here).
    pub secret_source: CredentialSource,
    pub tunnel: TunnelStatus,
    /// Where the app writes its log files.
    pub log_dir: String,
    pub user: String,
    pub password: String,
    pub credential_source: CredentialSource,
    pub notifications: NotificationStatus,
    pub dnd: bool,
    pub data_dir: String,
    pub database_error: Option<String>,
    #[cfg_attr(test, ts(type = "string"))]
    pub version: &'static str,
    /// When the last event arrived (RFC 3339).
    pub last_event_at: Option<String>,
    /// Missed calls the user has not looked at yet: the tray and the window show them even
    /// when the notification server has dropped its notice.
    #[cfg_attr(test, ts(type = "number"))]
    pub missed_unseen: usize,
    /// The newest of them (a click on "1 missed call" opens it).
    pub missed_latest: Option<String>,
    /// The OS locale as Kanca reads it ("tr" unless clearly another language); the window
    /// follows it when no language is chosen, since WebKit's own guess is often English.
    #[cfg_attr(test, ts(type = "\"tr\" | \"en\""))]
    pub system_language: &'static str,
    /// The connection to Bulutfon's API (`Bağlı: ornekticaret`, a backfill's progress).
    pub api: kanca_core::bulutfon::ApiStatus,
    /// Office mode: a desk's connection to its receiver, or the receiver's client API.
    pub office: super::office::OfficeView,
}

impl AppStatus {
    /// The URL to paste into the panel in the chosen form (public while a tunnel is online).
    pub fn chosen_webhook_url(&self) -> Option<String> {
        match self.webhook_form {
            WebhookForm::UrlSecret => self.secret_webhook_url.clone(),
            WebhookForm::BasicAuth => self.webhook_url.clone(),
        }
    }
}

/// The TypeScript types of what the shell sends the window, generated into ui/src/bindings next
/// to the engine's. Regenerate with `KANCA_UPDATE_BINDINGS=1 cargo test -p kanca --features
/// desktop bindings`.
#[cfg(test)]
mod bindings {
    use std::path::{Path, PathBuf};
    use ts_rs::TS;

    fn export(dir: &Path) -> Vec<String> {
        let cfg = ts_rs::Config::new().with_out_dir(dir);
        super::AppStatus::export_all(&cfg).unwrap();
        super::super::commands::CommandError::export_all(&cfg).unwrap();
        super::super::bulutfon::BulutfonSettingsView::export_all(&cfg).unwrap();
        super::super::office::SharedChanged::export_all(&cfg).unwrap();
        [
            "AppStatus", "ListenerState", "ListenerStatus", "NotificationStatus", "CommandError", "ErrorCode", "ApiStatus", "ApiState", "Progress",
            "BulutfonSettingsView", "OfficeView", "OfficeRole", "ReceiverView", "ClientInfo", "DeskStatus", "DeskState", "SharedChanged",
        ]
            .iter()
            .map(|n| format!("{n}.ts"))
            .collect()
    }

    #[test]
    fn bindings_are_current() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
        if std::env::var_os("KANCA_UPDATE_BINDINGS").is_some() {
            export(&committed);
            return;
        }
        let fresh = tempfile::tempdir().unwrap();
        let ours = export(fresh.path());
        let stale: Vec<_> = ours
            .iter()
            .filter(|f| std::fs::read_to_string(fresh.path().join(f)).ok() != std::fs::read_to_string(committed.join(f)).ok())
            .collect();
        assert!(stale.is_empty(), "ui/src/bindings is stale: run KANCA_UPDATE_BINDINGS=1 cargo test -p kanca --features desktop bindings ({stale:?})");
    }
}
