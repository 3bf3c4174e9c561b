// Bulutfon's API in the window: the token pasted in Settings (never shown back), the account and
// a backfill's progress, route steps with Bulutfon's names, and "Geri ara" asked first.
import { afterEach, describe, expect, it } from "vitest";
import { routeSummary } from "../src/lib/format";
import { sampleCall } from "../src/dev/sample";
import { $, cleanup, emitEvent, FakeBackend, flush, installFake, startTestApp } from "./helpers";

const NOW_US = Date.now() * 1000;

function typeToken(value: string): void {
  const input = $("settings-api-token") as HTMLInputElement;
  input.value = value;
  $("settings-api-connect").click();
}

describe("Bulutfon API", () => {
  afterEach(cleanup);

  it("connects with a pasted token, says the account, and empties the field", async () => {
    const fake = new FakeBackend();
    installFake(fake);
    const app = await startTestApp();
    app.navigate("settings");
    await flush();
    expect($("settings-api-state").textContent).toBe("Bağlı değil.");
    typeToken("wrong");
    await flush(8);
    expect($("error-banner").textContent).toContain("Bulutfon API anahtarı kabul edilmedi");
    expect(($("settings-api-token") as HTMLInputElement).value).toBe("wrong");
    typeToken("  demo-token ");
    await flush(8);
    expect(fake.calledWith("bulutfon_connect").at(-1)).toEqual({ token: "demo-token" });
    expect($("settings-api-state").textContent).toContain("Bağlı: ornekticaret");
    expect(document.querySelector('[data-testid="settings-api-token"]')).toBeNull();
    // The extension "Geri ara" rings first.
    const ext = $("settings-api-extension") as HTMLInputElement;
    ext.value = "1004";
    ext.dispatchEvent(new Event("change", { bubbles: true }));
    await flush(8);
    expect(fake.bulutfon.extension).toBe("1004");
  });

  it("shows a backfill's progress and a refused token", async () => {
    const fake = new FakeBackend();
    fake.bulutfon = { ...fake.bulutfon, connected: true, account: "ornekticaret" };
    fake.status = { ...fake.status, api: { state: "syncing", account: "ornekticaret", last_sync: null, progress: { pages: 3, total_pages: 12, records: 300 }, error: null, last_added: 0 } };
    installFake(fake);
    const app = await startTestApp();
    app.navigate("settings");
    await flush(8);
    expect($("settings-api-state").textContent).toBe("Arama kayıtları okunuyor: sayfa 3 / 12, 300 kayıt");
    expect(($("settings-api-progress") as HTMLProgressElement).value).toBe(3);
    fake.status = { ...fake.status, api: { ...fake.status.api, state: "bad_token", progress: null, error: "refused" } };
    fake.emit("status-changed", fake.status);
    await flush(8);
    expect($("settings-api-state").textContent).toContain("kabul etmedi");
    // A new token can be pasted again.
    expect(document.querySelector('[data-testid="settings-api-token"]')).not.toBeNull();
  });

  it("lets the user name a group, and empties back to Bulutfon's name", async () => {
    const fake = new FakeBackend();
    fake.bulutfon = { ...fake.bulutfon, connected: true, account: "ornekticaret" };
    installFake(fake);
    const app = await startTestApp();
    app.navigate("settings");
    await flush(8);
    const details = $("settings-names") as HTMLDetailsElement;
    details.open = true;
    details.dispatchEvent(new Event("toggle"));
    await flush(8);
    const group = $("name-group-101") as HTMLInputElement;
    expect(group.placeholder).toBe("Teknik Destek");
    expect(($("name-did-908508850000") as HTMLInputElement).getAttribute("aria-label")).toBe("Hat 0 850 885 00 00");
    group.value = " Destek Ekibi ";
    group.dispatchEvent(new Event("change", { bubbles: true }));
    await flush(8);
    expect(fake.calledWith("set_name").at(-1)).toEqual({ kind: "group", number: "101", name: "Destek Ekibi" });
    group.value = "";
    group.dispatchEvent(new Event("change", { bubbles: true }));
    await flush(8);
    expect(fake.calledWith("set_name").at(-1)).toEqual({ kind: "group", number: "101", name: null });
  });

  it("names route steps as Bulutfon does", () => {
    const route = [
      { type: "menu" as const, destination: "10", at: null },
      { type: "group" as const, destination: "101", at: null, name: "Teknik Destek" },
      { type: "extension" as const, destination: "1004", at: null, name: "<b>Şule</b>" },
    ];
    expect(routeSummary(route)).toBe("Menü 10 → Grup 101 · Teknik Destek → Dahili 1004 · <b>Şule</b>");
  });

  it("'Geri ara' asks first, then calls the other party through Bulutfon", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "c1", startedAtUs: NOW_US })]);
    installFake(fake);
    let app = await startTestApp();
    app.openCall("c1");
    await flush();
    // Not connected: no button.
    expect(document.querySelector('[data-testid="detail-call-back"]')).toBeNull();
    cleanup();

    fake.status = { ...fake.status, api: { state: "ok", account: "ornekticaret", last_sync: null, progress: null, error: null, last_added: 0 } };
    fake.bulutfon = { ...fake.bulutfon, connected: true, extension: "1000" };
    installFake(fake);
    app = await startTestApp();
    app.openCall("c1");
    await flush();
    $("detail-call-back").click();
    await flush();
    const dialog = $("call-back-dialog");
    expect(dialog.textContent).toContain("Bulutfon önce sizin dahilinizi çaldırır");
    expect(fake.calledWith("call_back")).toEqual([]);
    (dialog.querySelector("button.primary, button[data-variant='primary'], button:last-of-type") as HTMLButtonElement).click();
    await flush(8);
    expect(fake.calledWith("call_back").length).toBe(1);
    expect(String((fake.calledWith("call_back")[0] as { number: string }).number)).toMatch(/^\+?90\d{10}$/);
  });

  it("a pop-up's 'Geri ara' opens the call and asks there", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "c1", startedAtUs: NOW_US })]);
    fake.status = { ...fake.status, api: { state: "ok", account: "ornekticaret", last_sync: null, progress: null, error: null, last_added: 0 } };
    installFake(fake);
    await startTestApp();
    await emitEvent("open-call", { uuid: "c1", then: "call_back" });
    await flush(8);
    expect($("call-back-dialog").textContent).toContain("0 532 444 55 66");
    expect(fake.calledWith("call_back")).toEqual([]);
  });
});
