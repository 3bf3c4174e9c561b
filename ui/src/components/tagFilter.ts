// The list's tag filter: a button showing the chosen tag as its coloured chip, opening a menu of
// the tags in use (each a chip, with how many calls carry it).

import { h, setAttr, syncChildren } from "../lib/dom";
import { t } from "../lib/i18n";
import type { TagStore } from "../lib/tags";
import type { Tag } from "../lib/types";
import { icon } from "./icons";
import { openMenu, type MenuItem } from "./menu";
import { tagChip } from "./tagChip";

export class TagFilter {
  readonly el: HTMLButtonElement;
  private chosen = "";
  private readonly placeholder = h("span", { class: "tag-filter-label" });
  private readonly chevron = icon("chevron");

  constructor(
    private readonly tags: TagStore,
    private readonly onChoose: (tag: string) => void,
  ) {
    this.el = h("button", {
      class: "tag-filter",
      testid: "filter-tag",
      attrs: { type: "button", "aria-haspopup": "menu", "aria-expanded": "false" },
      on: { click: () => this.open() },
    });
    this.update();
  }

  /** The tag chosen ("" for every call), as the list's filters say. */
  set(tag: string): void {
    this.chosen = tag;
    this.update();
  }

  /** Shows the choice in the current tags' colours; hidden while no tag is in use. */
  update(): void {
    // Focus stays on the button: only what is inside it changes.
    const chip = this.chosen ? tagChip(this.chosen, this.tags.colourOf(this.chosen), { testid: "filter-tag-chosen" }) : null;
    this.placeholder.textContent = t("filter.tagButton");
    syncChildren(this.el, chip ?? this.placeholder, this.chevron);
    setAttr(this.el, "aria-label", this.chosen ? t("filter.tagChosen", { tag: this.chosen }) : t("filter.tag"));
    this.el.hidden = this.offered().length === 0;
  }

  /** The tags a user can filter by: those on some call, and the chosen one whatever it is. */
  private offered(): Tag[] {
    const tags = this.tags.list().filter((tag) => tag.calls > 0 || tag.name === this.chosen);
    if (this.chosen && !tags.some((tag) => tag.name === this.chosen)) tags.push({ name: this.chosen, colour: "grey", calls: 0 });
    return tags;
  }

  private open(): void {
    const choose = (tag: string) => () => {
      if (tag === this.chosen) return;
      this.set(tag);
      this.onChoose(tag);
    };
    const items: MenuItem[] = [
      { label: t("filter.tagAll"), testid: "filter-tag-all", checked: this.chosen === "", onSelect: choose("") },
      ...this.offered().map((tag) => ({
        label: tag.name,
        testid: "filter-tag-option",
        content: tagChip(tag.name, this.tags.colourOf(tag.name), { max: 40 }),
        trail: tag.calls > 0 ? String(tag.calls) : undefined,
        checked: tag.name === this.chosen,
        onSelect: choose(tag.name),
      })),
    ];
    this.el.setAttribute("aria-expanded", "true");
    openMenu({ label: t("filter.tag"), testid: "filter-tag-menu", items, at: this.el, returnFocus: this.el, onClose: () => this.el.setAttribute("aria-expanded", "false") });
  }
}
