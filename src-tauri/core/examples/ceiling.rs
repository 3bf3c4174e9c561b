//! The ceiling for `bench/ingest.sh`: an axum server whose POST /webhook only parses the body
//! as JSON and answers 200, with no auth and no storage. Run with
//! `cargo run --release -p kanca-core --example ceiling -- --listen 127.0.0.1:8099`.

use axum::{body::Bytes, http::StatusCode, routing::post, Router};

async fn webhook(body: Bytes) -> StatusCode {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut listen = String::from("127.0.0.1:0");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().expect("--listen ADDR"),
            other => panic!("unknown argument {other:?} (usage: ceiling [--listen ADDR])"),
        }
    }
    let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind");
    println!(
        "Webhook URL: http://{}/webhook",
        listener.local_addr().unwrap()
    );
    let app = Router::new().route("/webhook", post(webhook));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .unwrap();
}
