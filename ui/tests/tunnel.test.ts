// How Bulutfon reaches Kanca: the settings section (ways, fields, saving, status, connection
// test), the guide's note and the sidebar's tunnel line.
import { afterEach, describe, expect, it, vi } from "vitest";
import { defaultStatus, FAKE_SECRET, onlineTunnel } from "../src/dev/fakeBackend";
import { offTunnel } from "../src/lib/tunnel";
import type { AppStatus, TunnelStatus } from "../src/lib/types";
import { $, $$, cleanup, domChanges, emitEvent, FakeBackend, flush, installFake, startTestApp, type } from "./helpers";

const EVIL = "<img src=x onerror=alert(1)>";
const LOCAL = "http://127.0.0.1:8497/webhook";
/** The URL to paste in the default (one-paste) form under `base`. */
const pasted = (base: string) => `${base}/webhook/${FAKE_SECRET}`;
const LOCAL_PASTE = `${LOCAL}/${FAKE_SECRET}`;

async function openSettings(fake = installFake(new FakeBackend([]))) {
  const app = await startTestApp();
  $("nav-settings").click();
  await flush();
  return { fake, app };
}

/** A status as the engine sends it: the webhook URL is the public one only while online. */
function statusWith(tunnel: TunnelStatus, extra: Partial<AppStatus> = {}): AppStatus {
  const s = defaultStatus();
  const webhook_url = tunnel.state === "online" && tunnel.webhook_url ? tunnel.webhook_url : s.local_webhook_url;
  return { ...s, tunnel, webhook_url, secret_webhook_url: `${webhook_url}/${FAKE_SECRET}`, ...extra };
}

const ngrokOnline = () => onlineTunnel("ngrok", "https://kanca-ofis.ngrok-free.app", false);

function radio(mode: string): HTMLInputElement {
  return $(`tunnel-mode-${mode}`) as HTMLInputElement;
}

function choose(mode: string): void {
  const r = radio(mode);
  r.checked = true;
  r.dispatchEvent(new Event("change", { bubbles: true }));
}

function input(testid: string): HTMLInputElement {
  return $(testid) as HTMLInputElement;
}

const saveButton = () => $("tunnel-save") as HTMLButtonElement;
const saves = (fake: FakeBackend) => fake.calledWith("save_tunnel_settings").map((a) => (a as { settings: unknown }).settings);

function noInjectedElements(): void {
  expect(document.querySelectorAll("img, script, iframe, object, embed").length).toBe(0);
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.getAttributeNames()) expect(attr.startsWith("on"), `${el.tagName} ${attr}`).toBe(false);
  }
}

describe("settings: how Bulutfon reaches Kanca", () => {
  afterEach(cleanup);

  it("comes before the credentials, with the four ways as a radio group and the saved one chosen", async () => {
    const { fake } = await openSettings();
    expect(fake.calledWith("get_tunnel_settings")).toEqual([{}]);
    const section = $("settings-tunnel");
    expect(section.textContent).toContain("Bulutfon'un erişimi");
    // Before the webhook URL and credentials.
    expect(section.compareDocumentPosition($("settings-rotate-secret")) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(section.compareDocumentPosition($("settings-webhook-url")) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    const radios = $$("tunnel-modes")[0]!.querySelectorAll<HTMLInputElement>('input[type="radio"]');
    expect([...radios].map((r) => r.value)).toEqual(["ngrok", "cloudflared", "own_url", "off"]);
    expect(new Set([...radios].map((r) => r.name)).size).toBe(1);
    expect(radio("off").checked).toBe(true);
    expect($("tunnel-modes").tagName).toBe("FIELDSET");
    expect($("tunnel-modes").querySelector("legend")).toBeTruthy();
    for (const r of radios) expect(document.querySelector(`label[for="${r.id}"]`)).toBeTruthy();
    expect(saveButton().disabled).toBe(true);
    expect($("tunnel-status").dataset.state).toBe("off");
    expect($("tunnel-status").textContent).toContain("Bulutfon ulaşamaz");
  });

  it("shows each way's fields and plain instructions", async () => {
    await openSettings();
    expect($("tunnel-panel").dataset.mode).toBe("off");
    expect($("tunnel-instructions").textContent).toContain("Bulutfon aramaları Kanca'ya gönderemez");
    expect($$("tunnel-ngrok-authtoken").length).toBe(0);

    choose("ngrok");
    expect($("tunnel-panel").dataset.mode).toBe("ngrok");
    const steps = $("tunnel-instructions").textContent!;
    expect(steps).toContain("ngrok.com");
    expect(steps).toContain("dashboard.ngrok.com → Your Authtoken");
    expect(steps).toContain("Domains");
    expect($("tunnel-panel").textContent).toContain("Alan adı yazmazsanız adres Kanca her başladığında değişir");
    expect(input("tunnel-ngrok-authtoken").type).toBe("password");
    $("tunnel-ngrok-authtoken-toggle").click();
    expect(input("tunnel-ngrok-authtoken").type).toBe("text");
    expect($("tunnel-ngrok-authtoken-toggle").getAttribute("aria-pressed")).toBe("true");
    expect(input("tunnel-ngrok-domain").placeholder).toContain("ngrok-free.app");
    // Every field has a label.
    for (const id of ["tunnel-ngrok-authtoken", "tunnel-ngrok-domain"]) {
      expect(document.querySelector(`label[for="${input(id).id}"]`)).toBeTruthy();
    }

    // Choosing a way is a change: Save comes alive; choosing the saved one again is not.
    expect(saveButton().disabled).toBe(false);
    expect($("tunnel-unsaved").hidden).toBe(false);
    choose("off");
    expect(saveButton().disabled).toBe(true);
    expect($("tunnel-unsaved").hidden).toBe(true);

    choose("cloudflared");
    expect($("tunnel-panel").dataset.mode).toBe("cloudflared");
    expect($("tunnel-cf-warning").textContent).toContain("Kanca her başladığında değişir");
    expect($("tunnel-cf-warning").textContent).toContain("yeniden yapıştırmanız gerekir");
    expect(input("tunnel-cloudflared-path").placeholder).toBe("cloudflared");
    expect($("tunnel-panel").textContent).toContain("PATH");
    expect($$("tunnel-ngrok-authtoken").length).toBe(0);

    choose("own_url");
    expect($("tunnel-panel").dataset.mode).toBe("own_url");
    expect($("tunnel-instructions").textContent).toContain("Tailscale Funnel");
    expect($("tunnel-local-url").textContent).toBe(LOCAL);
    type(input("tunnel-own-url"), "https://kanca.example.com/");
    expect($("tunnel-forward").textContent).toBe(`https://kanca.example.com/webhook → ${LOCAL}`);
    // What was typed stays when switching ways (and would be saved with them).
    choose("off");
    choose("own_url");
    expect(input("tunnel-own-url").value).toBe("https://kanca.example.com/");
  });

  it("the local listener address can be copied for the own-URL way", async () => {
    const { fake } = await openSettings();
    choose("own_url");
    $("tunnel-local-url-copy").click();
    await flush();
    expect(fake.calledWith("copy_text")).toEqual([{ text: LOCAL }]);
  });

  it("saves ngrok with the whole, trimmed settings object and follows the status", async () => {
    const { fake } = await openSettings();
    choose("ngrok");
    type(input("tunnel-ngrok-authtoken"), "  2abcTOKEN  ");
    type(input("tunnel-ngrok-domain"), "kanca-ofis.ngrok-free.app");
    expect(saveButton().disabled).toBe(false);
    saveButton().click();
    await flush();
    expect(saves(fake)).toEqual([
      { mode: "ngrok", ngrok_authtoken: "2abcTOKEN", ngrok_domain: "kanca-ofis.ngrok-free.app", cloudflared_path: null, own_url: null },
    ]);
    expect($("settings-saved").textContent).toContain("Kaydedildi");
    expect(saveButton().disabled).toBe(true);
    expect($("tunnel-status").dataset.state).toBe("connecting");
    expect($("tunnel-status").textContent).toContain("Bağlanıyor (ngrok)");
    expect($("sidebar-tunnel").dataset.state).toBe("connecting");
  });

  it("Enter in a field saves (the form submits)", async () => {
    const { fake } = await openSettings();
    choose("cloudflared");
    type(input("tunnel-cloudflared-path"), "/opt/cloudflared/bin/cloudflared");
    input("tunnel-cloudflared-path").form!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await flush();
    expect(saves(fake)).toEqual([{ mode: "cloudflared", ngrok_authtoken: null, ngrok_domain: null, cloudflared_path: "/opt/cloudflared/bin/cloudflared", own_url: null }]);
  });

  it("keeps the other ways' values when switching and saving", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.tunnelSettings = { mode: "ngrok", ngrok_authtoken: "2abcTOKEN", ngrok_domain: null, cloudflared_path: null, own_url: null };
    await openSettings(fake);
    expect(radio("ngrok").checked).toBe(true);
    expect(input("tunnel-ngrok-authtoken").value).toBe("2abcTOKEN");
    choose("off");
    saveButton().click();
    await flush();
    expect(saves(fake)).toEqual([{ mode: "off", ngrok_authtoken: "2abcTOKEN", ngrok_domain: null, cloudflared_path: null, own_url: null }]);
    expect($("tunnel-status").dataset.state).toBe("off");
  });

  it("asks for what a way needs before saving", async () => {
    const { fake } = await openSettings();
    choose("ngrok");
    saveButton().click();
    await flush();
    expect(saves(fake)).toEqual([]);
    const err = $("tunnel-ngrok-authtoken-error");
    expect(err.textContent).toContain("authtoken gerekli");
    expect(input("tunnel-ngrok-authtoken").getAttribute("aria-invalid")).toBe("true");
    expect(input("tunnel-ngrok-authtoken").getAttribute("aria-describedby")).toContain(err.id);
    expect(document.activeElement).toBe(input("tunnel-ngrok-authtoken"));

    choose("own_url");
    saveButton().click();
    await flush();
    expect(saves(fake)).toEqual([]);
    expect($("tunnel-own-url-error").textContent).toContain("Herkese açık adresi yazın");
  });

  it("an invalid_url from the backend shows next to the own-URL field, and typing clears it", async () => {
    const { fake } = await openSettings();
    choose("own_url");
    type(input("tunnel-own-url"), "kanca.example.com");
    saveButton().click();
    await flush();
    expect(saves(fake)).toEqual([{ mode: "own_url", ngrok_authtoken: null, ngrok_domain: null, cloudflared_path: null, own_url: "kanca.example.com" }]);
    const err = $("tunnel-own-url-error");
    expect(err.textContent).toBe("Bu adres kullanılamıyor: not a valid URL (relative URL without a base)");
    expect(err.getAttribute("role")).toBe("alert");
    expect(input("tunnel-own-url").getAttribute("aria-invalid")).toBe("true");
    expect(input("tunnel-own-url").value).toBe("kanca.example.com");
    expect(document.activeElement).toBe(input("tunnel-own-url"));
    expect($$("error-banner").length).toBe(0);
    expect(radio("own_url").checked).toBe(true);

    type(input("tunnel-own-url"), "https://kanca.example.com/webhook");
    expect($$("tunnel-own-url-error").length).toBe(0);
    expect(input("tunnel-own-url").hasAttribute("aria-invalid")).toBe(false);
    saveButton().click();
    await flush();
    // The saved (normalised) value comes back into the field; the status follows.
    expect(input("tunnel-own-url").value).toBe("https://kanca.example.com");
    expect($("tunnel-status").dataset.state).toBe("online");
    expect($("tunnel-public-url").textContent).toBe("https://kanca.example.com");
    expect($("settings-webhook-url").textContent).toBe(pasted("https://kanca.example.com"));
  });

  it("other save errors go to the banner and keep the form as typed", async () => {
    const { fake } = await openSettings();
    fake.failures.set("save_tunnel_settings", { code: "settings", message: "config.toml yazılamadı" });
    choose("cloudflared");
    saveButton().click();
    await flush();
    expect($("error-banner").textContent).toContain("Ayarlar kaydedilemedi");
    expect(radio("cloudflared").checked).toBe(true);
    expect(saveButton().disabled).toBe(false);
  });

  it("Save shows progress and is disabled while saving", async () => {
    const { fake } = await openSettings();
    let release!: () => void;
    fake.gates.set("save_tunnel_settings", new Promise<void>((r) => (release = r)));
    choose("cloudflared");
    saveButton().click();
    await flush();
    expect(saveButton().disabled).toBe(true);
    expect(saveButton().textContent).toContain("Kaydediliyor");
    release();
    await flush();
    expect(saveButton().textContent).toContain("Kaydet");
    expect(saveButton().disabled).toBe(true);
    expect($("tunnel-status").dataset.state).toBe("connecting");
  });

  it("the status line follows status-changed through every state", async () => {
    await openSettings();
    const line = () => $("tunnel-status");

    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "cloudflared", state: "connecting" }));
    expect(line().dataset.state).toBe("connecting");
    expect(line().textContent).toContain("Bağlanıyor (cloudflared)");
    expect($("settings-webhook-url").textContent).toBe(LOCAL_PASTE);
    expect($("settings-webhook-url-hint").dataset.public).toBe("false");

    const online = onlineTunnel("cloudflared", "https://rapid-frog-example.trycloudflare.com", true);
    await emitEvent("status-changed", statusWith(online));
    expect(line().dataset.state).toBe("online");
    expect(line().textContent).toContain("Çevrimiçi (cloudflared)");
    expect($("tunnel-public-url").textContent).toBe("https://rapid-frog-example.trycloudflare.com");
    // The URL to paste is the public one, with a note that it changes.
    expect($("settings-webhook-url").textContent).toBe(pasted("https://rapid-frog-example.trycloudflare.com"));
    expect($("settings-webhook-url-hint").dataset.public).toBe("true");
    expect($("settings-url-changes").textContent).toContain("Kanca her başladığında değişir");

    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "cloudflared", state: "reconnecting", error: "cloudflared exited (exit status: 1)", retry_in_s: 8 }));
    expect(line().dataset.state).toBe("reconnecting");
    expect(line().textContent).toContain("Bağlantı koptu, yeniden bağlanıyor");
    expect($("tunnel-error").textContent).toBe("Neden: cloudflared exited (exit status: 1)");
    expect($("tunnel-retry").textContent).toBe("8 sn sonra yeniden denenecek.");
    expect($$("settings-url-changes").length).toBe(0);
    expect($("settings-webhook-url").textContent).toBe(LOCAL_PASTE);

    // The engine clears the delay when it tries again, keeping the reason.
    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "cloudflared", state: "reconnecting", error: "cloudflared exited (exit status: 1)" }));
    expect($("tunnel-retry").textContent).toBe("Yeniden deneniyor…");

    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "ngrok", state: "failed", error: "ngrok refused the authtoken" }));
    expect(line().dataset.state).toBe("failed");
    expect(line().textContent).toContain("Bağlanamadı (ngrok)");
    expect($("tunnel-error").textContent).toBe("Neden: ngrok refused the authtoken");
    expect($$("tunnel-retry").length).toBe(0);

    await emitEvent("status-changed", statusWith(offTunnel()));
    expect(line().dataset.state).toBe("off");
    expect($$("tunnel-error").length).toBe(0);
  });

  it("counts the retry down", async () => {
    vi.useFakeTimers();
    await openSettings();
    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "ngrok", state: "failed", error: "ngrok could not be reached", retry_in_s: 8 }));
    expect($("tunnel-retry").textContent).toBe("8 sn sonra yeniden denenecek.");
    await vi.advanceTimersByTimeAsync(3000);
    expect($("tunnel-retry").textContent).toBe("5 sn sonra yeniden denenecek.");
    // The same status again (another field changed) does not restart the count.
    await emitEvent("status-changed", { ...statusWith({ ...offTunnel(), mode: "ngrok", state: "failed", error: "ngrok could not be reached", retry_in_s: 8 }), dnd: true });
    expect($("tunnel-retry").textContent).toBe("5 sn sonra yeniden denenecek.");
    await vi.advanceTimersByTimeAsync(6000);
    expect($("tunnel-retry").textContent).toBe("Yeniden deneniyor…");
  });

  it("a status change while typing leaves the field alone: same input, text, focus, caret and selection", async () => {
    await openSettings();
    choose("own_url");
    const field = input("tunnel-own-url");
    field.focus();
    type(field, "https://kanca.exa");
    field.setSelectionRange(5, 9, "backward");
    // Another event arrived; then the tunnel connects, comes online, and the listener moves.
    await emitEvent("status-changed", statusWith(offTunnel(), { last_event_at: new Date().toISOString() }));
    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "ngrok", state: "connecting" }));
    await emitEvent("status-changed", statusWith(ngrokOnline(), { local_webhook_url: "http://127.0.0.1:9000/webhook" }));
    expect(input("tunnel-own-url")).toBe(field);
    expect(field.isConnected).toBe(true);
    expect(field.value).toBe("https://kanca.exa");
    expect(document.activeElement).toBe(field);
    expect([field.selectionStart, field.selectionEnd, field.selectionDirection]).toEqual([5, 9, "backward"]);
    // The form is still the user's: the way typed for, unsaved; the forward line follows the listener.
    expect(radio("own_url").checked).toBe(true);
    expect($("tunnel-unsaved").hidden).toBe(false);
    expect($("tunnel-forward").textContent).toBe("https://kanca.exa/webhook → http://127.0.0.1:9000/webhook");
    expect($("tunnel-local-url").textContent).toBe("http://127.0.0.1:9000/webhook");
  });

  it("a status change rewrites the status line in place", async () => {
    await openSettings();
    const line = $("tunnel-status");
    const state = line.querySelector(".tunnel-state")!;
    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "cloudflared", state: "connecting" }));
    expect($("tunnel-status")).toBe(line);
    expect(line.querySelector(".tunnel-state")).toBe(state);
    expect(state.textContent).toBe("Bağlanıyor (cloudflared)…");
    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "ngrok", state: "failed", error: "no network", retry_in_s: 8 }));
    const error = $("tunnel-error");
    const retry = $("tunnel-retry");
    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "ngrok", state: "failed", error: "ngrok refused the authtoken", retry_in_s: 30 }));
    expect($("tunnel-status")).toBe(line);
    expect($("tunnel-error")).toBe(error);
    expect(error.textContent).toBe("Neden: ngrok refused the authtoken");
    expect($("tunnel-retry")).toBe(retry);
    expect(retry.textContent).toBe("30 sn sonra yeniden denenecek.");
    await emitEvent("status-changed", statusWith(ngrokOnline()));
    expect($("tunnel-status")).toBe(line);
    expect(line.dataset.state).toBe("online");
    expect(error.isConnected).toBe(false);
    expect($("tunnel-public-url").textContent).toBe("https://kanca-ofis.ngrok-free.app");
  });

  it("a status change that concerns nothing on the page changes nothing in it", async () => {
    const { fake } = await openSettings(installFake(new FakeBackend([])));
    choose("own_url");
    type(input("tunnel-own-url"), "https://kanca.example.com");
    // What every webhook brings: a new last event.
    const changes = await domChanges($("view-settings"), () =>
      emitEvent("status-changed", { ...fake.status, last_event_at: new Date().toISOString() }),
    );
    expect(changes).toEqual([]);
    expect($("last-event").textContent).toBe("son olay: az önce");
  });

  it("shows where the logs are written", async () => {
    const { fake } = await openSettings();
    expect($("settings-log-dir").textContent).toBe(fake.status.log_dir);
  });
});

describe("test the connection", () => {
  afterEach(cleanup);

  it("shows progress, then the round trip through the tunnel", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.setTunnel(ngrokOnline());
    await openSettings(fake);
    let release!: () => void;
    fake.gates.set("test_connection", new Promise<void>((r) => (release = r)));
    const btn = () => $("tunnel-test") as HTMLButtonElement;
    expect(btn().textContent).toBe("Bağlantıyı test et");
    btn().click();
    await flush();
    expect(btn().disabled).toBe(true);
    expect(btn().getAttribute("aria-busy")).toBe("true");
    expect(btn().textContent).toContain("Test ediliyor");
    expect($$("tunnel-test-result").length).toBe(0);
    // A status change while the test runs keeps the progress.
    await emitEvent("status-changed", { ...fake.status, last_event_at: new Date().toISOString() });
    expect(btn().disabled).toBe(true);
    release();
    await flush();
    expect(fake.calledWith("test_connection")).toEqual([{}]);
    const result = $("tunnel-test-result");
    expect(result.dataset.ok).toBe("true");
    expect(result.textContent).toContain("Test olayı tünelden geri geldi: 840 ms");
    expect(result.textContent).toContain("https://kanca-ofis.ngrok-free.app/webhook");
    expect(btn().disabled).toBe(false);
    expect(btn().textContent).toBe("Bağlantıyı test et");
  });

  it("with the tunnel off, says the test only reached this computer", async () => {
    await openSettings();
    $("tunnel-test").click();
    await flush();
    const result = $("tunnel-test-result");
    expect(result.dataset.ok).toBe("true");
    expect(result.textContent).toContain("yerel dinleyiciden geri geldi: 12 ms");
    expect(result.textContent).toContain("Bulutfon'un ulaşabilmesi için bir yol seçin");
  });

  it("a failed test shows the reason", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.setTunnel(ngrokOnline());
    fake.selfTest = {
      ok: false,
      url: "https://kanca-ofis.ngrok-free.app/webhook",
      http_status: 502,
      round_trip_ms: 311,
      uuid: null,
      error: "the tunnel or proxy could not reach Kanca's listener (HTTP 502)",
    };
    await openSettings(fake);
    $("tunnel-test").click();
    await flush();
    const result = $("tunnel-test-result");
    expect(result.dataset.ok).toBe("false");
    expect(result.textContent).toContain("Test başarısız: the tunnel or proxy could not reach Kanca's listener (HTTP 502)");
  });

  it("a test that cannot run (listener down) shows as a failure, not a crash", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.failures.set("test_connection", { code: "listener_down", message: "the webhook listener is not running" });
    await openSettings(fake);
    $("tunnel-test").click();
    await flush();
    const result = $("tunnel-test-result");
    expect(result.dataset.ok).toBe("false");
    expect(result.textContent).toContain("Dinleyici çalışmıyor");
    expect(($("tunnel-test") as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("untrusted text in the tunnel's status and results", () => {
  afterEach(cleanup);

  it("errors, URLs and test results render as text", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.first_run_done = false;
    fake.setTunnel({ ...offTunnel(), mode: "ngrok", state: "failed", error: EVIL, retry_in_s: 4 });
    await startTestApp();
    // The guide's note and the sidebar
    expect($("guide-tunnel-note").textContent).toContain(EVIL);
    expect($("sidebar-tunnel").getAttribute("title")).toBe(EVIL);
    noInjectedElements();

    $("nav-settings").click();
    await flush();
    expect($("tunnel-error").textContent).toBe(`Neden: ${EVIL}`);
    noInjectedElements();

    const evilUrl = `https://x.example/${EVIL}`;
    await emitEvent("status-changed", statusWith(onlineTunnel("own_url", evilUrl, true)));
    expect($("tunnel-public-url").textContent).toBe(evilUrl);
    expect($("settings-webhook-url").textContent).toBe(pasted(evilUrl));
    noInjectedElements();

    fake.selfTest = { ok: false, url: evilUrl, http_status: null, round_trip_ms: 1, uuid: null, error: EVIL };
    $("tunnel-test").click();
    await flush();
    expect($("tunnel-test-result").textContent).toContain(`Test başarısız: ${EVIL}`);
    expect($("tunnel-test-result").textContent).toContain(evilUrl);
    noInjectedElements();

    fake.failures.set("save_tunnel_settings", { code: "invalid_url", message: EVIL });
    choose("own_url");
    type(input("tunnel-own-url"), EVIL);
    expect($("tunnel-forward").textContent).toContain(EVIL);
    saveButton().click();
    await flush();
    expect($("tunnel-own-url-error").textContent).toBe(`Bu adres kullanılamıyor: ${EVIL}`);
    noInjectedElements();
  });
});

describe("guide and sidebar follow the tunnel", () => {
  afterEach(cleanup);

  async function openGuide(fake = installFake(new FakeBackend([]))) {
    fake.settings.first_run_done = false;
    await startTestApp();
    return fake;
  }

  it("off: the guide says Bulutfon cannot reach a local-only Kanca and leads to the settings", async () => {
    await openGuide();
    expect($("guide-tunnel-note").dataset.state).toBe("off");
    expect($("guide-tunnel-note").textContent).toContain("yalnızca yerel çalışan bir Kanca'ya ulaşamaz");
    expect($("guide-webhook-url").textContent).toBe(LOCAL_PASTE);
    $("guide-choose-tunnel").click();
    await flush();
    expect($("view-settings")).toBeTruthy();
    expect($("nav-settings").getAttribute("aria-current")).toBe("page");
    // Focus lands on the chosen way, ready for the arrow keys.
    expect(document.activeElement).toBe(radio("off"));
  });

  it("online: the URL to paste is the public one", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.setTunnel(ngrokOnline());
    await openGuide(fake);
    expect($("guide-webhook-url").textContent).toBe(pasted("https://kanca-ofis.ngrok-free.app"));
    expect($("guide-tunnel-note").dataset.state).toBe("online");
    expect($("guide-tunnel-note").textContent).toContain("Bulutfon bu adrese ulaşabilir");
    expect($$("guide-choose-tunnel").length).toBe(0);
    $("guide-webhook-url-copy").click();
    await flush();
    expect(fake.calledWith("copy_text")).toEqual([{ text: pasted("https://kanca-ofis.ngrok-free.app") }]);
  });

  it("follows status-changed: connecting, online with a changing URL, failed", async () => {
    await openGuide();
    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "cloudflared", state: "connecting" }));
    expect($("guide-tunnel-note").dataset.state).toBe("connecting");
    expect($("guide-tunnel-note").textContent).toContain("herkese açık adresle değişir");
    await emitEvent("status-changed", statusWith(onlineTunnel("cloudflared", "https://a-b-c.trycloudflare.com", true)));
    expect($("guide-webhook-url").textContent).toBe(pasted("https://a-b-c.trycloudflare.com"));
    expect($("guide-tunnel-note").textContent).toContain("her seferinde panele yeniden yapıştırmanız gerekir");
    await emitEvent("status-changed", statusWith({ ...offTunnel(), mode: "cloudflared", state: "failed", error: "cloudflared is not installed" }));
    expect($("guide-tunnel-note").dataset.state).toBe("failed");
    expect($("guide-tunnel-note").textContent).toContain("cloudflared is not installed");
    expect($("guide-webhook-url").textContent).toBe(LOCAL_PASTE);
    expect($("guide-choose-tunnel").textContent).toContain("Erişim ayarlarını aç");
  });

  it("the sidebar's tunnel line follows every state", async () => {
    installFake(new FakeBackend([]));
    await startTestApp();
    const line = () => $("sidebar-tunnel");
    expect(line().dataset.state).toBe("off");
    expect(line().textContent).toBe("Tünel kapalı (yalnız bu bilgisayar)");
    const cases: [TunnelStatus, string][] = [
      [{ ...offTunnel(), mode: "ngrok", state: "connecting" }, "Tünel: bağlanıyor"],
      [ngrokOnline(), "Tünel: çevrimiçi"],
      [{ ...offTunnel(), mode: "ngrok", state: "reconnecting", error: "dropped", retry_in_s: 2 }, "Tünel: yeniden bağlanıyor"],
      [{ ...offTunnel(), mode: "ngrok", state: "failed", error: "no network" }, "Tünel hatası"],
      [offTunnel(), "Tünel kapalı (yalnız bu bilgisayar)"],
    ];
    for (const [tunnel, text] of cases) {
      await emitEvent("status-changed", statusWith(tunnel));
      expect(line().dataset.state).toBe(tunnel.state);
      expect(line().textContent).toBe(text);
    }
    await emitEvent("status-changed", statusWith(ngrokOnline()));
    expect(line().getAttribute("title")).toBe("https://kanca-ofis.ngrok-free.app");
  });

  it("the last event line refreshes by itself", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-27T10:00:00Z"));
    const fake = installFake(new FakeBackend([]));
    fake.status.last_event_at = "2026-11-27T09:56:00Z";
    await startTestApp();
    expect($("last-event").textContent).toBe("son olay: 4 dk önce");
    await vi.advanceTimersByTimeAsync(60_000);
    expect($("last-event").textContent).toBe("son olay: 5 dk önce");
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect($("last-event").textContent).toBe("son olay: 1 sa önce");
  });

  it("in English too", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.language = "en";
    fake.setTunnel(ngrokOnline());
    await startTestApp();
    expect($("sidebar-tunnel").textContent).toBe("Tunnel: online");
    $("nav-settings").click();
    await flush();
    expect($("settings-tunnel").textContent).toContain("How Bulutfon reaches Kanca");
    expect($("tunnel-status").textContent).toContain("Online (ngrok)");
    expect($("tunnel-test").textContent).toBe("Test the connection");
  });
});
