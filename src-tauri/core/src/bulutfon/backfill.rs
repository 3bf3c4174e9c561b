//! Filling the history's gaps from Bulutfon's call records.
//!
//! A backfill reads `/cdrs` newest first, page by page, and stores each record as an event of
//! its call (content type [`API_CDR_CONTENT_TYPE`], the record's JSON kept byte for byte), so a
//! call known from webhooks and from the API is one call, and reading a record twice stores it
//! once (the events' identity). The walk stops at the first page that reaches back to what an
//! earlier, completed backfill brought: the newest record time it saw is kept in `api_state`,
//! written only once a walk is complete, so a walk cut short (a kill, the network) is walked
//! again rather than left with a hole. Calls known only from webhooks do not count: they say
//! nothing about the records in between.

use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::task::JoinSet;

use super::{client::ApiError, Client};
use crate::gaps::{stale_key, Stale};
use crate::store::{self, IncomingEvent, Outcome, StoreError};
use crate::Backend;
use crate::time::now_us;
use crate::webhook::{cdr_time_us, parse_api_cdr, API_CDR_CONTENT_TYPE};

/// Records asked for per page.
pub const PAGE_LIMIT: usize = 100;
/// A walk never reads more pages than this (100,000 records), whatever the pagination says.
const MAX_PAGES: usize = 1000;
/// Details (`/cdrs/UUID`, with the call's flow) read per pass for calls the backfill added, so
/// their route shows; later passes read the rest.
const DETAILS_PER_PASS: usize = 50;
/// A call heard of last this long ago and still ringing has lost its hang-up: ask for its record.
pub const STALE_AFTER: Duration = Duration::from_secs(10 * 60);
/// ... but not more often than this per call, and not for calls older than [`STALE_LIMIT`].
const STALE_RETRY: Duration = Duration::from_secs(30 * 60);
const STALE_LIMIT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Calls asked about per pass.
const STALE_PER_PASS: usize = 20;

/// `api_state` keys.
const NEWEST_KEY: &str = "cdrs_newest_us";
const LAST_SYNC_KEY: &str = "last_sync_us";

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<std::sync::Arc<StoreError>> for SyncError {
    fn from(e: std::sync::Arc<StoreError>) -> Self {
        SyncError::Store(StoreError::Corrupt(e.to_string()))
    }
}

/// What one backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackfillReport {
    /// Calls Kanca did not know before.
    pub calls_added: usize,
    /// Known calls a record told something new (its end, its flow).
    pub calls_updated: usize,
    pub pages: usize,
    /// Records read, and of them skipped as unreadable.
    pub records: usize,
    pub skipped: usize,
    /// Calls the backfill added that were missed (for one summary pop-up, not one each).
    pub missed: Vec<String>,
}

/// What `kanca sync` prints (`--json`): names and one backfill.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub calls_added: usize,
    pub calls_updated: usize,
    pub pages: usize,
    pub extensions: usize,
    pub groups: usize,
    pub dids: usize,
    /// Calls whose lost end a record closed.
    pub closed: usize,
    /// Nothing was done: another receiver of the same PostgreSQL database was syncing.
    pub busy: bool,
    #[serde(skip)]
    pub missed: Vec<String>,
}

/// How far a backfill has got, for a progress indicator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Progress {
    pub pages: u32,
    /// From the first page's pagination, when Bulutfon gives it.
    pub total_pages: Option<u32>,
    pub records: u32,
}

/// One pass: names, the backfill, and the calls whose end was lost. On PostgreSQL, one receiver
/// of the database at a time: another finds it `busy` and does nothing.
pub async fn sync(client: &Client, store: &Backend, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<SyncReport, SyncError> {
    let _turn = match store {
        Backend::Postgres(p) => match p.try_gap_pass().await? {
            Some(turn) => Some(turn),
            None => return Ok(SyncReport { busy: true, ..Default::default() }),
        },
        Backend::Sqlite(_) => None,
    };
    let names = blocking(client, super::fetch_names).await?;
    let counts = super::store_names(store, &names).await?;
    let filled = backfill(client, store, progress).await?;
    let closed = close_stale(client, store).await?;
    Ok(SyncReport {
        calls_added: filled.calls_added,
        calls_updated: filled.calls_updated,
        pages: filled.pages,
        extensions: counts.extensions,
        groups: counts.groups,
        dids: counts.dids,
        closed,
        busy: false,
        missed: filled.missed,
    })
}

/// Run a blocking API call off the async executor.
async fn blocking<T: Send + 'static>(client: &Client, f: impl FnOnce(&Client) -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    let client = client.clone();
    tokio::task::spawn_blocking(move || f(&client)).await.map_err(|e| ApiError::Unavailable(format!("the API task failed: {e}")))?
}

/// A page of `/cdrs`: the records as received, and the pagination.
#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow, default)]
    cdrs: Option<Vec<&'a RawValue>>,
    /// `/cdr`, as one revision of the documentation names the list.
    #[serde(borrow, default)]
    cdr: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    pagination: Option<serde_json::Value>,
}

/// Read the records newer than the last completed backfill (the last month the first time).
pub async fn backfill(client: &Client, store: &Backend, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<BackfillReport, SyncError> {
    let newest_before: Option<i64> = store.read_api_state(NEWEST_KEY).await?.and_then(|v| v.parse().ok());
    let mut query: Vec<(String, String)> = vec![("page".into(), "1".into()), ("limit".into(), PAGE_LIMIT.to_string())];
    if newest_before.is_none() {
        // The first connection: the documented window, the last month.
        query.push(("time_limit".into(), "month".into()));
    }
    let mut report = BackfillReport::default();
    let mut shown = Progress::default();
    let mut newest_seen = newest_before;
    let mut added: Vec<String> = Vec::new();
    loop {
        let body = blocking(client, {
            let query = query.clone();
            move |c| c.get_raw_json("cdrs", &query)
        })
        .await?;
        let page: Page = serde_json::from_slice(&body).map_err(|e| ApiError::BadResponse(format!("/cdrs: {e}")))?;
        let records = page.cdrs.or(page.cdr).unwrap_or_default();
        report.pages += 1;
        report.records += records.len();
        let mut events = Vec::with_capacity(records.len());
        let mut oldest_on_page: Option<i64> = None;
        let received_at_us = now_us();
        for raw in &records {
            match parse_api_cdr(raw.get().as_bytes()) {
                Ok(event) => {
                    let at = cdr_time_us(event.fields.get("call_time")).or(event.timestamp_us);
                    if let Some(at) = at {
                        oldest_on_page = Some(oldest_on_page.map_or(at, |o: i64| o.min(at)));
                        newest_seen = Some(newest_seen.map_or(at, |n| n.max(at)));
                    }
                    events.push(IncomingEvent {
                        event,
                        raw: raw.get().as_bytes().to_vec(),
                        content_type: Some(API_CDR_CONTENT_TYPE.to_owned()),
                        received_at_us,
                    });
                }
                Err(e) => {
                    report.skipped += 1;
                    tracing::warn!("skipped a call record Bulutfon's /cdrs gave on page {}: {e}", report.pages);
                }
            }
        }
        let (new_calls, updated) = store_records(store, events).await?;
        report.calls_added += new_calls.len();
        report.calls_updated += updated;
        added.extend(new_calls);
        if shown.total_pages.is_none() {
            shown.total_pages = page.pagination.as_ref().and_then(|p| p.get("total_pages")).and_then(crate::webhook::scalar_text).and_then(|s| s.parse().ok());
        }
        shown.pages = report.pages as u32;
        shown.records = report.records as u32;
        progress(shown);
        let reached_known = matches!((newest_before, oldest_on_page), (Some(mark), Some(oldest)) if oldest <= mark);
        if records.is_empty() || reached_known || report.pages >= MAX_PAGES {
            break;
        }
        match next_page(page.pagination.as_ref(), report.pages) {
            Some(next) => query = next,
            None => break,
        }
    }
    // The walk is complete: later backfills stop where this one began.
    if let Some(newest) = newest_seen {
        store.write_api_state(vec![(NEWEST_KEY.into(), newest.to_string()), (LAST_SYNC_KEY.into(), now_us().to_string())]).await?;
    }
    report.missed = store.missed_among(added.clone()).await?;
    fetch_details(client, store, &added).await;
    Ok(report)
}

/// The query of the next page: the pagination's `next_page` URL's parameters (its address is
/// not followed: every request goes to the configured base, with the token added again), else
/// the page after `done` while `total_pages` says there is one. None on the last page.
fn next_page(pagination: Option<&serde_json::Value>, done: usize) -> Option<Vec<(String, String)>> {
    let p = pagination?;
    let text = |k: &str| p.get(k).and_then(crate::webhook::scalar_text);
    let from_url = text("next_page").and_then(|next| {
        let url = url::Url::parse(&next).or_else(|_| url::Url::parse("http://x/").and_then(|b| b.join(&next))).ok()?;
        let pairs: Vec<(String, String)> =
            url.query_pairs().filter(|(k, _)| k != "access_token").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        pairs.iter().any(|(k, _)| k == "page").then_some(pairs)
    });
    if from_url.is_some() {
        return from_url;
    }
    if p.get("next_page").is_some_and(|v| v.is_null()) {
        return None;
    }
    let total: usize = text("total_pages")?.parse().ok()?;
    (done < total).then(|| vec![("page".into(), (done + 1).to_string()), ("limit".into(), PAGE_LIMIT.to_string())])
}

/// Store records as events, all at once so the writer commits them together. The uuids of calls
/// that were not known before and now are, and how many known calls got a new event.
async fn store_records(store: &Backend, events: Vec<IncomingEvent>) -> Result<(Vec<String>, usize), SyncError> {
    if events.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let uuids: Vec<String> = events.iter().map(|e| e.event.uuid.clone()).collect();
    let known = store.known_calls(uuids).await?;
    let mut tasks = JoinSet::new();
    for event in events {
        let store = store.clone();
        tasks.spawn(async move {
            let uuid = event.event.uuid.clone();
            store.ingest(event).await.map(|o| (uuid, o))
        });
    }
    let mut stored: HashSet<String> = HashSet::new();
    while let Some(done) = tasks.join_next().await {
        let (uuid, outcome) = done.map_err(|e| StoreError::Corrupt(format!("storing a record failed: {e}")))??;
        if outcome == Outcome::Stored {
            stored.insert(uuid);
        }
    }
    let mut added: Vec<String> = stored.iter().filter(|u| !known.contains(*u)).cloned().collect();
    added.sort();
    let updated = stored.iter().filter(|u| known.contains(*u)).count();
    Ok((added, updated))
}

/// Read the detail of the newest calls the backfill added (their flow gives their route). A
/// failure is logged: the calls are stored either way.
async fn fetch_details(client: &Client, store: &Backend, added: &[String]) {
    let newest: Vec<String> = match store.without_route(added.to_vec(), DETAILS_PER_PASS).await {
        Ok(v) => v,
        Err(e) => return tracing::warn!("cannot list the backfilled calls: {e}"),
    };
    for uuid in newest {
        if let Err(e) = fetch_record(client, store, &uuid, None).await {
            tracing::warn!("could not read the detail of a backfilled call: {e}");
            if matches!(e, SyncError::Api(ApiError::BadToken(_) | ApiError::Unavailable(_))) {
                return;
            }
        }
    }
}

/// Read one call's record (`cdr_api_url`'s path when the webhook gave one, else `/cdrs/UUID`)
/// and store it. False when Bulutfon has none (yet).
async fn fetch_record(client: &Client, store: &Backend, uuid: &str, cdr_api_url: Option<&str>) -> Result<bool, SyncError> {
    let path = cdr_api_url
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.path().trim_start_matches('/').to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| format!("cdrs/{uuid}"));
    let body = match blocking(client, move |c| c.get_raw_json(&path, &[])).await {
        Ok(body) => body,
        Err(ApiError::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    #[derive(Deserialize)]
    struct Detail<'a> {
        #[serde(borrow, default)]
        cdr: Option<&'a RawValue>,
    }
    let detail: Detail = serde_json::from_slice(&body).map_err(|e| ApiError::BadResponse(format!("/cdrs/UUID: {e}")))?;
    let raw = detail.cdr.map(|r| r.get().as_bytes().to_vec()).unwrap_or(body);
    let event = parse_api_cdr(&raw).map_err(|e| ApiError::BadResponse(format!("/cdrs/UUID: {e}")))?;
    if event.uuid != uuid {
        return Err(ApiError::BadResponse(format!("asked for the record of {uuid}, got {}", event.uuid)).into());
    }
    store
        .ingest(IncomingEvent { event, raw, content_type: Some(API_CDR_CONTENT_TYPE.to_owned()), received_at_us: now_us() })
        .await?;
    Ok(true)
}

/// Calls still ringing long after anything was heard of them: their hang-up was lost. Read
/// their record, which closes them. How many were closed.
pub async fn close_stale(client: &Client, store: &Backend) -> Result<usize, SyncError> {
    let now = now_us();
    let stale = store
        .stale_calls(Stale {
            oldest_sort_key: store::sort_key_floor(now - STALE_LIMIT.as_micros() as i64),
            quiet_since: now - STALE_AFTER.as_micros() as i64,
            retry_after: now - STALE_RETRY.as_micros() as i64,
            limit: STALE_PER_PASS,
        })
        .await?;
    let mut closed = 0;
    for (uuid, url) in stale {
        store.write_api_state(vec![(stale_key(&uuid), now.to_string())]).await?;
        match fetch_record(client, store, &uuid, url.as_deref()).await {
            Ok(true) => closed += 1,
            Ok(false) => {}
            Err(SyncError::Api(e @ (ApiError::BadToken(_) | ApiError::Unavailable(_)))) => return Err(e.into()),
            Err(e) => tracing::warn!("could not read the record of a call whose end was lost: {e}"),
        }
    }
    Ok(closed)
}

/// When the last complete backfill ended (microseconds), if any.
pub async fn last_sync_us(store: &Backend) -> Result<Option<i64>, StoreError> {
    Ok(store.read_api_state(LAST_SYNC_KEY).await?.and_then(|v| v.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_next_page_keeps_the_query_but_not_the_address_or_a_token() {
        let p = json!({"page": 1, "total_pages": 2, "next_page": "https://evil.example/cdrs?page=2&limit=6&access_token=leak"});
        let q = next_page(Some(&p), 1).unwrap();
        assert_eq!(q, [("page".to_owned(), "2".to_owned()), ("limit".into(), "6".into())]);
        assert_eq!(next_page(Some(&json!({"page": 2, "total_pages": 2, "next_page": null})), 2), None);
        // No next_page at all: the count decides.
        assert_eq!(next_page(Some(&json!({"total_pages": "3"})), 1).unwrap()[0], ("page".to_owned(), "2".to_owned()));
        assert_eq!(next_page(Some(&json!({"total_pages": 1})), 1), None);
        assert_eq!(next_page(None, 1), None);
        // A relative next_page.
        assert_eq!(next_page(Some(&json!({"next_page": "/cdrs?page=5"})), 4).unwrap(), [("page".to_owned(), "5".to_owned())]);
    }
}
