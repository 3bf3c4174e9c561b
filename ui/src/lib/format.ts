// Formatting of times, durations, routes, states and hang-up causes, in the current language.

import { hasKey, locale, t } from "./i18n";
import type { CallKind, CallState, RouteStep } from "./types";

function startOfDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

function isValid(d: Date): boolean {
  return !Number.isNaN(d.getTime());
}

/** A Date from an RFC 3339 string or microseconds since the epoch. */
export function toDate(value: string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const d = typeof value === "number" ? new Date(value / 1000) : new Date(value);
  return isValid(d) ? d : null;
}

// Intl formatters are costly to build and rows are rendered all the time while scrolling.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(kind: "clock" | "clockSeconds" | "date"): Intl.DateTimeFormat {
  const loc = locale();
  const key = `${loc}|${kind}`;
  let f = formatters.get(key);
  if (!f) {
    f =
      kind === "date"
        ? new Intl.DateTimeFormat(loc, { day: "2-digit", month: "2-digit", year: "numeric" })
        : new Intl.DateTimeFormat(loc, {
            hour: "2-digit",
            minute: "2-digit",
            second: kind === "clockSeconds" ? "2-digit" : undefined,
            hourCycle: "h23",
          });
    formatters.set(key, f);
  }
  return f;
}

/** "14:02" */
export function formatClock(d: Date, seconds = false): string {
  return formatter(seconds ? "clockSeconds" : "clock").format(d);
}

/** "27.11.2026" (tr) or "27/11/2026" (en) */
export function formatDate(d: Date): string {
  return formatter("date").format(d);
}

/**
 * List time: today "14:02", yesterday "dün 14:02", otherwise "27.11.2026 14:02".
 * `now` is injectable for tests.
 */
export function formatListTime(value: string | number | null | undefined, now: Date = new Date()): string {
  const d = toDate(value);
  if (!d) return "—";
  const day = startOfDay(d).getTime();
  const today = startOfDay(now);
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  const clock = formatClock(d);
  if (day === today.getTime()) return clock;
  if (day === yesterday.getTime()) return t("time.yesterday", { time: clock });
  return `${formatDate(d)} ${clock}`;
}

/** Full date and time with seconds, for the detail view: "27.11.2026 14:02:31". */
export function formatDateTime(value: string | number | null | undefined): string {
  const d = toDate(value);
  if (!d) return "—";
  return `${formatDate(d)} ${formatClock(d, true)}`;
}

/** "1:05", "12:00", "1:02:05"; "—" when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** "az önce", "3 dk önce", "2 sa önce", "4 gün önce" */
export function formatRelative(value: string | null | undefined, now: Date = new Date()): string {
  const d = toDate(value);
  if (!d) return "—";
  const diff = Math.max(0, now.getTime() - d.getTime());
  const min = Math.floor(diff / 60_000);
  if (min < 1) return t("rel.now");
  if (min < 60) return t("rel.minutes", { n: min });
  const h = Math.floor(min / 60);
  if (h < 24) return t("rel.hours", { n: h });
  return t("rel.days", { n: Math.floor(h / 24) });
}

/** A fax has no hang-up: the engine stores it ended as it arrives, and it reads "received". */
export function stateLabel(state: CallState, kind: CallKind = "call"): string {
  if (kind === "fax" && state === "ended") return t("state.faxReceived");
  switch (state) {
    case "ringing":
      return t("state.ringing");
    case "answered":
      return t("state.answered");
    case "missed":
      return t("state.missed");
    case "ended":
      return t("state.ended");
    case "end_unknown":
      return t("state.end_unknown");
    default:
      return String(state);
  }
}

export function routeStepLabel(step: RouteStep): string {
  const words = routeStepWords(step);
  // "Grup 101 · Teknik Destek" when Bulutfon (or the user) named it.
  return step.name ? `${words} · ${step.name}` : words;
}

function routeStepWords(step: RouteStep): string {
  switch (step.type) {
    case "menu":
      return t("route.menu", { d: step.destination });
    case "group":
      return t("route.group", { d: step.destination });
    case "extension":
      return t("route.extension", { d: step.destination });
    default:
      return step.destination;
  }
}

/** "Menü 10 → Grup 111 → Dahili 1000"; "" when the call was not routed. */
export function routeSummary(route: readonly RouteStep[] | null | undefined): string {
  if (!route || route.length === 0) return "";
  return route.map(routeStepLabel).join(" → ");
}

/** Hang-up cause in plain language; unknown codes are shown as they came. */
export function hangupCauseText(code: string | null | undefined): string {
  if (!code) return "";
  const key = `cause.${code.trim().toUpperCase()}`;
  return hasKey(key) ? t(key) : code;
}

export function hangupDetailText(detail: string | null | undefined): string {
  if (!detail) return "";
  const key = `hangupDetail.${detail.trim().toLowerCase()}`;
  return hasKey(key) ? t(key) : detail;
}

/** Cause and detail together: "Normal şekilde sonlandı (arayan kapattı)". */
export function hangupText(code: string | null | undefined, detail: string | null | undefined): string {
  const c = hangupCauseText(code);
  const d = hangupDetailText(detail);
  if (c && d) return `${c} (${d})`;
  return c || d;
}

/** Event type in the current language; unknown types as received. */
export function eventTypeLabel(type: string, receivedType?: string | null): string {
  const key = `event.${type}`;
  if (hasKey(key)) return t(key);
  return receivedType || type;
}

/** Pretty-printed JSON when the text is JSON, otherwise the text as it is. */
export function prettyPayload(raw: string): string {
  const s = raw.trim();
  if (s.startsWith("{") || s.startsWith("[")) {
    try {
      return JSON.stringify(JSON.parse(s), null, 2);
    } catch {
      return raw;
    }
  }
  return raw;
}

/** "2026-11-27" (a date input's value) → local midnight in microseconds; null if empty or invalid. */
export function dateInputToMicros(value: string, addDays = 0): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + addDays);
  return isValid(d) ? d.getTime() * 1000 : null;
}

/**
 * A phone book number the Turkish way ("0 532 444 55 66"), as calls show theirs; a number from
 * abroad or one Kanca could not read is shown as it was typed.
 */
export function phoneBookNumber(n: { raw: string; e164: string | null }): string {
  const d = n.e164?.match(/^\+90(\d{3})(\d{3})(\d{2})(\d{2})$/);
  return d ? `0 ${d[1]} ${d[2]} ${d[3]} ${d[4]}` : n.raw;
}

/** Longest name shown (a phone book's names are short; one from a hostile file may not be). */
export const NAME_CHARS = 120;

/**
 * A contact's name (or company, or note) for display: one line, cut at `max` characters with
 * "…". Names come from files anyone can write; a 5,000-character one is no use on screen and
 * costs layout in every row that shows it. The form keeps the whole text.
 */
export function displayName(s: string | null | undefined, max = NAME_CHARS): string {
  const one = (s ?? "").replace(/\s+/g, " ").trim();
  const chars = Array.from(one);
  return chars.length <= max ? one : `${chars.slice(0, max - 1).join("").trimEnd()}…`;
}
