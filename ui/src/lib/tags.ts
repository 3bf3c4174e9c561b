// The tags in use and their colours, shared by every place that shows a tag (list rows, the tag
// filter, the call detail), so a colour chosen in one shows in all of them at once.

import { listTags, setTagColour } from "./backend";
import { t, type MessageKey } from "./i18n";
import type { Tag, TagColour } from "./types";

/** The palette, in the order the picker shows it (the engine's PALETTE). */
export const TAG_COLOURS: readonly TagColour[] = ["red", "orange", "yellow", "green", "teal", "blue", "purple", "grey"];

// A Record over the generated type: a colour added to the engine's palette fails the type check
// here until it has a name in both languages.
const COLOUR_NAMES: Record<TagColour, MessageKey> = {
  red: "tag.colour.red",
  orange: "tag.colour.orange",
  yellow: "tag.colour.yellow",
  green: "tag.colour.green",
  teal: "tag.colour.teal",
  blue: "tag.colour.blue",
  purple: "tag.colour.purple",
  grey: "tag.colour.grey",
};

/** A colour's name in the current language ("Kırmızı"). */
export function colourName(colour: TagColour): string {
  return t(COLOUR_NAMES[colour]);
}

export function isTagColour(value: unknown): value is TagColour {
  return typeof value === "string" && (TAG_COLOURS as readonly string[]).includes(value);
}

/** `name` is the tag whose colour changed, or null when any may have (a fresh list). */
export type TagListener = (name: string | null) => void;

export class TagStore {
  private tags = new Map<string, Tag>();
  private readonly listeners = new Set<TagListener>();

  /** Every known tag, by name (as the engine sorts them). */
  list(): Tag[] {
    return [...this.tags.values()];
  }

  /** A tag's colour; null while the engine has not said (a tag saved a moment ago). */
  colourOf(name: string): TagColour | null {
    return this.tags.get(name)?.colour ?? null;
  }

  /** Reads the tags from the engine; rejects as the backend does. */
  async load(): Promise<void> {
    this.adopt(await listTags(), null);
  }

  /** Chooses a tag's colour; everything listening shows it once the engine has stored it. */
  async setColour(name: string, colour: TagColour): Promise<void> {
    this.adopt(await setTagColour(name, colour), name);
  }

  onChange(cb: TagListener): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private adopt(tags: Tag[], changed: string | null): void {
    this.tags = new Map(tags.filter((tag) => isTagColour(tag.colour)).map((tag) => [tag.name, tag]));
    for (const l of [...this.listeners]) l(changed);
  }
}
