// The user's note and tags on a call, in the call detail. Built once per call shown and kept
// across the detail's re-renders (a webhook for the call re-renders it), so text being typed
// is never lost; saved only when the user says so.

import { setCallNote, setCallTags } from "../lib/backend";
import { h, nextId } from "../lib/dom";
import { t } from "../lib/i18n";
import type { Call } from "../lib/types";
import { parseTags } from "./contactForm";
import { button } from "./ui";
import type { AppContext } from "./view";

export class CallNotes {
  readonly el: HTMLElement;
  private uuid: string | null = null;
  private dirty = false;
  private readonly note: HTMLTextAreaElement;
  private readonly tags: HTMLInputElement;
  private readonly save: HTMLButtonElement;

  constructor(
    private readonly ctx: AppContext,
    private readonly onSaved: () => void,
  ) {
    const noteId = nextId("call-note");
    const tagsId = nextId("call-tags");
    const titleId = nextId("call-notes");
    const edited = () => {
      this.dirty = true;
      this.save.disabled = false;
    };
    this.note = h("textarea", { id: noteId, class: "text-input wide", testid: "detail-note", attrs: { rows: 2 }, on: { input: edited } });
    this.tags = h("input", { id: tagsId, class: "text-input wide", testid: "detail-tags", attrs: { type: "text", autocomplete: "off" }, on: { input: edited } });
    this.save = button({ label: t("notes.save"), variant: "primary", small: true, testid: "detail-note-save", onClick: () => void this.store() });
    this.el = h(
      "section",
      { class: "card", testid: "detail-notes", attrs: { "aria-labelledby": titleId } },
      h("h2", { class: "card-title", id: titleId, text: t("notes.title") }),
      h("div", { class: "field" }, h("label", { class: "field-label", attrs: { for: noteId }, text: t("notes.note") }), this.note),
      h("div", { class: "field" }, h("label", { class: "field-label", attrs: { for: tagsId }, text: t("notes.tags") }), this.tags),
      h("div", { class: "card-actions" }, this.save),
    );
  }

  /** Shows `call`'s note and tags, unless the user is editing this call's. */
  set(call: Call): void {
    if (call.uuid === this.uuid && this.dirty) return;
    this.uuid = call.uuid;
    this.dirty = false;
    this.note.value = call.note ?? "";
    this.tags.value = call.tags.join(", ");
    this.save.disabled = true;
  }

  private async store(): Promise<void> {
    const uuid = this.uuid;
    if (!uuid) return;
    this.save.disabled = true;
    try {
      await setCallNote(uuid, this.note.value);
      await setCallTags(uuid, parseTags(this.tags.value));
      this.dirty = false;
      this.ctx.notify.toast(t("notes.saved"));
      this.onSaved();
    } catch (e) {
      this.save.disabled = false;
      this.ctx.notify.error(e);
    }
  }
}
