//! Names of the account's menus, groups, extensions and phone numbers: Bulutfon's (synced from
//! its API, `bulutfon::sync_names`) and the user's own, which win. A call read from the store
//! gets them on its route steps ("Grup 101 · Teknik Destek") and, for a call that came in on one
//! of the account's numbers, that number's name as the callee's.

use std::collections::HashMap;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::call::{Call, Direction};
use crate::store::StoreError;
use crate::webhook::RouteType;

/// What a name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum NameKind {
    Menu,
    Group,
    Extension,
    /// One of the account's own phone numbers.
    Did,
}

impl NameKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Menu => "menu",
            NameKind::Group => "group",
            NameKind::Extension => "extension",
            NameKind::Did => "did",
        }
    }

    pub fn parse(s: &str) -> Option<NameKind> {
        [NameKind::Menu, NameKind::Group, NameKind::Extension, NameKind::Did].into_iter().find(|k| k.as_str() == s)
    }

    fn of_route(t: RouteType) -> NameKind {
        match t {
            RouteType::Menu => NameKind::Menu,
            RouteType::Group => NameKind::Group,
            RouteType::Extension => NameKind::Extension,
        }
    }
}

/// What undoes migrations 9 to 11 (the tests of older databases' upgrades start from one).
#[cfg(test)]
pub const UNDO_MIGRATION: &str = "ALTER TABLE projection DROP COLUMN through_inbox; DROP TABLE office_clients; ALTER TABLE calls DROP COLUMN sources; DROP TABLE pbx_names; DROP TABLE api_state;";

pub const SOURCE_BULUTFON: &str = "bulutfon";
pub const SOURCE_LOCAL: &str = "local";

/// One named thing with both its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct NameEntry {
    pub kind: NameKind,
    pub number: String,
    /// Bulutfon's name (empty for a number Bulutfon lists without one).
    pub bulutfon: Option<String>,
    pub local: Option<String>,
}

impl NameEntry {
    /// The name shown: the user's, else Bulutfon's.
    pub fn shown(&self) -> Option<&str> {
        self.local.as_deref().or(self.bulutfon.as_deref()).filter(|n| !n.is_empty())
    }
}

/// The key a number is kept under: digits only, a Turkish number as 90…, so "0 850 885 00 00",
/// "+908508850000" and "8508850000" meet. Short numbers (menus, groups, extensions) as they are.
pub fn number_key(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() <= 6 {
        return digits;
    }
    match crate::phone::normalize(number).e164 {
        Some(e164) => e164.trim_start_matches('+').to_owned(),
        None => digits,
    }
}

/// Replace Bulutfon's names of `kind` with `entries` (number, name), in one transaction: a
/// number Bulutfon no longer lists loses its Bulutfon name (a local one stays).
pub fn replace_bulutfon(conn: &mut Connection, kind: NameKind, entries: &[(String, String)]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM pbx_names WHERE kind = ?1 AND source = ?2", params![kind.as_str(), SOURCE_BULUTFON])?;
    {
        let mut insert = tx.prepare("INSERT OR REPLACE INTO pbx_names (kind, number, source, name) VALUES (?1, ?2, ?3, ?4)")?;
        for (number, name) in entries {
            let key = number_key(number);
            if !key.is_empty() {
                insert.execute(params![kind.as_str(), key, SOURCE_BULUTFON, clean(name)])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// The user's own name for a menu, group, extension or number; None or blank removes it.
pub fn set_local(conn: &Connection, kind: NameKind, number: &str, name: Option<&str>) -> Result<(), StoreError> {
    let (key, name) = local_name(number, name)?;
    match name {
        Some(name) => conn.execute(
            "INSERT OR REPLACE INTO pbx_names (kind, number, source, name) VALUES (?1, ?2, ?3, ?4)",
            params![kind.as_str(), key, SOURCE_LOCAL, name],
        )?,
        None => conn.execute(
            "DELETE FROM pbx_names WHERE kind = ?1 AND number = ?2 AND source = ?3",
            params![kind.as_str(), key, SOURCE_LOCAL],
        )?,
    };
    Ok(())
}

/// Make the names those of `entries` (both sources), in one transaction: an office desk
/// mirrors its receiver's names.
pub fn replace_all(conn: &mut Connection, entries: &[NameEntry]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM pbx_names", [])?;
    {
        let mut insert = tx.prepare("INSERT OR REPLACE INTO pbx_names (kind, number, source, name) VALUES (?1, ?2, ?3, ?4)")?;
        for e in entries {
            let key = number_key(&e.number);
            for (source, name) in [(SOURCE_BULUTFON, &e.bulutfon), (SOURCE_LOCAL, &e.local)] {
                if let (false, Some(name)) = (key.is_empty(), name) {
                    insert.execute(params![e.kind.as_str(), key, source, clean(name)])?;
                }
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Every named thing, by kind and number.
pub fn list(conn: &Connection) -> Result<Vec<NameEntry>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT kind, number, source, name FROM pbx_names ORDER BY kind, length(number), number")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))?;
    Ok(entries(rows.collect::<Result<Vec<_>, _>>()?))
}

/// Rows (kind, number, source, name) in [`list`]'s order, one entry per named thing.
pub(crate) fn entries(rows: impl IntoIterator<Item = (String, String, String, String)>) -> Vec<NameEntry> {
    let mut out: Vec<NameEntry> = Vec::new();
    for (kind, number, source, name) in rows {
        let Some(kind) = NameKind::parse(&kind) else { continue };
        let entry = match out.last_mut() {
            Some(e) if e.kind == kind && e.number == number => e,
            _ => {
                out.push(NameEntry { kind, number, bulutfon: None, local: None });
                out.last_mut().expect("just pushed")
            }
        };
        if source == SOURCE_LOCAL {
            entry.local = Some(name);
        } else {
            entry.bulutfon = Some(name);
        }
    }
    out
}

/// A local name as [`set_local`] keeps it: (the number's key, the name or None to remove it).
pub(crate) fn local_name(number: &str, name: Option<&str>) -> Result<(String, Option<String>), StoreError> {
    let key = number_key(number);
    if key.is_empty() {
        return Err(StoreError::Corrupt(format!("{number:?} is not a number")));
    }
    Ok((key, name.map(clean).filter(|n| !n.is_empty())))
}

/// Names on the calls' route steps, and an incoming call's line name as its callee's when the
/// phone book gave none. One query when the table is empty (every desktop without the API).
pub fn annotate_all(conn: &Connection, calls: &mut [Call]) -> Result<(), StoreError> {
    let any: bool = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM pbx_names)")?.query_row([], |r| r.get(0))?;
    if !any {
        return Ok(());
    }
    let mut cache: HashMap<(NameKind, String), Option<String>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM pbx_names WHERE kind = ?1 AND number = ?2 AND name <> ''
         ORDER BY source = 'local' DESC LIMIT 1",
    )?;
    let name_of = |kind: NameKind, number: &str| -> Result<Option<String>, StoreError> {
        let key = (kind, number_key(number));
        if let Some(hit) = cache.get(&key) {
            return Ok(hit.clone());
        }
        let name = stmt.query_row(params![kind.as_str(), key.1], |r| r.get::<_, String>(0)).ok();
        cache.insert(key, name.clone());
        Ok(name)
    };
    annotate_with(calls, name_of)
}

/// [`annotate_all`] with `name_of(kind, number)` giving the name shown for a number.
pub(crate) fn annotate_with<E>(calls: &mut [Call], mut name_of: impl FnMut(NameKind, &str) -> Result<Option<String>, E>) -> Result<(), E> {
    for call in calls {
        for step in &mut call.route {
            step.name = name_of(NameKind::of_route(step.kind), &step.destination)?;
        }
        if call.direction == Direction::In && call.callee_name.is_none() {
            if let Some(callee) = call.callee_e164.clone().or_else(|| call.callee_raw.clone()) {
                call.callee_name = name_of(NameKind::Did, &callee)?;
            }
        }
    }
    Ok(())
}

/// A name as stored: one line, no control characters, at most 200 characters.
pub(crate) fn clean(name: &str) -> String {
    let one_line: String = name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    one_line.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::RouteStep;

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("kanca.db")).unwrap();
        (dir, conn)
    }

    #[test]
    fn a_local_name_wins_and_a_resync_keeps_it() {
        let (_d, mut conn) = db();
        replace_bulutfon(&mut conn, NameKind::Group, &[("101".into(), "Teknik Destek".into()), ("102".into(), "Satış".into())]).unwrap();
        set_local(&conn, NameKind::Group, "102", Some("  Satış\nEkibi ")).unwrap();
        replace_bulutfon(&mut conn, NameKind::Group, &[("101".into(), "Destek".into())]).unwrap();
        let all = list(&conn).unwrap();
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[0].shown(), Some("Destek"));
        assert_eq!((all[1].bulutfon.as_deref(), all[1].shown()), (None, Some("Satış Ekibi")));
        set_local(&conn, NameKind::Group, "102", Some(" ")).unwrap();
        assert_eq!(list(&conn).unwrap().len(), 1);
    }

    #[test]
    fn route_steps_and_the_line_get_their_names() {
        let (_d, mut conn) = db();
        replace_bulutfon(&mut conn, NameKind::Extension, &[("1004".into(), "Şule Çağlar".into())]).unwrap();
        replace_bulutfon(&mut conn, NameKind::Did, &[("908508850000".into(), String::new())]).unwrap();
        set_local(&conn, NameKind::Did, "0 850 885 00 00", Some("Merkez hat")).unwrap();
        let mut call: Call = serde_json::from_value(serde_json::json!({
            "uuid": "u", "kind": "call", "direction": "in", "caller": null, "caller_raw": null, "caller_e164": null,
            "callee": "0 850 885 00 00", "callee_raw": "908508850000", "callee_e164": "+908508850000",
            "started_at": "", "ended_at": null, "answered": null, "missed": false, "state": "ringing",
            "ringing_until_us": null, "duration_s": null, "hangup_cause": null, "route": [], "event_count": 1,
            "test": false, "started_at_us": 0, "ended_at_us": null
        }))
        .unwrap();
        call.route = vec![
            RouteStep { kind: RouteType::Group, destination: "101".into(), at: None, name: None },
            RouteStep { kind: RouteType::Extension, destination: "1004".into(), at: None, name: None },
        ];
        annotate_all(&conn, std::slice::from_mut(&mut call)).unwrap();
        assert_eq!(call.route[0].name, None);
        assert_eq!(call.route[1].name.as_deref(), Some("Şule Çağlar"));
        assert_eq!(call.callee_name.as_deref(), Some("Merkez hat"));
    }
}
