//! Probe for `bench/ingest.sh`: how long after its 2xx an event shows in the history. Posts
//! call_init events one at a time (each with its own uuid and caller number), and after each 2xx
//! searches the database for the caller through `history::search`, as `kanca history` does,
//! until the call is there. Prints p50/p99/max of the 2xx-to-visible time.
//!
//!   visibility --url http://127.0.0.1:PORT/webhook --auth 'Basic ...' --db DIR/kanca.db \
//!              [--count 200] [--interval-ms 20]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kanca_core::history::{search, Query};
use kanca_core::store;

fn main() {
    if let Err(e) = run() {
        eprintln!("visibility: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut auth, mut db) = (String::new(), String::new(), PathBuf::new());
    let (mut count, mut interval_ms) = (200u64, 20u64);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => url = value()?,
            "--auth" => auth = value()?,
            "--db" => db = PathBuf::from(value()?),
            "--count" => count = value()?.parse()?,
            "--interval-ms" => interval_ms = value()?.parse()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let agent = ureq::Agent::new_with_defaults();
    let run_tag = kanca_core::time::now_us();
    let mut lags = Vec::with_capacity(count as usize);
    // One connection throughout: in WAL mode every statement sees the latest commit.
    let conn = store::open_reader(&db)?;
    for i in 0..count {
        // A caller no bench event uses (those start 9053), distinct per probe and per run.
        let caller = format!("90542{:07}", (run_tag as u64 / 1000 + i) % 10_000_000);
        let body = format!(
            r#"{{"event_type":"call_init","uuid":"probe-{run_tag}-{i}","caller":{caller},"callee":908508850000,"direction":"IN","timestamp":{}}}"#,
            kanca_core::time::now_us()
        );
        let reply = agent.post(&url).header("Authorization", &auth).content_type("application/json").send(&body)?;
        let acked = Instant::now();
        if !reply.status().is_success() {
            return Err(format!("probe {i}: status {}", reply.status()).into());
        }
        let q = Query { text: caller.clone(), limit: 5, ..Default::default() };
        loop {
            if search(&conn, &q)?.calls.iter().any(|c| c.uuid.starts_with("probe-")) {
                break;
            }
            if acked.elapsed() > Duration::from_secs(10) {
                return Err(format!("probe {i} not visible 10 s after its 2xx").into());
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        lags.push(acked.elapsed());
        std::thread::sleep(Duration::from_millis(interval_ms));
    }
    lags.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pick = |p: f64| lags[((lags.len() - 1) as f64 * p).round() as usize];
    println!(
        "VISIBLE count={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        lags.len(),
        ms(pick(0.5)),
        ms(pick(0.99)),
        lags.last().map(|d| ms(*d)).unwrap_or(0.0)
    );
    Ok(())
}
