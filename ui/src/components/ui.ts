// Shared building blocks: buttons, badges, switches, copy buttons, the confirmation dialog.

import { h, nextId, setAttr, setText, type Child } from "../lib/dom";
import { t } from "../lib/i18n";
import { stateLabel } from "../lib/format";
import type { CallKind, CallState } from "../lib/types";
import { icon, type IconName } from "./icons";

export interface ButtonOptions {
  label: string;
  icon?: IconName;
  /** Show only the icon; `label` becomes the aria-label. */
  iconOnly?: boolean;
  variant?: "primary" | "secondary" | "ghost" | "danger";
  small?: boolean;
  testid?: string;
  title?: string;
  disabled?: boolean;
  onClick?: (ev: MouseEvent) => void;
}

export function button(o: ButtonOptions): HTMLButtonElement {
  const b = h(
    "button",
    {
      class: ["btn", `btn-${o.variant ?? "secondary"}`, o.small && "btn-small", o.iconOnly && "btn-icon"],
      testid: o.testid,
      title: o.title ?? (o.iconOnly ? o.label : undefined),
      attrs: { type: "button", "aria-label": o.iconOnly ? o.label : undefined, disabled: o.disabled },
      on: o.onClick ? { click: o.onClick } : undefined,
    },
    o.icon ? icon(o.icon) : null,
    o.iconOnly ? null : h("span", { class: "btn-label", text: o.label }),
  );
  return b;
}

/** Sets a button's visible label (keeps its icon). */
export function setButtonLabel(b: HTMLButtonElement, label: string): void {
  const span = b.querySelector(".btn-label");
  if (span) setText(span, label);
  else setAttr(b, "aria-label", label);
}

/** Swaps a button's icon in place (nothing happens when it already shows that one). */
export function setButtonIcon(b: Element, name: IconName): void {
  const old = b.querySelector("svg");
  if (old?.getAttribute("data-icon") === name) return;
  const cls = (old?.getAttribute("class") ?? "").replace(/^icon\b\s*/, "");
  const next = icon(name, cls);
  if (old) old.replaceWith(next);
  else b.insertBefore(next, b.firstChild);
}

/** An icon-only on/off button (show or hide a secret): aria-pressed, its label and its icon. */
export function setToggle(b: HTMLButtonElement, pressed: boolean, label: string, iconName: IconName): void {
  setAttr(b, "aria-pressed", pressed ? "true" : "false");
  setAttr(b, "aria-label", label);
  setAttr(b, "title", label);
  setButtonIcon(b, iconName);
}

/**
 * A value that may be missing: `code` showing it, or `missing` (a muted placeholder) while there
 * is none. `set` swaps one for the other in place; both carry the same test id.
 */
export class ValueText {
  private current: HTMLElement;

  constructor(
    private readonly code: HTMLElement,
    private readonly missing: HTMLElement,
    value: string | null = null,
  ) {
    this.current = missing;
    this.set(value);
  }

  get el(): HTMLElement {
    return this.current;
  }

  set(value: string | null): void {
    if (value !== null) setText(this.code, value);
    const next = value === null ? this.missing : this.code;
    if (next === this.current) return;
    if (this.current.parentNode) this.current.replaceWith(next);
    this.current = next;
  }
}

export function badge(text: string, cls: string, title?: string): HTMLElement {
  return h("span", { class: `badge ${cls}`, text, title });
}

export function testBadge(): HTMLElement {
  return h("span", { class: "badge badge-test", text: t("call.test"), title: t("call.testTitle"), testid: "test-badge" });
}

export function statePill(state: CallState, kind: CallKind, testid?: string): HTMLElement {
  return h("span", {
    class: `pill state-${state}`,
    text: stateLabel(state, kind),
    testid,
    dataset: { state },
  });
}

export interface SwitchOptions {
  label: string;
  hint?: string;
  checked: boolean;
  testid?: string;
  disabled?: boolean;
  onChange: (checked: boolean) => void;
}

/**
 * A labelled on/off switch: a real, visible checkbox with role="switch", styled as a switch
 * (so it is clickable by people and by WebDriver alike).
 */
export function switchField(o: SwitchOptions): { root: HTMLElement; input: HTMLInputElement } {
  const id = nextId("sw");
  const hintId = o.hint ? `${id}-hint` : undefined;
  const input = h("input", {
    id,
    class: "switch-input",
    testid: o.testid,
    attrs: { type: "checkbox", role: "switch", "aria-describedby": hintId, disabled: o.disabled },
  });
  input.checked = o.checked;
  input.addEventListener("change", () => o.onChange(input.checked));
  const root = h(
    "div",
    { class: "field field-switch" },
    h(
      "label",
      { class: "switch", attrs: { for: id } },
      input,
      h("span", { class: "switch-label", text: o.label }),
    ),
    o.hint ? h("p", { class: "field-hint", id: hintId, text: o.hint }) : null,
  );
  return { root, input };
}

/**
 * A copy button that shows "Kopyalandı" for a moment after copying. `copy` does the work and
 * resolves true on success.
 */
export function copyButton(
  getText: () => string | null,
  copy: (text: string) => Promise<boolean>,
  o: { label?: string; what?: string; testid?: string; small?: boolean; iconOnly?: boolean } = {},
): HTMLButtonElement {
  const label = o.label ?? t("action.copy");
  const aria = o.what ? t("action.copyLabel", { what: o.what }) : label;
  const b = h(
    "button",
    {
      class: ["btn", "btn-secondary", "btn-copy", o.small !== false && "btn-small", o.iconOnly && "btn-icon"],
      testid: o.testid,
      title: aria,
      attrs: { type: "button", "aria-label": aria },
    },
    icon("copy"),
    o.iconOnly ? null : h("span", { class: "btn-label", text: label }),
  );
  let timer: ReturnType<typeof setTimeout> | null = null;
  b.addEventListener("click", async () => {
    const text = getText();
    if (text === null || text === "") return;
    const ok = await copy(text);
    if (!ok) return;
    b.classList.add("copied");
    const span = b.querySelector(".btn-label");
    if (span) span.textContent = t("action.copied");
    b.setAttribute("aria-label", t("action.copied"));
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      b.classList.remove("copied");
      if (span) span.textContent = label;
      b.setAttribute("aria-label", aria);
    }, 1600);
  });
  return b;
}

export function section(title: string, ...children: Child[]): HTMLElement {
  const id = nextId("sec");
  return h(
    "section",
    { class: "card", attrs: { "aria-labelledby": id } },
    h("h2", { class: "card-title", id, text: title }),
    ...children,
  );
}

export interface ConfirmOptions {
  title: string;
  body: string;
  confirm: string;
  danger?: boolean;
  testid?: string;
}

/**
 * A modal confirmation (no window.confirm: it is not available in every webview).
 * Resolves true on confirm. Esc, the cancel button and a click outside cancel. Focus is kept
 * inside while open and returns to where it was.
 */
export function confirmDialog(o: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const titleId = nextId("dlg");
    const bodyId = nextId("dlg");
    let done = false;
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      overlay.remove();
      document.removeEventListener("keydown", onKey, true);
      before?.focus();
      resolve(v);
    };
    const cancel = button({ label: t("action.cancel"), onClick: () => finish(false), testid: "confirm-cancel" });
    const ok = button({
      label: o.confirm,
      variant: o.danger ? "danger" : "primary",
      onClick: () => finish(true),
      testid: "confirm-ok",
    });
    const dialog = h(
      "div",
      {
        class: "dialog",
        testid: o.testid ?? "confirm-dialog",
        attrs: { role: "alertdialog", "aria-modal": "true", "aria-labelledby": titleId, "aria-describedby": bodyId },
      },
      h("h2", { class: "dialog-title", id: titleId, text: o.title }),
      h("p", { class: "dialog-body", id: bodyId, text: o.body }),
      h("div", { class: "dialog-actions" }, cancel, ok),
    );
    const overlay = h("div", { class: "overlay" }, dialog);
    overlay.addEventListener("mousedown", (e) => {
      if (e.target === overlay) finish(false);
    });
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        finish(false);
      } else if (e.key === "Tab") {
        const order = [cancel, ok];
        const i = order.indexOf(document.activeElement as HTMLButtonElement);
        e.preventDefault();
        const next = e.shiftKey ? (i <= 0 ? order.length - 1 : i - 1) : (i + 1) % order.length;
        order[next]!.focus();
      }
    };
    document.addEventListener("keydown", onKey, true);
    document.body.appendChild(overlay);
    cancel.focus();
  });
}

/** Visually hidden text for screen readers. */
export function srOnly(text: string): HTMLElement {
  return h("span", { class: "sr-only", text });
}
