//! The "naive receiver" for `bench/ingest.sh`: an axum server whose POST /webhook parses the
//! body as JSON and inserts it into SQLite in its own transaction (WAL, synchronous=FULL, as
//! Kanca's store), answering 200 after the commit. No auth, no call assembly, no search index,
//! no group commit: the floor any durable receiver should beat. Run with
//! `cargo run --release -p kanca-core --example naive -- --listen 127.0.0.1:8099 --db /tmp/naive.db`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{body::Bytes, extract::State, http::StatusCode, routing::post, Router};
use rusqlite::{params, Connection};

type Db = Arc<Mutex<Connection>>;

fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // The same durability as kanca-core's store: every commit fsyncs the WAL.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS events (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL,
            event_type TEXT NOT NULL,
            timestamp_us INTEGER,
            raw BLOB NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS events_identity ON events(uuid, event_type, ifnull(timestamp_us, -1));",
    )?;
    Ok(conn)
}

fn insert(db: &Db, body: &[u8], uuid: &str, event_type: &str, ts: Option<i64>) -> rusqlite::Result<()> {
    let mut conn = db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let tx = conn.transaction()?;
    tx.prepare_cached("INSERT INTO events (uuid, event_type, timestamp_us, raw) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING")?
        .execute(params![uuid, event_type, ts, body])?;
    tx.commit()
}

async fn webhook(State(db): State<Db>, body: Bytes) -> StatusCode {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else { return StatusCode::BAD_REQUEST };
    let text = |k: &str| v.get(k).map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string()));
    let (Some(uuid), Some(event_type)) = (text("uuid"), text("event_type")) else { return StatusCode::BAD_REQUEST };
    let ts = v.get("timestamp").and_then(serde_json::Value::as_i64);
    // rusqlite blocks: off the async executor, as Kanca does.
    match tokio::task::spawn_blocking(move || insert(&db, &body, &uuid, &event_type, ts)).await {
        Ok(Ok(())) => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut listen = String::from("127.0.0.1:0");
    let mut db = String::from("naive.db");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().expect("--listen ADDR"),
            "--db" => db = args.next().expect("--db FILE"),
            other => panic!("unknown argument {other:?} (usage: naive [--listen ADDR] [--db FILE])"),
        }
    }
    let conn = open(&db).expect("open database");
    let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind");
    println!("Webhook URL: http://{}/webhook", listener.local_addr().expect("local address"));
    let app = Router::new().route("/webhook", post(webhook)).with_state(Arc::new(Mutex::new(conn)));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("serve");
}
