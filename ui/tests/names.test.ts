// Names from the phone book beside the numbers: list rows and the call detail.
import { afterEach, describe, expect, it } from "vitest";
import { renderCallRow } from "../src/components/callRow";
import { SEARCH_DEBOUNCE_MS } from "../src/components/callList";
import { NAME_CHARS } from "../src/lib/format";
import { sampleCall } from "../src/dev/sample";
import { $, cleanup, FakeBackend, flush, installFake, rowUuids, startTestApp, type } from "./helpers";

const NOW_US = Date.now() * 1000;
const HOSTILE = `<img src=x onerror=alert(1)><script>alert(2)</script>${"Ş".repeat(5_000)}`;
/** What the window shows of it: the markup as text, cut at NAME_CHARS characters. */
const SHOWN = `${Array.from(HOSTILE).slice(0, NAME_CHARS - 1).join("")}…`;

function named(uuid: string, name: string | null, calleeName: string | null = null) {
  return { ...sampleCall({ uuid, startedAtUs: NOW_US - rowUuidsOffset(uuid) }), caller_name: name, callee_name: calleeName };
}
function rowUuidsOffset(uuid: string): number {
  return uuid.charCodeAt(0) * 1_000_000;
}

describe("names beside numbers", () => {
  afterEach(cleanup);

  it("a row shows the caller's name beside the number, and the callee's", () => {
    const row = renderCallRow(named("a", "Mehmet Öztürk", "Santral"));
    expect(row.querySelector(".row-name")!.textContent).toBe("Mehmet Öztürk");
    expect(row.querySelector(".row-caller")!.textContent).toBe("0 532 444 55 66");
    expect(row.querySelector(".row-callee")!.textContent).toBe("→ Santral · 0 850 885 00 00");
    // Unknown numbers read as before.
    const plain = renderCallRow(named("b", null));
    expect(plain.querySelector(".row-name")).toBeNull();
    expect(plain.querySelector(".row-caller")!.textContent).toBe("0 532 444 55 66");
  });

  it("a hostile name is text, never markup, in the row and the detail", async () => {
    const row = renderCallRow(named("a", HOSTILE));
    expect(row.querySelector(".row-name")!.textContent).toBe(SHOWN);
    expect(row.querySelectorAll("img, script").length).toBe(0);

    installFake(new FakeBackend([named("e", HOSTILE)]));
    const app = await startTestApp();
    expect($("row-name").textContent).toBe(SHOWN);
    app.openCall("e");
    await flush();
    expect($("detail-name").textContent).toBe(SHOWN);
    expect($("detail-caller").textContent).toBe("0 532 444 55 66");
    expect(document.querySelectorAll("img, script").length).toBe(0);
  });

  it("the detail leads with the name, the number under it", async () => {
    installFake(new FakeBackend([named("d", "İpek Işık", "Santral")]));
    const app = await startTestApp();
    app.openCall("d");
    await flush();
    expect($("detail-name").textContent).toBe("İpek Işık");
    expect($("detail-caller").textContent).toBe("0 532 444 55 66");
    expect($("detail-callee").textContent).toBe("Santral · 0 850 885 00 00");
  });

  it("searching a name finds that contact's calls", async () => {
    installFake(new FakeBackend([named("a", "Mehmet Öztürk"), named("b", null)]));
    await startTestApp();
    expect(rowUuids().sort()).toEqual(["a", "b"]);
    type($("search-input") as HTMLInputElement, "öztürk");
    await new Promise((r) => setTimeout(r, SEARCH_DEBOUNCE_MS + 20));
    await flush();
    expect(rowUuids()).toEqual(["a"]);
  });
});
