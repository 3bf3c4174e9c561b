// How Bulutfon reaches Kanca: the tunnel's modes, its status in words, and the settings form's
// normalisation. Shared by the settings view, the guide and the sidebar.

import { t } from "./i18n";
import type { AppStatus, TunnelMode, TunnelSettings, TunnelState, TunnelStatus } from "./types";

/** The order the ways are offered in. */
export const TUNNEL_MODES: readonly TunnelMode[] = ["ngrok", "cloudflared", "own_url", "off"];

export function isTunnelMode(v: unknown): v is TunnelMode {
  return typeof v === "string" && (TUNNEL_MODES as readonly string[]).includes(v);
}

/** The tunnel when there is none (and what an older backend without `tunnel` means). */
export function offTunnel(): TunnelStatus {
  return { mode: "off", state: "off", public_url: null, webhook_url: null, error: null, retry_in_s: null, url_changes: false };
}

export function defaultTunnelSettings(): TunnelSettings {
  return { mode: "off", ngrok_authtoken: null, ngrok_domain: null, cloudflared_path: null, own_url: null };
}

/** The tunnel of a status; null while the status is not known. */
export function tunnelOf(status: AppStatus | null): TunnelStatus | null {
  if (!status) return null;
  return status.tunnel ?? offTunnel();
}

/** Bulutfon can reach Kanca: the tunnel (or the user's own URL) is online with a URL. */
export function isPublic(tunnel: TunnelStatus | null): boolean {
  return tunnel?.state === "online" && !!(tunnel.webhook_url || tunnel.public_url);
}

/** Short name of a mode for status lines: "ngrok", "cloudflared", "kendi adresiniz". */
export function modeName(mode: TunnelMode): string {
  return t(`tunnel.modeName.${mode}`);
}

/** The status dot of a tunnel state: the listener's dot classes, plus a hollow ring for "off". */
export function tunnelDotClass(state: TunnelState | "unknown"): string {
  switch (state) {
    case "online":
      return "dot-running";
    case "connecting":
    case "reconnecting":
      return "dot-starting";
    case "failed":
      return "dot-failed";
    case "off":
      return "dot-off";
    default:
      return "dot-unknown";
  }
}

/** The sidebar's one-liner: "Tünel: çevrimiçi", "Tünel kapalı (yalnız bu bilgisayar)", … */
export function tunnelShortText(state: TunnelState | "unknown"): string {
  return t(`tunnel.short.${state}`);
}

function clean(v: string | null | undefined): string | null {
  const s = (v ?? "").trim();
  return s === "" ? null : s;
}

/** Trimmed values, empty fields as null: what is saved and what is compared. */
export function normalizeTunnelSettings(s: TunnelSettings): TunnelSettings {
  return {
    mode: isTunnelMode(s.mode) ? s.mode : "off",
    ngrok_authtoken: clean(s.ngrok_authtoken),
    ngrok_domain: clean(s.ngrok_domain),
    cloudflared_path: clean(s.cloudflared_path),
    own_url: clean(s.own_url),
  };
}

export function sameTunnelSettings(a: TunnelSettings, b: TunnelSettings): boolean {
  const x = normalizeTunnelSettings(a);
  const y = normalizeTunnelSettings(b);
  return (
    x.mode === y.mode &&
    x.ngrok_authtoken === y.ngrok_authtoken &&
    x.ngrok_domain === y.ngrok_domain &&
    x.cloudflared_path === y.cloudflared_path &&
    x.own_url === y.own_url
  );
}
