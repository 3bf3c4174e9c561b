//! Form-encoded deliveries (Bulutfon's x-www-form-urlencoded option) give the same calls as JSON.

use kanca_tests::*;
use serde_json::Value;

const CALL: &str = "f615986c-2001-11e5-bdee-6599352d46ce";
const FAX: &str = "kkk919b-aaaa-aaaa-bbbb-ccccccfd40ee";

/// Flat events, then call_hangup with its nested cdr (cdr[callflow][0][callee]=...).
const NAMES: [&str; 6] = [
    "call_init.json",
    "call_init_menu.json",
    "call_init_group.json",
    "call_init_extension.json",
    "call_hangup.json",
    "fax_init.json",
];

fn run(form: Option<Brackets>) -> (tempfile::TempDir, Vec<Value>, Vec<Value>) {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    for name in NAMES {
        let json_body = fixture("seed", name);
        let reply = match form {
            None => server.post_json(&json_body),
            Some(brackets) => {
                let value: Value = serde_json::from_str(&json_body).unwrap();
                server.post_form(&form_encode(&value, brackets))
            }
        };
        assert_eq!(reply.expect_accepted(), "stored", "{name} ({form:?})");
    }
    let calls = history(&data, &[]);
    let shown = [CALL, FAX].iter().map(|u| show(&data, u)).collect();
    (work.tmp, calls, shown)
}

#[test]
fn form_encoded_posts_give_the_same_calls_as_json() {
    let (_json_dir, json_calls, json_shown) = run(None);
    assert_eq!(json_calls.len(), 2, "{json_calls:#?}");
    for brackets in [Brackets::Literal, Brackets::Encoded] {
        let (_dir, calls, shown) = run(Some(brackets));
        assert_eq!(
            calls, json_calls,
            "history differs for form posts ({brackets:?})"
        );
        for (form_call, json_call) in shown.iter().zip(&json_shown) {
            assert_eq!(
                call_view(form_call),
                call_view(json_call),
                "show differs for form posts ({brackets:?})"
            );
            assert_eq!(
                event_keys(form_call),
                event_keys(json_call),
                "events differ ({brackets:?})"
            );
            for event in form_call["events"].as_array().unwrap() {
                let ct = event["content_type"].as_str().unwrap_or_default();
                assert!(
                    ct.starts_with("application/x-www-form-urlencoded"),
                    "content_type {ct:?}"
                );
                let raw = event["raw"].as_str().unwrap_or_default();
                assert!(
                    raw.contains("event_type="),
                    "raw is not the form body: {raw:?}"
                );
            }
        }
        // The nested cdr was understood: the call ended with its cause.
        let call = &shown[0];
        assert_eq!(call["hangup_cause"], "NORMAL_CLEARING", "{call:#}");
        assert!(call["ended_at"].is_string(), "{call:#}");
        assert_eq!(call["route"].as_array().map(Vec::len), Some(3), "{call:#}");
        assert_eq!(shown[1]["kind"], "fax");
    }
}

/// "Şişli Müşteri" in Windows-1254 (Ş = %DE, ş = %FE, ü = %FC), as a Turkish Windows sender
/// percent-encodes it.
const NAME_1254: &str = "%DEi%FEli+M%FC%FEteri";
const NAME: &str = "Şişli Müşteri";

fn turkish_form(uuid: &str) -> String {
    format!(
        "event_type=call_init&uuid={uuid}&caller=905324445566&callee=908508850000&direction=IN\
         &timestamp=1435762851086820&caller_name={NAME_1254}"
    )
}

#[test]
fn turkish_form_bodies_arrive_intact_and_raw_stays_verbatim() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    let form = "application/x-www-form-urlencoded";
    let cases = [
        ("declared", format!("{form}; charset=windows-1254")),
        ("iso", format!("{form}; charset=ISO-8859-9")),
        // No charset: the bytes are not UTF-8, so Windows-1254 is assumed.
        ("detected", form.to_string()),
    ];
    for (uuid, content_type) in &cases {
        let reply = server.post(content_type, &turkish_form(uuid), Some((USER, PASSWORD)));
        assert_eq!(reply.expect_accepted(), "stored", "{content_type}");
    }
    for (uuid, content_type) in &cases {
        let call = show(&data, uuid);
        let event = &call["events"][0];
        assert_eq!(event["payload"]["caller_name"], NAME, "{content_type}: {call:#}");
        assert_eq!(event["raw"], turkish_form(uuid), "the body is kept as sent");
        assert_eq!(event["content_type"], content_type.as_str());
        assert_eq!(call["caller"], "0 532 444 55 66");
    }

    // A charset nobody knows is refused with a code, and nothing is stored.
    let reply = server.post(
        &format!("{form}; charset=klingon"),
        &turkish_form("bogus"),
        Some((USER, PASSWORD)),
    );
    let err = reply.expect_error(415);
    assert_eq!(err["error"]["code"], "unsupported_charset", "{err}");
    assert!(history_uuids(&data, &[]).iter().all(|u| u != "bogus"));
}
