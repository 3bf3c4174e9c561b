// Settings: the Bulutfon connection (listener, webhook URL, credentials), pop-up preferences,
// do not disturb, language, start at login, data folder. Every change saves at once.

import { regenerateCredentials } from "../lib/backend";
import { h, nextId, replaceChildren, type Child } from "../lib/dom";
import { t } from "../lib/i18n";
import type { AppStatus, PopupEvents, Settings } from "../lib/types";
import { icon } from "./icons";
import { button, confirmDialog, copyButton, section, switchField } from "./ui";
import type { AppContext, View } from "./view";

const POPUP_KEYS: readonly (keyof PopupEvents)[] = ["call_init", "routed", "missed", "fax", "outgoing"];
const MAX_EXTENSION_DIGITS = 6;

export function validExtension(s: string): boolean {
  return new RegExp(`^\\d{1,${MAX_EXTENSION_DIGITS}}$`).test(s);
}

export class SettingsView implements View {
  readonly el: HTMLElement;
  private passwordVisible = false;
  private savedEl: HTMLElement | null = null;
  private savedTimer: ReturnType<typeof setTimeout> | null = null;
  private extError = "";
  private pendingExtension = "";
  private readonly titleId = nextId("settings-title");

  constructor(private readonly ctx: AppContext) {
    this.el = h("section", { class: "view view-settings", testid: "view-settings", attrs: { "aria-labelledby": this.titleId } });
  }

  // ---- rendering ----

  render(): void {
    const focusedTestid =
      document.activeElement instanceof HTMLElement && this.el.contains(document.activeElement)
        ? document.activeElement.getAttribute("data-testid")
        : null;
    const scroller = this.el.querySelector(".view-scroll");
    const scroll = scroller ? scroller.scrollTop : 0;

    this.savedEl = h("span", { class: "saved-indicator", testid: "settings-saved", attrs: { "aria-live": "polite" } });
    const header = h(
      "header",
      { class: "view-header" },
      h("h1", { class: "view-title", id: this.titleId, text: t("settings.title") }),
      this.savedEl,
    );
    const status = this.ctx.status();
    const settings = this.ctx.settings();
    const content: Child[] = [];
    if (!status && !settings) {
      content.push(h("p", { class: "muted", text: t("settings.loading") }));
    } else {
      content.push(this.connectionSection(status));
      if (settings) {
        content.push(this.notificationsSection(settings, status));
        content.push(this.generalSection(settings, status));
      }
    }
    const body = h("div", { class: "view-scroll" }, h("div", { class: "settings-grid" }, ...content));
    replaceChildren(this.el, header, body);
    body.scrollTop = scroll;
    if (focusedTestid) this.el.querySelector<HTMLElement>(`[data-testid="${focusedTestid}"]`)?.focus();
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

  private credentialRow(label: string, value: string | null, testid: string, copyText: () => string | null, extra: Child = null, placeholder = "—"): HTMLElement {
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

  private connectionSection(status: AppStatus | null): HTMLElement {
    if (!status) return section(t("settings.connection"), h("p", { class: "muted", text: t("settings.loading") }));
    const url = status.webhook_url;
    const fromEnv = status.credential_source === "environment";
    const toggle = button({
      label: this.passwordVisible ? t("settings.hidePassword") : t("settings.showPassword"),
      icon: this.passwordVisible ? "eyeOff" : "eye",
      iconOnly: true,
      small: true,
      testid: "settings-password-toggle",
      onClick: () => {
        this.passwordVisible = !this.passwordVisible;
        this.render();
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
    return section(
      t("settings.connection"),
      this.listenerLine(status),
      this.credentialRow(t("settings.webhookUrl"), url, "settings-webhook-url", () => url, null, t("settings.webhookUrlNone")),
      h("p", { class: "field-hint", text: t("settings.webhookUrlHint") }),
      this.credentialRow(t("settings.user"), status.user, "settings-user", () => status.user),
      this.credentialRow(
        t("settings.password"),
        this.passwordVisible ? status.password : "•".repeat(12),
        "settings-password",
        () => status.password,
        toggle,
      ),
      fromEnv ? h("p", { class: "field-hint", testid: "settings-credentials-env", text: t("settings.credentialsFromEnv") }) : null,
      h("div", { class: "card-actions" }, regenerate),
    );
  }

  private notificationsSection(s: Settings, status: AppStatus | null): HTMLElement {
    const popups = h("div", { class: "checks", attrs: { role: "group", "aria-label": t("settings.notifications") } });
    for (const key of POPUP_KEYS) {
      const id = nextId("popup");
      const input = h("input", { id, testid: `settings-popup-${key}`, attrs: { type: "checkbox" } });
      input.checked = s.popup_events[key];
      input.addEventListener("change", () => {
        const current = this.ctx.settings();
        if (!current) return;
        void this.save({ popup_events: { ...current.popup_events, [key]: input.checked } });
      });
      popups.appendChild(
        h("label", { class: "check", attrs: { for: id } }, input, h("span", { text: t(`settings.popup.${key}`) })),
      );
    }
    const notif = status?.notifications;
    const only = switchField({
      label: t("settings.onlyMine"),
      hint: t("settings.onlyMineHint"),
      checked: s.only_my_extensions,
      testid: "settings-only-mine",
      onChange: (v) => void this.save({ only_my_extensions: v }),
    });
    const dnd = switchField({
      label: t("settings.dnd"),
      hint: t("settings.dndHint"),
      checked: s.dnd,
      testid: "settings-dnd",
      onChange: (v) => void this.save({ dnd: v }),
    });
    return section(
      t("settings.notifications"),
      notif && !notif.available
        ? h("p", { class: "inline-warning", testid: "settings-notifications-unavailable", text: t("settings.notificationsUnavailable", { error: notif.error ?? "—" }) })
        : null,
      dnd.root,
      h("p", { class: "field-hint", text: t("settings.notificationsHint") }),
      popups,
      only.root,
      this.extensionsEditor(s),
    );
  }

  private extensionsEditor(s: Settings): HTMLElement {
    const inputId = nextId("ext");
    const errId = `${inputId}-err`;
    const input = h("input", {
      id: inputId,
      class: "text-input ext-input",
      testid: "settings-extension-input",
      attrs: {
        type: "text",
        inputmode: "numeric",
        autocomplete: "off",
        maxlength: MAX_EXTENSION_DIGITS,
        placeholder: t("settings.extensionPlaceholder"),
        "aria-describedby": this.extError ? errId : null,
        "aria-invalid": this.extError ? "true" : null,
      },
    });
    input.value = this.pendingExtension;
    const add = () => {
      const v = input.value.trim();
      const current = this.ctx.settings();
      if (!current || v === "") return;
      if (!validExtension(v)) {
        this.extError = t("settings.extensionInvalid");
      } else if (current.my_extensions.includes(v)) {
        this.extError = t("settings.extensionDuplicate");
      } else {
        this.extError = "";
        this.pendingExtension = "";
        void this.save({ my_extensions: [...current.my_extensions, v] });
        this.focusAfterRender("settings-extension-input");
        return;
      }
      this.pendingExtension = v;
      this.render();
      this.el.querySelector<HTMLElement>('[data-testid="settings-extension-input"]')?.focus();
    };
    input.addEventListener("input", () => {
      this.pendingExtension = input.value;
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        add();
      }
    });
    const list = h("ul", { class: "ext-list", testid: "settings-extensions" });
    for (const ext of s.my_extensions) {
      list.appendChild(
        h(
          "li",
          { class: "ext-chip", dataset: { ext } },
          h("span", { text: ext }),
          button({
            label: t("action.remove", { what: ext }),
            icon: "close",
            iconOnly: true,
            variant: "ghost",
            small: true,
            testid: "settings-extension-remove",
            onClick: () => {
              const current = this.ctx.settings();
              if (!current) return;
              void this.save({ my_extensions: current.my_extensions.filter((x) => x !== ext) });
              this.focusAfterRender("settings-extension-input");
            },
          }),
        ),
      );
    }
    if (s.my_extensions.length === 0) list.appendChild(h("li", { class: "muted", text: t("settings.noExtensions") }));
    return h(
      "div",
      { class: ["ext-editor", !s.only_my_extensions && "is-inactive"] },
      h("label", { class: "field-label", attrs: { for: inputId }, text: t("settings.myExtensions") }),
      list,
      h(
        "div",
        { class: "ext-add" },
        input,
        button({ label: t("settings.extensionAdd"), icon: "plus", testid: "settings-extension-add", onClick: add }),
      ),
      this.extError ? h("p", { class: "field-error", id: errId, attrs: { role: "alert" }, text: this.extError }) : null,
    );
  }

  private generalSection(s: Settings, status: AppStatus | null): HTMLElement {
    const langId = nextId("lang");
    const select = h("select", { id: langId, class: "select", testid: "settings-language" });
    const options: [string, string][] = [
      ["tr", t("settings.language.tr")],
      ["en", t("settings.language.en")],
      ["system", t("settings.language.system")],
    ];
    for (const [value, label] of options) select.appendChild(h("option", { attrs: { value }, text: label }));
    select.value = s.language ?? "system";
    select.addEventListener("change", () => {
      const v = select.value;
      void this.save({ language: v === "tr" || v === "en" ? v : null });
    });
    const autostart = switchField({
      label: t("settings.autostart"),
      checked: s.autostart,
      testid: "settings-autostart",
      onChange: (v) => void this.save({ autostart: v }),
    });
    return section(
      t("settings.general"),
      h("div", { class: "field" }, h("label", { class: "field-label", attrs: { for: langId }, text: t("settings.language") }), select),
      autostart.root,
      status
        ? h(
            "div",
            { class: "field" },
            h("span", { class: "field-label", text: t("settings.dataDir") }),
            h("code", { class: "path", testid: "settings-data-dir", text: status.data_dir }),
          )
        : null,
      status?.database_error
        ? h("p", { class: "inline-warning", testid: "settings-database-error", text: t("settings.databaseError", { error: status.database_error }) })
        : null,
      h(
        "div",
        { class: "card-actions split" },
        status ? h("span", { class: "muted", testid: "settings-version", text: t("settings.version", { version: status.version }) }) : null,
        button({ label: t("settings.reopenGuide"), icon: "guide", variant: "ghost", onClick: () => this.ctx.navigate("guide") }),
      ),
    );
  }

  private focusAfterRender(testid: string): void {
    queueMicrotask(() => this.el.querySelector<HTMLElement>(`[data-testid="${testid}"]`)?.focus());
  }

  // ---- actions ----

  private async save(patch: Partial<Settings>): Promise<void> {
    this.showSaved(t("settings.saving"), false);
    const ok = await this.ctx.updateSettings(patch);
    if (ok) this.showSaved(t("settings.saved"), true);
    else this.showSaved("", false);
  }

  private showSaved(text: string, fade: boolean): void {
    if (!this.savedEl) return;
    const el = this.savedEl;
    el.textContent = text;
    el.classList.toggle("visible", text !== "");
    if (el.firstChild === null || !text) return;
    if (fade) {
      el.insertBefore(icon("check", "saved-icon"), el.firstChild);
      if (this.savedTimer) clearTimeout(this.savedTimer);
      this.savedTimer = setTimeout(() => {
        el.classList.remove("visible");
      }, 2000);
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
      const status = await regenerateCredentials();
      this.ctx.setStatus(status);
      this.ctx.notify.toast(t("settings.regenerated"), 6000);
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }

  // ---- view lifecycle ----

  mount(): void {
    this.render();
  }

  unmount(): void {}

  rerender(): void {
    this.render();
  }

  focus(): void {
    const first = this.el.querySelector<HTMLElement>("button, input, select");
    first?.focus();
  }
}
