// An in-memory stand-in for the Rust backend, answering the same commands with the same shapes.
// Used by the unit tests (through mockIPC) and by the dev demo. Never in the production bundle.

import { matchesFilters, type Filter, type ListFilters } from "../lib/calls";
import { isTagColour } from "../lib/tags";
import { defaultTunnelSettings, offTunnel } from "../lib/tunnel";
import type {
  AppStatus,
  BulutfonSettingsView,
  ClientInfo,
  NameEntry,
  Call,
  CallDetail,
  Change,
  Contact,
  ContactInput,
  ImportReport,
  NumberInput,
  OfficeView,
  Page,
  Query,
  SelfTestResult,
  Settings,
  Tag,
  TagColour,
  TunnelSettings,
  TunnelStatus,
} from "../lib/types";
import { sampleCall, sampleDetail } from "./sample";

export interface Invocation {
  cmd: string;
  args: Record<string, unknown> | undefined;
}

/** The fake's URL secret (32 base64url characters, as the engine makes). */
export const FAKE_SECRET = "q3Vx8kLr2Tn5Wm9Yp0Zb4Hc7Jd1Fg6Ks";

/** A new random secret of the engine's shape. */
function newSecret(): string {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return Array.from({ length: 32 }, () => abc[Math.floor(Math.random() * abc.length)]).join("");
}

/** `url` (…/webhook) with `secret` appended, as the engine builds the one-paste URL. */
function withSecret(url: string | null, secret: string): string | null {
  return url === null ? null : `${url}/${secret}`;
}

export function defaultStatus(): AppStatus {
  return {
    listener: { state: "running", addr: "127.0.0.1:8497", error: null, hint: null },
    webhook_url: "http://127.0.0.1:8497/webhook",
    local_webhook_url: "http://127.0.0.1:8497/webhook",
    webhook_form: "url_secret",
    secret_webhook_url: `http://127.0.0.1:8497/webhook/${FAKE_SECRET}`,
    local_secret_webhook_url: `http://127.0.0.1:8497/webhook/${FAKE_SECRET}`,
    secret_source: "generated",
    tunnel: offTunnel(),
    log_dir: "/home/resepsiyon/.local/share/kanca/logs",
    user: "bulutfon",
    password: "s3cr3t-Pa55w0rd-0123456789abcdef",
    credential_source: "generated",
    notifications: { available: true, server: "test", error: null },
    dnd: false,
    data_dir: "/home/resepsiyon/.local/share/kanca",
    database_error: null,
    version: "0.2.0",
    last_event_at: null,
    missed_unseen: 0,
    missed_latest: null,
    system_language: "tr",
    api: { state: "off", account: null, last_sync: null, progress: null, error: null, last_added: 0 },
    office: { role: "alone", desk: null, receiver: null },
  };
}

/** Where the fake's receiver serves its desks, and its certificate's fingerprint. */
export const FAKE_OFFICE_ADDR = "192.168.1.10:8498";
export const FAKE_FINGERPRINT = "3f9a0c27d41be85605aa9e1f7c3b2d4e8f60a1b2c3d4e5f60718293a4b5c6d7e";

export function defaultSettings(): Settings {
  return {
    language: "tr",
    popup_events: { call_init: true, routed: true, missed: true, fax: true, outgoing: false },
    only_my_extensions: false,
    my_extensions: [],
    dnd: false,
    autostart: true,
    first_run_done: true,
    crm_url: null,
  };
}

/** A tunnel online at `base` (as the engine reports it). */
export function onlineTunnel(mode: TunnelStatus["mode"], base: string, urlChanges: boolean): TunnelStatus {
  const b = base.replace(/\/+$/, "");
  return { ...offTunnel(), mode, state: "online", public_url: b, webhook_url: `${b}/webhook`, url_changes: urlChanges };
}

/** The engine's check of an own URL (tunnel::parse_own_url), closely enough for the fake. */
export function parseOwnUrl(input: string): { ok: true; base: string } | { ok: false; error: string } {
  const url = input.trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, error: `not a valid URL (${url === "" ? "empty" : "relative URL without a base"})` };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return { ok: false, error: "the URL must start with https:// (or http://)" };
  if (!parsed.hostname) return { ok: false, error: "the URL has no host name" };
  if (parsed.search || parsed.hash || url.includes("?") || url.includes("#")) {
    return { ok: false, error: "the URL must not have a query (?…) or fragment (#…)" };
  }
  let base = url.replace(/\/+$/, "");
  if (base.endsWith("/webhook")) base = base.slice(0, -"/webhook".length);
  return { ok: true, base };
}

/** Turkish folding as the engine does it, closely enough: case, dots and accents forgiven. */
export function foldTr(s: string): string {
  return s
    .replace(/[İIı]/g, "i")
    .toLocaleLowerCase("tr")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/ı/g, "i");
}

/** The whole-number key of a Turkish number as the engine matches it (E.164 digits). */
export function numberKey(raw: string): string | null {
  let d = raw.replace(/\D/g, "");
  if (d === "") return null;
  if (d.startsWith("00")) d = d.slice(2);
  else if (d.length === 11 && d.startsWith("0")) d = `90${d.slice(1)}`;
  else if (d.length === 10 && !raw.trim().startsWith("+")) d = `90${d}`;
  return d;
}

/** A minimal reader of the files the tests import: vCard FN/TEL, or "name,number" CSV lines. */
export function parseContactsFile(name: string, text: string): { cards: ContactInput[]; skipped: { where: string; reason: string }[] } {
  const cards: ContactInput[] = [];
  const skipped: { where: string; reason: string }[] = [];
  const blank = (n: string, numbers: string[]): ContactInput => ({ name: n, company: null, numbers: numbers.map((raw) => ({ raw, label: null })), email: null, note: null, tags: [] });
  if (/^\s*BEGIN:VCARD/i.test(text)) {
    for (const [i, card] of text.split(/END:VCARD/i).entries()) {
      if (!/BEGIN:VCARD/i.test(card)) continue;
      const fn = /^FN[^:]*:(.*)$/im.exec(card)?.[1]?.trim() ?? "";
      const tels = [...card.matchAll(/^(?:item\d+\.)?TEL[^:]*:(.*)$/gim)].map((m) => m[1]!.trim());
      if (!fn) skipped.push({ where: `${name}: card ${i + 1}`, reason: "no name" });
      else cards.push(blank(fn, tels));
    }
  } else {
    for (const [i, line] of text.split(/\r?\n/).entries()) {
      if (line.trim() === "" || (i === 0 && /name|ad/i.test(line))) continue;
      const [n, num] = line.split(/[,;\t]/).map((x) => x.trim());
      if (!n) skipped.push({ where: `${name}: line ${i + 1}`, reason: "no name" });
      else cards.push(blank(n, num ? [num] : []));
    }
  }
  return { cards, skipped };
}

export class FakeBackend {
  calls: Call[];
  details = new Map<string, CallDetail>();
  status: AppStatus = defaultStatus();
  settings: Settings = defaultSettings();
  names: NameEntry[] = [
    { kind: "group", number: "101", bulutfon: "Teknik Destek", local: null },
    { kind: "extension", number: "1004", bulutfon: "Şule Çağlar", local: null },
    { kind: "did", number: "908508850000", bulutfon: "", local: null },
  ];
  bulutfon: BulutfonSettingsView = { connected: false, account: null, extension: null, caller: null, from_environment: false };
  tunnelSettings: TunnelSettings = defaultTunnelSettings();
  /** ngrok and cloudflared come online this long after a save; null: they stay connecting. */
  tunnelOnlineAfterMs: number | null = null;
  /** What test_connection answers; null: a success through the current webhook URL. */
  selfTest: SelfTestResult | null = null;
  /** Hold a command's answer until the promise settles (tests of in-flight states). */
  gates = new Map<string, Promise<unknown>>();
  /** Answer a command after this many ms (the demo's latencies). */
  delays = new Map<string, number>();
  readonly invocations: Invocation[] = [];
  /** Make a command reject with this error. */
  failures = new Map<string, { code: string; message: string }>();
  /** Changes stored since the app last fetched them (`take_call_changes`). */
  pendingChanges: Change[] = [];
  private changesDropped = false;
  /** Emits an event to the app (set by whoever installs the fake). */
  emit: (event: string, payload: unknown) => void = () => {};
  /** Serve pages of this size whatever the query asks (tests that fill a long list quickly). */
  pageSizeOverride: number | null = null;
  /** The phone book; when it has contacts, calls are named from it as the engine does. */
  contacts: Contact[] = [];
  /** What import_contacts reads for a path (the fake has no file system). */
  files = new Map<string, string>();
  /** Notes and tags set on calls. */
  notes = new Map<string, { note: string | null; tags: string[] }>();
  /** Colours chosen for tags. */
  tagColours = new Map<string, TagColour>();
  private contactSeq = 0;
  private testSeq = 0;
  /** The URL secret in force; the status's one-paste URLs are built from it. */
  secret = FAKE_SECRET;
  /** The desks paired with this computer while it is the office's receiver. */
  desks: ClientInfo[] = [];
  /** Where join_office / leave_office would have restarted the app to ("desk", "alone"). */
  restartedAs: "desk" | "alone" | null = null;

  constructor(calls: Call[] = []) {
    this.calls = [...calls].sort((a, b) => b.started_at_us - a.started_at_us);
  }

  /** Invocations of one command, oldest first. */
  calledWith(cmd: string): (Record<string, unknown> | undefined)[] {
    return this.invocations.filter((i) => i.cmd === cmd).map((i) => i.args);
  }

  handle(cmd: string, args?: Record<string, unknown>): unknown {
    this.invocations.push({ cmd, args });
    const gate = this.gates.get(cmd);
    if (gate) return gate.then(() => this.respond(cmd, args));
    const delay = this.delays.get(cmd);
    if (delay) return new Promise((r) => setTimeout(r, delay)).then(() => this.respond(cmd, args));
    return this.respond(cmd, args);
  }

  private respond(cmd: string, args?: Record<string, unknown>): unknown {
    const fail = this.failures.get(cmd);
    if (fail) return Promise.reject(fail);
    switch (cmd) {
      case "search_calls":
        return this.search((args as { query: Query }).query);
      case "get_call": {
        const uuid = (args as { uuid: string }).uuid;
        const d = this.details.get(uuid);
        if (d) return this.annotate(d);
        const c = this.calls.find((x) => x.uuid === uuid);
        return c ? this.annotate(sampleDetail(c)) : null;
      }
      case "list_contacts":
        return this.listContacts((args as { query: string }).query);
      case "get_contact":
        return structuredClone(this.contacts.find((c) => c.id === (args as { id: number }).id) ?? null);
      case "add_contact":
        return this.saveContact(null, (args as { input: ContactInput }).input);
      case "update_contact": {
        const a = args as { id: number; input: ContactInput };
        return this.saveContact(a.id, a.input);
      }
      case "delete_contact": {
        const id = (args as { id: number }).id;
        if (!this.contacts.some((c) => c.id === id)) return Promise.reject({ code: "contact_not_found", message: `no contact with id ${id}` });
        this.contacts = this.contacts.filter((c) => c.id !== id);
        return null;
      }
      case "add_number_to_contact":
        return this.addNumber(args as { id: number; number: NumberInput });
      case "import_contacts": {
        const report: ImportReport = { added: 0, updated: 0, unchanged: 0, skipped: [] };
        for (const path of (args as { paths: string[] }).paths) {
          const text = this.files.get(path);
          if (text === undefined) report.skipped.push({ where: path, reason: "cannot read the file" });
          else this.importText(path.split("/").pop() ?? path, text, report);
        }
        return report;
      }
      case "import_contact_file": {
        const a = args as { name: string; bytes: number[] };
        const report: ImportReport = { added: 0, updated: 0, unchanged: 0, skipped: [] };
        this.importText(a.name, new TextDecoder().decode(new Uint8Array(a.bytes)), report);
        return report;
      }
      case "export_contacts": {
        const format = (args as { format: string }).format;
        return `/home/resepsiyon/İndirilenler/kisiler.${format === "vcard" ? "vcf" : "csv"}`;
      }
      case "export_calls":
        return "/home/resepsiyon/İndirilenler/aramalar.csv";
      case "set_call_note": {
        const a = args as { uuid: string; note: string };
        const n = this.notes.get(a.uuid) ?? { note: null, tags: [] };
        this.notes.set(a.uuid, { ...n, note: a.note.trim() || null });
        return null;
      }
      case "set_call_tags": {
        const a = args as { uuid: string; tags: string[] };
        const n = this.notes.get(a.uuid) ?? { note: null, tags: [] };
        this.notes.set(a.uuid, { ...n, tags: [...a.tags] });
        return null;
      }
      case "list_tags":
        return this.tags();
      case "set_tag_colour": {
        const a = args as { tag: string; colour: string };
        const tag = a.tag.trim();
        if (tag === "" || !isTagColour(a.colour)) return Promise.reject({ code: "bad_tag", message: `${JSON.stringify(a.colour)} is not a tag colour` });
        this.tagColours.set(tag, a.colour);
        return this.tags();
      }
      case "get_status":
        return this.status;
      case "get_settings":
        return this.settings;
      case "save_settings": {
        const next = (args as { settings: Settings }).settings;
        if (next.crm_url && !/^https?:\/\/[^/{?#]/i.test(next.crm_url.trim())) {
          return Promise.reject({ code: "invalid_url", message: "the CRM link must start with https:// or http://" });
        }
        this.settings = structuredClone(next);
        this.status = { ...this.status, dnd: this.settings.dnd };
        return this.settings;
      }
      case "regenerate_credentials":
        this.status = { ...this.status, password: `new-${Math.random().toString(36).slice(2, 14)}` };
        return this.status;
      case "rotate_webhook_secret": {
        if (this.status.secret_source === "environment") {
          return Promise.reject({ code: "from_environment", message: "the webhook URL secret comes from KANCA_WEBHOOK_SECRET; change it there" });
        }
        this.secret = newSecret();
        this.status = this.withUrls(this.status);
        return this.status;
      }
      case "set_webhook_form":
        this.status = { ...this.status, webhook_form: (args as { form: AppStatus["webhook_form"] }).form };
        return this.status;
      case "send_test_event":
        return this.sendTest();
      case "get_tunnel_settings":
        return structuredClone(this.tunnelSettings);
      case "save_tunnel_settings":
        return this.saveTunnel((args as { settings: TunnelSettings }).settings);
      case "test_connection":
        return this.testConnection();
      case "take_call_changes": {
        const changes = this.pendingChanges.splice(0);
        if (!this.changesDropped) return changes;
        this.changesDropped = false;
        return null;
      }
      case "mark_missed_seen":
        this.status = { ...this.status, missed_unseen: 0, missed_latest: null };
        this.emit?.("status-changed", this.status);
        return null;
      case "copy_text":
        return null;
      case "open_url":
        return null;
      case "open_in_crm":
        return this.settings.crm_url ? null : Promise.reject({ code: "bad_url", message: "no CRM link is set (Settings)" });
      case "get_bulutfon_settings":
        return this.bulutfon;
      case "bulutfon_connect": {
        // The stand-in accepts one token, as Bulutfon accepts the account's.
        if ((args as { token?: string }).token !== "demo-token") return Promise.reject({ code: "bad_token", message: "Bulutfon refused the API token (HTTP 401)" });
        this.bulutfon = { ...this.bulutfon, connected: true, account: "ornekticaret" };
        this.status = { ...this.status, api: { state: "ok", account: "ornekticaret", last_sync: new Date().toISOString(), progress: null, error: null, last_added: 0 } };
        this.emit("status-changed", this.status);
        return this.bulutfon;
      }
      case "bulutfon_disconnect":
        this.bulutfon = { ...this.bulutfon, connected: false, account: null };
        this.status = { ...this.status, api: defaultStatus().api };
        this.emit("status-changed", this.status);
        return this.bulutfon;
      case "save_bulutfon_settings": {
        const a = args as { extension: string | null; caller: string | null };
        this.bulutfon = { ...this.bulutfon, extension: a.extension, caller: a.caller };
        return this.bulutfon;
      }
      case "bulutfon_sync_now":
        return null;
      case "fax_page_count":
        return this.bulutfon.connected ? 2 : Promise.reject({ code: "bad_token", message: "no token" });
      case "save_fax":
        return `/home/resepsiyon/İndirilenler/faks-${String((args as { uuid: string }).uuid).slice(0, 8)}.${(args as { pdf: boolean }).pdf ? "pdf" : "tif"}`;
      case "list_names":
        return this.names;
      case "set_name": {
        const a = args as { kind: NameEntry["kind"]; number: string; name: string | null };
        this.names = this.names.map((e) => (e.kind === a.kind && e.number === a.number ? { ...e, local: a.name } : e));
        return this.names;
      }
      case "get_office":
        return this.officeView();
      case "set_office_receiver": {
        if (this.status.office.role === "desk") return Promise.reject({ code: "settings", message: "a desk cannot also be the office's receiver" });
        const on = (args as { on: boolean }).on;
        this.status = { ...this.status, office: on ? this.officeView("receiver") : { role: "alone", desk: null, receiver: null } };
        this.emit("status-changed", this.status);
        return this.officeView();
      }
      case "add_desk": {
        const name = String((args as { name: string }).name).trim();
        if (name === "" || this.desks.some((d) => d.name === name)) return Promise.reject({ code: "bad_desk_name", message: `${JSON.stringify(name)} is empty or taken` });
        this.desks.push({ name, paired_at: new Date().toISOString(), last_seen: null, revoked: false });
        return `KANCA1-${btoa(JSON.stringify({ addr: FAKE_OFFICE_ADDR, name })).replace(/=+$/, "")}`;
      }
      case "revoke_desk": {
        const name = (args as { name: string }).name;
        const desk = this.desks.find((d) => d.name === name);
        if (!desk) return Promise.reject({ code: "bad_desk_name", message: `no desk named ${JSON.stringify(name)}` });
        desk.revoked = true;
        return this.officeView();
      }
      case "join_office": {
        if (!String((args as { code: string }).code).startsWith("KANCA1-")) return Promise.reject({ code: "bad_pairing_code", message: "not a pairing code" });
        this.restartedAs = "desk";
        return null;
      }
      case "leave_office":
        this.restartedAs = "alone";
        return null;
      case "call_back":
        return this.bulutfon.extension ? "Arama başarıyla başlatıldı." : Promise.reject({ code: "no_extension", message: "no extension" });
      default:
        return Promise.reject({ code: "unknown_command", message: `unknown command ${cmd}` });
    }
  }

  /** The office as get_office answers (a receiver's desks as they are now). */
  officeView(role = this.status.office.role): OfficeView {
    if (role !== "receiver") return structuredClone(this.status.office);
    const receiver = this.status.office.receiver ?? { addr: FAKE_OFFICE_ADDR, fingerprint: FAKE_FINGERPRINT, error: null, desks: [] };
    return { role, desk: null, receiver: { ...structuredClone(receiver), desks: structuredClone(this.desks) } };
  }

  /** Every tag with its colour (blue until one is chosen) and how many calls carry it, as the
   * engine lists them: those no call carries any more keep their colour. */
  private tags(): Tag[] {
    const count = new Map<string, number>();
    for (const name of this.tagColours.keys()) count.set(name, 0);
    for (const n of this.notes.values()) for (const tag of n.tags) count.set(tag, (count.get(tag) ?? 0) + 1);
    return [...count].sort().map(([name, calls]): Tag => ({ name, colour: this.tagColours.get(name) ?? "blue", calls }));
  }

  /** The contact a number belongs to, matched whole. */
  contactOf(number: string | null): Contact | null {
    const key = number ? numberKey(number) : null;
    if (!key) return null;
    return this.contacts.find((c) => c.numbers.some((n) => numberKey(n.raw) === key)) ?? null;
  }

  /** Names, notes and tags filled in when a call is read, as the engine does. */
  annotate<T extends Call>(call: T): T {
    const out = { ...call };
    if (this.contacts.length > 0) {
      out.caller_name = this.contactOf(call.caller_e164 ?? call.caller_raw)?.name ?? null;
      out.callee_name = this.contactOf(call.callee_e164 ?? call.callee_raw)?.name ?? null;
    }
    const n = this.notes.get(call.uuid);
    if (n) {
      out.note = n.note;
      out.tags = [...n.tags];
    }
    return out;
  }

  private listContacts(query: string): Contact[] {
    const q = query.trim();
    const key = /\d{6,}/.test(q) ? numberKey(q) : null;
    const words = foldTr(q).split(/\s+/).filter(Boolean);
    return structuredClone(
      this.contacts
        .filter((c) => {
          if (key) return c.numbers.some((n) => numberKey(n.raw) === key);
          const hay = foldTr(`${c.name} ${c.company ?? ""}`);
          return words.every((w) => hay.includes(w));
        })
        .sort((a, b) => a.name.localeCompare(b.name, "tr")),
    );
  }

  private saveContact(id: number | null, input: ContactInput): Contact | Promise<never> {
    const name = input.name.trim();
    if (!name) return Promise.reject({ code: "contact_no_name", message: "a contact needs a name" });
    const bad = input.numbers.find((n) => n.raw.trim() !== "" && !/\d{3,}/.test(n.raw));
    if (bad) return Promise.reject({ code: "bad_number", message: `"${bad.raw}" is not a phone number` });
    const numbers = input.numbers.filter((n) => n.raw.trim() !== "").map((n) => ({ raw: n.raw.trim(), e164: null, label: n.label }));
    if (id === null) {
      const c: Contact = { ...structuredClone(input), name, numbers, id: ++this.contactSeq, source: "typed" };
      this.contacts.push(c);
      return structuredClone(c);
    }
    const i = this.contacts.findIndex((c) => c.id === id);
    if (i < 0) return Promise.reject({ code: "contact_not_found", message: `no contact with id ${id}` });
    this.contacts[i] = { ...this.contacts[i]!, ...structuredClone(input), name, numbers };
    return structuredClone(this.contacts[i]!);
  }

  private addNumber(a: { id: number; number: NumberInput }): Contact | Promise<never> {
    const c = this.contacts.find((x) => x.id === a.id);
    if (!c) return Promise.reject({ code: "contact_not_found", message: `no contact with id ${a.id}` });
    const key = numberKey(a.number.raw);
    if (!c.numbers.some((n) => numberKey(n.raw) === key)) c.numbers.push({ raw: a.number.raw, e164: null, label: a.number.label });
    return structuredClone(c);
  }

  private importText(name: string, text: string, report: ImportReport): void {
    const { cards, skipped } = parseContactsFile(name, text);
    report.skipped.push(...skipped);
    for (const card of cards) {
      const same = this.contacts.find((c) => c.name === card.name);
      if (same) {
        report.unchanged++;
        continue;
      }
      this.contacts.push({ ...card, id: ++this.contactSeq, numbers: card.numbers.map((n) => ({ ...n, e164: null })), source: "file" });
      report.added++;
    }
  }

  search(q: Query): Page {
    const filter: Filter = q.missed_only ? "missed" : q.direction === "in" ? "in" : q.direction === "out" ? "out" : "all";
    const f: ListFilters = { text: q.text, filter, from: "", to: "", tag: q.tag ?? "" };
    const before = q.before === null ? null : Number(q.before);
    const out: Call[] = [];
    let more = false;
    for (const c of this.calls) {
      if (before !== null && c.started_at_us >= before) continue;
      if (q.since_us !== null && c.started_at_us < q.since_us) continue;
      if (q.until_us !== null && c.started_at_us >= q.until_us) continue;
      const named = this.annotate(c);
      if (!matchesFilters(named, q.kind, f)) continue;
      if (out.length === (this.pageSizeOverride ?? q.limit)) {
        more = true;
        break;
      }
      out.push(named);
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
    const change: Change = { event_id: Date.now(), event_type: eventType, received_type: eventType, received_at_us: Date.now() * 1000, call };
    this.status = { ...this.status, last_event_at: new Date().toISOString() };
    // As the engine does: a signal when there was nothing to fetch, the changes by command.
    const signal = this.pendingChanges.length === 0;
    this.pendingChanges = this.pendingChanges.filter((c) => c.call.uuid !== call.uuid);
    this.pendingChanges.push(change);
    if (signal) this.emit("calls-changed", null);
    return change;
  }

  /** Stores calls the way the engine does when the window fell too far behind to be told
   * which: the next fetch of changes answers null. */
  upsertUntold(calls: Call[]): void {
    for (const call of calls) {
      this.calls = this.calls.filter((c) => c.uuid !== call.uuid);
      this.calls.push(call);
    }
    this.calls.sort((a, b) => b.started_at_us - a.started_at_us);
    const signal = this.pendingChanges.length === 0 && !this.changesDropped;
    this.pendingChanges = [];
    this.changesDropped = true;
    if (signal) this.emit("calls-changed", null);
  }

  /** Sets the tunnel's status as the engine reports it, and tells the app. */
  setTunnel(tunnel: TunnelStatus): void {
    const url = tunnel.state === "online" && tunnel.webhook_url ? tunnel.webhook_url : this.status.local_webhook_url;
    this.status = this.withUrls({ ...this.status, tunnel, webhook_url: url });
    this.emit("status-changed", this.status);
  }

  private tunnelTimer: ReturnType<typeof setTimeout> | null = null;

  /** What the engine does after a save: stop the old tunnel, start the new one. */
  restartTunnel(): void {
    if (this.tunnelTimer) clearTimeout(this.tunnelTimer);
    this.tunnelTimer = null;
    if (this.status.listener.state !== "running") return;
    const s = this.tunnelSettings;
    const base = { ...offTunnel(), mode: s.mode };
    switch (s.mode) {
      case "off":
        this.setTunnel(offTunnel());
        return;
      case "own_url":
        this.setTunnel(s.own_url ? onlineTunnel("own_url", s.own_url, false) : { ...base, state: "failed", error: "no public URL is set" });
        return;
      case "ngrok":
        if (!s.ngrok_authtoken) {
          this.setTunnel({ ...base, state: "failed", error: "no ngrok authtoken is set: copy it from dashboard.ngrok.com → Your Authtoken" });
          return;
        }
        break;
      case "cloudflared":
        break;
    }
    this.setTunnel({ ...base, state: "connecting" });
    if (this.tunnelOnlineAfterMs === null) return;
    this.tunnelTimer = setTimeout(() => {
      this.tunnelTimer = null;
      const word = Math.random().toString(36).slice(2, 8);
      if (s.mode === "ngrok") {
        const domain = s.ngrok_domain?.replace(/^https:\/\//, "").replace(/\/+$/, "");
        this.setTunnel(onlineTunnel("ngrok", `https://${domain || `${word}-kanca.ngrok-free.app`}`, !domain));
      } else {
        this.setTunnel(onlineTunnel("cloudflared", `https://${word}-rapid-frog.trycloudflare.com`, true));
      }
    }, this.tunnelOnlineAfterMs);
  }

  private saveTunnel(input: TunnelSettings): TunnelSettings | Promise<never> {
    const settings = structuredClone(input);
    if (settings.mode === "own_url") {
      const parsed = parseOwnUrl(settings.own_url ?? "");
      if (!parsed.ok) return Promise.reject({ code: "invalid_url", message: parsed.error });
      settings.own_url = parsed.base;
    }
    this.tunnelSettings = settings;
    this.restartTunnel();
    return structuredClone(settings);
  }

  /** The status with its one-paste URLs rebuilt from the current base URLs and secret. */
  withUrls(status: AppStatus): AppStatus {
    return {
      ...status,
      secret_webhook_url: withSecret(status.webhook_url, this.secret),
      local_secret_webhook_url: withSecret(status.local_webhook_url, this.secret),
    };
  }

  private testConnection(): SelfTestResult | Promise<never> {
    // The engine posts in the chosen form.
    const oneShot = this.status.webhook_form === "url_secret";
    const url = oneShot ? this.status.secret_webhook_url : this.status.webhook_url;
    if (this.status.listener.state !== "running" || !url) {
      return Promise.reject({ code: "listener_down", message: "the webhook listener is not running" });
    }
    if (this.selfTest) return structuredClone(this.selfTest);
    this.testSeq += 1;
    const uuid = `kanca-selftest-${Date.now().toString(36)}-${this.testSeq}`;
    this.upsert(sampleCall({ uuid, startedAtUs: Date.now() * 1000, caller: "905554443322", state: "ringing", test: true }));
    const local = url === (oneShot ? this.status.local_secret_webhook_url : this.status.local_webhook_url);
    return { ok: true, url, http_status: 200, round_trip_ms: local ? 12 : 840, uuid, error: null };
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
