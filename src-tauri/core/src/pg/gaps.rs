//! What filling the history's gaps from Bulutfon's call records asks of a PostgreSQL history,
//! as `gaps.rs` answers it on SQLite; and Bulutfon's names of extensions, groups and numbers.
//!
//! Receivers sharing a database share the walk's state (`api_state`), so a record one receiver
//! stored is not walked again by another, and a lost end asked about by one is not asked again by
//! the next within the retry time. A pass holds a session advisory lock ([`PgStore::try_gap_pass`])
//! so two receivers with the same token do not walk Bulutfon's records at the same moment.

use std::collections::HashSet;

use super::journal::shared_payload;
use super::{PgStore, SHARED_CHANNEL};
use crate::gaps::{self, Stale};
use crate::names::{self, NameKind, SOURCE_BULUTFON};
use crate::store::StoreError;

/// Advisory lock key a receiver holds while it fills gaps from Bulutfon's API.
const GAP_PASS_LOCK: i64 = 0x6b61_6e63_6100_0004;

/// A pass's hold on [`GAP_PASS_LOCK`]: the connection that took it. Dropped, it unlocks (soon
/// after, on the runtime) and goes back to the pool.
pub struct GapPass(Option<deadpool_postgres::Object>);

/// A connection holding the lock: unless it was unlocked, it leaves the pool and closes, and
/// its session's lock ends with it.
struct Locked(Option<deadpool_postgres::Object>);

impl Drop for Locked {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

impl Drop for GapPass {
    fn drop(&mut self) {
        let locked = Locked(self.0.take());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let mut locked = locked;
                if let Some(client) = &locked.0 {
                    if client.execute("SELECT pg_advisory_unlock($1)", &[&GAP_PASS_LOCK]).await.is_ok() {
                        // Unlocked: back to the pool.
                        locked.0.take();
                    }
                }
            });
        }
    }
}

impl PgStore {
    /// Take the gap-filling turn; None while another receiver of the database has it.
    pub async fn try_gap_pass(&self) -> Result<Option<GapPass>, StoreError> {
        let client = self.pool.get().await?;
        let got: bool = client.query_one("SELECT pg_try_advisory_lock($1)", &[&GAP_PASS_LOCK]).await?.get(0);
        Ok(got.then(|| GapPass(Some(client))))
    }

    pub async fn known_calls(&self, uuids: &[String]) -> Result<HashSet<String>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT uuid FROM calls WHERE uuid = ANY($1)", &[&uuids]).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Those of `uuids` that are missed calls, in their order.
    pub async fn missed_among(&self, uuids: &[String]) -> Result<Vec<String>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT uuid FROM calls WHERE uuid = ANY($1) AND missed", &[&uuids]).await?;
        let missed: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
        Ok(uuids.iter().filter(|u| missed.contains(*u)).cloned().collect())
    }

    /// The newest `limit` of `uuids` that are incoming calls without a route.
    pub async fn without_route(&self, uuids: &[String], limit: usize) -> Result<Vec<String>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query("SELECT uuid, started_at_us FROM calls WHERE uuid = ANY($1) AND route IS NULL AND direction = 'in' AND kind = 'call'", &[&uuids])
            .await?;
        let at: std::collections::HashMap<String, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok(gaps::newest(uuids.iter().filter_map(|u| Some((*at.get(u)?, u.clone()))).collect(), limit))
    }

    /// The calls that lost their end, as [`gaps::stale_calls`] finds them.
    pub async fn stale_calls(&self, q: Stale) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT c.uuid FROM calls c
                 WHERE c.sort_key >= $1 AND c.state = 'ringing' AND c.kind = 'call' AND c.last_heard_us < $2
                   AND NOT EXISTS (SELECT 1 FROM api_state s WHERE s.key = 'stale:' || c.uuid AND s.value::bigint > $3)
                 ORDER BY c.sort_key DESC LIMIT $4",
                &[&q.oldest_sort_key, &q.quiet_since, &q.retry_after, &(q.limit as i64)],
            )
            .await?;
        drop(client);
        let mut out = Vec::new();
        for r in rows {
            let uuid: String = r.get(0);
            let url = self.get_call(&uuid).await?.and_then(|d| d.call.cdr_api_url);
            out.push((uuid, url));
        }
        Ok(out)
    }

    pub async fn read_api_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.query_opt("SELECT value FROM api_state WHERE key = $1", &[&key]).await?.map(|r| r.get(0)))
    }

    /// Write every pair, in one transaction.
    pub async fn write_api_state(&self, pairs: &[(String, String)]) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        for (k, v) in pairs {
            tx.execute("INSERT INTO api_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2", &[k, v]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Bulutfon's names of one kind, replacing its earlier ones (the user's own stay), as
    /// [`names::replace_bulutfon`] does; every receiver's desks hear of them.
    pub async fn replace_bulutfon_names(&self, kind: NameKind, entries: &[(String, String)]) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM pbx_names WHERE kind = $1 AND source = $2", &[&kind.as_str(), &SOURCE_BULUTFON]).await?;
        for (number, name) in entries {
            let key = names::number_key(number);
            if !key.is_empty() {
                tx.execute(
                    "INSERT INTO pbx_names (kind, number, source, name) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (kind, number, source) DO UPDATE SET name = $4",
                    &[&kind.as_str(), &key, &SOURCE_BULUTFON, &names::clean(name)],
                )
                .await?;
            }
        }
        tx.execute("SELECT pg_notify($1, $2)", &[&SHARED_CHANNEL, &shared_payload(&crate::Shared::Names)]).await?;
        tx.commit().await?;
        Ok(())
    }
}
