//! The stand-in Bulutfon API (tests/support/bulutfon.rs) as a program, for bench/backfill.sh:
//! serves COUNT generated call records in pages of PER_PAGE until killed, prints its base URL
//! and the token it accepts on the first two lines. `GET /_stats` counts the requests per path.
//!
//!     cargo run -p kanca-tests --example stand_in -- 10000 100

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let per_page: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let api = kanca_tests::bulutfon::StandIn::generated(count, per_page);
    println!("{}", api.base_url());
    println!("{}", kanca_tests::bulutfon::TOKEN);
    loop {
        std::thread::park();
    }
}
