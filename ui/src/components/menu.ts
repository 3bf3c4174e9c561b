// A pop-up menu inside the window: a list row's context menu, a tag's colour palette, the tag
// filter. One is open at a time. It takes the focus (↑/↓/Home/End move, Enter chooses) and
// closes on Escape, Tab, a click outside, a scroll, a resize or the window losing focus; after
// Escape or a choice the focus goes back to what opened it.

import { h } from "../lib/dom";

export interface MenuItem {
  label: string;
  testid?: string;
  /** Shown before the label (a colour swatch); decorative, the label names the item. */
  lead?: Node;
  /** Shown instead of the label text (a tag chip, whose text is the tag); still named by it. */
  content?: Node;
  /** Shown after the label, muted (a count). */
  trail?: string;
  /** A choice among several (menuitemradio): whether it is the current one. */
  checked?: boolean;
  onSelect: () => void;
}

export interface MenuOptions {
  /** The menu's accessible name. */
  label: string;
  testid?: string;
  items: readonly MenuItem[];
  /** Where it opens: at a point (a right click) or under an element (a button, a row). */
  at: { x: number; y: number } | Element;
  /** Gets the focus back when the menu closes by Escape or a choice. */
  returnFocus?: HTMLElement | null;
  onClose?: () => void;
}

export type CloseReason = "escape" | "select" | "outside" | "scroll" | "replaced";

/** Gap between the menu and the window's edge or the element it opens under, in px. */
const MARGIN = 4;

export class Menu {
  readonly el: HTMLElement;
  private readonly buttons: HTMLButtonElement[];
  private closed = false;
  private readonly onOutside = (e: Event) => {
    if (!(e.target instanceof Node) || !this.el.contains(e.target)) this.close("outside");
  };
  private readonly onScroll = (e: Event) => {
    if (!(e.target instanceof Node) || !this.el.contains(e.target)) this.close("scroll");
  };
  private readonly onGone = () => this.close("outside");

  constructor(private readonly o: MenuOptions) {
    const radio = o.items.some((i) => i.checked !== undefined);
    this.buttons = o.items.map((item) =>
      h(
        "button",
        {
          class: ["menu-item", item.checked && "is-checked"],
          testid: item.testid,
          attrs: {
            type: "button",
            role: radio ? "menuitemradio" : "menuitem",
            tabindex: -1,
            "aria-checked": radio ? (item.checked ? "true" : "false") : null,
            "aria-label": item.content ? item.label : null,
          },
          on: { click: () => this.choose(item) },
        },
        item.lead ?? null,
        item.content ? h("span", { class: "menu-label" }, item.content) : h("span", { class: "menu-label", text: item.label }),
        item.trail ? h("span", { class: "menu-trail", text: item.trail, attrs: { "aria-hidden": "true" } }) : null,
      ),
    );
    this.el = h(
      "div",
      {
        class: "menu",
        testid: o.testid,
        attrs: { role: "menu", "aria-label": o.label, tabindex: -1 },
        // No WebKit menu (Reload, Inspect) over this one: the menu key pressed again, a right click.
        on: { keydown: (e) => this.onKey(e), contextmenu: (e) => e.preventDefault() },
      },
      ...this.buttons,
    );
  }

  /** Puts the menu on screen, placed to stay inside the window, and focuses its first choice. */
  show(): void {
    document.body.appendChild(this.el);
    this.place();
    document.addEventListener("mousedown", this.onOutside, true);
    document.addEventListener("scroll", this.onScroll, true);
    window.addEventListener("resize", this.onGone);
    window.addEventListener("blur", this.onGone);
    const checked = this.buttons.findIndex((b) => b.getAttribute("aria-checked") === "true");
    this.focusItem(Math.max(0, checked));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    document.removeEventListener("mousedown", this.onOutside, true);
    document.removeEventListener("scroll", this.onScroll, true);
    window.removeEventListener("resize", this.onGone);
    window.removeEventListener("blur", this.onGone);
    const hadFocus = this.el.contains(document.activeElement);
    this.el.remove();
    if (current === this) current = null;
    // A click elsewhere puts the focus where it clicked; otherwise it would be lost with the menu.
    if ((reason === "escape" || reason === "select" || hadFocus) && reason !== "outside") this.o.returnFocus?.focus({ preventScroll: true });
    this.o.onClose?.();
  }

  private choose(item: MenuItem): void {
    this.close("select");
    item.onSelect();
  }

  private place(): void {
    const at = this.o.at;
    const menu = this.el.getBoundingClientRect();
    const vw = window.innerWidth;
    const vh = window.innerHeight;
    let x: number;
    let y: number;
    if (at instanceof Element) {
      const r = at.getBoundingClientRect();
      x = r.left;
      y = r.bottom + MARGIN;
      // Above the element when it does not fit below.
      if (y + menu.height > vh - MARGIN && r.top - MARGIN - menu.height >= MARGIN) y = r.top - MARGIN - menu.height;
    } else {
      x = at.x;
      y = at.y;
      if (y + menu.height > vh - MARGIN) y = at.y - menu.height;
    }
    x = Math.max(MARGIN, Math.min(x, vw - menu.width - MARGIN));
    y = Math.max(MARGIN, Math.min(y, vh - menu.height - MARGIN));
    this.el.style.left = `${Math.round(x)}px`;
    this.el.style.top = `${Math.round(y)}px`;
  }

  private focusItem(i: number): void {
    const n = this.buttons.length;
    if (n === 0) {
      this.el.focus();
      return;
    }
    this.buttons[((i % n) + n) % n]?.focus({ preventScroll: true });
  }

  private onKey(e: KeyboardEvent): void {
    const at = this.buttons.indexOf(document.activeElement as HTMLButtonElement);
    switch (e.key) {
      case "ArrowDown":
        this.focusItem(at + 1);
        break;
      case "ArrowUp":
        this.focusItem(at < 0 ? -1 : at - 1);
        break;
      case "Home":
        this.focusItem(0);
        break;
      case "End":
        this.focusItem(-1);
        break;
      case "Escape":
        this.close("escape");
        break;
      case "Tab":
        this.close("escape");
        break;
      default:
        // Enter and Space press the focused item (it is a button); other keys are not the
        // window's while the menu is open.
        if (e.key !== "Enter" && e.key !== " ") e.stopPropagation();
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  }
}

let current: Menu | null = null;

/** Opens a menu, closing the one open before. */
export function openMenu(o: MenuOptions): Menu {
  current?.close("replaced");
  const menu = new Menu(o);
  current = menu;
  menu.show();
  return menu;
}

/** The menu on screen, if any. */
export function openedMenu(): Menu | null {
  return current;
}
