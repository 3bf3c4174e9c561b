//! Stopping the service (systemd sends SIGTERM, a terminal SIGINT) is clean and loses nothing.

use kanca_tests::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const STOP_TIMEOUT: Duration = Duration::from_secs(15);

#[test]
fn sigterm_and_sigint_stop_with_exit_code_zero_keeping_events() {
    let work = Workdir::new();
    let data = work.data_dir();
    for (i, sig) in ["TERM", "INT"].into_iter().enumerate() {
        let mut server = Server::start(&data);
        let uuid = format!("stop-{sig}");
        let body = event_json(
            "call_init",
            &uuid,
            905324445566,
            908508850000,
            "IN",
            1_700_000_000_000_000 + i as u64,
        )
        .to_string();
        assert_eq!(server.post_json(&body).expect_accepted(), "stored");
        server.signal(sig);
        let status = server
            .wait_timeout(STOP_TIMEOUT)
            .unwrap_or_else(|| panic!("still running {STOP_TIMEOUT:?} after SIG{sig}"));
        assert_eq!(
            status.code(),
            Some(0),
            "exit status after SIG{sig}: {status}; stderr:\n{}",
            server.log_text()
        );
        assert_eq!(
            show(&data, &uuid)["uuid"],
            uuid.as_str(),
            "event posted before SIG{sig}"
        );
    }
    assert_eq!(history_uuids(&data, &[]).len(), 2);
}

#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    let work = Workdir::new();
    let data = work.data_dir();
    let mut server = Server::start(&data);
    let body = event_json(
        "call_init",
        "in-flight",
        905324445566,
        908508850000,
        "IN",
        1_700_000_000_000_000,
    )
    .to_string();
    let (first, rest) = body.split_at(body.len() / 2);

    // Headers and half the body, then the signal, then the rest of the body.
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
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    conn.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "in-flight request during SIGTERM got: {answer:?}"
    );
    assert!(answer.contains("\"stored\""), "{answer:?}");

    let status = server
        .wait_timeout(STOP_TIMEOUT)
        .expect("still running after SIGTERM");
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status}; stderr:\n{}",
        server.log_text()
    );
    assert_eq!(show(&data, "in-flight")["uuid"], "in-flight");
}
