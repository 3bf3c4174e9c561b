// An in-memory stand-in for the Rust backend, answering the same commands with the same shapes.
// Used by the unit tests (through mockIPC) and by the dev demo. Never in the production bundle.

import { matchesFilters, type Filter, type ListFilters } from "../lib/calls";
import type { AppStatus, Call, CallDetail, Change, Page, Query, Settings } from "../lib/types";
import { sampleCall, sampleDetail } from "./sample";

export interface Invocation {
  cmd: string;
  args: Record<string, unknown> | undefined;
}

export function defaultStatus(): AppStatus {
  return {
    listener: { state: "running", addr: "127.0.0.1:8497", error: null, hint: null },
    webhook_url: "http://127.0.0.1:8497/webhook",
    user: "bulutfon",
    password: "s3cr3t-Pa55w0rd-0123456789abcdef",
    credential_source: "generated",
    notifications: { available: true, server: "test", error: null },
    dnd: false,
    data_dir: "/home/resepsiyon/.local/share/kanca",
    database_error: null,
    version: "0.2.0",
    last_event_at: null,
  };
}

export function defaultSettings(): Settings {
  return {
    language: "tr",
    popup_events: { call_init: true, routed: true, missed: true, fax: true, outgoing: false },
    only_my_extensions: false,
    my_extensions: [],
    dnd: false,
    autostart: true,
    first_run_done: true,
  };
}

export class FakeBackend {
  calls: Call[];
  details = new Map<string, CallDetail>();
  status: AppStatus = defaultStatus();
  settings: Settings = defaultSettings();
  readonly invocations: Invocation[] = [];
  /** Make a command reject with this error. */
  failures = new Map<string, { code: string; message: string }>();
  /** Emits an event to the app (set by whoever installs the fake). */
  emit: (event: string, payload: unknown) => void = () => {};
  /** Serve pages of this size whatever the query asks (tests that fill a long list quickly). */
  pageSizeOverride: number | null = null;
  private testSeq = 0;

  constructor(calls: Call[] = []) {
    this.calls = [...calls].sort((a, b) => b.started_at_us - a.started_at_us);
  }

  /** Invocations of one command, oldest first. */
  calledWith(cmd: string): (Record<string, unknown> | undefined)[] {
    return this.invocations.filter((i) => i.cmd === cmd).map((i) => i.args);
  }

  handle(cmd: string, args?: Record<string, unknown>): unknown {
    this.invocations.push({ cmd, args });
    const fail = this.failures.get(cmd);
    if (fail) return Promise.reject(fail);
    switch (cmd) {
      case "search_calls":
        return this.search((args as { query: Query }).query);
      case "get_call": {
        const uuid = (args as { uuid: string }).uuid;
        const d = this.details.get(uuid);
        if (d) return d;
        const c = this.calls.find((x) => x.uuid === uuid);
        return c ? sampleDetail(c) : null;
      }
      case "get_status":
        return this.status;
      case "get_settings":
        return this.settings;
      case "save_settings":
        this.settings = structuredClone((args as { settings: Settings }).settings);
        this.status = { ...this.status, dnd: this.settings.dnd };
        return this.settings;
      case "regenerate_credentials":
        this.status = { ...this.status, password: `new-${Math.random().toString(36).slice(2, 14)}` };
        return this.status;
      case "send_test_event":
        return this.sendTest();
      case "copy_text":
        return null;
      case "open_url":
        return null;
      default:
        return Promise.reject({ code: "unknown_command", message: `unknown command ${cmd}` });
    }
  }

  search(q: Query): Page {
    const filter: Filter = q.missed_only ? "missed" : q.direction === "in" ? "in" : q.direction === "out" ? "out" : "all";
    const f: ListFilters = { text: q.text, filter, from: "", to: "" };
    const before = q.before === null ? null : Number(q.before);
    const out: Call[] = [];
    let more = false;
    for (const c of this.calls) {
      if (before !== null && c.started_at_us >= before) continue;
      if (q.since_us !== null && c.started_at_us < q.since_us) continue;
      if (q.until_us !== null && c.started_at_us >= q.until_us) continue;
      if (!matchesFilters(c, q.kind, f)) continue;
      if (out.length === (this.pageSizeOverride ?? q.limit)) {
        more = true;
        break;
      }
      out.push(c);
    }
    const last = out[out.length - 1];
    return { calls: out, next_cursor: more && last ? String(last.started_at_us) : null };
  }

  /** Stores a call (new or updated) and tells the app, as the engine does after a commit. */
  upsert(call: Call, eventType = "call_init"): Change {
    const i = this.calls.findIndex((c) => c.uuid === call.uuid);
    if (i >= 0) this.calls[i] = call;
    else {
      this.calls.push(call);
      this.calls.sort((a, b) => b.started_at_us - a.started_at_us);
    }
    this.details.delete(call.uuid);
    const change: Change = { event_id: Date.now(), event_type: eventType, received_type: eventType, call };
    this.status = { ...this.status, last_event_at: new Date().toISOString() };
    this.emit("calls-changed", [change]);
    return change;
  }

  private sendTest(): string {
    this.testSeq += 1;
    const call = sampleCall({
      uuid: `test-${Date.now().toString(36)}-${this.testSeq}`,
      startedAtUs: Date.now() * 1000,
      caller: "905551234567",
      state: "ringing",
      test: true,
    });
    this.upsert(call);
    return call.uuid;
  }
}
