//! The history on PostgreSQL against the one on SQLite: each test starts a real PostgreSQL server
//! (tests/support/pg.rs), feeds the same events to both backends through [`Backend`], and
//! compares what they answer. Marked ignored because they need Debian's postgresql package;
//! `tests/run.sh` installs it and runs them (`--include-ignored`).

#[path = "../../../tests/support/pg.rs"]
mod pg_server;

use std::collections::BTreeMap;
use std::time::Duration;

use kanca_core::history::Query;
use kanca_core::pg::PgStore;
use kanca_core::store::{IncomingEvent, Outcome};
use kanca_core::{webhook, Backend, CallKind, Direction, Store, StoreError};
use pg_server::PgServer;
use proptest::prelude::*;
use serde_json::{json, Value};

fn incoming(content_type: &str, body: &[u8], received_at_us: i64) -> IncomingEvent {
    IncomingEvent {
        event: webhook::parse(Some(content_type), body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body))),
        raw: body.to_vec(),
        content_type: Some(content_type.to_owned()),
        received_at_us,
    }
}

fn json_event(v: &Value, received_at_us: i64) -> IncomingEvent {
    incoming("application/json", v.to_string().as_bytes(), received_at_us)
}

/// Both backends, empty: SQLite in a temporary directory, PostgreSQL on `server`.
struct Pair {
    _dir: tempfile::TempDir,
    sqlite: Backend,
    pg: Backend,
}

impl Pair {
    async fn new(server: &PgServer) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Backend::Sqlite(Store::open(dir.path()).unwrap());
        let pg = Backend::Postgres(PgStore::connect(&server.url()).await.unwrap_or_else(|e| panic!("{e}\n{}", server.log())));
        Pair { _dir: dir, sqlite, pg }
    }

    /// Ingest into both; the outcomes must agree.
    async fn ingest(&self, event: IncomingEvent) -> Outcome {
        let a = self.sqlite.ingest(event.clone()).await.unwrap();
        let b = self.pg.ingest(event).await.unwrap();
        assert_eq!(a, b, "SQLite and PostgreSQL disagree on whether the event is new");
        a
    }

    /// The same query on both: the same calls, in the same order, and the same next page.
    async fn same_search(&self, q: Query) -> Vec<Value> {
        let a = self.sqlite.search(q.clone()).await.unwrap();
        let b = self.pg.search(q.clone()).await.unwrap();
        let (ja, jb) = (serde_json::to_value(&a.calls).unwrap(), serde_json::to_value(&b.calls).unwrap());
        assert_eq!(ja, jb, "different calls for {q:?}");
        assert_eq!(a.next_cursor, b.next_cursor, "different next page for {q:?}");
        ja.as_array().cloned().unwrap_or_default()
    }

    /// The same detail (call and events) of `uuid` on both.
    async fn same_call(&self, uuid: &str) -> Option<Value> {
        let a = self.sqlite.get_call(uuid.to_owned()).await.unwrap().map(|d| serde_json::to_value(d).unwrap());
        let b = self.pg.get_call(uuid.to_owned()).await.unwrap().map(|d| serde_json::to_value(d).unwrap());
        // `ringing_until_us` and a silent call's state depend on the time each was read.
        let strip = |v: Option<Value>| v.map(|mut v| {
            v.as_object_mut().unwrap().remove("ringing_until_us");
            v
        });
        let (a, b) = (strip(a), strip(b));
        assert_eq!(a, b, "different detail of {uuid}");
        a
    }
}

/// The queries the history's search box and filters make, over calls the tests create.
fn queries() -> Vec<Query> {
    let all = Query { limit: 500, ..Default::default() };
    let mut out = vec![
        all.clone(),
        Query { limit: 3, ..all.clone() },
        Query { missed_only: true, ..all.clone() },
        Query { kind: Some(CallKind::Fax), ..all.clone() },
        Query { kind: Some(CallKind::Call), ..all.clone() },
        Query { direction: Some(Direction::Out), ..all.clone() },
        Query { since_us: Some(1_700_000_100_000_000), until_us: Some(1_700_000_700_000_000), ..all.clone() },
    ];
    for text in ["0532", "532 444", "0532 444 55 66", "+90 (532) 444-55-66", "4445566", "44", "1000", "111", "99", "zz", "ab", "bad%_\\", "850"] {
        out.push(Query { text: text.into(), ..all.clone() });
        out.push(Query { text: text.into(), kind: Some(CallKind::Fax), ..all.clone() });
    }
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn every_documented_payload_gives_the_same_calls() {
    let server = PgServer::start();
    runtime().block_on(async {
        let pair = Pair::new(&server).await;
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        let mut uuids = std::collections::BTreeSet::new();
        let mut n = 0;
        for revision in ["seed", "documented-2021"] {
            let mut files: Vec<_> = std::fs::read_dir(fixtures.join(revision)).unwrap().map(|e| e.unwrap().path()).collect();
            files.sort();
            for path in files.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
                let body = std::fs::read(&path).unwrap();
                let event = incoming("application/json", &body, 1_700_000_000_000_000 + n);
                uuids.insert(event.event.uuid.clone());
                // Both revisions document some of the same events: the first seen is stored,
                // alike on both (Pair::ingest checks they agree).
                pair.ingest(event.clone()).await;
                // A redelivery, byte for byte.
                assert_eq!(pair.ingest(event).await, Outcome::Duplicate, "{}", path.display());
                n += 1;
            }
        }
        assert!(n >= 10, "only {n} fixtures");
        let listed = pair.same_search(Query { limit: 500, ..Default::default() }).await;
        assert_eq!(listed.len(), uuids.len());
        for uuid in &uuids {
            let detail = pair.same_call(uuid).await.expect("the call is stored");
            assert!(detail["events"].as_array().is_some_and(|e| !e.is_empty()));
        }
        for q in queries() {
            pair.same_search(q).await;
        }
    });
}

/// One generated call: its events, to be delivered in any order and some twice.
#[derive(Debug, Clone)]
struct GenCall {
    uuid: String,
    fax: bool,
    direction: &'static str,
    caller: u64,
    callee: u64,
    start_us: i64,
    route: Vec<(&'static str, u32)>,
    end: Option<(&'static str, i64)>,
}

impl GenCall {
    fn events(&self) -> Vec<Value> {
        let base = |event_type: &str, at: i64| {
            json!({
                "event_type": event_type, "uuid": self.uuid, "caller": self.caller, "callee": self.callee,
                "direction": self.direction, "timestamp": at,
            })
        };
        if self.fax {
            return vec![base("fax_init", self.start_us)];
        }
        let mut out = vec![base("call_init", self.start_us)];
        for (i, (kind, dest)) in self.route.iter().enumerate() {
            let mut e = base(&format!("call_init_{kind}"), self.start_us + 1000 * (i as i64 + 1));
            e["destination"] = json!(dest);
            out.push(e);
        }
        if let Some((kind, talk_us)) = self.end {
            let mut e = base(kind, self.start_us + talk_us);
            e["hangup_cause"] = json!("NORMAL_CLEARING");
            out.push(e);
        }
        out
    }
}

fn gen_call(i: usize) -> impl Strategy<Value = GenCall> {
    let numbers = prop::sample::select(vec![905324445566u64, 902123334455, 905550001122, 908508850000, 1000, 3125551234]);
    (
        any::<bool>(),
        prop::sample::select(vec!["IN", "OUT"]),
        numbers.clone(),
        numbers,
        // Seconds into the call's own slot: calls never start at the same moment (which of two
        // calls starting in the same microsecond lists first is not part of the contract).
        0i64..150,
        prop::collection::vec((prop::sample::select(vec!["menu", "group", "extension"]), prop::sample::select(vec![10u32, 99, 111, 1000, 1001])), 0..3),
        prop::option::of((prop::sample::select(vec!["call_hangup", "missing_call"]), 1_000_000i64..60_000_000)),
    )
        .prop_map(move |(fax, direction, caller, callee, start, route, end)| GenCall {
            uuid: format!("gen-{i:02}"),
            fax: fax && i.is_multiple_of(4),
            direction,
            caller,
            callee,
            start_us: 1_700_000_000_000_000 + (i as i64 * 160 + start) * 1_000_000,
            route,
            end,
        })
}

fn gen_calls() -> impl Strategy<Value = (Vec<GenCall>, Vec<usize>, Vec<bool>)> {
    (1usize..8).prop_flat_map(|n| {
        let calls: Vec<_> = (0..n).map(gen_call).collect();
        (calls, prop::collection::vec(any::<usize>(), 40), prop::collection::vec(any::<bool>(), 40))
    })
}

/// The same event sets, delivered in the same (shuffled) order with redeliveries, give the
/// same calls and the same search answers on both backends.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn generated_event_sets_give_the_same_calls() {
    let server = PgServer::start();
    let rt = runtime();
    let case = std::cell::Cell::new(0);
    let config = ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |((calls, order, again) in gen_calls())| {
        case.set(case.get() + 1);
        rt.block_on(async {
            // A database per case: a fresh one is cheaper than emptying the tables.
            let url = fresh_database(&server, &format!("case{}", case.get())).await;
            let dir = tempfile::tempdir().unwrap();
            let pair = Pair {
                sqlite: Backend::Sqlite(Store::open(dir.path()).unwrap()),
                pg: Backend::Postgres(PgStore::connect(&url).await.unwrap()),
                _dir: dir,
            };
            let mut events: Vec<Value> = calls.iter().flat_map(GenCall::events).collect();
            // Shuffle by the generated keys; deliver some twice.
            let mut keyed: Vec<(usize, Value)> = events.drain(..).enumerate().map(|(i, e)| (order[i % order.len()].wrapping_add(i), e)).collect();
            keyed.sort_by_key(|(k, _)| *k);
            for (i, (_, e)) in keyed.iter().enumerate() {
                let ev = json_event(e, 1_700_000_000_000_000 + i as i64 * 1000);
                pair.ingest(ev.clone()).await;
                if again[i % again.len()] {
                    assert_eq!(pair.ingest(ev).await, Outcome::Duplicate);
                }
            }
            for c in &calls {
                pair.same_call(&c.uuid).await;
            }
            for q in queries() {
                pair.same_search(q).await;
            }
            // Paging: the second page of three starts where the first ended, alike.
            let first = pair.sqlite.search(Query { limit: 3, ..Default::default() }).await.unwrap();
            if let Some(cursor) = first.next_cursor {
                pair.same_search(Query { limit: 3, before: Some(cursor), ..Default::default() }).await;
            }
        });
    });
}

/// A database of its own on `server`, for one case; its connection string.
async fn fresh_database(server: &PgServer, name: &str) -> String {
    let (client, conn) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    server.url().replace("dbname=postgres", &format!("dbname={name}"))
}

/// Two receivers on one database given the same delivery at the same moment, many times over:
/// one stores it, the others are told it is a duplicate, and the call is whole.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn concurrent_duplicates_across_receivers_are_stored_once() {
    let server = PgServer::start();
    runtime().block_on(async {
        let a = PgStore::connect(&server.url()).await.unwrap();
        let b = PgStore::connect(&server.url()).await.unwrap();
        let mut outcomes = BTreeMap::new();
        for round in 0..20 {
            let uuid = format!("dup-{round}");
            let init = json_event(&json!({"event_type": "call_init", "uuid": uuid, "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": 1_700_000_000_000_000i64 + round}), 1);
            let menu = json_event(&json!({"event_type": "call_init_menu", "uuid": uuid, "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": 1_700_000_000_000_500i64 + round, "destination": 10}), 2);
            // Eight deliveries of each at once, four through each receiver.
            let mut tasks = Vec::new();
            for i in 0..16 {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                let event = if i < 8 { init.clone() } else { menu.clone() };
                tasks.push(tokio::spawn(async move { store.ingest(event).await }));
            }
            for t in tasks {
                *outcomes.entry(format!("{:?}", t.await.unwrap().unwrap())).or_insert(0) += 1;
            }
            let call = a.get_call(&uuid).await.unwrap().expect("the call");
            assert_eq!(call.events.len(), 2, "{uuid}: {:?}", call.events);
            assert_eq!(call.call.event_count, 2);
            assert_eq!(call.call.route.len(), 1, "{uuid}: the menu step");
        }
        assert_eq!(outcomes.get("Stored"), Some(&40), "{outcomes:?}");
        assert_eq!(outcomes.get("Duplicate"), Some(&(20 * 16 - 40)), "{outcomes:?}");
        assert_eq!(a.count_events().await.unwrap(), 40);
        assert_eq!(b.count_calls().await.unwrap(), 20);
    });
}

/// What one receiver stores, every receiver of the database publishes (LISTEN/NOTIFY), with
/// the call as that event left it, in the order they were committed.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn changes_reach_the_other_receiver() {
    let server = PgServer::start();
    runtime().block_on(async {
        let a = PgStore::connect(&server.url()).await.unwrap();
        let b = PgStore::connect(&server.url()).await.unwrap();
        let mut heard = b.subscribe();
        let t = 1_700_000_000_000_000i64;
        let events = [
            json!({"event_type": "call_init", "uuid": "live-1", "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": t}),
            json!({"event_type": "call_init_group", "uuid": "live-1", "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": t + 1000, "destination": 111}),
            json!({"event_type": "missing_call", "uuid": "live-1", "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": t + 9_000_000}),
        ];
        for e in &events {
            assert_eq!(a.ingest(json_event(e, kanca_core::time::now_us())).await.unwrap(), Outcome::Stored);
        }
        let mut got = Vec::new();
        while got.len() < 3 {
            let change = tokio::time::timeout(Duration::from_secs(10), heard.recv())
                .await
                .unwrap_or_else(|_| panic!("only {} of 3 changes reached the other receiver: {got:?}", got.len()))
                .unwrap();
            got.push((change.event_type.clone(), change.call.route.len(), change.call.missed));
        }
        assert_eq!(
            got,
            vec![("call_init".to_string(), 0, false), ("call_init_group".to_string(), 1, false), ("missing_call".to_string(), 1, true)]
        );
    });
}

/// The schema is created once, kept on reconnect, and a database a newer Kanca wrote is refused
/// with a message that says so (nothing is changed in it).
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn schema_is_versioned_and_a_newer_one_refused() {
    let server = PgServer::start();
    runtime().block_on(async {
        let first = PgStore::connect(&server.url()).await.unwrap();
        first.ingest(json_event(&json!({"event_type": "call_init", "uuid": "v", "caller": 1, "callee": 2, "direction": "IN", "timestamp": 1}), 1)).await.unwrap();
        // Two receivers starting together migrate once (the second waits on the lock).
        let url = server.url();
        let (x, y) = tokio::join!(PgStore::connect(&url), PgStore::connect(&url));
        x.unwrap();
        assert_eq!(y.unwrap().count_events().await.unwrap(), 1);
        let (client, conn) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client.batch_execute("UPDATE kanca_schema SET version = 999").await.unwrap();
        let Err(e) = PgStore::connect(&server.url()).await else { panic!("a newer schema was accepted") };
        assert!(matches!(e, StoreError::TooNewDatabase { found: 999, .. }), "{e}");
        assert!(e.to_string().contains("newer Kanca"), "{e}");
        let version: i64 = client.query_one("SELECT version FROM kanca_schema", &[]).await.unwrap().get(0);
        assert_eq!(version, 999, "a refused database must not be changed");
    });
}

/// Text never becomes SQL: search terms with LIKE's and regex's special characters, quotes and
/// backslashes find only what contains them literally, and never fail.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn search_text_is_taken_literally() {
    let server = PgServer::start();
    runtime().block_on(async {
        let pair = Pair::new(&server).await;
        for (i, dest) in ["50%_off", "a\\b", "it's", "x.*y", "plain"].iter().enumerate() {
            let e = json!({"event_type": "call_init_menu", "uuid": format!("lit-{i}"), "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": 1_700_000_000_000_000i64 + i as i64, "destination": dest});
            pair.ingest(json_event(&e, 1)).await;
        }
        for (text, want) in [("50%_off", 1), ("%", 0), ("_", 0), ("0%_", 1), ("a\\b", 1), ("it's", 1), ("x.*y", 1), (".*", 0), ("'; drop table calls; --", 0), ("plain", 1)] {
            let found = pair.same_search(Query { text: text.into(), kind: Some(CallKind::Call), limit: 50, ..Default::default() }).await;
            assert_eq!(found.len(), want, "{text:?}: {found:?}");
        }
    });
}

/// Event ids come from a sequence and two receivers commit out of id order; the desks' journal
/// goes by position, given after commit, so a desk that read up to some position never misses
/// an event committed later with a smaller id. Every receiver hears that the journal moved.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn the_journal_follows_commit_order() {
    let server = PgServer::start();
    runtime().block_on(async {
        let a = PgStore::connect(&server.url()).await.unwrap();
        let b = PgStore::connect(&server.url()).await.unwrap();
        let mut moved = b.subscribe_journal();
        let call = |uuid: &str, ts: i64| json!({"event_type": "call_init", "uuid": uuid, "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": ts});
        a.ingest(json_event(&call("first", 1_700_000_000_000_000), 1)).await.unwrap();
        a.sequence_now().await.unwrap();
        let seen = a.journal_top().await.unwrap();
        assert!(seen > 0);
        // Another receiver's transaction takes an id now and commits late.
        let (slow, conn) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let body = call("slow", 1_700_000_000_000_001).to_string();
        slow.batch_execute("BEGIN").await.unwrap();
        let slow_id: i64 = slow
            .query_one(
                "INSERT INTO events (uuid, event_type, received_type, received_at_us, content_type, raw) VALUES ('slow', 'call_init', 'call_init', 2, 'application/json', $1) RETURNING id",
                &[&body.as_bytes()],
            )
            .await
            .unwrap()
            .get(0);
        a.ingest(json_event(&call("quick", 1_700_000_000_000_002), 3)).await.unwrap();
        a.sequence_now().await.unwrap();
        let page = a.journal_after(seen, 100).await.unwrap();
        assert_eq!(page.len(), 1, "only what is committed is in the journal: {page:?}");
        let quick_pos = page[0].id;
        // A desk has read through `quick`; now the slow one commits.
        slow.batch_execute("COMMIT").await.unwrap();
        a.sequence_now().await.unwrap();
        let after_quick = a.journal_after(quick_pos, 100).await.unwrap();
        assert_eq!(after_quick.len(), 1, "the late commit comes after what the desk read: {after_quick:?}");
        let late = &after_quick[0];
        assert_eq!(late.raw().unwrap(), body.as_bytes());
        let quick_id: i64 = slow.query_one("SELECT id FROM events WHERE uuid = 'quick'", &[]).await.unwrap().get(0);
        assert!(slow_id < quick_id && late.id > quick_pos, "ids {slow_id} < {quick_id}, positions {} > {quick_pos}", late.id);
        // The other receiver heard the journal move as far as the late event.
        let heard = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let top = moved.recv().await.unwrap();
                if top >= late.id {
                    return top;
                }
            }
        })
        .await
        .expect("the other receiver hears that the journal moved");
        assert_eq!(heard, late.id);
        // The changes a desk is sent carry the same positions, each with its call.
        let changes = b.changes_after(seen, 100).await.unwrap();
        let got: Vec<(i64, String)> = changes.iter().map(|(c, e)| (e.id, c.call.uuid.clone())).collect();
        assert_eq!(got, vec![(quick_pos, "quick".to_string()), (late.id, "slow".to_string())]);
    });
}

/// A database written by the first PostgreSQL release (schema 1) is migrated: its events get
/// journal positions in id order and new ones follow them.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn a_first_schema_database_is_migrated() {
    let server = PgServer::start();
    runtime().block_on(async {
        let url = fresh_database(&server, "old").await;
        let store = PgStore::connect_reader(&url).await.unwrap();
        for i in 0..3i64 {
            let e = json!({"event_type": "call_init", "uuid": format!("old-{i}"), "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": 1_700_000_000_000_000i64 + i});
            store.ingest(json_event(&e, i)).await.unwrap();
        }
        drop(store);
        // Back to schema 1 exactly: what schemas 2 and 3 added, removed.
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(
                "DROP TABLE contact_numbers, contacts, api_state;
                 ALTER TABLE calls DROP COLUMN caller_key, DROP COLUMN callee_key;
                 DROP TABLE call_notes, call_tags, tag_colours, office_desks, office_identity, pbx_names;
                 ALTER TABLE events DROP COLUMN pos; DROP SEQUENCE events_pos;
                 UPDATE kanca_schema SET version = 1;",
            )
            .await
            .unwrap();
        let store = PgStore::connect(&url).await.unwrap();
        let version: i64 = client.query_one("SELECT version FROM kanca_schema", &[]).await.unwrap().get(0);
        assert_eq!(version, kanca_core::pg::SCHEMA_VERSION);
        let journal = store.journal_after(0, 100).await.unwrap();
        assert_eq!(journal.iter().map(|e| e.id).collect::<Vec<_>>(), vec![1, 2, 3]);
        let e = json!({"event_type": "call_init", "uuid": "new", "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": 1_700_000_000_000_009i64});
        store.ingest(json_event(&e, 9)).await.unwrap();
        store.sequence_now().await.unwrap();
        let next = store.journal_after(3, 100).await.unwrap();
        assert_eq!(next.iter().map(|e| e.id).collect::<Vec<_>>(), vec![4]);
        // The calls stored before the phone book existed are found by a contact's name.
        let input = kanca_core::contacts::ContactInput {
            name: "Mehmet Öztürk".into(),
            numbers: vec![kanca_core::contacts::NumberInput { raw: "0532 444 55 66".into(), label: None }],
            ..Default::default()
        };
        store.add_contact(&input).await.unwrap();
        let page = store.search(&Query { text: "mehmet".into(), limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(page.calls.iter().map(|c| c.uuid.as_str()).collect::<Vec<_>>(), ["new", "old-2", "old-1", "old-0"]);
        assert!(page.calls.iter().all(|c| c.caller_name.as_deref() == Some("Mehmet Öztürk")));
    });
}

/// Notes and tags on PostgreSQL as on SQLite: the same validation, the same search through
/// them (folded: "isik" finds "Işık"), the same tag filter, list of tags and colours.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn notes_and_tags_behave_as_on_sqlite() {
    let server = PgServer::start();
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let engine = kanca_core::Engine::open(dir.path()).unwrap();
        let pg = PgStore::connect(&server.url()).await.unwrap();
        let pair = Pair { _dir: tempfile::tempdir().unwrap(), sqlite: Backend::Sqlite(engine.store().clone()), pg: Backend::Postgres(pg.clone()) };
        for i in 0..6i64 {
            let e = json!({"event_type": "call_init", "uuid": format!("n-{i}"), "caller": 905324445560u64 + i as u64, "callee": 908508850000u64, "direction": "IN", "timestamp": 1_700_000_000_000_000i64 + i * 1_000_000});
            pair.ingest(json_event(&e, 1)).await;
        }
        let notes = [("n-0", "Işık Mobilya fiyat sordu"), ("n-1", "  "), ("n-2", "kargo gecikti, geri ara"), ("n-4", "IŞIK tekrar aradı")];
        for (uuid, note) in notes {
            engine.set_call_note(uuid.into(), note.into()).await.unwrap();
            pg.set_call_note(uuid, note).await.unwrap();
        }
        let tags: [(&str, &[&str]); 4] = [("n-0", &["satış", "öncelik"]), ("n-2", &["şikayet", " şikayet "]), ("n-3", &["satış"]), ("n-5", &["zz"])];
        for (uuid, t) in tags {
            let t: Vec<String> = t.iter().map(|s| s.to_string()).collect();
            engine.set_call_tags(uuid.into(), t.clone()).await.unwrap();
            pg.set_call_tags(uuid, &t).await.unwrap();
        }
        // Clearing: n-5 loses its only tag, so it has neither note nor tags.
        engine.set_call_tags("n-5".into(), vec![]).await.unwrap();
        pg.set_call_tags("n-5", &[]).await.unwrap();
        assert!(matches!(pg.set_call_tags("n-1", &["ok".into(), "  ".into()]).await, Err(kanca_core::notes::NotesError::EmptyTag)));
        assert!(matches!(pg.set_call_note("nope", "x").await, Err(kanca_core::notes::NotesError::UnknownCall(_))));
        engine.set_tag_colour("satış".into(), "teal".into()).await.unwrap();
        pg.set_tag_colour("satış", "teal").await.unwrap();
        assert!(matches!(pg.set_tag_colour("satış", "pink").await, Err(kanca_core::notes::NotesError::BadColour(_))));
        for uuid in ["n-0", "n-1", "n-2", "n-3", "n-4", "n-5"] {
            pair.same_call(uuid).await.unwrap();
        }
        let all = Query { limit: 50, ..Default::default() };
        for text in ["isik", "IŞIK", "ışık mobilya", "kargo", "geri ara", "satis", "şikayet", "sa", "zz", "yok", "fiyat 0532"] {
            pair.same_search(Query { text: text.into(), ..all.clone() }).await;
        }
        assert_eq!(pair.same_search(Query { text: "isik".into(), ..all.clone() }).await.len(), 2);
        for tag in ["satış", "şikayet", "öncelik", "zz", "yok"] {
            pair.same_search(Query { tag: Some(tag.into()), ..all.clone() }).await;
            pair.same_search(Query { tag: Some(tag.into()), text: "isik".into(), ..all.clone() }).await;
            pair.same_search(Query { tag: Some(tag.into()), text: "0532 444 55 63".into(), ..all.clone() }).await;
        }
        assert_eq!(pair.same_search(Query { tag: Some("satış".into()), ..all.clone() }).await.len(), 2);
        let (a, b) = (engine.call_tags().await.unwrap(), pg.tags().await.unwrap());
        assert_eq!(a, b, "the same tags, colours and counts");
        assert!(b.iter().any(|t| t.name == "satış" && t.calls == 2 && t.colour == kanca_core::notes::TagColour::Teal), "{b:?}");
    });
}

/// The user's own names of groups, extensions and lines: set on PostgreSQL as on SQLite, listed
/// alike, and shown on the same calls' route steps and lines.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn names_behave_as_on_sqlite() {
    use kanca_core::names::NameKind;
    let server = PgServer::start();
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let engine = kanca_core::Engine::open(dir.path()).unwrap();
        let pg = PgStore::connect(&server.url()).await.unwrap();
        let mut shared = pg.subscribe_shared();
        let pair = Pair { _dir: tempfile::tempdir().unwrap(), sqlite: Backend::Sqlite(engine.store().clone()), pg: Backend::Postgres(pg.clone()) };
        let t0 = 1_700_000_000_000_000i64;
        for (i, (kind, destination)) in [("incoming_call_group", 111u64), ("incoming_call_extension", 1000)].into_iter().enumerate() {
            let e = json!({"event_type": kind, "uuid": "routed", "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": t0 + i as i64, "destination": destination});
            pair.ingest(json_event(&e, 1)).await;
        }
        // Before any name: nothing is named on either.
        let before = pair.same_call("routed").await.unwrap();
        assert_eq!(before["route"][0]["name"], Value::Null, "{before}");
        let names: [(NameKind, &str, Option<&str>); 6] = [
            (NameKind::Group, "111", Some("  Satış\nEkibi ")),
            (NameKind::Extension, "1000", Some("Şule")),
            (NameKind::Did, "0 850 885 00 00", Some("Merkez hat")),
            (NameKind::Menu, "9", Some("Ana menü")),
            (NameKind::Menu, "9", None),
            (NameKind::Extension, "1001", Some("Ali")),
        ];
        for (kind, number, name) in names {
            engine.set_pbx_name(kind, number.into(), name.map(str::to_owned)).await.unwrap();
            pg.set_local_name(kind, number, name).await.unwrap();
        }
        assert!(pg.set_local_name(NameKind::Group, "yok", Some("x")).await.is_err(), "not a number");
        let listed = pg.names().await.unwrap();
        assert_eq!(engine.store().read(kanca_core::names::list).await.unwrap(), listed);
        assert_eq!(listed.len(), 4, "{listed:?}");
        let call = pair.same_call("routed").await.unwrap();
        assert_eq!(call["route"][0]["name"], "Satış Ekibi", "{call}");
        assert_eq!(call["route"][1]["name"], "Şule", "{call}");
        assert_eq!(call["callee_name"], "Merkez hat", "{call}");
        pair.same_search(Query { limit: 10, ..Default::default() }).await;
        // Every receiver hears of a change of names (desks read them again).
        let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                if let Ok(kanca_core::Shared::Names) = shared.recv().await {
                    return;
                }
            }
        })
        .await;
        assert!(heard.is_ok(), "no names change was announced");
    });
}

fn contacts_fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/contacts").join(name)
}

/// The phone book on PostgreSQL as on SQLite: every exporter's sample file imported alike (and
/// again, and edited), the same contacts with the same ids, the same lists for name and number
/// queries, typed contacts and numbers added, the same errors, the same export; calls named
/// from it and found by a contact's name alike; each write announced to the other receivers.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn the_phone_book_behaves_as_on_sqlite() {
    use kanca_core::contacts::{api::ExportFormat, ContactInput, ContactsError, NumberInput};
    let server = PgServer::start();
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let engine = kanca_core::Engine::open(dir.path()).unwrap();
        let pg = PgStore::connect(&server.url()).await.unwrap();
        let other = PgStore::connect(&server.url()).await.unwrap();
        let mut shared = other.subscribe_shared();
        let pair = Pair { _dir: tempfile::tempdir().unwrap(), sqlite: Backend::Sqlite(engine.store().clone()), pg: Backend::Postgres(pg.clone()) };
        // Calls from and to the numbers of the sample files, in their many spellings.
        let t0 = 1_700_000_000_000_000i64;
        let parties: [(u64, u64, &str); 6] =
            [(905324445566, 908508850000, "IN"), (905551112233, 908508850000, "IN"), (908508850000, 905321234567, "OUT"), (905321234568, 908508850000, "IN"), (905000000000, 908508850000, "IN"), (1000, 908508850000, "IN")];
        for (i, (caller, callee, direction)) in parties.into_iter().enumerate() {
            let e = json!({"event_type": "call_init", "uuid": format!("p-{i}"), "caller": caller, "callee": callee, "direction": direction, "timestamp": t0 + i as i64 * 1_000_000});
            pair.ingest(json_event(&e, 1)).await;
        }
        let files = ["android-2.1-qp.vcf", "iphone-3.0.vcf", "google.csv", "outlook-1254.csv", "excel-semicolon-1254.csv", "excel-unicode-text-utf16.txt", "plain.csv", "broken.vcf", "missing.vcf"];
        let paths: Vec<std::path::PathBuf> = files.iter().map(|f| contacts_fixture(f)).collect();
        let (a, b) = (engine.import_contacts(paths.clone()).await.unwrap(), pg.import_contacts(&paths).await.unwrap());
        assert_eq!(a, b, "the same import report");
        assert_eq!((b.unreadable.len(), b.skipped.is_empty()), (1, false), "{b:?}");
        assert!(b.added >= 10, "{b:?}");
        assert!(matches!(tokio::time::timeout(Duration::from_secs(10), shared.recv()).await, Ok(Ok(kanca_core::Shared::Contacts))), "another receiver hears of the import");
        // Again: nothing new, on both.
        let (a, b) = (engine.import_contacts(paths.clone()).await.unwrap(), pg.import_contacts(&paths).await.unwrap());
        assert_eq!(a, b);
        assert_eq!((b.added, b.updated), (0, 0), "{b:?}");
        let same_list = |q: &'static str| {
            let (engine, pg) = (engine.clone(), pg.clone());
            async move {
                let (a, b) = (engine.list_contacts(q.into(), 1000).await.unwrap(), pg.list_contacts(q, 1000).await.unwrap());
                assert_eq!(a, b, "different contacts for {q:?}");
                b
            }
        };
        let everyone = same_list("").await;
        assert_eq!(everyone.len(), b.unchanged, "{everyone:?}");
        for q in ["mehmet", "ÖZTÜRK", "ipek ışık", "isik", "ş", "ke", "ke su", "türkan şoray", "0532 444 55 66", "+90 (555) 111-22-33", "05321234568", "532", "%_", "yok"] {
            same_list(q).await;
        }
        assert!(same_list("isik").await.iter().any(|c| c.name == "İpek Işık"), "a folded word finds the Turkish name");
        // The calls: named from the book and found by a name, alike.
        for uuid in ["p-0", "p-1", "p-2", "p-3", "p-4", "p-5"] {
            pair.same_call(uuid).await;
        }
        let all = Query { limit: 50, ..Default::default() };
        for text in ["mehmet", "öztürk", "isik", "kemal", "türkan", "me", "zz", "mehmet 0532"] {
            pair.same_search(Query { text: text.into(), ..all.clone() }).await;
            pair.same_search(Query { text: text.into(), direction: Some(Direction::Out), ..all.clone() }).await;
        }
        let found = pair.same_search(Query { text: "mehmet".into(), ..all.clone() }).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["caller_name"], "Mehmet Öztürk");
        let kemal = pair.same_search(Query { text: "kemal".into(), ..all.clone() }).await;
        assert_eq!((kemal.len(), &kemal[0]["callee_name"]), (1, &json!("Kemal Sunal")), "the callee of an outgoing call: {kemal:?}");
        // Typed contacts, a number added from a call, edits the next import keeps, deletion.
        let typed = ContactInput { name: "  Şule Ak ".into(), company: Some("Ak Ltd".into()), numbers: vec![NumberInput { raw: "1000".into(), label: Some("dahili".into()) }], tags: vec!["iç".into()], ..Default::default() };
        let (a, b) = (engine.add_contact(typed.clone()).await.unwrap(), pg.add_contact(&typed).await.unwrap());
        assert_eq!(a, b);
        let number = NumberInput { raw: "+90 500 000 00 00".into(), label: None };
        let (a, b) = (engine.add_number_to_contact(b.id, number.clone()).await.unwrap(), pg.add_number_to_contact(b.id, &number).await.unwrap());
        assert_eq!((a.clone(), b.numbers.len()), (b.clone(), 2));
        // The same number in another spelling changes nothing.
        let again = pg.add_number_to_contact(b.id, &NumberInput { raw: "05000000000".into(), label: None }).await.unwrap();
        assert_eq!(again, b);
        let mehmet = everyone.iter().find(|c| c.name == "Mehmet Öztürk").unwrap().clone();
        let mut edit = ContactInput { name: "Mehmet Öztürk".into(), company: Some("Öztürk Nakliyat".into()), ..Default::default() };
        edit.numbers = mehmet.numbers.iter().map(|n| NumberInput { raw: n.raw.clone(), label: n.label.clone() }).collect();
        let (a, b) = (engine.update_contact(mehmet.id, edit.clone()).await.unwrap(), pg.update_contact(mehmet.id, &edit).await.unwrap());
        assert_eq!(a, b);
        let (a, b) = (engine.import_contacts(paths.clone()).await.unwrap(), pg.import_contacts(&paths).await.unwrap());
        assert_eq!(a, b, "an edited contact is kept alike");
        assert!(b.skipped.iter().any(|s| s.reason.contains("was changed in Kanca")), "{b:?}");
        let plain = everyone.iter().find(|c| c.name == "Kemal Sunal").unwrap().id;
        engine.delete_contact(plain).await.unwrap();
        pg.delete_contact(plain).await.unwrap();
        for uuid in ["p-0", "p-2", "p-4", "p-5"] {
            pair.same_call(uuid).await;
        }
        for q in ["", "ak", "şule", "1000", "0500 000 00 00", "kemal"] {
            same_list(q).await;
        }
        assert!(same_list("kemal").await.is_empty());
        // The same errors.
        assert!(matches!(pg.add_contact(&ContactInput { name: " ".into(), ..Default::default() }).await, Err(ContactsError::NoName)));
        let bad = ContactInput { name: "X".into(), numbers: vec![NumberInput { raw: "abc".into(), label: None }], ..Default::default() };
        assert!(matches!(pg.add_contact(&bad).await, Err(ContactsError::BadNumber(_))));
        assert!(matches!(pg.delete_contact(plain).await, Err(ContactsError::NotFound(_))));
        assert!(matches!(pg.update_contact(999_999, &typed).await, Err(ContactsError::NotFound(_))));
        assert_eq!(engine.lookup_contact("0 532 444 55 66".into()).await.unwrap(), pg.lookup_contact("0 532 444 55 66").await.unwrap());
        assert_eq!(pg.lookup_contact("1000").await.unwrap().map(|m| m.name), Some("Şule Ak".into()));
        // A file given by content (a desk's import) and one that is no contacts file.
        let bytes = std::fs::read(contacts_fixture("plain.csv")).unwrap();
        let (a, b) = (engine.import_contact_bytes("plain.csv".into(), bytes.clone()).await.unwrap(), pg.import_contact_bytes("plain.csv", &bytes).await.unwrap());
        assert_eq!((a, b.added), (b.clone(), 1), "Kemal, deleted, comes back");
        let junk = pg.import_contact_bytes("x.csv", b"\0\0\0").await.unwrap();
        assert_eq!((junk.added, junk.skipped.len()), (0, 1));
        for format in [ExportFormat::Vcard, ExportFormat::Csv] {
            assert_eq!(engine.export_contacts(format).await.unwrap(), pg.export_contacts(format).await.unwrap(), "{format:?}");
        }
    });
}

/// What filling gaps from Bulutfon's records asks of the history, answered alike on both; the
/// walk's state kept in the database; one receiver's pass at a time.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn gap_filling_answers_alike() {
    use kanca_core::gaps::Stale;
    let server = PgServer::start();
    runtime().block_on(async {
        let pair = Pair::new(&server).await;
        let now = kanca_core::time::now_us();
        // Old ringing calls, a missed one, an answered one with a route, an outgoing one.
        let calls = [
            json!({"event_type": "call_init", "uuid": "g-ring-1", "caller": 905324445561u64, "callee": 908508850000u64, "direction": "IN", "timestamp": now - 1_800_000_000}),
            json!({"event_type": "call_init", "uuid": "g-ring-2", "caller": 905324445562u64, "callee": 908508850000u64, "direction": "IN", "timestamp": now - 1_700_000_000}),
            json!({"event_type": "call_init", "uuid": "g-new", "caller": 905324445563u64, "callee": 908508850000u64, "direction": "IN", "timestamp": now - 1_000_000}),
            json!({"event_type": "missing_call", "uuid": "g-missed", "caller": 905324445564u64, "callee": 908508850000u64, "direction": "IN", "timestamp": now - 1_600_000_000}),
            json!({"event_type": "incoming_call_extension", "uuid": "g-routed", "caller": 905324445565u64, "callee": 908508850000u64, "direction": "IN", "timestamp": now - 1_500_000_000, "destination": 1000}),
            json!({"event_type": "call_init", "uuid": "g-out", "caller": 908508850000u64, "callee": 905324445566u64, "direction": "OUT", "timestamp": now - 1_400_000_000}),
        ];
        for c in &calls {
            pair.ingest(json_event(c, now)).await;
        }
        let asked: Vec<String> = ["g-ring-1", "g-missed", "g-routed", "g-out", "g-nope", "g-ring-2", "g-new"].iter().map(|s| s.to_string()).collect();
        let (a, b) = (pair.sqlite.known_calls(asked.clone()).await.unwrap(), pair.pg.known_calls(asked.clone()).await.unwrap());
        assert_eq!((a.clone(), a.len()), (b, 6));
        let (a, b) = (pair.sqlite.missed_among(asked.clone()).await.unwrap(), pair.pg.missed_among(asked.clone()).await.unwrap());
        assert_eq!((a.clone(), a), (b, vec!["g-missed".to_owned()]));
        for limit in [1, 2, 10] {
            let (a, b) = (pair.sqlite.without_route(asked.clone(), limit).await.unwrap(), pair.pg.without_route(asked.clone(), limit).await.unwrap());
            assert_eq!(a, b, "limit {limit}");
        }
        assert_eq!(pair.pg.without_route(asked.clone(), 2).await.unwrap(), ["g-new", "g-missed"]);
        let stale = Stale { oldest_sort_key: 0, quiet_since: now - 600_000_000, retry_after: now - 60_000_000, limit: 10 };
        let (a, b) = (pair.sqlite.stale_calls(stale).await.unwrap(), pair.pg.stale_calls(stale).await.unwrap());
        assert_eq!(a, b);
        assert_eq!(b.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>(), ["g-out", "g-routed", "g-ring-2", "g-ring-1"], "the newest first, the quiet ones only");
        // Asked about a moment ago: not again until the retry time.
        for backend in [&pair.sqlite, &pair.pg] {
            backend.write_api_state(vec![(kanca_core::gaps::stale_key("g-ring-2"), now.to_string()), ("k".into(), "1".into())]).await.unwrap();
            backend.write_api_state(vec![("k".into(), "2".into())]).await.unwrap();
            assert_eq!(backend.read_api_state("k").await.unwrap().as_deref(), Some("2"));
            assert_eq!(backend.read_api_state("none").await.unwrap(), None);
        }
        let (a, b) = (pair.sqlite.stale_calls(stale).await.unwrap(), pair.pg.stale_calls(stale).await.unwrap());
        assert_eq!((a.clone(), a.len()), (b, 3));
        // One pass at a time across the receivers of a database.
        let (Backend::Postgres(one), Ok(other)) = (&pair.pg, PgStore::connect_reader(&server.url()).await) else { unreachable!() };
        let turn = one.try_gap_pass().await.unwrap();
        assert!(turn.is_some());
        assert!(other.try_gap_pass().await.unwrap().is_none(), "another receiver's pass is running");
        drop(turn);
        let end = tokio::time::Instant::now() + Duration::from_secs(10);
        while other.try_gap_pass().await.unwrap().is_none() {
            assert!(tokio::time::Instant::now() < end, "the pass's lock outlived it");
            tokio::task::yield_now().await;
        }
    });
}

/// A receiver whose change feed was cut cannot know what was announced meanwhile: once it
/// listens again it asks whoever follows it (the desks) to read everything shared again.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn a_lost_change_feed_asks_for_everything_again() {
    let server = PgServer::start();
    runtime().block_on(async {
        let url = fresh_database(&server, "cut").await;
        let (admin, conn) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let following = PgStore::connect(&url).await.unwrap();
        let mut shared = following.subscribe_shared();
        let writer = PgStore::connect_reader(&url).await.unwrap();
        let e = json!({"event_type": "call_init", "uuid": "cut-1", "caller": 905324445566u64, "callee": 908508850000u64, "direction": "IN", "timestamp": 1_700_000_000_000_000i64});
        writer.ingest(json_event(&e, 1)).await.unwrap();
        // Heard while listening: the note itself.
        writer.set_call_note("cut-1", "önce").await.unwrap();
        let heard = tokio::time::timeout(Duration::from_secs(10), shared.recv()).await.unwrap().unwrap();
        assert!(matches!(heard, kanca_core::Shared::CallNotes(ref u) if u == "cut-1"), "{heard:?}");
        // Cut the listening connection and keep it from coming back (the writer keeps the
        // connection it has), until it is surely gone.
        admin.batch_execute("ALTER DATABASE cut ALLOW_CONNECTIONS false").await.unwrap();
        let pid: i32 = admin
            .query_one("SELECT pid FROM pg_stat_activity WHERE datname = 'cut' AND query LIKE 'LISTEN%'", &[])
            .await
            .unwrap()
            .get(0);
        admin.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();
        let end = tokio::time::Instant::now() + Duration::from_secs(10);
        while admin.query_opt("SELECT 1 FROM pg_stat_activity WHERE pid = $1", &[&pid]).await.unwrap().is_some() {
            assert!(tokio::time::Instant::now() < end, "the listening connection outlived its termination");
            tokio::task::yield_now().await;
        }
        // Announced while nobody listened.
        writer.set_call_note("cut-1", "sonra").await.unwrap();
        admin.batch_execute("ALTER DATABASE cut ALLOW_CONNECTIONS true").await.unwrap();
        let next = tokio::time::timeout(Duration::from_secs(30), shared.recv()).await.expect("nothing was announced after the feed came back").unwrap();
        assert_eq!(next, kanca_core::Shared::Everything);
    });
}
