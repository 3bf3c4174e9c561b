// Settings: the page that holds one card per section, each in ./settings/: how Bulutfon reaches
// Kanca (tunnel.ts: the way, its status, the connection test), the Bulutfon connection
// (connection.ts), Bulutfon's API (bulutfonApi.ts), office mode (office.ts), notifications
// (notifications.ts, with extensions.ts) and general (general.ts). On a desk of an office the
// first three are the receiver's business and are not shown; the office card says so.
// Every change saves at once, except the tunnel's form, which has its own Save button (saving
// restarts the tunnel). The sections are built once and update in place as the status changes;
// only a language switch rebuilds them.

import { h, nextId, setText, syncChildren } from "../lib/dom";
import { t } from "../lib/i18n";
import { isDesk } from "../lib/office";
import type { Settings } from "../lib/types";
import { icon } from "./icons";
import { BulutfonApiSection } from "./settings/bulutfonApi";
import { ConnectionSection } from "./settings/connection";
import { GeneralSection } from "./settings/general";
import { NotificationsSection } from "./settings/notifications";
import { OfficeSection } from "./settings/office";
import type { SettingsHost } from "./settings/section";
import { TunnelSection } from "./settings/tunnel";
import type { AppContext, View } from "./view";

export class SettingsView implements View, SettingsHost {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly savedEl: HTMLElement;
  private savedTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly grid = h("div", { class: "settings-grid" });
  private readonly loading = h("p", { class: "muted" });
  private readonly tunnel: TunnelSection;
  private readonly connection: ConnectionSection;
  private readonly api: BulutfonApiSection;
  private readonly office: OfficeSection;
  private readonly notifications: NotificationsSection;
  private readonly general: GeneralSection;
  private mounted = false;

  constructor(readonly ctx: AppContext) {
    const titleId = nextId("settings-title");
    this.title = h("h1", { class: "view-title", id: titleId });
    this.savedEl = h("span", { class: "saved-indicator", testid: "settings-saved", attrs: { "aria-live": "polite" } });
    this.el = h(
      "section",
      { class: "view view-settings", testid: "view-settings", attrs: { "aria-labelledby": titleId } },
      h("header", { class: "view-header" }, this.title, this.savedEl),
      h("div", { class: "view-scroll" }, this.grid),
    );
    this.tunnel = new TunnelSection(this);
    this.connection = new ConnectionSection(this);
    this.api = new BulutfonApiSection(this);
    this.office = new OfficeSection(this);
    this.notifications = new NotificationsSection(this);
    this.general = new GeneralSection(this);
    this.paintTexts();
  }

  private paintTexts(): void {
    setText(this.title, t("settings.title"));
    setText(this.loading, t("settings.loading"));
  }

  /** Shows the app's status and settings: each section changes what differs, nothing is rebuilt. */
  update(): void {
    const status = this.ctx.status();
    const settings = this.ctx.settings();
    if (!status && !settings) {
      syncChildren(this.grid, this.loading);
      return;
    }
    const desk = isDesk(status);
    this.office.update(status);
    if (!desk) {
      this.tunnel.update(status);
      this.connection.update(status);
      this.api.update(status, settings);
    }
    if (settings) {
      this.notifications.update(status, settings);
      this.general.update(status, settings);
    }
    // A desk: the receiver handles how Bulutfon reaches Kanca, the connection and the API.
    syncChildren(
      this.grid,
      desk && this.office.el,
      !desk && this.tunnel.el,
      !desk && this.connection.el,
      !desk && this.api.el,
      !desk && this.office.el,
      settings && this.notifications.el,
      settings && this.general.el,
    );
  }

  /** Opened from the guide: focus the chosen way (once the form is there). */
  focusTunnel(): void {
    this.tunnel.focusMode();
  }

  // ---- SettingsHost ----

  async save(patch: Partial<Settings>): Promise<void> {
    this.showSaved(t("settings.saving"), false);
    const ok = await this.ctx.updateSettings(patch);
    if (ok) this.saved();
    else this.showSaved("", false);
  }

  saved(): void {
    this.showSaved(t("settings.saved"), true);
  }

  /** "Kaydediliyor…", then "Kaydedildi" with a check that fades after two seconds. */
  private showSaved(text: string, done: boolean): void {
    const el = this.savedEl;
    el.textContent = text;
    el.classList.toggle("visible", text !== "");
    if (text && done) el.insertBefore(icon("check", "saved-icon"), el.firstChild);
    if (this.savedTimer) clearTimeout(this.savedTimer);
    this.savedTimer = null;
    if (done && text) this.savedTimer = setTimeout(() => el.classList.remove("visible"), 2000);
  }

  // ---- view lifecycle ----

  mount(): void {
    this.mounted = true;
    this.update();
    this.office.mount();
    if (!isDesk(this.ctx.status())) this.tunnel.mount();
  }

  unmount(): void {
    this.mounted = false;
    this.tunnel.unmount();
    this.office.unmount();
  }

  /** A language switch: the sections are built again with their state; the focus stays put. */
  rerender(): void {
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && this.el.contains(active) ? active.getAttribute("data-testid") : null;
    this.paintTexts();
    this.tunnel.rebuild();
    this.connection.rebuild();
    this.api.rebuild();
    this.office.rebuild();
    this.notifications.rebuild();
    this.general.rebuild();
    this.update();
    if (focused && this.mounted) this.el.querySelector<HTMLElement>(`[data-testid="${focused}"]`)?.focus();
  }

  focus(): void {
    const first = this.el.querySelector<HTMLElement>("button, input, select");
    first?.focus();
  }
}
