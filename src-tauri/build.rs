fn main() {
    #[cfg(feature = "desktop")]
    // Only Kanca's own commands are granted to the webview (capabilities/default.json).
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "search_calls",
            "get_call",
            "get_status",
            "get_settings",
            "save_settings",
            "regenerate_credentials",
            "rotate_webhook_secret",
            "set_webhook_form",
            "get_tunnel_settings",
            "save_tunnel_settings",
            "test_connection",
            "send_test_event",
            "copy_text",
            "open_url",
            "mark_missed_seen",
            "take_call_changes",
        ]),
    ))
    .expect("tauri build script");
}
