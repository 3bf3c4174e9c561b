// The CRM link: set in Settings, opened from a call's detail ("CRM'de aç").
import { afterEach, describe, expect, it } from "vitest";
import { sampleCall } from "../src/dev/sample";
import { $, cleanup, FakeBackend, flush, installFake, startTestApp } from "./helpers";

const NOW_US = Date.now() * 1000;

function setCrm(value: string): void {
  const input = $("settings-crm-url") as HTMLInputElement;
  input.value = value;
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

describe("CRM link", () => {
  afterEach(cleanup);

  it("is saved from Settings; a link that is not http(s) is refused and said", async () => {
    const fake = new FakeBackend();
    installFake(fake);
    const app = await startTestApp();
    app.navigate("settings");
    await flush();
    expect(($("settings-crm-url") as HTMLInputElement).value).toBe("");
    setCrm("javascript:alert(1)//{number}");
    await flush(8);
    expect($("error-banner").textContent).toContain("Adres kullanılamıyor");
    expect(fake.settings.crm_url).toBeNull();
    setCrm("  https://crm.example.com/ara?tel={e164}  ");
    await flush(8);
    expect(fake.settings.crm_url).toBe("https://crm.example.com/ara?tel={e164}");
    setCrm("");
    await flush(8);
    expect(fake.settings.crm_url).toBeNull();
  });

  it("'CRM'de aç' shows only with a link set and opens the call through the backend", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "c1", startedAtUs: NOW_US })]);
    installFake(fake);
    let app = await startTestApp();
    app.openCall("c1");
    await flush();
    expect(document.querySelector('[data-testid="detail-open-crm"]')).toBeNull();
    cleanup();

    fake.settings = { ...fake.settings, crm_url: "https://crm.example.com/{e164}" };
    installFake(fake);
    app = await startTestApp();
    app.openCall("c1");
    await flush();
    $("detail-open-crm").click();
    await flush();
    expect(fake.calledWith("open_in_crm")).toEqual([{ uuid: "c1" }]);
  });
});
