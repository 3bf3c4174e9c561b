//! Stopping the service is clean and loses nothing: systemd sends SIGTERM, a terminal's Ctrl+C
//! sends SIGINT (under Wine, SIGINT is how a Windows console program gets its Ctrl+C).

use kanca_tests::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const STOP_TIMEOUT: Duration = Duration::from_secs(15);

fn stops_with_exit_code_zero_keeping_events(sig: &str) {
    let work = Workdir::new();
    let data = work.data_dir();
    let mut server = Server::start(&data);
    let uuid = format!("stop-{sig}");
    let body = event_json("call_init", &uuid, 905324445566, 908508850000, "IN", 1_700_000_000_000_000).to_string();
    assert_eq!(server.post_json(&body).expect_accepted(), "stored");
    server.signal(sig);
    let status = server
        .wait_timeout(STOP_TIMEOUT)
        .unwrap_or_else(|| panic!("still running {STOP_TIMEOUT:?} after SIG{sig}"));
    assert_eq!(status.code(), Some(0), "exit status after SIG{sig}: {status}; stderr:\n{}", server.log_text());
    assert!(server.log_text().contains("stopping"), "SIG{sig} did not stop it cleanly; stderr:\n{}", server.log_text());
    assert_eq!(show(&data, &uuid)["uuid"], uuid.as_str(), "event posted before SIG{sig}");
    assert_eq!(history_uuids(&data, &[]), [uuid]);
}

/// A stop asked for the moment the listener answers (the service manager stopping it right
/// after a start) is a clean stop too: the handlers are in place before the listener binds.
fn stops_cleanly_right_after_start(sig: &str) {
    let work = Workdir::new();
    let mut server = Server::start(&work.data_dir());
    server.signal(sig);
    let status = server.wait_timeout(STOP_TIMEOUT).unwrap_or_else(|| panic!("still running {STOP_TIMEOUT:?} after SIG{sig}"));
    assert_eq!(status.code(), Some(0), "exit status after SIG{sig} at start: {status}; stderr:\n{}", server.log_text());
    assert!(server.log_text().contains("stopping"), "SIG{sig} at start did not stop it cleanly; stderr:\n{}", server.log_text());
}

#[test]
fn sigint_right_after_start_stops_cleanly() {
    stops_cleanly_right_after_start("INT");
}

/// A request whose body is still arriving when the signal comes is answered before the exit.
fn in_flight_request_finishes(sig: &str) {
    let work = Workdir::new();
    let data = work.data_dir();
    let mut server = Server::start(&data);
    let body = event_json("call_init", "in-flight", 905324445566, 908508850000, "IN", 1_700_000_000_000_000).to_string();
    let (first, rest) = body.split_at(body.len() / 2);

    // Headers and half the body; once the server has read them (its end of the connection has
    // nothing left to read), the signal; once it says it is stopping, the rest of the body.
    let mut conn = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    conn.set_read_timeout(Some(STOP_TIMEOUT)).unwrap();
    write!(
        conn,
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        basic_auth(USER, PASSWORD),
        body.len()
    )
    .unwrap();
    conn.flush().unwrap();
    let client_port = conn.local_addr().unwrap().port();
    wait_until("the server to read the request so far", STOP_TIMEOUT, || {
        (server_unread_bytes(server.port, client_port) == Some(0)).then_some(())
    });
    server.signal(sig);
    wait_until("the server to start stopping", STOP_TIMEOUT, || server.log_text().contains("stopping").then_some(()));
    conn.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "in-flight request during SIG{sig} got: {answer:?}");
    assert!(answer.contains("\"stored\""), "{answer:?}");

    let status = server.wait_timeout(STOP_TIMEOUT).unwrap_or_else(|| panic!("still running after SIG{sig}"));
    assert_eq!(status.code(), Some(0), "exit status {status}; stderr:\n{}", server.log_text());
    assert_eq!(show(&data, "in-flight")["uuid"], "in-flight");
}

#[test]
fn sigint_stops_with_exit_code_zero_keeping_events() {
    stops_with_exit_code_zero_keeping_events("INT");
}

#[test]
fn sigint_lets_an_in_flight_request_finish() {
    in_flight_request_finishes("INT");
}

not_under_wine! {
    "Windows has no SIGTERM: under Wine it kills the program outright, with no clean stop to test. A clean stop on Windows is Ctrl+C, tested through SIGINT",
    #[test]
    fn sigterm_stops_with_exit_code_zero_keeping_events() {
        stops_with_exit_code_zero_keeping_events("TERM");
    }

    #[test]
    fn sigterm_lets_an_in_flight_request_finish() {
        in_flight_request_finishes("TERM");
    }

    #[test]
    fn sigterm_right_after_start_stops_cleanly() {
        stops_cleanly_right_after_start("TERM");
    }
}

/// Bytes waiting in the server's end of a loopback connection (Linux's /proc/net/tcp, which also
/// lists the sockets of a program under Wine), None while the connection is not there.
fn server_unread_bytes(server_port: u16, client_port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port_of = |addr: &str| addr.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (local, remote, queues) = (f.get(1)?, f.get(2)?, f.get(4)?);
        if port_of(local)? != server_port || port_of(remote)? != client_port {
            return None;
        }
        u64::from_str_radix(queues.split(':').nth(1)?, 16).ok()
    })
}
