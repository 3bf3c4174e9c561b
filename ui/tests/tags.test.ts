// Tag colours: chips in the list rows, the call detail and the tag filter; the palette in the
// detail that chooses a colour, shown at once wherever the tag is.
import { afterEach, describe, expect, it } from "vitest";
import { sampleCall } from "../src/dev/sample";
import { displayName } from "../src/lib/format";
import { TAG_COLOURS } from "../src/lib/tags";
import { $, $$, cleanup, FakeBackend, flush, installFake, key, rowUuids, searches, startTestApp } from "./helpers";

const NOW_US = Date.now() * 1000;

/** Two calls carrying "acil" (red), one of them "fatura" too (blue by default). */
function tagged(): FakeBackend {
  const fake = new FakeBackend([
    sampleCall({ uuid: "a", startedAtUs: NOW_US }),
    sampleCall({ uuid: "b", startedAtUs: NOW_US - 60_000_000 }),
    sampleCall({ uuid: "c", startedAtUs: NOW_US - 120_000_000 }),
  ]);
  fake.notes.set("a", { note: null, tags: ["acil", "fatura"] });
  fake.notes.set("b", { note: null, tags: ["acil"] });
  fake.tagColours.set("acil", "red");
  return fake;
}

/** The colour of each row's chips, by row: "uuid:tag=colour". */
function rowChips(): string[] {
  return $$("call-row").flatMap((row) => $$("row-tag", row).map((chip) => `${row.dataset.uuid}:${chip.textContent}=${chip.dataset.colour}`)).sort();
}

async function openPalette(tag: string): Promise<HTMLElement> {
  const chip = $$("detail-tag").find((b) => b.textContent === tag);
  if (!chip) throw new Error(`no chip for ${tag}`);
  chip.click();
  await flush();
  return chip;
}

describe("tag colours", () => {
  afterEach(cleanup);

  it("rows show each tag as a chip in its colour", async () => {
    installFake(tagged());
    await startTestApp();
    expect(rowChips()).toEqual(["a:acil=red", "a:fatura=blue", "b:acil=red"]);
  });

  it("a colour chosen in the detail's palette shows at once on the chip and on every row", async () => {
    const fake = tagged();
    installFake(fake);
    const app = await startTestApp();
    const rowB = $$("row-tag").find((c) => c.closest<HTMLElement>("[data-uuid]")?.dataset.uuid === "b")!;
    app.openCall("a");
    await flush();
    expect($$("detail-tag").map((b) => b.textContent)).toEqual(["acil", "fatura"]);
    const chip = await openPalette("acil");
    expect(chip.getAttribute("aria-expanded")).toBe("true");
    const palette = $("tag-palette");
    expect(palette.getAttribute("role")).toBe("menu");
    expect(palette.getAttribute("aria-label")).toBe("“acil” etiketinin rengi");
    const items = [...palette.querySelectorAll<HTMLElement>("[role=menuitemradio]")];
    expect(items.map((i) => i.textContent)).toEqual(["Kırmızı", "Turuncu", "Sarı", "Yeşil", "Turkuaz", "Mavi", "Mor", "Gri"]);
    expect(items.map((i) => i.querySelector<HTMLElement>(".tag-swatch")?.dataset.colour)).toEqual([...TAG_COLOURS]);
    // The current colour is checked and has the focus.
    expect(items.filter((i) => i.getAttribute("aria-checked") === "true").map((i) => i.textContent)).toEqual(["Kırmızı"]);
    expect(document.activeElement).toBe(items[0]);

    $("tag-colour-green").click();
    await flush();
    expect(fake.calledWith("set_tag_colour")).toEqual([{ tag: "acil", colour: "green" }]);
    expect(document.querySelector('[data-testid="tag-palette"]')).toBeNull();
    expect(document.activeElement).toBe(chip);
    expect(chip.getAttribute("aria-expanded")).toBe("false");
    expect((chip.firstElementChild as HTMLElement).dataset.colour).toBe("green");
    expect(chip.getAttribute("aria-label")).toBe("acil: rengi değiştir (şimdi Yeşil)");
    // The other call's row, not opened, changed too, in place.
    expect(rowB.dataset.colour).toBe("green");
    $("detail-back").click();
    await flush();
    expect(rowChips()).toEqual(["a:acil=green", "a:fatura=blue", "b:acil=green"]);
    expect($$("row-tag").includes(rowB)).toBe(true);
  });

  it("the palette moves with the arrow keys, closes on Escape without leaving the detail", async () => {
    installFake(tagged());
    const app = await startTestApp();
    app.openCall("a");
    await flush();
    const chip = await openPalette("fatura");
    const items = [...$("tag-palette").querySelectorAll<HTMLElement>("[role=menuitemradio]")];
    expect(document.activeElement).toBe(items[5]); // blue, the current colour
    key(document.activeElement!, "ArrowDown");
    expect(document.activeElement).toBe(items[6]);
    key(document.activeElement!, "End");
    expect(document.activeElement).toBe(items[7]);
    key(document.activeElement!, "ArrowDown");
    expect(document.activeElement).toBe(items[0]);
    const esc = key(document.activeElement!, "Escape");
    expect(esc.defaultPrevented).toBe(true);
    await flush();
    expect(document.querySelector('[data-testid="tag-palette"]')).toBeNull();
    expect(document.activeElement).toBe(chip);
    expect(app.currentView).toBe("detail");
  });

  it("speaks English when the app does", async () => {
    const fake = tagged();
    fake.settings = { ...fake.settings, language: "en" };
    installFake(fake);
    const app = await startTestApp();
    app.openCall("b");
    await flush();
    const chip = await openPalette("acil");
    expect(chip.getAttribute("aria-label")).toBe("acil: change colour (now Red)");
    const palette = $("tag-palette");
    expect(palette.getAttribute("aria-label")).toBe("Colour of the tag “acil”");
    expect([...palette.querySelectorAll("[role=menuitemradio]")].map((i) => i.textContent)).toEqual(["Red", "Orange", "Yellow", "Green", "Teal", "Blue", "Purple", "Grey"]);
  });

  it("a colour the engine refuses is said, and the chips keep theirs", async () => {
    const fake = tagged();
    fake.failures.set("set_tag_colour", { code: "bad_tag", message: '"pink" is not a tag colour' });
    installFake(fake);
    const app = await startTestApp();
    app.openCall("a");
    await flush();
    const chip = await openPalette("acil");
    $("tag-colour-purple").click();
    await flush(8);
    expect($("error-banner").textContent).toContain("rengi paletten seçilir");
    expect((chip.firstElementChild as HTMLElement).dataset.colour).toBe("red");
  });

  it("a tag saved for the first time gets its colour in the detail and the list", async () => {
    const fake = tagged();
    installFake(fake);
    const app = await startTestApp();
    app.openCall("c");
    await flush();
    expect($$("detail-tag")).toEqual([]);
    const input = $("detail-tags") as HTMLInputElement;
    input.value = "yeni";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    $("detail-note-save").click();
    await flush(8);
    expect($$("detail-tag").map((b) => (b.firstElementChild as HTMLElement).dataset.colour)).toEqual(["blue"]);
    $("detail-back").click();
    await flush(8);
    expect(rowChips()).toContain("c:yeni=blue");
  });

  it("the tag filter shows the tags as chips in their colours and the chosen one on its button", async () => {
    const fake = tagged();
    // A tag no call carries any more keeps its colour but is not offered.
    fake.tagColours.set("eski", "purple");
    installFake(fake);
    const app = await startTestApp();
    const filter = $("filter-tag");
    expect(filter.getAttribute("aria-haspopup")).toBe("menu");
    filter.click();
    await flush();
    expect(filter.getAttribute("aria-expanded")).toBe("true");
    const options = $$("filter-tag-option");
    expect(options.map((o) => [o.querySelector(".tag-chip")!.textContent, (o.querySelector(".tag-chip") as HTMLElement).dataset.colour, o.querySelector(".menu-trail")?.textContent])).toEqual([
      ["acil", "red", "2"],
      ["fatura", "blue", "1"],
    ]);
    expect($("filter-tag-all").getAttribute("aria-checked")).toBe("true");
    options[0]!.click();
    await flush(8);
    expect(searches(fake).at(-1)).toMatchObject({ tag: "acil" });
    expect(rowUuids()).toEqual(["a", "b"]);
    expect(document.activeElement).toBe(filter);
    expect($("filter-tag-chosen").dataset.colour).toBe("red");

    // Its colour changed in the detail: the filter's chip follows.
    app.openCall("b");
    await flush();
    await openPalette("acil");
    $("tag-colour-teal").click();
    await flush();
    expect($("filter-tag-chosen", app.history.el).dataset.colour).toBe("teal");
    $("detail-back").click();
    await flush();
    expect($("filter-tag-chosen").dataset.colour).toBe("teal");
  });

  it("a tag is text in its chips, the palette and the filter, never markup", async () => {
    const hostile = "<img src=x onerror=alert(1)>";
    const fake = new FakeBackend([sampleCall({ uuid: "h", startedAtUs: NOW_US })]);
    fake.notes.set("h", { note: null, tags: [hostile] });
    installFake(fake);
    const app = await startTestApp();
    expect($("row-tag").textContent).toBe(displayName(hostile, 24));
    expect($("row-tag").textContent).not.toBe(hostile);
    expect($("row-tag").title).toBe(hostile);
    $("filter-tag").click();
    await flush();
    expect($("filter-tag-option").textContent).toBe(`${hostile}1`);
    key(document.activeElement!, "Escape");
    app.openCall("h");
    await flush();
    await openPalette(hostile);
    expect($("tag-palette").getAttribute("aria-label")).toBe(`“${hostile}” etiketinin rengi`);
    expect(document.querySelectorAll("img, script").length).toBe(0);
  });
});
