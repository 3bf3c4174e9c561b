//! Paired desks: each has a name and its own token, kept on the receiver only as a SHA-256 hash
//! (tokens are 32 random bytes, so a plain hash is enough). A pairing code carries what a desk
//! needs to reach and trust the receiver: its address, its certificate's fingerprint and the
//! token, as `KANCA1-` and base64url JSON, to paste in one piece.

use base64::Engine as _;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::StoreError;
use crate::time::now_us;

/// What a pairing code starts with.
pub const CODE_PREFIX: &str = "KANCA1-";

#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a desk named {0:?} is already paired; revoke it first or choose another name")]
    Exists(String),
    #[error("no paired desk named {0:?}")]
    NotFound(String),
    #[error("a desk's name is one line of at most 64 characters")]
    BadName,
    #[error("that is not a Kanca pairing code")]
    BadCode,
    #[error(transparent)]
    Random(#[from] crate::config::ConfigError),
}

impl From<rusqlite::Error> for ClientsError {
    fn from(e: rusqlite::Error) -> Self {
        ClientsError::Store(e.into())
    }
}

/// What a pairing code says.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pairing {
    /// `host:port` of the receiver's client API.
    pub addr: String,
    /// Other receivers serving the same office (a PostgreSQL history), tried when `addr` cannot
    /// be reached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// SHA-256 of its certificate, hex.
    pub fp: String,
    pub token: String,
    /// The desk's name as the receiver knows it.
    pub name: String,
}

impl std::fmt::Debug for Pairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pairing").field("addr", &self.addr).field("also", &self.also).field("fp", &self.fp).field("token", &"<redacted>").field("name", &self.name).finish()
    }
}

impl Pairing {
    pub fn code(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{CODE_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
    }

    pub fn parse(code: &str) -> Result<Pairing, ClientsError> {
        let body: String = code.trim().strip_prefix(CODE_PREFIX).ok_or(ClientsError::BadCode)?.split_whitespace().collect();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).map_err(|_| ClientsError::BadCode)?;
        let p: Pairing = serde_json::from_slice(&json).map_err(|_| ClientsError::BadCode)?;
        let ok = p.fp.len() == 64 && p.fp.chars().all(|c| c.is_ascii_hexdigit()) && !p.token.is_empty() && !p.addr.is_empty();
        ok.then_some(p).ok_or(ClientsError::BadCode)
    }
}

/// A paired desk as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ClientInfo {
    pub name: String,
    pub paired_at: Option<String>,
    pub last_seen: Option<String>,
    pub revoked: bool,
}

pub(crate) fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Pair a new desk: its token (to put in the pairing code; not kept in the clear).
pub fn add(conn: &Connection, name: &str) -> Result<String, ClientsError> {
    let name = check_name(name)?;
    let live: Option<i64> = conn
        .query_row("SELECT 1 FROM office_clients WHERE name = ?1 AND revoked_at_us IS NULL", [name], |r| r.get(0))
        .optional()?;
    if live.is_some() {
        return Err(ClientsError::Exists(name.to_owned()));
    }
    let token = crate::config::random_token(32)?;
    conn.execute(
        "INSERT INTO office_clients (name, token_hash, paired_at_us) VALUES (?1, ?2, ?3)",
        params![name, hash(&token), now_us()],
    )?;
    Ok(token)
}

/// A desk's name trimmed: one line of at most 64 characters.
pub fn check_name(name: &str) -> Result<&str, ClientsError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ClientsError::BadName);
    }
    Ok(name)
}

/// A desk a token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desk {
    pub id: i64,
    pub name: String,
    pub last_seen_us: Option<i64>,
}

/// The desk a bearer token belongs to, if it is paired and not revoked (a read only).
pub fn authenticate(conn: &Connection, token: &str) -> Result<Option<Desk>, ClientsError> {
    Ok(conn
        .prepare_cached("SELECT id, name, last_seen_us FROM office_clients WHERE token_hash = ?1 AND revoked_at_us IS NULL")?
        .query_row([hash(token)], |r| Ok(Desk { id: r.get(0)?, name: r.get(1)?, last_seen_us: r.get(2)? }))
        .optional()?)
}

/// Note that a desk was just heard from.
pub fn mark_seen(conn: &Connection, id: i64) -> Result<(), ClientsError> {
    conn.execute("UPDATE office_clients SET last_seen_us = ?2 WHERE id = ?1", params![id, now_us()])?;
    Ok(())
}

pub fn revoke(conn: &Connection, name: &str) -> Result<(), ClientsError> {
    let n = conn.execute("UPDATE office_clients SET revoked_at_us = ?2 WHERE name = ?1 AND revoked_at_us IS NULL", params![name.trim(), now_us()])?;
    if n == 0 {
        return Err(ClientsError::NotFound(name.trim().to_owned()));
    }
    Ok(())
}

pub fn list(conn: &Connection) -> Result<Vec<ClientInfo>, ClientsError> {
    let mut stmt = conn.prepare("SELECT name, paired_at_us, last_seen_us, revoked_at_us IS NOT NULL FROM office_clients ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        let time = |v: Option<i64>| v.and_then(crate::time::micros_to_rfc3339);
        Ok(ClientInfo { name: r.get(0)?, paired_at: time(r.get(1)?), last_seen: time(r.get(2)?), revoked: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_desk_is_paired_authenticated_and_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("kanca.db")).unwrap();
        let token = add(&conn, "Resepsiyon").unwrap();
        assert!(matches!(add(&conn, "Resepsiyon"), Err(ClientsError::Exists(_))));
        let desk = authenticate(&conn, &token).unwrap().unwrap();
        assert_eq!((desk.name.as_str(), desk.last_seen_us), ("Resepsiyon", None));
        mark_seen(&conn, desk.id).unwrap();
        assert!(authenticate(&conn, &token).unwrap().unwrap().last_seen_us.is_some());
        assert_eq!(authenticate(&conn, "wrong").unwrap(), None);
        let stored: String = conn.query_row("SELECT token_hash FROM office_clients", [], |r| r.get(0)).unwrap();
        assert_ne!(stored, token, "only the hash is kept");
        revoke(&conn, "Resepsiyon").unwrap();
        assert_eq!(authenticate(&conn, &token).unwrap(), None);
        assert!(list(&conn).unwrap()[0].revoked);
        // The name is free again.
        add(&conn, "Resepsiyon").unwrap();
        assert!(matches!(add(&conn, "a\nb"), Err(ClientsError::BadName)));
    }

    #[test]
    fn a_pairing_code_round_trips_and_refuses_garbage() {
        let p = Pairing { addr: "192.168.1.20:8498".into(), also: vec!["192.168.1.21:8498".into()], fp: "ab".repeat(32), token: "t0k3n".into(), name: "Muhasebe".into() };
        let code = p.code();
        assert!(code.starts_with(CODE_PREFIX));
        assert_eq!(Pairing::parse(&format!("  {code}\n")).unwrap(), p);
        for bad in ["", "KANCA1-", "KANCA1-!!!", "hello", &code.replace("KANCA1-", "KANCA2-")] {
            assert!(Pairing::parse(bad).is_err(), "{bad:?}");
        }
    }
}
