// Settings: how Bulutfon reaches Kanca (tunnel: way, status, connection test), the Bulutfon
// connection (./connection.ts: listener, webhook URL in the chosen form, its keys), pop-up preferences, do not disturb, language,
// start at login, data and log folders. Every change saves at once, except the tunnel's form,
// which has its own Save button (saving restarts the tunnel).

import { getTunnelSettings, saveTunnelSettings, testConnection, toBackendError } from "../lib/backend";
import { h, nextId, replaceChildren, type Child } from "../lib/dom";
import { t } from "../lib/i18n";
import {
  isPublic,
  modeName,
  normalizeTunnelSettings,
  sameTunnelSettings,
  TUNNEL_MODES,
  tunnelDotClass,
  tunnelOf,
} from "../lib/tunnel";
import type { AppStatus, PopupEvents, SelfTestResult, Settings, TunnelSettings, TunnelStatus } from "../lib/types";
import { isLocalWebhookUrl } from "../lib/webhook";
import { ConnectionSection } from "./connection";
import { icon } from "./icons";
import { errorText } from "./notifier";
import { button, copyButton, section, setButtonLabel, switchField } from "./ui";
import type { AppContext, View } from "./view";

/** The text fields of the tunnel form. */
type TunnelField = "ngrok_authtoken" | "ngrok_domain" | "cloudflared_path" | "own_url";

const FIELD_TESTID: Record<TunnelField, string> = {
  ngrok_authtoken: "tunnel-ngrok-authtoken",
  ngrok_domain: "tunnel-ngrok-domain",
  cloudflared_path: "tunnel-cloudflared-path",
  own_url: "tunnel-own-url",
};

interface TestOutcome {
  ok: boolean;
  /** It came back, but only through the local URL: Bulutfon still cannot reach Kanca. */
  local?: boolean;
  text: string;
  url: string | null;
}

/** The base URL Kanca makes of an own URL, for showing where requests go (not validation). */
function ownBase(url: string): string {
  // A pasted webhook URL, of either form, stands for its base (as tunnel::parse_own_url).
  let base = url.trim().replace(/\/+$/, "").replace(/\/webhook\/[^/]*$/, "");
  if (base.endsWith("/webhook")) base = base.slice(0, -"/webhook".length);
  return base;
}

const POPUP_KEYS: readonly (keyof PopupEvents)[] = ["call_init", "routed", "missed", "fax", "outgoing"];
const MAX_EXTENSION_DIGITS = 6;

export function validExtension(s: string): boolean {
  return new RegExp(`^\\d{1,${MAX_EXTENSION_DIGITS}}$`).test(s);
}

export class SettingsView implements View {
  readonly el: HTMLElement;
  private savedEl: HTMLElement | null = null;
  private savedTimer: ReturnType<typeof setTimeout> | null = null;
  private savedText = "";
  private savedDone = false;
  private extError = "";
  private pendingExtension = "";
  private readonly titleId = nextId("settings-title");
  private mounted = false;

  // the tunnel's form
  private tunnelSaved: TunnelSettings | null = null;
  private tunnelDraft: TunnelSettings | null = null;
  private tunnelLoading = false;
  private tunnelLoadError: string | null = null;
  private tunnelSaving = false;
  private tokenVisible = false;
  private fieldErrors: Partial<Record<TunnelField, string>> = {};
  private saveBtn: HTMLButtonElement | null = null;
  private unsavedEl: HTMLElement | null = null;
  private readonly modeName = nextId("tunnel-mode");
  private focusTunnelPending = false;

  // the tunnel's status: when the engine retries (a countdown), and whether it is retrying now
  private lastTunnelKey = "";
  private lastTunnel: TunnelStatus | null = null;
  private retryAt: number | null = null;
  private retryingNow = false;
  private retryTimer: ReturnType<typeof setInterval> | null = null;

  // "Test the connection"
  private testing = false;
  private testOutcome: TestOutcome | null = null;

  /** Listener, webhook URL in the chosen form, credentials or URL secret. */
  private readonly connection: ConnectionSection;

  constructor(private readonly ctx: AppContext) {
    this.connection = new ConnectionSection(ctx, {
      rerender: () => this.render(),
      saved: () => this.showSaved(t("settings.saved"), true),
    });
    this.el = h("section", { class: "view view-settings", testid: "view-settings", attrs: { "aria-labelledby": this.titleId } });
  }

  // ---- rendering ----

  render(): void {
    const active = document.activeElement;
    const focusedTestid =
      active instanceof HTMLElement && this.el.contains(active) ? active.getAttribute("data-testid") : null;
    // Status changes re-render while someone types: keep the caret where it was.
    const selection =
      active instanceof HTMLInputElement && (active.type === "text" || active.type === "password")
        ? [active.selectionStart, active.selectionEnd, active.selectionDirection] as const
        : null;
    const scroller = this.el.querySelector(".view-scroll");
    const scroll = scroller ? scroller.scrollTop : 0;

    this.savedEl = h("span", { class: "saved-indicator", testid: "settings-saved", attrs: { "aria-live": "polite" } });
    this.paintSaved();
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
      content.push(this.tunnelSection(status));
      content.push(this.connection.render(status));
      if (settings) {
        content.push(this.notificationsSection(settings, status));
        content.push(this.generalSection(settings, status));
      }
    }
    const body = h("div", { class: "view-scroll" }, h("div", { class: "settings-grid" }, ...content));
    replaceChildren(this.el, header, body);
    body.scrollTop = scroll;
    if (focusedTestid) {
      const el = this.el.querySelector<HTMLElement>(`[data-testid="${focusedTestid}"]`);
      el?.focus();
      if (selection && el instanceof HTMLInputElement && (el.type === "text" || el.type === "password")) {
        try {
          el.setSelectionRange(selection[0], selection[1], selection[2] ?? undefined);
        } catch {
          /* not a text field after all */
        }
      }
    }
    this.syncRetryTimer();
    this.applyTunnelFocus();
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
      status?.log_dir
        ? h(
            "div",
            { class: "field" },
            h("span", { class: "field-label", text: t("settings.logDir") }),
            h("code", { class: "path", testid: "settings-log-dir", text: status.log_dir }),
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

  // ---- how Bulutfon reaches Kanca ----

  private tunnelSection(status: AppStatus | null): HTMLElement {
    const card = section(
      t("tunnel.title"),
      h("p", { class: "card-hint", text: t("tunnel.intro") }),
      status ? this.tunnelLine(status) : null,
      this.tunnelForm(status),
      status ? this.testBlock() : null,
    );
    card.classList.add("tunnel-card");
    card.setAttribute("data-testid", "settings-tunnel");
    return card;
  }

  /** Notes a new tunnel status: when the engine retries next, and whether it is retrying now. */
  private observeTunnel(tunnel: TunnelStatus): void {
    const key = JSON.stringify(tunnel);
    if (key === this.lastTunnelKey) return; // the same status again (another field changed)
    const prev = this.lastTunnel;
    this.lastTunnelKey = key;
    this.lastTunnel = tunnel;
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
  }

  private retryText(): string | null {
    if (this.retryAt !== null) {
      const left = Math.ceil((this.retryAt - Date.now()) / 1000);
      return left > 0 ? t("tunnel.status.retryIn", { n: left }) : t("tunnel.status.retryingNow");
    }
    return this.retryingNow ? t("tunnel.status.retryingNow") : null;
  }

  /** Always-visible status: off / connecting / online with URL / reconnecting / failed. */
  private tunnelLine(status: AppStatus): HTMLElement {
    const tunnel = tunnelOf(status)!;
    this.observeTunnel(tunnel);
    const state = tunnel.state;
    const mode = modeName(tunnel.mode);
    const lines: Child[] = [];
    switch (state) {
      case "off":
        lines.push(h("p", { class: "tunnel-state", text: t("tunnel.status.off") }));
        break;
      case "connecting":
        lines.push(h("p", { class: "tunnel-state", text: t("tunnel.status.connecting", { mode }) }));
        break;
      case "online": {
        const url = tunnel.public_url ?? tunnel.webhook_url;
        lines.push(
          h(
            "p",
            { class: "tunnel-state" },
            h("span", { text: t("tunnel.status.online", { mode }) }),
            " ",
            url ? h("code", { class: "tunnel-url", testid: "tunnel-public-url", text: url }) : null,
          ),
        );
        break;
      }
      case "reconnecting":
      case "failed": {
        lines.push(h("p", { class: "tunnel-state", text: t(state === "failed" ? "tunnel.status.failed" : "tunnel.status.reconnecting", { mode }) }));
        if (tunnel.error) lines.push(h("p", { class: "tunnel-error", testid: "tunnel-error", text: t("tunnel.status.reason", { error: tunnel.error }) }));
        const retry = this.retryText();
        if (retry) lines.push(h("p", { class: "tunnel-retry", testid: "tunnel-retry", text: retry }));
        break;
      }
    }
    return h(
      "div",
      {
        class: `tunnel-line tunnel-${state}`,
        testid: "tunnel-status",
        dataset: { state, mode: tunnel.mode },
        attrs: { role: "group", "aria-label": t("tunnel.status.label") },
      },
      h("span", { class: `status-dot ${tunnelDotClass(state)}`, attrs: { "aria-hidden": "true" } }),
      h("div", { class: "tunnel-text" }, ...lines),
    );
  }

  /** Counts "retrying in N s" down while a retry is pending (only the text changes). */
  private syncRetryTimer(): void {
    const pending = this.mounted && this.retryAt !== null && this.retryAt > Date.now();
    if (!pending) {
      this.stopRetryTimer();
      return;
    }
    if (this.retryTimer !== null) return;
    this.retryTimer = setInterval(() => {
      const el = this.el.querySelector('[data-testid="tunnel-retry"]');
      const text = this.retryText();
      if (el && text) el.textContent = text;
      if (this.retryAt === null || this.retryAt <= Date.now()) this.stopRetryTimer();
    }, 1000);
  }

  private stopRetryTimer(): void {
    if (this.retryTimer !== null) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }

  private tunnelForm(status: AppStatus | null): HTMLElement {
    const draft = this.tunnelDraft;
    if (!draft) {
      this.saveBtn = null;
      this.unsavedEl = null;
      if (this.tunnelLoadError !== null) {
        return h(
          "div",
          { class: "tunnel-load-error" },
          h("p", { class: "inline-warning", testid: "tunnel-load-error", text: t("tunnel.loadError", { error: this.tunnelLoadError }) }),
          button({ label: t("action.retry"), icon: "refresh", small: true, testid: "tunnel-load-retry", onClick: () => void this.loadTunnel() }),
        );
      }
      return h("p", { class: "muted", text: t("tunnel.loading") });
    }

    const modes = h(
      "fieldset",
      { class: "tunnel-modes", testid: "tunnel-modes" },
      h("legend", { class: "field-label", text: t("tunnel.modesLabel") }),
    );
    for (const mode of TUNNEL_MODES) {
      const id = nextId("tmode");
      const descId = `${id}-desc`;
      const checked = draft.mode === mode;
      const input = h("input", {
        id,
        testid: `tunnel-mode-${mode}`,
        attrs: { type: "radio", name: this.modeName, value: mode, "aria-describedby": descId },
      });
      input.checked = checked;
      input.addEventListener("change", () => {
        if (!input.checked || !this.tunnelDraft) return;
        this.tunnelDraft = { ...this.tunnelDraft, mode };
        this.fieldErrors = {};
        this.render();
      });
      modes.appendChild(
        h(
          "label",
          { class: ["mode-option", checked && "is-checked"], attrs: { for: id }, dataset: { mode } },
          input,
          h(
            "span",
            { class: "mode-text" },
            h("span", { class: "mode-title", text: t(`tunnel.mode.${mode}`) }),
            h("span", { class: "mode-desc", id: descId, text: t(`tunnel.mode.${mode}Desc`) }),
          ),
        ),
      );
    }

    const saveBtn = button({
      label: this.tunnelSaving ? t("tunnel.saving") : t("tunnel.save"),
      icon: "check",
      variant: "primary",
      testid: "tunnel-save",
      disabled: this.tunnelSaving || !this.tunnelDirty(),
    });
    saveBtn.type = "submit";
    if (this.tunnelSaving) saveBtn.setAttribute("aria-busy", "true");
    this.saveBtn = saveBtn;
    this.unsavedEl = h("span", { class: "muted unsaved", testid: "tunnel-unsaved", text: t("tunnel.unsaved") });
    this.unsavedEl.hidden = !this.tunnelDirty() || this.tunnelSaving;

    const form = h(
      "form",
      { class: "tunnel-form", attrs: { novalidate: true } },
      modes,
      this.modePanel(draft, status),
      h("div", { class: "card-actions tunnel-actions" }, saveBtn, this.unsavedEl),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.saveTunnel();
    });
    return form;
  }

  private tunnelDirty(): boolean {
    return !!this.tunnelDraft && !!this.tunnelSaved && !sameTunnelSettings(this.tunnelDraft, this.tunnelSaved);
  }

  /** After typing: the Save button and the "unsaved" note follow, without a re-render. */
  private updateDirty(): void {
    const dirty = this.tunnelDirty();
    if (this.saveBtn) this.saveBtn.disabled = this.tunnelSaving || !dirty;
    if (this.unsavedEl) this.unsavedEl.hidden = !dirty || this.tunnelSaving;
  }

  /** A labelled text field of the tunnel form, with its hint and error. */
  private tunnelInput(
    field: TunnelField,
    label: string,
    o: { type?: "text" | "password"; placeholder?: string; hint?: string; inputmode?: string; extra?: Child } = {},
  ): HTMLElement {
    const draft = this.tunnelDraft!;
    const id = nextId("tfield");
    const hintId = o.hint ? `${id}-hint` : null;
    const error = this.fieldErrors[field];
    const errId = error ? `${id}-err` : null;
    const testid = FIELD_TESTID[field];
    const input = h("input", {
      id,
      class: "text-input wide",
      testid,
      attrs: {
        type: o.type ?? "text",
        inputmode: o.inputmode,
        autocomplete: "off",
        autocapitalize: "off",
        spellcheck: "false",
        placeholder: o.placeholder,
        "aria-describedby": [hintId, errId].filter(Boolean).join(" ") || null,
        "aria-invalid": error ? "true" : null,
      },
    });
    input.value = draft[field] ?? "";
    input.addEventListener("input", () => {
      if (!this.tunnelDraft) return;
      this.tunnelDraft = { ...this.tunnelDraft, [field]: input.value };
      if (this.fieldErrors[field]) {
        // The error is about what was there before: drop it as soon as the text changes.
        delete this.fieldErrors[field];
        input.removeAttribute("aria-invalid");
        this.el.querySelector(`[data-testid="${testid}-error"]`)?.remove();
      }
      if (field === "own_url") this.updateForwardLine();
      this.updateDirty();
    });
    return h(
      "div",
      { class: "field" },
      h("label", { class: "field-label", attrs: { for: id }, text: label }),
      o.extra ? h("div", { class: "input-row" }, input, o.extra) : input,
      o.hint ? h("p", { class: "field-hint", id: hintId ?? undefined, text: o.hint }) : null,
      error ? h("p", { class: "field-error", id: errId ?? undefined, testid: `${testid}-error`, attrs: { role: "alert" }, text: error }) : null,
    );
  }

  /** The chosen way's instructions and fields. */
  private modePanel(draft: TunnelSettings, status: AppStatus | null): HTMLElement {
    const body: Child[] = [];
    switch (draft.mode) {
      case "ngrok": {
        const toggle = button({
          label: this.tokenVisible ? t("tunnel.ngrok.hideToken") : t("tunnel.ngrok.showToken"),
          icon: this.tokenVisible ? "eyeOff" : "eye",
          iconOnly: true,
          small: true,
          testid: "tunnel-ngrok-authtoken-toggle",
          onClick: () => {
            this.tokenVisible = !this.tokenVisible;
            this.render();
            this.el.querySelector<HTMLElement>('[data-testid="tunnel-ngrok-authtoken-toggle"]')?.focus();
          },
        });
        toggle.setAttribute("aria-pressed", this.tokenVisible ? "true" : "false");
        body.push(
          h(
            "ol",
            { class: "instructions", testid: "tunnel-instructions" },
            h("li", { text: t("tunnel.ngrok.step1") }),
            h("li", { text: t("tunnel.ngrok.step2") }),
            h("li", { text: t("tunnel.ngrok.step3") }),
          ),
          this.tunnelInput("ngrok_authtoken", t("tunnel.ngrok.token"), { type: this.tokenVisible ? "text" : "password", extra: toggle }),
          this.tunnelInput("ngrok_domain", t("tunnel.ngrok.domain"), {
            placeholder: t("tunnel.ngrok.domainPlaceholder"),
            hint: t("tunnel.ngrok.noDomain"),
            inputmode: "url",
          }),
        );
        break;
      }
      case "cloudflared":
        body.push(
          h("p", { testid: "tunnel-instructions", text: t("tunnel.cf.body") }),
          h("p", { class: "note", testid: "tunnel-cf-warning" }, icon("alert", "note-icon"), h("span", { text: t("tunnel.cf.warning") })),
          this.tunnelInput("cloudflared_path", t("tunnel.cf.path"), { placeholder: "cloudflared", hint: t("tunnel.cf.pathHint") }),
        );
        break;
      case "own_url": {
        const local = status?.local_webhook_url ?? null;
        const copy = copyButton(() => local, (s) => this.ctx.copy(s), { what: t("tunnel.own.local"), testid: "tunnel-local-url-copy" });
        copy.disabled = !local;
        body.push(
          h("p", { testid: "tunnel-instructions", text: t("tunnel.own.body") }),
          this.tunnelInput("own_url", t("tunnel.own.url"), { placeholder: t("tunnel.own.placeholder"), inputmode: "url" }),
          h("p", { class: "field-label", text: t("tunnel.own.forward") }),
          h(
            "div",
            { class: "copy-field" },
            local === null
              ? h("span", { class: "cred-value cred-missing", testid: "tunnel-local-url", text: t("tunnel.own.localNone") })
              : h("code", { class: "cred-value", testid: "tunnel-local-url", attrs: { "aria-label": t("tunnel.own.local") }, text: local }),
            copy,
          ),
          h("p", { class: "field-hint forward-line", testid: "tunnel-forward" }),
        );
        break;
      }
      case "off":
        body.push(h("p", { testid: "tunnel-instructions", text: t("tunnel.off.body") }));
        break;
    }
    const panel = h("div", { class: "mode-panel", testid: "tunnel-panel", dataset: { mode: draft.mode } }, ...body);
    if (draft.mode === "own_url") this.updateForwardLine(panel, status);
    return panel;
  }

  /** "https://kanca.example.com/webhook → http://127.0.0.1:8497/webhook" under the own URL. */
  private updateForwardLine(root: ParentNode = this.el, status: AppStatus | null = this.ctx.status()): void {
    const el = root.querySelector('[data-testid="tunnel-forward"]');
    if (!el) return;
    const own = this.tunnelDraft?.own_url?.trim() ?? "";
    const local = status?.local_webhook_url ?? null;
    el.textContent = own && local ? `${ownBase(own)}/webhook → ${local}` : "";
  }

  private testBlock(): HTMLElement {
    const btn = button({
      label: this.testing ? t("tunnel.testing") : t("tunnel.test"),
      icon: this.testing ? undefined : "send",
      testid: "tunnel-test",
      disabled: this.testing,
      onClick: () => void this.runTest(),
    });
    if (this.testing) {
      btn.setAttribute("aria-busy", "true");
      btn.insertBefore(h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }), btn.firstChild);
    }
    const r = this.testOutcome;
    const result = r
      ? h(
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
        )
      : null;
    return h(
      "div",
      { class: "tunnel-test" },
      h("p", { class: "field-hint", text: t("tunnel.testHint") }),
      h("div", { class: "test-row" }, btn),
      result,
    );
  }

  private outcomeOf(r: SelfTestResult): TestOutcome {
    const ms = Math.round(r.round_trip_ms);
    if (!r.ok) return { ok: false, text: t("tunnel.testFailed", { error: r.error ?? `HTTP ${r.http_status ?? "—"}` }), url: r.url || null };
    const status = this.ctx.status();
    const local = !isPublic(tunnelOf(status)) || isLocalWebhookUrl(status, r.url);
    return { ok: true, local, text: local ? t("tunnel.testOkLocal", { ms }) : t("tunnel.testOk", { ms }), url: r.url || null };
  }

  private async runTest(): Promise<void> {
    if (this.testing) return;
    this.testing = true;
    this.testOutcome = null;
    // Progress in place (a re-render would drop the focus from the button).
    const btn = this.el.querySelector<HTMLButtonElement>('[data-testid="tunnel-test"]');
    if (btn) {
      btn.disabled = true;
      btn.setAttribute("aria-busy", "true");
      setButtonLabel(btn, t("tunnel.testing"));
      btn.querySelector("svg")?.replaceWith(h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }));
    }
    this.el.querySelector('[data-testid="tunnel-test-result"]')?.remove();
    try {
      this.testOutcome = this.outcomeOf(await testConnection());
    } catch (e) {
      this.testOutcome = { ok: false, text: t("tunnel.testFailed", { error: errorText(toBackendError(e)) }), url: null };
    }
    this.testing = false;
    if (!this.mounted) return;
    const hadFocus = document.activeElement === document.body || document.activeElement === null || this.el.contains(document.activeElement);
    this.render();
    if (hadFocus) this.el.querySelector<HTMLElement>('[data-testid="tunnel-test"]')?.focus();
  }

  private async loadTunnel(): Promise<void> {
    if (this.tunnelLoading) return;
    this.tunnelLoading = true;
    this.tunnelLoadError = null;
    try {
      const saved = normalizeTunnelSettings(await getTunnelSettings());
      this.tunnelSaved = saved;
      this.tunnelDraft = { ...saved };
    } catch (e) {
      this.tunnelLoadError = errorText(toBackendError(e));
    }
    this.tunnelLoading = false;
    if (this.mounted) this.render();
  }

  private validateTunnel(s: TunnelSettings): Partial<Record<TunnelField, string>> {
    const errors: Partial<Record<TunnelField, string>> = {};
    if (s.mode === "ngrok" && !s.ngrok_authtoken) errors.ngrok_authtoken = t("tunnel.ngrok.tokenRequired");
    if (s.mode === "own_url" && !s.own_url) errors.own_url = t("tunnel.own.required");
    return errors;
  }

  private focusField(field: TunnelField): void {
    this.el.querySelector<HTMLElement>(`[data-testid="${FIELD_TESTID[field]}"]`)?.focus();
  }

  private async saveTunnel(): Promise<void> {
    if (!this.tunnelDraft || this.tunnelSaving || !this.tunnelDirty()) return;
    const next = normalizeTunnelSettings(this.tunnelDraft);
    const errors = this.validateTunnel(next);
    const first = Object.keys(errors)[0] as TunnelField | undefined;
    if (first) {
      this.fieldErrors = errors;
      this.render();
      this.focusField(first);
      return;
    }
    this.tunnelSaving = true;
    this.fieldErrors = {};
    this.render();
    let invalid: TunnelField | null = null;
    try {
      const saved = normalizeTunnelSettings(await saveTunnelSettings(next));
      this.tunnelSaved = saved;
      // What was typed since the save started stays; otherwise take the normalised value.
      if (this.tunnelDraft && sameTunnelSettings(this.tunnelDraft, next)) this.tunnelDraft = { ...saved };
      this.testOutcome = null;
      this.showSaved(t("settings.saved"), true);
    } catch (e) {
      const err = toBackendError(e);
      if (err.code === "invalid_url") {
        invalid = "own_url";
        this.fieldErrors = { own_url: t("tunnel.own.invalid", { error: err.message }) };
      } else {
        this.ctx.notify.error(err);
      }
    }
    this.tunnelSaving = false;
    if (!this.mounted) return;
    this.render();
    if (invalid) this.focusField(invalid);
  }

  /** Opened from the guide: focus the chosen way (once the form is there). */
  focusTunnel(): void {
    this.focusTunnelPending = true;
    this.applyTunnelFocus();
  }

  private applyTunnelFocus(): void {
    if (!this.focusTunnelPending || !this.mounted) return;
    const radios = [...this.el.querySelectorAll<HTMLInputElement>(`input[name="${this.modeName}"]`)];
    const target = radios.find((r) => r.checked) ?? radios[0];
    if (!target) return;
    this.focusTunnelPending = false;
    const card = this.el.querySelector<HTMLElement>('[data-testid="settings-tunnel"]');
    if (card && typeof card.scrollIntoView === "function") card.scrollIntoView({ block: "start" });
    target.focus();
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
    this.savedText = text;
    this.savedDone = fade;
    this.paintSaved();
    if (this.savedTimer) clearTimeout(this.savedTimer);
    this.savedTimer = null;
    if (fade && text) {
      this.savedTimer = setTimeout(() => {
        this.savedText = "";
        this.savedEl?.classList.remove("visible");
      }, 2000);
    }
  }

  /** The "Kaydedildi" indicator, also after a re-render (status changes re-render the page). */
  private paintSaved(): void {
    const el = this.savedEl;
    if (!el) return;
    el.textContent = this.savedText;
    el.classList.toggle("visible", this.savedText !== "");
    if (this.savedText && this.savedDone) el.insertBefore(icon("check", "saved-icon"), el.firstChild);
  }

  // ---- view lifecycle ----

  mount(): void {
    this.mounted = true;
    this.render();
    if (!this.tunnelSaved) void this.loadTunnel();
  }

  unmount(): void {
    this.mounted = false;
    this.stopRetryTimer();
  }

  rerender(): void {
    this.render();
  }

  focus(): void {
    const first = this.el.querySelector<HTMLElement>("button, input, select");
    first?.focus();
  }
}
