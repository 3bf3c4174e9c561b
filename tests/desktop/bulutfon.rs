//! Bulutfon's API in the real app: a token pasted in Settings connects it to a stand-in API
//! (tests/support/bulutfon.rs), the night's missed call shows in the list and in one notice
//! that says Kanca was closed, and a routed call's pop-up names the group and the extension.

use super::*;
use kanca_tests::bulutfon::{record_ending, StandIn, TOKEN};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display stack and tauri-driver: run with --ignored (tests/run.sh does)"]
async fn a_token_in_settings_fills_the_night_and_names_the_route() {
    let work = Workdir::new();
    let desk = Desktop::start();
    let log = work.tmp.path().join("notify.log");
    let _server = notification_server(&desk, &log);
    // The night: an answered call and a missed one, hours ago.
    let now_s = now_us() / 1_000_000;
    let mut answered = record_ending(1, now_s - 5 * 3600);
    answered["call_record"] = "YES".into();
    let answered_uuid = answered["uuid"].as_str().unwrap().to_owned();
    let missed = record_ending(3, now_s - 3 * 3600);
    let missed_uuid = missed["uuid"].as_str().unwrap().to_owned();
    let api = StandIn::with_records(vec![missed, answered], 100, Default::default());
    let app = start_app_with(&desk, &work, &[("KANCA_BULUTFON_API_URL", api.base_url())]).await;
    let client = &app.client;
    let js = |script: &str, args: Vec<serde_json::Value>| {
        let client = client.clone();
        let script = script.to_string();
        async move { client.execute(&script, args).await.unwrap() }
    };

    click(client, "nav-settings").await;
    wait_for_js(client, "return document.querySelector('[data-testid=settings-api-token]') ? true : null").await;
    assert_eq!(js("return document.querySelector('[data-testid=settings-api-state]').textContent", vec![]).await, json!("Bağlı değil."));
    js(
        "const i = document.querySelector('[data-testid=settings-api-token]'); i.scrollIntoView(); i.value = arguments[0]; \
         document.querySelector('[data-testid=settings-api-connect]').click(); return 1",
        vec![json!(TOKEN)],
    )
    .await;
    let state = wait_for_js(client, "const t = document.querySelector('[data-testid=settings-api-state]')?.textContent ?? ''; return t.includes('son eşitleme') ? t : null").await;
    assert!(state.as_str().unwrap().starts_with("Bağlı: ornekticaret"), "{state}");
    // The token went to config.toml and nowhere in the window.
    let config = std::fs::read_to_string(work.data_dir().join("config.toml")).unwrap();
    assert!(config.contains(TOKEN));
    let page = js("return document.documentElement.outerHTML", vec![]).await;
    assert!(!page.as_str().unwrap().contains(TOKEN), "the token is in the page");
    js("document.querySelector('[data-testid=settings-api-state]').closest('section, .card')?.scrollIntoView(); return 1", vec![]).await;
    snapshot(client, &desk, "13-settings-bulutfon").await;

    // The night's calls are in the list; the missed one is marked.
    click(client, "nav-history").await;
    wait_until_async(client, |rows: &[String]| rows.len() == 2).await;
    let state = wait_for_js(
        client,
        &format!("return document.querySelector(`[data-testid=call-row][data-uuid='{missed_uuid}'] .row-state .pill`)?.textContent ?? null"),
    )
    .await;
    assert_eq!(state, json!("Cevapsız"));
    // One notice for it, saying why no pop-up rang (the first backfill is a month of history,
    // but this call rang three hours ago).
    let notice = wait_until("the missed-while-closed notice", Duration::from_secs(15), || {
        notifications(&log).into_iter().find(|n| n.summary.starts_with("Kanca kapalıyken"))
    });
    assert!(notice.summary.starts_with("Kanca kapalıyken 1 cevapsız arama: 0 532"), "{notice:?}");

    // A call routed now: Bulutfon's names in the pop-up.
    let port = app.listen_port;
    let before = notifications(&log).len();
    let t = now_s - 5;
    let routed = |event: &str, destination: u32, at: i64| {
        json!({"event_type": event, "uuid": "routed-1", "caller": "905321112233", "callee": "908508850000", "direction": "IN", "timestamp": at * 1_000_000, "destination": destination}).to_string()
    };
    assert_eq!(post(port, &call_json("routed-1", "call_init", "905321112233", t)), 200);
    assert_eq!(post(port, &routed("call_init_group", 101, t + 1)), 200);
    assert_eq!(post(port, &routed("call_init_extension", 1004, t + 2)), 200);
    let named = wait_until("the pop-up with names", Duration::from_secs(15), || {
        notifications(&log).into_iter().skip(before).find(|n| n.body.contains("Şule Çağlar"))
    });
    assert!(named.body.contains("Grup 101 · Teknik Destek"), "{named:?}");
    assert!(named.body.contains("Dahili 1004 · Şule Çağlar"), "{named:?}");

    // The detail offers "Geri ara" and names the route.
    wait_until_async(client, |rows: &[String]| rows.first().map(String::as_str) == Some("routed-1")).await;
    js("document.querySelector(`[data-testid=call-row][data-uuid='routed-1']`).click(); return 1", vec![]).await;
    let button = wait_for_js(client, "return document.querySelector(`[data-testid=call-detail][data-uuid='routed-1'] [data-testid=detail-call-back]`)?.textContent ?? null").await;
    assert_eq!(button, json!("Geri ara"));
    let route = js("return document.querySelector(`[data-testid=call-detail][data-uuid='routed-1']`).textContent", vec![]).await;
    assert!(route.as_str().unwrap().contains("Grup 101 · Teknik Destek"), "{route}");
    snapshot(client, &desk, "14-detail-named-route").await;

    // The user's own name for the group wins, in the detail at once.
    click(client, "nav-settings").await;
    js("const d = document.querySelector('[data-testid=settings-names]'); d.open = true; d.scrollIntoView(); return 1", vec![]).await;
    wait_for_js(client, "return document.querySelector('[data-testid=name-group-101]') ? true : null").await;
    js(
        "const i = document.querySelector('[data-testid=name-group-101]'); i.value = arguments[0]; i.dispatchEvent(new Event('change', {bubbles: true})); return 1",
        vec![json!("Destek Ekibi")],
    )
    .await;
    snapshot(client, &desk, "13b-settings-names").await;
    click(client, "nav-history").await;
    wait_until_async(client, |rows: &[String]| rows.first().map(String::as_str) == Some("routed-1")).await;
    js("document.querySelector(`[data-testid=call-row][data-uuid='routed-1']`).click(); return 1", vec![]).await;
    let renamed = wait_for_js(
        client,
        "const t = document.querySelector(`[data-testid=call-detail][data-uuid='routed-1'] [data-testid=detail-route]`)?.textContent ?? ''; return t.includes('Destek Ekibi') ? t : null",
    )
    .await;
    assert!(!renamed.as_str().unwrap().contains("Teknik Destek"), "{renamed}");

    // The night's answered call was recorded: "Kaydı dinle" plays it through Kanca's scheme.
    click(client, "nav-history").await;
    wait_until_async(client, |rows: &[String]| rows.contains(&answered_uuid)).await;
    js(&format!("document.querySelector(`[data-testid=call-row][data-uuid='{answered_uuid}']`).click(); return 1"), vec![]).await;
    wait_for_js(client, &format!("return document.querySelector(`[data-testid=call-detail][data-uuid='{answered_uuid}'] [data-testid=detail-listen]`) ? true : null")).await;
    click(client, "detail-listen").await;
    let duration = wait_for_js(client, "const a = document.querySelector('[data-testid=detail-audio]'); return a && a.readyState >= 1 && a.duration > 0 ? a.duration : null").await;
    assert!((duration.as_f64().unwrap() - 1.0).abs() < 0.1, "the one-second tone: {duration}");
    assert_eq!(api.count(&format!("/call-records/{answered_uuid}")), 1, "{:?}", api.seen());
    snapshot(client, &desk, "15-detail-recording").await;

    // A fax: its pages shown from the TIFF Bulutfon keeps, and saved as PDF.
    assert_eq!(post(port, &json!({"event_type": "fax_init", "uuid": "fax-1", "caller": "903124445566", "callee": "908508850000", "direction": "IN", "timestamp": now_s * 1_000_000}).to_string()), 200);
    click(client, "nav-faxes").await;
    wait_until_async(client, |rows: &[String]| rows.first().map(String::as_str) == Some("fax-1")).await;
    js("document.querySelector(`[data-testid=call-row][data-uuid='fax-1']`).click(); return 1", vec![]).await;
    wait_for_js(client, "return document.querySelector(`[data-testid=call-detail][data-uuid='fax-1'] [data-testid=detail-show-fax]`) ? true : null").await;
    click(client, "detail-show-fax").await;
    let sizes = wait_for_js(
        client,
        "const p = [...document.querySelectorAll('[data-testid=fax-page]')]; return p.length === 2 && p.every(i => i.complete && i.naturalWidth > 0) ? p.map(i => [i.naturalWidth, i.naturalHeight]) : null",
    )
    .await;
    // 1728 × 1100 at 204 × 98 dpi: shown with its lines doubled, as on paper.
    assert_eq!(sizes, json!([[1728, 2290], [1728, 2290]]));
    snapshot(client, &desk, "16-detail-fax").await;
    click(client, "detail-save-fax-pdf").await;
    let saved = wait_until("the saved PDF", Duration::from_secs(15), || {
        // Downloads, or the home folder when it has none (the test's HOME has no user dirs).
        [work.tmp.path().join("Downloads"), work.tmp.path().to_path_buf()].iter().find_map(|dir| {
            std::fs::read_dir(dir).ok()?.filter_map(Result::ok).find(|e| e.file_name().to_string_lossy().starts_with("faks-")).map(|e| e.path())
        })
    });
    assert!(std::fs::read(&saved).unwrap().starts_with(b"%PDF"));
    assert!(api.seen().iter().all(|s| s.token_ok));
    assert!(api.seen().iter().all(|s| s.token_ok));
    let banner = js("return document.querySelector('[data-testid=error-banner]')?.textContent ?? null", vec![]).await;
    assert_eq!(banner, json!(null), "no error on the way");
    let _ = app.client.clone().close().await;
}
