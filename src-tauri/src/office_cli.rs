//! `kanca clients add|list|revoke` and `kanca serve --office`: pairing the office's desks with
//! this receiver from the command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use kanca_core::office::{clients, DEFAULT_PORT};
use kanca_core::store;

use crate::cli::{data_dir, on_postgres, printable};

/// Environment variable for `--office`'s address.
pub const ENV_OFFICE_LISTEN: &str = "KANCA_OFFICE_LISTEN";

/// Where the client API listens: the flag's address, else `KANCA_OFFICE_LISTEN`, else every
/// interface on port 8498 (desks are other computers).
pub fn office_listen(flag: &str) -> Result<SocketAddr> {
    let text = Some(flag.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var(ENV_OFFICE_LISTEN).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| format!("0.0.0.0:{DEFAULT_PORT}"));
    text.trim().parse().with_context(|| format!("{text:?} is not an address such as 0.0.0.0:{DEFAULT_PORT}"))
}

fn open(dir: Option<PathBuf>) -> Result<(PathBuf, store::Connection)> {
    let dir = data_dir(dir)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let conn = store::open(&dir.join(store::DB_FILE))?;
    Ok((dir, conn))
}

pub fn add(name: &str, addresses: Vec<String>, json: bool, dir: Option<PathBuf>, database: Option<String>) -> Result<ExitCode> {
    let dir = data_dir(dir)?;
    let pairing = match &database {
        None => {
            if addresses.len() > 1 {
                anyhow::bail!("several --address are for receivers sharing a PostgreSQL history (--database); this one has its own");
            }
            kanca_core::office::pair_desk(&dir, name, addresses.into_iter().next())?
        }
        Some(url) => on_postgres(url, async |history| kanca_core::office::pair_desk_shared(&history, &dir, name, addresses).await)?,
    };
    let code = pairing.code();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"name": pairing.name, "address": pairing.addr, "also": pairing.also, "fingerprint": pairing.fp, "code": code}),
        )?;
        writeln!(out)?;
    } else {
        writeln!(out, "Paste this pairing code into {}'s Kanca (Settings > Ofis alıcısına bağlan):", printable(name.trim()))?;
        writeln!(out, "{code}")?;
        let on = if database.is_some() { " --database URL" } else { "" };
        writeln!(out, "It shows once: keep it out of chats and e-mails. `kanca clients revoke {}{on}` undoes it.", printable(name.trim()))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(json: bool, dir: Option<PathBuf>, database: Option<String>) -> Result<ExitCode> {
    let all = match &database {
        None => clients::list(&open(dir)?.1)?,
        Some(url) => on_postgres(url, async |history| history.list_desks().await)?,
    };
    let mut out = std::io::stdout().lock();
    for c in &all {
        if json {
            serde_json::to_writer(&mut out, c)?;
            writeln!(out)?;
        } else {
            let state = if c.revoked { "revoked" } else { "paired" };
            writeln!(out, "{:<24} {state:<8} last seen {}", printable(&c.name), c.last_seen.as_deref().unwrap_or("never"))?;
        }
    }
    if all.is_empty() && !json {
        writeln!(out, "No desks are paired. `kanca clients add NAME` pairs one.")?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn revoke(name: &str, dir: Option<PathBuf>, database: Option<String>) -> Result<ExitCode> {
    match &database {
        None => clients::revoke(&open(dir)?.1, name)?,
        Some(url) => on_postgres(url, async |history| history.revoke_desk(name).await)?,
    }
    println!("Revoked {}: it is refused from now on.", printable(name.trim()));
    Ok(ExitCode::SUCCESS)
}
