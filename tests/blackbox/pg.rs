//! Two `kanca serve --database` receivers on one PostgreSQL database behave as one receiver:
//! the same delivery reaching both at once is stored once, a receiver killed in a burst loses
//! nothing it acknowledged while the other goes on, `kanca history` / `show` / `export` read the
//! shared history, and two `--office` receivers serve the same desks. Needs Debian's postgresql
//! (tests/run.sh installs it), hence ignored in a plain `cargo test`; not in the Wine run (the
//! server listens on a Unix socket).

use kanca_tests::pg::PgServer;
use kanca_tests::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

const TOTAL: usize = 300;
const THREADS: usize = 8;
const KILL_AFTER: usize = 120;

fn receiver(work: &Workdir, url: &str) -> Server {
    Server::start_with_args(&work.data_dir(), Creds::Env, &["--database", url])
}

#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn two_receivers_share_one_history_and_survive_a_kill() {
    let pg = PgServer::start();
    let url = pg.url();
    let (work_a, work_b) = (Workdir::new(), Workdir::new());
    let mut a = receiver(&work_a, &url);
    let b = receiver(&work_b, &url);
    let t0 = 1_700_000_000_000_000u64;

    // The same delivery through both at the same moment, ten times: one "stored" each time.
    for round in 0..10u64 {
        let body = event_json("call_init", &format!("both-{round}"), 905324445566, 908508850000, "IN", t0 + round).to_string();
        let (ra, rb) = std::thread::scope(|s| {
            let ha = s.spawn(|| a.post_json(&body));
            let hb = s.spawn(|| b.post_json(&body));
            (ha.join().unwrap(), hb.join().unwrap())
        });
        let mut words = [ra.expect_accepted(), rb.expect_accepted()];
        words.sort();
        assert_eq!(words, ["duplicate".to_string(), "stored".to_string()], "round {round}");
    }

    // A burst spread over both, as a round-robin proxy would; receiver A is killed part way.
    // A delivery A did not acknowledge is retried on B, as a proxy fails over.
    let next = AtomicUsize::new(0);
    let acked_count = AtomicUsize::new(0);
    let killed = AtomicBool::new(false);
    let acked: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= TOTAL {
                    break;
                }
                let uuid = format!("burst-{i:04}");
                for (n, kind) in ["call_init", "missing_call"].into_iter().enumerate() {
                    let body = event_json(kind, &uuid, 905324445566, 908508850000, "IN", t0 + 1_000_000 + i as u64 * 1000 + n as u64).to_string();
                    let via_a = i.is_multiple_of(2) && !killed.load(Ordering::SeqCst);
                    let first = if via_a { a.try_post("application/json", &body, Some((USER, PASSWORD))) } else { b.try_post("application/json", &body, Some((USER, PASSWORD))) };
                    let reply = match first {
                        Ok(r) if (200..300).contains(&r.status) => r,
                        other => {
                            assert!(via_a && killed.load(Ordering::SeqCst), "{uuid} {kind} failed on a live receiver: {other:?}");
                            let r = b.post_json(&body);
                            r.expect_accepted();
                            r
                        }
                    };
                    assert_eq!(reply.status, 200, "{uuid} {kind}: {}", reply.body);
                    *acked.lock().unwrap().entry(uuid.clone()).or_default() += 1;
                    if acked_count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                        killed.store(true, Ordering::SeqCst);
                        a.signal("KILL");
                    }
                }
            });
        }
    });
    assert!(killed.load(Ordering::SeqCst), "the burst ended before the kill");
    a.kill();
    let acked = acked.into_inner().unwrap();
    assert_eq!(acked.len(), TOTAL);
    assert!(acked.values().all(|n| *n == 2), "every event was acknowledged by one receiver or the other");

    // Every acknowledged event is in its call, read through either data directory.
    let all = history(&work_a.data_dir(), &["--database", &url, "--limit", "100000"]);
    let calls: HashMap<&str, &serde_json::Value> = all.iter().map(|c| (c["uuid"].as_str().unwrap(), c)).collect();
    assert_eq!(calls.len(), TOTAL + 10, "calls in the shared history");
    for uuid in acked.keys() {
        let call = calls.get(uuid.as_str()).unwrap_or_else(|| panic!("{uuid} acknowledged but not in the history"));
        assert_eq!(call["event_count"], 2, "{uuid}: {call}");
        assert_eq!(call["missed"], true, "{uuid}: {call}");
    }
    let shown = kanca_ok(&work_b.data_dir(), &["show", "burst-0007", "--json", "--database", &url]);
    let shown: serde_json::Value = serde_json::from_str(shown.trim()).unwrap();
    assert_eq!(shown["events"].as_array().map(Vec::len), Some(2), "{shown}");
    // The number search of the SQLite history works the same way here.
    let by_number = history(&work_b.data_dir(), &["--database", &url, "--limit", "100000", "0532 444 55 66"]);
    assert_eq!(by_number.len(), TOTAL + 10);
    drop(b);
    drop(pg);
}

/// KANCA_DATABASE_URL reaches every command that reads or writes the history and the phone
/// book, and none of them writes a SQLite file instead.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn the_environment_names_the_database() {
    let pg = PgServer::start();
    let url = pg.url();
    let work = Workdir::new();
    let env = [("KANCA_DATABASE_URL", url.as_str())];
    let server = Server::start_with_env(&work.data_dir(), Creds::Env, &[], &env);
    server.post_json(&event_json("call_init", "env-1", 905324445566, 908508850000, "IN", 1_700_000_000_000_000).to_string()).expect_accepted();
    let out = kanca_env(&work.data_dir(), &["history", "--json"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("env-1"));
    // `kanca export` writes the shared history's calls as CSV.
    let csv = kanca_env(&work.data_dir(), &["export", "--delimiter", ";"], &env);
    assert!(csv.status.success(), "{}", String::from_utf8_lossy(&csv.stderr));
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert_eq!(csv.lines().count(), 2, "a header and the one call: {csv}");
    assert!(csv.lines().nth(1).is_some_and(|l| l.trim_end().ends_with(";env-1")), "{csv}");
    // `kanca self-test` finds its test event in the shared history, not in a SQLite file.
    let with_creds = [env[0], ("KANCA_WEBHOOK_USER", USER), ("KANCA_WEBHOOK_PASSWORD", PASSWORD)];
    let tested = kanca_env(&work.data_dir(), &["self-test", "--json", "--url", &server.base_url()], &with_creds);
    let result: serde_json::Value = serde_json::from_slice(&tested.stdout).unwrap_or_else(|e| panic!("{e}: {tested:?}"));
    assert!(tested.status.success() && result["ok"] == true, "{result}");
    let uuid = result["uuid"].as_str().unwrap().to_owned();
    assert!(kanca_env(&work.data_dir(), &["show", &uuid, "--json"], &env).status.success(), "the test call is in PostgreSQL");
    // `kanca names` sets and lists the user's own names in the shared history.
    let named = kanca_env(&work.data_dir(), &["names", "group", "111", "Satış"], &env);
    assert!(named.status.success(), "{}", String::from_utf8_lossy(&named.stderr));
    let listed = String::from_utf8_lossy(&named.stdout);
    assert!(listed.lines().any(|l| l.starts_with("group") && l.contains("111") && l.contains("Satış")), "{listed}");
    // Not in the data directory's SQLite file: there is none.
    assert!(!work.data_dir().join("kanca.db").exists(), "kanca serve --database wrote a SQLite history too");
    // The phone book: imported, listed and exported there, and naming the calls read from it.
    let vcf = workspace_root().join("tests/fixtures/contacts/android-2.1-qp.vcf");
    let imported = kanca_env(&work.data_dir(), &["contacts", "import", "--json", vcf.to_str().unwrap()], &env);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let report: serde_json::Value = serde_json::from_slice(&imported.stdout).unwrap();
    assert_eq!(report["added"], 3, "{report}");
    let listed = kanca_env(&work.data_dir(), &["contacts", "list", "ozturk"], &env);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("Mehmet Öztürk"), "{listed:?}");
    let exported = kanca_env(&work.data_dir(), &["contacts", "export", "--format", "csv"], &env);
    assert!(exported.status.success() && String::from_utf8_lossy(&exported.stdout).contains("İpek Işık"), "{exported:?}");
    let by_name = kanca_env(&work.data_dir(), &["history", "--json", "mehmet"], &env);
    let call: serde_json::Value = serde_json::from_slice(&by_name.stdout).unwrap_or_else(|e| panic!("{e}: {by_name:?}"));
    assert_eq!((&call["uuid"], &call["caller_name"]), (&serde_json::json!("env-1"), &serde_json::json!("Mehmet Öztürk")), "{call}");
    // Still in no SQLite file.
    assert!(!work.data_dir().join("kanca.db").exists(), "the phone book went to a SQLite file");
    // Bulutfon's API commands run too (no command refuses the database any more), and say what
    // they lack.
    for args in [&["sync"][..], &["call", "0532 444 55 66", "--yes"]] {
        let out = kanca_env(&work.data_dir(), args, &env);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("no Bulutfon API token"), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // A wrong database is a clear error, with no password in it.
    let bad = kanca(&work.data_dir(), &["history", "--database", "postgres://kanca:s3cret@127.0.0.1:1/none"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("cannot use the PostgreSQL database") && !err.contains("s3cret"), "{err}");
    drop(server);
    drop(pg);
}

/// `kanca serve --database URL --office ADDR`: the receiver with its client API; (server, the
/// API's address, its certificate's fingerprint).
fn office_receiver(work: &Workdir, url: &str) -> (Server, String, String) {
    let server = Server::start_with_args(&work.data_dir(), Creds::Env, &["--database", url, "--office", "127.0.0.1:0"]);
    let (_, line) = server.wait_for_line("Office client API: ", 0, std::time::Duration::from_secs(30));
    let rest = line.split("Office client API: ").nth(1).unwrap();
    let addr = rest.split(' ').next().unwrap().to_owned();
    let fp = rest.split("fingerprint ").nth(1).unwrap().trim_end_matches(')').to_owned();
    (server, addr, fp)
}

/// A desk of the office: the engine's own desk, following the receivers into its own database.
struct OfficeDesk {
    _dir: tempfile::TempDir,
    engine: kanca_core::Engine,
    desk: kanca_core::office::desk::Desk,
}

impl OfficeDesk {
    fn start(code: &str) -> OfficeDesk {
        let pairing = kanca_core::office::clients::Pairing::parse(code).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let engine = kanca_core::Engine::open(dir.path()).unwrap();
        let desk = kanca_core::office::desk::Desk::start(engine.clone(), &pairing);
        OfficeDesk { _dir: dir, engine, desk }
    }

    /// Wait until the desk follows the receiver at `addr`.
    async fn following(&self, addr: &str) {
        let mut watch = self.desk.watch();
        let end = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let s = watch.borrow_and_update().clone();
            if s.state == kanca_core::office::desk::DeskState::Connected && s.receiver == addr {
                return;
            }
            assert!(tokio::time::Instant::now() < end, "the desk does not follow {addr}: {s:?}");
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), watch.changed()).await;
        }
    }

    async fn call(&self, uuid: &str) -> Option<kanca_core::Call> {
        let u = uuid.to_owned();
        self.engine.store().read(move |c| kanca_core::history::get_call(c, &u)).await.unwrap().map(|d| d.call)
    }

    /// Wait until the desk's own copy has call `uuid` meeting `ok`.
    async fn has(&self, what: &str, uuid: &str, ok: impl Fn(&kanca_core::Call) -> bool) {
        let end = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let call = self.call(uuid).await;
            if call.as_ref().is_some_and(&ok) {
                return;
            }
            assert!(tokio::time::Instant::now() < end, "the desk never had {what} ({uuid}: {call:?})");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Wait until the desk's own copy of the names calls extension `number` `name`.
    async fn named(&self, number: &str, name: &str) {
        let end = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let names = self.engine.store().read(kanca_core::names::list).await.unwrap();
            if names.iter().any(|n| n.number == number && n.shown() == Some(name)) {
                return;
            }
            assert!(tokio::time::Instant::now() < end, "the desk never had the name {name:?} ({names:?})");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Wait until the desk's own copy of the phone book names `number` `name`.
    async fn knows(&self, number: &str, name: &str) {
        let end = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let hit = self.engine.lookup_contact(number.to_owned()).await.unwrap();
            if hit.as_ref().is_some_and(|m| m.name == name) {
                return;
            }
            assert!(tokio::time::Instant::now() < end, "the desk never had the contact {name:?} ({hit:?})");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    async fn events(&self) -> i64 {
        self.engine.store().read(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))?)).await.unwrap()
    }
}

/// Two `kanca serve --database --office` receivers serve the same desks: one pairing code names
/// both, they share a certificate, a note written through one reaches a desk following the
/// other at once, and when one is killed its desks go on with the other, missing nothing.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn two_receivers_serve_the_same_desks() {
    let pg = PgServer::start();
    let url = pg.url();
    let (work_a, work_b) = (Workdir::new(), Workdir::new());
    let (mut a, addr_a, fp_a) = office_receiver(&work_a, &url);
    let (b, addr_b, fp_b) = office_receiver(&work_b, &url);
    assert_eq!(fp_a, fp_b, "receivers of one database serve one certificate");
    // Paired once, through either data directory: the desks are kept in the database.
    let pair = |name: &str, first: &str, second: &str| -> String {
        let out = kanca_ok(&work_b.data_dir(), &["clients", "add", name, "--database", &url, "--address", first, "--address", second, "--json"]);
        let made: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(made["fingerprint"], fp_a.as_str());
        made["code"].as_str().unwrap().to_owned()
    };
    let (code_1, code_2) = (pair("Ayşe", &addr_a, &addr_b), pair("Burak", &addr_b, &addr_a));
    let listed = kanca_ok(&work_a.data_dir(), &["clients", "list", "--database", &url]);
    assert!(listed.contains("Ayşe") && listed.contains("Burak"), "{listed}");
    let t0 = 1_700_000_000_000_000u64;
    a.post_json(&event_json("call_init", "before", 905324445566, 908508850000, "IN", t0).to_string()).expect_accepted();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let (d1, d2) = (OfficeDesk::start(&code_1), OfficeDesk::start(&code_2));
        d1.following(&addr_a).await;
        d2.following(&addr_b).await;
        // The phone book is shared here too.
        assert!(!d1.desk.status().no_phone_book && !d2.desk.status().no_phone_book);
        // Stored before the desks existed: both copy it from the journal.
        d1.has("the call stored before it was paired", "before", |_| true).await;
        d2.has("the call stored before it was paired", "before", |_| true).await;
        // A call through A reaches the desk following B live, and the other way round.
        a.post_json(&event_json("call_init", "via-a", 905324445567, 908508850000, "IN", t0 + 1_000_000).to_string()).expect_accepted();
        b.post_json(&event_json("call_init", "via-b", 905324445568, 908508850000, "IN", t0 + 2_000_000).to_string()).expect_accepted();
        for d in [&d1, &d2] {
            d.has("the call through A", "via-a", |_| true).await;
            d.has("the call through B", "via-b", |_| true).await;
        }
        // A note and tags written by the desk following A are seen by the desk following B.
        let uuid = "via-a";
        let answered: kanca_core::Call = d1
            .desk
            .client()
            .send_json(kanca_core::office::client::HttpMethod::PUT, &format!("/v1/calls/{uuid}/note"), &serde_json::json!({"note": "Işık Mobilya: geri ara"}))
            .await
            .unwrap();
        assert_eq!(answered.note.as_deref(), Some("Işık Mobilya: geri ara"));
        let _: kanca_core::Call = d1
            .desk
            .client()
            .send_json(kanca_core::office::client::HttpMethod::PUT, &format!("/v1/calls/{uuid}/tags"), &serde_json::json!({"tags": ["satış"]}))
            .await
            .unwrap();
        d2.has("the note written through the other receiver", uuid, |c| c.note.as_deref() == Some("Işık Mobilya: geri ara") && c.tags == ["satış"]).await;
        // Searchable on the shared history through either receiver.
        let found: serde_json::Value = d2.desk.client().get("/v1/calls?text=isik&limit=10").await.unwrap();
        assert_eq!(found["calls"].as_array().map(Vec::len), Some(1), "{found}");
        // A name given at one desk reaches the other's copy, and the calls it reads.
        let named: serde_json::Value = d1
            .desk
            .client()
            .send_json(kanca_core::office::client::HttpMethod::PUT, "/v1/names/extension/1000", &serde_json::json!({"name": "Şule"}))
            .await
            .unwrap();
        assert_eq!(named[0]["local"], "Şule", "{named}");
        d2.named("1000", "Şule").await;
        // A contact added at the desk following B reaches the copy of the desk following A,
        // names the call there, and is found by name through A.
        let added: kanca_core::contacts::Contact = d2
            .desk
            .client()
            .send_json(kanca_core::office::client::HttpMethod::POST, "/v1/contacts", &serde_json::json!({"name": "Kaya Ticaret", "numbers": [{"raw": "0532 444 55 67"}]}))
            .await
            .unwrap();
        assert_eq!(added.numbers[0].e164.as_deref(), Some("+905324445567"));
        d1.knows("0532 444 55 67", "Kaya Ticaret").await;
        d1.has("the call named from the shared phone book", "via-a", |c| c.caller_name.as_deref() == Some("Kaya Ticaret")).await;
        let found: serde_json::Value = d1.desk.client().get("/v1/calls?text=kaya&limit=10").await.unwrap();
        assert_eq!(found["calls"][0]["caller_name"], "Kaya Ticaret", "{found}");
        assert_eq!(found["calls"].as_array().map(Vec::len), Some(1), "{found}");

        // Receiver A dies; its desk goes on with B and misses nothing stored meanwhile.
        a.signal("KILL");
        a.kill();
        for i in 0..20u64 {
            let uuid = format!("after-{i:02}");
            b.post_json(&event_json("call_init", &uuid, 905324445500 + i, 908508850000, "IN", t0 + 10_000_000 + i * 1000).to_string()).expect_accepted();
            b.post_json(&event_json("missing_call", &uuid, 905324445500 + i, 908508850000, "IN", t0 + 10_000_500 + i * 1000).to_string()).expect_accepted();
        }
        d1.following(&addr_b).await;
        for i in 0..20u64 {
            d1.has("a missed call stored after A died", &format!("after-{i:02}"), |c| c.missed).await;
        }
        // Exactly the receivers' events, each once.
        assert_eq!(d1.events().await, 3 + 40);
        assert_eq!(d2.events().await, 3 + 40);
        // A note written now (through B) still reaches both desks.
        let _: kanca_core::Call = d2
            .desk
            .client()
            .send_json(kanca_core::office::client::HttpMethod::PUT, "/v1/calls/after-00/note", &serde_json::json!({"note": "yeniden"}))
            .await
            .unwrap();
        d1.has("the note written after the failover", "after-00", |c| c.note.as_deref() == Some("yeniden")).await;
    });
    drop(b);
    drop(pg);
}

/// Bulutfon's API fills the shared history: a receiver on PostgreSQL walks the call records at
/// start (names included, written where every receiver reads them), `kanca sync --database`
/// then walks only what is new (the walk's state is in the database, not in a data directory),
/// and a call whose hang-up was lost is closed by its record.
#[test]
#[ignore = "needs a PostgreSQL server (Debian's postgresql; tests/run.sh installs it)"]
fn bulutfon_s_api_fills_the_shared_history() {
    use kanca_tests::bulutfon::{generated_record, StandIn};
    let pg = PgServer::start();
    let url = pg.url();
    let (work_a, work_b) = (Workdir::new(), Workdir::new());
    let api = StandIn::start();
    let api_env = api.env();
    let mut env: Vec<(&str, &str)> = api_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("KANCA_DATABASE_URL", url.as_str()));
    let a = Server::start_with_env(&work_a.data_dir(), Creds::Env, &[], &env);
    a.wait_for_line("Bulutfon API: synced, 9 calls added", 0, std::time::Duration::from_secs(60));
    // Read through another data directory: it is all in PostgreSQL.
    let calls = history(&work_b.data_dir(), &["--database", &url, "--limit", "50"]);
    assert_eq!(calls.len(), 9, "{calls:#?}");
    let shown = kanca_env(&work_b.data_dir(), &["show", "dd3b3506-e40e-11e4-9880-17aee3ce4e7b", "--json", "--database", &url], &[]);
    let routed: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap_or_else(|e| panic!("{e}: {shown:?}"));
    let names: Vec<&serde_json::Value> = routed["route"].as_array().unwrap().iter().map(|s| &s["name"]).collect();
    assert_eq!(names, [&serde_json::Value::Null, &serde_json::json!("Teknik Destek"), &serde_json::json!("Şule Çağlar")], "{routed}");
    assert!(!work_a.data_dir().join("kanca.db").exists(), "the backfill wrote a SQLite history");

    // A call started 20 minutes ago through A whose hang-up never came, and two new records.
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let lost = "5a1e0000-0000-4000-8000-0000000000aa";
    a.post_json(&event_json("call_init", lost, 905321112233, 908508850000, "IN", (now_s - 1200) * 1_000_000).to_string()).expect_accepted();
    let mut record = generated_record(7);
    record["uuid"] = lost.into();
    record["caller"] = 905321112233u64.into();
    api.add_detail(serde_json::json!({"cdr": record}));
    api.prepend(vec![generated_record(0), generated_record(1)]);
    api.clear_seen();
    // `kanca sync` from another data directory (the token from the environment) goes on from
    // where the receiver's walk ended: one page.
    let out = kanca_env(&work_b.data_dir(), &["sync", "--json"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&report["calls_added"], &report["pages"], &report["closed"], &report["busy"]), (&2.into(), &1.into(), &1.into(), &false.into()), "{report}");
    assert_eq!(api.count("/cdrs"), 1, "{:?}", api.seen());
    let closed = kanca_env(&work_b.data_dir(), &["show", lost, "--json", "--database", &url], &[]);
    let closed: serde_json::Value = serde_json::from_slice(&closed.stdout).unwrap();
    assert_eq!((&closed["state"], &closed["sources"]), (&serde_json::json!("answered"), &serde_json::json!(["webhook", "api"])), "{closed}");
    assert_eq!(history(&work_b.data_dir(), &["--database", &url, "--limit", "50"]).len(), 12);
    drop(a);
    drop(pg);
}
