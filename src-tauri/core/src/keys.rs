//! The webhook keys a running listener checks requests against, kept in step with `config.toml`.
//!
//! Keys change in two ways: through this process (Settings, [`LiveKeys::rotate_secret`]), or
//! through another one (`kanca credentials --rotate-secret` beside a running `kanca serve`).
//! Either way a rotated secret must stop working at once, so each request first compares the
//! file's identity (inode, size, modification time: one `stat`) with the one the keys were read
//! from, and reads the file again only when it changed. Kanca always replaces the file by
//! renaming a new one over it, so a change is always a new inode. A file that cannot be read
//! keeps the keys in force: a half-edited file must not lock Bulutfon out.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::config::{self, ConfigError, CredentialSource, Credentials, WebhookForm, WebhookKeys, WebhookSecret};

/// What identifies one version of the file; `None` when there is no file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (meta.dev(), meta.ino())
            },
        })
    }
}

struct Loaded {
    keys: Arc<WebhookKeys>,
    stamp: Option<Stamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the webhook credentials come from KANCA_WEBHOOK_USER / KANCA_WEBHOOK_PASSWORD; change them there")]
    CredentialsFromEnvironment,
    #[error("the webhook URL secret comes from KANCA_WEBHOOK_SECRET; change it there")]
    SecretFromEnvironment,
}

/// The keys in force for one data directory, shared by the listener and the shell.
pub struct LiveKeys {
    path: PathBuf,
    data_dir: PathBuf,
    loaded: RwLock<Loaded>,
}

impl std::fmt::Debug for LiveKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveKeys").field("path", &self.path).finish_non_exhaustive()
    }
}

impl LiveKeys {
    /// Load the keys, generating and saving what is missing (first run).
    pub fn open(data_dir: &Path) -> Result<LiveKeys, ConfigError> {
        let path = data_dir.join(config::CONFIG_FILE);
        // Stamp first: a change made between the two (including our own first save) is then
        // read again on the first request rather than missed.
        let stamp = Stamp::of(&path);
        let keys = config::webhook_keys(data_dir)?;
        Ok(LiveKeys { path, data_dir: data_dir.to_owned(), loaded: RwLock::new(Loaded { keys: Arc::new(keys), stamp }) })
    }

    /// The keys in force now, re-read when `config.toml` changed since they were read.
    pub fn current(&self) -> Arc<WebhookKeys> {
        let stamp = Stamp::of(&self.path);
        {
            let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
            if loaded.stamp == stamp {
                return loaded.keys.clone();
            }
        }
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        if loaded.stamp != stamp {
            match config::read_webhook_keys(&self.data_dir) {
                Ok(Some(keys)) => {
                    if keys.secret != loaded.keys.secret {
                        tracing::info!("config.toml changed: a new webhook URL secret is in force");
                    }
                    loaded.keys = Arc::new(keys);
                }
                Ok(None) => tracing::warn!("config.toml has no webhook keys any more; the ones in force stay"),
                Err(e) => tracing::warn!("config.toml changed but cannot be used, the webhook keys in force stay: {e}"),
            }
            // Remember this version either way, so a broken file is not re-read on every request.
            loaded.stamp = stamp;
        }
        loaded.keys.clone()
    }

    /// The basic-auth pair in force.
    pub fn credentials(&self) -> Credentials {
        self.current().credentials.clone()
    }

    /// A new random URL secret, saved and in force before this returns.
    pub fn rotate_secret(&self) -> Result<Arc<WebhookKeys>, KeysError> {
        if self.current().secret_source == CredentialSource::Environment {
            return Err(KeysError::SecretFromEnvironment);
        }
        self.write(|dir| config::rotate_secret(dir).map(drop))
    }

    /// A new random password, saved and in force before this returns.
    pub fn regenerate_password(&self) -> Result<Arc<WebhookKeys>, KeysError> {
        if self.current().credential_source == CredentialSource::Environment {
            return Err(KeysError::CredentialsFromEnvironment);
        }
        self.write(|dir| config::regenerate_credentials(dir).map(drop))
    }

    /// Save which form the user is shown.
    pub fn set_form(&self, form: WebhookForm) -> Result<Arc<WebhookKeys>, KeysError> {
        self.write(|dir| config::save_webhook_form(dir, form))
    }

    /// Change the file and take its keys at once, under the write lock so no request checks
    /// against the old keys after this returns.
    fn write(&self, change: impl FnOnce(&Path) -> Result<(), ConfigError>) -> Result<Arc<WebhookKeys>, KeysError> {
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        change(&self.data_dir)?;
        let stamp = Stamp::of(&self.path);
        let keys = config::read_webhook_keys(&self.data_dir)?.map(Arc::new).unwrap_or_else(|| loaded.keys.clone());
        *loaded = Loaded { keys: keys.clone(), stamp };
        Ok(keys)
    }

    /// Is `given` the URL secret in force? Constant time in the secret's content.
    pub fn secret_matches(&self, given: &[u8]) -> bool {
        self.current().secret.matches(given)
    }

    /// The secret in force (to build the URL shown to the user).
    pub fn secret(&self) -> WebhookSecret {
        self.current().secret.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_by_another_process_is_seen_on_the_next_check() {
        let dir = tempfile::tempdir().unwrap();
        let live = LiveKeys::open(dir.path()).unwrap();
        let old = live.secret();
        // What `kanca credentials --rotate-secret` does from another process: write the file.
        let new = config::rotate_secret(dir.path()).unwrap();
        assert!(!live.secret_matches(old.as_str().as_bytes()));
        assert!(live.secret_matches(new.as_str().as_bytes()));
    }

    #[test]
    fn an_unreadable_file_keeps_the_keys_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let live = LiveKeys::open(dir.path()).unwrap();
        let before = live.current();
        std::fs::write(dir.path().join(config::CONFIG_FILE), "[webhook\n").unwrap();
        assert_eq!(*live.current(), *before);
        std::fs::remove_file(dir.path().join(config::CONFIG_FILE)).unwrap();
        assert_eq!(*live.current(), *before);
    }

    #[test]
    fn rotation_here_is_in_force_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let live = LiveKeys::open(dir.path()).unwrap();
        let old = live.secret();
        let keys = live.rotate_secret().unwrap();
        assert_ne!(keys.secret, old);
        assert!(!live.secret_matches(old.as_str().as_bytes()));
        assert_eq!(LiveKeys::open(dir.path()).unwrap().secret(), keys.secret, "saved");
        let pw = live.credentials().password;
        live.regenerate_password().unwrap();
        assert_ne!(live.credentials().password, pw);
        assert_eq!(live.secret(), keys.secret);
    }
}
