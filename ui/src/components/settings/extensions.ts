// Settings > Notifications > my extensions: the user's extensions as chips with a remove button,
// and a field to add one. The chips are keyed by extension, so adding or removing one leaves the
// others (and the field's text) as they are.

import { h, nextId, setAttr, setText, syncChildren } from "../../lib/dom";
import { t } from "../../lib/i18n";
import type { Settings } from "../../lib/types";
import { button } from "../ui";
import type { SettingsHost } from "./section";

const MAX_EXTENSION_DIGITS = 6;

export function validExtension(s: string): boolean {
  return new RegExp(`^\\d{1,${MAX_EXTENSION_DIGITS}}$`).test(s);
}

interface Parts {
  root: HTMLElement;
  label: HTMLElement;
  list: HTMLElement;
  addRow: HTMLElement;
  empty: HTMLElement;
  input: HTMLInputElement;
  error: HTMLElement;
}

export class ExtensionsEditor {
  private parts: Parts;
  /** Why the last add was refused ("" when it was not). */
  private error = "";
  /** The list the chips show, and the chips by extension. */
  private shown: readonly string[] | null = null;
  private chips = new Map<string, HTMLElement>();

  constructor(private readonly host: SettingsHost) {
    this.parts = this.build("");
  }

  get el(): HTMLElement {
    return this.parts.root;
  }

  /** New texts (a language switch); what is typed in the field stays. */
  rebuild(): void {
    this.parts = this.build(this.parts.input.value);
    this.chips.clear();
    this.shown = null;
  }

  private build(pending: string): Parts {
    const inputId = nextId("ext");
    const input = h("input", {
      id: inputId,
      class: "text-input ext-input",
      testid: "settings-extension-input",
      attrs: {
        type: "text",
        inputmode: "numeric",
        autocomplete: "off",
        maxlength: MAX_EXTENSION_DIGITS,
        placeholder: t("settings.extensionPlaceholder"),
      },
    });
    input.value = pending;
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        this.add();
      }
    });
    const list = h("ul", { class: "ext-list", testid: "settings-extensions" });
    const error = h("p", { class: "field-error", id: `${inputId}-err`, attrs: { role: "alert" } });
    const parts: Parts = {
      root: h("div", { class: "ext-editor" }),
      label: h("label", { class: "field-label", attrs: { for: inputId }, text: t("settings.myExtensions") }),
      list,
      addRow: h(
        "div",
        { class: "ext-add" },
        input,
        button({ label: t("settings.extensionAdd"), icon: "plus", testid: "settings-extension-add", onClick: () => this.add() }),
      ),
      empty: h("li", { class: "muted", text: t("settings.noExtensions") }),
      input,
      error,
    };
    this.paintError(parts);
    return parts;
  }

  update(settings: Settings): void {
    this.parts.root.classList.toggle("is-inactive", !settings.only_my_extensions);
    const exts = settings.my_extensions;
    if (this.shown && this.shown.length === exts.length && this.shown.every((e, i) => e === exts[i])) return;
    this.shown = [...exts];
    const chips = exts.map((ext) => this.chips.get(ext) ?? this.chip(ext));
    this.chips = new Map(exts.map((ext, i) => [ext, chips[i]!]));
    syncChildren(this.parts.list, ...(chips.length ? chips : [this.parts.empty]));
  }

  private chip(ext: string): HTMLElement {
    return h(
      "li",
      { class: "ext-chip", dataset: { ext } },
      h("span", { text: ext }),
      button({
        label: t("action.remove", { what: ext }),
        icon: "close",
        iconOnly: true,
        variant: "ghost",
        small: true,
        testid: "settings-extension-remove",
        onClick: () => {
          const current = this.host.ctx.settings();
          if (!current) return;
          void this.host.save({ my_extensions: current.my_extensions.filter((x) => x !== ext) });
          // The chip, and the button that had the focus, are gone.
          this.parts.input.focus();
        },
      }),
    );
  }

  private add(): void {
    const input = this.parts.input;
    const v = input.value.trim();
    const current = this.host.ctx.settings();
    if (!current || v === "") return;
    if (!validExtension(v)) {
      this.error = t("settings.extensionInvalid");
      input.value = v;
    } else if (current.my_extensions.includes(v)) {
      this.error = t("settings.extensionDuplicate");
      input.value = v;
    } else {
      this.error = "";
      input.value = "";
      void this.host.save({ my_extensions: [...current.my_extensions, v] });
    }
    this.paintError(this.parts);
    input.focus();
  }

  private paintError(p: Parts): void {
    setText(p.error, this.error);
    setAttr(p.input, "aria-describedby", this.error ? p.error.id : null);
    setAttr(p.input, "aria-invalid", this.error ? "true" : null);
    syncChildren(p.root, p.label, p.list, p.addRow, !!this.error && p.error);
  }
}
