// Types of the backend contract that ts-rs does not generate (yet). The Rust side serializes
// exactly these shapes. Generated types live in ../bindings and are re-exported here so the
// rest of the UI has one place to import from.

export type { Call } from "../bindings/Call";
export type { CallDetail } from "../bindings/CallDetail";
export type { CallKind } from "../bindings/CallKind";
export type { CallState } from "../bindings/CallState";
export type { CallflowLeg } from "../bindings/CallflowLeg";
export type { Change } from "../bindings/Change";
export type { Direction } from "../bindings/Direction";
export type { EventView } from "../bindings/EventView";
export type { Page } from "../bindings/Page";
export type { Query } from "../bindings/Query";
export type { RouteStep } from "../bindings/RouteStep";
export type { RouteType } from "../bindings/RouteType";
export type { SelfTestResult } from "../bindings/SelfTestResult";
export type { TunnelMode } from "../bindings/TunnelMode";
export type { TunnelSettings } from "../bindings/TunnelSettings";
export type { TunnelState } from "../bindings/TunnelState";
export type { TunnelStatus } from "../bindings/TunnelStatus";
export type { WebhookForm } from "../bindings/WebhookForm";

import type { TunnelStatus } from "../bindings/TunnelStatus";
import type { WebhookForm } from "../bindings/WebhookForm";

export type ListenerState = "starting" | "running" | "failed";
export interface ListenerStatus {
  state: ListenerState;
  addr: string | null;
  error: string | null;
  hint: string | null;
}
export interface NotificationStatus {
  available: boolean;
  server: string | null;
  error: string | null;
}
export interface AppStatus {
  listener: ListenerStatus;
  /** The URL to paste into Bulutfon's panel: the public one while a tunnel (or the user's own
   * URL) is online, else the listener's local one. */
  webhook_url: string | null;
  /** The listener's own URL on this computer (http://127.0.0.1:8497/webhook). */
  local_webhook_url: string | null;
  /** Which form the guide, Settings and the tray's copy show ("url_secret": one paste). */
  webhook_form: WebhookForm;
  /** The one-paste URL (`…/webhook/{secret}`) under the same base as `webhook_url`. */
  secret_webhook_url: string | null;
  /** The one-paste URL on this computer. */
  local_secret_webhook_url: string | null;
  /** Where the URL secret comes from; "environment" cannot be rotated here. */
  secret_source: "environment" | "config_file" | "generated";
  /** How Bulutfon reaches Kanca: the tunnel's mode and state. */
  tunnel: TunnelStatus;
  /** Where the app writes its log files. */
  log_dir: string;
  user: string;
  password: string;
  credential_source: "environment" | "config_file" | "generated";
  notifications: NotificationStatus;
  dnd: boolean;
  data_dir: string;
  database_error: string | null;
  version: string;
  last_event_at: string | null; // RFC 3339
  /** The OS locale as the app reads it: Turkish unless clearly another language. */
  system_language?: "tr" | "en";
  /** Missed calls not looked at yet (shown until the user opens them, whatever the pop-ups did). */
  missed_unseen?: number;
  /** The newest of them. */
  missed_latest?: string | null;
}
export interface PopupEvents {
  call_init: boolean;
  routed: boolean;
  missed: boolean;
  fax: boolean;
  outgoing: boolean;
}
export interface Settings {
  language: "tr" | "en" | null; // null = follow the OS locale
  popup_events: PopupEvents;
  only_my_extensions: boolean;
  my_extensions: string[];
  dnd: boolean;
  autostart: boolean;
  first_run_done: boolean;
}

/** What every command rejects with. */
export interface CommandError {
  code: string;
  message: string;
}

/** The views the `navigate` event can ask for. */
export type NavView = "history" | "faxes" | "settings" | "guide";
export interface NavigatePayload {
  view: NavView;
  /** A list filter to apply with the view ("missed" from the missed-calls notice). */
  filter?: "missed" | null;
}
export interface OpenCallPayload {
  uuid: string;
}
