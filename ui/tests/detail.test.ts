import { afterEach, describe, expect, it } from "vitest";
import { sampleCall, sampleCalls, sampleDetail } from "../src/dev/sample";
import type { CallDetail } from "../src/lib/types";
import { $, $$, cleanup, emitEvent, FakeBackend, flush, installFake, key, startTestApp } from "./helpers";

const NOW_US = Date.now() * 1000;

function detailFor(uuid: string, patch: Partial<CallDetail> = {}): CallDetail {
  return { ...sampleDetail(sampleCall({ uuid, startedAtUs: NOW_US - 120e6 })), ...patch };
}

describe("call detail", () => {
  afterEach(cleanup);

  it("open-call opens the detail even from another view, and Esc returns there", async () => {
    const fake = installFake(new FakeBackend(sampleCalls(20, NOW_US)));
    fake.details.set("d-1", detailFor("d-1"));
    await startTestApp();
    $("nav-settings").click();
    await emitEvent("open-call", { uuid: "d-1" });
    const detail = $("call-detail");
    expect(detail.dataset.uuid).toBe("d-1");
    expect(fake.calledWith("get_call")).toEqual([{ uuid: "d-1" }]);
    expect(document.activeElement).toBe($("detail-back"));
    key(document.activeElement!, "Escape");
    expect($$("call-detail").length).toBe(0);
    expect($("settings-webhook-url")).toBeTruthy();
  });

  it("shows parties, status, times, duration, hang-up cause, route, timeline and call flow", async () => {
    const fake = installFake(new FakeBackend([]));
    const d = detailFor("d-2", { hangup_cause: "NORMAL_CLEARING", hangup_detail: "recv_bye", duration_s: 65 });
    fake.details.set("d-2", d);
    const app = await startTestApp();
    app.openCall("d-2");
    await flush();
    expect($("detail-caller").textContent).toBe("0 532 444 55 66");
    expect($("detail-callee").textContent).toBe("0 850 885 00 00");
    expect($("detail-status").textContent).toBe("Cevaplandı");
    expect($("detail-duration").textContent).toBe("1:05");
    expect($("detail-hangup").textContent).toBe("Normal şekilde sonlandı (arayan kapattı)");
    expect($("detail-route").textContent).toContain("Menü 10");
    expect($("detail-route").textContent).toContain("Dahili 1000");
    expect($("detail-started").textContent).toMatch(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$/);

    const labels = $$("timeline-event").map((li) => li.querySelector(".timeline-label")!.textContent);
    expect(labels).toEqual(["Arama başladı", "Menüye yönlendirildi", "Gruba yönlendirildi", "Dahiliye yönlendirildi", "Arama bitti"]);
    expect($$("timeline-event")[0]!.querySelector("time")!.textContent).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    expect($$("callflow-leg").length).toBe(3);
    expect($$("raw-payload").length).toBe(5);
  });

  it("unknown event types are shown as received; missed calls say so", async () => {
    const fake = installFake(new FakeBackend([]));
    const base = detailFor("d-3", { state: "missed", missed: true, hangup_cause: "ORIGINATOR_CANCEL", hangup_detail: null });
    base.events.push({ ...base.events[0]!, type: "unknown", received_type: "voicemail_left", raw: "a=1&b=2" });
    fake.details.set("d-3", base);
    const app = await startTestApp();
    app.openCall("d-3");
    await flush();
    expect($("detail-status").textContent).toBe("Cevapsız");
    expect($("detail-hangup").textContent).toBe("Arayan vazgeçti");
    const labels = $$("timeline-event").map((li) => li.querySelector(".timeline-label")!.textContent);
    expect(labels.at(-1)).toBe("voicemail_left");
    expect($$("raw-payload").at(-1)!.querySelector("code")!.textContent).toBe("a=1&b=2");
  });

  it("raw payloads are collapsible, pretty-printed, and copy the body as received", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.details.set("d-4", detailFor("d-4"));
    const app = await startTestApp();
    app.openCall("d-4");
    await flush();
    const raw = $$("raw-payload")[0] as HTMLDetailsElement;
    expect(raw.tagName).toBe("DETAILS");
    expect(raw.open).toBe(false);
    const shown = raw.querySelector("code")!.textContent!;
    expect(shown).toContain('\n  "event_type": "call_init"');
    $("raw-copy", raw).click();
    await flush();
    const original = fake.details.get("d-4")!.events[0]!.raw;
    expect(fake.calledWith("copy_text").at(-1)).toEqual({ text: original });
  });

  it("copies the number (E.164) and opens the Bulutfon panel link", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.details.set("d-5", detailFor("d-5"));
    const app = await startTestApp();
    app.openCall("d-5");
    await flush();
    $("detail-copy-number").click();
    await flush();
    expect(fake.calledWith("copy_text").at(-1)).toEqual({ text: "+905324445566" });
    expect($("detail-copy-number").textContent).toContain("Kopyalandı");
    $("detail-open-panel").click();
    await flush();
    expect(fake.calledWith("open_url").at(-1)).toEqual({ url: "https://panel.bulutfon.com/cdrs/d-5" });
  });

  it("copies the display number when there is no E.164; hides the panel link when it is not a web link", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.details.set("d-6", detailFor("d-6", { caller: "Gizli", caller_e164: null, cdr_url: "javascript:alert(1)" }));
    const app = await startTestApp();
    app.openCall("d-6");
    await flush();
    $("detail-copy-number").click();
    await flush();
    expect(fake.calledWith("copy_text").at(-1)).toEqual({ text: "Gizli" });
    expect($$("detail-open-panel").length).toBe(0);
  });

  it("a call that is not stored yet opens when it arrives", async () => {
    const fake = installFake(new FakeBackend([]));
    const app = await startTestApp();
    app.openCall("late");
    await flush();
    expect($("detail-missing")).toBeTruthy();
    fake.upsert(sampleCall({ uuid: "late", startedAtUs: NOW_US }));
    await flush();
    expect($("detail-caller").textContent).toBe("0 532 444 55 66");
  });

  it("a live change of the open call refreshes it", async () => {
    const fake = installFake(new FakeBackend([]));
    const ringing = sampleCall({ uuid: "live", startedAtUs: NOW_US, state: "ringing" });
    fake.upsert(ringing);
    const app = await startTestApp();
    app.openCall("live");
    await flush();
    expect($("detail-status").textContent).toBe("Çalıyor");
    fake.upsert(sampleCall({ uuid: "live", startedAtUs: NOW_US, state: "answered" }), "call_hangup");
    await flush();
    expect($("detail-status").textContent).toBe("Cevaplandı");
  });

  it("test calls carry a Test badge in the row and the detail", async () => {
    const fake = installFake(new FakeBackend([sampleCall({ uuid: "t-1", test: true, startedAtUs: NOW_US })]));
    const app = await startTestApp();
    expect($("call-row").querySelector('[data-testid="test-badge"]')!.textContent).toBe("Test");
    app.openCall("t-1");
    await flush();
    expect($("test-badge", $("call-detail")).textContent).toBe("Test");
    expect(fake.calledWith("get_call")).toEqual([{ uuid: "t-1" }]);
  });
});
