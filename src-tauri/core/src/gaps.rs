//! What filling the history's gaps from Bulutfon's call records (`bulutfon::backfill`) asks of
//! the history: which calls it knows, which of them were missed, which lack their route, which
//! lost their end; and the walk's own state (how far the last complete walk reached, when a
//! lost end was last asked about). Answered here on SQLite, in `pg/gaps.rs` on PostgreSQL, and
//! reached through [`crate::Backend`], so a receiver on either fills its gaps alike.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::StoreError;

/// Which calls have lost their end: still ringing, heard of last before `quiet_since`, started
/// at `oldest_sort_key` or later, and not asked about since `retry_after` (their `stale:` state).
/// The newest `limit`.
#[derive(Debug, Clone, Copy)]
pub struct Stale {
    pub oldest_sort_key: i64,
    pub quiet_since: i64,
    pub retry_after: i64,
    pub limit: usize,
}

/// The `api_state` key a lost end's last question is kept under.
pub fn stale_key(uuid: &str) -> String {
    format!("stale:{uuid}")
}

/// Which of `uuids` are calls already.
pub fn known_calls(c: &Connection, uuids: &[String]) -> Result<HashSet<String>, StoreError> {
    let mut stmt = c.prepare_cached("SELECT 1 FROM calls WHERE uuid = ?1")?;
    let mut known = HashSet::new();
    for u in uuids {
        if stmt.exists([u])? {
            known.insert(u.clone());
        }
    }
    Ok(known)
}

/// Those of `uuids` that are missed calls, in their order.
pub fn missed_among(c: &Connection, uuids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut stmt = c.prepare_cached("SELECT missed FROM calls WHERE uuid = ?1")?;
    let mut missed = Vec::new();
    for u in uuids {
        if stmt.query_row([u], |r| r.get::<_, bool>(0)).optional()? == Some(true) {
            missed.push(u.clone());
        }
    }
    Ok(missed)
}

/// The newest `limit` of `uuids` that are incoming calls without a route (a record's detail
/// gives it), newest first.
pub fn without_route(c: &Connection, uuids: &[String], limit: usize) -> Result<Vec<String>, StoreError> {
    let mut stmt = c.prepare_cached("SELECT started_at_us, route IS NULL AND direction = 'in' AND kind = 'call' FROM calls WHERE uuid = ?1")?;
    let mut rows: Vec<(i64, String)> = Vec::new();
    for u in uuids {
        if let Some((at, true)) = stmt.query_row([u], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?))).optional()? {
            rows.push((at, u.clone()));
        }
    }
    Ok(newest(rows, limit))
}

/// The newest `limit` of (start, uuid), newest first (ties: in the order given).
pub(crate) fn newest(mut rows: Vec<(i64, String)>, limit: usize) -> Vec<String> {
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.into_iter().take(limit).map(|(_, u)| u).collect()
}

/// The calls [`Stale`] describes, each with the record address its webhooks gave, if any.
pub fn stale_calls(c: &Connection, q: Stale) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT c.uuid FROM calls c
         WHERE c.sort_key >= ?1 AND c.state = 'ringing' AND c.kind = 'call' AND c.last_heard_us < ?2
           AND NOT EXISTS (SELECT 1 FROM api_state s WHERE s.key = 'stale:' || c.uuid AND CAST(s.value AS INTEGER) > ?3)
         ORDER BY c.sort_key DESC LIMIT ?4",
    )?;
    let uuids: Vec<String> =
        stmt.query_map(params![q.oldest_sort_key, q.quiet_since, q.retry_after, q.limit as i64], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for uuid in uuids {
        let url = crate::history::get_call(c, &uuid)?.and_then(|d| d.call.cdr_api_url);
        out.push((uuid, url));
    }
    Ok(out)
}

pub fn read_state(c: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(c.prepare_cached("SELECT value FROM api_state WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?)
}

/// Write every pair, in one transaction.
pub fn write_state(conn: &mut Connection, pairs: &[(String, String)]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for (k, v) in pairs {
        tx.execute("INSERT OR REPLACE INTO api_state (key, value) VALUES (?1, ?2)", params![k, v])?;
    }
    tx.commit()?;
    Ok(())
}
