import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sampleCall, sampleCalls } from "../src/dev/sample";
import { LIVE_TRIM_AT, SEARCH_DEBOUNCE_MS } from "../src/components/callList";
import { PAGE_SIZE } from "../src/lib/backend";
import { $, $$, cleanup, FakeBackend, flush, installFake, key, rowUuids, searches, startTestApp, type } from "./helpers";

const NOW_US = Date.now() * 1000;

describe("history list", () => {
  afterEach(cleanup);

  it("loads the first page newest first with the default query", async () => {
    const fake = installFake(new FakeBackend(sampleCalls(250, NOW_US)));
    await startTestApp();
    expect(searches(fake)[0]).toEqual({
      text: "",
      kind: "call",
      missed_only: false,
      direction: null,
      since_us: null,
      until_us: null,
      before: null,
      limit: 100,
    });
    const uuids = rowUuids();
    expect(uuids.length).toBeGreaterThan(5);
    const calls = fake.calls.filter((c) => c.kind === "call");
    expect(uuids.slice(0, 3)).toEqual(calls.slice(0, 3).map((c) => c.uuid));
    expect($("nav-history").getAttribute("aria-current")).toBe("page");
  });

  it("renders a row: caller, callee, status, route, time and duration", async () => {
    const started = new Date();
    started.setHours(14, 2, 0, 0);
    const call = sampleCall({ uuid: "r1", startedAtUs: started.getTime() * 1000, state: "missed" });
    installFake(new FakeBackend([call]));
    await startTestApp();
    const row = $("call-row");
    expect(row.dataset.uuid).toBe("r1");
    expect(row.querySelector(".row-caller")!.textContent).toBe("0 532 444 55 66");
    expect(row.querySelector(".row-callee")!.textContent).toBe("→ 0 850 885 00 00");
    expect(row.querySelector(".row-route")!.textContent).toBe("Menü 10 → Grup 111 → Dahili 1000");
    expect(row.querySelector(".pill")!.textContent).toBe("Cevapsız");
    expect(row.classList.contains("is-missed")).toBe(true);
    expect(row.querySelector(".row-time")!.textContent).toBe("14:02");
    expect(row.querySelector(".row-duration")!.textContent).toBe("0:00");
    expect(row.querySelector("svg")).not.toBeNull();
  });

  it("virtualises 100,000 calls: only the visible rows are in the DOM, and pages load on scroll", async () => {
    const fake = installFake(new FakeBackend(sampleCalls(100_000, NOW_US, 3, 1).map((c) => ({ ...c, kind: "call" as const }))));
    const app = await startTestApp();
    const list = app.history.list;
    expect(app.history.items.length).toBe(100);
    expect($$("call-row").length).toBeLessThanOrEqual(30);

    // Scrolling near the end loads the next page with the previous page's cursor.
    const scrollToEnd = async () => {
      list.el.scrollTop = list.length * 64;
      list.el.dispatchEvent(new Event("scroll"));
      await flush(2);
    };
    for (let i = 0; i < 5; i++) await scrollToEnd();
    expect(app.history.items.length).toBe(600);
    const q = searches(fake);
    expect(q.map((x) => x.before)).toEqual([null, ...[99, 199, 299, 399, 499].map((i) => String(fake.calls[i]!.started_at_us))]);
    expect(q.every((x) => x.limit === 100)).toBe(true);

    // The rest in big pages (jsdom is slow; the list does not care about page sizes).
    fake.pageSizeOverride = 20_000;
    while (app.history.hasMore) await scrollToEnd();
    expect(app.history.items.length).toBe(100_000);
    expect(new Set(app.history.items.map((c) => c.uuid)).size).toBe(100_000);
    expect($$("call-row").length).toBeLessThanOrEqual(30);

    list.el.scrollTop = 64 * 77_777;
    list.el.dispatchEvent(new Event("scroll"));
    const uuids = rowUuids();
    expect(uuids).toContain(fake.calls[77_777]!.uuid);
    expect(uuids.length).toBeLessThanOrEqual(30);
    expect(document.querySelectorAll('[data-testid="call-row"]').length).toBe(uuids.length);
  }, 30_000);

  it("a call whose hang-up never came stops ringing on screen, and a late hang-up completes it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    vi.setSystemTime(new Date(2026, 10, 27, 16, 0));
    const now = Date.now() * 1000;
    const fake = installFake(new FakeBackend(sampleCalls(5, now - 3600e6)));
    await startTestApp();
    const silent = sampleCall({ uuid: "silent", startedAtUs: now, state: "ringing" });
    fake.upsert(silent);
    await flush();
    const row = () => document.querySelector<HTMLElement>('[data-testid="call-row"][data-uuid="silent"]')!;
    expect(row().querySelector(".pill")!.textContent).toBe("Çalıyor");
    // The window stays open past the time the engine gave; no new event, no new search.
    await vi.advanceTimersByTimeAsync(silent.ringing_until_us! / 1000 - Date.now() + 30_000);
    expect(row().dataset.state).toBe("end_unknown");
    expect(row().querySelector(".pill")!.textContent).toBe("Sonu bilinmiyor");
    fake.upsert(sampleCall({ uuid: "silent", startedAtUs: now, state: "answered" }), "call_hangup");
    await flush();
    expect(row().querySelector(".pill")!.textContent).toBe("Cevaplandı");
  });

  describe("search and filters", () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
      vi.setSystemTime(new Date(2026, 10, 27, 16, 0));
    });

    it("debounces typing and sends the text", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(50, NOW_US)));
      await startTestApp();
      const before = searches(fake).length;
      const input = $("search-input") as HTMLInputElement;
      type(input, "0");
      await vi.advanceTimersByTimeAsync(50);
      type(input, "0532");
      await vi.advanceTimersByTimeAsync(50);
      type(input, "0532 444");
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS - 10);
      expect(searches(fake).length).toBe(before);
      await vi.advanceTimersByTimeAsync(20);
      const after = searches(fake);
      expect(after.length).toBe(before + 1);
      expect(after.at(-1)).toMatchObject({ text: "0532 444", before: null, limit: 100 });
    });

    it("Enter searches at once", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(50, NOW_US)));
      await startTestApp();
      const input = $("search-input") as HTMLInputElement;
      type(input, "1000");
      key(input, "Enter");
      await flush();
      expect(searches(fake).at(-1)).toMatchObject({ text: "1000" });
    });

    it("filter chips map to the query", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(50, NOW_US)));
      await startTestApp();
      $("filter-missed").click();
      await flush();
      expect(searches(fake).at(-1)).toMatchObject({ missed_only: true, direction: null });
      expect($("filter-missed").getAttribute("aria-pressed")).toBe("true");
      expect($("filter-all").getAttribute("aria-pressed")).toBe("false");
      $("filter-in").click();
      await flush();
      expect(searches(fake).at(-1)).toMatchObject({ missed_only: false, direction: "in" });
      $("filter-out").click();
      await flush();
      expect(searches(fake).at(-1)).toMatchObject({ missed_only: false, direction: "out" });
      $("filter-all").click();
      await flush();
      expect(searches(fake).at(-1)).toMatchObject({ missed_only: false, direction: null });
    });

    it("the date range maps to since_us/until_us (local midnight, 'to' inclusive)", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(50, NOW_US)));
      await startTestApp();
      const from = $("date-from") as HTMLInputElement;
      const to = $("date-to") as HTMLInputElement;
      from.value = "2026-11-20";
      from.dispatchEvent(new Event("change"));
      to.value = "2026-11-27";
      to.dispatchEvent(new Event("change"));
      await flush();
      expect(searches(fake).at(-1)).toMatchObject({
        since_us: new Date(2026, 10, 20).getTime() * 1000,
        until_us: new Date(2026, 10, 28).getTime() * 1000,
      });
      $("date-clear").click();
      await flush();
      expect(searches(fake).at(-1)).toMatchObject({ since_us: null, until_us: null });
    });

    it("Ctrl+F and / focus the search box", async () => {
      installFake(new FakeBackend(sampleCalls(20, NOW_US)));
      await startTestApp();
      $("nav-settings").click();
      key(document.body, "f", { ctrlKey: true });
      expect(document.activeElement).toBe($("search-input"));
      (document.activeElement as HTMLElement).blur();
      key(document.body, "/");
      expect(document.activeElement).toBe($("search-input"));
    });
  });

  describe("empty states", () => {
    it("no calls yet points to the guide", async () => {
      installFake(new FakeBackend([]));
      await startTestApp();
      const empty = $("empty-state");
      expect(empty.dataset.kind).toBe("no-calls");
      expect(empty.textContent).toContain("Henüz arama yok");
      $("empty-open-guide").click();
      expect($("guide")).toBeTruthy();
    });

    it("a search without results says so", async () => {
      installFake(new FakeBackend(sampleCalls(20, NOW_US)));
      const app = await startTestApp();
      app.history.setText("0599 999 99 99");
      await flush();
      const empty = $("empty-state");
      expect(empty.dataset.kind).toBe("no-results");
      expect(empty.textContent).toContain("Sonuç bulunamadı");
      $("empty-clear-filters").click();
      await flush();
      expect($$("empty-state").length).toBe(0);
      expect(($("search-input") as HTMLInputElement).value).toBe("");
    });

    it("a failed search shows the error banner", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(20, NOW_US)));
      fake.failures.set("search_calls", { code: "database", message: "disk I/O error" });
      await startTestApp();
      expect($("error-banner").textContent).toContain("Veritabanı hatası");
      expect($("error-banner").textContent).not.toContain("disk I/O error");
      expect($("error-banner").dataset.code).toBe("database");
      expect($("empty-state").dataset.kind).toBe("error");
      fake.failures.clear();
      $("empty-retry").click();
      await flush();
      expect($$("call-row").length).toBeGreaterThan(0);
      $("error-dismiss").click();
      expect($$("error-banner").length).toBe(0);
    });
  });

  describe("live updates", () => {
    it("a new call appears at the top at once", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(300, NOW_US - 60e6)));
      const app = await startTestApp();
      const count = app.history.items.length;
      const call = sampleCall({ uuid: "new-1", startedAtUs: NOW_US, state: "ringing" });
      fake.upsert(call);
      await flush();
      expect(rowUuids()[0]).toBe("new-1");
      expect(app.history.items.length).toBe(count + 1);
      expect($("call-row").querySelector(".pill")!.textContent).toBe("Çalıyor");
    });

    it("a list grown by live calls is refreshed to one page while the user is at the top", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(150, NOW_US - 3600e6)));
      const app = await startTestApp();
      expect(app.history.items.length).toBe(PAGE_SIZE);
      for (let i = 0; i <= LIVE_TRIM_AT; i++) {
        fake.upsert(sampleCall({ uuid: `burst-${i}`, startedAtUs: NOW_US + i, state: "ringing" }));
      }
      await flush();
      await flush();
      // Back to about one page (plus calls that rang during the refresh), newest first, with no
      // live call lost and the older calls still reachable by paging.
      const items = app.history.items;
      expect(items.length).toBeLessThan(LIVE_TRIM_AT);
      expect(rowUuids()[0]).toBe(`burst-${LIVE_TRIM_AT}`);
      const uuids = items.map((c) => c.uuid);
      expect(uuids.slice(0, PAGE_SIZE)).toEqual(Array.from({ length: PAGE_SIZE }, (_, i) => `burst-${LIVE_TRIM_AT - i}`));
      expect(new Set(uuids).size).toBe(uuids.length);
      expect(searches(fake).at(-1)!.before).toBeNull();
    }, 30_000);

    it("when more calls changed than the engine kept for the window, the list is read again", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(300, NOW_US - 60e6)));
      const app = await startTestApp();
      const target = app.history.items[1]!;
      const before = searches(fake).length;
      fake.upsertUntold([sampleCall({ uuid: "untold-1", startedAtUs: NOW_US, state: "ringing" }), { ...target, state: "missed", missed: true }]);
      await flush();
      await flush();
      expect(searches(fake).length).toBe(before + 1);
      expect(searches(fake).at(-1)!.before).toBeNull();
      expect(rowUuids()[0]).toBe("untold-1");
      expect(app.history.items.find((c) => c.uuid === target.uuid)!.state).toBe("missed");
    });

    it("an existing row is updated in place", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(300, NOW_US - 60e6)));
      const app = await startTestApp();
      const target = app.history.items[2]!;
      const count = app.history.items.length;
      fake.upsert({ ...target, state: "missed", missed: true }, "missing_call");
      await flush();
      expect(app.history.items.length).toBe(count);
      expect(rowUuids()[2]).toBe(target.uuid);
      const row = document.querySelector<HTMLElement>(`[data-testid="call-row"][data-uuid="${target.uuid}"]`)!;
      expect(row.querySelector(".pill")!.textContent).toBe("Cevapsız");
    });

    it("a ringing call goes ringing → routed → answered in one row", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(10, NOW_US - 60e6)));
      const app = await startTestApp();
      const ringing = sampleCall({ uuid: "live", startedAtUs: NOW_US, state: "ringing", route: [] });
      fake.upsert(ringing);
      await flush();
      fake.upsert({ ...ringing, route: [{ type: "menu", destination: "10", at: null }] }, "call_init_menu");
      await flush();
      fake.upsert(sampleCall({ uuid: "live", startedAtUs: NOW_US, state: "answered" }), "call_hangup");
      await flush();
      expect(app.history.items.filter((c) => c.uuid === "live").length).toBe(1);
      expect(rowUuids()[0]).toBe("live");
      expect($("call-row").querySelector(".pill")!.textContent).toBe("Cevaplandı");
    });

    it("only calls matching the current search and filter are inserted", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(10, NOW_US - 60e6)));
      const app = await startTestApp();
      app.history.setFilter("missed");
      await flush();
      fake.upsert(sampleCall({ uuid: "answered-1", startedAtUs: NOW_US, state: "answered" }));
      await flush();
      expect(rowUuids()).not.toContain("answered-1");
      fake.upsert(sampleCall({ uuid: "missed-1", startedAtUs: NOW_US + 1, state: "missed" }));
      await flush();
      expect(rowUuids()[0]).toBe("missed-1");

      app.history.setFilter("all");
      app.history.setText("0555 123");
      await flush();
      fake.upsert(sampleCall({ uuid: "other", startedAtUs: NOW_US + 2, caller: "905321112233" }));
      fake.upsert(sampleCall({ uuid: "match", startedAtUs: NOW_US + 3, caller: "905551234567" }));
      await flush();
      expect(rowUuids()).not.toContain("other");
      expect(rowUuids()[0]).toBe("match");
    });

    it("faxes go to the fax list, not the call list", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(10, NOW_US - 60e6)));
      const app = await startTestApp();
      $("nav-faxes").click();
      await flush();
      $("nav-history").click();
      fake.upsert(sampleCall({ uuid: "fax-1", kind: "fax", startedAtUs: NOW_US, state: "ended", route: [] }), "fax_init");
      await flush();
      expect(rowUuids()).not.toContain("fax-1");
      expect(app.faxes.items[0]!.uuid).toBe("fax-1");
      $("nav-faxes").click();
      expect(rowUuids()[0]).toBe("fax-1");
      expect(searches(fake).some((q) => q.kind === "fax")).toBe(true);
    });
  });

  describe("keyboard and navigation", () => {
    it("↑/↓ select, Enter opens, Esc returns with scroll position and filters kept", async () => {
      const fake = installFake(new FakeBackend(sampleCalls(400, NOW_US)));
      const app = await startTestApp();
      app.history.setFilter("in");
      await flush();
      const list = $("call-list");
      list.scrollTop = 64 * 40;
      list.dispatchEvent(new Event("scroll"));
      list.focus();
      key(list, "ArrowDown");
      key(list, "ArrowDown");
      const selected = app.history.list.selectedItem()!;
      key(list, "Enter");
      await flush();
      const detail = $("call-detail");
      expect(detail.dataset.uuid).toBe(selected.uuid);
      expect($$("call-list").length).toBe(0);
      const searchesBefore = searches(fake).length;

      key(document.activeElement ?? document.body, "Escape");
      await flush();
      expect($$("call-detail").length).toBe(0);
      expect($("call-list").scrollTop).toBe(64 * 40);
      expect($("filter-in").getAttribute("aria-pressed")).toBe("true");
      expect(app.history.list.selectedItem()!.uuid).toBe(selected.uuid);
      expect(document.activeElement).toBe($("call-list"));
      // Going back does not search again.
      expect(searches(fake).length).toBe(searchesBefore);
    });

    it("a click on a row opens it, the back button returns", async () => {
      installFake(new FakeBackend(sampleCalls(20, NOW_US)));
      await startTestApp();
      const row = $$("call-row")[1]!;
      row.click();
      await flush();
      expect($("call-detail").dataset.uuid).toBe(row.dataset.uuid);
      $("detail-back").click();
      expect($$("call-row").length).toBeGreaterThan(0);
    });

    it("ArrowDown in the search box moves into the list", async () => {
      installFake(new FakeBackend(sampleCalls(20, NOW_US)));
      const app = await startTestApp();
      const input = $("search-input");
      input.focus();
      key(input, "ArrowDown");
      expect(document.activeElement).toBe($("call-list"));
      expect(app.history.list.selected).toBe(0);
    });
  });
});
