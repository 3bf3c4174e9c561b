import { afterEach, describe, expect, it, vi } from "vitest";
import { VirtualList } from "../src/components/virtualList";
import { h } from "../src/lib/dom";

function makeList(n: number, onActivate = vi.fn(), onNearEnd = vi.fn()) {
  const items = Array.from({ length: n }, (_, i) => i);
  const list = new VirtualList<number>({
    rowHeightRem: 4,
    label: "numbers",
    renderRow: (i) => h("div", { testid: "row", dataset: { i: String(i) }, text: `row ${i}` }),
    onActivate,
    onNearEnd,
  });
  document.body.appendChild(list.el);
  list.setItems(items);
  return { list, items, onActivate, onNearEnd };
}

const rowIndices = () =>
  [...document.querySelectorAll<HTMLElement>('[data-testid="row"]')].map((r) => Number(r.dataset.i)).sort((a, b) => a - b);

describe("VirtualList", () => {
  afterEach(() => document.body.replaceChildren());

  it("keeps only the visible rows in the DOM for 100,000 items", () => {
    const { list } = makeList(100_000);
    // jsdom has no layout: the list falls back to the window height (768px) → 12 rows of 64px.
    const visible = Math.ceil(window.innerHeight / 64);
    const rows = rowIndices();
    expect(rows.length).toBeLessThanOrEqual(visible + 2 * 6 + 2);
    expect(rows.length).toBeGreaterThanOrEqual(visible);
    expect(rows[0]).toBe(0);
    const spacer = list.el.firstElementChild as HTMLElement;
    expect(spacer.style.height).toBe(`${100_000 * 64}px`);
  });

  it("keeps the rows in the DOM in list order when a row above the others is rendered anew", () => {
    const { list, items } = makeList(5);
    const domOrder = () => [...document.querySelectorAll<HTMLElement>('[data-testid="row"]')].map((r) => Number(r.dataset.i));
    expect(domOrder()).toEqual([0, 1, 2, 3, 4]);
    // A new first item (a call that just rang): row 0 is new, the others move down.
    list.setItems([-1, ...items]);
    expect(domOrder()).toEqual([-1, 0, 1, 2, 3, 4]);
    // The first item replaced in place (the same call, updated).
    list.setItems([-2, ...items]);
    expect(domOrder()).toEqual([-2, 0, 1, 2, 3, 4]);
  });

  it("renders the rows at the scroll position, positioned absolutely", () => {
    const { list } = makeList(100_000);
    list.el.scrollTop = 64 * 50_000;
    list.el.dispatchEvent(new Event("scroll"));
    const rows = rowIndices();
    expect(rows).toContain(50_000);
    expect(rows).not.toContain(0);
    expect(rows.length).toBeLessThan(30);
    const row = document.querySelector<HTMLElement>('[data-i="50000"]')!.parentElement === list.el.firstElementChild;
    expect(row).toBe(true);
    expect(document.querySelector<HTMLElement>('[data-i="50000"]')!.style.top).toBe(`${50_000 * 64}px`);
  });

  it("asks for more near the end", () => {
    const { list, onNearEnd } = makeList(200);
    onNearEnd.mockClear();
    list.el.scrollTop = 64 * 170;
    list.el.dispatchEvent(new Event("scroll"));
    expect(onNearEnd).toHaveBeenCalled();
  });

  it("moves the selection with the keyboard and opens with Enter", () => {
    const { list, onActivate } = makeList(1000);
    const down = (k: string) => list.el.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
    down("ArrowDown");
    expect(list.selected).toBe(0);
    down("ArrowDown");
    down("ArrowDown");
    expect(list.selected).toBe(2);
    down("ArrowUp");
    expect(list.selected).toBe(1);
    expect(list.el.getAttribute("aria-activedescendant")).toBe(document.querySelector('[aria-selected="true"]')!.id);
    down("Enter");
    expect(onActivate).toHaveBeenCalledWith(1, 1);
    down("End");
    expect(list.selected).toBe(999);
    expect(rowIndices()).toContain(999);
    down("Home");
    expect(list.selected).toBe(0);
    expect(list.el.scrollTop).toBe(0);
  });

  it("keeps the rows in view when items are inserted above them", () => {
    const { list, items } = makeList(1000);
    list.el.scrollTop = 64 * 100;
    list.el.dispatchEvent(new Event("scroll"));
    list.select(105, false);
    const next = [-1, ...items];
    list.setItems(next, { insertedAt: 0, count: 1 });
    expect(list.el.scrollTop).toBe(64 * 101);
    expect(list.selectedItem()).toBe(105);
    expect(list.selected).toBe(106);
    expect(document.getElementById(list.el.getAttribute("aria-activedescendant")!)!.dataset.i).toBe("105");
  });

  it("a mouse click opens the row under the pointer (the row is not replaced on mousedown)", () => {
    const { onActivate } = makeList(50);
    const row = document.querySelector<HTMLElement>('[data-i="0"]')!;
    row.dispatchEvent(new MouseEvent("mousedown", { bubbles: true, cancelable: true }));
    expect(document.querySelector('[data-i="0"]')).toBe(row);
    row.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
    row.click();
    expect(onActivate).toHaveBeenCalledWith(0, 0);
    expect(document.querySelector('[data-i="0"]')).toBe(row);
    expect(row.getAttribute("aria-selected")).toBe("true");
  });
});
