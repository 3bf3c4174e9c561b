// A call's recording and a fax's pages in the detail: offered only with Bulutfon's API
// connected, loaded from Kanca's own scheme, saved through the backend.
import { afterEach, describe, expect, it } from "vitest";
import { sampleCall, sampleDetail } from "../src/dev/sample";
import { $, cleanup, FakeBackend, flush, installFake, startTestApp } from "./helpers";

const NOW_US = Date.now() * 1000;
const CONNECTED = { state: "ok" as const, account: "ornekticaret", last_sync: null, progress: null, error: null, last_added: 0 };

describe("recordings and faxes", () => {
  afterEach(cleanup);

  it("offers nothing without the API, and the recording only for a recorded call", async () => {
    const recorded = { ...sampleCall({ uuid: "rec", startedAtUs: NOW_US }), recorded: true };
    const plain = sampleCall({ uuid: "plain", startedAtUs: NOW_US - 1_000_000 });
    const fake = new FakeBackend([recorded, plain]);
    fake.details.set("rec", { ...sampleDetail(recorded), recorded: true });
    fake.details.set("plain", { ...sampleDetail(plain), recorded: false });
    installFake(fake);
    let app = await startTestApp();
    app.openCall("rec");
    await flush();
    expect(document.querySelector('[data-testid="detail-listen"]')).toBeNull();
    cleanup();

    fake.status = { ...fake.status, api: CONNECTED };
    installFake(fake);
    app = await startTestApp();
    app.openCall("plain");
    await flush();
    expect(document.querySelector('[data-testid="detail-listen"]')).toBeNull();
    app.openCall("rec");
    await flush();
    expect($("detail-listen").textContent).toBe("Kaydı dinle");
  });

  it("shows a fax's pages from Kanca's scheme and saves it as PDF", async () => {
    const fax = sampleCall({ uuid: "fax-1", kind: "fax", state: "ended", startedAtUs: NOW_US });
    const fake = new FakeBackend([fax]);
    fake.status = { ...fake.status, api: CONNECTED };
    fake.bulutfon = { ...fake.bulutfon, connected: true };
    installFake(fake);
    const app = await startTestApp();
    app.openCall("fax-1");
    await flush();
    $("detail-show-fax").click();
    await flush(8);
    const pages = [...document.querySelectorAll<HTMLImageElement>('[data-testid="fax-page"]')];
    expect(pages.map((p) => p.getAttribute("src"))).toEqual(["kanca-media://localhost/fax/fax-1/1", "kanca-media://localhost/fax/fax-1/2"]);
    expect(pages[1].alt).toBe("Sayfa 2 / 2");
    $("detail-save-fax-pdf").click();
    await flush(8);
    expect(fake.calledWith("save_fax")).toEqual([{ uuid: "fax-1", pdf: true }]);
    expect(document.body.textContent).toContain("Kaydedildi: /home/resepsiyon/İndirilenler/faks-fax-1.pdf");
  });

  it("on an office desk, offers the recording when its receiver has the API, and not otherwise", async () => {
    const recorded = { ...sampleCall({ uuid: "rec", startedAtUs: NOW_US }), recorded: true };
    const fake = new FakeBackend([recorded]);
    fake.details.set("rec", { ...sampleDetail(recorded), recorded: true });
    const deskStatus = (media: boolean) => ({
      role: "desk" as const,
      desk: { state: "connected" as const, receiver: "192.168.1.10:8498", name: "Resepsiyon", error: null, since: null, caught_up: 0, media, no_phone_book: false },
      receiver: null,
    });
    for (const media of [false, true]) {
      fake.status = { ...fake.status, office: deskStatus(media) };
      installFake(fake);
      const app = await startTestApp();
      app.openCall("rec");
      await flush();
      expect(document.querySelector('[data-testid="detail-listen"]') !== null).toBe(media);
      cleanup();
    }
  });
});
