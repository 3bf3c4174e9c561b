import { describe, expect, it } from "vitest";
import { buildQuery, copyableNumber, emptyFilters, hasActiveFilters, isTestCall, matchesFilters, searchDigits, stateAt, type ListFilters } from "../src/lib/calls";
import { sampleCall } from "../src/dev/sample";

const f = (p: Partial<ListFilters>): ListFilters => ({ ...emptyFilters(), ...p });
const midnight = (y: number, m: number, d: number) => new Date(y, m - 1, d).getTime() * 1000;

describe("filters map to Query", () => {
  it("Tümü", () => {
    expect(buildQuery("call", f({}))).toEqual({
      text: "",
      kind: "call",
      missed_only: false,
      direction: null,
      since_us: null,
      until_us: null,
      before: null,
      limit: 100,
    });
  });

  it("Cevapsız / Gelen / Giden", () => {
    expect(buildQuery("call", f({ filter: "missed" }))).toMatchObject({ missed_only: true, direction: null });
    expect(buildQuery("call", f({ filter: "in" }))).toMatchObject({ missed_only: false, direction: "in" });
    expect(buildQuery("call", f({ filter: "out" }))).toMatchObject({ missed_only: false, direction: "out" });
  });

  it("faxes and the cursor", () => {
    expect(buildQuery("fax", f({ text: " 0532 " }), "123")).toMatchObject({ kind: "fax", text: "0532", before: "123" });
  });

  it("date range: from at local midnight, to inclusive (next midnight)", () => {
    const q = buildQuery("call", f({ from: "2026-11-01", to: "2026-11-27" }));
    expect(q.since_us).toBe(midnight(2026, 11, 1));
    expect(q.until_us).toBe(midnight(2026, 11, 28));
    // Istanbul is UTC+3: local midnight is 21:00 UTC the day before.
    expect(new Date(q.since_us! / 1000).toISOString()).toBe("2026-10-31T21:00:00.000Z");
  });

  it("one-sided and swapped ranges", () => {
    expect(buildQuery("call", f({ from: "2026-11-27" }))).toMatchObject({ since_us: midnight(2026, 11, 27), until_us: null });
    expect(buildQuery("call", f({ to: "2026-11-27" }))).toMatchObject({ since_us: null, until_us: midnight(2026, 11, 28) });
    expect(buildQuery("call", f({ from: "2026-11-27", to: "2026-11-01" }))).toMatchObject({
      since_us: midnight(2026, 11, 1),
      until_us: midnight(2026, 11, 28),
    });
  });

  it("knows when filters are active", () => {
    expect(hasActiveFilters(emptyFilters())).toBe(false);
    expect(hasActiveFilters(f({ text: " " }))).toBe(false);
    expect(hasActiveFilters(f({ filter: "in" }))).toBe(true);
    expect(hasActiveFilters(f({ to: "2026-01-01" }))).toBe(true);
  });
});

describe("local matching of live calls (mirrors the backend)", () => {
  const call = sampleCall({ caller: "905324445566", startedAtUs: midnight(2026, 11, 27) + 3600e6 });

  it("numbers in any spelling", () => {
    expect(searchDigits("0532 444 55 66")).toBe("05324445566");
    expect(searchDigits("+90 (532) 444-55-66")).toBe("905324445566");
    expect(searchDigits("0090532")).toBe("90532");
    expect(searchDigits("ahmet")).toBeNull();
    for (const q of ["4445566", "532 444 55 66", "0532 444", "+90532444", "05324445566", "1000", "111"]) {
      expect(matchesFilters(call, "call", f({ text: q })), q).toBe(true);
    }
    expect(matchesFilters(call, "call", f({ text: "0533" }))).toBe(false);
  });

  it("kind, missed, direction and dates", () => {
    expect(matchesFilters(call, "fax", f({}))).toBe(false);
    expect(matchesFilters(call, "call", f({ filter: "missed" }))).toBe(false);
    expect(matchesFilters({ ...call, missed: true }, "call", f({ filter: "missed" }))).toBe(true);
    expect(matchesFilters(call, "call", f({ filter: "out" }))).toBe(false);
    expect(matchesFilters(call, "call", f({ from: "2026-11-27", to: "2026-11-27" }))).toBe(true);
    expect(matchesFilters(call, "call", f({ from: "2026-11-28" }))).toBe(false);
    expect(matchesFilters(call, "call", f({ to: "2026-11-26" }))).toBe(false);
  });

  it("test calls are recognised, with or without the field", () => {
    expect(isTestCall(sampleCall({ test: true }))).toBe(true);
    expect(isTestCall(sampleCall({ test: false }))).toBe(false);
    const { test: _drop, ...old } = sampleCall();
    expect(isTestCall(old as never)).toBe(false);
  });
});

describe("a call whose hang-up never came", () => {
  it("stops ringing at the time the engine gave, and only a ringing call does", () => {
    const ringing = { state: "ringing" as const, ringing_until_us: 1_000 };
    expect(stateAt(ringing, 999)).toBe("ringing");
    expect(stateAt(ringing, 1_000)).toBe("end_unknown");
    expect(stateAt({ state: "answered", ringing_until_us: null }, 5_000)).toBe("answered");
    // A fax (or an older engine) gives no time: it is left as it is.
    expect(stateAt({ state: "ringing", ringing_until_us: null }, 5_000)).toBe("ringing");
  });
});

describe("the number a call's copy button copies", () => {
  it("is the other party's: the caller of an incoming call, the callee of an outgoing one", () => {
    const incoming = sampleCall({ uuid: "i", caller: "905324445566", callee: "908508850000" });
    const outgoing = sampleCall({ uuid: "o", direction: "out", caller: "908508850000", callee: "902125550000" });
    expect(copyableNumber(incoming)).toBe("+905324445566");
    expect(copyableNumber(outgoing)).toBe("+902125550000");
  });
});
