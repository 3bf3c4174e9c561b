// First-run guide: how to connect Bulutfon's web hooks to Kanca, with a test event at the end.
// The URL to paste is the public one while a tunnel is online; while Kanca is local only, the
// guide says so and leads to the settings to choose how Bulutfon reaches Kanca. It follows the
// form chosen in Settings: one URL with the panel's user and password left empty, or the URL
// with user and password. A desk of an office has no web hooks to set up (the receiver has): the
// guide says so instead.

import { sendTestEvent } from "../lib/backend";
import { h, nextId, replaceChildren, type Child } from "../lib/dom";
import { t, type MessageKey } from "../lib/i18n";
import { isDesk } from "../lib/office";
import { modeName, tunnelOf } from "../lib/tunnel";
import type { AppStatus } from "../lib/types";
import { chosenWebhookUrl, webhookForm } from "../lib/webhook";
import { icon } from "./icons";
import { button, copyButton, setButtonLabel } from "./ui";
import type { AppContext, View } from "./view";

const EVENT_KEYS: readonly MessageKey[] = [
  "guide.step4.ev1",
  "guide.step4.ev2",
  "guide.step4.ev3",
  "guide.step4.ev4",
  "guide.step4.ev5",
  "guide.step4.ev6",
  "guide.step4.ev7",
];

export class GuideView implements View {
  readonly el: HTMLElement;
  private sending = false;
  private testOk = false;
  private showPassword = false;
  /** The page shows a desk's guide (nothing to set up here). */
  private desk = false;
  private readonly titleId = nextId("guide-title");
  /** The parts that depend on the status, each rebuilt only when what it shows changed: a
   * status change (one comes with every webhook) leaves the rest of the page, focus included,
   * alone. */
  private readonly slots = new Map<string, { key: string; el: HTMLElement }>();

  constructor(
    private readonly ctx: AppContext,
    private readonly onDone: () => void,
  ) {
    this.el = h("section", { class: "view view-guide", testid: "guide", attrs: { "aria-labelledby": this.titleId } });
  }

  private copyable(value: string | null, testid: string, what: string, secret = false): HTMLElement {
    const hidden = secret && !this.showPassword;
    const copy = copyButton(() => value, (s) => this.ctx.copy(s), { what, testid: `${testid}-copy` });
    copy.disabled = !value;
    let toggle: HTMLButtonElement | null = null;
    if (secret) {
      toggle = button({
        label: this.showPassword ? t("settings.hidePassword") : t("settings.showPassword"),
        icon: this.showPassword ? "eyeOff" : "eye",
        iconOnly: true,
        small: true,
        testid: `${testid}-toggle`,
        onClick: () => {
          this.showPassword = !this.showPassword;
          this.update();
          // The credentials were rebuilt with the new toggle: keep the user on it.
          this.el.querySelector<HTMLElement>(`[data-testid="${testid}-toggle"]`)?.focus();
        },
      });
      toggle.setAttribute("aria-pressed", this.showPassword ? "true" : "false");
    }
    return h(
      "div",
      { class: "copy-field" },
      value === null
        ? h("span", { class: "cred-value cred-missing", testid, text: "—" })
        : h("code", { class: "cred-value", testid, text: hidden ? "•".repeat(12) : value }),
      toggle,
      copy,
    );
  }

  /** Under the URL: whether Bulutfon can reach it, and the way to the settings when it cannot. */
  private tunnelNote(status: AppStatus | null): Child[] {
    const tunnel = tunnelOf(status);
    if (!tunnel) return [];
    const mode = modeName(tunnel.mode);
    let text: string;
    let tone: "ok" | "warn";
    let action: string | null = null;
    switch (tunnel.state) {
      case "online":
        tone = "ok";
        text = t(tunnel.url_changes ? "guide.tunnel.onlineChanges" : "guide.tunnel.online", { mode });
        break;
      case "connecting":
        tone = "warn";
        text = t("guide.tunnel.connecting", { mode });
        break;
      case "reconnecting":
      case "failed":
        tone = "warn";
        text = t("guide.tunnel.down", { mode, error: tunnel.error ?? "—" });
        action = t("guide.checkTunnel");
        break;
      case "off":
      default:
        tone = "warn";
        text = t("guide.tunnel.off");
        action = t("guide.chooseTunnel");
        break;
    }
    return [
      h(
        "p",
        { class: ["note", tone === "ok" && "note-ok"], testid: "guide-tunnel-note", dataset: { state: tunnel.state } },
        icon(tone === "ok" ? "check" : "alert", "note-icon"),
        h("span", { text }),
      ),
      action
        ? h(
            "div",
            { class: "note-actions" },
            button({ label: action, icon: "settings", testid: "guide-choose-tunnel", onClick: () => this.ctx.showTunnelSettings() }),
          )
        : null,
    ];
  }

  private step(n: number, title: string, ...body: Child[]): HTMLElement {
    return h(
      "li",
      { class: "step", dataset: { step: String(n) } },
      h("span", { class: "step-num", attrs: { "aria-hidden": "true" }, text: String(n) }),
      h("div", { class: "step-body" }, h("h2", { class: "step-title", text: title }), ...body),
    );
  }

  /** Step 6: the user name and password to enter, or the note to leave those fields empty. */
  private credentialsStep(status: AppStatus | null): HTMLElement {
    const form = webhookForm(status);
    const other = h("p", { class: "muted", testid: "guide-form-other", text: t(`guide.formOther.${form}`) });
    if (form === "url_secret") {
      return this.step(
        6,
        t("guide.step6.emptyTitle"),
        h("p", { class: "note note-ok", testid: "guide-leave-empty" }, icon("check", "note-icon"), h("span", { text: t("guide.step6.emptyBody") })),
        other,
      );
    }
    return this.step(
      6,
      t("guide.step6.title"),
      h("p", { text: t("guide.step6.body") }),
      h(
        "div",
        { class: "cred-grid" },
        h("span", { class: "cred-label", text: t("settings.user") }),
        this.copyable(status?.user ?? null, "guide-user", t("settings.user")),
        h("span", { class: "cred-label", text: t("settings.password") }),
        this.copyable(status?.password ?? null, "guide-password", t("settings.password"), true),
      ),
      other,
    );
  }

  /** The part `name` for the inputs `key`: the same element while the key is unchanged,
   * otherwise a new one that takes the old one's place in the page. */
  private slot(name: string, key: unknown, build: () => HTMLElement): HTMLElement {
    const k = JSON.stringify(key);
    const old = this.slots.get(name);
    if (old && old.key === k) return old.el;
    const el = build();
    if (old?.el.isConnected) old.el.replaceWith(el);
    this.slots.set(name, { key: k, el });
    return el;
  }

  /** Step 3's URL and whether Bulutfon can reach it. */
  private urlSlot(status: AppStatus | null): HTMLElement {
    const tunnel = tunnelOf(status);
    const url = chosenWebhookUrl(status);
    const key = [url, tunnel?.state, tunnel?.mode, tunnel?.url_changes, tunnel?.error];
    return this.slot("url", key, () =>
      h("div", { class: "guide-url" }, this.copyable(url, "guide-webhook-url", t("settings.webhookUrl")), ...this.tunnelNote(status)),
    );
  }

  private credentialsSlot(status: AppStatus | null): HTMLElement {
    const key = [webhookForm(status), status?.user, status?.password, this.showPassword];
    return this.slot("credentials", key, () => this.credentialsStep(status));
  }

  private testSlot(status: AppStatus | null): HTMLElement {
    const running = status?.listener.state === "running";
    return this.slot("test", [Boolean(status) && !running, this.testOk, this.sending], () => {
      const testBtn = button({
        label: this.sending ? t("guide.sending") : t("guide.sendTest"),
        icon: "send",
        variant: "primary",
        testid: "send-test-event",
        disabled: this.sending,
        onClick: () => void this.sendTest(testBtn),
      });
      return this.step(
        7,
        t("guide.step7.title"),
        h("p", { text: t("guide.step7.body") }),
        status && !running ? h("p", { class: "inline-warning", text: t("guide.notRunning") }) : null,
        h(
          "div",
          { class: "test-row" },
          testBtn,
          this.testOk ? h("p", { class: "success", testid: "test-event-ok", attrs: { role: "status" } }, icon("check"), h("span", { text: t("guide.testOk") })) : null,
        ),
      );
    });
  }

  /** Follows the status in place. */
  update(): void {
    const status = this.ctx.status();
    if (isDesk(status) !== this.desk) {
      this.render();
      return;
    }
    if (this.desk) return;
    this.urlSlot(status);
    this.credentialsSlot(status);
    this.testSlot(status);
  }

  /** Builds the whole page (on first show and on a language switch). */
  render(): void {
    this.slots.clear();
    const status = this.ctx.status();
    this.desk = isDesk(status);
    const steps = this.desk ? this.deskSteps() : this.webhookSteps(status);

    const footer = h(
      "div",
      { class: "guide-footer" },
      h("p", { class: "muted", text: t("guide.doneHint", { item: t("nav.guide") }) }),
      button({ label: t("guide.done"), icon: "check", variant: "primary", testid: "guide-done", onClick: () => this.onDone() }),
    );

    const scroller = this.el.querySelector(".view-scroll");
    const scroll = scroller ? scroller.scrollTop : 0;
    const body = h(
      "div",
      { class: "view-scroll" },
      h("div", { class: "guide-content" }, h("p", { class: "lead", text: this.desk ? t("guide.desk.intro") : t("guide.intro") }), steps, footer),
    );
    replaceChildren(
      this.el,
      h("header", { class: "view-header" }, h("h1", { class: "view-title", id: this.titleId, text: t("guide.title") })),
      body,
    );
    body.scrollTop = scroll;
  }

  /** The steps in Bulutfon's panel, the URL to paste and the test event. */
  private webhookSteps(status: AppStatus | null): HTMLElement {
    return h(
      "ol",
      { class: "steps" },
      this.step(1, t("guide.step1.title"), h("p", { text: t("guide.step1.body") }), h("p", null, h("strong", { class: "panel-path", text: t("guide.step1.path") }))),
      this.step(2, t("guide.step2.title"), h("p", { text: t("guide.step2.body") })),
      this.step(3, t("guide.step3.title"), h("p", { text: t("guide.step3.body") }), this.urlSlot(status)),
      this.step(
        4,
        t("guide.step4.title"),
        h("p", { text: t("guide.step4.body") }),
        h("ul", { class: "event-list" }, ...EVENT_KEYS.map((k) => h("li", null, icon("check", "event-check"), h("span", { text: t(k) })))),
      ),
      this.step(5, t("guide.step5.title"), h("p", { text: t("guide.step5.body") })),
      this.credentialsSlot(status),
      this.testSlot(status),
    );
  }

  /** A desk: calls come from the office's receiver, where Bulutfon's web hooks are set up. */
  private deskSteps(): HTMLElement {
    return h(
      "ol",
      { class: "steps", testid: "guide-desk" },
      this.step(1, t("guide.desk.step1.title"), h("p", { text: t("guide.desk.step1.body") })),
      this.step(
        2,
        t("guide.desk.step2.title"),
        h("p", { text: t("guide.desk.step2.body") }),
        h("div", { class: "note-actions" }, button({ label: t("guide.desk.openSettings"), icon: "settings", testid: "guide-desk-settings", onClick: () => this.ctx.navigate("settings") })),
      ),
    );
  }

  private async sendTest(btn: HTMLButtonElement): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    btn.disabled = true;
    setButtonLabel(btn, t("guide.sending"));
    try {
      const uuid = await sendTestEvent();
      this.testOk = true;
      this.ctx.notify.toast(t("guide.testOk"));
      this.sending = false;
      this.update();
      this.ctx.openCall(uuid);
    } catch (e) {
      this.sending = false;
      this.ctx.notify.error(e);
      // The same button (the step did not change): ready for another try.
      btn.disabled = false;
      setButtonLabel(btn, t("guide.sendTest"));
      this.update();
    }
  }

  mount(): void {
    this.render();
  }

  unmount(): void {}

  rerender(): void {
    this.render();
  }

  focus(): void {
    this.el.querySelector<HTMLElement>("h1")?.setAttribute("tabindex", "-1");
    this.el.querySelector<HTMLElement>("h1")?.focus();
  }
}
