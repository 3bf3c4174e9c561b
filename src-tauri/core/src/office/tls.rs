//! The receiver's certificate: self-signed (rcgen), made on first use and kept in the data
//! directory (`office/cert.pem`, `office/key.pem`, the key readable by its owner only). Desks
//! do not trust it by name but by its SHA-256 fingerprint, which the pairing code carries.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio_rustls::rustls;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read or write the office certificate in {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot make the office certificate: {0}")]
    Make(String),
    #[error("the office certificate in {0} is unreadable; delete the folder to make a new one (desks must then be paired again)")]
    Bad(PathBuf),
}

/// The certificate and key a receiver serves with.
pub struct Identity {
    pub cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl Identity {
    /// An identity kept elsewhere (the PostgreSQL database receivers share).
    pub fn from_der(cert_der: Vec<u8>, key_der: Vec<u8>) -> Identity {
        Identity { cert_der, key_der }
    }

    /// The private key, DER: only to keep it where other receivers of one office find it.
    pub(crate) fn key_der(&self) -> &[u8] {
        &self.key_der
    }

    /// The certificate's SHA-256 fingerprint, lower-case hex: what a desk pins.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert_der)
    }

    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        crate::tunnel::install_tls_provider();
        let cert = rustls::pki_types::CertificateDer::from(self.cert_der.clone());
        let key = rustls::pki_types::PrivateKeyDer::try_from(self.key_der.clone()).map_err(|e| TlsError::Make(e.to_string()))?;
        let config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(vec![cert], key).map_err(|e| TlsError::Make(e.to_string()))?;
        Ok(Arc::new(config))
    }
}

/// SHA-256 of a DER certificate, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
}

/// The receiver's identity in `data_dir`, made on first use.
pub fn load_or_create(data_dir: &Path) -> Result<Identity, TlsError> {
    let dir = data_dir.join("office");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Io { path, source }
    };
    if cert_path.exists() && key_path.exists() {
        let cert_pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
        let key_pem = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
        let cert_der = pem_body(&cert_pem, "CERTIFICATE").ok_or_else(|| TlsError::Bad(dir.clone()))?;
        let key_der = pem_body(&key_pem, "PRIVATE KEY").ok_or_else(|| TlsError::Bad(dir.clone()))?;
        return Ok(Identity { cert_der, key_der });
    }
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let names = vec!["kanca-office".to_owned(), "localhost".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Make(e.to_string()))?;
    let key_pem = made.signing_key.serialize_pem();
    write_private(&key_path, key_pem.as_bytes()).map_err(io(&key_path))?;
    std::fs::write(&cert_path, made.cert.pem()).map_err(io(&cert_path))?;
    Ok(Identity { cert_der: made.cert.der().to_vec(), key_der: made.signing_key.serialize_der() })
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(bytes)
}

/// The bytes of the first PEM block labelled `label` ("PRIVATE KEY" matches any key label).
fn pem_body(pem: &str, label: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let mut inside = false;
    let mut body = String::new();
    for line in pem.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN ") && line.contains(label) {
            inside = true;
        } else if line.starts_with("-----END ") && inside {
            return base64::engine::general_purpose::STANDARD.decode(body).ok();
        } else if inside {
            body.push_str(line);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
        assert_eq!(first.fingerprint().len(), 64);
        first.server_config().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("office/key.pem")).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
