//! Bulutfon's REST API: the account behind a token (`GET /me`), names of extensions, groups and
//! the account's numbers, the call records that fill the history's gaps (a backfill), the record
//! of a call whose hang-up was lost, and calling back (`POST /call_and_bridge`).
//!
//! Everything the API returns is untrusted: fields may be missing, numbers may be strings or
//! JSON numbers, values may be odd. What cannot be read is logged and skipped; nothing here
//! panics on an answer. The API being slow or down never touches the webhook listener: these
//! functions run on their own tasks and threads, and the store's writer takes their records as
//! it takes deliveries.
//!
//! See `../shared/seed/bulutfon-api.md` for the facts this follows.

pub mod backfill;
pub mod client;
pub mod media;
pub mod service;

pub use backfill::{backfill, close_stale, sync, BackfillReport, SyncReport};
pub use client::{ApiError, ApiToken, Client};
pub use service::{ApiService, ApiState, ApiStatus};

use serde::Serialize;
use serde_json::Value;

use crate::names::NameKind;
use crate::webhook::scalar_text;

/// The account a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Account {
    /// The PBX's name (`pbx.name`, e.g. "ornekticaret"): what "Bağlı: …" shows.
    pub name: String,
    /// Its address (`pbx.url`, e.g. "ornekticaret.bulutfon.net").
    pub url: Option<String>,
    /// The user the token belongs to.
    pub user: Option<String>,
}

/// Check a token: who it belongs to.
pub fn me(client: &Client) -> Result<Account, ApiError> {
    let body = client.get_json("me", &[])?;
    let text = |path: &[&str]| {
        let mut v = &body;
        for key in path {
            v = v.get(key)?;
        }
        scalar_text(v).map(|s| s.chars().take(200).collect::<String>())
    };
    let name = text(&["pbx", "name"])
        .or_else(|| text(&["user", "email"]))
        .ok_or_else(|| ApiError::BadResponse("/me names no account (pbx.name)".into()))?;
    Ok(Account { name, url: text(&["pbx", "url"]), user: text(&["user", "name"]) })
}

/// How many names a sync brought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NameCounts {
    pub extensions: usize,
    pub groups: usize,
    pub dids: usize,
}

/// The account's extensions, groups and numbers with Bulutfon's names, read from the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub extensions: Vec<(String, String)>,
    pub groups: Vec<(String, String)>,
    /// The account's numbers (Bulutfon gives them no names: the user may).
    pub dids: Vec<String>,
}

/// Read `/extensions`, `/groups` and `/dids`.
pub fn fetch_names(client: &Client) -> Result<Names, ApiError> {
    let extensions = entries(&client.get_json("extensions", &[])?, "extensions", "caller_name");
    let groups = entries(&client.get_json("groups", &[])?, "groups", "name");
    let dids = entries(&client.get_json("dids", &[])?, "dids", "").into_iter().map(|(n, _)| n).collect();
    Ok(Names { extensions, groups, dids })
}

/// Store what [`fetch_names`] read in either history, replacing Bulutfon's earlier names (local
/// names stay).
pub async fn store_names(store: &crate::Backend, n: &Names) -> Result<NameCounts, crate::StoreError> {
    let dids: Vec<(String, String)> = n.dids.iter().map(|d| (d.clone(), String::new())).collect();
    for (kind, entries) in [(NameKind::Extension, &n.extensions), (NameKind::Group, &n.groups), (NameKind::Did, &dids)] {
        store.replace_bulutfon_names(kind, entries.clone()).await?;
    }
    Ok(NameCounts { extensions: n.extensions.len(), groups: n.groups.len(), dids: n.dids.len() })
}

/// (number, name) of each object of `body[list]` that has a number; items without one are
/// logged and skipped.
fn entries(body: &Value, list: &str, name_key: &str) -> Vec<(String, String)> {
    let Some(items) = body.get(list).and_then(Value::as_array) else {
        tracing::warn!("Bulutfon's /{list} has no {list} list; keeping the names Kanca had");
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let number = item.get("number").and_then(scalar_text).filter(|n| n.chars().any(|c| c.is_ascii_digit()));
            if number.is_none() {
                tracing::warn!("skipped an entry of /{list} without a number");
            }
            let name = item.get(name_key).and_then(scalar_text).unwrap_or_default();
            Some((number?, name))
        })
        .collect()
}

/// What a call back asks Bulutfon to do: ring `destination` (the user's extension) and, once it
/// answers, `callee`, showing `caller` (one of the account's numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallBack {
    pub caller: String,
    pub callee: String,
    pub destination: String,
}

/// Start a call back; Bulutfon's message on success ("Arama başarıyla başlatıldı.").
pub fn call_back(client: &Client, call: &CallBack) -> Result<String, ApiError> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let form = [("caller", digits(&call.caller)), ("callee", digits(&call.callee)), ("destination", digits(&call.destination))];
    let body = client.post_form("call_and_bridge", &form)?;
    let message = body.get("message").and_then(scalar_text).unwrap_or_default();
    match body.get("success") {
        Some(Value::Bool(true)) => Ok(message),
        Some(v) if scalar_text(v).is_some_and(|s| s == "true" || s == "1") => Ok(message),
        _ => Err(ApiError::BadResponse(if message.is_empty() { "the call was not started".into() } else { message })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_take_numbers_as_strings_or_numbers_and_skip_the_rest() {
        let body = json!({"extensions": [
            {"number": 1000, "caller_name": "Ayşe Yılmaz"},
            {"number": "1004", "caller_name": "Şule Çağlar"},
            {"caller_name": "no number"},
            {"number": 1008},
            "not an object"
        ]});
        assert_eq!(
            entries(&body, "extensions", "caller_name"),
            [("1000".to_owned(), "Ayşe Yılmaz".to_owned()), ("1004".into(), "Şule Çağlar".into()), ("1008".into(), String::new())]
        );
        assert!(entries(&json!({"oops": 1}), "extensions", "caller_name").is_empty());
    }
}
