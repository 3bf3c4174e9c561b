// What the settings page's sections share: the host they save through, and their shape.

import type { AppStatus, Settings } from "../../lib/types";
import type { AppContext } from "../view";

export interface SettingsHost {
  readonly ctx: AppContext;
  /** Saves a change of the settings, with "Kaydediliyor…" then "Kaydedildi" in the page header. */
  save(patch: Partial<Settings>): Promise<void>;
  /** "Kaydedildi" in the page header, for what saves its own way (the tunnel, the webhook form). */
  saved(): void;
}

/**
 * One card of the settings page. It builds its DOM once (and again on a language switch, through
 * `rebuild`, keeping its state); `update` changes only the texts, attributes and check states that
 * differ, so a status change leaves inputs, focus, caret and half-typed text alone.
 */
export interface SettingsSection {
  /** The card; a new element after `rebuild`. */
  readonly el: HTMLElement;
  rebuild(): void;
  update(status: AppStatus | null, settings: Settings | null): void;
}
