//! The phone book on a PostgreSQL history, as `contacts/` keeps it on SQLite: the same rules
//! (numbers matched whole by their key, names by folded words, an import that finds what it
//! added before and keeps what the user edited since), so every receiver of the database and
//! every desk paired with any of them share one phone book. Calls read from the database are
//! named from it, and a name finds the calls of its contact's numbers.
//!
//! Writes take one advisory lock: two desks importing the same file through two receivers take
//! turns, and the second finds the first's contacts. Each write announces `contacts` on the
//! shared channel, so the desks of every receiver fetch the book again.

use std::collections::HashMap;
use std::path::PathBuf;

use tokio_postgres::GenericClient;

use super::journal::shared_payload;
use super::{contains_like, PgStore, SHARED_CHANNEL};
use crate::contacts::{
    self, api::ExportFormat, checked_input, folded_of, Contact, ContactInput, ContactMatch, ContactNumber, ContactSource, ContactsError,
    ImportReport, KeyedNumber, NameWords, NumberInput, Step,
};
use crate::store::StoreError;
use crate::time::now_us;
use crate::Call;

/// Advisory lock key every phone book write holds.
const CONTACTS_LOCK: i64 = 0x6b61_6e63_6100_0003;

impl From<tokio_postgres::Error> for ContactsError {
    fn from(e: tokio_postgres::Error) -> Self {
        ContactsError::Store(e.into())
    }
}

impl From<deadpool_postgres::PoolError> for ContactsError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        ContactsError::Store(e.into())
    }
}

const CONTACT_COLUMNS: &str = "id, name, company, email, note, tags, source, uid";

fn contact_from_row(r: &tokio_postgres::Row) -> Contact {
    Contact {
        id: r.get(0),
        name: r.get(1),
        company: r.get(2),
        email: r.get(3),
        note: r.get(4),
        tags: serde_json::from_str(r.get::<_, &str>(5)).unwrap_or_default(),
        source: ContactSource::parse(r.get(6)),
        uid: r.get(7),
        numbers: Vec::new(),
    }
}

/// The contacts with these ids (those that exist), each with its numbers, in no order.
async fn read_contacts(client: &impl GenericClient, ids: &[i64]) -> Result<Vec<Contact>, ContactsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client.query(&format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = ANY($1)"), &[&ids]).await?;
    let mut found: Vec<Contact> = rows.iter().map(contact_from_row).collect();
    let numbers = client
        .query("SELECT contact_id, raw, e164, label FROM contact_numbers WHERE contact_id = ANY($1) ORDER BY contact_id, position", &[&ids])
        .await?;
    let mut by_contact: HashMap<i64, Vec<ContactNumber>> = HashMap::new();
    for r in &numbers {
        by_contact.entry(r.get(0)).or_default().push(ContactNumber { raw: r.get(1), e164: r.get(2), label: r.get(3) });
    }
    for c in &mut found {
        c.numbers = by_contact.remove(&c.id).unwrap_or_default();
    }
    Ok(found)
}

async fn read_contact(client: &impl GenericClient, id: i64) -> Result<Option<Contact>, ContactsError> {
    Ok(read_contacts(client, &[id]).await?.pop())
}

/// Replace contact `id`'s numbers, as `contacts::write_numbers` does.
async fn write_numbers(client: &impl GenericClient, id: i64, numbers: &[KeyedNumber]) -> Result<(), ContactsError> {
    client.execute("DELETE FROM contact_numbers WHERE contact_id = $1", &[&id]).await?;
    let insert = client.prepare("INSERT INTO contact_numbers (contact_id, position, raw, e164, number_key, label) VALUES ($1, $2, $3, $4, $5, $6)").await?;
    for (i, (n, e164, key)) in numbers.iter().enumerate() {
        client.execute(&insert, &[&id, &(i as i32), &n.raw, e164, key, &n.label]).await?;
    }
    Ok(())
}

/// The matching contacts' ids (`what` = "c.id") or their numbers' keys (`what` =
/// "n.number_key"), by the rules of `contacts::matching`: every folded word inside the folded
/// name and company (the trigram index finds words of three letters or more); only shorter
/// words: the name (or company) starts with them.
async fn matching(client: &impl GenericClient, words: &NameWords, what: &str, limit: i64) -> Result<Vec<tokio_postgres::Row>, ContactsError> {
    let mut conds = Vec::new();
    let mut args = super::Args::default();
    if words.long.is_empty() {
        let (from, to) = contacts::prefix_range(&words.all);
        let (from, to) = (args.push(from), args.push(to));
        conds.push(format!("c.folded COLLATE \"C\" >= {from} AND c.folded COLLATE \"C\" < {to}"));
    } else {
        for w in &words.long {
            conds.push(format!("c.folded LIKE {}", args.push(contains_like(w))));
        }
        for w in &words.short {
            conds.push(format!("strpos(c.folded, {}) > 0", args.push(w.clone())));
        }
    }
    let ids = format!("SELECT c.id FROM contacts c WHERE {}", conds.join(" AND "));
    let sql = match what {
        "n.number_key" => format!("SELECT n.number_key FROM contact_numbers n WHERE n.contact_id IN ({ids})"),
        _ => format!("{ids} ORDER BY c.id LIMIT {}", args.push(limit)),
    };
    Ok(client.query(&sql, &args.refs()).await?)
}

/// The keys of the numbers of the contacts a name query finds (for searching calls by name).
pub(super) async fn matching_numbers(client: &impl GenericClient, query: &str) -> Result<Vec<String>, StoreError> {
    let Some(words) = contacts::name_words(query) else { return Ok(Vec::new()) };
    match matching(client, &words, "n.number_key", 0).await {
        Ok(rows) => Ok(rows.iter().map(|r| r.get(0)).collect()),
        Err(ContactsError::Store(e)) => Err(e),
        Err(other) => Err(StoreError::Corrupt(other.to_string())),
    }
}

/// A call party's key in the phone book: its E.164 form, else the key of the number as sent.
pub(super) fn party_key(e164: &Option<String>, raw: &Option<String>) -> Option<String> {
    e164.clone().or_else(|| raw.as_deref().and_then(contacts::number_key))
}

/// Name the parties of `calls` from the phone book (one query for the page), as
/// `contacts::annotate_all` does: the oldest contact with the number.
pub(super) async fn annotate(client: &impl GenericClient, calls: &mut [Call]) -> Result<(), StoreError> {
    let keyed: Vec<(Option<String>, Option<String>)> =
        calls.iter().map(|c| (party_key(&c.caller_e164, &c.caller_raw), party_key(&c.callee_e164, &c.callee_raw))).collect();
    let mut keys: Vec<&str> = keyed.iter().flat_map(|(a, b)| [a.as_deref(), b.as_deref()]).flatten().collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    let rows = client
        .query(
            "SELECT DISTINCT ON (n.number_key) n.number_key, c.name FROM contact_numbers n JOIN contacts c ON c.id = n.contact_id
             WHERE n.number_key = ANY($1) ORDER BY n.number_key, n.contact_id",
            &[&keys],
        )
        .await?;
    let names: HashMap<String, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for (call, (caller, callee)) in calls.iter_mut().zip(keyed) {
        call.caller_name = caller.and_then(|k| names.get(&k).cloned());
        call.callee_name = callee.and_then(|k| names.get(&k).cloned());
    }
    Ok(())
}

/// A transaction holding the phone book's lock.
async fn begin(client: &mut deadpool_postgres::Object) -> Result<deadpool_postgres::Transaction<'_>, ContactsError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CONTACTS_LOCK]).await?;
    Ok(tx)
}

/// Commit a phone book change, announcing it to every receiver's desks.
async fn commit<T>(tx: deadpool_postgres::Transaction<'_>, out: T) -> Result<T, ContactsError> {
    tx.execute("SELECT pg_notify($1, $2)", &[&SHARED_CHANNEL, &shared_payload(&crate::Shared::Contacts)]).await?;
    tx.commit().await?;
    Ok(out)
}

impl PgStore {

    /// Contacts matching `query` as `contacts::list` finds them: name or company words, or a
    /// whole number; every contact (the first `limit` by name) for an empty query.
    pub async fn list_contacts(&self, query: &str, limit: usize) -> Result<Vec<Contact>, ContactsError> {
        let client = self.pool.get().await?;
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut ids: Vec<i64> = match contacts::name_words(query) {
            None => client.query("SELECT id FROM contacts ORDER BY folded COLLATE \"C\", id LIMIT $1", &[&limit]).await?,
            Some(words) => matching(&**client, &words, "c.id", limit).await?,
        }
        .iter()
        .map(|r| r.get(0))
        .collect();
        if let Some(key) = contacts::query_number_key(query) {
            for r in client.query("SELECT contact_id FROM contact_numbers WHERE number_key = $1 ORDER BY contact_id", &[&key]).await? {
                let id: i64 = r.get(0);
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids.truncate(limit as usize);
        let mut found = read_contacts(&**client, &ids).await?;
        contacts::sort_listed(&mut found);
        Ok(found)
    }

    /// Every contact, by name (export, a desk's copy).
    pub async fn all_contacts(&self) -> Result<Vec<Contact>, ContactsError> {
        self.list_contacts("", usize::MAX >> 1).await
    }

    pub async fn get_contact(&self, id: i64) -> Result<Option<Contact>, ContactsError> {
        read_contact(&**self.pool.get().await?, id).await
    }

    /// The contact `number` belongs to (the oldest, when several share it), matched whole.
    pub async fn lookup_contact(&self, number: &str) -> Result<Option<ContactMatch>, ContactsError> {
        let Some(key) = contacts::number_key(number) else { return Ok(None) };
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT c.id, c.name, c.company, c.note FROM contact_numbers n JOIN contacts c ON c.id = n.contact_id
                 WHERE n.number_key = $1 ORDER BY n.contact_id LIMIT 1",
                &[&key],
            )
            .await?;
        Ok(row.map(|r| ContactMatch { id: r.get(0), name: r.get(1), company: r.get(2), note: r.get(3) }))
    }

    /// Add a contact the user typed in.
    pub async fn add_contact(&self, input: &ContactInput) -> Result<Contact, ContactsError> {
        let (numbers, name) = checked_input(input)?;
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let id: i64 = tx
                .query_one(
                    "INSERT INTO contacts (name, company, email, note, tags, source, folded, updated_at_us)
                     VALUES ($1, $2, $3, $4, $5, 'typed', $6, $7) RETURNING id",
                    &[&name, &input.company, &input.email, &input.note, &tags_json(&input.tags), &folded_of(&name, input.company.as_deref()), &now_us()],
                )
                .await?
                .get(0);
        write_numbers(&*tx, id, &numbers).await?;
        let added = read_contact(&*tx, id).await?.ok_or(ContactsError::NotFound(id))?;
        commit(tx, added).await
    }

    /// Replace a contact's fields and numbers with `input` (an import keeps it from then on).
    pub async fn update_contact(&self, id: i64, input: &ContactInput) -> Result<Contact, ContactsError> {
        let (numbers, name) = checked_input(input)?;
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let updated = update(&tx, id, input, &name, &numbers).await?;
        commit(tx, updated).await
    }

    /// Add a call's number to an existing contact; nothing changes when it has it already.
    pub async fn add_number_to_contact(&self, id: i64, number: &NumberInput) -> Result<Contact, ContactsError> {
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let c = read_contact(&*tx, id).await?.ok_or(ContactsError::NotFound(id))?;
        let Some(input) = contacts::with_number(&c, number)? else { return Ok(c) };
        let (numbers, name) = checked_input(&input)?;
        let updated = update(&tx, id, &input, &name, &numbers).await?;
        commit(tx, updated).await
    }

    pub async fn delete_contact(&self, id: i64) -> Result<(), ContactsError> {
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        if tx.execute("DELETE FROM contacts WHERE id = $1", &[&id]).await? == 0 {
            return Err(ContactsError::NotFound(id));
        }
        commit(tx, ()).await
    }

    /// Import one file given by its name and content, in one transaction, as
    /// `contacts::import_cards` does; a file that is no contacts file is reported as skipped.
    pub async fn import_contact_bytes(&self, name: &str, bytes: &[u8]) -> Result<ImportReport, ContactsError> {
        let cards = match contacts::parse_file(name, bytes) {
            Ok(cards) => cards,
            Err(skip) => return Ok(ImportReport { skipped: vec![skip], ..Default::default() }),
        };
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let mut report = ImportReport::default();
        for (skips, ready) in contacts::ready_cards(cards) {
            report.skipped.extend(skips);
            let Some(ready) = ready else { continue };
            let row = tx.query_opt("SELECT id, edited_at_us IS NOT NULL FROM contacts WHERE identity = $1", &[&ready.identity]).await?;
            let stored = match row {
                Some(r) => read_contact(&*tx, r.get(0)).await?.map(|c| (c, r.get::<_, bool>(1))),
                None => None,
            };
            let step = ready.step(stored.as_ref().map(|(c, edited)| (c, *edited)));
            let card = &ready.card;
            let (tags, folded) = ready.stored_text();
            let id = match step {
                Step::Unchanged | Step::Kept => None,
                Step::Update(id) => {
                    tx.execute(
                        "UPDATE contacts SET name = $2, company = $3, email = $4, note = $5, tags = $6, uid = $7, folded = $8, updated_at_us = $9
                         WHERE id = $1",
                        &[&id, &card.name, &card.company, &card.email, &card.note, &tags, &card.uid, &folded, &now_us()],
                    )
                    .await?;
                    Some(id)
                }
                Step::Add => Some(
                    tx.query_one(
                        "INSERT INTO contacts (name, company, email, note, tags, source, uid, identity, folded, updated_at_us)
                         VALUES ($1, $2, $3, $4, $5, 'file', $6, $7, $8, $9) RETURNING id",
                        &[&card.name, &card.company, &card.email, &card.note, &tags, &card.uid, &ready.identity, &folded, &now_us()],
                    )
                    .await?
                    .get(0),
                ),
            };
            if let Some(id) = id {
                write_numbers(&*tx, id, &ready.numbers).await?;
            }
            report.count(&ready, step);
        }
        commit(tx, report).await
    }

    /// Import vCard and CSV files by path, each in its own transaction, as
    /// `contacts::import_files` does: a file that cannot be read is reported, the others imported.
    pub async fn import_contacts(&self, paths: &[PathBuf]) -> Result<ImportReport, ContactsError> {
        let mut report = ImportReport::default();
        for path in paths {
            if let Some((name, bytes)) = contacts::read_file(path, &mut report) {
                report.merge(self.import_contact_bytes(&name, &bytes).await?);
            }
        }
        Ok(report)
    }

    /// The phone book in `format`, as `contacts::api::export` writes it.
    pub async fn export_contacts(&self, format: ExportFormat) -> Result<Vec<u8>, ContactsError> {
        contacts::api::export_list(&self.all_contacts().await?, format)
    }
}

fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

/// Write `input` over contact `id` (checked already: `name` and `numbers`), marked as edited.
async fn update(tx: &deadpool_postgres::Transaction<'_>, id: i64, input: &ContactInput, name: &str, numbers: &[KeyedNumber]) -> Result<Contact, ContactsError> {
    let n = tx
        .execute(
            "UPDATE contacts SET name = $2, company = $3, email = $4, note = $5, tags = $6, folded = $7, updated_at_us = $8, edited_at_us = $8
             WHERE id = $1",
            &[&id, &name, &input.company, &input.email, &input.note, &tags_json(&input.tags), &folded_of(name, input.company.as_deref()), &now_us()],
        )
        .await?;
    if n == 0 {
        return Err(ContactsError::NotFound(id));
    }
    write_numbers(&**tx, id, numbers).await?;
    read_contact(&**tx, id).await?.ok_or(ContactsError::NotFound(id))
}
