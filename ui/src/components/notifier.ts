// Non-blocking feedback: an error banner at the top of the content (data-testid="error-banner")
// and short toasts for confirmations.

import { BackendError, NO_BACKEND, toBackendError } from "../lib/backend";
import { h, replaceChildren } from "../lib/dom";
import { hasKey, language, t } from "../lib/i18n";
import { icon } from "./icons";
import { button } from "./ui";

/** A command error in the user's language, worded from its code. The backend's detail is
 * English: it follows only in English, and is otherwise kept for the banner's tooltip. */
export function errorText(e: BackendError): string {
  if (e.code === NO_BACKEND) return t("error.noBackend");
  const key = `errcode.${e.code}`;
  const english = language() === "en";
  if (hasKey(key)) return english && e.message ? `${t(key)} (${e.message})` : t(key);
  return english && e.message ? e.message : t("error.title");
}

export class Notifier {
  /** Holds the error banner; placed at the top of the main area. */
  readonly bannerHost: HTMLElement;
  /** Holds toasts; fixed at the bottom of the window. */
  readonly toastHost: HTMLElement;
  private current: { message: string; code: string; detail: string } | null = null;
  private hideTimer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    this.bannerHost = h("div", { class: "banner-host" });
    this.toastHost = h("div", { class: "toast-host", attrs: { role: "status", "aria-live": "polite" } });
  }

  /** Shows an error from a command (or anything thrown) in the banner. */
  error(err: unknown, context?: string): BackendError {
    const e = toBackendError(err);
    const message = errorText(e);
    this.showBanner(context ? `${context}: ${message}` : message, e.code, e.message);
    return e;
  }

  showBanner(message: string, code = "error", detail = ""): void {
    this.current = { message, code, detail };
    this.renderBanner();
    if (this.hideTimer) clearTimeout(this.hideTimer);
    // Errors stay until dismissed, but a stale one should not linger all day.
    this.hideTimer = setTimeout(() => this.dismiss(), 30_000);
  }

  dismiss(): void {
    this.current = null;
    if (this.hideTimer) clearTimeout(this.hideTimer);
    this.hideTimer = null;
    this.renderBanner();
  }

  get bannerMessage(): string | null {
    return this.current?.message ?? null;
  }

  /** Re-renders texts after a language switch. */
  rerender(): void {
    this.renderBanner();
  }

  private renderBanner(): void {
    if (!this.current) {
      replaceChildren(this.bannerHost);
      return;
    }
    const banner = h(
      "div",
      { class: "banner banner-error", testid: "error-banner", attrs: { role: "alert" }, dataset: { code: this.current.code } },
      icon("alert", "banner-icon"),
      h("p", { class: "banner-text", text: this.current.message, title: this.current.detail || undefined }),
      button({ label: t("action.dismiss"), icon: "close", iconOnly: true, variant: "ghost", small: true, onClick: () => this.dismiss(), testid: "error-dismiss" }),
    );
    replaceChildren(this.bannerHost, banner);
  }

  /** A short confirmation at the bottom of the window. */
  toast(message: string, ms = 3500): void {
    const el = h("div", { class: "toast", testid: "toast" }, icon("check", "toast-icon"), h("span", { text: message }));
    this.toastHost.appendChild(el);
    while (this.toastHost.childElementCount > 3) this.toastHost.firstElementChild?.remove();
    setTimeout(() => el.remove(), ms);
  }
}
