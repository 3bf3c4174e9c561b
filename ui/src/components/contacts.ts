// The phone book: search (the engine forgives Turkish letters and case), add, edit, delete,
// import (file picker, or files dropped on the window) and export. Also where a call's number is
// added to a new or existing contact ("Kişilere ekle" in the call detail). Names come from
// imported files: untrusted, always set as text.

import * as backend from "../lib/backend";
import { debounce, h, nextId, replaceChildren, setText } from "../lib/dom";
import { displayName, phoneBookNumber } from "../lib/format";
import { t } from "../lib/i18n";
import { phoneBookWritable } from "../lib/office";
import type { Contact, ContactInput, ExportFormat, ImportReport } from "../lib/types";
import { contactForm } from "./contactForm";
import { icon } from "./icons";
import { button, confirmDialog } from "./ui";
import type { AppContext, View } from "./view";

export const CONTACT_SEARCH_DEBOUNCE_MS = 150;
/** Files larger than this are no phone book (and would be slow to hand over as bytes). */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

/** A call's number waiting to join a contact, and the call to go back to afterwards. */
interface PendingNumber {
  number: string;
  callUuid: string | null;
}

export class ContactsView implements View {
  readonly el: HTMLElement;
  private contacts: Contact[] = [];
  private query = "";
  private gen = 0;
  private loaded = false;
  private pending: PendingNumber | null = null;
  /** The call to go back to after editing its contact from the call detail. */
  private returnTo: string | null = null;
  private editing: { contact: Contact | null } | null = null;
  private report: ImportReport | null = null;
  private readonly titleId = nextId("contacts-title");
  private readonly searchSoon = debounce(() => void this.reload(), CONTACT_SEARCH_DEBOUNCE_MS);

  // Built once per render (language switch), updated in place otherwise.
  private searchInput!: HTMLInputElement;
  private fileInput!: HTMLInputElement;
  private countLine!: HTMLElement;
  private pendingHost!: HTMLElement;
  private formHost!: HTMLElement;
  private reportHost!: HTMLElement;
  private listEl!: HTMLElement;
  private focusForm: (() => void) | null = null;
  /** Contacts can be written here: false on a desk whose receiver shares no phone book. */
  private shared = true;

  constructor(private readonly ctx: AppContext) {
    this.el = h("section", {
      class: "view view-contacts",
      testid: "view-contacts",
      attrs: { "aria-labelledby": this.titleId },
      on: {
        dragover: (e) => {
          if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
        },
        drop: (e) => {
          const files = Array.from(e.dataTransfer?.files ?? []);
          if (files.length === 0 || !this.shared) return;
          e.preventDefault();
          void this.importFiles(files);
        },
      },
    });
    this.build();
  }

  // ---- View ----

  mount(): void {
    // The receiver this desk follows may have changed what it shares since the view was built.
    if (this.shared !== this.bookShared()) this.build();
    if (!this.loaded) void this.reload();
  }

  unmount(): void {}

  rerender(): void {
    this.build();
  }

  focus(): void {
    if (this.editing && this.focusForm) this.focusForm();
    else this.searchInput.focus();
  }

  /** The phone book changed elsewhere (another desk, the receiver): list it again if shown. */
  refresh(): void {
    if (this.loaded) void this.reload();
  }

  get items(): readonly Contact[] {
    return this.contacts;
  }

  // ---- entry points from elsewhere ----

  /** "Kişilere ekle" on a call: a new contact with the number, or pick one to add it to. */
  addNumber(number: string, callUuid: string | null): void {
    // No form where contacts cannot be written: the view says why.
    if (!this.bookShared()) return this.build();
    this.pending = { number, callUuid };
    this.editing = { contact: null };
    this.build();
    void this.reload();
    this.focus();
  }

  /** "Düzenle" on a call of a known number: the contact's form. */
  async editContactOf(number: string, callUuid: string | null): Promise<void> {
    if (!this.bookShared()) return this.build();
    try {
      const found = await backend.listContacts(number);
      const contact = found[0] ?? null;
      this.pending = contact ? null : { number, callUuid };
      this.returnTo = callUuid;
      this.editing = { contact };
      this.build();
      void this.reload();
      this.focus();
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }

  /** Files dropped on the window (paths, from the shell). */
  async importPaths(paths: string[]): Promise<void> {
    await this.runImport(() => backend.importContacts(paths));
  }

  // ---- DOM ----

  private bookShared(): boolean {
    return phoneBookWritable(this.ctx.status());
  }

  private build(): void {
    this.shared = this.bookShared();
    this.searchInput = h("input", {
      class: "search-input",
      testid: "contacts-search",
      attrs: { type: "search", autocomplete: "off", spellcheck: "false", "aria-label": t("contacts.search"), placeholder: t("contacts.search") },
      on: {
        input: () => {
          this.query = this.searchInput.value;
          this.searchSoon();
        },
        keydown: (e) => {
          if (e.key === "Enter") this.searchSoon.flush();
        },
      },
    });
    this.searchInput.value = this.query;
    const fileId = nextId("contacts-file");
    this.fileInput = h("input", {
      id: fileId,
      class: "sr-only",
      testid: "contacts-import-input",
      attrs: { type: "file", multiple: true, accept: ".vcf,.vcard,.csv,.txt,text/vcard,text/csv" },
      on: {
        change: () => {
          const files = Array.from(this.fileInput.files ?? []);
          this.fileInput.value = "";
          if (files.length > 0) void this.importFiles(files);
        },
      },
    });
    // A label styled as a button opens the picker (a real click on a real input, for WebDriver too).
    const importBtn = h(
      "label",
      { class: "btn btn-secondary", testid: "contacts-import", attrs: { for: fileId, tabindex: 0, role: "button" } },
      icon("inbox"),
      h("span", { class: "btn-label", text: t("contacts.import") }),
    );
    importBtn.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        this.fileInput.click();
      }
    });
    const exportBtn = (format: ExportFormat) =>
      button({ label: t(format === "vcard" ? "contacts.exportVcard" : "contacts.exportCsv"), testid: `contacts-export-${format}`, onClick: () => void this.export(format) });
    this.countLine = h("p", { class: "list-status", testid: "contacts-count", attrs: { "aria-live": "polite" } });
    this.pendingHost = h("div", { class: "contacts-pending" });
    this.formHost = h("div");
    this.reportHost = h("div", { testid: "contacts-report-host" });
    this.listEl = h("ul", { class: "contact-list", testid: "contact-list", attrs: { "aria-labelledby": this.titleId } });
    replaceChildren(
      this.el,
      h("header", { class: "view-header" }, h("h1", { class: "view-title", id: this.titleId, text: t("contacts.title") }), this.countLine),
      h(
        "div",
        { class: "toolbar" },
        h("div", { class: "search-field" }, icon("search", "search-icon"), this.searchInput),
        this.shared
          ? h(
              "div",
              { class: "toolbar-row" },
              button({ label: t("contacts.add"), icon: "plus", variant: "primary", testid: "contacts-add", onClick: () => this.startForm(null) }),
              importBtn,
              this.fileInput,
              exportBtn("vcard"),
              exportBtn("csv"),
            )
          : null,
      ),
      h(
        "div",
        { class: "view-scroll" },
        this.shared ? null : h("p", { class: "inline-warning", testid: "contacts-not-shared", text: t("contacts.notShared") }),
        this.pendingHost,
        this.formHost,
        this.reportHost,
        this.shared ? h("p", { class: "field-hint contacts-drop-hint", text: t("contacts.dropHint") }) : null,
        this.listEl,
      ),
    );
    this.renderPending();
    this.renderForm();
    this.renderReport();
    this.renderList();
  }

  private renderPending(): void {
    const p = this.pending;
    replaceChildren(
      this.pendingHost,
      p ? h("p", { class: "inline-warning", testid: "contacts-pending", text: t("contacts.addNumber", { number: p.number }) }) : null,
    );
  }

  private renderForm(): void {
    this.focusForm = null;
    if (!this.editing) {
      replaceChildren(this.formHost);
      return;
    }
    const contact = this.editing.contact;
    const form = contactForm({
      contact,
      number: this.pending?.number ?? null,
      onSave: (input) => this.save(contact, input),
      onCancel: () => this.closeForm(),
    });
    this.focusForm = form.focus;
    replaceChildren(this.formHost, form.el);
  }

  private renderReport(): void {
    const r = this.report;
    if (!r) {
      replaceChildren(this.reportHost);
      return;
    }
    const summary = t("contacts.report", { added: r.added, updated: r.updated, unchanged: r.unchanged, skipped: r.skipped.length });
    const skips = r.skipped.slice(0, 50).map((s) => h("li", { text: `${s.where}: ${s.reason}` }));
    if (r.skipped.length > 50) skips.push(h("li", { text: t("contacts.reportMore", { n: r.skipped.length - 50 }) }));
    replaceChildren(
      this.reportHost,
      h(
        "div",
        { class: "card contacts-report", testid: "contacts-report", attrs: { role: "status" } },
        h("p", { class: "contacts-report-summary", testid: "contacts-report-summary", text: summary }),
        skips.length > 0 ? h("ul", { class: "contacts-skips", testid: "contacts-skips" }, ...skips) : null,
        h("div", { class: "card-actions" }, button({ label: t("action.close"), small: true, variant: "ghost", onClick: () => this.setReport(null) })),
      ),
    );
  }

  private setReport(r: ImportReport | null): void {
    this.report = r;
    this.renderReport();
  }

  private renderList(): void {
    const rows = this.contacts.map((c) => this.renderRow(c));
    replaceChildren(this.listEl, ...rows);
    let status = "";
    if (this.loaded) {
      if (this.contacts.length === 0) status = this.query.trim() ? t("contacts.noMatch") : this.shared ? t("contacts.empty") : "";
      else status = t("contacts.count", { n: this.contacts.length });
    }
    setText(this.countLine, status);
  }

  private renderRow(c: Contact): HTMLElement {
    const actions = this.pending
      ? [button({ label: t("contacts.addHere"), small: true, variant: "primary", testid: "contact-add-here", onClick: () => void this.addPendingTo(c) })]
      : [
          button({ label: t("contacts.edit"), small: true, testid: "contact-edit", onClick: () => this.startForm(c) }),
          button({ label: t("contacts.delete"), small: true, variant: "ghost", testid: "contact-delete", onClick: () => void this.remove(c) }),
        ];
    return h(
      "li",
      { class: "contact-row", testid: "contact-row", dataset: { id: String(c.id) } },
      h(
        "div",
        { class: "contact-main" },
        h(
          "p",
          { class: "contact-title" },
          h("span", { class: "contact-name", testid: "contact-name", text: displayName(c.name) }),
          c.company ? h("span", { class: "contact-company", text: displayName(c.company) }) : null,
          ...c.tags.map((tag) => h("span", { class: "badge contact-tag", text: displayName(tag, 40) })),
        ),
        h("p", { class: "contact-numbers", testid: "contact-numbers", text: c.numbers.map((n) => (n.label ? `${phoneBookNumber(n)} (${n.label})` : phoneBookNumber(n))).join(" · ") }),
        c.note ? h("p", { class: "contact-note", text: displayName(c.note, 200) }) : null,
      ),
      h("div", { class: "contact-actions" }, ...actions),
    );
  }

  // ---- actions ----

  private async reload(): Promise<void> {
    const gen = ++this.gen;
    try {
      const found = await backend.listContacts(this.query.trim());
      if (gen !== this.gen) return;
      this.contacts = found;
      this.loaded = true;
      this.renderList();
    } catch (e) {
      if (gen === this.gen) this.ctx.notify.error(e);
    }
  }

  private startForm(contact: Contact | null): void {
    this.editing = { contact };
    this.renderForm();
    this.focusForm?.();
  }

  private closeForm(): void {
    const back = this.pending?.callUuid ?? this.returnTo;
    this.editing = null;
    this.pending = null;
    this.returnTo = null;
    this.renderPending();
    this.renderForm();
    this.renderList();
    if (back) this.ctx.openCall(back);
    else this.searchInput.focus();
  }

  private async save(before: Contact | null, input: ContactInput): Promise<void> {
    const saved = before ? await backend.updateContact(before.id, input) : await backend.addContact(input);
    this.ctx.notify.toast(t("contacts.saved", { name: saved.name }));
    this.ctx.annotationsChanged?.();
    await this.reload();
    this.closeForm();
  }

  private async addPendingTo(c: Contact): Promise<void> {
    const p = this.pending;
    if (!p) return;
    try {
      const saved = await backend.addNumberToContact(c.id, { raw: p.number, label: null });
      this.ctx.notify.toast(t("contacts.numberAdded", { name: saved.name }));
      this.ctx.annotationsChanged?.();
      await this.reload();
      this.closeForm();
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }

  private async remove(c: Contact): Promise<void> {
    const ok = await confirmDialog({
      title: t("contacts.deleteTitle"),
      body: t("contacts.deleteBody", { name: displayName(c.name) }),
      confirm: t("contacts.delete"),
      danger: true,
      testid: "contact-delete-dialog",
    });
    if (!ok) return;
    try {
      await backend.deleteContact(c.id);
      this.ctx.notify.toast(t("contacts.deleted"));
      this.ctx.annotationsChanged?.();
      await this.reload();
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }

  private async importFiles(files: File[]): Promise<void> {
    await this.runImport(async () => {
      const total: ImportReport = { added: 0, updated: 0, unchanged: 0, skipped: [] };
      for (const f of files) {
        if (f.size > MAX_IMPORT_BYTES) {
          total.skipped.push({ where: f.name, reason: t("contacts.tooLarge") });
          continue;
        }
        const r = await backend.importContactFile(f.name, new Uint8Array(await f.arrayBuffer()));
        total.added += r.added;
        total.updated += r.updated;
        total.unchanged += r.unchanged;
        total.skipped.push(...r.skipped);
      }
      return total;
    });
  }

  private async runImport(work: () => Promise<ImportReport>): Promise<void> {
    setText(this.countLine, t("contacts.importing"));
    try {
      this.setReport(await work());
    } catch (e) {
      this.ctx.notify.error(e);
    }
    this.ctx.annotationsChanged?.();
    await this.reload();
  }

  private async export(format: ExportFormat): Promise<void> {
    try {
      const path = await backend.exportContacts(format);
      this.ctx.notify.toast(t("contacts.exported", { path }), 8000);
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }
}
