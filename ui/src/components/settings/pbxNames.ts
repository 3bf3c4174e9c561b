// Settings > Bulutfon API > Adlar: the names Bulutfon gives extensions and groups (and your
// numbers, which it leaves unnamed), each with a field for your own name, which wins in pop-ups,
// the list and the detail. Emptying the field brings Bulutfon's back.

import * as backend from "../../lib/backend";
import { h, replaceChildren } from "../../lib/dom";
import { phoneBookNumber } from "../../lib/format";
import { t } from "../../lib/i18n";
import type { NameEntry } from "../../lib/types";
import type { SettingsHost } from "./section";

export class PbxNamesEditor {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private entries: NameEntry[] = [];

  constructor(private readonly host: SettingsHost) {
    this.body = h("div", { class: "pbx-names-body" });
    this.el = h(
      "details",
      { class: "pbx-names", testid: "settings-names" },
      h("summary", { class: "field-label", text: t("api.names") }),
      h("p", { class: "field-hint", text: t("api.namesHint") }),
      this.body,
    );
    this.el.addEventListener("toggle", () => {
      if ((this.el as HTMLDetailsElement).open) void this.load();
    });
  }

  async load(): Promise<void> {
    try {
      this.entries = await backend.listNames();
      this.render();
    } catch (e) {
      this.host.ctx.notify.error(e);
    }
  }

  private render(): void {
    if (this.entries.length === 0) {
      replaceChildren(this.body, h("p", { class: "muted", text: t("api.namesEmpty") }));
      return;
    }
    const rows = this.entries.filter((e) => e.kind !== "menu" || e.local).map((e) => this.row(e));
    replaceChildren(this.body, h("div", { class: "pbx-names-grid", attrs: { role: "list" } }, ...rows));
  }

  private row(e: NameEntry): HTMLElement {
    const label = `${t(`api.kind.${e.kind}`)} ${e.kind === "did" ? phoneBookNumber({ raw: e.number, e164: `+${e.number}` }) : e.number}`;
    const input = h("input", {
      class: "text-input",
      testid: `name-${e.kind}-${e.number}`,
      attrs: { type: "text", maxlength: "200", "aria-label": label, placeholder: e.bulutfon || t("api.noName") },
    });
    input.value = e.local ?? "";
    input.addEventListener("change", () => void this.save(e, input.value.trim()));
    return h("div", { class: "pbx-name", attrs: { role: "listitem" } }, h("span", { class: "pbx-name-label", text: label }), input);
  }

  private async save(e: NameEntry, value: string): Promise<void> {
    try {
      this.entries = await backend.setName(e.kind, e.number, value === "" ? null : value);
      this.host.saved();
      this.host.ctx.annotationsChanged?.();
    } catch (err) {
      this.host.ctx.notify.error(err);
    }
  }
}
