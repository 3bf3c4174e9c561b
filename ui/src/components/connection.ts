// Settings > Bulutfon connection: the listener, how the panel connects (one address that
// carries its own secret, or the address with user name and password), the values to paste
// with copy buttons, and renewing the chosen form's key after a confirmation (a new address, a
// new password). The backend accepts both forms at all times; the choice is what is shown.

import { regenerateCredentials, rotateWebhookSecret, setWebhookForm } from "../lib/backend";
import { h, nextId, type Child } from "../lib/dom";
import { t } from "../lib/i18n";
import { isPublic, tunnelOf } from "../lib/tunnel";
import type { AppStatus, WebhookForm } from "../lib/types";
import { chosenWebhookUrl, WEBHOOK_FORMS, webhookForm } from "../lib/webhook";
import { icon } from "./icons";
import { button, confirmDialog, copyButton, section } from "./ui";
import type { AppContext } from "./view";

export interface ConnectionHost {
  /** Re-render the page (the section is rebuilt with it). */
  rerender(): void;
  /** Show "Kaydedildi" in the page header. */
  saved(): void;
}

export class ConnectionSection {
  private passwordVisible = false;
  private formSaving = false;
  private readonly formName = nextId("webhook-form");

  constructor(
    private readonly ctx: AppContext,
    private readonly host: ConnectionHost,
  ) {}

  render(status: AppStatus | null): HTMLElement {
    if (!status) return section(t("settings.connection"), h("p", { class: "muted", text: t("settings.loading") }));
    const form = webhookForm(status);
    return section(
      t("settings.connection"),
      this.listenerLine(status),
      this.formChooser(form),
      ...this.urlRows(status),
      ...(form === "url_secret" ? this.secretRows(status) : this.credentialRows(status)),
    );
  }

  private listenerLine(status: AppStatus): HTMLElement {
    const l = status.listener;
    const state = l.state;
    const text =
      state === "running"
        ? t("settings.listenerRunning", { addr: l.addr ?? "—" })
        : state === "starting"
          ? t("settings.listenerStarting")
          : t("settings.listenerFailed");
    return h(
      "div",
      { class: `listener listener-${state}`, testid: "settings-listener", dataset: { state } },
      h("span", { class: `status-dot dot-${state}`, attrs: { "aria-hidden": "true" } }),
      h(
        "div",
        null,
        h("p", { class: "listener-state", text }),
        state === "failed" && l.error ? h("p", { class: "listener-error", testid: "settings-listener-error", text: l.error }) : null,
        state === "failed" && l.hint ? h("p", { class: "listener-hint", testid: "settings-listener-hint", text: l.hint }) : null,
      ),
    );
  }

  /** Two radio options: one address (recommended) or address with user name and password. */
  private formChooser(form: WebhookForm): HTMLElement {
    const group = h(
      "fieldset",
      { class: "tunnel-modes webhook-forms", testid: "settings-webhook-form", dataset: { form } },
      h("legend", { class: "field-label", text: t("connection.form") }),
    );
    for (const option of WEBHOOK_FORMS) {
      const id = nextId("wform");
      const descId = `${id}-desc`;
      const checked = option === form;
      const input = h("input", {
        id,
        testid: `settings-webhook-form-${option}`,
        attrs: { type: "radio", name: this.formName, value: option, "aria-describedby": descId },
      });
      input.checked = checked;
      input.disabled = this.formSaving;
      input.addEventListener("change", () => {
        if (input.checked) void this.chooseForm(option);
      });
      group.appendChild(
        h(
          "label",
          { class: ["mode-option", checked && "is-checked"], attrs: { for: id }, dataset: { form: option } },
          input,
          h(
            "span",
            { class: "mode-text" },
            h("span", { class: "mode-title", text: t(`connection.form.${option}`) }),
            h("span", { class: "mode-desc", id: descId, text: t(`connection.form.${option}Desc`) }),
          ),
        ),
      );
    }
    return group;
  }

  /** The URL to paste (in the chosen form), whether Bulutfon can reach it, and if it changes. */
  private urlRows(status: AppStatus): Child[] {
    const url = chosenWebhookUrl(status);
    const tunnel = tunnelOf(status);
    const isPublicUrl = isPublic(tunnel) && status.webhook_url !== null && status.webhook_url !== status.local_webhook_url;
    return [
      this.row(t("settings.webhookUrl"), url, "settings-webhook-url", () => url, null, t("settings.webhookUrlNone")),
      h("p", {
        class: "field-hint",
        testid: "settings-webhook-url-hint",
        dataset: { public: String(isPublicUrl) },
        text: isPublicUrl ? t("settings.webhookUrlHintOnline") : t("settings.webhookUrlHintLocal"),
      }),
      isPublicUrl && tunnel?.url_changes
        ? h(
            "p",
            { class: "note", testid: "settings-url-changes" },
            icon("alert", "note-icon"),
            h("span", {
              text: tunnel.mode === "ngrok" ? `${t("settings.urlChanges")} ${t("settings.urlChangesNgrok")}` : t("settings.urlChanges"),
            }),
          )
        : null,
    ];
  }

  /** One paste: leave the panel's fields empty; the URL is a secret; a new one on request. */
  private secretRows(status: AppStatus): Child[] {
    const fromEnv = status.secret_source === "environment";
    const rotate = button({
      label: t("connection.rotate"),
      icon: "refresh",
      variant: "secondary",
      testid: "settings-rotate-secret",
      disabled: fromEnv,
      onClick: () => void this.rotate(),
    });
    return [
      h("p", { class: "note note-ok", testid: "settings-leave-empty" }, icon("check", "note-icon"), h("span", { text: t("connection.leaveEmpty") })),
      h("p", { class: "field-hint", testid: "settings-secret-note", text: t("connection.secretNote") }),
      fromEnv ? h("p", { class: "field-hint", testid: "settings-secret-env", text: t("connection.secretFromEnv") }) : null,
      h("div", { class: "card-actions" }, rotate),
    ];
  }

  /** Three pastes: user name and password, and a new password on request. */
  private credentialRows(status: AppStatus): Child[] {
    const fromEnv = status.credential_source === "environment";
    const toggle = button({
      label: this.passwordVisible ? t("settings.hidePassword") : t("settings.showPassword"),
      icon: this.passwordVisible ? "eyeOff" : "eye",
      iconOnly: true,
      small: true,
      testid: "settings-password-toggle",
      onClick: () => {
        this.passwordVisible = !this.passwordVisible;
        this.host.rerender();
      },
    });
    toggle.setAttribute("aria-pressed", this.passwordVisible ? "true" : "false");
    const regenerate = button({
      label: t("settings.regenerate"),
      icon: "refresh",
      variant: "secondary",
      testid: "settings-regenerate",
      disabled: fromEnv,
      onClick: () => void this.regenerate(),
    });
    return [
      this.row(t("settings.user"), status.user, "settings-user", () => status.user),
      this.row(t("settings.password"), this.passwordVisible ? status.password : "•".repeat(12), "settings-password", () => status.password, toggle),
      fromEnv ? h("p", { class: "field-hint", testid: "settings-credentials-env", text: t("settings.credentialsFromEnv") }) : null,
      h("div", { class: "card-actions" }, regenerate),
    ];
  }

  private row(label: string, value: string | null, testid: string, copyText: () => string | null, extra: Child = null, placeholder = "—"): HTMLElement {
    const id = nextId("cred");
    const copy = copyButton(copyText, (s) => this.ctx.copy(s), { what: label, testid: `${testid}-copy` });
    copy.disabled = !copyText();
    return h(
      "div",
      { class: "cred-row" },
      h("span", { class: "cred-label", id, text: label }),
      value === null
        ? h("span", { class: "cred-value cred-missing", testid, attrs: { "aria-labelledby": id }, text: placeholder })
        : h("code", { class: "cred-value", testid, attrs: { "aria-labelledby": id }, text: value }),
      h("span", { class: "cred-actions" }, extra, copy),
    );
  }

  // ---- actions ----

  private async chooseForm(form: WebhookForm): Promise<void> {
    if (this.formSaving) return;
    this.formSaving = true;
    try {
      const status = await setWebhookForm(form);
      this.formSaving = false;
      this.ctx.setStatus(status);
      this.host.saved();
    } catch (e) {
      this.formSaving = false;
      this.ctx.notify.error(e);
      // The radios go back to the form in force.
      this.host.rerender();
    }
    document.querySelector<HTMLElement>(`[data-testid="settings-webhook-form-${form}"]`)?.focus();
  }

  private async rotate(): Promise<void> {
    const ok = await confirmDialog({
      title: t("connection.rotateTitle"),
      body: t("connection.rotateBody"),
      confirm: t("connection.rotateConfirm"),
      danger: true,
      testid: "rotate-dialog",
    });
    if (!ok) return;
    try {
      this.ctx.setStatus(await rotateWebhookSecret());
      this.ctx.notify.toast(t("connection.rotated"), 6000);
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }

  private async regenerate(): Promise<void> {
    const ok = await confirmDialog({
      title: t("settings.regenerateTitle"),
      body: t("settings.regenerateBody"),
      confirm: t("settings.regenerateConfirm"),
      danger: true,
      testid: "regenerate-dialog",
    });
    if (!ok) return;
    try {
      this.ctx.setStatus(await regenerateCredentials());
      this.ctx.notify.toast(t("settings.regenerated"), 6000);
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }
}
