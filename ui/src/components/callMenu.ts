// The context menu of a row in the call list (right click, Shift+F10, the menu key): what the
// call detail offers, without opening the call first.

import { openInCrm } from "../lib/backend";
import { callBackNumber, contactTarget, copyableNumber } from "../lib/calls";
import { t } from "../lib/i18n";
import { phoneBookWritable } from "../lib/office";
import type { Call } from "../lib/types";
import { openMenu, type Menu, type MenuItem } from "./menu";
import type { AppContext } from "./view";
import type { VirtualList } from "./virtualList";

/** The menu's choices for `call`: each only where the detail would offer it too. */
export function callMenuItems(ctx: AppContext, call: Call): MenuItem[] {
  const items: MenuItem[] = [{ label: t("menu.open"), testid: "row-menu-open", onSelect: () => ctx.openCall(call.uuid) }];
  const number = copyableNumber(call);
  if (number) {
    items.push({
      label: t("detail.copyNumber"),
      testid: "row-menu-copy",
      onSelect: () => void ctx.copy(number).then((ok) => ok && ctx.notify.toast(t("menu.copied", { number }))),
    });
  }
  if (ctx.settings()?.crm_url) {
    items.push({ label: t("detail.openCrm"), testid: "row-menu-crm", onSelect: () => void openInCrm(call.uuid).catch((e) => ctx.notify.error(e)) });
  }
  // "Geri ara" with Bulutfon's API connected: it opens the call, which asks before anything rings.
  const api = ctx.status()?.api;
  if (api && api.state !== "off" && callBackNumber(call)) {
    items.push({ label: t("detail.callBack"), testid: "row-menu-call-back", onSelect: () => ctx.openCall(call.uuid, "call_back") });
  }
  const target = contactTarget(call);
  const add = ctx.addToContacts?.bind(ctx);
  if (target && add && phoneBookWritable(ctx.status())) {
    items.push({
      label: target.known ? t("detail.editContact") : t("detail.addContact"),
      testid: "row-menu-contact",
      onSelect: () => add(target.number, call.uuid, target.known),
    });
  }
  return items;
}

/** Opens the menu of `call` at a point (the mouse) or under its row (the keyboard). */
export function openCallMenu(ctx: AppContext, call: Call, at: { x: number; y: number } | Element, returnFocus: HTMLElement): Menu {
  return openMenu({ label: t("menu.call"), testid: "row-menu", items: callMenuItems(ctx, call), at, returnFocus });
}

/**
 * Gives a call list's rows their context menu: a right click on a row opens it at the mouse,
 * Shift+F10 or the menu key under the selected row. Escape or a choice gives the focus back to
 * the list.
 */
export function attachCallMenu(ctx: AppContext, list: VirtualList<Call>): void {
  const el = list.el;
  const underSelected = () => {
    const call = list.selectedItem();
    if (!call) return;
    const row = el.querySelector<HTMLElement>(".call-row.selected");
    openCallMenu(ctx, call, row?.querySelector(".row-main") ?? row ?? el, el);
  };
  el.setAttribute("aria-keyshortcuts", "Shift+F10 ContextMenu");
  el.addEventListener("keydown", (e) => {
    if ((e.key === "F10" && e.shiftKey) || e.key === "ContextMenu") {
      e.preventDefault();
      underSelected();
    }
  });
  el.addEventListener("contextmenu", (e) => {
    // Never WebKit's own menu (Reload, Inspect) over the list.
    e.preventDefault();
    const row = e.target instanceof Element ? e.target.closest<HTMLElement>(".call-row") : null;
    const uuid = row?.dataset.uuid;
    if (uuid === undefined) {
      // The menu key where WebKit sends it as a contextmenu on the focused list.
      if (e.target === el) underSelected();
      return;
    }
    if (!list.selectWhere((c) => c.uuid === uuid, false)) return;
    const call = list.selectedItem();
    if (call) openCallMenu(ctx, call, { x: e.clientX, y: e.clientY }, el);
  });
}
