//! Load on office mode's event stream, for bench/office.sh: CLIENTS desks (tokens, one per
//! line, on standard input) hold `/v1/events` open while RATE webhooks a second are posted for
//! SECONDS; prints the delivery latency (webhook acknowledged → change received) p50/p99/max
//! over every desk and event, and whether every desk got every event once, in order.
//!
//!     office_load OFFICE_ADDR WEBHOOK_URL USER PASSWORD RATE SECONDS < tokens

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one desk received: (uuid, when), in arrival order.
type Received = Arc<Mutex<Vec<(String, Duration)>>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [office, webhook, user, password, rate, seconds] = &args[..] else {
        eprintln!("usage: office_load OFFICE_ADDR WEBHOOK_URL USER PASSWORD RATE SECONDS < tokens");
        std::process::exit(2);
    };
    let rate: u64 = rate.parse().unwrap();
    let seconds: u64 = seconds.parse().unwrap();
    let tokens: Vec<String> = std::io::stdin().lock().lines().map_while(Result::ok).filter(|l| !l.trim().is_empty()).collect();
    let start = Instant::now();
    // Per desk: (uuid, received at) in arrival order.
    let received: Vec<Received> = tokens.iter().map(|_| Arc::default()).collect();
    let mut ready = Vec::new();
    for (token, got) in tokens.iter().zip(&received) {
        let (office, token, got) = (office.clone(), token.clone(), got.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        ready.push(rx);
        std::thread::spawn(move || {
            let tls = ureq::tls::TlsConfig::builder().disable_verification(true).build();
            let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
            let resp = agent.get(format!("https://{office}/v1/events")).header("Authorization", format!("Bearer {token}")).call().expect("the stream");
            let _ = tx.send(());
            let mut event = String::new();
            for line in BufReader::new(resp.into_body().into_reader()).lines() {
                let Ok(line) = line else { break };
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(data) = line.strip_prefix("data:") {
                    if event == "change" {
                        let v: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
                        got.lock().unwrap().push((v["call"]["uuid"].as_str().unwrap_or("").to_owned(), start.elapsed()));
                    }
                }
            }
        });
    }
    for r in ready {
        r.recv_timeout(Duration::from_secs(30)).expect("every desk connected");
    }
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
    let auth = format!("Basic {}", base64_encode(&format!("{user}:{password}")));
    let total = rate * seconds;
    let mut acked: HashMap<String, Duration> = HashMap::new();
    let mut order = Vec::new();
    for i in 0..total {
        let due = Duration::from_micros(i * 1_000_000 / rate);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let uuid = format!("load-{i}");
        let body = serde_json::json!({"event_type": "call_init", "uuid": uuid, "caller": 905320000000u64 + i, "callee": 908508850000u64, "direction": "IN", "timestamp": 1_700_000_000_000_000u64 + i});
        let resp = agent.post(webhook).header("Authorization", &auth).header("Content-Type", "application/json").send(body.to_string()).unwrap();
        assert!(resp.status().is_success());
        acked.insert(uuid.clone(), start.elapsed());
        order.push(uuid);
    }
    // Until every desk has every event, or ten seconds more.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && received.iter().any(|r| r.lock().unwrap().len() < order.len()) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut latencies: Vec<f64> = Vec::new();
    let (mut missing, mut out_of_order, mut doubled) = (0, 0, 0);
    for got in &received {
        let got = got.lock().unwrap();
        let uuids: Vec<&str> = got.iter().map(|(u, _)| u.as_str()).collect();
        missing += order.len().saturating_sub(uuids.len());
        doubled += uuids.len().saturating_sub(order.len());
        out_of_order += usize::from(uuids.iter().zip(&order).any(|(a, b)| a != b));
        for (uuid, at) in got.iter() {
            if let Some(sent) = acked.get(uuid) {
                latencies.push(at.saturating_sub(*sent).as_secs_f64() * 1000.0);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    println!(
        "{} desks, {} events ({rate}/s for {seconds} s): delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; missing {missing}, doubled {doubled}, desks out of order {out_of_order}",
        tokens.len(),
        order.len(),
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}
