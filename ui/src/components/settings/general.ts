// Settings > General: language, start at login, where data and logs are kept, the version and
// the way back to the guide.

import { h, nextId, setProp, setText, syncChildren } from "../../lib/dom";
import { t } from "../../lib/i18n";
import type { AppStatus, Settings } from "../../lib/types";
import { button, section, switchField } from "../ui";
import type { SettingsHost, SettingsSection } from "./section";

interface Parts {
  card: HTMLElement;
  head: Node[];
  language: HTMLSelectElement;
  languageField: HTMLElement;
  autostart: HTMLInputElement;
  autostartField: HTMLElement;
  crm: HTMLInputElement;
  crmField: HTMLElement;
  dataDir: HTMLElement;
  dataDirValue: HTMLElement;
  logDir: HTMLElement;
  logDirValue: HTMLElement;
  databaseError: HTMLElement;
  actions: HTMLElement;
  version: HTMLElement;
  guide: HTMLButtonElement;
}

function pathRow(label: string, testid: string): [HTMLElement, HTMLElement] {
  const value = h("code", { class: "path", testid });
  return [h("div", { class: "field" }, h("span", { class: "field-label", text: label }), value), value];
}

export class GeneralSection implements SettingsSection {
  private parts: Parts;

  constructor(private readonly host: SettingsHost) {
    this.parts = this.build();
  }

  get el(): HTMLElement {
    return this.parts.card;
  }

  rebuild(): void {
    this.parts = this.build();
  }

  private build(): Parts {
    const langId = nextId("lang");
    const language = h("select", { id: langId, class: "select", testid: "settings-language" });
    const options: [string, string][] = [
      ["tr", t("settings.language.tr")],
      ["en", t("settings.language.en")],
      ["system", t("settings.language.system")],
    ];
    for (const [value, label] of options) language.appendChild(h("option", { attrs: { value }, text: label }));
    language.addEventListener("change", () => {
      const v = language.value;
      void this.host.save({ language: v === "tr" || v === "en" ? v : null });
    });
    const autostart = switchField({
      label: t("settings.autostart"),
      checked: false,
      testid: "settings-autostart",
      onChange: (v) => void this.host.save({ autostart: v }),
    });
    const crmId = nextId("crm");
    const crm = h("input", {
      id: crmId,
      class: "text-input wide",
      testid: "settings-crm-url",
      attrs: { type: "url", autocomplete: "off", spellcheck: "false", placeholder: "https://crm.example.com/ara?tel={e164}", "aria-describedby": `${crmId}-hint` },
    });
    // Saved when the user leaves the field (or presses Enter), not at every key.
    const saveCrm = () => {
      const v = crm.value.trim();
      if (v !== (this.host.ctx.settings()?.crm_url ?? "")) void this.host.save({ crm_url: v === "" ? null : v });
    };
    crm.addEventListener("change", saveCrm);
    const crmField = h(
      "div",
      { class: "field" },
      h("label", { class: "field-label", attrs: { for: crmId }, text: t("settings.crmUrl") }),
      crm,
      h("p", { class: "field-hint", id: `${crmId}-hint`, text: t("settings.crmUrlHint") }),
    );
    const [dataDir, dataDirValue] = pathRow(t("settings.dataDir"), "settings-data-dir");
    const [logDir, logDirValue] = pathRow(t("settings.logDir"), "settings-log-dir");
    const card = section(t("settings.general"));
    const head = [...card.childNodes];
    return {
      card,
      head,
      language,
      languageField: h("div", { class: "field" }, h("label", { class: "field-label", attrs: { for: langId }, text: t("settings.language") }), language),
      autostart: autostart.input,
      autostartField: autostart.root,
      crm,
      crmField,
      dataDir,
      dataDirValue,
      logDir,
      logDirValue,
      databaseError: h("p", { class: "inline-warning", testid: "settings-database-error" }),
      actions: h("div", { class: "card-actions split" }),
      version: h("span", { class: "muted", testid: "settings-version" }),
      guide: button({ label: t("settings.reopenGuide"), icon: "guide", variant: "ghost", onClick: () => this.host.ctx.navigate("guide") }),
    };
  }

  update(status: AppStatus | null, settings: Settings | null): void {
    const p = this.parts;
    if (settings) {
      const lang = settings.language ?? "system";
      setProp(p.language, "value", lang);
      setProp(p.autostart, "checked", settings.autostart);
      // Not while the user is typing in it.
      if (document.activeElement !== p.crm) setProp(p.crm, "value", settings.crm_url ?? "");
    }
    if (status) {
      setText(p.dataDirValue, status.data_dir);
      setText(p.version, t("settings.version", { version: status.version }));
    }
    if (status?.log_dir) setText(p.logDirValue, status.log_dir);
    if (status?.database_error) setText(p.databaseError, t("settings.databaseError", { error: status.database_error }));
    syncChildren(p.actions, status && p.version, p.guide);
    syncChildren(
      p.card,
      ...p.head,
      p.languageField,
      p.autostartField,
      p.crmField,
      status && p.dataDir,
      !!status?.log_dir && p.logDir,
      !!status?.database_error && p.databaseError,
      p.actions,
    );
  }
}
