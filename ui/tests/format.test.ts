import { afterEach, describe, expect, it } from "vitest";
import {
  dateInputToMicros,
  displayName,
  eventTypeLabel,
  formatDateTime,
  formatDuration,
  formatListTime,
  formatRelative,
  hangupCauseText,
  hangupDetailText,
  hangupText,
  phoneBookNumber,
  prettyPayload,
  routeSummary,
  stateLabel,
} from "../src/lib/format";
import { setLanguage } from "../src/lib/i18n";

const us = (d: Date) => d.getTime() * 1000;

describe("time formatting", () => {
  afterEach(() => setLanguage("tr"));
  // Test runs in Europe/Istanbul (vite.config.ts), local times below are Turkish times.
  const now = new Date(2026, 10, 27, 16, 30); // 27.11.2026 16:30

  it("today: only the time", () => {
    setLanguage("tr");
    expect(formatListTime(us(new Date(2026, 10, 27, 14, 2)), now)).toBe("14:02");
    expect(formatListTime(us(new Date(2026, 10, 27, 0, 0)), now)).toBe("00:00");
  });

  it("yesterday: 'dün 14:02'", () => {
    setLanguage("tr");
    expect(formatListTime(us(new Date(2026, 10, 26, 14, 2)), now)).toBe("dün 14:02");
    expect(formatListTime(us(new Date(2026, 10, 26, 23, 59)), now)).toBe("dün 23:59");
  });

  it("older: full date, Turkish style", () => {
    setLanguage("tr");
    expect(formatListTime(us(new Date(2026, 10, 25, 9, 5)), now)).toBe("25.11.2026 09:05");
    expect(formatListTime(us(new Date(2025, 0, 3, 18, 45)), now)).toBe("03.01.2025 18:45");
  });

  it("accepts RFC 3339 strings and handles the month boundary for yesterday", () => {
    setLanguage("tr");
    const firstOfMonth = new Date(2026, 11, 1, 8, 0);
    expect(formatListTime(new Date(2026, 10, 30, 22, 10).toISOString(), firstOfMonth)).toBe("dün 22:10");
  });

  it("English uses en-GB dates and 'yesterday'", () => {
    setLanguage("en");
    expect(formatListTime(us(new Date(2026, 10, 27, 14, 2)), now)).toBe("14:02");
    expect(formatListTime(us(new Date(2026, 10, 26, 14, 2)), now)).toBe("yesterday 14:02");
    expect(formatListTime(us(new Date(2026, 10, 25, 9, 5)), now)).toBe("25/11/2026 09:05");
  });

  it("missing or invalid times show a dash", () => {
    expect(formatListTime(null, now)).toBe("—");
    expect(formatListTime("not a date", now)).toBe("—");
    expect(formatDateTime(undefined)).toBe("—");
  });

  it("detail times have seconds", () => {
    setLanguage("tr");
    expect(formatDateTime(us(new Date(2026, 10, 27, 14, 2, 31)))).toBe("27.11.2026 14:02:31");
  });

  it("relative times for the sidebar", () => {
    setLanguage("tr");
    const at = (min: number) => new Date(now.getTime() - min * 60_000).toISOString();
    expect(formatRelative(at(0), now)).toBe("az önce");
    expect(formatRelative(at(3), now)).toBe("3 dk önce");
    expect(formatRelative(at(125), now)).toBe("2 sa önce");
    expect(formatRelative(at(60 * 24 * 3), now)).toBe("3 gün önce");
    setLanguage("en");
    expect(formatRelative(at(3), now)).toBe("3 min ago");
  });
});

describe("durations", () => {
  it("m:ss and h:mm:ss", () => {
    expect(formatDuration(65)).toBe("1:05");
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(600)).toBe("10:00");
    expect(formatDuration(3725)).toBe("1:02:05");
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(-1)).toBe("—");
  });
});

describe("phone book numbers", () => {
  it("Turkish numbers the Turkish way, others as typed", () => {
    expect(phoneBookNumber({ raw: "0532 444 55 66", e164: "+905324445566" })).toBe("0 532 444 55 66");
    expect(phoneBookNumber({ raw: "(0212) 555-00-00", e164: "+902125550000" })).toBe("0 212 555 00 00");
    expect(phoneBookNumber({ raw: "+49 30 1234567", e164: "+49301234567" })).toBe("+49 30 1234567");
    expect(phoneBookNumber({ raw: "1000", e164: null })).toBe("1000");
  });
});

describe("states", () => {
  afterEach(() => setLanguage("tr"));
  it("a fax that arrived reads received, a call that ended reads ended", () => {
    expect(stateLabel("ended", "fax")).toBe("Alındı");
    expect(stateLabel("ended", "call")).toBe("Bitti");
    expect(stateLabel("ringing", "call")).toBe("Çalıyor");
    setLanguage("en");
    expect(stateLabel("ended", "fax")).toBe("Received");
  });
});

describe("hang-up causes", () => {
  afterEach(() => setLanguage("tr"));
  it("are translated to plain Turkish", () => {
    setLanguage("tr");
    const expected: Record<string, string> = {
      NORMAL_CLEARING: "Normal şekilde sonlandı",
      USER_BUSY: "Meşgul",
      NO_ANSWER: "Cevap verilmedi",
      NO_USER_RESPONSE: "Yanıt yok",
      ORIGINATOR_CANCEL: "Arayan vazgeçti",
      CALL_REJECTED: "Reddedildi",
      UNALLOCATED_NUMBER: "Numara kullanılmıyor",
      NORMAL_TEMPORARY_FAILURE: "Geçici arıza",
      RECOVERY_ON_TIMER_EXPIRE: "Zaman aşımı",
    };
    for (const [code, text] of Object.entries(expected)) expect(hangupCauseText(code)).toBe(text);
  });

  it("unknown codes are shown as they came", () => {
    expect(hangupCauseText("SOMETHING_NEW")).toBe("SOMETHING_NEW");
    expect(hangupCauseText(null)).toBe("");
  });

  it("hang-up detail and the combination", () => {
    setLanguage("tr");
    expect(hangupDetailText("send_bye")).toBe("aranan kapattı");
    expect(hangupDetailText("recv_bye")).toBe("arayan kapattı");
    expect(hangupDetailText("send_refuse")).toBe("reddedildi");
    expect(hangupDetailText("other")).toBe("other");
    expect(hangupText("NORMAL_CLEARING", "recv_bye")).toBe("Normal şekilde sonlandı (arayan kapattı)");
    expect(hangupText(null, "send_bye")).toBe("aranan kapattı");
    expect(hangupText("USER_BUSY", null)).toBe("Meşgul");
  });

  it("English too", () => {
    setLanguage("en");
    expect(hangupCauseText("USER_BUSY")).toBe("Busy");
    expect(hangupDetailText("recv_bye")).toBe("the caller hung up");
  });
});

describe("routes, events, payloads", () => {
  afterEach(() => setLanguage("tr"));
  it("route summary", () => {
    setLanguage("tr");
    expect(
      routeSummary([
        { type: "menu", destination: "10", at: null },
        { type: "group", destination: "111", at: null },
        { type: "extension", destination: "1000", at: null },
      ]),
    ).toBe("Menü 10 → Grup 111 → Dahili 1000");
    expect(routeSummary([])).toBe("");
  });

  it("event types in Turkish, unknown ones as received", () => {
    setLanguage("tr");
    expect(eventTypeLabel("call_init")).toBe("Arama başladı");
    expect(eventTypeLabel("call_init_menu")).toBe("Menüye yönlendirildi");
    expect(eventTypeLabel("call_init_group")).toBe("Gruba yönlendirildi");
    expect(eventTypeLabel("call_init_extension")).toBe("Dahiliye yönlendirildi");
    expect(eventTypeLabel("call_hangup")).toBe("Arama bitti");
    expect(eventTypeLabel("missing_call")).toBe("Cevapsız arama");
    expect(eventTypeLabel("fax_init")).toBe("Faks geldi");
    expect(eventTypeLabel("unknown", "voicemail_left")).toBe("voicemail_left");
    expect(eventTypeLabel("brand_new")).toBe("brand_new");
  });

  it("pretty-prints JSON and leaves other bodies alone", () => {
    expect(prettyPayload('{"a":1,"b":[2]}')).toBe('{\n  "a": 1,\n  "b": [\n    2\n  ]\n}');
    expect(prettyPayload("event_type=call_init&caller=905")).toBe("event_type=call_init&caller=905");
    expect(prettyPayload("{not json")).toBe("{not json");
  });

  it("date inputs map to local midnight in microseconds", () => {
    expect(dateInputToMicros("2026-11-27")).toBe(new Date(2026, 10, 27).getTime() * 1000);
    expect(dateInputToMicros("2026-11-27", 1)).toBe(new Date(2026, 10, 28).getTime() * 1000);
    expect(dateInputToMicros("")).toBeNull();
    expect(dateInputToMicros("27.11.2026")).toBeNull();
  });
});

describe("names for display", () => {
  it("keeps a short name, folds white space, cuts a long one by characters with an ellipsis", () => {
    expect(displayName("  Mehmet\n Öztürk ")).toBe("Mehmet Öztürk");
    expect(displayName(null)).toBe("");
    const long = displayName("Ş".repeat(5_000));
    expect(Array.from(long).length).toBe(120);
    expect(long.endsWith("Ş…")).toBe(true);
    expect(displayName("🙂".repeat(10), 5)).toBe("🙂🙂🙂🙂…");
  });
});
