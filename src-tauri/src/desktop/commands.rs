//! Tauri commands: one-line adapters from the webview onto the engine. Errors reach the UI as
//! `{code, message}` so it branches on the code, not on text.

use std::sync::Arc;

use kanca_core::config::{self, DesktopSettings};
use kanca_core::history::{self, CallDetail, Page, Query};
use kanca_core::selftest::SelfTestResult;
use kanca_core::tunnel::{self, TunnelMode, TunnelSettings, TunnelState};
use kanca_core::config::ConfigError;
use kanca_core::contacts::api::ExportFormat;
use kanca_core::contacts::{Contact, ContactInput, ContactsError, ImportReport, NumberInput};
use kanca_core::notes::{NotesError, Tag, TagColour};
use kanca_core::store::StoreError;
use kanca_core::{Change, Engine, EngineError, KeysError, WebhookForm};
use serde::Serialize;
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use tauri_plugin_opener::OpenerExt as _;

use super::{events, office, AppState, AppStatus};

/// Every command the window may call, for `Builder::invoke_handler`.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        search_calls,
        get_call,
        get_status,
        get_settings,
        save_settings,
        regenerate_credentials,
        rotate_webhook_secret,
        set_webhook_form,
        get_tunnel_settings,
        save_tunnel_settings,
        test_connection,
        send_test_event,
        copy_text,
        open_url,
        open_in_crm,
        mark_missed_seen,
        take_call_changes,
        list_contacts,
        get_contact,
        add_contact,
        update_contact,
        delete_contact,
        add_number_to_contact,
        import_contacts,
        import_contact_file,
        export_contacts,
        export_calls,
        set_call_note,
        set_call_tags,
        list_tags,
        set_tag_colour,
        super::office::get_office,
        super::office::join_office,
        super::office::leave_office,
        super::office::set_office_receiver,
        super::office::add_desk,
        super::office::revoke_desk,
        super::bulutfon::get_bulutfon_settings,
        super::bulutfon::bulutfon_connect,
        super::bulutfon::bulutfon_disconnect,
        super::bulutfon::save_bulutfon_settings,
        super::bulutfon::bulutfon_sync_now,
        super::bulutfon::call_back,
        super::bulutfon::fax_page_count,
        super::bulutfon::save_fax,
        super::bulutfon::list_names,
        super::bulutfon::set_name,
    ]
}

/// What a command failed at, as a fixed code the UI words in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The data directory could not be opened at start (see AppStatus.database_error).
    DatabaseUnavailable,
    /// Reading the history failed.
    Database,
    /// config.toml could not be written.
    Settings,
    /// The start-at-login entry could not be changed.
    Autostart,
    /// A key is set in the environment, so it cannot be changed here.
    FromEnvironment,
    /// No random bytes for a password or secret.
    Random,
    /// The own URL given is not usable.
    InvalidUrl,
    /// The webhook listener is not running.
    ListenerDown,
    /// No tunnel or own URL is online, so a connection test would prove nothing.
    NoPublicUrl,
    /// The test event did not arrive.
    TestFailed,
    Clipboard,
    /// Only web links are opened.
    BadUrl,
    Opener,
    /// A background task died (a bug).
    Internal,
    /// The contact is gone (deleted meanwhile).
    ContactNotFound,
    /// A contact needs a name.
    ContactNoName,
    /// A contact's number is no phone number.
    BadNumber,
    /// The call is gone (a note or tag on it cannot be saved).
    CallNotFound,
    /// A tag is empty, or a colour is not in the palette.
    BadTag,
    /// An exported file (the phone book, the calls) could not be written.
    ExportFailed,
    /// Bulutfon refused the API token, or none is stored.
    BadToken,
    /// Bulutfon's API could not be reached or answered oddly.
    ApiUnavailable,
    /// "Geri ara" needs the user's extension (Settings).
    NoExtension,
    /// A fax document Kanca cannot read.
    BadFax,
    /// The office receiver cannot be reached (a desk's write was not made).
    OfficeUnreachable,
    /// The office receiver refused this desk (revoked, or another certificate).
    OfficeRefused,
    /// Not a Kanca pairing code.
    BadPairingCode,
    /// A desk's name is empty, taken or unknown.
    BadDeskName,
    /// The office's receivers keep their history on PostgreSQL, which does not share the phone
    /// book yet.
    NotShared,
}

/// What every command rejects with: a code for the UI, and the technical detail (English, for
/// logs and a tooltip; the UI does not put it inside a sentence).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl ToString) -> Self {
        CommandError { code, message: message.to_string() }
    }
}

impl From<ConfigError> for CommandError {
    fn from(e: ConfigError) -> Self {
        let code = match e {
            ConfigError::Random(_) => ErrorCode::Random,
            _ => ErrorCode::Settings,
        };
        CommandError::new(code, e)
    }
}

impl From<KeysError> for CommandError {
    fn from(e: KeysError) -> Self {
        match e {
            KeysError::Config(c) => c.into(),
            e @ (KeysError::CredentialsFromEnvironment | KeysError::SecretFromEnvironment) => {
                CommandError::new(ErrorCode::FromEnvironment, e)
            }
        }
    }
}

impl From<EngineError> for CommandError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Config(c) => c.into(),
            EngineError::Keys(k) => k.into(),
            EngineError::Store(_) => CommandError::new(ErrorCode::Database, e),
            EngineError::Listen { .. } => CommandError::new(ErrorCode::ListenerDown, e),
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::new(ErrorCode::Database, e)
    }
}

impl From<ContactsError> for CommandError {
    fn from(e: ContactsError) -> Self {
        let code = match e {
            ContactsError::Store(_) => ErrorCode::Database,
            ContactsError::NotFound(_) => ErrorCode::ContactNotFound,
            ContactsError::NoName => ErrorCode::ContactNoName,
            ContactsError::BadNumber(_) => ErrorCode::BadNumber,
        };
        CommandError::new(code, e)
    }
}

impl From<NotesError> for CommandError {
    fn from(e: NotesError) -> Self {
        let code = match e {
            NotesError::Store(_) => ErrorCode::Database,
            NotesError::UnknownCall(_) => ErrorCode::CallNotFound,
            NotesError::BadColour(_) | NotesError::EmptyTag => ErrorCode::BadTag,
        };
        CommandError::new(code, e)
    }
}

impl From<tauri::Error> for CommandError {
    fn from(e: tauri::Error) -> Self {
        CommandError::new(ErrorCode::Internal, e)
    }
}

impl From<tauri_plugin_autostart::Error> for CommandError {
    fn from(e: tauri_plugin_autostart::Error) -> Self {
        CommandError::new(ErrorCode::Autostart, e)
    }
}

impl From<tauri_plugin_clipboard_manager::Error> for CommandError {
    fn from(e: tauri_plugin_clipboard_manager::Error) -> Self {
        CommandError::new(ErrorCode::Clipboard, e)
    }
}

impl From<tauri_plugin_opener::Error> for CommandError {
    fn from(e: tauri_plugin_opener::Error) -> Self {
        CommandError::new(ErrorCode::Opener, e)
    }
}

type Result<T> = std::result::Result<T, CommandError>;

pub(super) fn engine(state: &AppState) -> Result<Engine> {
    state
        .engine
        .clone()
        .ok_or_else(|| CommandError::new(ErrorCode::DatabaseUnavailable, "the database could not be opened; see Settings"))
}

/// Runs file-writing work off the main thread.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tauri::async_runtime::spawn_blocking(work).await?
}

#[tauri::command]
pub async fn search_calls(state: State<'_, Arc<AppState>>, query: Query) -> Result<Page> {
    let engine = engine(&state)?;
    Ok(engine.store().read(move |c| history::search(c, &query)).await?)
}

#[tauri::command]
pub async fn get_call(state: State<'_, Arc<AppState>>, uuid: String) -> Result<Option<CallDetail>> {
    let engine = engine(&state)?;
    Ok(engine.store().read(move |c| history::get_call(c, &uuid)).await?)
}

#[tauri::command]
pub fn get_status(state: State<'_, Arc<AppState>>) -> AppStatus {
    state.status()
}

#[tauri::command]
pub fn get_settings(state: State<'_, Arc<AppState>>) -> DesktopSettings {
    state.settings()
}

#[tauri::command]
pub async fn save_settings(app: AppHandle, state: State<'_, Arc<AppState>>, settings: DesktopSettings) -> Result<DesktopSettings> {
    super::apply_settings(&app, state.inner(), settings).await
}

#[tauri::command]
pub fn get_tunnel_settings(state: State<'_, Arc<AppState>>) -> TunnelSettings {
    state.tunnel_settings.lock().map(|s| s.clone()).unwrap_or_default()
}

/// Save how Bulutfon reaches Kanca and restart the tunnel; its status follows by event.
#[tauri::command]
pub async fn save_tunnel_settings(app: AppHandle, state: State<'_, Arc<AppState>>, mut settings: TunnelSettings) -> Result<TunnelSettings> {
    if settings.mode == TunnelMode::OwnUrl {
        let url = settings.own_url.as_deref().unwrap_or("");
        let base = tunnel::parse_own_url(url).map_err(|e| CommandError::new(ErrorCode::InvalidUrl, e))?;
        settings.own_url = Some(base);
    }
    let (dir, saved) = (state.data_dir.clone(), settings.clone());
    blocking(move || Ok(config::save_tunnel_settings(&dir, &saved)?)).await?;
    if let Ok(mut s) = state.tunnel_settings.lock() {
        *s = settings.clone();
    }
    super::engine::restart_tunnel(&app, state.inner());
    Ok(settings)
}

/// "Test the connection": a test event to the URL Bulutfon uses (the public one when there is
/// one), checked to arrive in this database.
#[tauri::command]
pub async fn test_connection(state: State<'_, Arc<AppState>>) -> Result<SelfTestResult> {
    let engine = engine(&state)?;
    let status = state.status();
    if status.local_webhook_url.is_none() {
        return Err(CommandError::new(ErrorCode::ListenerDown, "the webhook listener is not running"));
    }
    // Testing the local address would prove nothing about Bulutfon reaching Kanca.
    let url = match (status.tunnel.state, status.tunnel.public_url) {
        (TunnelState::Online, Some(base)) => base,
        _ => {
            return Err(CommandError::new(
                ErrorCode::NoPublicUrl,
                "Bulutfon cannot reach Kanca yet: choose a way in Settings (ngrok, cloudflared or your own URL) and wait until it is online",
            ))
        }
    };
    let result = kanca_core::selftest::self_test(&engine, &url).await;
    if let (true, Some(uuid)) = (result.ok, result.uuid.clone()) {
        end_test_call_later(engine, url, uuid);
    }
    Ok(result)
}

#[tauri::command]
pub async fn regenerate_credentials(app: AppHandle, state: State<'_, Arc<AppState>>) -> Result<AppStatus> {
    let engine = engine(&state)?;
    blocking(move || Ok(engine.regenerate_credentials()?)).await?;
    state.update_status(&app, |_| {});
    Ok(state.status())
}

/// A new secret for the one-paste URL. The old URL is refused from the next request on, so the
/// UI asks first and then shows the new URL to paste into the panel.
#[tauri::command]
pub async fn rotate_webhook_secret(app: AppHandle, state: State<'_, Arc<AppState>>) -> Result<AppStatus> {
    let engine = engine(&state)?;
    blocking(move || Ok(engine.rotate_secret()?)).await?;
    state.update_status(&app, |_| {});
    Ok(state.status())
}

/// Which form the guide, Settings and the tray show; the listener accepts both either way.
#[tauri::command]
pub async fn set_webhook_form(app: AppHandle, state: State<'_, Arc<AppState>>, form: WebhookForm) -> Result<AppStatus> {
    let engine = engine(&state)?;
    blocking(move || Ok(engine.set_webhook_form(form)?)).await?;
    state.update_status(&app, |_| {});
    Ok(state.status())
}

/// Post a sample call through Kanca's own listener, exactly as Bulutfon would: it travels the
/// real path (auth, parsing, storage), shows a pop-up and appears in history, marked as a test.
#[tauri::command]
pub async fn send_test_event(state: State<'_, Arc<AppState>>) -> Result<String> {
    let engine = engine(&state)?;
    let url = state.local_base_url().ok_or_else(|| CommandError::new(ErrorCode::ListenerDown, "the webhook listener is not running"))?;
    let result = kanca_core::selftest::self_test(&engine, &url).await;
    match (result.ok, result.uuid) {
        (true, Some(uuid)) => {
            end_test_call_later(engine, url, uuid.clone());
            Ok(uuid)
        }
        _ => Err(CommandError::new(ErrorCode::TestFailed, result.error.unwrap_or_else(|| "the test event did not arrive".into()))),
    }
}

/// The test call rings for a few seconds (its pop-up is seen), then is hung up.
fn end_test_call_later(engine: Engine, base_url: String, uuid: String) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(4)).await;
        kanca_core::selftest::end_test_call(&engine, &base_url, &uuid).await;
    });
}

#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) -> Result<()> {
    Ok(app.clipboard().write_text(text)?)
}

/// Open a link from a call (Bulutfon's panel) in the browser; only web links.
#[tauri::command]
pub fn open_url(app: AppHandle, url: String) -> Result<()> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(CommandError::new(ErrorCode::BadUrl, "only web links can be opened"));
    }
    Ok(app.opener().open_url(url, None::<&str>)?)
}

/// "CRM'de aç": the call's other party in the CRM the user linked in Settings.
#[tauri::command]
pub async fn open_in_crm(app: AppHandle, state: State<'_, Arc<AppState>>, uuid: String) -> Result<()> {
    open_call_in_crm(&app, &state, uuid).await
}

/// Open the call `uuid` in the CRM (Settings' link, filled with its numbers and name): from
/// the call detail and from a pop-up's button.
pub async fn open_call_in_crm(app: &AppHandle, state: &AppState, uuid: String) -> Result<()> {
    let template = state.settings().crm_url.ok_or_else(|| CommandError::new(ErrorCode::BadUrl, "no CRM link is set (Settings)"))?;
    let engine = engine(state)?;
    let found = engine.store().read(move |c| history::get_call(c, &uuid)).await?;
    let call = found.ok_or_else(|| CommandError::new(ErrorCode::CallNotFound, "the call is gone"))?.call;
    let url = kanca_core::crm::link(&template, &call).map_err(|e| CommandError::new(ErrorCode::InvalidUrl, e))?;
    Ok(app.opener().open_url(url, None::<&str>)?)
}

/// Navigate the window (tray entries).
pub fn navigate(app: &AppHandle, view: &str) {
    navigate_filtered(app, view, None);
}

/// Bring the window up on a view, optionally with a list filter ("missed").
pub fn navigate_filtered(app: &AppHandle, view: &str, filter: Option<&str>) {
    super::show_main(app);
    let _ = app.emit(events::NAVIGATE, serde_json::json!({ "view": view, "filter": filter }));
}

/// The calls stored since the last fetch, oldest first (the window fetches them when told by
/// `calls-changed`); None when more changed than were kept: the window reloads its lists.
#[tauri::command]
pub fn take_call_changes(state: State<'_, Arc<AppState>>) -> Option<Vec<Change>> {
    state.changes.take()
}

/// The user has looked at the missed calls (the window's missed list): the tray entry and the
/// missed-calls notice go away.
#[tauri::command]
pub fn mark_missed_seen(state: State<'_, Arc<AppState>>) {
    state.popups.missed_seen();
}

// ---- the phone book, and notes and tags on calls ----

/// How many contacts a list shows at most (the search narrows it).
const CONTACTS_LIMIT: usize = 2_000;

/// Contacts matching `query` (name or company, Turkish letters forgiven, or a whole number).
#[tauri::command]
pub async fn list_contacts(state: State<'_, Arc<AppState>>, query: String) -> Result<Vec<Contact>> {
    Ok(engine(&state)?.list_contacts(query, CONTACTS_LIMIT).await?)
}

#[tauri::command]
pub async fn get_contact(state: State<'_, Arc<AppState>>, id: i64) -> Result<Option<Contact>> {
    Ok(engine(&state)?.get_contact(id).await?)
}

#[tauri::command]
pub async fn add_contact(state: State<'_, Arc<AppState>>, input: ContactInput) -> Result<Contact> {
    let engine = engine(&state)?;
    match state.office.client() {
        Some(receiver) => office::add_contact(receiver, &engine, &input).await,
        None => Ok(engine.add_contact(input).await?),
    }
}

#[tauri::command]
pub async fn update_contact(state: State<'_, Arc<AppState>>, id: i64, input: ContactInput) -> Result<Contact> {
    let engine = engine(&state)?;
    match state.office.client() {
        Some(receiver) => office::update_contact(receiver, &engine, id, &input).await,
        None => Ok(engine.update_contact(id, input).await?),
    }
}

#[tauri::command]
pub async fn delete_contact(state: State<'_, Arc<AppState>>, id: i64) -> Result<()> {
    let engine = engine(&state)?;
    match state.office.client() {
        Some(receiver) => office::delete_contact(receiver, &engine, id).await,
        None => Ok(engine.delete_contact(id).await?),
    }
}

/// "Kişilere ekle" on a call: its number joins an existing contact.
#[tauri::command]
pub async fn add_number_to_contact(state: State<'_, Arc<AppState>>, id: i64, number: NumberInput) -> Result<Contact> {
    let engine = engine(&state)?;
    match state.office.client() {
        Some(receiver) => office::add_number(receiver, &engine, id, &number).await,
        None => Ok(engine.add_number_to_contact(id, number).await?),
    }
}

/// Import vCard and CSV files by path (dropped on the window).
#[tauri::command]
pub async fn import_contacts(state: State<'_, Arc<AppState>>, paths: Vec<std::path::PathBuf>) -> Result<ImportReport> {
    let engine = engine(&state)?;
    let Some(receiver) = state.office.client() else { return Ok(engine.import_contacts(paths).await?) };
    // A desk sends each file to the receiver, which imports it for the whole office.
    let mut report = ImportReport::default();
    for path in paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match tokio::fs::read(&path).await {
            Ok(bytes) => report.merge(office::import_file(receiver, &engine, &name, bytes).await?),
            Err(e) => report.skipped.push(kanca_core::contacts::Skip::new(path.display().to_string(), e.to_string())),
        }
    }
    Ok(report)
}

/// Import one file by its content (the file picker gives contents, not paths).
#[tauri::command]
pub async fn import_contact_file(state: State<'_, Arc<AppState>>, name: String, bytes: Vec<u8>) -> Result<ImportReport> {
    let engine = engine(&state)?;
    match state.office.client() {
        Some(receiver) => office::import_file(receiver, &engine, &name, bytes).await,
        None => Ok(engine.import_contact_bytes(name, bytes).await?),
    }
}

/// Write the phone book (vCard 3.0 or CSV for Excel) to `path`, or to the Downloads folder as
/// kisiler-<date>.vcf/.csv; resolves to the path written.
#[tauri::command]
pub async fn export_contacts(app: AppHandle, state: State<'_, Arc<AppState>>, format: ExportFormat, path: Option<std::path::PathBuf>) -> Result<String> {
    let bytes = engine(&state)?.export_contacts(format).await?;
    let path = match path {
        Some(p) => p,
        None => download_path(&app, "kisiler", if format == ExportFormat::Vcard { "vcf" } else { "csv" })?,
    };
    write_file(path, bytes).await
}

/// `<Downloads>/<stem>-<date>.<ext>` (the home folder when there is no Downloads folder).
pub(super) fn download_path(app: &AppHandle, stem: &str, ext: &str) -> Result<std::path::PathBuf> {
    use tauri::Manager as _;
    let dir = app.path().download_dir().or_else(|_| app.path().home_dir())?;
    Ok(dir.join(format!("{stem}-{}.{ext}", chrono::Local::now().format("%Y-%m-%d"))))
}

/// Write `bytes` to `path` off the async threads; resolves to the path written.
pub(super) async fn write_file(path: std::path::PathBuf, bytes: Vec<u8>) -> Result<String> {
    blocking(move || {
        std::fs::write(&path, bytes).map_err(|e| CommandError::new(ErrorCode::ExportFailed, format!("{}: {e}", path.display())))?;
        Ok(path.display().to_string())
    })
    .await
}

/// Every call the list's filters select, newest first, as CSV for a spreadsheet (UTF-8 with a
/// BOM, formula-safe), written to the Downloads folder; `semicolon` for Excel on a Turkish
/// Windows, else commas. Resolves to the path written.
#[tauri::command]
pub async fn export_calls(app: AppHandle, state: State<'_, Arc<AppState>>, mut query: Query, semicolon: bool) -> Result<String> {
    let engine = engine(&state)?;
    query.before = None;
    query.limit = 10_000;
    let calls = engine
        .store()
        .read(move |c| {
            let mut all = Vec::new();
            loop {
                let page = history::search(c, &query)?;
                all.extend(page.calls);
                match page.next_cursor {
                    Some(next) => query.before = Some(next),
                    None => return Ok(all),
                }
            }
        })
        .await?;
    let mut bytes = Vec::new();
    kanca_core::export::calls_csv(&mut bytes, if semicolon { b';' } else { b',' }, &calls).map_err(|e| CommandError::new(ErrorCode::ExportFailed, e))?;
    write_file(download_path(&app, "aramalar", "csv")?, bytes).await
}

/// Set a call's note (empty removes it).
#[tauri::command]
pub async fn set_call_note(state: State<'_, Arc<AppState>>, uuid: String, note: String) -> Result<()> {
    let engine = engine(&state)?;
    match state.office.client() {
        Some(receiver) => office::set_call_note(receiver, &engine, &uuid, note).await,
        None => Ok(engine.set_call_note(uuid, note).await?),
    }
}

/// Set a call's tags (empty removes them).
#[tauri::command]
pub async fn set_call_tags(state: State<'_, Arc<AppState>>, uuid: String, tags: Vec<String>) -> Result<()> {
    let engine = engine(&state)?;
    match state.office.client() {
        Some(receiver) => office::set_call_tags(receiver, &engine, &uuid, tags).await,
        None => Ok(engine.set_call_tags(uuid, tags).await?),
    }
}

/// Every tag with its colour, for the tag filter.
#[tauri::command]
pub async fn list_tags(state: State<'_, Arc<AppState>>) -> Result<Vec<Tag>> {
    Ok(engine(&state)?.call_tags().await?)
}

/// Choose a tag's colour from the palette; resolves to every tag, so each place that shows tags
/// takes the new colour from one answer.
#[tauri::command]
pub async fn set_tag_colour(state: State<'_, Arc<AppState>>, tag: String, colour: TagColour) -> Result<Vec<Tag>> {
    let engine = engine(&state)?;
    if let Some(receiver) = state.office.client() {
        return office::set_tag_colour(receiver, &engine, &tag, colour.as_str()).await;
    }
    engine.set_tag_colour(tag, colour.as_str().to_owned()).await?;
    Ok(engine.call_tags().await?)
}

/// The phone book changed: the tray's last calls take the new names at once (pop-ups and the
/// window read names when they read a call).
pub(super) async fn contacts_changed(app: &AppHandle, state: &Arc<AppState>) {
    let Ok(engine) = engine(state) else { return };
    let mut recent = state.recent.lock().map(|r| r.clone()).unwrap_or_default();
    let named = engine.store().read(move |c| kanca_core::history::annotate(c, &mut recent).map(|_| recent)).await;
    match named {
        Ok(calls) => {
            if let Ok(mut r) = state.recent.lock() {
                // Only names change here; a call that arrived meanwhile keeps its place.
                for c in r.iter_mut() {
                    if let Some(n) = calls.iter().find(|n| n.uuid == c.uuid) {
                        c.caller_name = n.caller_name.clone();
                        c.callee_name = n.callee_name.clone();
                    }
                }
            }
            super::tray::refresh(app);
        }
        Err(e) => tracing::warn!("cannot refresh the names of the recent calls: {e}"),
    }
}

#[cfg(test)]
mod tests {
    /// A command works only when it is in four places: the handler, build.rs's manifest, the
    /// window's capability and the UI's backend module. Missing from one, the window gets an
    /// error at run time that no other test sees until a user clicks.
    #[test]
    fn every_command_is_registered_everywhere() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
        let source = read("src/desktop/commands.rs");
        let list = source.split("generate_handler![").nth(1).and_then(|s| s.split(']').next()).expect("the handler list");
        // A command of another module is listed by its path (super::bulutfon::call_back).
        let commands: Vec<&str> = list.split(',').map(|c| c.trim().rsplit("::").next().unwrap_or("")).filter(|c| !c.is_empty()).collect();
        assert!(commands.len() > 30 && commands.contains(&"set_tag_colour"), "{commands:?}");
        let (build, capability, backend) = (read("build.rs"), read("capabilities/default.json"), read("../ui/src/lib/backend.ts"));
        for c in commands {
            assert!(build.contains(&format!("\"{c}\"")), "{c} is missing from build.rs");
            assert!(capability.contains(&format!("\"allow-{}\"", c.replace('_', "-"))), "{c} is missing from capabilities/default.json");
            assert!(backend.contains(&format!("\"{c}\"")), "{c} is missing from ui/src/lib/backend.ts");
        }
    }
}
