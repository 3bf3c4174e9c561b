// A virtualised list with a fixed row height: only the rows in view (plus a few) are in the DOM,
// so 100,000 entries scroll as smoothly as 100. It is a listbox: ↑/↓/PageUp/PageDown/Home/End move
// the selection, Enter opens it.

import { h } from "../lib/dom";

export interface VirtualListOptions<T> {
  /** Row height in rem, so rows grow with the user's font scaling. */
  rowHeightRem: number;
  renderRow: (item: T, index: number, selected: boolean) => HTMLElement;
  /** Rows rendered beyond the visible ones, above and below. */
  overscan?: number;
  /** Called when the rows in view come within `nearEndRows` of the end. */
  onNearEnd?: () => void;
  nearEndRows?: number;
  onActivate?: (item: T, index: number) => void;
  onSelect?: (item: T | null, index: number) => void;
  label: string;
  testid?: string;
}

let listSeq = 0;

export class VirtualList<T> {
  readonly el: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly o: Required<Pick<VirtualListOptions<T>, "overscan" | "nearEndRows">> & VirtualListOptions<T>;
  private readonly idPrefix: string;
  private items: readonly T[] = [];
  private rendered = new Map<number, { el: HTMLElement; item: T; selected: boolean }>();
  private selectedIndex = -1;
  private resizeObserver: ResizeObserver | null = null;
  private rowPx = 0;

  constructor(options: VirtualListOptions<T>) {
    this.o = { overscan: 6, nearEndRows: 30, ...options };
    listSeq += 1;
    this.idPrefix = `vl${listSeq}`;
    this.spacer = h("div", { class: "vlist-spacer" });
    this.el = h(
      "div",
      {
        class: "vlist",
        testid: options.testid,
        attrs: { role: "listbox", tabindex: 0, "aria-label": options.label },
        on: {
          scroll: () => this.render(),
          keydown: (e) => this.onKeyDown(e),
          focus: () => {
            if (this.selectedIndex < 0 && this.items.length > 0) this.select(this.firstVisibleIndex(), false);
          },
        },
      },
      this.spacer,
    );
    if (typeof ResizeObserver !== "undefined") {
      // A resize may come with a new font size (zoom, scaling): measure the rows again.
      this.resizeObserver = new ResizeObserver(() => {
        this.rowPx = 0;
        this.render(true);
      });
      this.resizeObserver.observe(this.el);
    }
  }

  setLabel(label: string): void {
    this.el.setAttribute("aria-label", label);
  }

  /** Row height in CSS pixels for the current root font size (cached; reset on resize). */
  rowHeight(): number {
    if (this.rowPx === 0) this.rowPx = this.measureRowHeight();
    return this.rowPx;
  }

  private measureRowHeight(): number {
    let rootPx = 16;
    if (typeof getComputedStyle === "function") {
      const fs = parseFloat(getComputedStyle(document.documentElement).fontSize);
      if (Number.isFinite(fs) && fs > 0) rootPx = fs;
    }
    return Math.round(this.o.rowHeightRem * rootPx);
  }

  /** Height of the scroll viewport; a sane default where nothing is laid out (jsdom, hidden). */
  private viewportHeight(): number {
    return this.el.clientHeight || (typeof window !== "undefined" ? window.innerHeight : 0) || 600;
  }

  get length(): number {
    return this.items.length;
  }

  get selected(): number {
    return this.selectedIndex;
  }

  selectedItem(): T | null {
    return this.selectedIndex >= 0 ? this.items[this.selectedIndex] ?? null : null;
  }

  /**
   * Replaces the items. `inserted` tells how many items were added above `insertedAt`, so the
   * selection follows its item and, when scrolled down, the rows in view stay where they are.
   */
  setItems(items: readonly T[], change?: { insertedAt: number; count: number }): void {
    this.items = items;
    if (change && change.count > 0) {
      const rh = this.rowHeight();
      if (this.selectedIndex >= change.insertedAt) this.selectedIndex += change.count;
      const firstVisible = Math.floor(this.el.scrollTop / rh);
      if (this.el.scrollTop > 0 && change.insertedAt <= firstVisible) {
        this.spacer.style.height = `${items.length * rh}px`;
        this.el.scrollTop += change.count * rh;
      }
    }
    if (this.selectedIndex >= items.length) this.selectedIndex = items.length - 1;
    if (this.selectedIndex >= 0) this.el.setAttribute("aria-activedescendant", this.rowId(this.selectedIndex));
    else this.el.removeAttribute("aria-activedescendant");
    this.render();
  }

  /** Drops the selection and scrolls to the top (a new search). */
  reset(items: readonly T[]): void {
    this.items = items;
    this.selectedIndex = -1;
    this.el.removeAttribute("aria-activedescendant");
    this.el.scrollTop = 0;
    this.render(true);
  }

  get scrollTop(): number {
    return this.el.scrollTop;
  }

  set scrollTop(v: number) {
    this.el.scrollTop = v;
    this.render();
  }

  private rowId(index: number): string {
    return `${this.idPrefix}-row-${index}`;
  }

  private firstVisibleIndex(): number {
    return Math.min(this.items.length - 1, Math.max(0, Math.floor(this.el.scrollTop / this.rowHeight())));
  }

  /** Renders the rows in view. `force` re-creates them all (e.g. after a language switch). */
  render(force = false): void {
    const rh = this.rowHeight();
    const n = this.items.length;
    this.spacer.style.height = `${n * rh}px`;
    const top = this.el.scrollTop;
    const height = this.viewportHeight();
    const first = Math.max(0, Math.floor(top / rh) - this.o.overscan);
    const last = Math.min(n - 1, Math.ceil((top + height) / rh) + this.o.overscan);

    for (const [i, r] of this.rendered) {
      if (force || i < first || i > last || this.items[i] !== r.item) {
        r.el.remove();
        this.rendered.delete(i);
      } else if (r.selected !== (i === this.selectedIndex)) {
        // Update in place: replacing the row under the mouse between mousedown and mouseup
        // would swallow the click.
        r.selected = i === this.selectedIndex;
        r.el.setAttribute("aria-selected", r.selected ? "true" : "false");
        r.el.classList.toggle("selected", r.selected);
      }
    }
    for (let i = first; i <= last; i++) {
      if (this.rendered.has(i)) continue;
      const item = this.items[i] as T;
      const selected = i === this.selectedIndex;
      const el = this.o.renderRow(item, i, selected);
      el.id = this.rowId(i);
      el.setAttribute("role", "option");
      el.setAttribute("aria-selected", selected ? "true" : "false");
      el.setAttribute("aria-posinset", String(i + 1));
      el.setAttribute("aria-setsize", String(n));
      el.classList.add("vrow");
      if (selected) el.classList.add("selected");
      el.style.top = `${i * rh}px`;
      el.style.height = `${rh}px`;
      el.addEventListener("mousedown", (e) => {
        // Keep focus on the listbox so the keyboard keeps working after a click.
        e.preventDefault();
        this.el.focus({ preventScroll: true });
      });
      el.addEventListener("click", () => {
        this.select(i, false);
        this.o.onActivate?.(item, i);
      });
      // In the DOM in list order, as on screen: a screen reader (and anything else reading
      // the document) meets the rows in the order they are shown, also after a row above the
      // others was rendered anew.
      let next: HTMLElement | null = null;
      let nextIndex = Infinity;
      for (const [j, r] of this.rendered) {
        if (j > i && j < nextIndex) {
          nextIndex = j;
          next = r.el;
        }
      }
      this.spacer.insertBefore(el, next);
      this.rendered.set(i, { el, item, selected });
    }
    if (n > 0 && last >= n - 1 - this.o.nearEndRows) this.o.onNearEnd?.();
  }

  /** Number of row elements in the DOM (for tests and diagnostics). */
  get renderedCount(): number {
    return this.rendered.size;
  }

  select(index: number, scroll = true): void {
    if (this.items.length === 0) return;
    const i = Math.max(0, Math.min(this.items.length - 1, index));
    this.selectedIndex = i;
    this.el.setAttribute("aria-activedescendant", this.rowId(i));
    if (scroll) this.scrollToIndex(i);
    this.render();
    this.o.onSelect?.(this.items[i] ?? null, i);
  }

  /** Selects the item for which `pred` holds, if it is loaded. */
  selectWhere(pred: (item: T) => boolean, scroll = true): boolean {
    const i = this.items.findIndex(pred);
    if (i < 0) return false;
    this.select(i, scroll);
    return true;
  }

  scrollToIndex(i: number): void {
    const rh = this.rowHeight();
    const top = i * rh;
    const height = this.viewportHeight();
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + rh > this.el.scrollTop + height) this.el.scrollTop = top + rh - height;
  }

  private pageRows(): number {
    return Math.max(1, Math.floor(this.viewportHeight() / this.rowHeight()) - 1);
  }

  private onKeyDown(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const cur = this.selectedIndex;
    let next: number | null = null;
    switch (e.key) {
      case "ArrowDown":
        next = cur < 0 ? this.firstVisibleIndex() : cur + 1;
        break;
      case "ArrowUp":
        next = cur < 0 ? this.firstVisibleIndex() : cur - 1;
        break;
      case "PageDown":
        next = Math.max(0, cur) + this.pageRows();
        break;
      case "PageUp":
        next = Math.max(0, cur) - this.pageRows();
        break;
      case "Home":
        next = 0;
        break;
      case "End":
        next = this.items.length - 1;
        break;
      case "Enter":
      case " ": {
        const item = this.selectedItem();
        if (item !== null) {
          e.preventDefault();
          this.o.onActivate?.(item, this.selectedIndex);
        }
        return;
      }
      default:
        return;
    }
    e.preventDefault();
    if (this.items.length > 0) this.select(next);
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
  }
}
