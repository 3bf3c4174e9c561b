// Settings > How Bulutfon reaches Kanca > "Test the connection": a button that posts a test event
// through the way in force, its progress, and the result (through the tunnel, only locally, or
// why it failed). Status changes do not touch it; the result stays until the next test or until
// the tunnel's settings are saved.

import { testConnection, toBackendError } from "../../lib/backend";
import { h, setAttr, setProp, syncChildren } from "../../lib/dom";
import { t } from "../../lib/i18n";
import { isPublic, tunnelOf } from "../../lib/tunnel";
import type { SelfTestResult } from "../../lib/types";
import { isLocalWebhookUrl } from "../../lib/webhook";
import { icon } from "../icons";
import { errorText } from "../notifier";
import { button, setButtonIcon, setButtonLabel } from "../ui";
import type { AppContext } from "../view";

interface TestOutcome {
  ok: boolean;
  /** It came back, but only through the local URL: Bulutfon still cannot reach Kanca. */
  local?: boolean;
  text: string;
  url: string | null;
}

interface Parts {
  root: HTMLElement;
  head: Node[];
  button: HTMLButtonElement;
  spinner: HTMLElement;
  result: HTMLElement | null;
}

export class ConnectionTest {
  private testing = false;
  private outcome: TestOutcome | null = null;
  private parts: Parts;

  constructor(private readonly ctx: AppContext) {
    this.parts = this.build();
  }

  get el(): HTMLElement {
    return this.parts.root;
  }

  rebuild(): void {
    this.parts = this.build();
  }

  /** The result no longer says anything about the way in force (its settings were saved). */
  clear(): void {
    this.outcome = null;
    this.paint();
  }

  private build(): Parts {
    const btn = button({ label: t("tunnel.test"), icon: "send", testid: "tunnel-test", onClick: () => void this.run() });
    const head = [h("p", { class: "field-hint", text: t("tunnel.testHint") }), h("div", { class: "test-row" }, btn)];
    const parts: Parts = {
      root: h("div", { class: "tunnel-test" }, ...head),
      head,
      button: btn,
      spinner: h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }),
      result: null,
    };
    this.parts = parts;
    this.paint();
    return parts;
  }

  private paint(): void {
    const p = this.parts;
    const b = p.button;
    setProp(b, "disabled", this.testing);
    setAttr(b, "aria-busy", this.testing ? "true" : null);
    setButtonLabel(b, this.testing ? t("tunnel.testing") : t("tunnel.test"));
    if (this.testing) b.querySelector("svg")?.replaceWith(p.spinner);
    else if (p.spinner.parentNode === b) {
      p.spinner.remove();
      setButtonIcon(b, "send");
    }
    if (!this.outcome) p.result = null;
    else if (!p.result) p.result = this.resultOf(this.outcome);
    syncChildren(p.root, ...p.head, p.result);
  }

  private resultOf(r: TestOutcome): HTMLElement {
    return h(
      "div",
      {
        class: ["test-result", r.ok ? "is-ok" : "is-fail", r.local && "is-local"],
        testid: "tunnel-test-result",
        dataset: { ok: String(r.ok) },
        attrs: { role: "status" },
      },
      icon(r.ok && !r.local ? "check" : "alert", "test-result-icon"),
      h(
        "div",
        { class: "test-result-body" },
        h("p", { class: "test-result-text", text: r.text }),
        r.url ? h("p", { class: "test-result-url", text: t("tunnel.testUrl", { url: r.url }) }) : null,
      ),
    );
  }

  private outcomeOf(r: SelfTestResult): TestOutcome {
    const ms = Math.round(r.round_trip_ms);
    if (!r.ok) return { ok: false, text: t("tunnel.testFailed", { error: r.error ?? `HTTP ${r.http_status ?? "—"}` }), url: r.url || null };
    const status = this.ctx.status();
    const local = !isPublic(tunnelOf(status)) || isLocalWebhookUrl(status, r.url);
    return { ok: true, local, text: local ? t("tunnel.testOkLocal", { ms }) : t("tunnel.testOk", { ms }), url: r.url || null };
  }

  private async run(): Promise<void> {
    if (this.testing) return;
    this.testing = true;
    this.outcome = null;
    this.paint();
    try {
      this.outcome = this.outcomeOf(await testConnection());
    } catch (e) {
      this.outcome = { ok: false, text: t("tunnel.testFailed", { error: errorText(toBackendError(e)) }), url: null };
    }
    this.testing = false;
    // A disabled button may have dropped the focus; give it back unless the user moved on.
    const lost = document.activeElement === null || document.activeElement === document.body;
    this.paint();
    if (lost && this.parts.button.isConnected) this.parts.button.focus();
  }
}
