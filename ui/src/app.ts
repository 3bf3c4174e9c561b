// The application shell: sidebar, views, navigation, backend events, settings saving and the
// global keyboard shortcuts.

import * as backend from "./lib/backend";
import { copyText, getSettings, getStatus, saveSettings, type UnlistenFn } from "./lib/backend";
import { h, isEditable, replaceChildren } from "./lib/dom";
import { onLanguageChange, setLanguage, setSystemLanguage } from "./lib/i18n";
import { sharedCollector, type SharedBatch } from "./lib/office";
import { TagStore } from "./lib/tags";
import type { AppStatus, Call, CallDetail, Change, NavView, Settings } from "./lib/types";
import { CallDetailView } from "./components/callDetail";
import { CallListView } from "./components/callList";
import { ContactsView } from "./components/contacts";
import { GuideView } from "./components/guide";
import { Notifier } from "./components/notifier";
import { SettingsView } from "./components/settings";
import { Sidebar } from "./components/sidebar";
import type { AppContext, View } from "./components/view";

export type ViewName = NavView | "detail";

const NAV_VIEWS: readonly NavView[] = ["history", "faxes", "contacts", "settings", "guide"];

export function isNavView(v: unknown): v is NavView {
  return typeof v === "string" && (NAV_VIEWS as readonly string[]).includes(v);
}

export class App implements AppContext {
  readonly notify = new Notifier();
  readonly tags = new TagStore();
  readonly sidebar: Sidebar;
  readonly history: CallListView;
  readonly faxes: CallListView;
  readonly contacts: ContactsView;
  readonly settingsView: SettingsView;
  readonly guide: GuideView;
  readonly detail: CallDetailView;

  private _status: AppStatus | null = null;
  private _settings: Settings | null = null;
  private confirmed: Settings | null = null;
  private saveChain: Promise<unknown> = Promise.resolve();
  private saveSeq = 0;

  private current: ViewName | null = null;
  private returnTo: NavView = "history";
  /** The contacts view was opened from a call's detail ("Kişilere ekle"). */
  private contactsFromCall = false;
  private readonly viewHost: HTMLElement;
  private readonly unlisteners: UnlistenFn[] = [];
  private readonly stopLanguage: () => void;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly onKeyDown = (e: KeyboardEvent) => this.handleKey(e);
  private readonly shared = sharedCollector((batch) => this.applyShared(batch));

  constructor(private readonly root: HTMLElement) {
    this.sidebar = new Sidebar(
      (v) => this.navigate(v),
      () => void this.toggleDnd(),
      () => this.showMissed(),
    );
    this.history = new CallListView(this, "call");
    this.faxes = new CallListView(this, "fax");
    this.contacts = new ContactsView(this);
    this.settingsView = new SettingsView(this);
    this.guide = new GuideView(this, () => void this.finishGuide());
    this.detail = new CallDetailView(this, () => this.back());
    this.viewHost = h("div", { class: "view-host" });
    const main = h("main", { class: "main", attrs: { tabindex: -1 } }, this.notify.bannerHost, this.viewHost);
    replaceChildren(this.root, this.sidebar.el, main, this.notify.toastHost);
    this.root.classList.add("app");
    this.stopLanguage = onLanguageChange(() => this.rerenderAll());
  }

  // ---- start-up ----

  async start(): Promise<this> {
    document.addEventListener("keydown", this.onKeyDown);
    await this.subscribe();
    const [settings, status] = await Promise.allSettled([getSettings(), getStatus()]);
    if (status.status === "fulfilled") this._status = status.value;
    else this.notify.error(status.reason);
    if (settings.status === "fulfilled") {
      this._settings = settings.value;
      this.confirmed = settings.value;
    } else if (status.status === "fulfilled") {
      this.notify.error(settings.reason);
    }
    setSystemLanguage(this._status?.system_language ?? null);
    setLanguage(this._settings?.language ?? null);
    this.rerenderAll();
    this.sidebar.update({ status: this._status, dnd: this._settings?.dnd ?? this._status?.dnd ?? false });
    // An open-call that arrived while starting has already chosen the view.
    if (this.current === null) this.show(this._settings && !this._settings.first_run_done ? "guide" : "history");
    this.timer = setInterval(() => this.tick(), 30_000);
    return this;
  }

  private async subscribe(): Promise<void> {
    const subs: Promise<UnlistenFn>[] = [
      backend.onCallsChanged(
        (changes) => this.onCallsChanged(changes),
        () => this.reloadCalls(),
      ),
      backend.onOpenCall((uuid, then) => this.openCall(uuid, then)),
      backend.onStatusChanged((s) => this.setStatus(s)),
      backend.onNavigate((p) => {
        if (p?.view === "history" && p.filter === "missed") this.showMissed();
        else if (p && isNavView(p.view)) this.navigate(p.view);
      }),
      backend.onSharedChanged((change) => this.shared(change)),
      backend.onAppError((e) => this.notify.error(e)),
      // Phone books dropped anywhere on the window are imported, and the contacts shown.
      backend.onFilesDropped((paths) => {
        this.navigate("contacts");
        void this.contacts.importPaths(paths);
      }),
    ];
    const results = await Promise.allSettled(subs);
    for (const r of results) {
      if (r.status === "fulfilled") this.unlisteners.push(r.value);
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) this.notify.error(failed.reason);
  }

  /** Stops listening (tests; the real app lives as long as its window). */
  destroy(): void {
    for (const u of this.unlisteners.splice(0)) void Promise.resolve(u()).catch(() => {});
    document.removeEventListener("keydown", this.onKeyDown);
    if (this.timer) clearInterval(this.timer);
    this.shared.cancel();
    this.stopLanguage();
    this.history.list.destroy();
    this.faxes.list.destroy();
  }

  private tick(): void {
    this.sidebar.refresh();
    this.history.tick();
    this.faxes.tick();
  }

  // ---- AppContext ----

  status(): AppStatus | null {
    return this._status;
  }

  settings(): Settings | null {
    return this._settings;
  }

  setStatus(status: AppStatus): void {
    this._status = status;
    if (this._settings && this._settings.dnd !== status.dnd) {
      // Do not disturb was switched elsewhere (the tray menu).
      this._settings = { ...this._settings, dnd: status.dnd };
      if (this.confirmed) this.confirmed = { ...this.confirmed, dnd: status.dnd };
    }
    this.sidebar.update({ status, dnd: this._settings?.dnd ?? status.dnd });
    if (this.current === "settings") this.settingsView.update();
    if (this.current === "guide") this.guide.update();
  }

  updateSettings(patch: Partial<Settings>): Promise<boolean> {
    const base = this._settings;
    if (!base) return Promise.resolve(false);
    const next: Settings = {
      ...base,
      ...patch,
      popup_events: { ...(patch.popup_events ?? base.popup_events) },
      my_extensions: [...(patch.my_extensions ?? base.my_extensions)],
    };
    const seq = ++this.saveSeq;
    this.applySettings(next);
    const run = this.saveChain.then(async () => {
      try {
        const saved = await saveSettings(next);
        this.confirmed = saved;
        if (seq === this.saveSeq) this.applySettings(saved);
        return true;
      } catch (e) {
        this.notify.error(e);
        if (seq === this.saveSeq && this.confirmed) this.applySettings(this.confirmed);
        return false;
      }
    });
    this.saveChain = run.catch(() => false);
    return run;
  }

  private applySettings(s: Settings): void {
    this._settings = s;
    if (this._status) this._status = { ...this._status, dnd: s.dnd };
    // A language change re-renders everything through onLanguageChange.
    setLanguage(s.language);
    this.sidebar.update({ dnd: s.dnd, status: this._status });
    if (this.current === "settings") this.settingsView.update();
  }

  async copy(text: string): Promise<boolean> {
    try {
      await copyText(text);
      return true;
    } catch (e) {
      // The webview's own clipboard, where the command is not there.
      try {
        if (typeof navigator !== "undefined" && navigator.clipboard) {
          await navigator.clipboard.writeText(text);
          return true;
        }
      } catch {
        /* fall through to the error */
      }
      this.notify.error(e);
      return false;
    }
  }

  navigate(view: NavView): void {
    this.show(view);
  }

  /** The call list filtered to missed calls (the missed notice, the tray, the sidebar). */
  showMissed(): void {
    this.navigate("history");
    this.history.setFilter("missed");
    this.history.focus();
  }

  missedSeen(): void {
    if (!this._status?.missed_unseen) return;
    backend.markMissedSeen().catch((e) => this.notify.error(e));
  }

  showTunnelSettings(): void {
    this.navigate("settings");
    this.settingsView.focusTunnel();
  }

  annotationsChanged(): void {
    this.history.invalidate();
    this.faxes.invalidate();
    // A tag saved for the first time has a colour now.
    this.tags.load().catch((e) => this.notify.error(e));
  }

  /** "Kişilere ekle" / "Düzenle" on a call: the contacts view with the number at hand. */
  addToContacts(number: string, callUuid: string | null, known: boolean): void {
    // Back from the call afterwards leads where the call was opened from, not to the contacts.
    this.contactsFromCall = true;
    this.show("contacts");
    if (known) void this.contacts.editContactOf(number, callUuid);
    else this.contacts.addNumber(number, callUuid);
  }

  openCall(uuid: string, then: "call_back" | null = null): void {
    const fromCall = this.contactsFromCall && this.current === "contacts";
    this.contactsFromCall = false;
    if (this.current !== "detail" && this.current !== null && !fromCall) this.returnTo = this.current;
    this.show("detail");
    void this.detail.show(uuid).then(() => {
      if (this.current !== "detail") return;
      this.detail.focus();
      if (then === "call_back") this.detail.askCallBack();
    });
  }

  // ---- navigation ----

  get currentView(): ViewName | null {
    return this.current;
  }

  private viewOf(name: ViewName): View {
    switch (name) {
      case "history":
        return this.history;
      case "faxes":
        return this.faxes;
      case "contacts":
        return this.contacts;
      case "settings":
        return this.settingsView;
      case "guide":
        return this.guide;
      case "detail":
        return this.detail;
    }
  }

  show(name: ViewName): void {
    if (this.current === name) return;
    if (this.current !== null) this.viewOf(this.current).unmount();
    this.current = name;
    const view = this.viewOf(name);
    replaceChildren(this.viewHost, view.el);
    view.mount();
    this.root.dataset.view = name;
    this.sidebar.update({ active: name === "detail" ? null : name });
  }

  /** From the detail back to the view it was opened from, as it was left. */
  back(): void {
    if (this.current !== "detail") return;
    const uuid = this.detail.currentUuid;
    const target = this.returnTo;
    this.show(target);
    const view = this.viewOf(target);
    if (uuid && view instanceof CallListView) view.reveal(uuid);
    view.focus();
  }

  private async finishGuide(): Promise<void> {
    if (this._settings && !this._settings.first_run_done) await this.updateSettings({ first_run_done: true });
    this.navigate("history");
  }

  private async toggleDnd(): Promise<void> {
    const dnd = this._settings?.dnd ?? this._status?.dnd ?? false;
    if (!this._settings) return;
    await this.updateSettings({ dnd: !dnd });
  }

  private activeList(): CallListView | null {
    if (this.current === "history") return this.history;
    if (this.current === "faxes") return this.faxes;
    return null;
  }

  private focusSearch(): void {
    if (this.current === "detail") this.back();
    let list = this.activeList();
    if (!list) {
      this.navigate("history");
      list = this.history;
    }
    list.focusSearch();
  }

  private handleKey(e: KeyboardEvent): void {
    if (e.defaultPrevented) return;
    if (document.querySelector(".overlay")) return; // a dialog handles its own keys
    const mod = e.ctrlKey || e.metaKey;
    if (mod && !e.altKey && !e.shiftKey && (e.key === "f" || e.key === "F")) {
      e.preventDefault();
      this.focusSearch();
    } else if (e.key === "/" && !mod && !e.altKey && !isEditable(e.target)) {
      e.preventDefault();
      this.focusSearch();
    } else if (e.key === "Escape" && this.current === "detail") {
      e.preventDefault();
      this.back();
    }
  }

  // ---- events ----

  private onCallsChanged(changes: Change[]): void {
    for (const change of changes) {
      const call = change.call;
      if (!call || typeof call.uuid !== "string") continue;
      this.applyCall(call);
    }
    if (this._status) {
      this._status = { ...this._status, last_event_at: new Date().toISOString() };
      this.sidebar.update({ status: this._status });
    }
  }

  /** A call changed: its rows and, when it is the one open, its detail. */
  private applyCall(call: Call): void {
    this.history.applyLive(call);
    this.faxes.applyLive(call);
    this.detail.onCallChanged(call);
  }

  /** More calls changed than the backend kept for the window: read what is shown again. */
  private reloadCalls(): void {
    this.history.refresh();
    this.faxes.refresh();
    this.detail.refresh();
  }

  /**
   * Notes, tags, the phone book or names changed (here, at the office's receiver or at another
   * desk): what shows them reads them again, as after a change of the window's own.
   */
  private applyShared(batch: SharedBatch): void {
    // The phone book and the PBX names name any call; a note or tags change one, read afresh (a
    // call that cannot be read stays as shown until the next change).
    if (batch.contacts || batch.names) {
      this.reloadCalls();
    } else {
      for (const uuid of batch.calls) void backend.getCall(uuid).then((d) => d && this.applyCall(withoutEvents(d)), () => {});
    }
    if (batch.contacts) this.contacts.refresh();
    // Tags saved on a call change the filter's counts, and a new tag has a colour now.
    if (batch.tags || batch.calls.size > 0) this.tags.load().catch((e) => this.notify.error(e));
  }

  private rerenderAll(): void {
    this.sidebar.refresh();
    this.notify.rerender();
    this.history.rerender();
    this.faxes.rerender();
    this.contacts.rerender();
    this.settingsView.rerender();
    this.guide.rerender();
    this.detail.rerender();
  }
}

/** A call's detail as a list row holds it. */
function withoutEvents({ events: _events, ...call }: CallDetail): Call {
  return call;
}

/** Builds the app in `root` and starts it. */
export function startApp(root: HTMLElement): Promise<App> {
  return new App(root).start();
}
