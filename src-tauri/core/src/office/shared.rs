//! The office on a shared PostgreSQL history: what any receiver of the database serves desks
//! from (the journal by position, the paired desks, the certificate desks pin), so a desk paired
//! through one receiver is served by all. The journal's numbering is `pg/journal.rs`.

use base64::Engine as _;

use super::api::JournalEvent;
use super::clients::{self, ClientInfo, ClientsError, Desk};
use super::tls::Identity;
use crate::pg::{load_events, records, PgStore};
use crate::store::{change_of, Change, StoreError};
use crate::time::now_us;

fn journal_event(r: &tokio_postgres::Row) -> JournalEvent {
    let raw: Vec<u8> = r.get(2);
    JournalEvent { id: r.get(0), content_type: r.get(1), body: base64::engine::general_purpose::STANDARD.encode(raw), received_at_us: r.get(3) }
}

impl PgStore {
    /// Events after position `after`, in journal order, at most `limit`. A [`JournalEvent`]'s
    /// id is its position here.
    pub async fn journal_after(&self, after: i64, limit: i64) -> Result<Vec<JournalEvent>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached("SELECT pos, content_type, raw, received_at_us FROM events WHERE pos > $1 ORDER BY pos LIMIT $2")
            .await?;
        Ok(client.query(&stmt, &[&after, &limit]).await?.iter().map(journal_event).collect())
    }

    /// The changes of the events after position `after` (at most `limit`), each with its call as
    /// that event left it and the event as the journal has it.
    pub async fn changes_after(&self, after: i64, limit: i64) -> Result<Vec<(Change, JournalEvent)>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached("SELECT pos, content_type, raw, received_at_us, id, uuid FROM events WHERE pos > $1 ORDER BY pos LIMIT $2")
            .await?;
        let rows = client.query(&stmt, &[&after, &limit]).await?;
        let mut calls: std::collections::HashMap<String, Vec<(i64, crate::call::EventRecord)>> = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (id, uuid): (i64, String) = (r.get(4), r.get(5));
            if !calls.contains_key(&uuid) {
                match records(&load_events(&**client, &uuid).await?) {
                    Ok(events) => {
                        calls.insert(uuid.clone(), events);
                    }
                    Err(e) => {
                        tracing::error!(%uuid, "cannot send a change of this call to the desks: {e}");
                        continue;
                    }
                }
            }
            if let Some(change) = change_of(&calls[&uuid], id, None) {
                out.push((change, journal_event(r)));
            }
        }
        Ok(out)
    }

    /// Pair a new desk: its token. Two receivers pairing one name at once: one wins (a unique
    /// index of the live desks' names), the other is told the name is taken.
    pub async fn add_desk(&self, name: &str) -> Result<String, ClientsError> {
        let name = clients::check_name(name)?;
        let token = crate::config::random_token(32)?;
        let client = self.pool.get().await.map_err(StoreError::from)?;
        let added = client
            .execute(
                "INSERT INTO office_desks (name, token_hash, paired_at_us) VALUES ($1, $2, $3)",
                &[&name, &clients::hash(&token), &now_us()],
            )
            .await;
        match added {
            Ok(_) => Ok(token),
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => Err(ClientsError::Exists(name.to_owned())),
            Err(e) => Err(ClientsError::Store(e.into())),
        }
    }

    /// The desk a bearer token belongs to, if it is paired and not revoked.
    pub async fn authenticate_desk(&self, token: &str) -> Result<Option<Desk>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached("SELECT id, name, last_seen_us FROM office_desks WHERE token_hash = $1 AND revoked_at_us IS NULL").await?;
        Ok(client.query_opt(&stmt, &[&clients::hash(token)]).await?.map(|r| Desk { id: r.get(0), name: r.get(1), last_seen_us: r.get(2) }))
    }

    /// Note that a desk was just heard from.
    pub async fn mark_desk_seen(&self, id: i64) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client.execute("UPDATE office_desks SET last_seen_us = $2 WHERE id = $1", &[&id, &now_us()]).await?;
        Ok(())
    }

    pub async fn revoke_desk(&self, name: &str) -> Result<(), ClientsError> {
        let client = self.pool.get().await.map_err(StoreError::from)?;
        let n = client
            .execute("UPDATE office_desks SET revoked_at_us = $2 WHERE name = $1 AND revoked_at_us IS NULL", &[&name.trim(), &now_us()])
            .await
            .map_err(StoreError::from)?;
        if n == 0 {
            return Err(ClientsError::NotFound(name.trim().to_owned()));
        }
        Ok(())
    }

    pub async fn list_desks(&self) -> Result<Vec<ClientInfo>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT name, paired_at_us, last_seen_us, revoked_at_us IS NOT NULL FROM office_desks ORDER BY id", &[]).await?;
        let time = |v: Option<i64>| v.and_then(crate::time::micros_to_rfc3339);
        Ok(rows.iter().map(|r| ClientInfo { name: r.get(0), paired_at: time(r.get(1)), last_seen: time(r.get(2)), revoked: r.get(3) }).collect())
    }

    /// The certificate every receiver of this database serves desks with, so a desk paired
    /// through one trusts them all: the first receiver's `local` one, kept in the database.
    pub async fn office_identity(&self, local: Identity) -> Result<Identity, StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO office_identity (id, cert, key) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
                &[&local.cert_der, &local.key_der()],
            )
            .await?;
        let row = client.query_one("SELECT cert, key FROM office_identity WHERE id = 1", &[]).await?;
        Ok(Identity::from_der(row.get(0), row.get(1)))
    }
}
