// The webhook URL form: one paste (a URL carrying its own secret, the panel's user and password
// left empty) or three (URL, user, password). The guide, Settings and the copy buttons follow
// the choice; a new address needs a confirmation and replaces the old one at once.
import { afterEach, describe, expect, it } from "vitest";
import { FAKE_SECRET } from "../src/dev/fakeBackend";
import { setLanguage } from "../src/lib/i18n";
import { $, $$, cleanup, emitEvent, FakeBackend, flush, installFake, startTestApp } from "./helpers";

const LOCAL_PASTE = `http://127.0.0.1:8497/webhook/${FAKE_SECRET}`;

async function openGuide(fake: FakeBackend) {
  fake.settings.first_run_done = false;
  await startTestApp();
  return fake;
}

async function openSettings(fake: FakeBackend) {
  await startTestApp();
  $("nav-settings").click();
  await flush();
  return fake;
}

const copied = (fake: FakeBackend) => fake.calledWith("copy_text").map((a) => (a as { text: string }).text);

describe("one-paste webhook URL", () => {
  afterEach(() => {
    setLanguage("tr");
    cleanup();
  });

  it("the guide shows one URL with one copy button and says to leave user and password empty", async () => {
    const fake = await openGuide(installFake(new FakeBackend([])));
    expect($("guide-webhook-url").textContent).toBe(LOCAL_PASTE);
    expect($$("guide-user").length).toBe(0);
    expect($$("guide-password").length).toBe(0);
    expect($("guide").textContent).toContain("Kullanıcı adı ve şifre alanlarını boş bırakın");
    expect($("guide-leave-empty").textContent).toContain("bir şey yazmayın");
    expect($("guide").querySelectorAll(".btn-copy").length).toBe(1);
    $("guide-webhook-url-copy").click();
    await flush();
    expect(copied(fake)).toEqual([LOCAL_PASTE]);
  });

  it("the guide in basic-auth form shows today's three values", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.status.webhook_form = "basic_auth";
    await openGuide(fake);
    expect($("guide-webhook-url").textContent).toBe("http://127.0.0.1:8497/webhook");
    expect($("guide-user").textContent).toBe("bulutfon");
    expect($$("guide-leave-empty").length).toBe(0);
    expect($("guide").querySelectorAll(".btn-copy").length).toBe(3);
  });

  it("Settings shows the chosen form, and switching it saves and updates URL, fields and guide", async () => {
    const fake = await openSettings(installFake(new FakeBackend([])));
    expect(($("settings-webhook-form-url_secret") as HTMLInputElement).checked).toBe(true);
    expect($("settings-webhook-url").textContent).toBe(LOCAL_PASTE);
    expect($("settings-leave-empty").textContent).toContain("boş bırakın");
    expect($$("settings-user").length).toBe(0);
    expect($$("settings-regenerate").length).toBe(0);

    $("settings-webhook-form-basic_auth").click();
    await flush();
    expect(fake.calledWith("set_webhook_form")).toEqual([{ form: "basic_auth" }]);
    expect(($("settings-webhook-form-basic_auth") as HTMLInputElement).checked).toBe(true);
    expect($("settings-webhook-url").textContent).toBe("http://127.0.0.1:8497/webhook");
    expect($("settings-user").textContent).toBe("bulutfon");
    expect($$("settings-leave-empty").length).toBe(0);
    expect($$("settings-rotate-secret").length).toBe(0);
    expect($("settings-saved").textContent).toContain("Kaydedildi");
    $("settings-webhook-url-copy").click();
    await flush();
    expect(copied(fake)).toEqual(["http://127.0.0.1:8497/webhook"]);

    $("nav-guide").click();
    await flush();
    expect($("guide-user").textContent).toBe("bulutfon");
  });

  it("a failed switch shows the error and keeps the form in force", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.failures.set("set_webhook_form", { code: "settings", message: "config.toml yazılamadı" });
    await openSettings(fake);
    $("settings-webhook-form-basic_auth").click();
    await flush();
    expect($("error-banner").textContent).toContain("Ayarlar kaydedilemedi");
    expect(($("settings-webhook-form-url_secret") as HTMLInputElement).checked).toBe(true);
    expect($("settings-webhook-url").textContent).toBe(LOCAL_PASTE);
  });

  it("a new address needs a confirmation that the old one stops at once and must be replaced in the panel", async () => {
    const fake = await openSettings(installFake(new FakeBackend([])));
    expect($("settings-rotate-secret").textContent).toContain("Yeni adres oluştur");
    $("settings-rotate-secret").click();
    const dialog = $("rotate-dialog");
    expect(dialog.getAttribute("role")).toBe("alertdialog");
    expect(dialog.textContent).toContain("hemen çalışmaz olur");
    expect(dialog.textContent).toContain("Bulutfon panelinde");
    $("confirm-cancel").click();
    await flush();
    expect(fake.calledWith("rotate_webhook_secret").length).toBe(0);
    expect($("settings-webhook-url").textContent).toBe(LOCAL_PASTE);

    $("settings-rotate-secret").click();
    $("confirm-ok").click();
    await flush();
    expect(fake.calledWith("rotate_webhook_secret")).toEqual([{}]);
    const fresh = $("settings-webhook-url").textContent!;
    expect(fresh).not.toBe(LOCAL_PASTE);
    expect(fresh).toMatch(/^http:\/\/127\.0\.0\.1:8497\/webhook\/[A-Za-z0-9_-]{32}$/);
    expect($("toast").textContent).toContain("Bulutfon panelindeki adresi değiştirmeyi unutmayın");
    $("settings-webhook-url-copy").click();
    await flush();
    expect(copied(fake)).toEqual([fresh]);
    // The guide shows the new URL too.
    $("nav-guide").click();
    await flush();
    expect($("guide-webhook-url").textContent).toBe(fresh);
  });

  it("a secret from the environment cannot be rotated here", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.status.secret_source = "environment";
    await openSettings(fake);
    expect(($("settings-rotate-secret") as HTMLButtonElement).disabled).toBe(true);
    expect($("settings-secret-env").textContent).toContain("KANCA_WEBHOOK_SECRET");
  });

  it("reads in English", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.language = "en";
    await openSettings(fake);
    expect($("settings-webhook-form").textContent).toContain("One address (recommended)");
    expect($("settings-leave-empty").textContent).toContain("Leave the HTTP basic authentication fields");
    $("settings-rotate-secret").click();
    expect($("rotate-dialog").textContent).toContain("The old address stops working at once");
    $("confirm-cancel").click();
    await flush();
  });

  it("a URL with markup in it is shown as text", async () => {
    const fake = installFake(new FakeBackend([]));
    await openSettings(fake);
    const evil = `https://x.example/<img src=x onerror=alert(1)>/webhook/${FAKE_SECRET}`;
    await emitEvent("status-changed", { ...fake.status, secret_webhook_url: evil });
    expect($("settings-webhook-url").textContent).toBe(evil);
    expect(document.querySelectorAll("img").length).toBe(0);
    $("nav-guide").click();
    await flush();
    expect($("guide-webhook-url").textContent).toBe(evil);
    expect(document.querySelectorAll("img").length).toBe(0);
  });
});
