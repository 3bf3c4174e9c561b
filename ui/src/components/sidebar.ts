// The left sidebar: navigation, the listener's status, the tunnel's, the last event, do not
// disturb. On a desk of an office: the connection to the receiver instead of the listener and the
// tunnel (the receiver's business), and a warning leading to Settings while the receiver cannot
// be reached. Built once; `refresh` rewrites only what changed (status changes arrive with every
// webhook, and the app refreshes every 30 s so "son olay: N dk önce" stays current), so focus and
// element handles (WebDriver's too) survive.

import { h, setAttr, setText, syncChildren } from "../lib/dom";
import { formatRelative } from "../lib/format";
import { t } from "../lib/i18n";
import { deskInTrouble, deskOf } from "../lib/office";
import { tunnelDotClass, tunnelOf, tunnelShortText } from "../lib/tunnel";
import type { AppStatus, DeskState, DeskStatus, NavView } from "../lib/types";
import { icon, type IconName } from "./icons";
import { setButtonIcon } from "./ui";

const NAV: readonly { view: NavView; icon: IconName; key: "nav.history" | "nav.faxes" | "nav.contacts" | "nav.settings" | "nav.guide" }[] = [
  { view: "history", icon: "phone", key: "nav.history" },
  { view: "faxes", icon: "fax", key: "nav.faxes" },
  { view: "contacts", icon: "user", key: "nav.contacts" },
  { view: "settings", icon: "settings", key: "nav.settings" },
  { view: "guide", icon: "guide", key: "nav.guide" },
];

/** A desk's connection in a few words, and its dot. */
const DESK_LINE: Record<DeskState, { key: `office.short.${DeskState}`; dot: string }> = {
  connected: { key: "office.short.connected", dot: "dot-running" },
  connecting: { key: "office.short.connecting", dot: "dot-starting" },
  catching_up: { key: "office.short.catching_up", dot: "dot-starting" },
  unreachable: { key: "office.short.unreachable", dot: "dot-failed" },
  refused: { key: "office.short.refused", dot: "dot-failed" },
};

export interface SidebarState {
  active: NavView | null;
  status: AppStatus | null;
  dnd: boolean;
}

export class Sidebar {
  readonly el: HTMLElement;
  private state: SidebarState = { active: null, status: null, dnd: false };

  private readonly brandName = h("span", { class: "brand-name" });
  private readonly brandTag = h("span", { class: "brand-tag" });
  private readonly nav: HTMLElement;
  private readonly navList = h("ul", { class: "nav-list" });
  private readonly navItems: { view: NavView; key: (typeof NAV)[number]["key"]; button: HTMLButtonElement; label: HTMLElement }[] = [];
  private readonly missed: HTMLButtonElement;
  private readonly missedText = h("span");
  private readonly officeWarning: HTMLButtonElement;
  private readonly officeWarningText = h("span");
  private readonly footer: HTMLElement;
  private readonly dnd: HTMLButtonElement;
  private readonly dndText = h("span", { class: "dnd-text" });
  private readonly listener: HTMLElement;
  private readonly listenerDot = h("span", { attrs: { "aria-hidden": "true" } });
  private readonly listenerLabel = h("span", { class: "listener-label" });
  private readonly lastEvent = h("span", { class: "last-event", testid: "last-event" });
  private readonly tunnel: HTMLElement;
  private readonly tunnelDot = h("span", { attrs: { "aria-hidden": "true" } });
  private readonly tunnelLabel = h("span", { class: "tunnel-label" });

  constructor(
    private readonly onNavigate: (view: NavView) => void,
    private readonly onToggleDnd: () => void,
    private readonly onShowMissed: () => void = () => {},
  ) {
    for (const item of NAV) {
      const label = h("span");
      const button = h(
        "button",
        {
          class: "nav-item",
          testid: `nav-${item.view}`,
          attrs: { type: "button" },
          on: { click: () => this.onNavigate(item.view) },
        },
        icon(item.icon, "nav-icon"),
        label,
      );
      this.navItems.push({ view: item.view, key: item.key, button, label });
      this.navList.appendChild(h("li", null, button));
    }
    // Stays until the user looks, even when the desktop dropped the missed-calls notice.
    this.missed = h(
      "button",
      { class: "missed-unseen", testid: "sidebar-missed", attrs: { type: "button" }, on: { click: () => this.onShowMissed() } },
      icon("missed", "nav-icon"),
      this.missedText,
    );
    // The receiver cannot be reached or refuses this desk: Settings says what to do.
    this.officeWarning = h(
      "button",
      { class: "office-warning", testid: "sidebar-office-warning", attrs: { type: "button" }, on: { click: () => this.onNavigate("settings") } },
      icon("alert", "nav-icon"),
      this.officeWarningText,
    );
    this.nav = h("nav", { class: "nav" }, this.navList);
    this.dnd = h(
      "button",
      { class: "dnd-toggle", testid: "sidebar-dnd", attrs: { type: "button" }, on: { click: () => this.onToggleDnd() } },
      icon("bell", "dnd-icon"),
      this.dndText,
    );
    this.listener = h(
      "div",
      { class: "listener-status", testid: "listener-status" },
      this.listenerDot,
      h("span", { class: "listener-text" }, this.listenerLabel, this.lastEvent),
    );
    this.tunnel = h("div", { class: "tunnel-status", testid: "sidebar-tunnel" }, this.tunnelDot, this.tunnelLabel);
    this.footer = h("div", { class: "sidebar-footer" }, this.dnd, this.listener, this.tunnel);
    this.el = h(
      "aside",
      { class: "sidebar", testid: "sidebar" },
      h(
        "div",
        { class: "brand" },
        h("span", { class: "brand-mark", attrs: { "aria-hidden": "true" } }, icon("phone")),
        h("span", { class: "brand-text" }, this.brandName, this.brandTag),
      ),
      this.nav,
      this.footer,
    );
    this.refresh();
  }

  update(patch: Partial<SidebarState>): void {
    this.state = { ...this.state, ...patch };
    this.refresh();
  }

  /** Rewrites what changed: texts (the language too), states, the relative time of the last event. */
  refresh(): void {
    setText(this.brandName, t("app.name"));
    setText(this.brandTag, t("app.tagline"));
    setAttr(this.nav, "aria-label", t("nav.label"));
    for (const item of this.navItems) {
      const active = this.state.active === item.view;
      item.button.classList.toggle("active", active);
      setAttr(item.button, "aria-current", active ? "page" : null);
      setText(item.label, t(item.key));
    }

    const s = this.state.status;
    const missed = s?.missed_unseen ?? 0;
    if (missed > 0) setText(this.missedText, t("missed.unseen", { count: String(missed) }));
    const desk = deskOf(s);
    const trouble = deskInTrouble(desk);
    if (trouble) {
      setText(this.officeWarningText, t("office.warning"));
      setAttr(this.officeWarning, "title", desk?.error || null);
    }
    syncChildren(this.nav, this.navList, missed > 0 && this.missed, trouble && this.officeWarning);

    const dnd = this.state.dnd;
    const dndLabel = dnd ? t("dnd.toggleOff") : t("dnd.toggleOn");
    this.dnd.classList.toggle("on", dnd);
    setAttr(this.dnd, "title", dndLabel);
    setAttr(this.dnd, "aria-label", dndLabel);
    setAttr(this.dnd, "aria-pressed", dnd ? "true" : "false");
    setButtonIcon(this.dnd, dnd ? "bellOff" : "bell");
    setText(this.dndText, dnd ? t("dnd.on") : t("dnd.off"));

    if (desk) this.paintDesk(desk);
    else this.paintListener(s);
    setText(this.lastEvent, s?.last_event_at ? t("lastEvent.label", { when: formatRelative(s.last_event_at) }) : t("lastEvent.none"));
  }

  /** A desk: its connection to the receiver where the listener would be; no tunnel. */
  private paintDesk(desk: DeskStatus): void {
    const { key, dot } = DESK_LINE[desk.state] ?? DESK_LINE.connecting;
    setAttr(this.listener, "data-state", desk.state);
    setAttr(this.listener, "title", desk.error || desk.receiver || null);
    setAttr(this.listenerDot, "class", `status-dot ${dot}`);
    setText(this.listenerLabel, t(key));
    syncChildren(this.footer, this.dnd, this.listener);
  }

  private paintListener(s: AppStatus | null): void {
    const state = s?.listener.state ?? "unknown";
    const stateText =
      state === "running"
        ? t("listener.running")
        : state === "starting"
          ? t("listener.starting")
          : state === "failed"
            ? t("listener.failed")
            : t("listener.unknown");
    setAttr(this.listener, "data-state", state);
    setAttr(this.listener, "title", s?.listener.error || null);
    setAttr(this.listenerDot, "class", `status-dot dot-${state}`);
    setText(this.listenerLabel, stateText);

    const tunnel = tunnelOf(s);
    const tunnelState = tunnel?.state ?? "unknown";
    setAttr(this.tunnel, "data-state", tunnelState);
    setAttr(this.tunnel, "title", (tunnel?.state === "online" ? tunnel.public_url : tunnel?.error) || null);
    setAttr(this.tunnelDot, "class", `status-dot ${tunnelDotClass(tunnelState)}`);
    setText(this.tunnelLabel, tunnelShortText(tunnelState));
    syncChildren(this.footer, this.dnd, this.listener, this.tunnel);
  }
}
