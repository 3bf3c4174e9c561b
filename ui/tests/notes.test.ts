// A note and tags on a call: edited and saved in the call detail, shown in the list.
import { afterEach, describe, expect, it } from "vitest";
import { sampleCall } from "../src/dev/sample";
import { $, $$, cleanup, FakeBackend, flush, installFake, rowUuids, searches, startTestApp } from "./helpers";

const NOW_US = Date.now() * 1000;

function fill(testid: string, value: string): void {
  const el = $(testid) as HTMLInputElement;
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

describe("notes and tags on a call", () => {
  afterEach(cleanup);

  it("are saved from the detail and shown in the list", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "n1", startedAtUs: NOW_US })]);
    installFake(fake);
    const app = await startTestApp();
    app.openCall("n1");
    await flush();
    expect(($("detail-note") as HTMLTextAreaElement).value).toBe("");
    expect(($("detail-note-save") as HTMLButtonElement).disabled).toBe(true);
    fill("detail-note", "Fatura sorusu, yarın geri aranacak");
    fill("detail-tags", "fatura, geri ara, fatura");
    $("detail-note-save").click();
    await flush(8);
    expect(fake.calledWith("set_call_note")).toEqual([{ uuid: "n1", note: "Fatura sorusu, yarın geri aranacak" }]);
    expect(fake.calledWith("set_call_tags")).toEqual([{ uuid: "n1", tags: ["fatura", "geri ara"] }]);
    expect($("toast").textContent).toContain("Not kaydedildi");
    expect(($("detail-tags") as HTMLInputElement).value).toBe("fatura, geri ara");
    $("detail-back").click();
    await flush(8);
    expect($$("row-tag").map((e) => e.textContent)).toEqual(["fatura", "geri ara"]);
    expect($("row-note").textContent).toBe("Fatura sorusu, yarın geri aranacak");
  });

  it("keeps what is being typed when the call changes meanwhile", async () => {
    const call = sampleCall({ uuid: "n2", startedAtUs: NOW_US, state: "ringing" });
    const fake = new FakeBackend([call]);
    installFake(fake);
    const app = await startTestApp();
    app.openCall("n2");
    await flush();
    fill("detail-note", "yarım kalmış not");
    fake.upsert({ ...call, state: "answered", answered: true }, "call_hangup");
    await flush(8);
    expect(($("detail-note") as HTMLTextAreaElement).value).toBe("yarım kalmış not");
    expect(($("detail-note-save") as HTMLButtonElement).disabled).toBe(false);
  });

  it("says so when the call is gone, and lets the user try again", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "n3", startedAtUs: NOW_US })]);
    fake.failures.set("set_call_note", { code: "call_not_found", message: "no call with uuid \"n3\"" });
    installFake(fake);
    const app = await startTestApp();
    app.openCall("n3");
    await flush();
    fill("detail-note", "x");
    $("detail-note-save").click();
    await flush(8);
    expect($("error-banner").textContent).toContain("Bu arama artık yok");
    expect(($("detail-note-save") as HTMLButtonElement).disabled).toBe(false);
  });

  it("a tag filter lists the tags in use and shows only the calls carrying the chosen one", async () => {
    const fake = new FakeBackend([
      sampleCall({ uuid: "a", startedAtUs: NOW_US }),
      sampleCall({ uuid: "b", startedAtUs: NOW_US - 60_000_000 }),
    ]);
    installFake(fake);
    await startTestApp();
    expect($("filter-tag").hidden).toBe(true);
    cleanup();

    fake.notes.set("b", { note: null, tags: ["fatura"] });
    installFake(fake);
    await startTestApp();
    const filter = $("filter-tag");
    expect(filter.hidden).toBe(false);
    filter.click();
    expect($("filter-tag-all").textContent).toBe("Tüm etiketler");
    expect($$("filter-tag-option").map((o) => o.querySelector(".tag-chip")?.textContent)).toEqual(["fatura"]);
    $$("filter-tag-option")[0]!.click();
    await flush(8);
    expect(searches(fake).at(-1)).toMatchObject({ tag: "fatura" });
    expect(rowUuids()).toEqual(["b"]);
    expect($("filter-tag-chosen", filter).textContent).toBe("fatura");
    expect(filter.getAttribute("aria-label")).toBe("Etikete göre süz: fatura");
  });

  it("the list's CSV export sends the list's own filters", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "a", startedAtUs: NOW_US })]);
    installFake(fake);
    await startTestApp();
    $("filter-missed").click();
    await flush();
    $("list-export").click();
    await flush();
    const args = fake.calledWith("export_calls").at(-1) as { query: Record<string, unknown>; semicolon: boolean };
    expect(args.query).toMatchObject({ kind: "call", missed_only: true });
    expect(args.semicolon).toBe(true);
    expect($("toast").textContent).toContain("aramalar.csv");
  });
});
