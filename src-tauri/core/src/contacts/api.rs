//! The phone book and call notes as the desktop shell uses them: [`Engine`] methods that run
//! the database work on a blocking thread, never on the async executor.

use std::path::PathBuf;

use super::{Contact, ContactInput, ContactMatch, ContactsError, ImportReport};
use crate::notes::{NotesError, Tag};
use crate::store::{Connection, StoreError};
use crate::{Engine, Shared};

/// The format of an exported phone book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Vcard,
    Csv,
}

/// The phone book in `format`: vCard 3.0, or CSV with a BOM for Excel.
pub fn export(conn: &Connection, format: ExportFormat) -> Result<Vec<u8>, ContactsError> {
    export_list(&super::all(conn)?, format)
}

/// `contacts` in `format`, as [`export`] writes the phone book.
pub fn export_list(contacts: &[Contact], format: ExportFormat) -> Result<Vec<u8>, ContactsError> {
    Ok(match format {
        ExportFormat::Vcard => super::vcard::export(contacts).into_bytes(),
        ExportFormat::Csv => {
            let mut out = Vec::new();
            super::csv::export(&mut out, contacts).map_err(|e| ContactsError::Store(StoreError::Corrupt(e.to_string())))?;
            out
        }
    })
}

impl Engine {
    /// Run `f` on a write connection of its own ([`crate::Store::write_side`]).
    async fn write_side<T, E>(&self, f: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.store().write_side(move |c| Ok(f(c))).await?
    }

    async fn read_side<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ContactsError> + Send + 'static,
    ) -> Result<T, ContactsError> {
        let out = self.store().read(move |c| Ok(f(c))).await?;
        out
    }

    /// The contact `number` belongs to, by any spelling, matched whole (for a pop-up's title).
    pub async fn lookup_contact(&self, number: String) -> Result<Option<ContactMatch>, ContactsError> {
        self.read_side(move |c| super::lookup(c, &number)).await
    }

    /// [`Engine::lookup_contact`] for a caller already on a blocking thread.
    pub fn lookup_contact_blocking(&self, number: &str) -> Result<Option<ContactMatch>, ContactsError> {
        self.store().read_blocking(|c| Ok(super::lookup(c, number)))?
    }

    /// Contacts matching `query` (name or company, Turkish case and accents forgiven, or a whole
    /// number); every contact for an empty query.
    pub async fn list_contacts(&self, query: String, limit: usize) -> Result<Vec<Contact>, ContactsError> {
        self.read_side(move |c| super::list(c, &query, limit)).await
    }

    pub async fn get_contact(&self, id: i64) -> Result<Option<Contact>, ContactsError> {
        self.read_side(move |c| super::read_contact(c, id)).await
    }

    pub async fn add_contact(&self, input: ContactInput) -> Result<Contact, ContactsError> {
        self.announced(Shared::Contacts, self.write_side(move |c| super::add(c, &input)).await)
    }

    pub async fn update_contact(&self, id: i64, input: ContactInput) -> Result<Contact, ContactsError> {
        self.announced(Shared::Contacts, self.write_side(move |c| super::update(c, id, &input)).await)
    }

    /// Add a call's number to an existing contact.
    pub async fn add_number_to_contact(&self, id: i64, number: super::NumberInput) -> Result<Contact, ContactsError> {
        self.announced(Shared::Contacts, self.write_side(move |c| super::add_number(c, id, &number)).await)
    }

    pub async fn delete_contact(&self, id: i64) -> Result<(), ContactsError> {
        self.announced(Shared::Contacts, self.write_side(move |c| super::delete(c, id)).await)
    }

    /// Import vCard and CSV files (see [`super::import_files`]).
    pub async fn import_contacts(&self, paths: Vec<PathBuf>) -> Result<ImportReport, ContactsError> {
        let report = self.write_side(move |c| super::import_files(c, &paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())).await;
        self.announced(Shared::Contacts, report)
    }

    /// Import one file given by its content and name (the window's file picker hands over
    /// contents, not paths). A file that is no contacts file is reported as skipped, as by path.
    pub async fn import_contact_bytes(&self, name: String, bytes: Vec<u8>) -> Result<ImportReport, ContactsError> {
        let report = self
            .write_side(move |c| match super::parse_file(&name, &bytes) {
                Ok(cards) => super::import_cards(c, cards),
                Err(skip) => Ok(ImportReport { skipped: vec![skip], ..Default::default() }),
            })
            .await;
        self.announced(Shared::Contacts, report)
    }

    pub async fn export_contacts(&self, format: ExportFormat) -> Result<Vec<u8>, ContactsError> {
        self.read_side(move |c| export(c, format)).await
    }

    /// Set a call's note (empty removes it).
    pub async fn set_call_note(&self, uuid: String, note: String) -> Result<(), NotesError> {
        let u = uuid.clone();
        self.announced(Shared::CallNotes(u), self.write_side(move |c| crate::notes::set_note(c, &uuid, &note)).await)
    }

    /// Set a call's tags (empty removes them).
    pub async fn set_call_tags(&self, uuid: String, tags: Vec<String>) -> Result<(), NotesError> {
        let u = uuid.clone();
        self.announced(Shared::CallNotes(u), self.write_side(move |c| crate::notes::set_tags(c, &uuid, &tags)).await)
    }

    /// Every tag with its colour, for the tag filter.
    pub async fn call_tags(&self) -> Result<Vec<Tag>, StoreError> {
        self.store().read(crate::notes::tags).await
    }

    pub async fn set_tag_colour(&self, tag: String, colour: String) -> Result<(), NotesError> {
        self.announced(Shared::TagColours, self.write_side(move |c| crate::notes::set_tag_colour(c, &tag, &colour)).await)
    }

    /// Name a menu, group, extension or number locally (None or blank removes the name).
    pub async fn set_pbx_name(&self, kind: crate::names::NameKind, number: String, name: Option<String>) -> Result<(), StoreError> {
        let written = self.write_side(move |c| crate::names::set_local(c, kind, &number, name.as_deref())).await;
        self.announced(Shared::Names, written)
    }

    /// Pass `result` on, announcing `what` to the office's desks when it is a success.
    fn announced<T, E>(&self, what: Shared, result: Result<T, E>) -> Result<T, E> {
        if result.is_ok() {
            self.announce(what);
        }
        result
    }
}
