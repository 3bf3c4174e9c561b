//! Search on PostgreSQL for `bench/pg.sh`: fills the `calls` table of a Kanca database with N
//! synthetic calls straight by SQL (no events: search reads calls only) and its phone book with
//! 20,000 contacts, then times `PgStore::search` for number, fragment, filter and contact-name
//! queries like `benches/search.rs` and prints p50/p95 per query. Prints figures; not a test.
//!
//!   cargo run --release -p kanca-core --example pg_search -- --url 'host=/tmp/x user=kanca dbname=search' --calls 1000000
//!
//! The fill is skipped when the table already holds N calls; an interrupted fill resumes.

use std::time::{Duration, Instant};

use kanca_core::call::search_text;
use kanca_core::history::Query;
use kanca_core::pg::PgStore;
use kanca_core::phone;
use kanca_core::store::StoredCall;
use kanca_core::{CallKind, Direction};
use tokio_postgres::NoTls;

/// Deterministic generator for the queries, so every run asks the same.
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

/// Turkish mobile operator prefixes the callers' numbers use.
const MOBILE: [&str; 27] = [
    "530", "531", "532", "533", "534", "535", "536", "537", "538", "539", "541", "542", "543", "544", "545", "546", "547",
    "548", "549", "505", "506", "507", "551", "552", "553", "554", "555",
];
/// The company's lines.
const COMPANY: [&str; 3] = ["908508850000", "902125550000", "903124440000"];
/// Distinct callers, so that numbers repeat as in a real business.
const CALLERS: u64 = 200_000;
const DAY_US: i64 = 86_400_000_000;
/// The history ends here and goes back two years.
const END_US: i64 = 1_795_000_000_000_000;
const SPAN_US: i64 = 730 * DAY_US;
const CHUNK: i64 = 100_000;

/// Caller number `n` (0..CALLERS) as digits, the same function as the SQL fill's.
fn mobile(n: u64) -> String {
    format!("90{}{:07}", MOBILE[(n * 7919 % MOBILE.len() as u64) as usize], n * 104_729 % 10_000_000)
}

/// One chunk of calls `$1 .. $2` of `$3`. Every draw comes from hashes of the row number, so a
/// resumed fill writes the same rows. The same shape as `benches/search.rs`'s history: 85 %
/// incoming; ~3 % faxes; incoming calls ~24 % missed (~20 % of all) and 40 % routed menu 10 ->
/// group 111 -> extension 1000..1019; outgoing calls 70 % answered. The columns are what
/// `pg::project_call` writes for such events; `search_text` is `call::search_text`'s form (caller
/// digits, callee digits, route destinations).
const FILL: &str = "
WITH g AS (
    SELECT i,
           hashint8extended(i, 1) & 9223372036854775807 AS h1,
           hashint8extended(i, 2) & 9223372036854775807 AS h2,
           hashint8extended(i, 3) & 9223372036854775807 AS h3,
           hashint8extended(i, 4) & 9223372036854775807 AS h4
    FROM generate_series($1::bigint, $2::bigint - 1) AS i
), a AS (
    SELECT i,
           $6::bigint - $7::bigint + i * ($7::bigint / $3::bigint) + h4 % greatest($7::bigint / $3::bigint, 1) AS started,
           h1 % $8::bigint AS n,
           1 + h2 % 3 AS line,
           (h2 / 3) % 100 < 85 AS inbound,
           (h2 / 300) % 100 < 3 AS fax,
           h3 % 100 AS r_missed,
           (h3 / 100) % 100 AS r_answer,
           (h3 / 10000) % 100 < 40 AS r_routed,
           1000 + (h3 / 1000000) % 20 AS ext,
           5 + (h4 / 7) % 600 AS talk_if
    FROM g
), b AS (
    SELECT a.*,
           ($4::text[])[1 + (n * 7919) % cardinality($4::text[])] AS prefix,
           lpad(((n * 104729) % 10000000)::text, 7, '0') AS subscriber,
           NOT fax AND inbound AND r_missed < 24 AS missed,
           NOT fax AND inbound AND r_routed AS routed
    FROM a
), c AS (
    SELECT b.*,
           '90' || prefix || subscriber AS mobile,
           '0 ' || prefix || ' ' || substr(subscriber, 1, 3) || ' ' || substr(subscriber, 4, 2) || ' ' || substr(subscriber, 6, 2)
               AS mobile_display,
           ($5::text[])[line] AS company,
           ($9::text[])[line] AS company_display,
           CASE WHEN fax THEN NULL WHEN missed THEN false WHEN inbound THEN true ELSE r_answer < 70 END AS answered
    FROM b
), d AS (
    SELECT c.*,
           CASE WHEN answered THEN talk_if ELSE 0 END AS talk,
           CASE WHEN inbound THEN mobile ELSE company END AS caller,
           CASE WHEN inbound THEN mobile_display ELSE company_display END AS caller_display,
           CASE WHEN inbound THEN company ELSE mobile END AS callee,
           CASE WHEN inbound THEN company_display ELSE mobile_display END AS callee_display
    FROM c
)
INSERT INTO calls (uuid, sort_key, kind, direction, missed, answered, state, started_at_us, ended_at_us,
                   caller, callee, duration_s, hangup_cause, route, event_count, test, search_text,
                   last_heard_us, caller_display, caller_e164, callee_display, callee_e164, sources, caller_key, callee_key)
SELECT 'pgsearch-' || lpad(to_hex(i), 12, '0'),
       started * 1000,
       CASE WHEN fax THEN 'fax' ELSE 'call' END,
       CASE WHEN inbound THEN 'in' ELSE 'out' END,
       missed,
       answered,
       CASE WHEN fax THEN 'ended' WHEN missed THEN 'missed' WHEN answered THEN 'answered' ELSE 'ended' END,
       started,
       CASE WHEN fax THEN NULL ELSE started + (talk + 10) * 1000000 END,
       caller,
       callee,
       CASE WHEN fax OR missed THEN NULL ELSE talk END,
       CASE WHEN fax OR missed THEN NULL ELSE 'NORMAL_CLEARING' END,
       CASE WHEN routed THEN
           '[[\"menu\",\"10\",' || (started + 2000000) || '],[\"group\",\"111\",' || (started + 4000000) ||
           '],[\"extension\",\"' || ext || '\",' || (started + 6000000) || ']]'
       END,
       CASE WHEN fax THEN 1 WHEN routed THEN 5 ELSE 2 END,
       false,
       lower(caller || ' ' || callee || CASE WHEN routed THEN ' 10 111 ' || ext ELSE '' END),
       CASE WHEN fax THEN started ELSE started + (talk + 10) * 1000000 END,
       caller_display,
       '+' || caller,
       callee_display,
       '+' || callee,
       NULL,
       '+' || caller,
       '+' || callee
FROM d
ON CONFLICT DO NOTHING";

fn usage() -> ! {
    eprintln!("usage: pg_search --url URL [--calls N] [--runs N]");
    std::process::exit(2);
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Fill `calls` up to `n` synthetic calls (skipped when it has as many already).
async fn fill(db: &tokio_postgres::Client, n: i64) -> Result<(), Box<dyn std::error::Error>> {
    let have: i64 = db.query_one("SELECT count(*) FROM calls", &[]).await?.get(0);
    if have >= n {
        println!("reusing the table calls ({have} calls)");
        return Ok(());
    }
    // Rows are numbered; resume after ours (an interrupted fill commits whole chunks).
    let ours: i64 = db.query_one("SELECT count(*) FROM calls WHERE uuid LIKE 'pgsearch-%'", &[]).await?.get(0);
    let from = ours - ours % CHUNK;
    if have > ours {
        println!("the table holds {} calls that are not this benchmark's", have - ours);
    }
    let prefixes: Vec<String> = MOBILE.iter().map(|s| s.to_string()).collect();
    let company: Vec<String> = COMPANY.iter().map(|s| s.to_string()).collect();
    let company_display: Vec<String> = COMPANY.iter().map(|s| phone::normalize(s).display).collect();
    let fill = db.prepare(FILL).await?;
    let t = Instant::now();
    println!("filling calls {from}..{n} by SQL, {CHUNK} per statement");
    let mut at = from;
    while at < n {
        let to = (at + CHUNK).min(n);
        let rows = db
            .execute(
                &fill,
                &[&at, &to, &n, &prefixes, &company, &END_US, &SPAN_US, &(CALLERS as i64), &company_display],
            )
            .await?;
        at = to;
        println!("  {at} calls ({rows} inserted), {:.0} s", t.elapsed().as_secs_f64());
    }
    let secs = t.elapsed().as_secs_f64();
    println!("filled {} calls in {secs:.0} s ({:.0} calls/s with the indexes kept)", n - from, (n - from) as f64 / secs);
    Ok(())
}

/// Contacts in the phone book: callers 0..CONTACTS, named from FIRST x LAST (each full name
/// shared by CONTACTS / 400 contacts, each surname by CONTACTS / 20) with a company code of
/// their own ("K00042").
const CONTACTS: u64 = 20_000;
const FIRST: [&str; 20] = [
    "Ahmet", "Mehmet", "Ayşe", "Fatma", "Mustafa", "Emine", "Ali", "Hatice", "Hüseyin", "Zeynep", "Hasan", "Elif", "İbrahim",
    "Şule", "Murat", "Özlem", "Ömer", "Gül", "Çağlar", "Işıl",
];
const LAST: [&str; 20] = [
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç",
    "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek",
];

fn contact_name(n: u64) -> (String, String) {
    (format!("{} {}", FIRST[(n % 20) as usize], LAST[(n / 20 % 20) as usize]), format!("K{n:05}"))
}

/// Fill the phone book with CONTACTS contacts (skipped when it has them), by SQL, each with its
/// caller's number keyed as Kanca keys it.
async fn fill_contacts(db: &tokio_postgres::Client) -> Result<(), Box<dyn std::error::Error>> {
    let have: i64 = db.query_one("SELECT count(*) FROM contacts", &[]).await?.get(0);
    if have >= CONTACTS as i64 {
        println!("reusing the phone book ({have} contacts)");
        return Ok(());
    }
    db.batch_execute("TRUNCATE contacts CASCADE").await?;
    let (mut ids, mut names, mut companies, mut folded, mut raws, mut keys) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    for n in 0..CONTACTS {
        let (name, company) = contact_name(n);
        let number = mobile(n);
        ids.push(n as i64 + 1);
        folded.push(kanca_core::fold::fold(&format!("{name} {company}")));
        names.push(name);
        companies.push(company);
        raws.push(format!("0{}", &number[2..]));
        keys.push(kanca_core::contacts::number_key(&number).ok_or("a generated number has no key")?);
    }
    db.execute(
        "INSERT INTO contacts (id, name, company, source, folded, updated_at_us)
         SELECT id, name, company, 'typed', folded, 0 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS x (id, name, company, folded)",
        &[&ids, &names, &companies, &folded],
    )
    .await?;
    db.execute(
        "INSERT INTO contact_numbers (contact_id, position, raw, e164, number_key)
         SELECT id, 0, raw, key, key FROM unnest($1::bigint[], $2::text[], $3::text[]) AS x (id, raw, key)",
        &[&ids, &raws, &keys],
    )
    .await?;
    db.execute("SELECT setval(pg_get_serial_sequence('contacts', 'id'), $1)", &[&(CONTACTS as i64)]).await?;
    println!("phone book: {CONTACTS} contacts");
    Ok(())
}

/// Read back a sample of the synthetic rows and check that they are what Kanca itself would
/// store for those numbers: display and E.164 forms as `phone::normalize` makes them, the route
/// as `StoredCall::into_call` reads it, `search_text` as `call::search_text` makes it.
async fn check_sample(db: &tokio_postgres::Client, n: i64) -> Result<(), String> {
    let mut ids: Vec<String> = (0..200i64).map(|k| format!("pgsearch-{:012x}", k * 7_919 % n)).collect();
    ids.sort();
    ids.dedup();
    let rows = db
        .query(
            "SELECT uuid, kind, direction, missed, answered, state, started_at_us, ended_at_us, caller, callee, duration_s,
                    hangup_cause, route, event_count, test, last_heard_us, caller_display, caller_e164, callee_display,
                    callee_e164, sources, search_text, caller_key, callee_key
             FROM calls WHERE uuid = ANY($1)",
            &[&ids],
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut bad = Vec::new();
    for r in &rows {
        let stored = StoredCall {
            uuid: r.get(0),
            kind: r.get(1),
            direction: r.get(2),
            missed: r.get(3),
            answered: r.get(4),
            state: r.get(5),
            started_at_us: r.get(6),
            ended_at_us: r.get(7),
            caller_raw: r.get(8),
            callee_raw: r.get(9),
            duration_s: r.get(10),
            hangup_cause: r.get(11),
            route: r.get(12),
            event_count: r.get(13),
            test: r.get(14),
            last_heard_us: r.get(15),
            caller_display: r.get(16),
            caller_e164: r.get(17),
            callee_display: r.get(18),
            callee_e164: r.get(19),
            sources: r.get(20),
        };
        let text: String = r.get(21);
        let keys: (Option<String>, Option<String>) = (r.get(22), r.get(23));
        let want_keys = (
            stored.caller_raw.as_deref().and_then(kanca_core::contacts::number_key),
            stored.callee_raw.as_deref().and_then(kanca_core::contacts::number_key),
        );
        if keys != want_keys {
            bad.push(format!("{}: phone book keys {keys:?}, Kanca would store {want_keys:?}", stored.uuid));
        }
        let uuid = stored.uuid.clone();
        for (raw, display, e164) in [
            (&stored.caller_raw, &stored.caller_display, &stored.caller_e164),
            (&stored.callee_raw, &stored.callee_display, &stored.callee_e164),
        ] {
            let p = phone::normalize(raw.as_deref().unwrap_or_default());
            if Some(&p.display) != display.as_ref() || &p.e164 != e164 {
                bad.push(format!("{uuid}: {raw:?} stored as {display:?}/{e164:?}, normalize says {:?}/{:?}", p.display, p.e164));
            }
        }
        match stored.into_call() {
            Ok(call) => {
                let want = search_text(&call);
                if want != text {
                    bad.push(format!("{uuid}: search_text {text:?}, call::search_text says {want:?}"));
                }
            }
            Err(what) => bad.push(format!("{uuid}: its {what} is not one Kanca writes")),
        }
    }
    if rows.len() != ids.len() {
        bad.push(format!("read back {} of {} sample rows", rows.len(), ids.len()));
    }
    if bad.is_empty() {
        println!("checked {} sample rows against phone::normalize and call::search_text: all as Kanca stores them", rows.len());
        Ok(())
    } else {
        Err(bad.join("\n"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut n: i64 = 1_000_000;
    let mut runs: usize = 50;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = Some(args.next().unwrap_or_else(|| usage())),
            "--calls" => n = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()),
            _ => usage(),
        }
    }
    let Some(url) = url else { usage() };
    if n < 1 || runs < 1 {
        usage();
    }

    // Creates (or migrates) the schema, as `kanca history --database` would.
    let store = PgStore::connect_reader(&url).await?;
    let (db, connection) = tokio_postgres::connect(&url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("pg_search: connection: {e}");
        }
    });

    fill(&db, n).await?;
    fill_contacts(&db).await?;
    if let Err(e) = check_sample(&db, n).await {
        eprintln!("pg_search: the synthetic calls are not what Kanca would store:\n{e}");
        std::process::exit(1);
    }
    // Autovacuum would otherwise start on the fresh rows in the middle of the timing; this also
    // gives the planner its statistics.
    let t = Instant::now();
    db.batch_execute("VACUUM (ANALYZE) calls, contacts, contact_numbers").await?;
    println!("VACUUM (ANALYZE) calls and the phone book in {:.1} s", t.elapsed().as_secs_f64());

    let row = db
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE missed), count(*) FILTER (WHERE kind = 'fax'),
                    count(*) FILTER (WHERE route IS NOT NULL), count(DISTINCT caller),
                    pg_total_relation_size('calls'), pg_relation_size('calls'), pg_relation_size('calls_search')
             FROM calls",
            &[],
        )
        .await?;
    let (calls, missed, faxes, routed, callers): (i64, i64, i64, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    let (total, heap, trgm): (i64, i64, i64) = (row.get(5), row.get(6), row.get(7));
    let mib = |b: i64| b as f64 / 1048576.0;
    println!(
        "table calls: {calls} calls ({missed} missed, {faxes} faxes, {routed} routed, {callers} distinct callers), \
         {:.0} MiB with indexes ({:.0} MiB heap, {:.0} MiB trigram index calls_search; {:.0} MiB per million calls)",
        mib(total),
        mib(heap),
        mib(trgm),
        mib(total) / (calls as f64 / 1e6)
    );

    let mut rng = Lcg(7);
    let caller = |r: &mut Lcg| mobile(r.below(CALLERS));
    // s is a 12-digit 90XXXXXXXXXX number; spelled as people type it.
    let spell = |s: &str, style: u64| -> String {
        let nsn = &s[2..];
        match style {
            0 => format!("0{nsn}"),                                                      // "05324445566"
            1 => format!("0{} {} {} {}", &nsn[..3], &nsn[3..6], &nsn[6..8], &nsn[8..]), // "0532 444 55 66"
            2 => nsn[3..].to_string(),                                                   // "4445566"
            3 => nsn[2..8].to_string(),                                                  // "244455": 6 digits inside
            4 => format!("+90{}", &nsn[..6]),                                            // "+90532444"
            _ => format!("0{} {}", &nsn[..3], &nsn[3..6]),                               // "0532 444"
        }
    };
    type Case = (&'static str, Box<dyn Fn(&mut Lcg) -> Query>);
    let page = 50;
    let cases: Vec<Case> = vec![
        ("newest page, no filter", Box::new(move |_| Query { limit: page, ..Default::default() })),
        ("full number 05324445566", Box::new(move |r| Query { text: spell(&caller(r), 0), limit: page, ..Default::default() })),
        ("spaced 0532 444 55 66", Box::new(move |r| Query { text: spell(&caller(r), 1), limit: page, ..Default::default() })),
        ("7-digit tail 4445566", Box::new(move |r| Query { text: spell(&caller(r), 2), limit: page, ..Default::default() })),
        ("6-digit fragment 244455", Box::new(move |r| Query { text: spell(&caller(r), 3), limit: page, ..Default::default() })),
        ("prefix +90532444", Box::new(move |r| Query { text: spell(&caller(r), 4), limit: page, ..Default::default() })),
        ("prefix 0532 444", Box::new(move |r| Query { text: spell(&caller(r), 5), limit: page, ..Default::default() })),
        ("3 digits", Box::new(move |r| Query { text: format!("{:03}", r.below(1000)), limit: page, ..Default::default() })),
        ("2 digits", Box::new(move |r| Query { text: format!("{:02}", r.below(100)), limit: page, ..Default::default() })),
        ("number not in history", Box::new(move |r| Query { text: format!("0599 {:03} {:04}", r.below(1000), r.below(10000)), limit: page, ..Default::default() })),
        ("extension 1005", Box::new(move |_| Query { text: "1005".into(), limit: page, ..Default::default() })),
        ("missed only", Box::new(move |_| Query { missed_only: true, limit: page, ..Default::default() })),
        ("faxes only", Box::new(move |_| Query { kind: Some(CallKind::Fax), limit: page, ..Default::default() })),
        ("outgoing only", Box::new(move |_| Query { direction: Some(Direction::Out), limit: page, ..Default::default() })),
        ("one week, a year ago", Box::new(move |r| {
            let since = END_US - 365 * DAY_US + r.below(30) as i64 * DAY_US;
            Query { since_us: Some(since), until_us: Some(since + 7 * DAY_US), limit: page, ..Default::default() }
        })),
        ("missed + number tail", Box::new(move |r| Query { text: spell(&caller(r), 2), missed_only: true, limit: page, ..Default::default() })),
        ("faxes + 3 digits", Box::new(move |r| Query { text: format!("{:03}", r.below(1000)), kind: Some(CallKind::Fax), limit: page, ..Default::default() })),
        ("contact, own company code", Box::new(move |r| Query { text: contact_name(r.below(CONTACTS)).1, limit: page, ..Default::default() })),
        ("full name, 50 contacts", Box::new(move |r| Query { text: contact_name(r.below(CONTACTS)).0, limit: page, ..Default::default() })),
        ("surname, 1,000 contacts", Box::new(move |r| Query { text: LAST[r.below(20) as usize].to_lowercase(), limit: page, ..Default::default() })),
        ("missed + full name", Box::new(move |r| Query { text: contact_name(r.below(CONTACTS)).0, missed_only: true, limit: page, ..Default::default() })),
        ("name not in the book", Box::new(move |r| Query { text: format!("zeynep q{:04}", r.below(10_000)), limit: page, ..Default::default() })),
    ];
    let warm_up = 5;
    let mut all = Vec::new();
    println!("\nPgStore::search, {warm_up} warm-up + {runs} timed runs per query, a different number each run");
    println!("{:<26} {:>9} {:>9} {:>9} {:>8} {:>6}", "query (page of 50)", "p50 ms", "p95 ms", "max ms", "found", "full");
    for (name, make) in &cases {
        for _ in 0..warm_up {
            store.search(&make(&mut rng)).await?;
        }
        let mut times = Vec::with_capacity(runs);
        let mut found = 0;
        let mut full = 0;
        for _ in 0..runs {
            let q = make(&mut rng);
            let t = Instant::now();
            let page = store.search(&q).await?;
            times.push(t.elapsed());
            found += page.calls.len();
            full += usize::from(page.next_cursor.is_some());
        }
        times.sort();
        println!(
            "{:<26} {:>9.2} {:>9.2} {:>9.2} {:>8.1} {:>5.0}%",
            name,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(*times.last().unwrap()),
            found as f64 / runs as f64,
            full as f64 * 100.0 / runs as f64
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "\nall {} queries: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms (found: calls per page, mean; full: pages with a next page)",
        all.len(),
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.95)),
        ms(percentile(&all, 0.99))
    );
    Ok(())
}
