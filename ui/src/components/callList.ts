// The history list (calls or faxes): search-as-you-type, filter chips, date range, a virtualised
// list paged from the backend, and live updates from `calls-changed`.

import { exportCalls, PAGE_SIZE, searchCalls } from "../lib/backend";
import { buildQuery, emptyFilters, hasActiveFilters, matchesFilters, stateAt, type Filter, type ListFilters } from "../lib/calls";
import { debounce, h, nextId, replaceChildren } from "../lib/dom";
import { language, t } from "../lib/i18n";
import type { Call, CallKind, Page } from "../lib/types";
import { attachCallMenu } from "./callMenu";
import { renderCallRow } from "./callRow";
import { icon } from "./icons";
import { recolourChips } from "./tagChip";
import { TagFilter } from "./tagFilter";
import { button } from "./ui";
import type { AppContext, View } from "./view";
import { VirtualList } from "./virtualList";

/** Row height in rem (two lines of text plus padding). */
export const ROW_HEIGHT_REM = 4;
export const SEARCH_DEBOUNCE_MS = 150;
/** Live calls kept on top of the loaded pages before the list is refreshed to one page. */
export const LIVE_TRIM_AT = 3 * PAGE_SIZE;
/** After a failed page load, wait this long before trying again on scroll. */
const RETRY_AFTER_MS = 5000;

type Phase = "idle" | "loading" | "ready" | "error";

const FILTERS: readonly Filter[] = ["all", "missed", "in", "out"];

export class CallListView implements View {
  readonly el: HTMLElement;
  readonly list: VirtualList<Call>;
  private filters: ListFilters = emptyFilters();
  private calls: Call[] = [];
  private uuids = new Set<string>();
  private nextCursor: string | null = null;
  private phase: Phase = "idle";
  private loadingMore = false;
  private moreFailedAt = 0;
  private gen = 0;
  private pendingLive: Call[] = [];
  private savedScroll = 0;
  private day = new Date().toDateString();
  private readonly titleId = nextId("list-title");

  // Rebuilt on every render.
  private searchInput!: HTMLInputElement;
  private clearSearchBtn!: HTMLButtonElement;
  private chips = new Map<Filter, HTMLButtonElement>();
  private fromInput!: HTMLInputElement;
  private toInput!: HTMLInputElement;
  private clearDatesBtn!: HTMLButtonElement;
  private readonly tagFilter: TagFilter;
  private statusLine!: HTMLElement;
  private overlay!: HTMLElement;
  private body!: HTMLElement;

  private refreshing = false;
  private duringRefresh: Call[] = [];
  private readonly searchSoon = debounce(() => void this.reload(), SEARCH_DEBOUNCE_MS);

  constructor(
    private readonly ctx: AppContext,
    readonly kind: CallKind,
  ) {
    this.el = h("section", {
      class: "view view-list",
      testid: kind === "fax" ? "view-faxes" : "view-history",
      attrs: { "aria-labelledby": this.titleId },
    });
    this.list = new VirtualList<Call>({
      rowHeightRem: ROW_HEIGHT_REM,
      label: this.listLabel(),
      testid: "call-list",
      renderRow: (call) => renderCallRow(call, new Date(), colourOf),
      onNearEnd: () => void this.loadMore(),
      onActivate: (call) => this.ctx.openCall(call.uuid),
    });
    const colourOf = (tag: string) => this.ctx.tags.colourOf(tag);
    attachCallMenu(this.ctx, this.list);
    this.tagFilter = new TagFilter(this.ctx.tags, (tag) => {
      this.filters.tag = tag;
      void this.reload();
    });
    // A colour chosen anywhere shows at once on the rows and the filter, in place.
    this.ctx.tags.onChange((name) => {
      recolourChips(this.list.el, colourOf, name);
      this.tagFilter.update();
    });
    this.build();
  }

  private listLabel(): string {
    return this.kind === "fax" ? t("list.labelFax") : t("list.label");
  }

  // ---- state accessors (tests, app) ----

  get items(): readonly Call[] {
    return this.calls;
  }

  get currentFilters(): Readonly<ListFilters> {
    return this.filters;
  }

  get hasMore(): boolean {
    return this.nextCursor !== null;
  }

  // ---- DOM ----

  private build(): void {
    const title = this.kind === "fax" ? t("faxes.title") : t("history.title");
    const searchId = nextId("search");

    this.searchInput = h("input", {
      id: searchId,
      class: "search-input",
      testid: "search-input",
      attrs: {
        type: "search",
        autocomplete: "off",
        spellcheck: "false",
        "aria-label": t("search.label"),
        placeholder: this.kind === "fax" ? t("search.placeholderFax") : t("search.placeholder"),
        "aria-keyshortcuts": "Control+F /",
      },
      on: {
        input: () => {
          this.filters.text = this.searchInput.value;
          this.updateChrome();
          this.searchSoon();
        },
        keydown: (e) => this.onSearchKey(e),
      },
    });
    this.searchInput.value = this.filters.text;
    this.clearSearchBtn = button({
      label: t("search.clear"),
      icon: "close",
      iconOnly: true,
      variant: "ghost",
      small: true,
      testid: "search-clear",
      onClick: () => {
        this.setText("");
        this.searchInput.focus();
      },
    });
    const search = h(
      "div",
      { class: "search-field" },
      icon("search", "search-icon"),
      this.searchInput,
      this.clearSearchBtn,
    );

    this.chips.clear();
    const chipRow = h("div", { class: "chips", attrs: { role: "group", "aria-label": t("filter.label") } });
    for (const f of FILTERS) {
      if (f === "missed" && this.kind === "fax") continue;
      const b = h("button", {
        class: "chip",
        testid: `filter-${f}`,
        text: t(`filter.${f}`),
        attrs: { type: "button", "aria-pressed": "false" },
        on: { click: () => this.setFilter(f) },
      });
      this.chips.set(f, b);
      chipRow.appendChild(b);
    }

    const dateField = (key: "from" | "to"): [HTMLElement, HTMLInputElement] => {
      const id = nextId(`date-${key}`);
      const input = h("input", {
        id,
        class: "date-input",
        testid: `date-${key}`,
        attrs: { type: "date", max: "9999-12-31" },
        on: {
          change: () => {
            this.filters[key] = normaliseDateValue(input.value);
            void this.reload();
          },
        },
      });
      input.value = this.filters[key];
      const label = h("label", { class: "date-label", attrs: { for: id }, text: key === "from" ? t("date.from") : t("date.to") });
      return [h("span", { class: "date-field" }, label, input), input];
    };
    const [fromField, fromInput] = dateField("from");
    const [toField, toInput] = dateField("to");
    this.fromInput = fromInput;
    this.toInput = toInput;
    this.clearDatesBtn = button({
      label: t("date.clear"),
      icon: "close",
      iconOnly: true,
      variant: "ghost",
      small: true,
      testid: "date-clear",
      onClick: () => {
        this.filters.from = "";
        this.filters.to = "";
        this.fromInput.value = "";
        this.toInput.value = "";
        void this.reload();
        this.fromInput.focus();
      },
    });
    const dates = h("div", { class: "dates" }, fromField, toField, this.clearDatesBtn);
    this.tagFilter.set(this.filters.tag);

    this.statusLine = h("p", { class: "list-status", testid: "list-status", attrs: { "aria-live": "polite" } });
    this.overlay = h("div", { class: "list-overlay" });
    this.list.setLabel(this.listLabel());
    this.body = h("div", { class: "list-body" }, this.list.el, this.overlay);

    replaceChildren(
      this.el,
      h(
        "header",
        { class: "view-header" },
        h("h1", { class: "view-title", id: this.titleId, text: title }),
        this.statusLine,
        h("span", { class: "view-header-actions" }, button({ label: t("list.exportCsv"), small: true, variant: "ghost", testid: "list-export", onClick: () => void this.exportCsv() })),
      ),
      h("div", { class: "toolbar" }, search, h("div", { class: "toolbar-row" }, chipRow, this.tagFilter.el, dates)),
      this.body,
    );
    this.updateChrome();
  }

  private onSearchKey(e: KeyboardEvent): void {
    if (e.key === "Enter") {
      e.preventDefault();
      this.searchSoon.flush();
    } else if (e.key === "ArrowDown") {
      if (this.calls.length > 0) {
        e.preventDefault();
        this.list.el.focus();
        if (this.list.selected < 0) this.list.select(0);
      }
    } else if (e.key === "Escape" && this.searchInput.value !== "") {
      e.preventDefault();
      e.stopPropagation();
      this.setText("");
    }
  }

  private updateChrome(): void {
    for (const [f, b] of this.chips) {
      const on = this.filters.filter === f;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("active", on);
    }
    this.clearSearchBtn.hidden = this.filters.text === "";
    this.clearDatesBtn.hidden = this.filters.from === "" && this.filters.to === "";

    const n = this.calls.length;
    let status = "";
    if (this.phase === "loading") status = t("list.loading");
    else if (this.loadingMore) status = t("list.loadingMore");
    else if (this.phase === "ready" && n > 0) status = this.nextCursor ? t("list.shownMore", { n }) : t("list.shown", { n });
    this.statusLine.textContent = status;
    this.list.el.setAttribute("aria-busy", this.phase === "loading" || this.loadingMore ? "true" : "false");
    this.body.classList.toggle("is-loading", this.phase === "loading");

    let empty: HTMLElement | null = null;
    if (n === 0) {
      if (this.phase === "ready") empty = hasActiveFilters(this.filters) ? this.noResults() : this.noCalls();
      else if (this.phase === "error") empty = this.loadError();
      else if (this.phase === "loading") empty = h("div", { class: "list-loading", text: t("list.loading") });
    }
    this.list.el.hidden = empty !== null;
    replaceChildren(this.overlay, empty);
  }

  private emptyState(kind: string, iconName: "inbox" | "search" | "alert", title: string, hint: string, action: HTMLElement | null): HTMLElement {
    return h(
      "div",
      { class: "empty-state", testid: "empty-state", dataset: { kind } },
      icon(iconName, "empty-icon"),
      h("h2", { class: "empty-title", text: title }),
      h("p", { class: "empty-hint", text: hint }),
      action,
    );
  }

  private noCalls(): HTMLElement {
    const fax = this.kind === "fax";
    return this.emptyState(
      "no-calls",
      "inbox",
      fax ? t("empty.noFaxes") : t("empty.noCalls"),
      fax ? t("empty.noFaxesHint") : t("empty.noCallsHint"),
      fax
        ? null
        : button({ label: t("empty.openGuide"), icon: "guide", variant: "primary", testid: "empty-open-guide", onClick: () => this.ctx.navigate("guide") }),
    );
  }

  private noResults(): HTMLElement {
    return this.emptyState(
      "no-results",
      "search",
      t("empty.noResults"),
      t("empty.noResultsHint"),
      button({ label: t("empty.clearFilters"), testid: "empty-clear-filters", onClick: () => this.clearFilters() }),
    );
  }

  private loadError(): HTMLElement {
    return this.emptyState(
      "error",
      "alert",
      t("empty.error"),
      this.ctx.notify.bannerMessage ?? "",
      button({ label: t("empty.retry"), icon: "refresh", testid: "empty-retry", onClick: () => void this.reload() }),
    );
  }

  // ---- filters ----

  setText(text: string): void {
    this.filters.text = text;
    if (this.searchInput.value !== text) this.searchInput.value = text;
    this.updateChrome();
    void this.reload();
  }

  setFilter(f: Filter): void {
    if (f === "missed" && this.kind === "call") this.ctx.missedSeen?.();
    if (this.filters.filter === f && this.phase !== "idle") return;
    this.filters.filter = f;
    this.updateChrome();
    void this.reload();
  }

  setDates(from: string, to: string): void {
    this.filters.from = from;
    this.filters.to = to;
    this.fromInput.value = from;
    this.toInput.value = to;
    void this.reload();
  }

  clearFilters(): void {
    this.filters = emptyFilters();
    this.build();
    void this.reload();
    this.searchInput.focus();
  }

  // ---- loading ----

  /** Loads the first page for the current filters. */
  async reload(): Promise<void> {
    this.searchSoon.cancel();
    const gen = ++this.gen;
    this.phase = "loading";
    this.loadingMore = false;
    this.moreFailedAt = 0;
    this.updateChrome();
    try {
      const page = await searchCalls(buildQuery(this.kind, this.filters));
      if (gen !== this.gen) return;
      this.adoptFirstPage(page);
      this.phase = "ready";
      this.list.reset(this.calls);
      const live = this.pendingLive;
      this.pendingLive = [];
      for (const c of live) this.applyLive(c);
    } catch (e) {
      if (gen !== this.gen) return;
      this.phase = "error";
      this.calls = [];
      this.uuids.clear();
      this.nextCursor = null;
      this.pendingLive = [];
      this.list.reset(this.calls);
      this.ctx.notify.error(e);
    }
    this.updateChrome();
  }

  /** Loads the next page (called as the user scrolls near the end). */
  async loadMore(): Promise<void> {
    if (this.phase !== "ready" || this.loadingMore || this.nextCursor === null) return;
    if (this.moreFailedAt && Date.now() - this.moreFailedAt < RETRY_AFTER_MS) return;
    const gen = this.gen;
    const cursor = this.nextCursor;
    this.loadingMore = true;
    this.updateChrome();
    try {
      const page = await searchCalls(buildQuery(this.kind, this.filters, cursor));
      if (gen !== this.gen) return;
      for (const c of page.calls) {
        if (this.uuids.has(c.uuid)) continue;
        this.uuids.add(c.uuid);
        this.calls.push(c);
      }
      this.nextCursor = page.next_cursor;
      this.moreFailedAt = 0;
      this.loadingMore = false;
      this.updateChrome();
      this.list.setItems(this.calls);
    } catch (e) {
      if (gen !== this.gen) return;
      this.loadingMore = false;
      this.moreFailedAt = Date.now();
      this.ctx.notify.error(e);
      this.updateChrome();
    }
  }

  // ---- live updates ----

  /** A call was created or updated: update its row in place, or insert it if it belongs here. */
  applyLive(call: Call): void {
    if (this.phase === "idle") return;
    if (this.phase === "loading") {
      this.pendingLive.push(call);
      return;
    }
    if (this.phase !== "ready") return;
    // Calls that change while a refresh is in flight are applied again on top of its page.
    if (this.refreshing) this.duringRefresh.push(call);
    if (this.uuids.has(call.uuid)) {
      const i = this.calls.findIndex((c) => c.uuid === call.uuid);
      if (i >= 0) {
        this.calls[i] = call;
        this.list.setItems(this.calls);
        return;
      }
    }
    if (!matchesFilters(call, this.kind, this.filters)) return;
    // Newest first: the first position whose call started no later than this one.
    let lo = 0;
    let hi = this.calls.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.calls[mid]!.started_at_us > call.started_at_us) lo = mid + 1;
      else hi = mid;
    }
    // Older than everything loaded while more pages remain: paging will bring it in order.
    if (lo === this.calls.length && this.nextCursor !== null) return;
    this.calls.splice(lo, 0, call);
    this.uuids.add(call.uuid);
    this.list.setItems(this.calls, { insertedAt: lo, count: 1 });
    this.updateChrome();
    // A window left open on a busy line would otherwise keep every call that ever rang: while
    // the user looks at the top, swap the grown list for a fresh first page from the engine.
    if (this.calls.length > LIVE_TRIM_AT && this.list.scrollTop === 0) void this.refreshTop();
  }

  /** The list becomes this first page (duplicates dropped); paging continues after it. */
  private adoptFirstPage(page: Page): void {
    this.calls = [];
    this.uuids.clear();
    for (const c of page.calls) {
      if (this.uuids.has(c.uuid)) continue;
      this.uuids.add(c.uuid);
      this.calls.push(c);
    }
    this.nextCursor = page.next_cursor;
  }

  /** Replaces the list with a fresh first page without the loading state (no flicker). */
  private async refreshTop(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    this.duringRefresh = [];
    const gen = this.gen;
    try {
      const page = await searchCalls(buildQuery(this.kind, this.filters));
      if (gen !== this.gen || this.phase !== "ready" || this.list.scrollTop !== 0) return;
      this.adoptFirstPage(page);
      this.list.setItems(this.calls);
      this.updateChrome();
      this.refreshing = false;
      for (const c of this.duringRefresh.splice(0)) this.applyLive(c);
    } catch {
      // Keep the longer list; the next live call tries again.
    } finally {
      this.refreshing = false;
    }
  }

  /** Calls changed without saying which: read the list again (the first page, as on a
   * filter change), unless it was never shown. */
  refresh(): void {
    if (this.phase !== "idle") void this.reload();
  }

  /** Names changed (the phone book was edited): read the list again when next shown. */
  invalidate(): void {
    this.gen++;
    this.phase = "idle";
  }

  /** The list as it is filtered, as CSV in the Downloads folder (";" for a Turkish Excel). */
  private async exportCsv(): Promise<void> {
    try {
      const path = await exportCalls(buildQuery(this.kind, this.filters), language() === "tr");
      this.ctx.notify.toast(t("list.exported", { path }), 8000);
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }


  // ---- view lifecycle ----

  mount(): void {
    if (this.phase === "idle") {
      void this.reload();
      this.ctx.tags.load().catch((e) => this.ctx.notify.error(e));
    }
    this.list.scrollTop = this.savedScroll;
    this.list.render();
  }

  unmount(): void {
    this.savedScroll = this.list.scrollTop;
  }

  rerender(): void {
    const scroll = this.list.scrollTop;
    this.build();
    this.list.scrollTop = scroll;
    this.list.render(true);
  }

  /**
   * Called every 30 s: "today"/"yesterday" labels change at midnight, and a call whose
   * hang-up never came stops ringing when its time is up.
   */
  tick(): void {
    const now = new Date();
    const day = now.toDateString();
    const nowUs = now.getTime() * 1000;
    const settled = this.calls.some((c) => c.state === "ringing" && stateAt(c, nowUs) !== "ringing");
    if (settled) {
      // Settled for good, so later ticks do not render again for the same call.
      this.calls = this.calls.map((c) => ({ ...c, state: stateAt(c, nowUs) }));
      this.list.setItems(this.calls);
    }
    if (day !== this.day || settled) {
      this.day = day;
      this.list.render(true);
    }
  }

  focus(): void {
    if (this.list.selected >= 0 && this.calls.length > 0) this.list.el.focus({ preventScroll: true });
    else this.focusSearch();
  }

  focusSearch(): void {
    this.searchInput.focus();
    this.searchInput.select();
  }

  /** Selects the row of a call if it is loaded (after coming back from its detail). */
  reveal(uuid: string): void {
    this.list.selectWhere((c) => c.uuid === uuid);
  }
}

/** Date inputs give "YYYY-MM-DD"; where a webview shows a text box, accept "27.11.2026" too. */
export function normaliseDateValue(value: string): string {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
  const m = /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/.exec(v);
  if (m) return `${m[3]}-${m[2]!.padStart(2, "0")}-${m[1]!.padStart(2, "0")}`;
  return "";
}
