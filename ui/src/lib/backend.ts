// The one module that talks to the Rust side. Every `invoke` and `listen` of the app is here,
// typed after the backend contract; nothing else imports @tauri-apps/api/core or /event.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AppStatus,
  CallDetail,
  Change,
  CommandError,
  ErrorCode,
  NavigatePayload,
  OpenCallPayload,
  Page,
  Query,
  SelfTestResult,
  Settings,
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

export function onOpenCall(cb: (uuid: string) => void): Promise<UnlistenFn> {
  return on<OpenCallPayload>("open-call", (p) => {
    if (p && typeof p.uuid === "string") cb(p.uuid);
  });
}

export function onStatusChanged(cb: (status: AppStatus) => void): Promise<UnlistenFn> {
  return on<AppStatus>("status-changed", cb);
}

export function onNavigate(cb: (payload: NavigatePayload) => void): Promise<UnlistenFn> {
  return on<NavigatePayload>("navigate", cb);
}

/** A command error from something done outside the window (the tray's pause). */
export function onAppError(cb: (error: BackendError) => void): Promise<UnlistenFn> {
  return on<CommandError>("app-error", (e) => cb(toBackendError(e)));
}
