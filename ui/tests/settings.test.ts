import { afterEach, describe, expect, it } from "vitest";
import { $, $$, cleanup, emitEvent, FakeBackend, flush, installFake, startTestApp, type } from "./helpers";
import { defaultStatus } from "../src/dev/fakeBackend";
import { setLanguage } from "../src/lib/i18n";

/** A fake showing the basic-auth form (URL, user, password): today's three fields. */
function basicFake(): FakeBackend {
  const fake = installFake(new FakeBackend([]));
  fake.status.webhook_form = "basic_auth";
  return fake;
}

async function openSettings(fake = installFake(new FakeBackend([]))) {
  const app = await startTestApp();
  $("nav-settings").click();
  await flush();
  return { fake, app };
}

const lastSaved = (fake: FakeBackend) => (fake.calledWith("save_settings").at(-1) as { settings: Record<string, unknown> }).settings;

describe("settings", () => {
  afterEach(cleanup);

  it("shows the listener, webhook URL, user; the password is hidden until asked", async () => {
    const { fake } = await openSettings(basicFake());
    expect($("settings-listener").dataset.state).toBe("running");
    expect($("settings-listener").textContent).toContain("127.0.0.1:8497");
    expect($("settings-webhook-url").textContent).toBe("http://127.0.0.1:8497/webhook");
    expect($("settings-user").textContent).toBe("bulutfon");
    expect($("settings-password").textContent).not.toContain(fake.status.password);
    expect($("settings-password").textContent).toMatch(/^•+$/);
    $("settings-password-toggle").click();
    expect($("settings-password").textContent).toBe(fake.status.password);
    expect($("settings-password-toggle").getAttribute("aria-pressed")).toBe("true");
    expect($("settings-data-dir").textContent).toBe(fake.status.data_dir);
  });

  it("copy buttons copy the real values", async () => {
    const { fake } = await openSettings(basicFake());
    $("settings-webhook-url-copy").click();
    await flush();
    $("settings-user-copy").click();
    await flush();
    $("settings-password-copy").click();
    await flush();
    expect(fake.calledWith("copy_text")).toEqual([
      { text: "http://127.0.0.1:8497/webhook" },
      { text: "bulutfon" },
      { text: fake.status.password },
    ]);
  });

  it("a failed listener shows its error and hint", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.status.listener = { state: "failed", addr: null, error: "address in use", hint: "Close the other Kanca" };
    fake.status.webhook_url = null;
    await openSettings(fake);
    expect($("settings-listener").dataset.state).toBe("failed");
    expect($("settings-listener-error").textContent).toBe("address in use");
    expect($("settings-listener-hint").textContent).toBe("Close the other Kanca");
    expect($("listener-status").dataset.state).toBe("failed");
  });

  it("do not disturb saves at once and confirms", async () => {
    const { fake } = await openSettings();
    const dnd = $("settings-dnd") as HTMLInputElement;
    expect(dnd.checked).toBe(false);
    expect(dnd.getAttribute("role")).toBe("switch");
    dnd.click();
    await flush();
    expect(lastSaved(fake)).toMatchObject({ dnd: true });
    expect($("settings-saved").textContent).toContain("Kaydedildi");
    expect($("sidebar-dnd").getAttribute("aria-pressed")).toBe("true");
    expect(($("settings-dnd") as HTMLInputElement).checked).toBe(true);
  });

  it("the sidebar DND toggle saves too", async () => {
    const fake = installFake(new FakeBackend([]));
    await startTestApp();
    $("sidebar-dnd").click();
    await flush();
    expect(lastSaved(fake)).toMatchObject({ dnd: true });
    expect($("sidebar-dnd").textContent).toContain("duraklatıldı");
  });

  it("pop-up events, only-my-extensions and autostart save the whole settings object", async () => {
    const { fake } = await openSettings();
    ($("settings-popup-outgoing") as HTMLInputElement).click();
    await flush();
    expect(lastSaved(fake)).toEqual({ ...fake.settings, popup_events: { call_init: true, routed: true, missed: true, fax: true, outgoing: true } });
    ($("settings-popup-call_init") as HTMLInputElement).click();
    await flush();
    expect(lastSaved(fake).popup_events).toMatchObject({ call_init: false, outgoing: true });
    ($("settings-only-mine") as HTMLInputElement).click();
    await flush();
    expect(lastSaved(fake)).toMatchObject({ only_my_extensions: true });
    ($("settings-autostart") as HTMLInputElement).click();
    await flush();
    expect(lastSaved(fake)).toMatchObject({ autostart: false });
  });

  it("edits the extension list", async () => {
    const { fake } = await openSettings();
    const input = () => $("settings-extension-input") as HTMLInputElement;
    input().value = "1000";
    $("settings-extension-add").click();
    await flush();
    expect(lastSaved(fake).my_extensions).toEqual(["1000"]);
    input().value = "1001";
    input().dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await flush();
    expect(lastSaved(fake).my_extensions).toEqual(["1000", "1001"]);
    expect($$("settings-extension-remove").length).toBe(2);

    const saves = fake.calledWith("save_settings").length;
    input().value = "10a";
    $("settings-extension-add").click();
    await flush();
    expect(fake.calledWith("save_settings").length).toBe(saves);
    expect(document.querySelector(".field-error")!.textContent).toContain("rakam");
    input().value = "1000";
    $("settings-extension-add").click();
    await flush();
    expect(document.querySelector(".field-error")!.textContent).toContain("zaten");

    $$("settings-extension-remove")[0]!.click();
    await flush();
    expect(lastSaved(fake).my_extensions).toEqual(["1001"]);
  });

  it("a new password needs confirmation that mentions the panel", async () => {
    const { fake } = await openSettings(basicFake());
    $("settings-regenerate").click();
    const dialog = $("regenerate-dialog");
    expect(dialog.getAttribute("role")).toBe("alertdialog");
    expect(dialog.textContent).toContain("Bulutfon panelinde");
    $("confirm-cancel").click();
    await flush();
    expect(fake.calledWith("regenerate_credentials").length).toBe(0);

    const old = fake.status.password;
    $("settings-regenerate").click();
    $("confirm-ok").click();
    await flush();
    expect(fake.calledWith("regenerate_credentials").length).toBe(1);
    $("settings-password-toggle").click();
    expect($("settings-password").textContent).not.toBe(old);
    expect($("settings-password").textContent).toBe(fake.status.password);
  });

  it("Esc closes the confirmation", async () => {
    const { fake } = await openSettings(basicFake());
    $("settings-regenerate").click();
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true }));
    await flush();
    expect($$("regenerate-dialog").length).toBe(0);
    expect(fake.calledWith("regenerate_credentials").length).toBe(0);
  });

  it("credentials from the environment cannot be regenerated here", async () => {
    const fake = basicFake();
    fake.status.credential_source = "environment";
    await openSettings(fake);
    expect(($("settings-regenerate") as HTMLButtonElement).disabled).toBe(true);
    expect($("settings-credentials-env")).toBeTruthy();
  });

  it("a failed save shows the error and reverts", async () => {
    const { fake } = await openSettings();
    fake.failures.set("save_settings", { code: "settings", message: "cannot write config.toml: disk full" });
    ($("settings-dnd") as HTMLInputElement).click();
    await flush();
    expect($("error-banner").textContent).toContain("Ayarlar kaydedilemedi");
    expect(($("settings-dnd") as HTMLInputElement).checked).toBe(false);
  });

  it("status-changed updates the page and the sidebar", async () => {
    await openSettings();
    await emitEvent("status-changed", { ...defaultStatus(), secret_webhook_url: "http://127.0.0.1:9000/webhook/new-secret", dnd: true, last_event_at: new Date(Date.now() - 3 * 60_000).toISOString() });
    expect($("settings-webhook-url").textContent).toBe("http://127.0.0.1:9000/webhook/new-secret");
    expect(($("settings-dnd") as HTMLInputElement).checked).toBe(true);
    expect($("last-event").textContent).toBe("son olay: 3 dk önce");
    expect($("sidebar-dnd").getAttribute("aria-pressed")).toBe("true");
  });
});

// Status changes arrive with every webhook: the page changes what differs and keeps its
// elements, so focus, caret, typed text and WebDriver's element handles survive.
describe("updates in place", () => {
  afterEach(() => {
    setLanguage("tr");
    cleanup();
  });

  it("a half-typed extension and the other chips survive a status change and a save", async () => {
    const { fake } = await openSettings();
    const field = $("settings-extension-input") as HTMLInputElement;
    field.value = "1000";
    $("settings-extension-add").click();
    await flush();
    const chip = $("settings-extensions").querySelector('[data-ext="1000"]')!;
    field.focus();
    type(field, "10");
    await emitEvent("status-changed", { ...fake.status, last_event_at: new Date().toISOString() });
    expect($("settings-extension-input")).toBe(field);
    expect(field.value).toBe("10");
    expect(document.activeElement).toBe(field);
    type(field, "1001");
    $("settings-extension-add").click();
    await flush();
    expect(lastSaved(fake).my_extensions).toEqual(["1000", "1001"]);
    expect($("settings-extensions").querySelector('[data-ext="1000"]')).toBe(chip);
    expect(field.value).toBe("");
    expect(document.activeElement).toBe(field);
  });

  it("switches, radios and copy buttons stay put while the status changes", async () => {
    const { fake } = await openSettings(basicFake());
    const ids = ["settings-dnd", "settings-autostart", "settings-popup-missed", "settings-webhook-form-basic_auth", "settings-password-toggle", "settings-webhook-url-copy", "tunnel-test", "tunnel-mode-off", "tunnel-save"];
    const before = ids.map((id) => $(id));
    const toggle = $("settings-password-toggle");
    toggle.focus();
    toggle.click();
    expect($("settings-password").textContent).toBe(fake.status.password);
    await emitEvent("status-changed", { ...fake.status, password: "a-new-password", last_event_at: new Date().toISOString() });
    expect(ids.map((id) => $(id))).toEqual(before);
    expect(document.activeElement).toBe(toggle);
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    expect($("settings-password").textContent).toBe("a-new-password");
  });

  it("the connection test's button is the one that shows the progress and the result, and keeps the focus", async () => {
    const fake = installFake(new FakeBackend([]));
    await openSettings(fake);
    let release!: () => void;
    fake.gates.set("test_connection", new Promise<void>((r) => (release = r)));
    const btn = $("tunnel-test") as HTMLButtonElement;
    btn.focus();
    btn.click();
    await flush();
    expect($("tunnel-test")).toBe(btn);
    expect(btn.disabled).toBe(true);
    release();
    await flush();
    expect($("tunnel-test")).toBe(btn);
    expect(btn.disabled).toBe(false);
    expect(btn.querySelector(".spinner")).toBeNull();
    expect(btn.querySelector("svg")!.getAttribute("data-icon")).toBe("send");
    expect(document.activeElement).toBe(btn);
    expect($("tunnel-test-result").dataset.ok).toBe("true");
  });

  it("a language switch rebuilds the page in the new language with the focus on the language menu", async () => {
    await openSettings();
    const field = $("settings-extension-input") as HTMLInputElement;
    type(field, "12");
    const select = $("settings-language") as HTMLSelectElement;
    select.focus();
    select.value = "en";
    select.dispatchEvent(new Event("change"));
    await flush();
    expect($("settings-tunnel").textContent).toContain("How Bulutfon reaches Kanca");
    expect($("sidebar-dnd").textContent).not.toContain("duraklat");
    expect(document.activeElement).toBe($("settings-language"));
    expect(($("settings-language") as HTMLSelectElement).value).toBe("en");
    // What was half typed is still there.
    expect(($("settings-extension-input") as HTMLInputElement).value).toBe("12");
  });
});
