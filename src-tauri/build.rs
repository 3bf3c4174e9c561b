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
            "open_in_crm",
            "mark_missed_seen",
            "take_call_changes",
            "list_contacts",
            "get_contact",
            "add_contact",
            "update_contact",
            "delete_contact",
            "add_number_to_contact",
            "import_contacts",
            "import_contact_file",
            "export_contacts",
            "export_calls",
            "set_call_note",
            "set_call_tags",
            "list_tags",
        ]),
    ))
    .expect("tauri build script");
}
