//! Search benchmark: builds a history of N calls (default 1,000,000) through the engine's own
//! ingest path and a phone book of 100,000 contacts (half of the callers), then times
//! number-substring, name and filter queries and prints p50/p95.
//!
//!   cargo bench -p kanca-core --bench search            # 1M calls, database kept in bench/out
//!   KANCA_BENCH_CALLS=100000 cargo bench -p kanca-core --bench search
//!
//! The database is reused between runs when it already holds N calls.

#[path = "gen_contacts.rs"]
mod gen;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kanca_core::history::{search, Query};
use kanca_core::store::{self, ingest_batch, IncomingEvent};
use kanca_core::{webhook, CallKind, Direction};

/// Deterministic generator so every run builds the same history.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const COMPANY: [&str; 3] = ["908508850000", "902125550000", "903124440000"];
const DAY_US: i64 = 86_400_000_000;
/// The history ends here and goes back two years.
const END_US: i64 = 1_795_000_000_000_000;
const SPAN_US: i64 = 730 * DAY_US;

fn caller(i: u64) -> String {
    // 200,000 distinct mobile numbers, so callers repeat as in a real business.
    let n = i % 200_000;
    format!("905{:02}{:07}", 30 + (n * 7919 % 70), n * 104_729 % 10_000_000)
}

fn incoming(body: String, received_at_us: i64) -> IncomingEvent {
    IncomingEvent {
        event: webhook::parse(Some("application/json"), body.as_bytes()).expect("generated event parses"),
        raw: body.into_bytes(),
        content_type: Some("application/json".into()),
        received_at_us,
    }
}

fn call_events(i: u64, rng: &mut Lcg, n: u64) -> Vec<IncomingEvent> {
    let uuid = format!("{:08x}-bench-{:012x}", rng.next() as u32, i);
    let start = END_US - SPAN_US + (i as i64) * (SPAN_US / n as i64) + rng.below(1_000_000) as i64;
    let who = caller(rng.below(1_000_000));
    let callee = COMPANY[rng.below(3) as usize];
    let dir = if rng.below(100) < 85 { "IN" } else { "OUT" };
    let fax = rng.below(100) < 2;
    let head = format!(r#""uuid":"{uuid}","caller":{who},"callee":{callee},"direction":"{dir}","domain_id":1234,"account_id":5678"#);
    let mut evs = vec![incoming(
        format!(r#"{{"event_type":"{}",{head},"timestamp":{start}}}"#, if fax { "fax_init" } else { "call_init" }),
        start,
    )];
    if fax {
        return evs;
    }
    if dir == "IN" && rng.below(100) < 40 {
        for (k, (ty, dest)) in [("call_init_menu", 10), ("call_init_group", 111), ("call_init_extension", 1000 + rng.below(20))]
            .into_iter()
            .enumerate()
        {
            let ts = start + 2_000_000 * (k as i64 + 1);
            evs.push(incoming(format!(r#"{{"event_type":"{ty}",{head},"timestamp":{ts},"destination":{dest}}}"#), ts));
        }
    }
    let answered = rng.below(100) < 70;
    let talk = if answered { 5 + rng.below(600) } else { 0 };
    let end = start + (talk as i64 + 10) * 1_000_000;
    let body = if answered || dir == "OUT" {
        format!(
            r#"{{"event_type":"call_hangup",{head},"timestamp":{end},"talk_duration":{talk},"hangup_cause":"NORMAL_CLEARING","hangup_detail":"send_bye","result_disposition":"{}"}}"#,
            if answered { "SUCCESS" } else { "" }
        )
    } else {
        format!(r#"{{"event_type":"missing_call",{head},"timestamp":{end}}}"#)
    };
    evs.push(incoming(body, end));
    evs
}

fn build(path: &PathBuf, n: u64) -> store::Connection {
    let mut conn = store::open(path).expect("open database");
    let have: i64 = conn.query_row("SELECT count(*) FROM calls", [], |r| r.get(0)).unwrap();
    if have as u64 >= n {
        println!("reusing {} ({have} calls)", path.display());
        return conn;
    }
    drop(conn);
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("db-wal"));
    conn = store::open(path).expect("open database");
    // Bulk load: durability is not what is measured here.
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let t = Instant::now();
    let mut rng = Lcg(42);
    let mut batch = Vec::new();
    let mut events = 0usize;
    for i in 0..n {
        batch.extend(call_events(i, &mut rng, n));
        if batch.len() >= 20_000 {
            events += ingest_batch(&mut conn, &batch).expect("ingest");
            batch.clear();
        }
        if i > 0 && i % 100_000 == 0 {
            println!("  {i} calls, {:.0} s", t.elapsed().as_secs_f64());
        }
    }
    events += ingest_batch(&mut conn, &batch).expect("ingest");
    conn.execute_batch("INSERT INTO calls_fts(calls_fts) VALUES('optimize'); PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!("built {n} calls ({events} events) in {secs:.0} s: {:.0} events/s through ingest_batch", events as f64 / secs);
    conn
}

/// The phone book, unless the database already has it.
fn add_contacts(conn: &mut store::Connection, n: u64) {
    let have: i64 = conn.query_row("SELECT count(*) FROM contacts", [], |r| r.get(0)).unwrap();
    if have as u64 >= n {
        println!("reusing the phone book ({have} contacts)");
        return;
    }
    let t = Instant::now();
    let cards = (0..n).map(|i| {
        let c = gen::contact(i);
        Ok(kanca_core::contacts::Card {
            at: format!("contact {i}"),
            name: c.name,
            company: c.company,
            numbers: c.numbers.into_iter().map(|raw| kanca_core::contacts::CardNumber { raw, label: None }).collect(),
            note: c.note,
            uid: Some(format!("bench-{i}")),
            ..Default::default()
        })
    });
    let report = kanca_core::contacts::import_cards(conn, cards.collect()).expect("import contacts");
    println!("added {} contacts in {:.1} s", report.added, t.elapsed().as_secs_f64());
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing useful: only run
    // when asked to benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: u64 = std::env::var("KANCA_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/out").join(format!("search-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(store::DB_FILE);
    let mut conn = build(&path, n);
    add_contacts(&mut conn, 100_000);
    let size: u64 = ["db", "db-wal"].iter().filter_map(|e| std::fs::metadata(path.with_extension(e)).ok()).map(|m| m.len()).sum();
    let calls: i64 = conn.query_row("SELECT count(*) FROM calls", [], |r| r.get(0)).unwrap();
    let events: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    println!(
        "database: {calls} calls, {events} events, {:.0} MiB ({:.0} MiB per million calls)",
        size as f64 / 1048576.0,
        size as f64 / 1048576.0 / (calls as f64 / 1e6)
    );

    let mut rng = Lcg(7);
    let spell = |s: &str, style: u64| -> String {
        // s is a 12-digit 90XXXXXXXXXX number; spell it as people type it.
        let nsn = &s[2..];
        match style {
            0 => format!("0{} {} {} {}", &nsn[..3], &nsn[3..6], &nsn[6..8], &nsn[8..]),
            1 => nsn[3..].to_string(),                   // last 7 digits, "4445566"
            2 => format!("+90{}", &nsn[..6]),           // "+90532444"
            3 => format!("0{} {}", &nsn[..3], &nsn[3..6]), // "0532 444"
            _ => format!("{} {} {} {}", &nsn[..3], &nsn[3..6], &nsn[6..8], &nsn[8..]),
        }
    };
    type Case = (&'static str, Box<dyn Fn(&mut Lcg) -> Query>);
    let page = 50;
    let cases: Vec<Case> = vec![
        ("newest page, no filter", Box::new(move |_| Query { limit: page, ..Default::default() })),
        ("full number 0 532 444 55 66", Box::new(move |r| Query { text: spell(&caller(r.below(1_000_000)), 0), limit: page, ..Default::default() })),
        ("7-digit tail 4445566", Box::new(move |r| Query { text: spell(&caller(r.below(1_000_000)), 1), limit: page, ..Default::default() })),
        ("prefix +90532444", Box::new(move |r| Query { text: spell(&caller(r.below(1_000_000)), 2), limit: page, ..Default::default() })),
        ("prefix 0532 444", Box::new(move |r| Query { text: spell(&caller(r.below(1_000_000)), 3), limit: page, ..Default::default() })),
        ("3 digits", Box::new(move |r| Query { text: format!("{:03}", r.below(1000)), limit: page, ..Default::default() })),
        ("2 digits (scan)", Box::new(move |r| Query { text: format!("{:02}", r.below(100)), limit: page, ..Default::default() })),
        ("number not in history", Box::new(move |r| Query { text: format!("0599 {:03} {:04}", r.below(1000), r.below(10000)), limit: page, ..Default::default() })),
        ("extension 1005", Box::new(move |_| Query { text: "1005".into(), limit: page, ..Default::default() })),
        ("missed only", Box::new(move |_| Query { missed_only: true, limit: page, ..Default::default() })),
        ("faxes only", Box::new(move |_| Query { kind: Some(CallKind::Fax), limit: page, ..Default::default() })),
        ("outgoing only", Box::new(move |_| Query { direction: Some(Direction::Out), limit: page, ..Default::default() })),
        ("one week, a year ago", Box::new(move |r| {
            let since = END_US - 365 * DAY_US + r.below(30) as i64 * DAY_US;
            Query { since_us: Some(since), until_us: Some(since + 7 * DAY_US), limit: page, ..Default::default() }
        })),
        ("missed + number tail", Box::new(move |r| Query { text: spell(&caller(r.below(1_000_000)), 1), missed_only: true, limit: page, ..Default::default() })),
        ("faxes + 3 digits", Box::new(move |r| Query { text: format!("{:03}", r.below(1000)), kind: Some(CallKind::Fax), limit: page, ..Default::default() })),
        ("name: first name (mehmet)", Box::new(move |r| Query { text: gen::FIRST[r.below(48) as usize].to_lowercase(), limit: page, ..Default::default() })),
        ("name: full name", Box::new(move |r| Query { text: format!("{} {}", gen::FIRST[r.below(48) as usize], gen::LAST[r.below(48) as usize]), limit: page, ..Default::default() })),
        ("name: surname, no Turkish letters", Box::new(move |r| Query { text: kanca_core::contacts::fold(gen::LAST[r.below(48) as usize]), limit: page, ..Default::default() })),
        ("name: company", Box::new(move |r| Query { text: gen::contact(r.below(100_000)).company.unwrap_or_else(|| "Işık Lojistik".into()), limit: page, ..Default::default() })),
        ("name: 2 letters (scan)", Box::new(move |r| Query { text: ["ay", "ka", "öz", "er"][r.below(4) as usize].into(), limit: page, ..Default::default() })),
        ("name not in the book", Box::new(move |r| Query { text: format!("zeynepx{}", r.below(1000)), limit: page, ..Default::default() })),
        ("missed + name", Box::new(move |r| Query { text: gen::FIRST[r.below(48) as usize].into(), missed_only: true, limit: page, ..Default::default() })),
    ];
    let runs = 60;
    let mut all = Vec::new();
    println!("\n{:<30} {:>9} {:>9} {:>9} {:>8}", "query (page of 50)", "p50 ms", "p95 ms", "max ms", "hits");
    for (name, make) in &cases {
        let mut times = Vec::with_capacity(runs);
        let mut hits = 0;
        for _ in 0..runs {
            let q = make(&mut rng);
            let t = Instant::now();
            let page = search(&conn, &q).expect("search");
            times.push(t.elapsed());
            hits += page.calls.len();
        }
        times.sort();
        println!(
            "{:<30} {:>9.2} {:>9.2} {:>9.2} {:>8.1}",
            name,
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3,
            hits as f64 / runs as f64
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "\nall {} queries: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        all.len(),
        percentile(&all, 0.5).as_secs_f64() * 1e3,
        percentile(&all, 0.95).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3
    );
}
