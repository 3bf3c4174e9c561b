//! Phone book benchmark: import of a 100,000-contact vCard file and a 100,000-row CSV file
//! (time and peak memory), importing them again (nothing changes), caller look-up at 100,000
//! contacts, and how long a call takes from its delivery to the change a pop-up is shown from
//! (which now carries the caller's name), with that phone book and with an empty one.
//!
//!   cargo bench -p kanca-core --bench contacts
//!   KANCA_BENCH_CONTACTS=10000 cargo bench -p kanca-core --bench contacts

#[path = "gen_contacts.rs"]
mod gen;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kanca_core::contacts;
use kanca_core::store::{self, IncomingEvent};
use kanca_core::webhook;

/// Peak resident memory of this process since the last [`reset_peak`], in MiB (Linux).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

/// Writing 5 to clear_refs resets the peak (Linux 4.0+).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn fresh_db(dir: &Path) -> store::Connection {
    let path = dir.join(store::DB_FILE);
    for ext in ["db", "db-wal", "db-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    store::open(&path).expect("open database")
}

fn import(dir: &Path, file: &Path, label: &str) {
    let mut conn = fresh_db(dir);
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    reset_peak();
    let before = rss_mib();
    let t = Instant::now();
    let report = contacts::import_files(&mut conn, &[file]).expect("import");
    let secs = t.elapsed().as_secs_f64();
    let peak = peak_mib();
    println!(
        "{label:<8} {:>6.1} MiB file: {:>7} added, {:>3} skipped in {secs:>5.2} s ({:>6.0} contacts/s), peak RSS {peak:.0} MiB ({:+.0} MiB over the {before:.0} MiB before)",
        size as f64 / 1048576.0,
        report.added,
        report.skipped.len(),
        report.added as f64 / secs,
        peak - before,
    );
    let t = Instant::now();
    let again = contacts::import_files(&mut conn, &[file]).expect("import again");
    println!(
        "{label:<8} again: {} added, {} updated, {} unchanged in {:.2} s",
        again.added,
        again.updated,
        again.unchanged,
        t.elapsed().as_secs_f64()
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Delivery (`Store::ingest`) to the published change, as the pop-up service receives it,
/// for `count` calls from callers 0.. (contacts, when the book has them), one at a time.
fn popup_path(data_dir: &Path, count: u64, label: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = kanca_core::Engine::open(data_dir).expect("open engine").store().clone();
        let mut changes = store.subscribe();
        let mut times = Vec::new();
        let mut named = 0;
        for k in 0..count {
            let body = format!(
                r#"{{"event_type":"call_init","uuid":"popup-{}-{k}","caller":{},"callee":908508850000,"direction":"IN","timestamp":{}}}"#,
                std::process::id(),
                gen::caller_number(k * 7 % 100_000),
                kanca_core::time::now_us()
            );
            let inc = IncomingEvent {
                event: webhook::parse(Some("application/json"), body.as_bytes()).unwrap(),
                raw: body.into_bytes(),
                content_type: Some("application/json".into()),
                received_at_us: kanca_core::time::now_us(),
            };
            let t = Instant::now();
            store.ingest(inc).await.expect("ingest");
            let change = changes.recv().await.expect("change");
            times.push(t.elapsed());
            named += change.call.caller_name.is_some() as usize;
        }
        times.sort();
        println!(
            "{label}: delivery to pop-up change ({count} calls, {named} with a name): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3
        );
    });
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    if let Some(file) = std::env::var_os("KANCA_BENCH_IMPORT") {
        let file = PathBuf::from(file);
        import(file.parent().unwrap(), &file, &std::env::var("KANCA_BENCH_LABEL").unwrap_or_default());
        return;
    }
    let n: u64 = std::env::var("KANCA_BENCH_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/out").join(format!("contacts-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let vcf = dir.join("contacts.vcf");
    let csv = dir.join("contacts.csv");
    std::fs::write(&vcf, gen::vcard(n)).unwrap();
    std::fs::write(&csv, gen::csv(n)).unwrap();
    println!("import of {n} contacts (one transaction each; a fresh database and process each)");
    // Each import in a process of its own, so the peak memory is that import's.
    for (file, label) in [(&vcf, "vCard"), (&csv, "CSV")] {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--bench")
            .env("KANCA_BENCH_IMPORT", file)
            .env("KANCA_BENCH_LABEL", label)
            .status()
            .expect("run the import");
        assert!(status.success());
    }

    // Look-up: the database the CSV import left, a number per call as a pop-up would ask.
    let conn = store::open(&dir.join(store::DB_FILE)).unwrap();
    let contacts: i64 = conn.query_row("SELECT count(*) FROM contacts", [], |r| r.get(0)).unwrap();
    let mut times = Vec::new();
    let mut found = 0;
    for k in 0..20_000u64 {
        // Half the callers are contacts (0..n), half are not (n..2n), spelled as Bulutfon sends them.
        let number = gen::caller_number((k * 7919) % (2 * n));
        let t = Instant::now();
        if contacts::lookup(&conn, &number).unwrap().is_some() {
            found += 1;
        }
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "\nlook-up of a caller by any spelling at {contacts} contacts ({} look-ups, {found} known; parsing the number included): p50 {:.1} µs, p95 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.95).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.last().unwrap().as_secs_f64() * 1e6
    );
    // What the pop-up path does: the call's number is already in E.164, no parsing.
    let mut times = Vec::new();
    for k in 0..20_000u64 {
        let e164 = format!("+{}", gen::caller_number((k * 7919) % (2 * n)));
        let t = Instant::now();
        let _ = contacts::lookup_key(&conn, &e164).unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "look-up by E.164 (as a call carries it, no parsing): p50 {:.1} µs, p95 {:.1} µs, p99 {:.1} µs",
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.95).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6
    );
    drop(conn);

    println!();
    popup_path(&dir, 300, &format!("phone book of {n}"));
    let empty = dir.join("empty");
    let _ = std::fs::remove_dir_all(&empty);
    popup_path(&empty, 300, "empty phone book");
}
