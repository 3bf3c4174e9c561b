//! `kanca serve`'s log as a log file or a service manager gets it (stderr is no terminal):
//! plain text, without colour codes, whether or not NO_COLOR is set.

use std::time::Duration;

use kanca_tests::*;

#[test]
fn a_log_written_to_a_file_has_no_colour_codes() {
    let work = Workdir::new();
    let data = work.data_dir();
    // An empty NO_COLOR counts as unset: colour is allowed, were stderr a terminal.
    let mut server = Server::start_with_env(&data, Creds::Env, &[], &[("NO_COLOR", "")]);
    server.post_json(&event_json("call_init", "logged", 905324445566, 908508850000, "IN", 1_700_000_000_000_000).to_string()).expect_accepted();
    server.signal("INT");
    let status = server.wait_timeout(Duration::from_secs(15)).expect("still running after SIGINT");
    assert_eq!(status.code(), Some(0), "{status}");
    let log = server.log_text();
    assert!(log.contains("created the database") && log.contains("stopping"), "the log lacks its lines: {log}");
    assert!(!log.contains('\x1b'), "colour codes in a log file: {log:?}");
}
