// Settings > How Bulutfon reaches Kanca: the tunnel's status line (off, connecting, online with its
// URL, reconnecting or failed with the reason) and the countdown to the engine's next try. Built
// once; a new tunnel status rewrites the line's texts in place, the same status again (another
// field of the app's status changed) touches nothing.

import { h, setAttr, setText, syncChildren } from "../../lib/dom";
import { t } from "../../lib/i18n";
import { modeName, tunnelDotClass, tunnelOf } from "../../lib/tunnel";
import type { AppStatus, TunnelStatus } from "../../lib/types";

interface Parts {
  root: HTMLElement;
  dot: HTMLElement;
  text: HTMLElement;
  state: HTMLElement;
  stateText: HTMLElement;
  urlGap: Text;
  url: HTMLElement;
  error: HTMLElement;
  retry: HTMLElement;
}

export class TunnelStatusLine {
  private parts: Parts;
  private lastKey = "";
  private last: TunnelStatus | null = null;
  /** When the engine tries again (a countdown), and whether it is trying now. */
  private retryAt: number | null = null;
  private retryingNow = false;
  private retryTimer: ReturnType<typeof setInterval> | null = null;
  /** Counting down only while the page is on screen. */
  private active = false;

  constructor() {
    this.parts = this.build();
  }

  get el(): HTMLElement {
    return this.parts.root;
  }

  rebuild(): void {
    this.parts = this.build();
    if (this.last) this.paint(this.last);
  }

  private build(): Parts {
    const dot = h("span", { attrs: { "aria-hidden": "true" } });
    const stateText = h("span");
    const state = h("p", { class: "tunnel-state" }, stateText);
    const text = h("div", { class: "tunnel-text" }, state);
    return {
      root: h("div", { testid: "tunnel-status", attrs: { role: "group", "aria-label": t("tunnel.status.label") } }, dot, text),
      dot,
      text,
      state,
      stateText,
      urlGap: document.createTextNode(" "),
      url: h("code", { class: "tunnel-url", testid: "tunnel-public-url" }),
      error: h("p", { class: "tunnel-error", testid: "tunnel-error" }),
      retry: h("p", { class: "tunnel-retry", testid: "tunnel-retry" }),
    };
  }

  update(status: AppStatus): void {
    const tunnel = tunnelOf(status)!;
    if (this.observe(tunnel)) this.paint(tunnel);
    this.syncRetryTimer();
  }

  setActive(active: boolean): void {
    this.active = active;
    // The countdown went on while the page was away.
    if (active && this.last) this.paint(this.last);
    this.syncRetryTimer();
  }

  /** Notes a new tunnel status; false when it is the same as the last one. */
  private observe(tunnel: TunnelStatus): boolean {
    const key = JSON.stringify(tunnel);
    if (key === this.lastKey) return false;
    const prev = this.last;
    this.lastKey = key;
    this.last = tunnel;
    if (tunnel.retry_in_s !== null && tunnel.retry_in_s !== undefined) {
      this.retryAt = Date.now() + tunnel.retry_in_s * 1000;
      this.retryingNow = false;
    } else {
      this.retryAt = null;
      // The engine clears the delay when the next attempt starts and keeps the reason shown.
      this.retryingNow =
        prev !== null &&
        prev.retry_in_s !== null &&
        prev.mode === tunnel.mode &&
        prev.state === tunnel.state &&
        (tunnel.state === "failed" || tunnel.state === "reconnecting");
    }
    return true;
  }

  private retryText(): string | null {
    if (this.retryAt !== null) {
      const left = Math.ceil((this.retryAt - Date.now()) / 1000);
      return left > 0 ? t("tunnel.status.retryIn", { n: left }) : t("tunnel.status.retryingNow");
    }
    return this.retryingNow ? t("tunnel.status.retryingNow") : null;
  }

  private paint(tunnel: TunnelStatus): void {
    const p = this.parts;
    const state = tunnel.state;
    const mode = modeName(tunnel.mode);
    setAttr(p.root, "class", `tunnel-line tunnel-${state}`);
    setAttr(p.root, "data-state", state);
    setAttr(p.root, "data-mode", tunnel.mode);
    setAttr(p.dot, "class", `status-dot ${tunnelDotClass(state)}`);
    const troubled = state === "reconnecting" || state === "failed";
    const stateKey =
      state === "off"
        ? "tunnel.status.off"
        : state === "connecting"
          ? "tunnel.status.connecting"
          : state === "online"
            ? "tunnel.status.online"
            : state === "failed"
              ? "tunnel.status.failed"
              : "tunnel.status.reconnecting";
    setText(p.stateText, t(stateKey, { mode }));
    const url = state === "online" ? (tunnel.public_url ?? tunnel.webhook_url) : null;
    if (url) setText(p.url, url);
    syncChildren(p.state, p.stateText, !!url && p.urlGap, !!url && p.url);
    const error = troubled && tunnel.error ? t("tunnel.status.reason", { error: tunnel.error }) : null;
    if (error) setText(p.error, error);
    const retry = troubled ? this.retryText() : null;
    if (retry) setText(p.retry, retry);
    syncChildren(p.text, p.state, !!error && p.error, !!retry && p.retry);
  }

  /** Counts "retrying in N s" down while a retry is pending (only that text changes). */
  private syncRetryTimer(): void {
    const pending = this.active && this.retryAt !== null && this.retryAt > Date.now();
    if (!pending) {
      this.stopRetryTimer();
      return;
    }
    if (this.retryTimer !== null) return;
    this.retryTimer = setInterval(() => {
      if (this.last) this.paint(this.last);
      if (this.retryAt === null || this.retryAt <= Date.now()) this.stopRetryTimer();
    }, 1000);
  }

  private stopRetryTimer(): void {
    if (this.retryTimer !== null) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }
}
