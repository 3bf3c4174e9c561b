//! Settings that outlive a run: where data lives, where to listen, and the webhook's keys: the
//! basic-auth credentials and the secret of the one-paste URL (generated on first run, kept in
//! `config.toml` with mode 0600).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The listener's default address: loopback only, a tunnel forwards to it.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8497";
pub const CONFIG_FILE: &str = "config.toml";
pub const ENV_DATA_DIR: &str = "KANCA_DATA_DIR";
pub const ENV_LISTEN: &str = "KANCA_LISTEN";
pub const ENV_USER: &str = "KANCA_WEBHOOK_USER";
pub const ENV_PASSWORD: &str = "KANCA_WEBHOOK_PASSWORD";
pub const ENV_SECRET: &str = "KANCA_WEBHOOK_SECRET";
pub const WEBHOOK_PATH: &str = "/webhook";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no per-user data directory is known on this system; pass --data-dir")]
    NoDataDir,
    #[error("cannot read or write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot generate a password: {0}")]
    Random(String),
    #[error("KANCA_WEBHOOK_SECRET is not usable: {0}")]
    BadEnvSecret(&'static str),
}

/// The OS's per-user data directory for Kanca (`~/.local/share/kanca` on Linux).
pub fn default_data_dir() -> Result<PathBuf, ConfigError> {
    directories::ProjectDirs::from("com", "Kanca", "kanca")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or(ConfigError::NoDataDir)
}

/// Where the desktop app writes its logs: `KANCA_LOG_DIR`, else the OS's per-user place for
/// them (Linux: `$XDG_STATE_HOME/kanca/logs`, i.e. ~/.local/state/kanca/logs; macOS:
/// ~/Library/Logs/Kanca; Windows: %LOCALAPPDATA%\Kanca\kanca\logs).
pub fn log_dir() -> Result<PathBuf, ConfigError> {
    if let Some(d) = std::env::var_os("KANCA_LOG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    if cfg!(target_os = "macos") {
        if let Some(home) = directories::BaseDirs::new() {
            return Ok(home.home_dir().join("Library/Logs/Kanca"));
        }
    }
    let dirs = directories::ProjectDirs::from("com", "Kanca", "kanca").ok_or(ConfigError::NoDataDir)?;
    Ok(dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir()).join("logs"))
}

/// `--data-dir`, else `KANCA_DATA_DIR`, else the OS default.
pub fn resolve_data_dir(flag: Option<PathBuf>) -> Result<PathBuf, ConfigError> {
    if let Some(d) = flag {
        return Ok(d);
    }
    match std::env::var_os(ENV_DATA_DIR) {
        Some(d) if !d.is_empty() => Ok(PathBuf::from(d)),
        _ => default_data_dir(),
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    // Debug output ends up in logs and panic messages: never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password", &"<redacted>").finish()
    }
}

impl Credentials {
    pub fn generate() -> Result<Credentials, ConfigError> {
        Ok(Credentials { user: "bulutfon".into(), password: random_token(24)? })
    }

    /// The value of an `Authorization` header carrying these credentials.
    pub fn header_value(&self) -> String {
        let pair = format!("{}:{}", self.user, self.password);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }
}

/// The secret path segment of the one-paste webhook URL (`/webhook/{secret}`): whoever knows
/// the URL may post, as whoever knows the basic-auth pair may. 24 random bytes, 32 base64url
/// characters. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookSecret(String);

/// Fewer characters than this (22 base64url characters = 132 bits) is too guessable.
const MIN_SECRET_CHARS: usize = 22;
const MAX_SECRET_CHARS: usize = 128;

impl WebhookSecret {
    pub fn generate() -> Result<WebhookSecret, ConfigError> {
        Ok(WebhookSecret(random_token(24)?))
    }

    /// Checks a secret from the environment or the file: URL-safe (it is put into a URL as
    /// is) and long enough not to be guessed.
    pub fn parse(text: &str) -> Result<WebhookSecret, &'static str> {
        if text.len() < MIN_SECRET_CHARS {
            return Err("at least 22 characters are needed (Kanca makes 32)");
        }
        if text.len() > MAX_SECRET_CHARS {
            return Err("at most 128 characters");
        }
        if !text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err("only letters, digits, '-' and '_' may be used");
        }
        Ok(WebhookSecret(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this secret, in time that does not depend on where they differ
    /// (only on whether the lengths match, and every secret Kanca makes has the same length).
    pub fn matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(given).into()
    }
}

impl TryFrom<String> for WebhookSecret {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        WebhookSecret::parse(&s)
    }
}

impl From<WebhookSecret> for String {
    fn from(s: WebhookSecret) -> String {
        s.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Which URL form the guide, the settings, the tray's copy and the self-test use. The listener
/// accepts both at all times: switching what is shown never breaks what the panel already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum WebhookForm {
    /// One paste: `…/webhook/{secret}`, the panel's basic-auth fields left empty. The default
    /// for new installs (one value to copy instead of three, so no 401 from a mistyped pair).
    #[default]
    UrlSecret,
    /// Three pastes: `…/webhook` plus user and password in the panel's basic-auth fields.
    BasicAuth,
}

/// `[webhook]` in config.toml: the basic-auth pair, the URL secret and the form shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSection {
    #[serde(flatten)]
    pub credentials: Credentials,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<WebhookSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<WebhookForm>,
}

/// A URL-safe random string from `bytes` bytes of OS randomness (24 bytes: 192 bits).
pub fn random_token(bytes: usize) -> Result<String, ConfigError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ConfigError::Random(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// What `config.toml` holds. Unknown keys are kept out of the way by serde's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FileConfig {
    pub webhook: Option<WebhookSection>,
    pub listen: Option<String>,
    #[serde(default)]
    pub desktop: DesktopSettings,
    /// How Bulutfon reaches the listener (holds the ngrok authtoken: the file is 0600).
    #[serde(default)]
    pub tunnel: TunnelSettings,
    /// Bulutfon's REST API (holds the API token: the file is 0600).
    #[serde(default)]
    pub bulutfon: BulutfonSettings,
    /// Office mode (holds a desk's pairing code with its token: the file is 0600).
    #[serde(default)]
    pub office: OfficeSettings,
}

/// `[office]`: this computer as the office's receiver, or as a desk of one.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OfficeSettings {
    /// The desktop app also serves the office's desks (client API on `listen`).
    pub receiver: bool,
    /// Where the client API listens (default every interface, port 8498).
    pub listen: Option<String>,
    /// A desk: the pairing code of the receiver it follows (its token inside).
    pub join: Option<String>,
}

impl std::fmt::Debug for OfficeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficeSettings").field("receiver", &self.receiver).field("listen", &self.listen).field("join", &self.join.as_ref().map(|_| "<redacted>")).finish()
    }
}

/// Save the office settings, keeping everything else in the file.
pub fn save_office_settings(data_dir: &Path, settings: &OfficeSettings) -> Result<(), ConfigError> {
    let mut file = FileConfig::load(data_dir)?;
    file.office = settings.clone();
    file.save(data_dir)
}

/// `[bulutfon]`: the connection to Bulutfon's API (`bulutfon/`). The token never leaves the
/// engine: not to the logs, not to the window.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BulutfonSettings {
    /// The master API token (panel: Uygulamalar > API Uygulamaları).
    pub token: Option<String>,
    /// The account's name as `GET /me` gave it when the token was checked.
    pub account: Option<String>,
    /// The user's own extension: "Geri ara" rings it first.
    pub extension: Option<String>,
    /// Which of the account's numbers a call back shows (default: the first one Bulutfon lists).
    pub caller: Option<String>,
}

impl std::fmt::Debug for BulutfonSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulutfonSettings")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("account", &self.account)
            .field("extension", &self.extension)
            .field("caller", &self.caller)
            .finish()
    }
}

/// Save the Bulutfon settings, keeping everything else in the file.
pub fn save_bulutfon_settings(data_dir: &Path, settings: &BulutfonSettings) -> Result<(), ConfigError> {
    let mut file = FileConfig::load(data_dir)?;
    file.bulutfon = settings.clone();
    file.save(data_dir)
}

/// How Bulutfon reaches the listener (`[tunnel]`); `tunnel.rs` runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TunnelMode {
    #[default]
    Off,
    Ngrok,
    Cloudflared,
    OwnUrl,
}

/// The user's choice, kept in config.toml (`[tunnel]`, a file only the user can read).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct TunnelSettings {
    pub mode: TunnelMode,
    /// From dashboard.ngrok.com → Your Authtoken.
    pub ngrok_authtoken: Option<String>,
    /// The free static domain (e.g. `kanca-ofis.ngrok-free.app`); without it the URL changes.
    pub ngrok_domain: Option<String>,
    /// The cloudflared program; `cloudflared` on the PATH when empty.
    pub cloudflared_path: Option<String>,
    /// A public base URL the user already routes to the listener.
    pub own_url: Option<String>,
}

impl std::fmt::Debug for TunnelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunnelSettings")
            .field("mode", &self.mode)
            .field("ngrok_authtoken", &self.ngrok_authtoken.as_ref().map(|_| "<redacted>"))
            .field("ngrok_domain", &self.ngrok_domain)
            .field("cloudflared_path", &self.cloudflared_path)
            .field("own_url", &self.own_url)
            .finish()
    }
}

/// The desktop app's preferences, edited in its settings view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(default)]
pub struct DesktopSettings {
    /// "tr" or "en"; None follows the OS locale. (A string, so that a config.toml naming some
    /// other language still loads; the UI treats anything else as "follow the OS".)
    #[ts(type = "\"tr\" | \"en\" | null")]
    pub language: Option<String>,
    pub popup_events: crate::popup::PopupEvents,
    pub only_my_extensions: bool,
    pub my_extensions: Vec<String>,
    pub dnd: bool,
    pub autostart: bool,
    pub first_run_done: bool,
    /// "CRM'de aç": a web link with {number}, {e164}, {national}, {name} and {uuid}
    /// (`crate::crm`); None for no CRM.
    pub crm_url: Option<String>,
}

/// Save the tunnel settings, keeping everything else in the file.
pub fn save_tunnel_settings(data_dir: &Path, settings: &TunnelSettings) -> Result<(), ConfigError> {
    let mut file = FileConfig::load(data_dir)?;
    file.tunnel = settings.clone();
    file.save(data_dir)
}

/// Save the desktop settings, keeping everything else in the file.
pub fn save_desktop_settings(data_dir: &Path, settings: &DesktopSettings) -> Result<(), ConfigError> {
    let mut file = FileConfig::load(data_dir)?;
    file.desktop = settings.clone();
    file.save(data_dir)
}

impl FileConfig {
    pub fn load(data_dir: &Path) -> Result<FileConfig, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| ConfigError::Invalid { path, message: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
            Err(source) => Err(ConfigError::Io { path, source }),
        }
    }

    /// Write atomically with mode 0600: the file holds the webhook password.
    pub fn save(&self, data_dir: &Path) -> Result<(), ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let io = |source| ConfigError::Io { path: path.clone(), source };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let text = toml::to_string_pretty(self)
            .map_err(|e| ConfigError::Invalid { path: path.clone(), message: e.to_string() })?;
        let tmp = data_dir.join(format!(".{CONFIG_FILE}.{}.tmp", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(io)?;
        f.write_all(b"# Kanca settings. Keep this file private: it holds the webhook password and URL secret.\n")
            .and_then(|_| f.write_all(text.as_bytes()))
            .and_then(|_| f.sync_all())
            .map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(())
    }
}

/// Where credentials came from, for messages to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    Environment,
    ConfigFile,
    #[default]
    Generated,
}

/// Everything a webhook request is checked against, and which form the user is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookKeys {
    pub credentials: Credentials,
    pub credential_source: CredentialSource,
    pub secret: WebhookSecret,
    pub secret_source: CredentialSource,
    pub form: WebhookForm,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

/// The keys in force: the environment (`KANCA_WEBHOOK_USER`, `_PASSWORD`, `_SECRET`) overrides
/// the file; what neither has is generated and saved. A file from before the URL secret gets
/// one, and keeps showing basic auth: the panel was already set up with user and password.
pub fn webhook_keys(data_dir: &Path) -> Result<WebhookKeys, ConfigError> {
    let mut file = FileConfig::load(data_dir)?;
    let (section, source, changed) = match file.webhook.clone() {
        Some(mut w) => {
            let changed = w.secret.is_none();
            if changed {
                w.secret = Some(WebhookSecret::generate()?);
                w.form = w.form.or(Some(WebhookForm::BasicAuth));
            }
            (w, CredentialSource::ConfigFile, changed)
        }
        None => {
            let w = WebhookSection {
                credentials: Credentials::generate()?,
                secret: Some(WebhookSecret::generate()?),
                form: Some(WebhookForm::UrlSecret),
            };
            (w, CredentialSource::Generated, true)
        }
    };
    // With all three set in the environment the file is not needed: leave it alone.
    let all_from_env = [ENV_USER, ENV_PASSWORD, ENV_SECRET].iter().all(|v| env_var(v).is_some());
    if changed && !all_from_env {
        file.webhook = Some(section.clone());
        file.save(data_dir)?;
    }
    with_environment(section, source)
}

/// The keys as the file has them now, with the environment applied, without generating or
/// writing anything: how a running listener follows changes made by another process. None
/// when the file has no keys (deleted or emptied by hand): the running ones stay in force.
pub fn read_webhook_keys(data_dir: &Path) -> Result<Option<WebhookKeys>, ConfigError> {
    match FileConfig::load(data_dir)?.webhook {
        Some(w) if w.secret.is_some() || env_var(ENV_SECRET).is_some() => with_environment(w, CredentialSource::ConfigFile).map(Some),
        _ => Ok(None),
    }
}

fn with_environment(section: WebhookSection, file_source: CredentialSource) -> Result<WebhookKeys, ConfigError> {
    let mut credentials = section.credentials;
    let mut credential_source = file_source;
    // Either one set in the environment wins over the file.
    if let Some(u) = env_var(ENV_USER) {
        credentials.user = u;
        credential_source = CredentialSource::Environment;
    }
    if let Some(p) = env_var(ENV_PASSWORD) {
        credentials.password = p;
        credential_source = CredentialSource::Environment;
    }
    let (secret, secret_source) = match env_var(ENV_SECRET) {
        Some(text) => (WebhookSecret::parse(&text).map_err(ConfigError::BadEnvSecret)?, CredentialSource::Environment),
        None => match section.secret {
            Some(s) => (s, file_source),
            // Only reachable when the caller did not generate one; make a fresh one rather
            // than accept an empty secret.
            None => (WebhookSecret::generate()?, CredentialSource::Generated),
        },
    };
    Ok(WebhookKeys { credentials, credential_source, secret, secret_source, form: section.form.unwrap_or_default() })
}

/// Change the `[webhook]` section, creating the keys first when there are none yet.
fn update_webhook_section(data_dir: &Path, change: impl FnOnce(&mut WebhookSection) -> Result<(), ConfigError>) -> Result<(), ConfigError> {
    webhook_keys(data_dir)?;
    let mut file = FileConfig::load(data_dir)?;
    let mut section = match file.webhook.take() {
        Some(w) => w,
        // All keys come from the environment and the file has none: start a section.
        None => WebhookSection { credentials: Credentials::generate()?, secret: Some(WebhookSecret::generate()?), form: None },
    };
    change(&mut section)?;
    file.webhook = Some(section);
    file.save(data_dir)
}

/// Replace the stored password with a new random one (the URL secret and form stay).
pub fn regenerate_credentials(data_dir: &Path) -> Result<Credentials, ConfigError> {
    let fresh = Credentials::generate()?;
    let kept = fresh.clone();
    update_webhook_section(data_dir, move |w| {
        w.credentials = kept;
        Ok(())
    })?;
    Ok(fresh)
}

/// Replace the stored URL secret with a new random one: the old URL stops working as soon as
/// the listener sees the file (on its next request).
pub fn rotate_secret(data_dir: &Path) -> Result<WebhookSecret, ConfigError> {
    let fresh = WebhookSecret::generate()?;
    let kept = fresh.clone();
    update_webhook_section(data_dir, move |w| {
        w.secret = Some(kept);
        Ok(())
    })?;
    Ok(fresh)
}

/// Save which form the guide, settings and tray show.
pub fn save_webhook_form(data_dir: &Path, form: WebhookForm) -> Result<(), ConfigError> {
    update_webhook_section(data_dir, |w| {
        w.form = Some(form);
        Ok(())
    })
}

/// `--listen`, else `KANCA_LISTEN`, else `listen` in the config file, else the default.
pub fn resolve_listen(flag: Option<String>, data_dir: &Path) -> Result<SocketAddr, ConfigError> {
    let (text, origin) = match (flag, std::env::var(ENV_LISTEN).ok().filter(|s| !s.is_empty())) {
        (Some(f), _) => (f, "--listen".to_string()),
        (None, Some(e)) => (e, ENV_LISTEN.to_string()),
        (None, None) => match FileConfig::load(data_dir)?.listen {
            Some(l) => (l, data_dir.join(CONFIG_FILE).display().to_string()),
            None => (DEFAULT_LISTEN.to_string(), "default".into()),
        },
    };
    text.parse().map_err(|_| ConfigError::Invalid {
        path: PathBuf::from(origin),
        message: format!("{text:?} is not an address like 127.0.0.1:8497"),
    })
}

/// The URL Bulutfon should post to when it can reach `addr` directly.
pub fn webhook_url(addr: SocketAddr) -> String {
    format!("{}{WEBHOOK_PATH}", local_base_url(addr))
}

/// The listener's own base URL (no path), as a tunnel's public base URL is.
pub fn local_base_url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

/// The one-paste URL under a base URL (public or local): `{base}/webhook/{secret}`.
pub fn secret_webhook_url(base: &str, secret: &WebhookSecret) -> String {
    format!("{}{WEBHOOK_PATH}/{}", base.trim_end_matches('/'), secret.as_str())
}

/// The URL for the chosen form under a base URL.
pub fn chosen_webhook_url(base: &str, keys: &WebhookKeys) -> String {
    match keys.form {
        WebhookForm::UrlSecret => secret_webhook_url(base, &keys.secret),
        WebhookForm::BasicAuth => format!("{}{WEBHOOK_PATH}", base.trim_end_matches('/')),
    }
}

/// `text` with the secret replaced, for terminals and logs.
pub fn redact_secret(text: &str, secret: &WebhookSecret) -> String {
    text.replace(secret.as_str(), "<secret>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_run_generates_and_keeps_credentials_private() {
        let dir = tempfile::tempdir().unwrap();
        let file = FileConfig::load(dir.path()).unwrap();
        assert_eq!(file, FileConfig::default());
        let c = Credentials::generate().unwrap();
        assert!(c.password.len() >= 32, "{}", c.password);
        assert_ne!(c.password, Credentials::generate().unwrap().password);
        let section = WebhookSection { credentials: c, secret: Some(WebhookSecret::generate().unwrap()), form: None };
        FileConfig { webhook: Some(section.clone()), ..Default::default() }.save(dir.path()).unwrap();
        let back = FileConfig::load(dir.path()).unwrap();
        assert_eq!(back.webhook, Some(section));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(CONFIG_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn broken_config_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "webhook = [").unwrap();
        let err = FileConfig::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("config.toml is not valid"), "{err}");
    }

    #[test]
    fn header_value_is_basic_auth() {
        let c = Credentials { user: "u".into(), password: "p".into() };
        assert_eq!(c.header_value(), "Basic dTpw");
    }

    // These read no KANCA_* variable the tests set: the environment is the process's, shared
    // by the tests running in parallel, so the override rules are tested by the black-box tests.

    #[test]
    fn a_fresh_install_gets_a_long_url_safe_secret_and_the_one_paste_form() {
        let dir = tempfile::tempdir().unwrap();
        let keys = webhook_keys(dir.path()).unwrap();
        assert_eq!(keys.form, WebhookForm::UrlSecret);
        assert_eq!(keys.secret_source, CredentialSource::Generated);
        let s = keys.secret.as_str();
        assert_eq!(s.len(), 32, "{s}");
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{s}");
        // Saved: the next start uses the same keys.
        let again = webhook_keys(dir.path()).unwrap();
        assert_eq!(again.secret, keys.secret);
        assert_eq!(again.credentials, keys.credentials);
        assert_eq!(again.secret_source, CredentialSource::ConfigFile);
        let text = std::fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap();
        assert!(text.contains(&format!("secret = \"{s}\"")), "{text}");
        assert!(text.contains("form = \"url_secret\""), "{text}");
    }

    #[test]
    fn an_install_from_before_the_secret_keeps_showing_basic_auth() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "[webhook]\nuser = \"bulutfon\"\npassword = \"old-password\"\n").unwrap();
        let keys = webhook_keys(dir.path()).unwrap();
        assert_eq!(keys.form, WebhookForm::BasicAuth);
        assert_eq!(keys.credentials.password, "old-password");
        assert_eq!(webhook_keys(dir.path()).unwrap().secret, keys.secret);
    }

    #[test]
    fn rotation_and_a_new_password_change_only_their_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let before = webhook_keys(dir.path()).unwrap();
        let rotated = rotate_secret(dir.path()).unwrap();
        let after = read_webhook_keys(dir.path()).unwrap().unwrap();
        assert_ne!(rotated, before.secret);
        assert_eq!(after.secret, rotated);
        assert_eq!(after.credentials, before.credentials);
        regenerate_credentials(dir.path()).unwrap();
        save_webhook_form(dir.path(), WebhookForm::BasicAuth).unwrap();
        let last = read_webhook_keys(dir.path()).unwrap().unwrap();
        assert_eq!(last.secret, rotated);
        assert_ne!(last.credentials.password, before.credentials.password);
        assert_eq!(last.form, WebhookForm::BasicAuth);
    }

    #[test]
    fn weak_or_unsafe_secrets_are_refused() {
        assert!(WebhookSecret::parse("short").is_err());
        assert!(WebhookSecret::parse(&"a/b".repeat(10)).is_err());
        assert!(WebhookSecret::parse(&"x".repeat(200)).is_err());
        assert!(WebhookSecret::parse("abcdefghijklmnopqrstuvwxyz_-0123").is_ok());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "[webhook]\nuser = \"u\"\npassword = \"p\"\nsecret = \"guessable\"\n").unwrap();
        let err = FileConfig::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("at least 22 characters"), "{err}");
    }

    #[test]
    fn debug_output_never_shows_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let keys = webhook_keys(dir.path()).unwrap();
        let file = FileConfig::load(dir.path()).unwrap();
        for text in [format!("{keys:?}"), format!("{file:?}")] {
            assert!(!text.contains(keys.secret.as_str()), "{text}");
            assert!(!text.contains(&keys.credentials.password), "{text}");
        }
    }

    #[test]
    fn urls_for_each_form() {
        let secret = WebhookSecret::parse("abcdefghijklmnopqrstuvwxyz_-0123").unwrap();
        let mut keys = WebhookKeys {
            credentials: Credentials { user: "u".into(), password: "p".into() },
            credential_source: CredentialSource::ConfigFile,
            secret: secret.clone(),
            secret_source: CredentialSource::ConfigFile,
            form: WebhookForm::UrlSecret,
        };
        assert_eq!(chosen_webhook_url("https://k.example/", &keys), "https://k.example/webhook/abcdefghijklmnopqrstuvwxyz_-0123");
        keys.form = WebhookForm::BasicAuth;
        assert_eq!(chosen_webhook_url("https://k.example", &keys), "https://k.example/webhook");
        assert_eq!(redact_secret("posted to /webhook/abcdefghijklmnopqrstuvwxyz_-0123", &secret), "posted to /webhook/<secret>");
    }
}
