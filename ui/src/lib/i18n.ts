// Turkish first, with English. `t(key, params)` looks a string up in the current language;
// `{name}` in a string is replaced by params.name.

import trCatalogue from "../../../i18n/tr.json";
import enCatalogue from "../../../i18n/en.json";

// The catalogues are i18n/tr.json and i18n/en.json at the top of the repository, shared with
// the Rust side (pop-ups, tray, command line: kanca_core::i18n). English is typed against
// Turkish, so a key missing from en.json fails the type check.
const tr = trCatalogue;
export type MessageKey = keyof typeof tr;
type Dictionary = Record<MessageKey, string>;
const en: Dictionary = enCatalogue;

export type Language = "tr" | "en";
export type LanguagePref = Language | null;

const dictionaries: Record<Language, Dictionary> = { tr, en };

let current: Language = "tr";
/** The app's own reading of the OS locale (AppStatus.system_language); wins over the webview's. */
let systemLanguage: Language | null = null;

export function setSystemLanguage(lang: Language | null): void {
  systemLanguage = lang;
}
const listeners = new Set<(lang: Language) => void>();

/** The language to use for a preference: the preference itself, else the OS locale. */
export function resolveLanguage(pref: LanguagePref, navLanguage?: string): Language {
  if (pref === "tr" || pref === "en") return pref;
  if (navLanguage === undefined && systemLanguage) return systemLanguage;
  const nav =
    navLanguage ?? (typeof navigator !== "undefined" ? navigator.language || "" : "");
  return nav.toLowerCase().startsWith("tr") ? "tr" : "en";
}

export function language(): Language {
  return current;
}

/** BCP 47 locale for Intl formatting. */
export function locale(): string {
  return current === "tr" ? "tr-TR" : "en-GB";
}

/** Switches the language; listeners re-render. Returns the language in force. */
export function setLanguage(pref: LanguagePref): Language {
  const next = resolveLanguage(pref);
  if (typeof document !== "undefined") document.documentElement.lang = next;
  if (next !== current) {
    current = next;
    for (const l of [...listeners]) l(next);
  }
  return current;
}

export function onLanguageChange(cb: (lang: Language) => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

export function hasKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(tr, key);
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const s = dictionaries[current][key] ?? tr[key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m,
  );
}

/** For tests: every key of both dictionaries. */
export function dictionaryKeys(lang: Language): string[] {
  return Object.keys(dictionaries[lang]);
}
