import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { dictionaryKeys, language, locale, onLanguageChange, resolveLanguage, setLanguage, setSystemLanguage, t } from "../src/lib/i18n";

describe("i18n", () => {
  afterEach(() => setLanguage("tr"));

  it("Turkish and English have the same, non-empty keys", () => {
    const tr = dictionaryKeys("tr").sort();
    const en = dictionaryKeys("en").sort();
    expect(en).toEqual(tr);
    setLanguage("tr");
    for (const k of tr) expect(t(k as never)).not.toBe("");
    setLanguage("en");
    for (const k of en) expect(t(k as never)).not.toBe("");
  });

  it("words every error code the backend can send, in both languages", () => {
    // The codes, read from the type ts-rs generated from the Rust enum.
    const source = readFileSync(resolve(__dirname, "../src/bindings/ErrorCode.ts"), "utf8");
    const codes = [...(source.match(/export type ErrorCode = ([^;]*);/)?.[1] ?? "").matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(10);
    for (const lang of ["tr", "en"] as const) {
      const keys = new Set(dictionaryKeys(lang));
      expect(codes.filter((c) => !keys.has(`errcode.${c}`)), lang).toEqual([]);
    }
  });

  it("follows the setting, else the OS language (tr* → Turkish, anything else → English)", () => {
    expect(resolveLanguage("tr", "en-US")).toBe("tr");
    expect(resolveLanguage("en", "tr-TR")).toBe("en");
    expect(resolveLanguage(null, "tr-TR")).toBe("tr");
    expect(resolveLanguage(null, "tr")).toBe("tr");
    expect(resolveLanguage(null, "de-DE")).toBe("en");
    expect(resolveLanguage(null, "en-GB")).toBe("en");
    expect(resolveLanguage(null, "")).toBe("en");
  });

  it("prefers the app's reading of the OS locale over the webview's when no language is set", () => {
    setSystemLanguage("tr");
    try {
      // WebKit often says en-US on a Turkish system whose locale is not generated.
      expect(setLanguage(null)).toBe("tr");
      expect(setLanguage("en")).toBe("en");
    } finally {
      setSystemLanguage(null);
    }
  });

  it("switches language and locale, telling listeners", () => {
    const seen: string[] = [];
    const stop = onLanguageChange((l) => seen.push(l));
    setLanguage("tr");
    expect(t("nav.history")).toBe("Aramalar");
    expect(locale()).toBe("tr-TR");
    setLanguage("en");
    expect(language()).toBe("en");
    expect(t("nav.history")).toBe("Calls");
    expect(locale()).toBe("en-GB");
    expect(document.documentElement.lang).toBe("en");
    stop();
    setLanguage("tr");
    expect(seen).toEqual(["en"]);
  });

  it("fills parameters", () => {
    setLanguage("tr");
    expect(t("lastEvent.label", { when: "3 dk önce" })).toBe("son olay: 3 dk önce");
    expect(t("route.group", { d: "111" })).toBe("Grup 111");
  });
});
