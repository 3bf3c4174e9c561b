//! Office mode end to end inside one process: a receiver's engine with its client API on a real
//! TLS port, and desks following it into databases of their own. Webhooks reach the receiver
//! through its real listener (HTTP with basic auth); what the desks see is read from their own
//! SQLite files.

use std::future::Future;
use std::time::Duration;

use kanca_core::contacts::ContactInput;
use kanca_core::history::{self, Query};
use kanca_core::office::clients::{self, Pairing};
use kanca_core::office::desk::{Desk, DeskState};
use kanca_core::office::OfficeServer;
use kanca_core::{Engine, WebhookListener};

const DEADLINE: Duration = Duration::from_secs(20);

/// Wait until `f` gives Some, polling; panics with `what` after [`DEADLINE`].
async fn until<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

struct Receiver {
    _dir: tempfile::TempDir,
    engine: Engine,
    listener: WebhookListener,
    office: OfficeServer,
}

impl Receiver {
    async fn start() -> Receiver {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let listener = engine.start_listener("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let office = OfficeServer::start(&engine, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        Receiver { _dir: dir, engine, listener, office }
    }

    async fn pair(&self, name: &str) -> Pairing {
        let pairing = kanca_core::office::pair_desk(self.engine.data_dir(), name, Some(self.office.addr.to_string())).unwrap();
        assert_eq!(pairing.fp, self.office.fingerprint);
        pairing
    }

    /// POST a call event to the receiver's webhook, as Bulutfon does.
    async fn post(&self, event_type: &str, uuid: &str, caller: &str, ts: i64) {
        let body = format!(r#"{{"event_type":"{event_type}","uuid":"{uuid}","caller":"{caller}","callee":"908508850000","direction":"IN","timestamp":{ts}}}"#);
        let url = format!("http://{}/webhook", self.listener.addr);
        let auth = self.engine.credentials().header_value();
        let status = tokio::task::spawn_blocking(move || {
            ureq::post(&url).header("Authorization", &auth).header("Content-Type", "application/json").send(body.as_bytes()).map(|r| r.status().as_u16()).unwrap_or(0)
        })
        .await
        .unwrap();
        assert_eq!(status, 200, "the receiver stores the webhook");
    }
}

struct DeskHarness {
    _dir: tempfile::TempDir,
    engine: Engine,
    desk: Desk,
}

impl DeskHarness {
    fn start(pairing: &Pairing) -> DeskHarness {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let desk = Desk::start(engine.clone(), pairing);
        DeskHarness { _dir: dir, engine, desk }
    }

    /// Restart following with the same database (the desk was closed and opened again).
    fn restart(self, pairing: &Pairing) -> DeskHarness {
        drop(self.desk);
        let desk = Desk::start(self.engine.clone(), pairing);
        DeskHarness { desk, ..self }
    }

    async fn call(&self, uuid: &str) -> Option<kanca_core::Call> {
        let u = uuid.to_owned();
        self.engine.store().read(move |c| history::get_call(c, &u)).await.unwrap().map(|d| d.call)
    }

    async fn events(&self) -> i64 {
        self.engine.store().read(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))?)).await.unwrap()
    }

    async fn connected(&self) {
        let mut watch = self.desk.watch();
        until("the desk to connect", || {
            let s = watch.borrow_and_update().clone();
            async move { (s.state == DeskState::Connected).then_some(()) }
        })
        .await;
    }
}

const T0: i64 = 1_760_000_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desks_copy_calls_notes_and_contacts_and_catch_up_after_being_away() {
    let receiver = Receiver::start().await;
    let (pa, pb) = (receiver.pair("Ayşe").await, receiver.pair("Burak").await);
    // Stored before either desk existed: a new desk reads it from the journal.
    receiver.post("call_init", "old-1", "905324445566", T0).await;
    let a = DeskHarness::start(&pa);
    let b = DeskHarness::start(&pb);
    a.connected().await;
    b.connected().await;
    until("desk A to copy the old call", || async { a.call("old-1").await }).await;

    // Live: a call and its hang-up reach both desks, assembled the same way as on the receiver.
    receiver.post("call_init", "live-1", "905321112233", T0 + 1_000_000).await;
    receiver.post("missing_call", "live-1", "905321112233", T0 + 9_000_000).await;
    for d in [&a, &b] {
        let call = until("the missed call at a desk", || async { d.call("live-1").await.filter(|c| c.state == kanca_core::CallState::Missed) }).await;
        assert_eq!(call.caller.as_deref(), Some("0 532 111 22 33"));
    }

    // A note written at desk A (through the receiver) reaches desk B.
    let written: kanca_core::Call = a.desk.client().send_json(hyper::Method::PUT, "/v1/calls/live-1/note", &serde_json::json!({"note": "Geri aranacak"})).await.unwrap();
    assert_eq!(written.note.as_deref(), Some("Geri aranacak"));
    until("the note at desk B", || async { b.call("live-1").await.and_then(|c| c.note).filter(|n| n == "Geri aranacak") }).await;

    // A contact added at desk B names the caller at desk A, with the receiver's id.
    let input = ContactInput { name: "Mehmet Öztürk".into(), numbers: vec![kanca_core::contacts::NumberInput { raw: "0532 111 22 33".into(), label: None }], ..Default::default() };
    let added: kanca_core::contacts::Contact = b.desk.client().send_json(hyper::Method::POST, "/v1/contacts", &input).await.unwrap();
    let named = until("the contact's name at desk A", || async { a.call("live-1").await.and_then(|c| c.caller_name).filter(|n| n == "Mehmet Öztürk") }).await;
    assert_eq!(named, "Mehmet Öztürk");
    let at_a = a.engine.get_contact(added.id).await.unwrap().expect("the same id at the desk");
    assert_eq!(at_a.name, "Mehmet Öztürk");
    // Search at the desk finds the call by the name, as on the receiver.
    let q = Query { text: "mehmet".into(), limit: 10, ..Default::default() };
    let found = a.engine.store().read(move |c| history::search(c, &q)).await.unwrap();
    assert_eq!(found.calls.iter().map(|c| c.uuid.as_str()).collect::<Vec<_>>(), ["live-1"]);

    // Desk B loses the receiver (it now knocks where nothing answers); calls arrive; it comes
    // back and has each exactly once.
    let b_before = b.events().await;
    drop(b.desk);
    let b = DeskHarness { desk: Desk::start(b.engine.clone(), &Pairing { addr: "127.0.0.1:9".into(), ..pb.clone() }), ..b };
    for i in 0..5 {
        receiver.post("call_init", &format!("away-{i}"), "905330000000", T0 + 20_000_000 + i).await;
    }
    // Notes written meanwhile at desk A: one new, one cleared (its tags stay).
    let _: kanca_core::Call = a.desk.client().send_json(hyper::Method::PUT, "/v1/calls/old-1/note", &serde_json::json!({"note": "Fatura gönderildi"})).await.unwrap();
    let _: kanca_core::Call = a.desk.client().send_json(hyper::Method::PUT, "/v1/calls/live-1/tags", &serde_json::json!({"tags": ["satış"]})).await.unwrap();
    let _: kanca_core::Call = a.desk.client().send_json(hyper::Method::PUT, "/v1/calls/live-1/note", &serde_json::json!({"note": ""})).await.unwrap();
    assert_eq!(b.call("live-1").await.and_then(|c| c.note).as_deref(), Some("Geri aranacak"), "desk B is away");
    let b = b.restart(&pb);
    b.connected().await;
    until("desk B to catch up", || async { (b.events().await == b_before + 5).then_some(()) }).await;
    receiver.post("call_init", "after", "905330000001", T0 + 30_000_000).await;
    until("desk B to follow again", || async { b.call("after").await }).await;
    assert_eq!(b.events().await, b_before + 6, "nothing twice, nothing lost");
    // ... and the notes written while it was away.
    let old = until("the note written while desk B was away", || async { b.call("old-1").await.filter(|c| c.note.is_some()) }).await;
    assert_eq!(old.note.as_deref(), Some("Fatura gönderildi"));
    let live = b.call("live-1").await.unwrap();
    assert_eq!((live.note, live.tags), (None, vec!["satış".to_owned()]));
    let receiver_events = receiver.engine.store().read(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))?)).await.unwrap();
    assert_eq!(b.events().await, receiver_events);
    assert_eq!(a.events().await, receiver_events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_desk_and_a_wrong_certificate_are_refused() {
    let receiver = Receiver::start().await;
    let pairing = receiver.pair("Ayşe").await;
    let db = kanca_core::store::open(receiver.engine.store().path()).unwrap();
    clients::revoke(&db, "Ayşe").unwrap();
    let revoked = DeskHarness::start(&pairing);
    let mut watch = revoked.desk.watch();
    let s = until("the revoked desk's status", || {
        let s = watch.borrow_and_update().clone();
        async move { (s.state == DeskState::Refused).then_some(s) }
    })
    .await;
    assert!(s.error.unwrap_or_default().contains("revoked"));

    let fresh = receiver.pair("Burak").await;
    let wrong = Pairing { fp: "0".repeat(64), ..fresh };
    let desk = DeskHarness::start(&wrong);
    let mut watch = desk.desk.watch();
    let s = until("the wrong certificate's status", || {
        let s = watch.borrow_and_update().clone();
        async move { (s.state == DeskState::Refused).then_some(s) }
    })
    .await;
    assert!(s.error.unwrap_or_default().contains("certificate"), "says why");
    assert_eq!(desk.events().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desks_notice_when_the_receiver_stops_serving() {
    let receiver = Receiver::start().await;
    let pairing = receiver.pair("Ayşe").await;
    let desk = DeskHarness::start(&pairing);
    desk.connected().await;
    // Switched off (the app's "Bu bilgisayar ofisin alıcısı olsun"): open streams end too.
    let Receiver { office, _dir, engine, listener } = receiver;
    drop(office);
    let mut watch = desk.desk.watch();
    let s = until("the desk to see the receiver gone", || {
        let s = watch.borrow_and_update().clone();
        async move { (s.state == DeskState::Unreachable).then_some(s) }
    })
    .await;
    assert!(s.error.is_some(), "says why");
    drop((engine, listener));
}
