//! `kanca contacts import|list|export` and `kanca export`: the phone book and the call list from
//! the command line, straight on the database (beside a running `kanca serve`, like `history`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use kanca_core::contacts::{self, api::ExportFormat};
use kanca_core::{history, store};

use crate::cli::{data_dir, on_postgres, open_db, printable, HistoryFilters};

/// Open (creating it if need be) the database for writing.
fn open_for_writing(dir: Option<PathBuf>) -> Result<store::Connection> {
    let dir = data_dir(dir)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    Ok(store::open(&dir.join(store::DB_FILE))?)
}

/// Import every file that can be read; exit with 1 when one cannot be read at all.
pub fn import(files: Vec<PathBuf>, json: bool, dir: Option<PathBuf>, database: Option<String>) -> Result<ExitCode> {
    let report = match &database {
        Some(url) => on_postgres(url, async |history| history.import_contacts(&files).await)?,
        None => contacts::import_files(&mut open_for_writing(dir)?, &files.iter().map(PathBuf::as_path).collect::<Vec<_>>())?,
    };
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(out, "Added {}, updated {}, already up to date {}, skipped {}.", report.added, report.updated, report.unchanged, report.skipped.len())?;
        for s in &report.skipped {
            writeln!(out, "  {}: {}", printable(&s.place), printable(&s.reason))?;
        }
    }
    out.flush()?;
    Ok(if report.unreadable.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub fn list(query: Vec<String>, limit: usize, json: bool, dir: Option<PathBuf>, database: Option<String>) -> Result<ExitCode> {
    let (query, limit) = (query.join(" "), limit.max(1));
    let found = match &database {
        Some(url) => on_postgres(url, async |history| history.list_contacts(&query, limit).await)?,
        None => match open_db(&data_dir(dir)?)? {
            Some(conn) => contacts::list(&conn, &query, limit)?,
            None => Vec::new(),
        },
    };
    let mut out = std::io::stdout().lock();
    if json {
        for c in &found {
            serde_json::to_writer(&mut out, c)?;
            out.write_all(b"\n")?;
        }
    } else if found.is_empty() {
        writeln!(out, "No contacts found.")?;
    } else {
        writeln!(out, "{:<28}  {:<24}  NUMBERS", "NAME", "COMPANY")?;
        for c in &found {
            let numbers: Vec<String> = c
                .numbers
                .iter()
                .map(|n| {
                    let shown = kanca_core::phone::normalize(&n.raw).display;
                    match &n.label {
                        Some(l) => format!("{shown} ({l})"),
                        None => shown,
                    }
                })
                .collect();
            writeln!(out, "{:<28}  {:<24}  {}", printable(&c.name), printable(c.company.as_deref().unwrap_or("")), printable(&numbers.join(", ")))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn export_contacts(format: &str, dir: Option<PathBuf>, database: Option<String>) -> Result<ExitCode> {
    let format = match format {
        "vcard" | "vcf" => ExportFormat::Vcard,
        "csv" => ExportFormat::Csv,
        other => bail!("--format {other}: use vcard or csv"),
    };
    let bytes = match &database {
        Some(url) => on_postgres(url, async |history| history.export_contacts(format).await)?,
        None => match open_db(&data_dir(dir)?)? {
            Some(conn) => contacts::api::export(&conn, format)?,
            None => Vec::new(),
        },
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Every call the filters select, newest first, as CSV for a spreadsheet.
pub fn export_calls(filters: HistoryFilters, delimiter: &str, dir: Option<PathBuf>, database: Option<String>) -> Result<ExitCode> {
    let delimiter = match delimiter {
        "," => b',',
        ";" => b';',
        "\\t" | "\t" | "tab" => b'\t',
        other => bail!("--delimiter {other:?}: use ',', ';' or tab"),
    };
    let dir = data_dir(dir)?;
    let mut query = filters.query(10_000)?;
    let mut calls = Vec::new();
    // Every page the filters select, not the first.
    fn more(page: history::Page, query: &mut history::Query, calls: &mut Vec<kanca_core::Call>) -> bool {
        calls.extend(page.calls);
        query.before = page.next_cursor;
        query.before.is_some()
    }
    match &database {
        Some(url) => on_postgres(url, async |history| {
            while more(history.search(&query).await?, &mut query, &mut calls) {}
            Ok::<_, kanca_core::StoreError>(())
        })?,
        None => {
            if let Some(conn) = open_db(&dir)? {
                while more(history::search(&conn, &query)?, &mut query, &mut calls) {}
            }
        }
    }
    let mut out = std::io::stdout().lock();
    kanca_core::export::calls_csv(&mut out, delimiter, &calls)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
