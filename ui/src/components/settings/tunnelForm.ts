// Settings > How Bulutfon reaches Kanca > the form: the four ways as radios, the chosen way's
// instructions and fields, and Save (saving restarts the tunnel). Loaded from the backend when
// the page first opens. Built once: choosing a way swaps the panel shown (each keeps its inputs
// and what was typed in them), errors come and go beside their field, and a status change only
// rewrites the own-URL way's local address and forward line.

import { getTunnelSettings, saveTunnelSettings, toBackendError } from "../../lib/backend";
import { h, nextId, setAttr, setProp, setText, syncChildren, type Child } from "../../lib/dom";
import { t } from "../../lib/i18n";
import { normalizeTunnelSettings, sameTunnelSettings, TUNNEL_MODES } from "../../lib/tunnel";
import type { AppStatus, TunnelMode, TunnelSettings } from "../../lib/types";
import { icon } from "../icons";
import { errorText } from "../notifier";
import { button, copyButton, setButtonLabel, setToggle, ValueText } from "../ui";
import type { AppContext } from "../view";

/** The text fields of the tunnel form. */
type TunnelField = "ngrok_authtoken" | "ngrok_domain" | "cloudflared_path" | "own_url";

const FIELD_TESTID: Record<TunnelField, string> = {
  ngrok_authtoken: "tunnel-ngrok-authtoken",
  ngrok_domain: "tunnel-ngrok-domain",
  cloudflared_path: "tunnel-cloudflared-path",
  own_url: "tunnel-own-url",
};

/** The base URL Kanca makes of an own URL, for showing where requests go (not validation). */
function ownBase(url: string): string {
  // A pasted webhook URL, of either form, stands for its base (as tunnel::parse_own_url).
  let base = url.trim().replace(/\/+$/, "").replace(/\/webhook\/[^/]*$/, "");
  if (base.endsWith("/webhook")) base = base.slice(0, -"/webhook".length);
  return base;
}

function validate(s: TunnelSettings): Partial<Record<TunnelField, string>> {
  const errors: Partial<Record<TunnelField, string>> = {};
  if (s.mode === "ngrok" && !s.ngrok_authtoken) errors.ngrok_authtoken = t("tunnel.ngrok.tokenRequired");
  if (s.mode === "own_url" && !s.own_url) errors.own_url = t("tunnel.own.required");
  return errors;
}

/** A labelled text field with its hint, and its error while there is one. */
interface Field {
  root: HTMLElement;
  head: Node[];
  input: HTMLInputElement;
  hintId: string | null;
  error: HTMLElement;
}

interface FormParts {
  form: HTMLFormElement;
  modes: HTMLElement;
  options: Map<TunnelMode, { input: HTMLInputElement; label: HTMLElement }>;
  panels: Record<TunnelMode, HTMLElement>;
  fields: Record<TunnelField, Field>;
  tokenToggle: HTMLButtonElement;
  local: ValueText;
  localCopy: HTMLButtonElement;
  forward: HTMLElement;
  save: HTMLButtonElement;
  unsaved: HTMLElement;
  actions: HTMLElement;
}

export interface TunnelFormHost {
  /** The settings were saved (the tunnel restarts). */
  saved(): void;
  /** `el` is another element now: loading, the load error, or the form. */
  replaced(): void;
}

export class TunnelForm {
  private saved: TunnelSettings | null = null;
  private draft: TunnelSettings | null = null;
  private loading = false;
  private loadError: string | null = null;
  private saving = false;
  private tokenVisible = false;
  private fieldErrors: Partial<Record<TunnelField, string>> = {};
  private status: AppStatus | null = null;
  private readonly modeGroup = nextId("tunnel-mode");

  private loadingEl!: HTMLElement;
  private loadErrorEl!: HTMLElement;
  private loadErrorText!: HTMLElement;
  private parts: FormParts | null = null;

  constructor(
    private readonly ctx: AppContext,
    private readonly host: TunnelFormHost,
  ) {
    this.build();
  }

  /** What is shown: the form, or while there is none, loading or why it could not be loaded. */
  get el(): HTMLElement {
    if (this.parts) return this.parts.form;
    return this.loadError !== null ? this.loadErrorEl : this.loadingEl;
  }

  /** New texts (a language switch); the draft, its errors and the token's visibility stay. */
  rebuild(): void {
    this.build();
  }

  private build(): void {
    this.loadingEl = h("p", { class: "muted", text: t("tunnel.loading") });
    this.loadErrorText = h("p", { class: "inline-warning", testid: "tunnel-load-error" });
    this.loadErrorEl = h(
      "div",
      { class: "tunnel-load-error" },
      this.loadErrorText,
      button({ label: t("action.retry"), icon: "refresh", small: true, testid: "tunnel-load-retry", onClick: () => void this.load() }),
    );
    if (this.loadError !== null) setText(this.loadErrorText, t("tunnel.loadError", { error: this.loadError }));
    this.parts = this.draft ? this.buildForm(this.draft) : null;
    if (this.parts) this.paint();
  }

  get loaded(): boolean {
    return this.saved !== null;
  }

  async load(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    this.loadError = null;
    try {
      const saved = normalizeTunnelSettings(await getTunnelSettings());
      this.saved = saved;
      this.draft = { ...saved };
      this.parts = this.buildForm(this.draft);
      this.paint();
    } catch (e) {
      this.loadError = errorText(toBackendError(e));
      setText(this.loadErrorText, t("tunnel.loadError", { error: this.loadError }));
    }
    this.loading = false;
    this.host.replaced();
  }

  update(status: AppStatus | null): void {
    this.status = status;
    if (this.parts) this.paintLocal(this.parts);
  }

  /** The chosen way's radio (the guide's "open the settings" lands there); null before loading. */
  modeRadio(): HTMLInputElement | null {
    if (!this.parts || !this.draft) return null;
    return this.parts.options.get(this.draft.mode)?.input ?? null;
  }

  // ---- building ----

  private buildForm(draft: TunnelSettings): FormParts {
    const modes = h("fieldset", { class: "tunnel-modes", testid: "tunnel-modes" }, h("legend", { class: "field-label", text: t("tunnel.modesLabel") }));
    const options: FormParts["options"] = new Map();
    for (const mode of TUNNEL_MODES) {
      const id = nextId("tmode");
      const descId = `${id}-desc`;
      const input = h("input", {
        id,
        testid: `tunnel-mode-${mode}`,
        attrs: { type: "radio", name: this.modeGroup, value: mode, "aria-describedby": descId },
      });
      input.addEventListener("change", () => {
        if (input.checked) this.choose(mode);
      });
      const label = h(
        "label",
        { class: "mode-option", attrs: { for: id }, dataset: { mode } },
        input,
        h(
          "span",
          { class: "mode-text" },
          h("span", { class: "mode-title", text: t(`tunnel.mode.${mode}`) }),
          h("span", { class: "mode-desc", id: descId, text: t(`tunnel.mode.${mode}Desc`) }),
        ),
      );
      options.set(mode, { input, label });
      modes.appendChild(label);
    }

    const tokenToggle = button({
      label: t("tunnel.ngrok.showToken"),
      icon: "eye",
      iconOnly: true,
      small: true,
      testid: "tunnel-ngrok-authtoken-toggle",
      onClick: () => {
        this.tokenVisible = !this.tokenVisible;
        if (this.parts) this.paintToken(this.parts);
      },
    });
    const fields: Record<TunnelField, Field> = {
      ngrok_authtoken: this.field(draft, "ngrok_authtoken", t("tunnel.ngrok.token"), { extra: tokenToggle }),
      ngrok_domain: this.field(draft, "ngrok_domain", t("tunnel.ngrok.domain"), {
        placeholder: t("tunnel.ngrok.domainPlaceholder"),
        hint: t("tunnel.ngrok.noDomain"),
        inputmode: "url",
      }),
      cloudflared_path: this.field(draft, "cloudflared_path", t("tunnel.cf.path"), { placeholder: "cloudflared", hint: t("tunnel.cf.pathHint") }),
      own_url: this.field(draft, "own_url", t("tunnel.own.url"), { placeholder: t("tunnel.own.placeholder"), inputmode: "url" }),
    };

    const local = new ValueText(
      h("code", { class: "cred-value", testid: "tunnel-local-url", attrs: { "aria-label": t("tunnel.own.local") } }),
      h("span", { class: "cred-value cred-missing", testid: "tunnel-local-url", text: t("tunnel.own.localNone") }),
    );
    const localCopy = copyButton(() => this.status?.local_webhook_url ?? null, (s) => this.ctx.copy(s), { what: t("tunnel.own.local"), testid: "tunnel-local-url-copy" });
    const forward = h("p", { class: "field-hint forward-line", testid: "tunnel-forward" });

    const panel = (mode: TunnelMode, ...body: Child[]) => h("div", { class: "mode-panel", testid: "tunnel-panel", dataset: { mode } }, ...body);
    const panels: Record<TunnelMode, HTMLElement> = {
      ngrok: panel(
        "ngrok",
        h(
          "ol",
          { class: "instructions", testid: "tunnel-instructions" },
          h("li", { text: t("tunnel.ngrok.step1") }),
          h("li", { text: t("tunnel.ngrok.step2") }),
          h("li", { text: t("tunnel.ngrok.step3") }),
        ),
        fields.ngrok_authtoken.root,
        fields.ngrok_domain.root,
      ),
      cloudflared: panel(
        "cloudflared",
        h("p", { testid: "tunnel-instructions", text: t("tunnel.cf.body") }),
        h("p", { class: "note", testid: "tunnel-cf-warning" }, icon("alert", "note-icon"), h("span", { text: t("tunnel.cf.warning") })),
        fields.cloudflared_path.root,
      ),
      own_url: panel(
        "own_url",
        h("p", { testid: "tunnel-instructions", text: t("tunnel.own.body") }),
        fields.own_url.root,
        h("p", { class: "field-label", text: t("tunnel.own.forward") }),
        h("div", { class: "copy-field" }, local.el, localCopy),
        forward,
      ),
      off: panel("off", h("p", { testid: "tunnel-instructions", text: t("tunnel.off.body") })),
    };

    const save = button({ label: t("tunnel.save"), icon: "check", variant: "primary", testid: "tunnel-save" });
    save.type = "submit";
    const unsaved = h("span", { class: "muted unsaved", testid: "tunnel-unsaved", text: t("tunnel.unsaved") });
    const actions = h("div", { class: "card-actions tunnel-actions" }, save, unsaved);
    const form = h("form", { class: "tunnel-form", attrs: { novalidate: true } });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.save();
    });
    return { form, modes, options, panels, fields, tokenToggle, local, localCopy, forward, save, unsaved, actions };
  }

  private field(
    draft: TunnelSettings,
    field: TunnelField,
    label: string,
    o: { placeholder?: string; hint?: string; inputmode?: string; extra?: HTMLElement } = {},
  ): Field {
    const id = nextId("tfield");
    const hintId = o.hint ? `${id}-hint` : null;
    const testid = FIELD_TESTID[field];
    const input = h("input", {
      id,
      class: "text-input wide",
      testid,
      attrs: {
        type: "text",
        inputmode: o.inputmode,
        autocomplete: "off",
        autocapitalize: "off",
        spellcheck: "false",
        placeholder: o.placeholder,
      },
    });
    input.value = draft[field] ?? "";
    input.addEventListener("input", () => {
      if (!this.draft || !this.parts) return;
      this.draft = { ...this.draft, [field]: input.value };
      if (this.fieldErrors[field]) {
        // The error is about what was there before: drop it as soon as the text changes.
        delete this.fieldErrors[field];
        this.paintField(field, this.parts.fields[field]);
      }
      if (field === "own_url") this.paintForward(this.parts);
      this.paintSave(this.parts);
    });
    const head: Node[] = [
      h("label", { class: "field-label", attrs: { for: id }, text: label }),
      o.extra ? h("div", { class: "input-row" }, input, o.extra) : input,
    ];
    if (hintId) head.push(h("p", { class: "field-hint", id: hintId, text: o.hint }));
    const error = h("p", { class: "field-error", id: `${id}-err`, testid: `${testid}-error`, attrs: { role: "alert" } });
    return { root: h("div", { class: "field" }, ...head), head, input, hintId, error };
  }

  // ---- painting: only what differs ----

  private paint(): void {
    const p = this.parts;
    if (!p || !this.draft) return;
    this.paintMode(p, this.draft.mode);
    for (const [field, f] of Object.entries(p.fields) as [TunnelField, Field][]) this.paintField(field, f);
    this.paintToken(p);
    this.paintLocal(p);
    this.paintSave(p);
  }

  private paintMode(p: FormParts, mode: TunnelMode): void {
    for (const [m, { input, label }] of p.options) {
      setProp(input, "checked", m === mode);
      label.classList.toggle("is-checked", m === mode);
    }
    syncChildren(p.form, p.modes, p.panels[mode], p.actions);
  }

  private paintField(field: TunnelField, f: Field): void {
    const error = this.fieldErrors[field];
    if (error) setText(f.error, error);
    setAttr(f.input, "aria-invalid", error ? "true" : null);
    setAttr(f.input, "aria-describedby", [f.hintId, error && f.error.id].filter(Boolean).join(" ") || null);
    syncChildren(f.root, ...f.head, !!error && f.error);
  }

  private paintToken(p: FormParts): void {
    const visible = this.tokenVisible;
    const input = p.fields.ngrok_authtoken.input;
    const type = visible ? "text" : "password";
    if (input.type !== type) input.type = type;
    setToggle(p.tokenToggle, visible, visible ? t("tunnel.ngrok.hideToken") : t("tunnel.ngrok.showToken"), visible ? "eyeOff" : "eye");
  }

  private paintLocal(p: FormParts): void {
    const local = this.status?.local_webhook_url ?? null;
    p.local.set(local);
    setProp(p.localCopy, "disabled", !local);
    this.paintForward(p);
  }

  /** "https://kanca.example.com/webhook → http://127.0.0.1:8497/webhook" under the own URL. */
  private paintForward(p: FormParts): void {
    const own = this.draft?.own_url?.trim() ?? "";
    const local = this.status?.local_webhook_url ?? null;
    setText(p.forward, own && local ? `${ownBase(own)}/webhook → ${local}` : "");
  }

  /** The Save button and the "unsaved" note follow the draft and the save in progress. */
  private paintSave(p: FormParts): void {
    const dirty = this.dirty();
    setProp(p.save, "disabled", this.saving || !dirty);
    setAttr(p.save, "aria-busy", this.saving ? "true" : null);
    setButtonLabel(p.save, this.saving ? t("tunnel.saving") : t("tunnel.save"));
    setProp(p.unsaved, "hidden", !dirty || this.saving);
  }

  /** The inputs show the draft (after the saved, normalised value came back). */
  private syncInputs(p: FormParts): void {
    for (const [field, f] of Object.entries(p.fields) as [TunnelField, Field][]) {
      const v = this.draft?.[field] ?? "";
      if (f.input.value !== v) f.input.value = v;
    }
  }

  // ---- actions ----

  private dirty(): boolean {
    return !!this.draft && !!this.saved && !sameTunnelSettings(this.draft, this.saved);
  }

  private choose(mode: TunnelMode): void {
    if (!this.draft || !this.parts) return;
    this.draft = { ...this.draft, mode };
    this.fieldErrors = {};
    this.paint();
  }

  private focusField(field: TunnelField): void {
    const input = this.parts?.fields[field].input;
    if (input?.isConnected) input.focus();
  }

  private async save(): Promise<void> {
    const p = this.parts;
    if (!p || !this.draft || this.saving || !this.dirty()) return;
    const next = normalizeTunnelSettings(this.draft);
    const errors = validate(next);
    const first = Object.keys(errors)[0] as TunnelField | undefined;
    if (first) {
      this.fieldErrors = errors;
      this.paint();
      this.focusField(first);
      return;
    }
    this.saving = true;
    this.fieldErrors = {};
    this.paint();
    let invalid: TunnelField | null = null;
    try {
      const saved = normalizeTunnelSettings(await saveTunnelSettings(next));
      this.saved = saved;
      // What was typed since the save started stays; otherwise take the normalised value.
      if (this.draft && sameTunnelSettings(this.draft, next)) {
        this.draft = { ...saved };
        if (this.parts) this.syncInputs(this.parts);
      }
      this.host.saved();
    } catch (e) {
      const err = toBackendError(e);
      if (err.code === "invalid_url") {
        invalid = "own_url";
        this.fieldErrors = { own_url: t("tunnel.own.invalid", { error: err.message }) };
      } else {
        this.ctx.notify.error(err);
      }
    }
    this.saving = false;
    this.paint();
    if (invalid) this.focusField(invalid);
  }
}
