// The one module that talks to the Rust side. Every `invoke` and `listen` of the app is here,
// typed after the backend contract; nothing else imports @tauri-apps/api/core or /event.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AppStatus,
  BulutfonSettingsView,
  CallDetail,
  NameEntry,
  NameKind,
  Change,
  CommandError,
  Contact,
  ContactInput,
  ExportFormat,
  ImportReport,
  NumberInput,
  Tag,
  TagColour,
  ErrorCode,
  NavigatePayload,
  OfficeView,
  OpenCallPayload,
  Page,
  Query,
  SelfTestResult,
  Settings,
  SharedChanged,
  TunnelSettings,
  WebhookForm,
} from "./types";

export type { UnlistenFn };

/** Page size for history listings. */
export const PAGE_SIZE = 100;

/** Codes the UI produces itself (the backend's own codes pass through unchanged). */
export const NO_BACKEND = "no_backend";
export const UNKNOWN_ERROR = "unknown";
/** Every code a BackendError can carry: the backend's (ErrorCode) and the UI's own. */
export type UiErrorCode = ErrorCode | typeof NO_BACKEND | typeof UNKNOWN_ERROR;

/** A rejected command, with the backend's code to branch on and its technical detail. */
export class BackendError extends Error {
  readonly code: UiErrorCode;
  constructor(code: UiErrorCode, message: string) {
    super(message);
    this.name = "BackendError";
    this.code = code;
  }
}

function isCommandError(e: unknown): e is CommandError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as CommandError).code === "string" &&
    typeof (e as CommandError).message === "string"
  );
}

/** Turns whatever a command rejected with into a BackendError. */
export function toBackendError(e: unknown): BackendError {
  if (e instanceof BackendError) return e;
  if (isCommandError(e)) return new BackendError(e.code, e.message);
  if (typeof e === "string") return new BackendError(UNKNOWN_ERROR, e);
  // Outside Tauri (a plain browser) there is no IPC bridge: invoke throws a TypeError.
  if (typeof window !== "undefined" && !("__TAURI_INTERNALS__" in window)) {
    return new BackendError(NO_BACKEND, e instanceof Error ? e.message : String(e));
  }
  if (e instanceof Error) return new BackendError(UNKNOWN_ERROR, e.message);
  return new BackendError(UNKNOWN_ERROR, String(e));
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toBackendError(e);
  }
}

// ---- commands ----

export function searchCalls(query: Query): Promise<Page> {
  return call<Page>("search_calls", { query });
}

export function getCall(uuid: string): Promise<CallDetail | null> {
  return call<CallDetail | null>("get_call", { uuid });
}

export function getStatus(): Promise<AppStatus> {
  return call<AppStatus>("get_status", {});
}

export function getSettings(): Promise<Settings> {
  return call<Settings>("get_settings", {});
}

export function saveSettings(settings: Settings): Promise<Settings> {
  return call<Settings>("save_settings", { settings });
}

/** How Bulutfon reaches Kanca (the tunnel's settings, kept in config.toml). */
export function getTunnelSettings(): Promise<TunnelSettings> {
  return call<TunnelSettings>("get_tunnel_settings", {});
}

/**
 * Saves how Bulutfon reaches Kanca and restarts the tunnel; resolves to the saved value (an own
 * URL comes back normalised). The tunnel's state follows through `status-changed`. Rejects with
 * code `invalid_url` when the own URL is not usable.
 */
export function saveTunnelSettings(settings: TunnelSettings): Promise<TunnelSettings> {
  return call<TunnelSettings>("save_tunnel_settings", { settings });
}

/**
 * Posts a test event to Kanca's own webhook URL (the public one when online) with the
 * credentials and checks it came back. A failed test resolves with `ok: false` and `error`; it
 * rejects only when the test cannot run (e.g. `listener_down`).
 */
export function testConnection(): Promise<SelfTestResult> {
  return call<SelfTestResult>("test_connection", {});
}

export function regenerateCredentials(): Promise<AppStatus> {
  return call<AppStatus>("regenerate_credentials", {});
}

/**
 * A new secret for the one-paste URL; the old URL is refused from then on. Resolves to the
 * status with the new URL. Rejects with code `from_environment` when KANCA_WEBHOOK_SECRET sets it.
 */
export function rotateWebhookSecret(): Promise<AppStatus> {
  return call<AppStatus>("rotate_webhook_secret", {});
}

/** Chooses the form shown (one-paste URL, or URL with user and password); both keep working. */
export function setWebhookForm(form: WebhookForm): Promise<AppStatus> {
  return call<AppStatus>("set_webhook_form", { form });
}

/** Posts a sample call through the listener; resolves to the test call's uuid. */
export function sendTestEvent(): Promise<string> {
  return call<string>("send_test_event", {});
}

/** The user has looked at the missed calls: the tray entry and the missed notice go away. */
export function markMissedSeen(): Promise<void> {
  return call<void>("mark_missed_seen");
}

export async function copyText(text: string): Promise<void> {
  await call<null>("copy_text", { text });
}

export async function openUrl(url: string): Promise<void> {
  await call<null>("open_url", { url });
}

// ---- the phone book ----

/** Contacts matching `query` (name or company, Turkish letters forgiven, or a whole number). */
export function listContacts(query: string): Promise<Contact[]> {
  return call<Contact[]>("list_contacts", { query });
}

export function getContact(id: number): Promise<Contact | null> {
  return call<Contact | null>("get_contact", { id });
}

/** Rejects with `contact_no_name` or `bad_number` when the input cannot be stored. */
export function addContact(input: ContactInput): Promise<Contact> {
  return call<Contact>("add_contact", { input });
}

export function updateContact(id: number, input: ContactInput): Promise<Contact> {
  return call<Contact>("update_contact", { id, input });
}

export async function deleteContact(id: number): Promise<void> {
  await call<null>("delete_contact", { id });
}

/** "Kişilere ekle" on a call: its number joins an existing contact (nothing when already there). */
export function addNumberToContact(id: number, number: NumberInput): Promise<Contact> {
  return call<Contact>("add_number_to_contact", { id, number });
}

/** Import vCard/CSV files by path (dropped on the window). */
export function importContacts(paths: string[]): Promise<ImportReport> {
  return call<ImportReport>("import_contacts", { paths });
}

/** Import one file by its content (the file picker gives contents, not paths). */
export function importContactFile(name: string, bytes: Uint8Array): Promise<ImportReport> {
  return call<ImportReport>("import_contact_file", { name, bytes: Array.from(bytes) });
}

/** Writes the phone book to the Downloads folder; resolves to the path written. */
export function exportContacts(format: ExportFormat): Promise<string> {
  return call<string>("export_contacts", { format, path: null });
}

/**
 * Writes every call the query selects (all pages) as CSV to the Downloads folder; `semicolon`
 * for Excel on a Turkish Windows. Resolves to the path written.
 */
export function exportCalls(query: Query, semicolon: boolean): Promise<string> {
  return call<string>("export_calls", { query, semicolon });
}

// ---- notes and tags on calls ----

export async function setCallNote(uuid: string, note: string): Promise<void> {
  await call<null>("set_call_note", { uuid, note });
}

export async function setCallTags(uuid: string, tags: string[]): Promise<void> {
  await call<null>("set_call_tags", { uuid, tags });
}

export function listTags(): Promise<Tag[]> {
  return call<Tag[]>("list_tags", {});
}

/** Chooses a tag's colour; resolves to every tag with its colour, the new one included. */
export function setTagColour(tag: string, colour: TagColour): Promise<Tag[]> {
  return call<Tag[]>("set_tag_colour", { tag, colour });
}

/** "CRM'de aç": opens the call's other party in the CRM linked in Settings. */
export async function openInCrm(uuid: string): Promise<void> {
  await call<null>("open_in_crm", { uuid });
}

// ---- Bulutfon's API ----

/** Whether a token is stored, the account, the call-back settings (never the token). */
export function getBulutfonSettings(): Promise<BulutfonSettingsView> {
  return call<BulutfonSettingsView>("get_bulutfon_settings", {});
}

/** Checks a pasted token with Bulutfon, stores it and starts a sync. */
export function bulutfonConnect(token: string): Promise<BulutfonSettingsView> {
  return call<BulutfonSettingsView>("bulutfon_connect", { token });
}

export function bulutfonDisconnect(): Promise<BulutfonSettingsView> {
  return call<BulutfonSettingsView>("bulutfon_disconnect", {});
}

export function saveBulutfonSettings(extension: string | null, caller: string | null): Promise<BulutfonSettingsView> {
  return call<BulutfonSettingsView>("save_bulutfon_settings", { extension, caller });
}

export async function bulutfonSyncNow(): Promise<void> {
  await call<null>("bulutfon_sync_now", {});
}

/** "Geri ara": Bulutfon rings the user's extension, then `number`; Bulutfon's message. */
export function callBack(number: string): Promise<string> {
  return call<string>("call_back", { number });
}

/** Names of menus, groups, extensions and your numbers: Bulutfon's and your own. */
export function listNames(): Promise<NameEntry[]> {
  return call<NameEntry[]>("list_names", {});
}

/** Your own name for one of them; null or "" brings Bulutfon's back. */
export function setName(kind: NameKind, number: string, name: string | null): Promise<NameEntry[]> {
  return call<NameEntry[]>("set_name", { kind, number, name });
}

/** How many pages a fax has (the engine fetches and reads it first). */
export function faxPageCount(uuid: string): Promise<number> {
  return call<number>("fax_page_count", { uuid });
}

/** "Kaydet": the fax as PDF (or the TIFF Bulutfon sent) in the Downloads folder; its path. */
export function saveFax(uuid: string, pdf: boolean): Promise<string> {
  return call<string>("save_fax", { uuid, pdf });
}

// ---- office mode ----

/** This computer's part in its office: on its own, the receiver (with its desks), or a desk. */
export function getOffice(): Promise<OfficeView> {
  return call<OfficeView>("get_office", {});
}

/**
 * Makes this computer a desk of the receiver that gave `code` (KANCA1-…). The receiver is asked
 * first; then the app restarts as a desk, so on success the window goes away rather than hear
 * back. Rejects with `bad_pairing_code`, `office_unreachable`, `office_refused` or `settings`.
 */
export async function joinOffice(code: string): Promise<void> {
  await call<null>("join_office", { code });
}

/** Back to working alone, with this computer's own history: the app restarts. */
export async function leaveOffice(): Promise<void> {
  await call<null>("leave_office", {});
}

/** Serves the office's desks from this computer, or stops; the office as it now stands. */
export function setOfficeReceiver(on: boolean): Promise<OfficeView> {
  return call<OfficeView>("set_office_receiver", { on });
}

/** Pairs a desk: its one-time pairing code. Rejects with `bad_desk_name` (empty or taken). */
export function addDesk(name: string): Promise<string> {
  return call<string>("add_desk", { name });
}

/** A desk can connect no more; the office as it now stands. */
export function revokeDesk(name: string): Promise<OfficeView> {
  return call<OfficeView>("revoke_desk", { name });
}

/** The address of a recording or fax page on Kanca's own scheme (WebView2 maps custom schemes
 * to http://SCHEME.localhost, WebKit keeps SCHEME://localhost). */
export function mediaUrl(path: string): string {
  const windows = typeof navigator !== "undefined" && /Windows/.test(navigator.userAgent);
  return windows ? `http://kanca-media.localhost/${path}` : `kanca-media://localhost/${path}`;
}

// ---- events ----

async function on<T>(event: string, cb: (payload: T) => void): Promise<UnlistenFn> {
  try {
    return await listen<T>(event, (e) => cb(e.payload));
  } catch (e) {
    throw toBackendError(e);
  }
}

/**
 * Stored changes in batches, oldest first. `calls-changed` carries no calls (WebKit keeps the
 * compiled code of every distinct message, so payloads would grow the web process with each
 * call): it says there are changes to fetch with `take_call_changes`, at most every 100 ms.
 * `onReload` runs when more changed than the backend kept for the window: what is shown must be
 * read again.
 */
export async function onCallsChanged(cb: (changes: Change[]) => void, onReload: () => void): Promise<UnlistenFn> {
  let fetching = false;
  let again = false;
  const fetchChanges = async (): Promise<void> => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      do {
        again = false;
        const batch = await call<Change[] | null>("take_call_changes", {});
        if (batch === null) onReload();
        else if (Array.isArray(batch) && batch.length > 0) cb(batch);
      } while (again);
    } catch {
      // Nothing to show; the next signal fetches again.
    } finally {
      fetching = false;
    }
  };
  const unlisten = await on<null>("calls-changed", () => void fetchChanges());
  // Changes kept from before this window listened (a reload) would otherwise hold back the
  // next signal.
  void fetchChanges();
  return unlisten;
}

export function onOpenCall(cb: (uuid: string, then: "call_back" | null) => void): Promise<UnlistenFn> {
  return on<OpenCallPayload>("open-call", (p) => {
    if (p && typeof p.uuid === "string") cb(p.uuid, p.then === "call_back" ? "call_back" : null);
  });
}

export function onStatusChanged(cb: (status: AppStatus) => void): Promise<UnlistenFn> {
  return on<AppStatus>("status-changed", cb);
}

export function onNavigate(cb: (payload: NavigatePayload) => void): Promise<UnlistenFn> {
  return on<NavigatePayload>("navigate", cb);
}

/** Files dropped on the window: Tauri hands over their paths (the webview gets no contents). */
export function onFilesDropped(cb: (paths: string[]) => void): Promise<UnlistenFn> {
  return on<{ paths?: unknown }>("tauri://drag-drop", (p) => {
    const paths = Array.isArray(p?.paths) ? p.paths.filter((x): x is string => typeof x === "string") : [];
    if (paths.length > 0) cb(paths);
  });
}

/**
 * A call's note or tags, the phone book, the PBX names or the tag colours changed: written here,
 * at the office's receiver or at another desk. What shows them reads them again.
 */
export function onSharedChanged(cb: (change: SharedChanged) => void): Promise<UnlistenFn> {
  return on<SharedChanged>("shared-changed", (p) => {
    if (p && typeof p.what === "string") cb({ what: p.what, uuid: typeof p.uuid === "string" ? p.uuid : null });
  });
}

/** A command error from something done outside the window (the tray's pause). */
export function onAppError(cb: (error: BackendError) => void): Promise<UnlistenFn> {
  return on<CommandError>("app-error", (e) => cb(toBackendError(e)));
}
