//! Settings that outlive a run: where data lives, where to listen, and the webhook's basic-auth
//! credentials (generated on first run, kept in `config.toml` with mode 0600).

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub user: String,
    pub password: String,
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

/// A URL-safe random string from `bytes` bytes of OS randomness (24 bytes: 192 bits).
pub fn random_token(bytes: usize) -> Result<String, ConfigError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ConfigError::Random(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// What `config.toml` holds. Unknown keys are kept out of the way by serde's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FileConfig {
    pub webhook: Option<Credentials>,
    pub listen: Option<String>,
    #[serde(default)]
    pub desktop: DesktopSettings,
    /// How Bulutfon reaches the listener (holds the ngrok authtoken: the file is 0600).
    #[serde(default)]
    pub tunnel: crate::tunnel::TunnelSettings,
}

/// The desktop app's preferences, edited in its settings view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(default)]
pub struct DesktopSettings {
    /// "tr" or "en"; None follows the OS locale.
    pub language: Option<String>,
    pub popup_events: crate::popup::PopupEvents,
    pub only_my_extensions: bool,
    pub my_extensions: Vec<String>,
    pub dnd: bool,
    pub autostart: bool,
    pub first_run_done: bool,
}

/// Save the tunnel settings, keeping everything else in the file.
pub fn save_tunnel_settings(data_dir: &Path, settings: &crate::tunnel::TunnelSettings) -> Result<(), ConfigError> {
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
        f.write_all(b"# Kanca settings. Keep this file private: it holds the webhook password.\n")
            .and_then(|_| f.write_all(text.as_bytes()))
            .and_then(|_| f.sync_all())
            .map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(())
    }
}

/// Where credentials came from, for messages to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    Environment,
    ConfigFile,
    Generated,
}

/// The webhook credentials in force: the environment overrides the file; without either,
/// a new pair is generated and saved.
pub fn webhook_credentials(data_dir: &Path) -> Result<(Credentials, CredentialSource), ConfigError> {
    let env_user = std::env::var(ENV_USER).ok().filter(|s| !s.is_empty());
    let env_pass = std::env::var(ENV_PASSWORD).ok().filter(|s| !s.is_empty());
    let mut file = FileConfig::load(data_dir)?;
    if let (Some(user), Some(password)) = (env_user.clone(), env_pass.clone()) {
        return Ok((Credentials { user, password }, CredentialSource::Environment));
    }
    let (mut creds, source) = match file.webhook.clone() {
        Some(c) => (c, CredentialSource::ConfigFile),
        None => {
            let c = Credentials::generate()?;
            file.webhook = Some(c.clone());
            file.save(data_dir)?;
            (c, CredentialSource::Generated)
        }
    };
    // One of the two set in the environment still wins over the file.
    let mut source = source;
    if let Some(u) = env_user {
        creds.user = u;
        source = CredentialSource::Environment;
    }
    if let Some(p) = env_pass {
        creds.password = p;
        source = CredentialSource::Environment;
    }
    Ok((creds, source))
}

/// Replace the stored credentials with a new random pair.
pub fn regenerate_credentials(data_dir: &Path) -> Result<Credentials, ConfigError> {
    let mut file = FileConfig::load(data_dir)?;
    let creds = Credentials::generate()?;
    file.webhook = Some(creds.clone());
    file.save(data_dir)?;
    Ok(creds)
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
    format!("http://{addr}{WEBHOOK_PATH}")
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
        FileConfig { webhook: Some(c.clone()), ..Default::default() }.save(dir.path()).unwrap();
        let back = FileConfig::load(dir.path()).unwrap();
        assert_eq!(back.webhook, Some(c));
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
}
