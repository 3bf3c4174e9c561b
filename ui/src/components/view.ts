// What the views share: the app context they act through, and the view lifecycle.

import type { TagStore } from "../lib/tags";
import type { AppStatus, NavView, Settings } from "../lib/types";
import type { Notifier } from "./notifier";

export interface AppContext {
  readonly notify: Notifier;
  /** The tags in use and their colours, shared by every view that shows tags. */
  readonly tags: TagStore;
  status(): AppStatus | null;
  settings(): Settings | null;
  /** Saves a change of settings (serialised, optimistic); resolves false when it failed. */
  updateSettings(patch: Partial<Settings>): Promise<boolean>;
  setStatus(status: AppStatus): void;
  navigate(view: NavView): void;
  /** Opens the settings at "How Bulutfon reaches Kanca", focus on the chosen way. */
  showTunnelSettings(): void;
  /** Opens a call; `then` "call_back" asks there whether to call back (a pop-up's or a menu's "Geri ara"). */
  openCall(uuid: string, then?: "call_back" | null): void;
  /** The contacts view with a call's number: a new contact or an existing one (`known`: edit
   * the contact the number belongs to). Optional: test contexts leave it out. */
  addToContacts?(number: string, callUuid: string | null, known: boolean): void;
  /** The user is looking at the missed calls (optional: test contexts leave it out). */
  missedSeen?(): void;
  /** Names, notes or tags changed: lists read calls afresh when next shown (optional in test
   * contexts). */
  annotationsChanged?(): void;
  /** Copies to the clipboard; shows an error and resolves false when it failed. */
  copy(text: string): Promise<boolean>;
}

export interface View {
  readonly el: HTMLElement;
  /** After the view's element is put on screen. */
  mount(): void;
  /** Before it is taken off screen. */
  unmount(): void;
  /** Rebuild texts (language switch) keeping state. */
  rerender(): void;
  /** Moves focus to the view's main control. */
  focus(): void;
}
