// The backend contract. The types the Rust side sends are generated from it by ts-rs into
// ../bindings and re-exported here, so the rest of the UI has one place to import from; only the
// payloads of the shell's own events are written by hand below.

export type { Call } from "../bindings/Call";
export type { CallDetail } from "../bindings/CallDetail";
export type { CallKind } from "../bindings/CallKind";
export type { CallState } from "../bindings/CallState";
export type { CallflowLeg } from "../bindings/CallflowLeg";
export type { Change } from "../bindings/Change";
export type { Contact } from "../bindings/Contact";
export type { ContactInput } from "../bindings/ContactInput";
export type { ContactNumber } from "../bindings/ContactNumber";
export type { ExportFormat } from "../bindings/ExportFormat";
export type { ImportReport } from "../bindings/ImportReport";
export type { NumberInput } from "../bindings/NumberInput";
export type { Skip } from "../bindings/Skip";
export type { Tag } from "../bindings/Tag";
export type { TagColour } from "../bindings/TagColour";
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

export type { AppStatus } from "../bindings/AppStatus";
export type { ApiStatus } from "../bindings/ApiStatus";
export type { BulutfonSettingsView } from "../bindings/BulutfonSettingsView";
export type { NameEntry } from "../bindings/NameEntry";
export type { NameKind } from "../bindings/NameKind";
export type { CommandError } from "../bindings/CommandError";
export type { CredentialSource } from "../bindings/CredentialSource";
export type { ErrorCode } from "../bindings/ErrorCode";
export type { ListenerState } from "../bindings/ListenerState";
export type { ListenerStatus } from "../bindings/ListenerStatus";
export type { NotificationStatus } from "../bindings/NotificationStatus";
export type { PopupEvents } from "../bindings/PopupEvents";
export type { ClientInfo } from "../bindings/ClientInfo";
export type { DeskState } from "../bindings/DeskState";
export type { DeskStatus } from "../bindings/DeskStatus";
export type { OfficeRole } from "../bindings/OfficeRole";
export type { OfficeView } from "../bindings/OfficeView";
export type { ReceiverView } from "../bindings/ReceiverView";
export type { SharedChanged } from "../bindings/SharedChanged";
/** The desktop settings (Rust: kanca_core::config::DesktopSettings). */
export type { DesktopSettings as Settings } from "../bindings/DesktopSettings";

/** The views the `navigate` event can ask for. */
export type NavView = "history" | "faxes" | "contacts" | "settings" | "guide";
export interface NavigatePayload {
  view: NavView;
  /** A list filter to apply with the view ("missed" from the missed-calls notice). */
  filter?: "missed" | null;
}
export interface OpenCallPayload {
  uuid: string;
  /** What to do once the call is open: "call_back" asks whether to call back (a pop-up's button). */
  then?: "call_back" | null;
}
