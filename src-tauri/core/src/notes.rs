//! Notes and tags the user puts on calls, searchable, with a colour per tag from a small palette.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::fold::fold;
use crate::store::StoreError;
use crate::time::now_us;

/// A colour a tag can have: a name the UI maps to its own shades for the light and dark themes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum TagColour {
    Red,
    Orange,
    Yellow,
    Green,
    Teal,
    Blue,
    Purple,
    Grey,
}

/// The palette the user picks from, in the order it is shown.
pub const PALETTE: [TagColour; 8] =
    [TagColour::Red, TagColour::Orange, TagColour::Yellow, TagColour::Green, TagColour::Teal, TagColour::Blue, TagColour::Purple, TagColour::Grey];

impl TagColour {
    /// The name stored in the database and sent to the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            TagColour::Red => "red",
            TagColour::Orange => "orange",
            TagColour::Yellow => "yellow",
            TagColour::Green => "green",
            TagColour::Teal => "teal",
            TagColour::Blue => "blue",
            TagColour::Purple => "purple",
            TagColour::Grey => "grey",
        }
    }

    pub fn parse(name: &str) -> Option<TagColour> {
        PALETTE.into_iter().find(|c| c.as_str() == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no call with uuid {0:?}")]
    UnknownCall(String),
    #[error("{0:?} is not a tag colour (one of red, orange, yellow, green, teal, blue, purple, grey)")]
    BadColour(String),
    #[error("a tag cannot be empty")]
    EmptyTag,
}

impl From<rusqlite::Error> for NotesError {
    fn from(e: rusqlite::Error) -> Self {
        NotesError::Store(StoreError::Sqlite(e))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Tag {
    pub name: String,
    pub colour: TagColour,
    /// How many calls carry it.
    #[ts(type = "number")]
    pub calls: i64,
}

/// A call's note (None when it has none) and tags.
pub fn get(conn: &Connection, uuid: &str) -> Result<(Option<String>, Vec<String>), StoreError> {
    let row: Option<(Option<String>, String)> =
        conn.prepare_cached("SELECT note, tags FROM call_notes WHERE uuid = ?1")?.query_row([uuid], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    Ok(match row {
        Some((note, tags)) => (note, serde_json::from_str(&tags).unwrap_or_default()),
        None => (None, Vec::new()),
    })
}

fn check_call(conn: &Connection, uuid: &str) -> Result<(), NotesError> {
    let known = conn.prepare_cached("SELECT 1 FROM calls WHERE uuid = ?1")?.exists([uuid])?;
    if known {
        Ok(())
    } else {
        Err(NotesError::UnknownCall(uuid.to_owned()))
    }
}

fn write(conn: &mut Connection, uuid: &str, note: Option<String>, tags: Vec<String>) -> Result<(), NotesError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    check_call(&tx, uuid)?;
    write_in(&tx, uuid, note.as_deref(), &tags)?;
    tx.commit()?;
    Ok(())
}

/// Write a call's note and tags inside the caller's transaction.
fn write_in(tx: &Connection, uuid: &str, note: Option<&str>, tags: &[String]) -> Result<(), rusqlite::Error> {
    if note.is_none() && tags.is_empty() {
        tx.execute("DELETE FROM call_notes WHERE uuid = ?1", [uuid])?;
    } else {
        let folded = folded(note, tags);
        tx.execute(
            "INSERT INTO call_notes (uuid, note, tags, folded, updated_at_us) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(uuid) DO UPDATE SET note = ?2, tags = ?3, folded = ?4, updated_at_us = ?5",
            params![uuid, note, serde_json::to_string(&tags).unwrap_or_default(), folded, now_us()],
        )?;
    }
    tx.execute("DELETE FROM call_tags WHERE uuid = ?1", [uuid])?;
    for t in tags {
        tx.execute("INSERT OR IGNORE INTO call_tags (tag, uuid) VALUES (?1, ?2)", [t, uuid])?;
        tx.execute("INSERT OR IGNORE INTO tag_colours (tag, colour) VALUES (?1, ?2)", [t, first_colour(t).as_str()])?;
    }
    Ok(())
}

/// A call's note and tags, as `/v1/notes` lists them for desks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallNote {
    pub uuid: String,
    pub note: Option<String>,
    pub tags: Vec<String>,
}

/// Every call's note and tags, by uuid.
pub fn all(conn: &Connection) -> Result<Vec<CallNote>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT uuid, note, tags FROM call_notes ORDER BY uuid")?;
    let rows = stmt.query_map([], |r| {
        let tags: String = r.get(2)?;
        Ok(CallNote { uuid: r.get(0)?, note: r.get(1)?, tags: serde_json::from_str(&tags).unwrap_or_default() })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Make every call's note and tags those of `notes`, in one transaction: an office desk mirrors
/// its receiver's. A note on a call this database does not have is left out; how many were.
pub fn replace_all(conn: &mut Connection, notes: &[CallNote]) -> Result<usize, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("DELETE FROM call_notes; DELETE FROM call_tags;")?;
    let mut left_out = 0;
    for n in notes {
        if !tx.prepare_cached("SELECT 1 FROM calls WHERE uuid = ?1")?.exists([&n.uuid])? {
            left_out += 1;
            continue;
        }
        write_in(&tx, &n.uuid, n.note.as_deref(), &n.tags)?;
    }
    tx.commit()?;
    Ok(left_out)
}

/// What search matches of a note and tags.
pub fn folded(note: Option<&str>, tags: &[String]) -> String {
    fold(&format!("{} {}", note.unwrap_or(""), tags.join(" ")))
}

/// The colour a new tag gets: one of the palette, stable for its name.
pub fn first_colour(tag: &str) -> TagColour {
    PALETTE[tag.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize)) % PALETTE.len()]
}

/// A note as kept: trimmed, None when empty.
pub fn clean_note(note: &str) -> Option<String> {
    Some(note.trim().to_owned()).filter(|n| !n.is_empty())
}

/// Tags as kept: trimmed, without repeats, in the order given; an empty one is refused.
pub fn clean_tags(tags: &[String]) -> Result<Vec<String>, NotesError> {
    let mut clean: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim();
        if t.is_empty() {
            return Err(NotesError::EmptyTag);
        }
        if !clean.iter().any(|c| c == t) {
            clean.push(t.to_owned());
        }
    }
    Ok(clean)
}

/// A tag colour's name checked against [`PALETTE`], and the tag trimmed.
pub fn check_tag_colour<'a>(tag: &'a str, colour: &str) -> Result<(&'a str, TagColour), NotesError> {
    let Some(colour) = TagColour::parse(colour) else {
        return Err(NotesError::BadColour(colour.to_owned()));
    };
    if tag.trim().is_empty() {
        return Err(NotesError::EmptyTag);
    }
    Ok((tag.trim(), colour))
}

/// Set the note of call `uuid`; an empty note removes it.
pub fn set_note(conn: &mut Connection, uuid: &str, note: &str) -> Result<(), NotesError> {
    let (_, tags) = get(conn, uuid)?;
    write(conn, uuid, clean_note(note), tags)
}

/// Set the tags of call `uuid` (trimmed, without repeats; empty removes them all).
pub fn set_tags(conn: &mut Connection, uuid: &str, tags: &[String]) -> Result<(), NotesError> {
    let (note, _) = get(conn, uuid)?;
    write(conn, uuid, note, clean_tags(tags)?)
}

/// Every tag with its colour and how many calls carry it.
pub fn tags(conn: &Connection) -> Result<Vec<Tag>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.tag, t.colour, (SELECT count(*) FROM call_tags c WHERE c.tag = t.tag) FROM tag_colours t ORDER BY t.tag",
    )?;
    // Only set_tag_colour and write store colours, both from the palette; grey for anything else.
    let rows = stmt.query_map([], |r| {
        let colour: String = r.get(1)?;
        Ok(Tag { name: r.get(0)?, colour: TagColour::parse(&colour).unwrap_or(TagColour::Grey), calls: r.get(2)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Make the tag colours those of `tags`, in one transaction: an office desk mirrors its
/// receiver's colours.
pub fn replace_tag_colours(conn: &mut Connection, tags: &[Tag]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM tag_colours", [])?;
    for t in tags.iter().filter(|t| !t.name.trim().is_empty()) {
        tx.execute("INSERT OR REPLACE INTO tag_colours (tag, colour) VALUES (?1, ?2)", [t.name.trim(), t.colour.as_str()])?;
    }
    tx.commit()?;
    Ok(())
}

/// Choose a tag's colour from [`PALETTE`].
pub fn set_tag_colour(conn: &Connection, tag: &str, colour: &str) -> Result<(), NotesError> {
    let (tag, colour) = check_tag_colour(tag, colour)?;
    conn.execute("INSERT INTO tag_colours (tag, colour) VALUES (?1, ?2) ON CONFLICT(tag) DO UPDATE SET colour = ?2", [tag, colour.as_str()])?;
    Ok(())
}
