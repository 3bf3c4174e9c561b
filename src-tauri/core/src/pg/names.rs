//! Names of menus, groups, extensions and lines on a PostgreSQL history, as `names.rs` keeps
//! them on SQLite: the user's own names, set through any receiver (by a desk) and shown on every
//! call read from the database. Bulutfon's names come with its API, which is not on PostgreSQL
//! yet, so these are the local ones only.

use std::collections::HashMap;

use super::{journal::shared_payload, PgStore, SHARED_CHANNEL};
use crate::names::{self, NameEntry, NameKind, SOURCE_LOCAL};
use crate::store::StoreError;
use crate::Call;

/// Every row of the names table, as [`names::entries`] reads them.
async fn all(client: &impl tokio_postgres::GenericClient) -> Result<Vec<NameEntry>, StoreError> {
    // In names::list's order; COLLATE "C" is byte order, as SQLite sorts.
    let rows = client.query("SELECT kind, number, source, name FROM pbx_names ORDER BY kind, length(number), number COLLATE \"C\"", &[]).await?;
    Ok(names::entries(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))))
}

impl PgStore {
    /// Every named thing, by kind and number, as [`names::list`].
    pub async fn names(&self) -> Result<Vec<NameEntry>, StoreError> {
        all(&**self.pool.get().await?).await
    }

    /// The user's own name for a menu, group, extension or line; None or blank removes it. Every
    /// receiver's desks hear of it.
    pub async fn set_local_name(&self, kind: NameKind, number: &str, name: Option<&str>) -> Result<(), StoreError> {
        let (key, name) = names::local_name(number, name)?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        match name {
            Some(name) => {
                tx.execute(
                    "INSERT INTO pbx_names (kind, number, source, name) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (kind, number, source) DO UPDATE SET name = $4",
                    &[&kind.as_str(), &key, &SOURCE_LOCAL, &name],
                )
                .await?
            }
            None => tx.execute("DELETE FROM pbx_names WHERE kind = $1 AND number = $2 AND source = $3", &[&kind.as_str(), &key, &SOURCE_LOCAL]).await?,
        };
        tx.execute("SELECT pg_notify($1, $2)", &[&SHARED_CHANNEL, &shared_payload(&crate::Shared::Names)]).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The names on `calls`' route steps and lines, as [`names::annotate_all`] gives them.
pub(super) async fn annotate(client: &impl tokio_postgres::GenericClient, calls: &mut [Call]) -> Result<(), StoreError> {
    if calls.is_empty() {
        return Ok(());
    }
    let entries = all(client).await?;
    if entries.is_empty() {
        return Ok(());
    }
    let shown: HashMap<(NameKind, String), String> =
        entries.into_iter().filter_map(|e| Some(((e.kind, e.number.clone()), e.shown()?.to_owned()))).collect();
    names::annotate_with(calls, |kind, number| Ok::<_, StoreError>(shown.get(&(kind, names::number_key(number))).cloned()))
}
