//! Black-box tests of the built `kanca` binary: a real `kanca serve` on port 0 in a temporary
//! data directory, driven over HTTP, read back through `kanca history` / `kanca show`.
//! `wine.rs` runs the same tests against the Windows build under Wine.

/// Tests that cannot apply to the Windows build under Wine, with the reason why. Here, natively,
/// they are plain tests; `wine.rs` marks them ignored with the reason.
macro_rules! not_under_wine {
    ($reason:literal, $($test:item)+) => { $($test)+ };
}

mod bulutfon;
mod contacts;
mod durability;
mod errors;
mod filters;
mod fixtures;
mod form;
mod live;
mod logs;
mod office;
mod order;
mod pg;
mod redelivery;
mod search;
mod secret_url;
mod shutdown;
mod silence;
mod tunnel;
