// Call helpers: the list filters and the Query they map to, and the local check that decides
// whether a live `calls-changed` call belongs in the list on screen.

import { PAGE_SIZE } from "./backend";
import { dateInputToMicros } from "./format";
import type { Call, CallKind, CallState, Query } from "./types";

/** True for the sample calls the app's "send a test event" button creates. */
export function isTestCall(call: Call): boolean {
  // Tolerates a backend that does not send the field yet.
  return (call as { test?: unknown }).test === true;
}

/**
 * The call's state at `nowUs`. The engine settles a call when it is read: one that has rung
 * with no event past `ringing_until_us` (its hang-up webhook was lost) is "end_unknown". A
 * call kept on screen for hours must turn the same way without a new read; the engine gives
 * the time, so the limit itself lives in one place (src-tauri/core/src/call.rs).
 */
export function stateAt(call: Pick<Call, "state" | "ringing_until_us">, nowUs: number): CallState {
  const until = (call as { ringing_until_us?: number | null }).ringing_until_us;
  return call.state === "ringing" && typeof until === "number" && nowUs >= until ? "end_unknown" : call.state;
}

export type Filter = "all" | "missed" | "in" | "out";

export interface ListFilters {
  text: string;
  filter: Filter;
  /** Date input values ("YYYY-MM-DD"), "" when unset. */
  from: string;
  to: string;
  /** Only calls carrying this tag; "" for every call. */
  tag: string;
}

export function emptyFilters(): ListFilters {
  return { text: "", filter: "all", from: "", to: "", tag: "" };
}

export function hasActiveFilters(f: ListFilters): boolean {
  return f.text.trim() !== "" || f.filter !== "all" || f.from !== "" || f.to !== "" || f.tag !== "";
}

/** The date range in microseconds: `from` at local midnight, `to` inclusive (next midnight). */
export function dateRange(f: ListFilters): { since_us: number | null; until_us: number | null } {
  let from = f.from;
  let to = f.to;
  if (from && to && from > to) [from, to] = [to, from];
  return {
    since_us: from ? dateInputToMicros(from) : null,
    until_us: to ? dateInputToMicros(to, 1) : null,
  };
}

export function buildQuery(kind: CallKind | null, f: ListFilters, before: string | null = null): Query {
  const { since_us, until_us } = dateRange(f);
  return {
    text: f.text.trim(),
    kind,
    missed_only: f.filter === "missed",
    direction: f.filter === "in" ? "in" : f.filter === "out" ? "out" : null,
    since_us,
    until_us,
    before,
    limit: PAGE_SIZE,
    ...(f.tag ? { tag: f.tag } : {}),
  };
}

// ---- local matching, mirroring the backend's search (src-tauri/core/src/history.rs) ----

const SEPARATOR = /[\s\-().\/]/;

/** Digits of number-like text, like the backend's `search_digits`; null for other text. */
export function searchDigits(text: string): string | null {
  for (const c of text) {
    if (!(c >= "0" && c <= "9") && c !== "+" && !SEPARATOR.test(c)) return null;
  }
  let digits = text.replace(/\D/g, "");
  if (digits.startsWith("00")) digits = digits.slice(2);
  return digits === "" ? null : digits;
}

function numberSearchForm(raw: string | null, e164: string | null): string | null {
  if (e164) return e164.replace(/^\+/, "");
  if (!raw) return null;
  const digits = searchDigits(raw);
  return digits ?? raw.replace(/\s+/g, "");
}

/** The text the backend indexes for a call: numbers' search forms and route destinations. */
export function searchText(call: Call): string {
  const parts: string[] = [];
  const caller = numberSearchForm(call.caller_raw, call.caller_e164);
  const callee = numberSearchForm(call.callee_raw, call.callee_e164);
  if (caller) parts.push(caller);
  if (callee) parts.push(callee);
  for (const step of call.route) parts.push(step.destination);
  // Display forms too, so text typed as shown on screen also matches.
  if (call.caller) parts.push(call.caller);
  if (call.callee) parts.push(call.callee);
  // Names from the phone book (the engine also forgives Turkish letters; the fake need not).
  if (call.caller_name) parts.push(call.caller_name);
  if (call.callee_name) parts.push(call.callee_name);
  return parts.filter((p) => p !== "").join(" ").toLowerCase();
}

export function matchesText(call: Call, text: string): boolean {
  const q = text.trim();
  if (q === "") return true;
  const hay = searchText(call);
  const digits = searchDigits(q);
  const terms = digits !== null ? [digits] : q.toLowerCase().split(/\s+/).filter(Boolean);
  return terms.every((term) => hay.includes(term));
}

/** Whether a call belongs in a list with these filters. */
export function matchesFilters(call: Call, kind: CallKind | null, f: ListFilters): boolean {
  if (kind !== null && call.kind !== kind) return false;
  if (f.filter === "missed" && !call.missed) return false;
  if (f.filter === "in" && call.direction !== "in") return false;
  if (f.filter === "out" && call.direction !== "out") return false;
  const { since_us, until_us } = dateRange(f);
  if (since_us !== null && call.started_at_us < since_us) return false;
  if (until_us !== null && call.started_at_us >= until_us) return false;
  if (f.tag && !call.tags.includes(f.tag)) return false;
  return matchesText(call, f.text);
}

/** The number to copy: the other party's (the caller of an incoming call, the callee of an
 * outgoing one), E.164 when known, else as shown. */
export function copyableNumber(call: Pick<Call, "direction" | "caller" | "caller_e164" | "caller_raw" | "callee" | "callee_e164" | "callee_raw">): string | null {
  if (call.direction === "out") return call.callee_e164 || call.callee || call.callee_raw || null;
  return call.caller_e164 || call.caller || call.caller_raw || null;
}

/** The other party of a call, for "Kişilere ekle" / "Kişiyi düzenle": its number, and whether the
 * phone book already names it. Null when there is no number. */
export function contactTarget(
  c: Pick<Call, "direction" | "caller" | "caller_e164" | "caller_raw" | "caller_name" | "callee" | "callee_e164" | "callee_raw" | "callee_name">,
): { number: string; known: boolean } | null {
  const out = c.direction === "out";
  const number = copyableNumber(c);
  if (!number) return null;
  return { number, known: !!(out ? c.callee_name : c.caller_name)?.trim() };
}

/** The other party's number, for "Geri ara": the caller of an incoming call, the callee of an
 * outgoing one; null for a fax or a withheld number. */
export function callBackNumber(c: Pick<Call, "kind" | "direction" | "caller_e164" | "caller_raw" | "callee_e164" | "callee_raw">): string | null {
  if (c.kind !== "call") return null;
  return c.direction === "out" ? c.callee_e164 || c.callee_raw || null : c.caller_e164 || c.caller_raw || null;
}
