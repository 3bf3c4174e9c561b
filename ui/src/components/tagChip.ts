// A tag as a coloured chip. The tag (user text) goes in as text; the colour is a palette name in
// data-colour, which styles.css maps to shades for the light and dark themes.

import { h } from "../lib/dom";
import { displayName } from "../lib/format";
import type { TagColour } from "../lib/types";

/** data-colour of a tag whose colour is not known yet: a neutral chip. */
const NO_COLOUR = "none";

export function tagChip(name: string, colour: TagColour | null, o: { testid?: string; max?: number } = {}): HTMLSpanElement {
  const shown = displayName(name, o.max ?? 24);
  return h("span", {
    class: "tag-chip",
    testid: o.testid,
    title: shown !== name ? name : undefined,
    dataset: { tag: name, colour: colour ?? NO_COLOUR },
    text: shown,
  });
}

/**
 * Gives the chips under `root` their colour from `colourOf`: those of tag `name`, or all of them
 * when `name` is null. In place, so rows, focus and scroll stay as they are.
 */
export function recolourChips(root: ParentNode, colourOf: (tag: string) => TagColour | null, name: string | null): void {
  for (const chip of root.querySelectorAll<HTMLElement>(".tag-chip")) {
    const tag = chip.dataset.tag;
    if (tag === undefined || (name !== null && tag !== name)) continue;
    const colour = colourOf(tag) ?? NO_COLOUR;
    if (chip.dataset.colour !== colour) chip.dataset.colour = colour;
  }
}
