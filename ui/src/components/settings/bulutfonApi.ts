// Settings > Bulutfon API: paste the master token once (checked with Bulutfon before it is
// kept), see the account and the last sync ("Bağlı: ornekticaret"), a backfill's progress,
// sync now, and the extension "Geri ara" rings first. The token goes to the backend and never
// comes back: the field is empty once connected.

import * as backend from "../../lib/backend";
import { h, nextId, setProp, setText, syncChildren } from "../../lib/dom";
import { formatDateTime } from "../../lib/format";
import { t } from "../../lib/i18n";
import type { ApiStatus, AppStatus, BulutfonSettingsView } from "../../lib/types";
import { button, section } from "../ui";
import { PbxNamesEditor } from "./pbxNames";
import type { SettingsHost, SettingsSection } from "./section";

interface Parts {
  card: HTMLElement;
  head: Node[];
  intro: HTMLElement;
  state: HTMLElement;
  progress: HTMLProgressElement;
  tokenField: HTMLElement;
  token: HTMLInputElement;
  connect: HTMLButtonElement;
  extensionField: HTMLElement;
  extension: HTMLInputElement;
  actions: HTMLElement;
  syncNow: HTMLButtonElement;
  disconnect: HTMLButtonElement;
  names: PbxNamesEditor;
}

export class BulutfonApiSection implements SettingsSection {
  private parts: Parts;
  private view: BulutfonSettingsView | null = null;
  private busy = false;

  constructor(private readonly host: SettingsHost) {
    this.parts = this.build();
    void this.load();
  }

  get el(): HTMLElement {
    return this.parts.card;
  }

  rebuild(): void {
    this.parts = this.build();
  }

  private async load(): Promise<void> {
    try {
      this.view = await backend.getBulutfonSettings();
      this.update(this.host.ctx.status(), null);
    } catch (e) {
      this.host.ctx.notify.error(e);
    }
  }

  private build(): Parts {
    const tokenId = nextId("api-token");
    const token = h("input", {
      id: tokenId,
      class: "text-input wide",
      testid: "settings-api-token",
      attrs: { type: "password", autocomplete: "off", spellcheck: "false", "aria-describedby": `${tokenId}-hint` },
    });
    const connect = button({ label: t("api.connect"), variant: "primary", testid: "settings-api-connect", onClick: () => void this.connect() });
    token.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void this.connect();
    });
    const extId = nextId("api-ext");
    const extension = h("input", {
      id: extId,
      class: "text-input narrow",
      testid: "settings-api-extension",
      attrs: { inputmode: "numeric", autocomplete: "off", placeholder: "1000", "aria-describedby": `${extId}-hint` },
    });
    extension.addEventListener("change", () => void this.saveExtension());
    const card = section(t("api.title"));
    return {
      card,
      head: [...card.childNodes],
      intro: h("p", { class: "field-hint", text: t("api.intro") }),
      state: h("p", { class: "api-state", testid: "settings-api-state", attrs: { "aria-live": "polite" } }),
      progress: h("progress", { class: "api-progress", testid: "settings-api-progress" }),
      tokenField: h(
        "div",
        { class: "field" },
        h("label", { class: "field-label", attrs: { for: tokenId }, text: t("api.token") }),
        h("div", { class: "inline-row" }, token, connect),
        h("p", { class: "field-hint", id: `${tokenId}-hint`, text: t("api.tokenHint") }),
      ),
      token,
      connect,
      extensionField: h(
        "div",
        { class: "field" },
        h("label", { class: "field-label", attrs: { for: extId }, text: t("api.extension") }),
        extension,
        h("p", { class: "field-hint", id: `${extId}-hint`, text: t("api.extensionHint") }),
      ),
      extension,
      actions: h("div", { class: "card-actions" }),
      syncNow: button({ label: t("api.syncNow"), icon: "refresh", testid: "settings-api-sync", onClick: () => void this.syncNow() }),
      disconnect: button({ label: t("api.disconnect"), variant: "ghost", testid: "settings-api-disconnect", onClick: () => void this.disconnect() }),
      names: new PbxNamesEditor(this.host),
    };
  }

  private async connect(): Promise<void> {
    const p = this.parts;
    const token = p.token.value.trim();
    if (!token || this.busy) return;
    this.busy = true;
    p.connect.disabled = true;
    setText(p.state, t("api.checking"));
    try {
      this.view = await backend.bulutfonConnect(token);
      p.token.value = "";
      this.host.saved();
    } catch (e) {
      this.host.ctx.notify.error(e);
    } finally {
      this.busy = false;
      p.connect.disabled = false;
      this.update(this.host.ctx.status(), null);
    }
  }

  private async disconnect(): Promise<void> {
    try {
      this.view = await backend.bulutfonDisconnect();
      this.host.saved();
    } catch (e) {
      this.host.ctx.notify.error(e);
    }
    this.update(this.host.ctx.status(), null);
  }

  private async syncNow(): Promise<void> {
    try {
      await backend.bulutfonSyncNow();
    } catch (e) {
      this.host.ctx.notify.error(e);
    }
  }

  private async saveExtension(): Promise<void> {
    const v = this.parts.extension.value.trim();
    try {
      this.view = await backend.saveBulutfonSettings(v === "" ? null : v, this.view?.caller ?? null);
      this.host.saved();
    } catch (e) {
      this.host.ctx.notify.error(e);
    }
  }

  update(status: AppStatus | null, _settings: unknown): void {
    const p = this.parts;
    const api = status?.api ?? null;
    const connected = !!this.view?.connected;
    setText(p.state, stateText(api, this.view));
    const state = api?.state ?? "off";
    if (p.state.dataset.state !== state) p.state.dataset.state = state;
    const progress = api?.state === "syncing" ? api.progress : null;
    if (progress && progress.total_pages) {
      setProp(p.progress, "max", progress.total_pages);
      setProp(p.progress, "value", progress.pages);
    } else if (p.progress.hasAttribute("value")) {
      p.progress.removeAttribute("value");
    }
    if (document.activeElement !== p.extension) setProp(p.extension, "value", this.view?.extension ?? "");
    const fromEnv = !!this.view?.from_environment;
    syncChildren(p.actions, connected && p.syncNow, connected && !fromEnv && p.disconnect);
    syncChildren(
      p.card,
      ...p.head,
      p.intro,
      p.state,
      api?.state === "syncing" && p.progress,
      (!connected || api?.state === "bad_token") && !fromEnv && p.tokenField,
      connected && p.extensionField,
      connected && p.names.el,
      p.actions,
    );
  }
}

/** "Bağlı: ornekticaret · son eşitleme 30.11.2026 12:03" and the like. */
export function stateText(api: ApiStatus | null, view: BulutfonSettingsView | null): string {
  const account = api?.account ?? view?.account ?? "";
  switch (api?.state ?? "off") {
    case "off":
      return view?.connected ? t("api.connected", { account }) : t("api.notConnected");
    case "syncing": {
      const pr = api?.progress;
      if (!pr) return t("api.syncing", { account });
      return pr.total_pages ? t("api.progressOf", { pages: pr.pages, total: pr.total_pages, records: pr.records }) : t("api.progress", { pages: pr.pages, records: pr.records });
    }
    case "ok":
      return api?.last_sync ? t("api.synced", { account, when: formatDateTime(api.last_sync) }) : t("api.connected", { account });
    case "bad_token":
      return t("api.badToken");
    case "unavailable":
      return t("api.unavailable", { error: api?.error ?? "" });
    default:
      return "";
  }
}
