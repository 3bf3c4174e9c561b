// Settings > Ofis, on the receiver: the desks paired with it (name, when paired, when last seen,
// removed or not, each with "Kaldır") and "Masa ekle", which shows the new desk's pairing code
// once, read-only with a copy button. Rows are keyed by the desk's name, so a fresh list leaves
// the rows that did not change (and the focus in them) alone.

import * as backend from "../../lib/backend";
import { h, nextId, setAttr, setProp, setText, syncChildren } from "../../lib/dom";
import { displayName, formatListTime, formatRelative } from "../../lib/format";
import { t } from "../../lib/i18n";
import type { ClientInfo, OfficeView } from "../../lib/types";
import { errorText } from "../notifier";
import { badge, button, confirmDialog, copyButton } from "../ui";
import type { SettingsHost } from "./section";

/** Longest desk name the receiver takes (kanca_core::office::clients::add). */
const MAX_DESK_NAME = 64;

interface Row {
  el: HTMLElement;
  /** The desk as the row was built for it (JSON). */
  key: string;
  desk: ClientInfo;
  seen: HTMLElement;
}

interface Parts {
  root: HTMLElement;
  title: HTMLElement;
  list: HTMLElement;
  empty: HTMLElement;
  addField: HTMLElement;
  name: HTMLInputElement;
  add: HTMLButtonElement;
  error: HTMLElement;
  codeBox: HTMLElement;
  codeLabel: HTMLElement;
  code: HTMLTextAreaElement;
}

export interface OfficeDesksHost {
  /** The office as a command left it (the card adopts it). */
  adopt(view: OfficeView): void;
  /** Reads the office afresh (the desks list comes from get_office). */
  reload(): Promise<void>;
}

export class OfficeDesks {
  private parts: Parts;
  private rows = new Map<string, Row>();
  private desks: ClientInfo[] = [];
  /** The code of the desk added last, shown until Settings is left. */
  private code: { name: string; code: string } | null = null;
  private error = "";
  private adding = false;

  constructor(
    private readonly host: SettingsHost,
    private readonly office: OfficeDesksHost,
  ) {
    this.parts = this.build("");
  }

  get el(): HTMLElement {
    return this.parts.root;
  }

  /** New texts (a language switch); the typed name and the code shown stay. */
  rebuild(): void {
    this.parts = this.build(this.parts.name.value);
    this.rows.clear();
    this.update(this.desks);
  }

  /** The code is shown once: gone when Settings is left. */
  forgetCode(): void {
    this.code = null;
    this.paint();
  }

  private build(pending: string): Parts {
    const nameId = nextId("desk-name");
    const name = h("input", {
      id: nameId,
      class: "text-input",
      testid: "office-desk-name-input",
      attrs: { type: "text", autocomplete: "off", maxlength: MAX_DESK_NAME, placeholder: t("office.deskNamePlaceholder") },
    });
    name.value = pending;
    const add = button({ label: t("office.addDeskButton"), icon: "plus", testid: "office-add-desk", onClick: () => void this.add() });
    name.addEventListener("input", () => setProp(add, "disabled", this.adding || name.value.trim() === ""));
    name.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        void this.add();
      }
    });
    const codeId = nextId("desk-code");
    const code = h("textarea", {
      id: codeId,
      class: "text-input wide office-code",
      testid: "office-code",
      attrs: { readonly: true, rows: 3, spellcheck: "false", "aria-describedby": `${codeId}-hint` },
    });
    const codeLabel = h("label", { class: "field-label", attrs: { for: codeId } });
    const copy = copyButton(() => this.code?.code ?? null, (s) => this.host.ctx.copy(s), { what: t("office.codeWhat"), testid: "office-code-copy", small: false });
    const titleId = nextId("desks");
    const parts: Parts = {
      root: h("div", { class: "office-desks", testid: "office-desks", attrs: { role: "group", "aria-labelledby": titleId } }),
      title: h("h3", { class: "field-label", id: titleId, text: t("office.desks") }),
      list: h("ul", { class: "desk-list", testid: "office-desk-list" }),
      empty: h("li", { class: "muted", text: t("office.noDesks") }),
      addField: h(
        "div",
        { class: "field" },
        h("label", { class: "field-label", attrs: { for: nameId }, text: t("office.addDesk") }),
        h("div", { class: "input-row" }, name, add),
        h("p", { class: "field-hint", text: t("office.addDeskHint") }),
      ),
      name,
      add,
      error: h("p", { class: "field-error", id: `${nameId}-err`, testid: "office-add-desk-error", attrs: { role: "alert" } }),
      codeBox: h(
        "div",
        { class: "field office-code-box", testid: "office-code-box" },
        codeLabel,
        code,
        h("div", { class: "card-actions" }, copy),
        h("p", { class: "note", id: `${codeId}-hint`, testid: "office-code-once", text: t("office.codeOnce") }),
      ),
      codeLabel,
      code,
    };
    return parts;
  }

  /** Shows these desks (as get_office or the status lists them). */
  update(desks: readonly ClientInfo[]): void {
    this.desks = [...desks];
    const rows = this.desks.map((d) => this.row(d));
    this.rows = new Map(rows.map((r) => [r.desk.name, r]));
    for (const r of rows) setText(r.seen, seenText(r.desk));
    syncChildren(this.parts.list, ...(rows.length ? rows.map((r) => r.el) : [this.parts.empty]));
    this.paint();
  }

  private paint(): void {
    const p = this.parts;
    setProp(p.add, "disabled", this.adding || p.name.value.trim() === "");
    setProp(p.name, "disabled", this.adding);
    setText(p.error, this.error);
    setAttr(p.name, "aria-describedby", this.error ? p.error.id : null);
    setAttr(p.name, "aria-invalid", this.error ? "true" : null);
    if (this.code) {
      setText(p.codeLabel, t("office.code", { name: this.code.name }));
      setProp(p.code, "value", this.code.code);
    }
    syncChildren(p.root, p.title, p.list, p.addField, !!this.error && p.error, !!this.code && p.codeBox);
  }

  /** The row for `desk`: the one shown while the desk is unchanged, else a new one. */
  private row(desk: ClientInfo): Row {
    const key = JSON.stringify(desk);
    const old = this.rows.get(desk.name);
    if (old && old.key === key) return old;
    const seen = h("span", { testid: "office-desk-seen" });
    const name = displayName(desk.name, MAX_DESK_NAME);
    let remove: HTMLButtonElement | null = null;
    if (!desk.revoked) {
      remove = button({ label: t("office.revoke"), small: true, variant: "ghost", testid: "office-desk-revoke", onClick: () => void this.revoke(desk.name) });
      remove.setAttribute("aria-label", t("office.revokeLabel", { name }));
    }
    const el = h(
      "li",
      { class: ["desk-row", desk.revoked && "is-revoked"], testid: "office-desk", dataset: { name: desk.name } },
      h(
        "div",
        { class: "desk-main" },
        h("p", { class: "desk-title" }, h("span", { class: "desk-name", testid: "office-desk-name", text: name }), desk.revoked ? badge(t("office.revoked"), "badge-revoked") : null),
        h("p", { class: "desk-meta" }, h("span", { text: t("office.paired", { when: formatListTime(desk.paired_at) }) }), " · ", seen),
      ),
      remove,
    );
    return { el, key, desk, seen };
  }

  private async add(): Promise<void> {
    const p = this.parts;
    const name = p.name.value.trim();
    if (name === "" || this.adding) return;
    this.adding = true;
    this.error = "";
    this.paint();
    try {
      const code = await backend.addDesk(name);
      this.code = { name, code };
      p.name.value = "";
      this.adding = false;
      this.paint();
      this.parts.code.focus();
      this.parts.code.select();
      await this.office.reload();
    } catch (e) {
      this.adding = false;
      this.error = errorText(backend.toBackendError(e));
      this.paint();
      this.parts.name.focus();
    }
  }

  private async revoke(name: string): Promise<void> {
    const ok = await confirmDialog({
      title: t("office.revokeTitle", { name: displayName(name, MAX_DESK_NAME) }),
      body: t("office.revokeBody"),
      confirm: t("office.revoke"),
      danger: true,
      testid: "revoke-desk-dialog",
    });
    if (!ok) return;
    try {
      this.office.adopt(await backend.revokeDesk(name));
      this.host.saved();
      // The button that had the focus went with the row's "Kaldır".
      if (!document.activeElement || document.activeElement === document.body) this.parts.name.focus();
    } catch (e) {
      this.host.ctx.notify.error(e);
    }
  }
}

/** "son görülme: 3 dk önce", or that it has not connected yet. */
function seenText(desk: ClientInfo): string {
  return desk.last_seen ? t("office.lastSeen", { when: formatRelative(desk.last_seen) }) : t("office.neverSeen");
}
