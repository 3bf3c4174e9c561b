//! The black-box tests of `main.rs` against the Windows build, `kanca.exe`, run under Wine
//! (tests/windows-wine.sh sets KANCA_WINE and KANCA_BIN). Tests that cannot apply there are
//! reported as ignored, with their reason. Not part of a plain `cargo test` (`test = false`).

macro_rules! not_under_wine {
    ($reason:literal, $($test:item)+) => { $(#[ignore = $reason] $test)+ };
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
mod redelivery;
mod search;
mod secret_url;
mod shutdown;
mod silence;
mod tunnel;

/// Run without KANCA_WINE, these would test the native binary and skip tests for nothing.
#[test]
fn the_binary_under_test_is_a_windows_build_under_wine() {
    let wine = kanca_tests::wine().expect("KANCA_WINE is not set: run tests/windows-wine.sh");
    assert!(wine.exists(), "KANCA_WINE={} does not exist", wine.display());
    let bin = kanca_tests::kanca_bin();
    assert!(bin.extension().is_some_and(|e| e.eq_ignore_ascii_case("exe")), "KANCA_BIN={} is not a .exe", bin.display());
}
