//! A minimal Tauri 2 app (one window, a static page, a tray icon): the baseline that
//! `bench/desktop.sh` compares Kanca's memory with. Not part of the product.
fn main() {
    tauri::Builder::default()
        .setup(|app| {
            let icon = tauri::image::Image::from_bytes(include_bytes!("../icons/tray.png"))?;
            tauri::tray::TrayIconBuilder::new().icon(icon).build(app)?;
            Ok(())
        })
        .run(tauri::generate_context!("examples/minimal/tauri.conf.json"))
        .expect("minimal app");
}
