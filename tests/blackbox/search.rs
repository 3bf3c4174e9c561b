//! Finding a call by however the user types the number.

use kanca_tests::*;

#[test]
fn history_query_finds_a_number_in_any_usual_spelling() {
    let work = Workdir::new();
    let data = work.data_dir();
    let server = Server::start(&data);
    let wanted = event_json(
        "call_init",
        "search-wanted",
        905324445566,
        908508850000,
        "IN",
        1_700_000_000_000_000,
    );
    let other = event_json(
        "call_init",
        "search-other",
        905551112233,
        908508850000,
        "IN",
        1_700_000_100_000_000,
    );
    server.post_json(&wanted.to_string()).expect_accepted();
    server.post_json(&other.to_string()).expect_accepted();

    let calls = history(&data, &[]);
    let shown = calls
        .iter()
        .find(|c| c["uuid"] == "search-wanted")
        .expect("wanted call in history");
    assert_eq!(
        shown["caller"], "0 532 444 55 66",
        "caller display: {shown:#}"
    );

    for query in [
        "4445566",
        "532 444 55 66",
        "0532 444",
        "+90532444",
        "0 532 444 55 66",
        "905324445566",
    ] {
        let found = history_uuids(&data, &[query]);
        assert!(
            found.iter().any(|u| u == "search-wanted"),
            "query {query:?} missed the call: {found:?}"
        );
        assert!(
            !found.iter().any(|u| u == "search-other"),
            "query {query:?} found the other call: {found:?}"
        );
    }
    let found = history_uuids(&data, &["555 111 22 33"]);
    assert_eq!(found, ["search-other"], "query \"555 111 22 33\"");
}
