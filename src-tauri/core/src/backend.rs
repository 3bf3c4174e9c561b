//! The storage seam: what the receiver asks of its history, answered by SQLite (one machine,
//! the default) or PostgreSQL (receivers sharing one database, [`crate::pg`]).
//!
//! The webhook listener, `kanca serve`, `kanca history` and `kanca show` go through it, the
//! office's desks through it and [`PhoneBook`], and filling the history from Bulutfon's API
//! ([`crate::gaps`]) too. The desktop app, always on SQLite, uses [`Store`] directly.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::broadcast;

use crate::contacts::{Contact, ContactInput, ContactsError, ImportReport, NumberInput};
use crate::history::{self, CallDetail, Page, Query};
use crate::names::{self, NameKind};
use crate::gaps;
use crate::pg::PgStore;
use crate::store::{Change, IncomingEvent, Outcome, Store, StoreError};

/// Where the history is kept. Cloning is cheap.
#[derive(Clone)]
pub enum Backend {
    Sqlite(Store),
    Postgres(PgStore),
}

impl Backend {
    /// Store one event durably; resolves only once it is committed.
    pub async fn ingest(&self, event: IncomingEvent) -> Result<Outcome, Arc<StoreError>> {
        match self {
            Backend::Sqlite(s) => s.ingest(event).await,
            Backend::Postgres(p) => p.ingest(event).await,
        }
    }

    /// Every stored event and the call it changed, as it is committed (on PostgreSQL, by any
    /// receiver of the database).
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        match self {
            Backend::Sqlite(s) => s.subscribe(),
            Backend::Postgres(p) => p.subscribe(),
        }
    }

    /// The history's calls for `query`, newest first, with what the store knows of them.
    pub async fn search(&self, query: Query) -> Result<Page, StoreError> {
        match self {
            Backend::Sqlite(s) => s.read(move |c| history::search(c, &query)).await,
            Backend::Postgres(p) => p.search(&query).await,
        }
    }

    /// One call with all its events.
    /// Wait until what any receiver on this history acknowledged is in it (another process's
    /// receiver included: on SQLite its deliveries wait in the inbox until its projector moves
    /// them, and are moved here if it does not within a moment). PostgreSQL's receivers commit
    /// to the history before they answer.
    pub async fn catch_up(&self) -> Result<(), StoreError> {
        match self {
            Backend::Sqlite(s) => s.write_side(crate::store::catch_up).await,
            Backend::Postgres(_) => Ok(()),
        }
    }

    pub async fn get_call(&self, uuid: String) -> Result<Option<CallDetail>, StoreError> {
        match self {
            Backend::Sqlite(s) => s.read(move |c| history::get_call(c, &uuid)).await,
            Backend::Postgres(p) => p.get_call(&uuid).await,
        }
    }

    /// How many calls are stored.
    pub async fn count_calls(&self) -> Result<i64, StoreError> {
        match self {
            Backend::Sqlite(s) => s.read(history::count_calls).await,
            Backend::Postgres(p) => p.count_calls().await,
        }
    }

    /// Which of `uuids` are calls already (filling gaps from Bulutfon's records: [`crate::gaps`]).
    pub async fn known_calls(&self, uuids: Vec<String>) -> Result<HashSet<String>, StoreError> {
        match self {
            Backend::Sqlite(s) => s.read(move |c| gaps::known_calls(c, &uuids)).await,
            Backend::Postgres(p) => p.known_calls(&uuids).await,
        }
    }

    /// Those of `uuids` that are missed calls, in their order.
    pub async fn missed_among(&self, uuids: Vec<String>) -> Result<Vec<String>, StoreError> {
        match self {
            Backend::Sqlite(s) => s.read(move |c| gaps::missed_among(c, &uuids)).await,
            Backend::Postgres(p) => p.missed_among(&uuids).await,
        }
    }

    /// The newest `limit` of `uuids` that are incoming calls without a route.
    pub async fn without_route(&self, uuids: Vec<String>, limit: usize) -> Result<Vec<String>, StoreError> {
        match self {
            Backend::Sqlite(s) => s.read(move |c| gaps::without_route(c, &uuids, limit)).await,
            Backend::Postgres(p) => p.without_route(&uuids, limit).await,
        }
    }

    /// Calls whose end was lost, with their record's address when their webhooks gave one.
    pub async fn stale_calls(&self, q: gaps::Stale) -> Result<Vec<(String, Option<String>)>, StoreError> {
        match self {
            Backend::Sqlite(s) => s.read(move |c| gaps::stale_calls(c, q)).await,
            Backend::Postgres(p) => p.stale_calls(q).await,
        }
    }

    /// A value of the Bulutfon API's state (how far the last backfill reached, …).
    pub async fn read_api_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self {
            Backend::Sqlite(s) => {
                let key = key.to_owned();
                s.read(move |c| gaps::read_state(c, &key)).await
            }
            Backend::Postgres(p) => p.read_api_state(key).await,
        }
    }

    pub async fn write_api_state(&self, pairs: Vec<(String, String)>) -> Result<(), StoreError> {
        match self {
            Backend::Sqlite(s) => s.write_side(move |c| gaps::write_state(c, &pairs)).await,
            Backend::Postgres(p) => p.write_api_state(&pairs).await,
        }
    }

    /// Bulutfon's names of one kind, replacing its earlier ones; the user's own stay.
    pub async fn replace_bulutfon_names(&self, kind: NameKind, entries: Vec<(String, String)>) -> Result<(), StoreError> {
        match self {
            Backend::Sqlite(s) => s.write_side(move |c| names::replace_bulutfon(c, kind, &entries)).await,
            Backend::Postgres(p) => p.replace_bulutfon_names(kind, &entries).await,
        }
    }

    /// Where the history is, for messages (a PostgreSQL URL without its password).
    pub fn describe(&self) -> String {
        match self {
            Backend::Sqlite(s) => s.path().display().to_string(),
            Backend::Postgres(p) => p.shown().to_owned(),
        }
    }
}

impl From<Store> for Backend {
    fn from(s: Store) -> Self {
        Backend::Sqlite(s)
    }
}

/// Where the phone book is kept: the SQLite engine's database, or the PostgreSQL history that
/// receivers share. Every write is announced to the office's desks (on PostgreSQL, to those of
/// every receiver).
#[derive(Clone)]
pub enum PhoneBook {
    Sqlite(crate::Engine),
    Postgres(PgStore),
}

impl PhoneBook {
    /// Contacts matching `query` (name or company words, or a whole number); every contact, by
    /// name, for an empty query.
    pub async fn list(&self, query: String, limit: usize) -> Result<Vec<Contact>, ContactsError> {
        match self {
            PhoneBook::Sqlite(e) => e.list_contacts(query, limit).await,
            PhoneBook::Postgres(p) => p.list_contacts(&query, limit).await,
        }
    }

    pub async fn add(&self, input: ContactInput) -> Result<Contact, ContactsError> {
        match self {
            PhoneBook::Sqlite(e) => e.add_contact(input).await,
            PhoneBook::Postgres(p) => p.add_contact(&input).await,
        }
    }

    pub async fn update(&self, id: i64, input: ContactInput) -> Result<Contact, ContactsError> {
        match self {
            PhoneBook::Sqlite(e) => e.update_contact(id, input).await,
            PhoneBook::Postgres(p) => p.update_contact(id, &input).await,
        }
    }

    /// Add a call's number to an existing contact.
    pub async fn add_number(&self, id: i64, number: NumberInput) -> Result<Contact, ContactsError> {
        match self {
            PhoneBook::Sqlite(e) => e.add_number_to_contact(id, number).await,
            PhoneBook::Postgres(p) => p.add_number_to_contact(id, &number).await,
        }
    }

    pub async fn delete(&self, id: i64) -> Result<(), ContactsError> {
        match self {
            PhoneBook::Sqlite(e) => e.delete_contact(id).await,
            PhoneBook::Postgres(p) => p.delete_contact(id).await,
        }
    }

    /// Import one vCard or CSV file given by its name and content.
    pub async fn import_bytes(&self, name: String, bytes: Vec<u8>) -> Result<ImportReport, ContactsError> {
        match self {
            PhoneBook::Sqlite(e) => e.import_contact_bytes(name, bytes).await,
            PhoneBook::Postgres(p) => p.import_contact_bytes(&name, &bytes).await,
        }
    }
}
