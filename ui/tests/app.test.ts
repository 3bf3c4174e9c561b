import { afterEach, describe, expect, it } from "vitest";
import { sampleCalls } from "../src/dev/sample";
import { setLanguage } from "../src/lib/i18n";
import { $, $$, cleanup, domChanges, emitEvent, FakeBackend, flush, installFake, rowUuids, startTestApp } from "./helpers";

const NOW_US = Date.now() * 1000;

describe("first-run guide", () => {
  afterEach(cleanup);

  it("is shown at first start and lists the steps", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.first_run_done = false;
    fake.status.webhook_form = "basic_auth";
    await startTestApp();
    const guide = $("guide");
    expect(guide.textContent).toContain("Uygulamalar > Web Kancaları");
    for (const ev of ["Arama Başlangıcı", "Arama Bitişi", "Gelen Faks", "Kaçan Çağrı", "Dahiliye düşen çağrı", "Gruba düşen çağrı", "Menüye düşen çağrı"]) {
      expect(guide.textContent).toContain(ev);
    }
    expect(guide.textContent).toContain("JSON");
    expect($("guide-tunnel-note").dataset.state).toBe("off");
    expect($("guide-tunnel-note").textContent).toContain("Bulutfon yalnızca yerel çalışan bir Kanca'ya ulaşamaz");
    expect($("guide-webhook-url").textContent).toBe("http://127.0.0.1:8497/webhook");
    expect($("guide-user").textContent).toBe("bulutfon");
    expect($("nav-guide").getAttribute("aria-current")).toBe("page");
  });

  it("names the sidebar entry it can be found again under, in both languages", async () => {
    for (const lang of ["tr", "en"] as const) {
      setLanguage(lang);
      const fake = installFake(new FakeBackend([]));
      fake.settings.first_run_done = false;
      await startTestApp();
      const entry = $("nav-guide").textContent!.trim();
      expect(entry.length).toBeGreaterThan(0);
      expect($("guide").textContent).toContain(`"${entry}"`);
      cleanup();
    }
    setLanguage("tr");
  });

  it("a status change touches only what it concerns; focus stays", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.first_run_done = false;
    fake.status.webhook_form = "basic_auth";
    await startTestApp();
    const done = $("guide-done");
    const toggle = $("guide-password-toggle");
    toggle.focus();
    // A webhook arrived: nothing on the guide shows the last event.
    const quiet = await domChanges($("guide"), () =>
      emitEvent("status-changed", { ...fake.status, last_event_at: new Date().toISOString() }),
    );
    expect(quiet).toEqual([]);
    expect(document.activeElement).toBe(toggle);
    // The tunnel came online: step 3 changes, the rest (focus included) stays.
    await emitEvent("status-changed", {
      ...fake.status,
      webhook_url: "https://ofis.example.com/webhook",
      tunnel: { ...fake.status.tunnel, mode: "own_url", state: "online", public_url: "https://ofis.example.com" },
    });
    expect($("guide-webhook-url").textContent).toBe("https://ofis.example.com/webhook");
    expect($("guide-tunnel-note").dataset.state).toBe("online");
    expect($("guide-done")).toBe(done);
    expect($("guide-password-toggle")).toBe(toggle);
    expect(document.activeElement).toBe(toggle);
  });

  it("copy buttons copy URL, user and password (basic-auth form)", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.first_run_done = false;
    fake.status.webhook_form = "basic_auth";
    await startTestApp();
    $("guide-webhook-url-copy").click();
    await flush();
    $("guide-user-copy").click();
    await flush();
    $("guide-password-copy").click();
    await flush();
    expect(fake.calledWith("copy_text").map((a) => (a as { text: string }).text)).toEqual([
      "http://127.0.0.1:8497/webhook",
      "bulutfon",
      fake.status.password,
    ]);
  });

  it("the test event is sent, confirmed, and the test call opens marked 'Test'", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.first_run_done = false;
    await startTestApp();
    $("send-test-event").click();
    await flush(6);
    expect(fake.calledWith("send_test_event")).toEqual([{}]);
    const detail = $("call-detail");
    const uuid = detail.dataset.uuid!;
    expect(uuid).toMatch(/^test-/);
    expect($("test-badge", detail).textContent).toBe("Test");
    expect($("toast").textContent).toContain("Test olayı alındı");
    // Back returns to the guide, which shows the success.
    $("detail-back").click();
    expect($("test-event-ok")).toBeTruthy();
    // The test call is in the history too, with its badge.
    $("nav-history").click();
    await flush();
    expect(rowUuids()[0]).toBe(uuid);
  });

  it("a failed test event shows the error", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.first_run_done = false;
    fake.failures.set("send_test_event", { code: "listener_down", message: "Dinleyici çalışmıyor" });
    await startTestApp();
    $("send-test-event").click();
    await flush();
    expect($("error-banner").textContent).toContain("Dinleyici çalışmıyor");
    expect(($("send-test-event") as HTMLButtonElement).disabled).toBe(false);
  });

  it("'Bitti' sets first_run_done and goes to the history", async () => {
    const fake = installFake(new FakeBackend(sampleCalls(5, NOW_US)));
    fake.settings.first_run_done = false;
    await startTestApp();
    $("guide-done").click();
    await flush();
    expect(fake.calledWith("save_settings").at(-1)).toMatchObject({ settings: { first_run_done: true } });
    expect($("nav-history").getAttribute("aria-current")).toBe("page");
    expect($$("call-row").length).toBe(5);
  });

  it("is not shown once done, but stays reachable", async () => {
    installFake(new FakeBackend([]));
    await startTestApp();
    expect($$("guide").length).toBe(0);
    $("nav-guide").click();
    expect($("guide")).toBeTruthy();
  });
});

describe("app shell", () => {
  afterEach(() => {
    cleanup();
    setLanguage("tr");
  });

  it("navigate events switch views", async () => {
    installFake(new FakeBackend([]));
    await startTestApp();
    await emitEvent("navigate", { view: "settings" });
    expect($("nav-settings").getAttribute("aria-current")).toBe("page");
    expect($("settings-webhook-url")).toBeTruthy();
    await emitEvent("navigate", { view: "faxes" });
    expect($("view-faxes")).toBeTruthy();
    await emitEvent("navigate", { view: "guide" });
    expect($("guide")).toBeTruthy();
    await emitEvent("navigate", { view: "bogus" });
    expect($("guide")).toBeTruthy();
    await emitEvent("navigate", { view: "history" });
    expect($("view-history")).toBeTruthy();
  });

  it("missed calls not yet seen stay in the sidebar until the missed list is opened", async () => {
    const calls = sampleCalls(30, NOW_US);
    const fake = installFake(new FakeBackend(calls));
    fake.status = { ...fake.status, missed_unseen: 3, missed_latest: calls[0].uuid };
    await startTestApp();
    expect($("sidebar-missed").textContent).toBe("3 cevapsız arama");
    expect(fake.calledWith("mark_missed_seen")).toEqual([]);
    // The missed-calls notice (or the tray) asks for the list filtered to missed calls.
    await emitEvent("navigate", { view: "history", filter: "missed" });
    await flush();
    expect($("filter-missed").getAttribute("aria-pressed")).toBe("true");
    const uuids = rowUuids();
    expect(uuids.length).toBeGreaterThan(0);
    expect(uuids.every((u) => calls.find((c) => c.uuid === u)?.missed)).toBe(true);
    expect(fake.calledWith("mark_missed_seen").length).toBe(1);
    await flush();
    expect(document.querySelector('[data-testid="sidebar-missed"]')).toBeNull();
  });

  it("the sidebar's missed entry opens the missed list", async () => {
    const fake = installFake(new FakeBackend(sampleCalls(30, NOW_US)));
    fake.status = { ...fake.status, missed_unseen: 1, missed_latest: null };
    await startTestApp();
    await emitEvent("navigate", { view: "settings" });
    $("sidebar-missed").click();
    await flush();
    expect($("nav-history").getAttribute("aria-current")).toBe("page");
    expect($("filter-missed").getAttribute("aria-pressed")).toBe("true");
    expect(fake.calledWith("mark_missed_seen").length).toBe(1);
  });

  it("every view has the stable test ids", async () => {
    installFake(new FakeBackend(sampleCalls(5, NOW_US)));
    await startTestApp();
    for (const id of ["nav-history", "nav-faxes", "nav-settings", "nav-guide", "search-input", "filter-all", "filter-missed", "filter-in", "filter-out", "call-row"]) {
      expect($$(id).length, id).toBeGreaterThan(0);
    }
    for (const b of document.querySelectorAll("button")) {
      const name = (b.getAttribute("aria-label") ?? b.textContent ?? "").trim();
      expect(name, b.outerHTML).not.toBe("");
      expect(b.getAttribute("type")).toBe("button");
    }
  });

  it("switching the language re-renders everything without a reload", async () => {
    const fake = installFake(new FakeBackend(sampleCalls(5, NOW_US)));
    await startTestApp();
    expect($("nav-history").textContent).toBe("Aramalar");
    expect($("filter-missed").textContent).toBe("Cevapsız");
    $("filter-missed").click();
    await flush();
    $("nav-settings").click();
    const select = $("settings-language") as HTMLSelectElement;
    expect(select.value).toBe("tr");
    select.value = "en";
    select.dispatchEvent(new Event("change"));
    await flush();
    expect(fake.calledWith("save_settings").at(-1)).toMatchObject({ settings: { language: "en" } });
    expect($("nav-history").textContent).toBe("Calls");
    expect($("nav-settings").textContent).toBe("Settings");
    expect(document.querySelector(".view-title")!.textContent).toBe("Settings");
    expect(document.documentElement.lang).toBe("en");
    expect(($("settings-language") as HTMLSelectElement).value).toBe("en");
    $("nav-history").click();
    expect($("filter-missed").textContent).toBe("Missed");
    // State survives the switch.
    expect($("filter-missed").getAttribute("aria-pressed")).toBe("true");

    $("nav-settings").click();
    const sel = $("settings-language") as HTMLSelectElement;
    sel.value = "system";
    sel.dispatchEvent(new Event("change"));
    await flush();
    expect(fake.calledWith("save_settings").at(-1)).toMatchObject({ settings: { language: null } });
  });

  it("language null follows the OS locale", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.language = null;
    // The app's own reading of the OS locale (jsdom's navigator.language is en-US as well).
    fake.status.system_language = "en";
    await startTestApp();
    expect($("nav-history").textContent).toBe("Calls");
  });

  it("shows the listener state and last event in the sidebar", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.status.last_event_at = new Date(Date.now() - 3 * 60_000).toISOString();
    await startTestApp();
    expect($("listener-status").dataset.state).toBe("running");
    expect($("listener-status").textContent).toContain("Dinleniyor");
    expect($("last-event").textContent).toBe("son olay: 3 dk önce");
  });

  it("an error from the tray (a pause that could not be saved) shows in the window", async () => {
    installFake(new FakeBackend([]));
    await startTestApp();
    await emitEvent("app-error", { code: "settings", message: "cannot write config.toml" });
    expect($("error-banner").textContent).toContain("Ayarlar kaydedilemedi");
    expect($("error-banner").dataset.code).toBe("settings");
  });

  it("a backend that cannot be reached shows an error banner, not a blank page", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.failures.set("get_status", { code: "internal", message: "durum okunamadı" });
    fake.failures.set("get_settings", { code: "internal", message: "ayarlar okunamadı" });
    await startTestApp();
    // Worded from the code; the backend's detail is the tooltip, not part of the sentence.
    expect($("error-banner").textContent).toContain("beklenmeyen bir hata");
    expect($("error-banner").querySelector(".banner-text")?.getAttribute("title")).toContain("durum okunamadı");
    expect($("nav-history")).toBeTruthy();
    expect($("listener-status").dataset.state).toBe("unknown");
  });
});

// Status changes arrive with every webhook: the sidebar changes what differs and keeps its
// elements, so the focus and WebDriver's element handles survive.
describe("the sidebar updates in place", () => {
  afterEach(() => {
    setLanguage("tr");
    cleanup();
  });

  it("the sidebar's pause button stays the same element, keeps the focus and flips aria-pressed", async () => {
    const fake = installFake(new FakeBackend([]));
    await startTestApp();
    const dnd = $("sidebar-dnd");
    const tunnel = $("sidebar-tunnel");
    dnd.focus();
    expect(dnd.getAttribute("aria-pressed")).toBe("false");
    await emitEvent("status-changed", { ...fake.status, dnd: true, last_event_at: new Date().toISOString() });
    expect($("sidebar-dnd")).toBe(dnd);
    expect(dnd.getAttribute("aria-pressed")).toBe("true");
    expect(dnd.textContent).toContain("duraklatıldı");
    expect(dnd.querySelector("svg")!.getAttribute("data-icon")).toBe("bellOff");
    expect(document.activeElement).toBe(dnd);
    // Its own click too: the button that was clicked is the one that shows the result.
    dnd.click();
    await flush();
    expect($("sidebar-dnd")).toBe(dnd);
    expect(dnd.getAttribute("aria-pressed")).toBe("false");
    expect(document.activeElement).toBe(dnd);
    expect($("sidebar-tunnel")).toBe(tunnel);
  });

  it("a new event changes only the sidebar's last-event line", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.status.last_event_at = new Date(Date.now() - 3 * 60_000).toISOString();
    await startTestApp();
    const changes = await domChanges($("sidebar"), () =>
      emitEvent("status-changed", { ...fake.status, last_event_at: new Date().toISOString() }),
    );
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((c) => c.endsWith("last-event")), changes.join("\n")).toBe(true);
    expect($("last-event").textContent).toBe("son olay: az önce");
  });

  it("the sidebar's missed entry and nav buttons stay the same elements as the count changes", async () => {
    const fake = installFake(new FakeBackend([]));
    await startTestApp();
    const history = $("nav-history");
    await emitEvent("status-changed", { ...fake.status, missed_unseen: 2 });
    const missed = $("sidebar-missed");
    expect(missed.textContent).toBe("2 cevapsız arama");
    await emitEvent("status-changed", { ...fake.status, missed_unseen: 5 });
    expect($("sidebar-missed")).toBe(missed);
    expect(missed.textContent).toBe("5 cevapsız arama");
    expect($("nav-history")).toBe(history);
    await emitEvent("status-changed", { ...fake.status, missed_unseen: 0 });
    expect($$("sidebar-missed").length).toBe(0);
  });

  it("a language switch rewrites its texts on the same elements", async () => {
    installFake(new FakeBackend([]));
    await startTestApp();
    const nav = $("nav-settings");
    const dnd = $("sidebar-dnd");
    nav.focus();
    setLanguage("en");
    expect($("nav-settings")).toBe(nav);
    expect(nav.textContent).toBe("Settings");
    expect($("sidebar-dnd")).toBe(dnd);
    expect(dnd.textContent).not.toContain("duraklat");
    expect($("sidebar-tunnel").textContent).toBe("Tunnel off (this computer only)");
    expect(document.activeElement).toBe(nav);
  });
});
