import { clearMocks, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as backend from "../src/lib/backend";
import { BackendError } from "../src/lib/backend";
import { buildQuery, emptyFilters } from "../src/lib/calls";
import { defaultSettings, defaultStatus } from "../src/dev/fakeBackend";
import { sampleCall, sampleDetail } from "../src/dev/sample";

type Seen = { cmd: string; args: unknown };

describe("backend wrapper", () => {
  let seen: Seen[];
  let reply: (cmd: string, args: unknown) => unknown;

  beforeEach(() => {
    seen = [];
    reply = () => null;
    mockWindows("main");
    mockIPC(
      (cmd, args) => {
        seen.push({ cmd, args });
        return reply(cmd, args);
      },
      { shouldMockEvents: true },
    );
  });
  afterEach(() => clearMocks());

  it("search_calls sends the query under `query`", async () => {
    const page = { calls: [sampleCall()], next_cursor: "1700000000000000123" };
    reply = () => page;
    const q = buildQuery("call", { ...emptyFilters(), text: "0532 444" }, "42");
    await expect(backend.searchCalls(q)).resolves.toEqual(page);
    expect(seen).toEqual([{ cmd: "search_calls", args: { query: q } }]);
    expect(q).toEqual({
      text: "0532 444",
      kind: "call",
      missed_only: false,
      direction: null,
      since_us: null,
      until_us: null,
      before: "42",
      limit: 100,
    });
  });

  it("get_call sends the uuid and passes null through", async () => {
    const d = sampleDetail(sampleCall({ uuid: "u-1" }));
    reply = (_c, a) => ((a as { uuid: string }).uuid === "u-1" ? d : null);
    await expect(backend.getCall("u-1")).resolves.toEqual(d);
    await expect(backend.getCall("nope")).resolves.toBeNull();
    expect(seen.map((s) => s.args)).toEqual([{ uuid: "u-1" }, { uuid: "nope" }]);
  });

  it("the argument-less commands and the ones with arguments use the contract's names", async () => {
    const status = defaultStatus();
    const settings = defaultSettings();
    reply = (cmd) =>
      ({ get_status: status, get_settings: settings, save_settings: settings, regenerate_credentials: status, rotate_webhook_secret: status, set_webhook_form: status, send_test_event: "test-uuid" })[cmd] ?? null;
    await expect(backend.getStatus()).resolves.toEqual(status);
    await expect(backend.getSettings()).resolves.toEqual(settings);
    await expect(backend.saveSettings(settings)).resolves.toEqual(settings);
    await expect(backend.regenerateCredentials()).resolves.toEqual(status);
    await expect(backend.rotateWebhookSecret()).resolves.toEqual(status);
    await expect(backend.setWebhookForm("basic_auth")).resolves.toEqual(status);
    await expect(backend.sendTestEvent()).resolves.toBe("test-uuid");
    await expect(backend.copyText("0 532 444 55 66")).resolves.toBeUndefined();
    await expect(backend.openUrl("https://panel.bulutfon.com/cdrs/1")).resolves.toBeUndefined();
    expect(seen).toEqual([
      { cmd: "get_status", args: {} },
      { cmd: "get_settings", args: {} },
      { cmd: "save_settings", args: { settings } },
      { cmd: "regenerate_credentials", args: {} },
      { cmd: "rotate_webhook_secret", args: {} },
      { cmd: "set_webhook_form", args: { form: "basic_auth" } },
      { cmd: "send_test_event", args: {} },
      { cmd: "copy_text", args: { text: "0 532 444 55 66" } },
      { cmd: "open_url", args: { url: "https://panel.bulutfon.com/cdrs/1" } },
    ]);
  });

  it("the tunnel commands use the contract's names and shapes", async () => {
    const tunnel = { mode: "ngrok" as const, ngrok_authtoken: "2abc", ngrok_domain: "kanca-ofis.ngrok-free.app", cloudflared_path: null, own_url: null };
    const result = { ok: true, url: "https://kanca-ofis.ngrok-free.app/webhook", http_status: 200, round_trip_ms: 840, uuid: "kanca-selftest-x", error: null };
    reply = (cmd) => ({ get_tunnel_settings: tunnel, save_tunnel_settings: tunnel, test_connection: result })[cmd] ?? null;
    await expect(backend.getTunnelSettings()).resolves.toEqual(tunnel);
    await expect(backend.saveTunnelSettings(tunnel)).resolves.toEqual(tunnel);
    await expect(backend.testConnection()).resolves.toEqual(result);
    expect(seen).toEqual([
      { cmd: "get_tunnel_settings", args: {} },
      { cmd: "save_tunnel_settings", args: { settings: tunnel } },
      { cmd: "test_connection", args: {} },
    ]);
    reply = () => Promise.reject({ code: "invalid_url", message: "the URL has no host name" });
    await expect(backend.saveTunnelSettings({ ...tunnel, mode: "own_url", own_url: "https://" })).rejects.toMatchObject({
      code: "invalid_url",
      message: "the URL has no host name",
    });
  });

  it("rejections become BackendError with the backend's code and message", async () => {
    reply = () => Promise.reject({ code: "database", message: "disk full" });
    const err = await backend.getStatus().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: "database", message: "disk full" });

    reply = () => Promise.reject("plain text");
    await expect(backend.getSettings()).rejects.toMatchObject({ code: "unknown", message: "plain text" });
  });

  it("event wrappers hand over the payloads", async () => {
    const changed = vi.fn();
    const open = vi.fn();
    const status = vi.fn();
    const nav = vi.fn();
    await backend.onCallsChanged(changed, () => {});
    await backend.onOpenCall(open);
    await backend.onStatusChanged(status);
    await backend.onNavigate(nav);
    const change = { event_id: 1, event_type: "call_init", received_type: "call_init", call: sampleCall() };
    let pending = [change];
    reply = (cmd) => (cmd === "take_call_changes" ? pending.splice(0) : null);
    await emit("calls-changed", null);
    await vi.waitFor(() => expect(changed).toHaveBeenCalledWith([change]));
    await emit("open-call", { uuid: "abc" });
    await emit("status-changed", defaultStatus());
    await emit("navigate", { view: "settings" });
    expect(changed).toHaveBeenCalledWith([change]);
    expect(open).toHaveBeenCalledWith("abc", null);
    expect(status).toHaveBeenCalledWith(defaultStatus());
    expect(nav).toHaveBeenCalledWith({ view: "settings" });
  });

  it("calls-changed is a signal: the changes are fetched in batches, one fetch at a time, and null means reload", async () => {
    const changed = vi.fn();
    const reload = vi.fn();
    const change = (id: number) => ({ event_id: id, event_type: "call_init", received_type: "call_init", call: sampleCall({ uuid: `u-${id}` }) });
    let answers: (unknown[] | null)[] = [[change(1)]];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    reply = (cmd) => (cmd === "take_call_changes" ? gate.then(() => (answers.length > 0 ? answers.shift() : [])) : null);
    await backend.onCallsChanged(changed, reload);
    // One fetch at start (changes kept from before the window listened) is in flight; two
    // signals meanwhile make one more fetch after it, not two overlapping ones.
    answers = [[change(1)], [change(2), change(3)], null];
    await emit("calls-changed", null);
    await emit("calls-changed", null);
    release();
    await vi.waitFor(() => expect(changed).toHaveBeenCalledTimes(2));
    expect(changed.mock.calls.map((c) => (c[0] as { event_id: number }[]).map((x) => x.event_id))).toEqual([[1], [2, 3]]);
    expect(seen.filter((s) => s.cmd === "take_call_changes")).toHaveLength(2);
    await emit("calls-changed", null);
    await vi.waitFor(() => expect(reload).toHaveBeenCalledTimes(1));
  });

  it("the office commands use the contract's names and shapes; shared-changed hands over what changed", async () => {
    const office = { role: "receiver" as const, desk: null, receiver: { addr: "192.168.1.10:8498", fingerprint: "ab".repeat(32), error: null, desks: [] } };
    reply = (cmd) => ({ get_office: office, set_office_receiver: office, revoke_desk: office, add_desk: "KANCA1-eyJ4IjoxfQ" })[cmd] ?? null;
    await expect(backend.getOffice()).resolves.toEqual(office);
    await expect(backend.setOfficeReceiver(true)).resolves.toEqual(office);
    await expect(backend.addDesk("Resepsiyon")).resolves.toBe("KANCA1-eyJ4IjoxfQ");
    await expect(backend.revokeDesk("Resepsiyon")).resolves.toEqual(office);
    await expect(backend.joinOffice("KANCA1-eyJ4IjoxfQ")).resolves.toBeUndefined();
    await expect(backend.leaveOffice()).resolves.toBeUndefined();
    expect(seen).toEqual([
      { cmd: "get_office", args: {} },
      { cmd: "set_office_receiver", args: { on: true } },
      { cmd: "add_desk", args: { name: "Resepsiyon" } },
      { cmd: "revoke_desk", args: { name: "Resepsiyon" } },
      { cmd: "join_office", args: { code: "KANCA1-eyJ4IjoxfQ" } },
      { cmd: "leave_office", args: {} },
    ]);
    reply = () => Promise.reject({ code: "office_refused", message: "the receiver answered 401" });
    await expect(backend.joinOffice("KANCA1-x")).rejects.toMatchObject({ code: "office_refused", message: "the receiver answered 401" });

    const shared = vi.fn();
    await backend.onSharedChanged(shared);
    await emit("shared-changed", { what: "call", uuid: "u-1" });
    await emit("shared-changed", { what: "contacts", uuid: null });
    await emit("shared-changed", { uuid: "no-what" });
    expect(shared.mock.calls.map((c) => c[0])).toEqual([
      { what: "call", uuid: "u-1" },
      { what: "contacts", uuid: null },
    ]);
  });

  it("unlisten stops the events", async () => {
    const open = vi.fn();
    const un = await backend.onOpenCall(open);
    await un();
    await emit("open-call", { uuid: "abc" });
    expect(open).not.toHaveBeenCalled();
  });
});

describe("outside Tauri", () => {
  it("reports no_backend", async () => {
    clearMocks();
    delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
    await expect(backend.getStatus()).rejects.toMatchObject({ code: backend.NO_BACKEND });
  });
});

describe("error texts", () => {
  it("codes are worded in the user's language; English detail only in English", async () => {
    const { errorText } = await import("../src/components/notifier");
    const { setLanguage } = await import("../src/lib/i18n");
    setLanguage("tr");
    expect(errorText(new BackendError("listener_down", "the webhook listener is not running"))).toBe(
      "Dinleyici çalışmıyor; ayrıntılar Ayarlar'da",
    );
    // A code this UI does not know (a newer backend): a general sentence, not English text.
    const unknown = new BackendError("internal", "raw message");
    Object.defineProperty(unknown, "code", { value: "something_new" });
    expect(errorText(unknown)).toBe("Bir sorun oluştu");
    expect(errorText(new BackendError(backend.NO_BACKEND, "x"))).toContain("arka ucuna bağlanılamadı");
    setLanguage("en");
    expect(errorText(new BackendError("test_failed", "HTTP 401"))).toBe("The test event could not be sent (HTTP 401)");
    setLanguage("tr");
  });
});
