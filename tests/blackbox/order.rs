//! Events can arrive out of order (retries, parallel deliveries): the call comes out the same.

use kanca_tests::*;
use serde_json::{json, Value};

const UUID: &str = "out-of-order-0001";
const T0: u64 = 1_700_000_000_000_000;

fn events() -> Vec<Value> {
    let init = event_json("call_init", UUID, 905324445566, 908508850000, "IN", T0);
    let mut menu = event_json(
        "call_init_menu",
        UUID,
        905324445566,
        908508850000,
        "IN",
        T0 + 1_000_000,
    );
    menu["destination"] = json!(10);
    let mut ext = event_json(
        "call_init_extension",
        UUID,
        905324445566,
        908508850000,
        "IN",
        T0 + 3_000_000,
    );
    ext["destination"] = json!(1000);
    let mut hangup = event_json(
        "call_hangup",
        UUID,
        905324445566,
        908508850000,
        "IN",
        T0 + 40_000_000,
    );
    hangup["talk_duration"] = json!(30);
    hangup["hangup_cause"] = json!("NORMAL_CLEARING");
    hangup["hangup_detail"] = json!("send_bye");
    hangup["result_disposition"] = json!("SUCCESS");
    vec![init, menu, ext, hangup]
}

fn deliver(order: &[Value]) -> (tempfile::TempDir, Vec<Value>, Value) {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    for (i, event) in order.iter().enumerate() {
        assert_eq!(
            server.post_json(&event.to_string()).expect_accepted(),
            "stored"
        );
        // Whatever arrived first, the call is there at once.
        assert_eq!(
            history_uuids(&data, &[]),
            [UUID],
            "after {} event(s)",
            i + 1
        );
    }
    let calls = history(&data, &[]);
    let call = show(&data, UUID);
    (work.tmp, calls, call)
}

#[test]
fn hangup_before_call_init_gives_the_same_call() {
    let in_order = events();
    let mut reversed = events();
    reversed.reverse();
    let (_a, calls_a, call_a) = deliver(&in_order);
    let (_b, calls_b, call_b) = deliver(&reversed);

    assert_eq!(
        calls_b, calls_a,
        "history differs when the hangup comes first"
    );
    assert_eq!(
        call_view(&call_b),
        call_view(&call_a),
        "show differs when the hangup comes first"
    );
    assert_eq!(event_keys(&call_b), event_keys(&call_a));

    let call = &call_b;
    assert_eq!(
        route_of(call),
        json!([{"type": "menu", "destination": "10"}, {"type": "extension", "destination": "1000"}]),
        "{call:#}"
    );
    assert_eq!(
        rfc3339_seconds(call["started_at"].as_str().expect("started_at")),
        1_700_000_000,
        "{call:#}"
    );
    assert_eq!(
        rfc3339_seconds(call["ended_at"].as_str().expect("ended_at")),
        1_700_000_040,
        "{call:#}"
    );
    assert_eq!(call["duration_s"], 30, "{call:#}");
    assert_eq!(call["hangup_cause"], "NORMAL_CLEARING", "{call:#}");
    assert_eq!(call["answered"], true, "{call:#}");
    assert_eq!(call["missed"], false, "{call:#}");
}
