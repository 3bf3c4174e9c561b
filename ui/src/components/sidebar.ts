// The left sidebar: navigation, the listener's status, the tunnel's, the last event, do not
// disturb. The app re-renders it every 30 s, so "son olay: N dk önce" stays current.

import { h, replaceChildren } from "../lib/dom";
import { formatRelative } from "../lib/format";
import { t } from "../lib/i18n";
import { tunnelDotClass, tunnelOf, tunnelShortText } from "../lib/tunnel";
import type { AppStatus, NavView, TunnelState } from "../lib/types";
import { icon, type IconName } from "./icons";

const NAV: readonly { view: NavView; icon: IconName; key: "nav.history" | "nav.faxes" | "nav.settings" | "nav.guide" }[] = [
  { view: "history", icon: "phone", key: "nav.history" },
  { view: "faxes", icon: "fax", key: "nav.faxes" },
  { view: "settings", icon: "settings", key: "nav.settings" },
  { view: "guide", icon: "guide", key: "nav.guide" },
];

export interface SidebarState {
  active: NavView | null;
  status: AppStatus | null;
  dnd: boolean;
}

type Shown = {
  active: NavView | null;
  navLabels: string[];
  navLabel: string;
  missed: string | null;
  state: string;
  stateText: string;
  listenerError: string | null;
  tunnelState: TunnelState | "unknown";
  tunnelText: string;
  tunnelTitle: string | null;
  last: string;
  dnd: boolean;
  dndText: string;
  dndTitle: string;
  brand: [string, string];
};

export class Sidebar {
  readonly el: HTMLElement;
  private state: SidebarState = { active: null, status: null, dnd: false };
  /** What the built nodes show (see `render`). */
  private renderedKey = "";

  constructor(
    private readonly onNavigate: (view: NavView) => void,
    private readonly onToggleDnd: () => void,
    private readonly onShowMissed: () => void = () => {},
  ) {
    this.el = h("aside", { class: "sidebar", testid: "sidebar" });
    this.render();
  }

  update(patch: Partial<SidebarState>): void {
    this.state = { ...this.state, ...patch };
    this.render();
  }

  /**
   * Builds the sidebar again, unless it would show the same as now: status updates come often
   * while calls arrive (the last event's time), and rebuilt nodes are garbage the web view keeps
   * until its next collection.
   */
  render(): void {
    const shown = this.shown();
    const key = JSON.stringify(shown);
    if (key === this.renderedKey) return;
    this.renderedKey = key;
    this.build(shown);
  }

  /** Everything the sidebar shows, as plain values. */
  private shown(): Shown {
    const s = this.state.status;
    const state = s?.listener.state ?? "unknown";
    const stateText =
      state === "running"
        ? t("listener.running")
        : state === "starting"
          ? t("listener.starting")
          : state === "failed"
            ? t("listener.failed")
            : t("listener.unknown");
    const tunnel = tunnelOf(s);
    return {
      active: this.state.active,
      navLabels: NAV.map((item) => t(item.key)),
      navLabel: t("nav.label"),
      missed: s?.missed_unseen ? t("missed.unseen", { count: String(s.missed_unseen) }) : null,
      state,
      stateText,
      listenerError: s?.listener.error ?? null,
      tunnelState: tunnel?.state ?? "unknown",
      tunnelText: tunnelShortText(tunnel?.state ?? "unknown"),
      tunnelTitle: tunnel ? (tunnel.state === "online" ? tunnel.public_url : tunnel.error) : null,
      last: s?.last_event_at ? t("lastEvent.label", { when: formatRelative(s.last_event_at) }) : t("lastEvent.none"),
      dnd: this.state.dnd,
      dndText: this.state.dnd ? t("dnd.on") : t("dnd.off"),
      dndTitle: this.state.dnd ? t("dnd.toggleOff") : t("dnd.toggleOn"),
      brand: [t("app.name"), t("app.tagline")],
    };
  }

  private build(v: Shown): void {
    const focused = document.activeElement instanceof HTMLElement && this.el.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-testid")
      : null;
    const nav = h("nav", { class: "nav", attrs: { "aria-label": v.navLabel } });
    const ul = h("ul", { class: "nav-list" });
    NAV.forEach((item, i) => {
      const active = v.active === item.view;
      ul.appendChild(
        h(
          "li",
          null,
          h(
            "button",
            {
              class: ["nav-item", active && "active"],
              testid: `nav-${item.view}`,
              attrs: { type: "button", "aria-current": active ? "page" : null },
              on: { click: () => this.onNavigate(item.view) },
            },
            icon(item.icon, "nav-icon"),
            h("span", { text: v.navLabels[i] }),
          ),
        ),
      );
    });
    nav.appendChild(ul);
    if (v.missed !== null) {
      // Stays until the user looks, even when the desktop dropped the missed-calls notice.
      nav.appendChild(
        h(
          "button",
          {
            class: "missed-unseen",
            testid: "sidebar-missed",
            attrs: { type: "button" },
            on: { click: () => this.onShowMissed() },
          },
          icon("missed", "nav-icon"),
          h("span", { text: v.missed }),
        ),
      );
    }

    const dndBtn = h(
      "button",
      {
        class: ["dnd-toggle", v.dnd && "on"],
        testid: "sidebar-dnd",
        title: v.dndTitle,
        attrs: { type: "button", "aria-pressed": v.dnd ? "true" : "false", "aria-label": v.dndTitle },
        on: { click: () => this.onToggleDnd() },
      },
      icon(v.dnd ? "bellOff" : "bell", "dnd-icon"),
      h("span", { class: "dnd-text", text: v.dndText }),
    );

    const footer = h(
      "div",
      { class: "sidebar-footer" },
      dndBtn,
      h(
        "div",
        { class: "listener-status", testid: "listener-status", dataset: { state: v.state }, title: v.listenerError ?? undefined },
        h("span", { class: `status-dot dot-${v.state}`, attrs: { "aria-hidden": "true" } }),
        h("span", { class: "listener-text" }, h("span", { class: "listener-label", text: v.stateText }), h("span", { class: "last-event", testid: "last-event", text: v.last })),
      ),
      h(
        "div",
        { class: "tunnel-status", testid: "sidebar-tunnel", dataset: { state: v.tunnelState }, title: v.tunnelTitle ?? undefined },
        h("span", { class: `status-dot ${tunnelDotClass(v.tunnelState)}`, attrs: { "aria-hidden": "true" } }),
        h("span", { class: "tunnel-label", text: v.tunnelText }),
      ),
    );

    replaceChildren(
      this.el,
      h("div", { class: "brand" }, h("span", { class: "brand-mark", attrs: { "aria-hidden": "true" } }, icon("phone")), h("span", { class: "brand-text" }, h("span", { class: "brand-name", text: v.brand[0] }), h("span", { class: "brand-tag", text: v.brand[1] }))),
      nav,
      footer,
    );
    if (focused) this.el.querySelector<HTMLElement>(`[data-testid="${focused}"]`)?.focus();
  }
}
