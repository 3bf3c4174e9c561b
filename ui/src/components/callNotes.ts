// The user's note and tags on a call, in the call detail. Built once per call shown and kept
// across the detail's re-renders (a webhook for the call re-renders it), so text being typed
// is never lost; saved only when the user says so. The saved tags show as chips; a click on
// one opens the palette to choose its colour.

import { setCallNote, setCallTags } from "../lib/backend";
import { h, nextId, setAttr, syncChildren } from "../lib/dom";
import { t } from "../lib/i18n";
import { colourName, TAG_COLOURS } from "../lib/tags";
import type { Call, TagColour } from "../lib/types";
import { parseTags } from "./contactForm";
import { openMenu } from "./menu";
import { tagChip } from "./tagChip";
import { button } from "./ui";
import type { AppContext } from "./view";

export class CallNotes {
  readonly el: HTMLElement;
  private uuid: string | null = null;
  private dirty = false;
  private readonly note: HTMLTextAreaElement;
  private readonly tags: HTMLInputElement;
  private readonly save: HTMLButtonElement;
  private readonly chips: HTMLElement;
  private readonly chipsHint: HTMLElement;
  /** The chip buttons of the saved tags, by tag. */
  private chipButtons = new Map<string, HTMLButtonElement>();
  private readonly stopTags: () => void;

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
    this.chipsHint = h("span", { class: "tag-chips-hint", text: t("notes.tagsHint") });
    this.chips = h("div", { class: "tag-chips", testid: "detail-tag-chips" });
    this.stopTags = ctx.tags.onChange(() => this.recolour());
    this.el = h(
      "section",
      { class: "card", testid: "detail-notes", attrs: { "aria-labelledby": titleId } },
      h("h2", { class: "card-title", id: titleId, text: t("notes.title") }),
      h("div", { class: "field" }, h("label", { class: "field-label", attrs: { for: noteId }, text: t("notes.note") }), this.note),
      h("div", { class: "field" }, h("label", { class: "field-label", attrs: { for: tagsId }, text: t("notes.tags") }), this.tags, this.chips),
      h("div", { class: "card-actions" }, this.save),
    );
  }

  /** Stops following tag colours (the detail made a new editor). */
  dispose(): void {
    this.stopTags();
  }

  /** Shows `call`'s note and tags, unless the user is editing this call's. */
  set(call: Call): void {
    this.showChips(call.tags);
    if (call.uuid === this.uuid && this.dirty) return;
    this.uuid = call.uuid;
    this.dirty = false;
    this.note.value = call.note ?? "";
    this.tags.value = call.tags.join(", ");
    this.save.disabled = true;
  }

  /** The saved tags as chips; a chip that stays keeps its button (and the focus on it). */
  private showChips(tags: readonly string[]): void {
    const next = new Map<string, HTMLButtonElement>();
    for (const tag of tags) next.set(tag, this.chipButtons.get(tag) ?? this.chipButton(tag));
    this.chipButtons = next;
    syncChildren(this.chips, ...next.values(), next.size > 0 && this.chipsHint);
    this.recolour();
  }

  private chipButton(tag: string): HTMLButtonElement {
    const b: HTMLButtonElement = h(
      "button",
      { class: "tag-chip-button", testid: "detail-tag", attrs: { type: "button", "aria-haspopup": "menu", "aria-expanded": "false" }, on: { click: () => this.openPalette(tag, b) } },
      tagChip(tag, null, { max: 40 }),
    );
    return b;
  }

  /** Each chip in its tag's colour, its label saying which. */
  private recolour(): void {
    for (const [tag, b] of this.chipButtons) {
      const colour = this.ctx.tags.colourOf(tag);
      const chip = b.firstElementChild as HTMLElement;
      if (chip.dataset.colour !== (colour ?? "none")) chip.dataset.colour = colour ?? "none";
      setAttr(b, "aria-label", t("tag.change", { tag, colour: colour ? colourName(colour) : "—" }));
    }
  }

  private openPalette(tag: string, at: HTMLButtonElement): void {
    const current = this.ctx.tags.colourOf(tag);
    at.setAttribute("aria-expanded", "true");
    openMenu({
      label: t("tag.palette", { tag }),
      testid: "tag-palette",
      at,
      returnFocus: at,
      onClose: () => at.setAttribute("aria-expanded", "false"),
      items: TAG_COLOURS.map((colour) => ({
        label: colourName(colour),
        testid: `tag-colour-${colour}`,
        lead: h("span", { class: "tag-swatch", dataset: { colour }, attrs: { "aria-hidden": "true" } }),
        checked: colour === current,
        onSelect: () => void this.pick(tag, colour),
      })),
    });
  }

  private async pick(tag: string, colour: TagColour): Promise<void> {
    try {
      await this.ctx.tags.setColour(tag, colour);
    } catch (e) {
      this.ctx.notify.error(e);
    }
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
