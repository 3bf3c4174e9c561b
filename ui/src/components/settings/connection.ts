// Settings > Bulutfon connection: the listener, how the panel connects (one address that
// carries its own secret, or the address with user name and password), the values to paste
// with copy buttons, and renewing the chosen form's key after a confirmation (a new address, a
// new password). The backend accepts both forms at all times; the choice is what is shown.

import { regenerateCredentials, rotateWebhookSecret, setWebhookForm } from "../../lib/backend";
import { h, nextId, setAttr, setProp, setText, syncChildren } from "../../lib/dom";
import { t } from "../../lib/i18n";
import { isPublic, tunnelOf } from "../../lib/tunnel";
import type { AppStatus, ListenerStatus, WebhookForm } from "../../lib/types";
import { chosenWebhookUrl, WEBHOOK_FORMS, webhookForm } from "../../lib/webhook";
import { icon } from "../icons";
import { button, confirmDialog, copyButton, section, setToggle, ValueText } from "../ui";
import type { SettingsHost, SettingsSection } from "./section";

/** A labelled value with its copy button. */
interface Row {
  el: HTMLElement;
  value: ValueText;
  copy: HTMLButtonElement;
}

interface Parts {
  card: HTMLElement;
  head: Node[];
  loading: HTMLElement;
  listener: HTMLElement;
  listenerDot: HTMLElement;
  listenerState: HTMLElement;
  listenerError: HTMLElement;
  listenerHint: HTMLElement;
  listenerText: HTMLElement;
  forms: HTMLElement;
  formOptions: Map<WebhookForm, { input: HTMLInputElement; label: HTMLElement }>;
  url: Row;
  urlHint: HTMLElement;
  urlChanges: HTMLElement;
  urlChangesText: HTMLElement;
  // one paste
  leaveEmpty: HTMLElement;
  secretNote: HTMLElement;
  secretEnv: HTMLElement;
  rotate: HTMLButtonElement;
  rotateActions: HTMLElement;
  // three pastes
  user: Row;
  password: Row;
  passwordToggle: HTMLButtonElement;
  credentialsEnv: HTMLElement;
  regenerate: HTMLButtonElement;
  regenerateActions: HTMLElement;
}

export class ConnectionSection implements SettingsSection {
  private passwordVisible = false;
  private formSaving = false;
  private readonly formName = nextId("webhook-form");
  private status: AppStatus | null = null;
  private parts: Parts;

  constructor(private readonly host: SettingsHost) {
    this.parts = this.build();
  }

  get el(): HTMLElement {
    return this.parts.card;
  }

  rebuild(): void {
    this.parts = this.build();
  }

  private build(): Parts {
    const card = section(t("settings.connection"));
    const listenerDot = h("span", { attrs: { "aria-hidden": "true" } });
    const listenerState = h("p", { class: "listener-state" });
    const listenerText = h("div", null, listenerState);
    const rotate = button({
      label: t("connection.rotate"),
      icon: "refresh",
      variant: "secondary",
      testid: "settings-rotate-secret",
      onClick: () => void this.rotate(),
    });
    const passwordToggle = button({
      label: t("settings.showPassword"),
      icon: "eye",
      iconOnly: true,
      small: true,
      testid: "settings-password-toggle",
      onClick: () => {
        this.passwordVisible = !this.passwordVisible;
        this.paintPassword();
      },
    });
    const regenerate = button({
      label: t("settings.regenerate"),
      icon: "refresh",
      variant: "secondary",
      testid: "settings-regenerate",
      onClick: () => void this.regenerate(),
    });
    const urlChangesText = h("span");
    const parts: Parts = {
      card,
      head: [...card.childNodes],
      loading: h("p", { class: "muted", text: t("settings.loading") }),
      listener: h("div", { testid: "settings-listener" }, listenerDot, listenerText),
      listenerDot,
      listenerState,
      listenerError: h("p", { class: "listener-error", testid: "settings-listener-error" }),
      listenerHint: h("p", { class: "listener-hint", testid: "settings-listener-hint" }),
      listenerText,
      ...this.formChooser(),
      url: this.row(t("settings.webhookUrl"), "settings-webhook-url", () => chosenWebhookUrl(this.status), t("settings.webhookUrlNone")),
      urlHint: h("p", { class: "field-hint", testid: "settings-webhook-url-hint" }),
      urlChanges: h("p", { class: "note", testid: "settings-url-changes" }, icon("alert", "note-icon"), urlChangesText),
      urlChangesText,
      leaveEmpty: h("p", { class: "note note-ok", testid: "settings-leave-empty" }, icon("check", "note-icon"), h("span", { text: t("connection.leaveEmpty") })),
      secretNote: h("p", { class: "field-hint", testid: "settings-secret-note", text: t("connection.secretNote") }),
      secretEnv: h("p", { class: "field-hint", testid: "settings-secret-env", text: t("connection.secretFromEnv") }),
      rotate,
      rotateActions: h("div", { class: "card-actions" }, rotate),
      user: this.row(t("settings.user"), "settings-user", () => this.status?.user ?? null),
      password: this.row(t("settings.password"), "settings-password", () => this.status?.password ?? null, "—", passwordToggle),
      passwordToggle,
      credentialsEnv: h("p", { class: "field-hint", testid: "settings-credentials-env", text: t("settings.credentialsFromEnv") }),
      regenerate,
      regenerateActions: h("div", { class: "card-actions" }, regenerate),
    };
    return parts;
  }

  /** Two radio options: one address (recommended) or address with user name and password. */
  private formChooser(): Pick<Parts, "forms" | "formOptions"> {
    const forms = h("fieldset", { class: "tunnel-modes webhook-forms", testid: "settings-webhook-form" }, h("legend", { class: "field-label", text: t("connection.form") }));
    const formOptions: Parts["formOptions"] = new Map();
    for (const option of WEBHOOK_FORMS) {
      const id = nextId("wform");
      const descId = `${id}-desc`;
      const input = h("input", {
        id,
        testid: `settings-webhook-form-${option}`,
        attrs: { type: "radio", name: this.formName, value: option, "aria-describedby": descId },
      });
      input.addEventListener("change", () => {
        if (input.checked) void this.chooseForm(option);
      });
      const label = h(
        "label",
        { class: "mode-option", attrs: { for: id }, dataset: { form: option } },
        input,
        h(
          "span",
          { class: "mode-text" },
          h("span", { class: "mode-title", text: t(`connection.form.${option}`) }),
          h("span", { class: "mode-desc", id: descId, text: t(`connection.form.${option}Desc`) }),
        ),
      );
      formOptions.set(option, { input, label });
      forms.appendChild(label);
    }
    return { forms, formOptions };
  }

  private row(label: string, testid: string, copyText: () => string | null, placeholder = "—", extra: HTMLElement | null = null): Row {
    const id = nextId("cred");
    const copy = copyButton(copyText, (s) => this.host.ctx.copy(s), { what: label, testid: `${testid}-copy` });
    const value = new ValueText(
      h("code", { class: "cred-value", testid, attrs: { "aria-labelledby": id } }),
      h("span", { class: "cred-value cred-missing", testid, attrs: { "aria-labelledby": id }, text: placeholder }),
    );
    const el = h("div", { class: "cred-row" }, h("span", { class: "cred-label", id, text: label }), value.el, h("span", { class: "cred-actions" }, extra, copy));
    return { el, value, copy };
  }

  update(status: AppStatus | null): void {
    this.status = status;
    this.paint();
  }

  /** Shows the last status: changes only what differs. */
  private paint(): void {
    const p = this.parts;
    const status = this.status;
    if (!status) {
      syncChildren(p.card, ...p.head, p.loading);
      return;
    }
    this.paintListener(status.listener);
    const form = webhookForm(status);
    setAttr(p.forms, "data-form", form);
    for (const [option, { input, label }] of p.formOptions) {
      setProp(input, "checked", option === form);
      label.classList.toggle("is-checked", option === form);
    }

    // The URL to paste (in the chosen form), whether Bulutfon can reach it, and if it changes.
    const url = chosenWebhookUrl(status);
    this.paintRow(p.url, url);
    const tunnel = tunnelOf(status);
    const isPublicUrl = isPublic(tunnel) && status.webhook_url !== null && status.webhook_url !== status.local_webhook_url;
    setAttr(p.urlHint, "data-public", String(isPublicUrl));
    setText(p.urlHint, isPublicUrl ? t("settings.webhookUrlHintOnline") : t("settings.webhookUrlHintLocal"));
    const changes = isPublicUrl && !!tunnel?.url_changes;
    if (changes) setText(p.urlChangesText, tunnel.mode === "ngrok" ? `${t("settings.urlChanges")} ${t("settings.urlChangesNgrok")}` : t("settings.urlChanges"));

    let formRows: (Node | false)[];
    if (form === "url_secret") {
      // One paste: leave the panel's fields empty; the URL is a secret; a new one on request.
      const fromEnv = status.secret_source === "environment";
      setProp(p.rotate, "disabled", fromEnv);
      formRows = [p.leaveEmpty, p.secretNote, fromEnv && p.secretEnv, p.rotateActions];
    } else {
      // Three pastes: user name and password, and a new password on request.
      const fromEnv = status.credential_source === "environment";
      this.paintRow(p.user, status.user);
      this.paintPassword();
      setProp(p.regenerate, "disabled", fromEnv);
      formRows = [p.user.el, p.password.el, fromEnv && p.credentialsEnv, p.regenerateActions];
    }
    syncChildren(p.card, ...p.head, p.listener, p.forms, p.url.el, p.urlHint, changes && p.urlChanges, ...formRows);
  }

  private paintListener(l: ListenerStatus): void {
    const p = this.parts;
    const state = l.state;
    setAttr(p.listener, "class", `listener listener-${state}`);
    setAttr(p.listener, "data-state", state);
    setAttr(p.listenerDot, "class", `status-dot dot-${state}`);
    setText(
      p.listenerState,
      state === "running"
        ? t("settings.listenerRunning", { addr: l.addr ?? "—" })
        : state === "starting"
          ? t("settings.listenerStarting")
          : t("settings.listenerFailed"),
    );
    const error = state === "failed" && l.error ? l.error : null;
    const hint = state === "failed" && l.hint ? l.hint : null;
    if (error) setText(p.listenerError, error);
    if (hint) setText(p.listenerHint, hint);
    syncChildren(p.listenerText, p.listenerState, !!error && p.listenerError, !!hint && p.listenerHint);
  }

  private paintRow(row: Row, value: string | null): void {
    row.value.set(value);
    setProp(row.copy, "disabled", !value);
  }

  private paintPassword(): void {
    const p = this.parts;
    const password = this.status?.password ?? null;
    this.paintRow(p.password, password === null ? null : this.passwordVisible ? password : "•".repeat(12));
    setProp(p.password.copy, "disabled", !password);
    setToggle(
      p.passwordToggle,
      this.passwordVisible,
      this.passwordVisible ? t("settings.hidePassword") : t("settings.showPassword"),
      this.passwordVisible ? "eyeOff" : "eye",
    );
  }

  // ---- actions ----

  private async chooseForm(form: WebhookForm): Promise<void> {
    if (this.formSaving) return;
    this.formSaving = true;
    try {
      const status = await setWebhookForm(form);
      this.formSaving = false;
      this.host.ctx.setStatus(status);
      this.host.saved();
    } catch (e) {
      this.formSaving = false;
      this.host.ctx.notify.error(e);
      // The radios go back to the form in force.
      this.paint();
    }
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
      this.host.ctx.setStatus(await rotateWebhookSecret());
      this.host.ctx.notify.toast(t("connection.rotated"), 6000);
    } catch (e) {
      this.host.ctx.notify.error(e);
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
      this.host.ctx.setStatus(await regenerateCredentials());
      this.host.ctx.notify.toast(t("settings.regenerated"), 6000);
    } catch (e) {
      this.host.ctx.notify.error(e);
    }
  }
}
