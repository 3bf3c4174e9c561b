// The left sidebar: navigation, the listener's status, the tunnel's, the last event, do not
// disturb. The app re-renders it every 30 s, so "son olay: N dk önce" stays current.

import { h, replaceChildren } from "../lib/dom";
import { formatRelative } from "../lib/format";
import { t } from "../lib/i18n";
import { tunnelDotClass, tunnelOf, tunnelShortText } from "../lib/tunnel";
import type { AppStatus, NavView } from "../lib/types";
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

export class Sidebar {
  readonly el: HTMLElement;
  private state: SidebarState = { active: null, status: null, dnd: false };

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

  render(): void {
    const focused = document.activeElement instanceof HTMLElement && this.el.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-testid")
      : null;
    const nav = h("nav", { class: "nav", attrs: { "aria-label": t("nav.label") } });
    const ul = h("ul", { class: "nav-list" });
    for (const item of NAV) {
      const active = this.state.active === item.view;
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
            h("span", { text: t(item.key) }),
          ),
        ),
      );
    }
    nav.appendChild(ul);
    const missed = this.state.status?.missed_unseen ?? 0;
    if (missed > 0) {
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
          h("span", { text: t("missed.unseen", { count: String(missed) }) }),
        ),
      );
    }

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
    const tunnelState = tunnel?.state ?? "unknown";
    const tunnelTitle = tunnel ? (tunnel.state === "online" ? tunnel.public_url : tunnel.error) : null;
    const last = s?.last_event_at ? t("lastEvent.label", { when: formatRelative(s.last_event_at) }) : t("lastEvent.none");

    const dnd = this.state.dnd;
    const dndBtn = h(
      "button",
      {
        class: ["dnd-toggle", dnd && "on"],
        testid: "sidebar-dnd",
        title: dnd ? t("dnd.toggleOff") : t("dnd.toggleOn"),
        attrs: { type: "button", "aria-pressed": dnd ? "true" : "false", "aria-label": dnd ? t("dnd.toggleOff") : t("dnd.toggleOn") },
        on: { click: () => this.onToggleDnd() },
      },
      icon(dnd ? "bellOff" : "bell", "dnd-icon"),
      h("span", { class: "dnd-text", text: dnd ? t("dnd.on") : t("dnd.off") }),
    );

    const footer = h(
      "div",
      { class: "sidebar-footer" },
      dndBtn,
      h(
        "div",
        { class: "listener-status", testid: "listener-status", dataset: { state }, title: s?.listener.error ?? undefined },
        h("span", { class: `status-dot dot-${state}`, attrs: { "aria-hidden": "true" } }),
        h("span", { class: "listener-text" }, h("span", { class: "listener-label", text: stateText }), h("span", { class: "last-event", testid: "last-event", text: last })),
      ),
      h(
        "div",
        { class: "tunnel-status", testid: "sidebar-tunnel", dataset: { state: tunnelState }, title: tunnelTitle ?? undefined },
        h("span", { class: `status-dot ${tunnelDotClass(tunnelState)}`, attrs: { "aria-hidden": "true" } }),
        h("span", { class: "tunnel-label", text: tunnelShortText(tunnelState) }),
      ),
    );

    replaceChildren(
      this.el,
      h("div", { class: "brand" }, h("span", { class: "brand-mark", attrs: { "aria-hidden": "true" } }, icon("phone")), h("span", { class: "brand-text" }, h("span", { class: "brand-name", text: t("app.name") }), h("span", { class: "brand-tag", text: t("app.tagline") }))),
      nav,
      footer,
    );
    if (focused) this.el.querySelector<HTMLElement>(`[data-testid="${focused}"]`)?.focus();
  }
}
