// Settings > Ofis: office mode. On its own, this computer can become the office's receiver (a
// switch) or join a receiver as a desk (paste the pairing code the receiver gave). A receiver
// shows where desks reach it and its desks (./officeDesks.ts). A desk shows its connection to
// the receiver, says the receiver handles Bulutfon, and has the way back to working alone.
// Joining and leaving restart the app, so the card says so and waits for the window to go.

import * as backend from "../../lib/backend";
import { h, nextId, setAttr, setProp, setText, syncChildren } from "../../lib/dom";
import { formatRelative } from "../../lib/format";
import { t } from "../../lib/i18n";
import { shortFingerprint } from "../../lib/office";
import type { AppStatus, DeskState, DeskStatus, OfficeView, ReceiverView } from "../../lib/types";
import { errorText } from "../notifier";
import { button, confirmDialog, copyButton, section, switchField } from "../ui";
import { OfficeDesks } from "./officeDesks";
import type { SettingsHost, SettingsSection } from "./section";

/** A desk's state in words, and its dot. */
const DESK_STATES: Record<DeskState, { key: `office.state.${DeskState}`; dot: string }> = {
  connected: { key: "office.state.connected", dot: "dot-running" },
  connecting: { key: "office.state.connecting", dot: "dot-starting" },
  catching_up: { key: "office.state.catching_up", dot: "dot-starting" },
  unreachable: { key: "office.state.unreachable", dot: "dot-failed" },
  refused: { key: "office.state.refused", dot: "dot-failed" },
};

/** A labelled value ("Alıcı  192.168.1.10:8498"). */
interface Row {
  el: HTMLElement;
  value: HTMLElement;
}

interface Parts {
  card: HTMLElement;
  head: Node[];
  loading: HTMLElement;
  intro: HTMLElement;
  receiver: HTMLInputElement;
  receiverField: HTMLElement;
  // on its own: join a receiver
  join: HTMLElement;
  joinFixed: Node[];
  joinCode: HTMLTextAreaElement;
  joinHintId: string;
  joinButton: HTMLButtonElement;
  joinError: HTMLElement;
  joining: HTMLElement;
  // the receiver
  serving: HTMLElement;
  fingerprint: Row;
  serverStarting: HTMLElement;
  serverError: HTMLElement;
  // a desk
  deskLine: HTMLElement;
  deskDot: HTMLElement;
  deskText: HTMLElement;
  deskState: HTMLElement;
  deskSince: HTMLElement;
  deskError: HTMLElement;
  deskReceiver: Row;
  deskName: Row;
  deskHandles: HTMLElement;
  leaveActions: HTMLElement;
  leave: HTMLButtonElement;
  leaving: HTMLElement;
}

export class OfficeSection implements SettingsSection {
  private parts: Parts;
  private readonly desks: OfficeDesks;
  private status: AppStatus | null = null;
  /** The office as get_office (or a command) last told it: the desks list is fresh from there. */
  private fetched: OfficeView | null = null;
  private switching = false;
  private joining = false;
  private joinError = "";
  private leaving = false;

  constructor(private readonly host: SettingsHost) {
    this.desks = new OfficeDesks(host, { adopt: (v) => this.adopt(v), reload: () => this.load() });
    this.parts = this.build("");
  }

  get el(): HTMLElement {
    return this.parts.card;
  }

  rebuild(): void {
    this.desks.rebuild();
    this.parts = this.build(this.parts.joinCode.value);
    this.paint();
  }

  /** Settings is shown: read the office afresh. */
  mount(): void {
    void this.load();
  }

  /** Settings is left: a desk's pairing code is not shown again. */
  unmount(): void {
    this.desks.forgetCode();
  }

  update(status: AppStatus | null): void {
    this.status = status;
    this.paint();
  }

  async load(): Promise<void> {
    try {
      this.fetched = await backend.getOffice();
      this.paint();
    } catch (e) {
      this.host.ctx.notify.error(e);
    }
  }

  /** A command's answer: the card shows it, and so does the rest of the window through the status. */
  private adopt(view: OfficeView): void {
    this.fetched = view;
    const status = this.host.ctx.status();
    if (status) this.host.ctx.setStatus({ ...status, office: view });
    else this.paint();
  }

  /** The office now: the status says the role and the connection; the desks come from get_office. */
  private view(): OfficeView | null {
    const live = this.status?.office ?? null;
    const fresh = this.fetched;
    if (!live) return fresh;
    if (live.role === "receiver" && live.receiver && fresh?.role === "receiver" && fresh.receiver) {
      return { ...live, receiver: { ...live.receiver, desks: fresh.receiver.desks } };
    }
    return live;
  }

  private build(pendingCode: string): Parts {
    const receiver = switchField({
      label: t("office.receiverSwitch"),
      hint: t("office.receiverHint"),
      checked: false,
      testid: "office-receiver",
      onChange: (on) => void this.setReceiver(on),
    });
    const joinId = nextId("office-join");
    const joinHintId = `${joinId}-hint`;
    const joinCode = h("textarea", {
      id: joinId,
      class: "text-input wide office-code",
      testid: "office-join-code",
      attrs: { rows: 3, spellcheck: "false", autocomplete: "off", placeholder: "KANCA1-…", "aria-describedby": joinHintId },
    });
    joinCode.value = pendingCode;
    const joinButton = button({ label: t("office.joinButton"), variant: "primary", testid: "office-join-button", onClick: () => void this.join() });
    joinCode.addEventListener("input", () => this.paintJoin());
    const joinFixed = [
      h("label", { class: "field-label", attrs: { for: joinId }, text: t("office.join") }),
      joinCode,
      h("p", { class: "field-hint", id: joinHintId, text: t("office.joinHint") }),
      h("div", { class: "card-actions" }, joinButton),
    ];
    const deskDot = h("span", { attrs: { "aria-hidden": "true" } });
    const deskState = h("p", { class: "listener-state", testid: "office-desk-state" });
    const deskText = h("div", null, deskState);
    const leave = button({ label: t("office.leave"), variant: "danger", testid: "office-leave", onClick: () => void this.leave() });
    const card = section(t("office.title"));
    card.setAttribute("data-testid", "settings-office");
    return {
      card,
      head: [...card.childNodes],
      loading: h("p", { class: "muted", text: t("settings.loading") }),
      intro: h("p", { class: "card-hint", testid: "office-intro", text: t("office.intro") }),
      receiver: receiver.input,
      receiverField: receiver.root,
      join: h("div", { class: "field office-join", testid: "office-join" }, ...joinFixed),
      joinFixed,
      joinCode,
      joinHintId,
      joinButton,
      joinError: h("p", { class: "field-error", id: `${joinId}-err`, testid: "office-join-error", attrs: { role: "alert" } }),
      joining: h("p", { class: "note", testid: "office-joining", attrs: { role: "status" }, text: t("office.joining") }),
      serving: h("p", { class: "office-serving", testid: "office-serving" }),
      fingerprint: this.row(t("office.fingerprint"), "office-fingerprint", () => this.view()?.receiver?.fingerprint ?? null),
      serverStarting: h("p", { class: "muted", testid: "office-server-starting", text: t("office.serverStarting") }),
      serverError: h("p", { class: "inline-warning", testid: "office-server-error" }),
      deskLine: h("div", { class: "listener", testid: "office-desk-line" }, deskDot, deskText),
      deskDot,
      deskText,
      deskState,
      deskSince: h("p", { class: "listener-hint", testid: "office-desk-since" }),
      deskError: h("p", { class: "listener-error", testid: "office-desk-error" }),
      deskReceiver: this.row(t("office.receiverAddr"), "office-desk-receiver"),
      deskName: this.row(t("office.deskName"), "office-desk-own-name"),
      deskHandles: h("p", { class: "note", testid: "office-desk-handles", text: t("office.deskHandles") }),
      leaveActions: h("div", { class: "card-actions" }, leave),
      leave,
      leaving: h("p", { class: "muted", testid: "office-leaving", attrs: { role: "status" }, text: t("office.leaving") }),
    };
  }

  /** A label and its value, with a copy button when `copy` gives the text to copy. */
  private row(label: string, testid: string, copy?: () => string | null): Row {
    const id = nextId("office-row");
    const value = h("code", { class: "cred-value", testid, attrs: { "aria-labelledby": id } });
    const copier = copy ? copyButton(copy, (s) => this.host.ctx.copy(s), { what: label, testid: `${testid}-copy` }) : null;
    const el = h("div", { class: "cred-row" }, h("span", { class: "cred-label", id, text: label }), value, h("span", { class: "cred-actions" }, copier));
    return { el, value };
  }

  // ---- painting ----

  private paint(): void {
    const p = this.parts;
    const v = this.view();
    if (!v) {
      syncChildren(p.card, ...p.head, p.loading);
      return;
    }
    setAttr(p.card, "data-role", v.role);
    setProp(p.receiver, "checked", v.role === "receiver");
    setProp(p.receiver, "disabled", this.switching);
    if (v.role === "desk") {
      this.paintDesk(v.desk);
      return;
    }
    if (v.role === "receiver") {
      this.desks.update(v.receiver?.desks ?? []);
      syncChildren(p.card, ...p.head, p.intro, p.receiverField, ...this.paintServing(v.receiver), this.desks.el);
      return;
    }
    this.paintJoin();
    syncChildren(p.card, ...p.head, p.intro, p.receiverField, p.join);
  }

  /** Where desks reach this receiver and its certificate, or why it is not serving. */
  private paintServing(r: ReceiverView | null): Node[] {
    const p = this.parts;
    if (r?.addr) {
      setText(p.serving, t("office.serving", { addr: r.addr }));
      const fp = r.fingerprint ?? "";
      setText(p.fingerprint.value, fp ? shortFingerprint(fp) : "—");
      setAttr(p.fingerprint.value, "title", fp || null);
      return [p.serving, p.fingerprint.el];
    }
    if (r?.error) {
      setText(p.serverError, t("office.serverError", { error: r.error }));
      return [p.serverError];
    }
    return [p.serverStarting];
  }

  private paintJoin(): void {
    const p = this.parts;
    setProp(p.joinCode, "readOnly", this.joining);
    setProp(p.joinButton, "disabled", this.joining || p.joinCode.value.trim() === "");
    setText(p.joinError, this.joinError);
    setAttr(p.joinCode, "aria-invalid", this.joinError ? "true" : null);
    setAttr(p.joinCode, "aria-describedby", this.joinError ? `${p.joinHintId} ${p.joinError.id}` : p.joinHintId);
    syncChildren(p.join, ...p.joinFixed, !!this.joinError && p.joinError, this.joining && p.joining);
  }

  private paintDesk(desk: DeskStatus | null): void {
    const p = this.parts;
    const state = desk?.state ?? "connecting";
    const { key, dot } = DESK_STATES[state] ?? DESK_STATES.connecting;
    setAttr(p.deskLine, "data-state", state);
    setAttr(p.deskDot, "class", `status-dot ${dot}`);
    setText(p.deskState, t(key));
    const since = desk?.since ? t("office.since", { when: formatRelative(desk.since) }) : "";
    const caughtUp = state === "connected" && desk && desk.caught_up > 0 ? t("office.caughtUp", { n: desk.caught_up }) : "";
    const sinceText = [since, caughtUp].filter(Boolean).join(" · ");
    setText(p.deskSince, sinceText);
    const error = desk?.error ?? "";
    setText(p.deskError, error);
    syncChildren(p.deskText, p.deskState, !!sinceText && p.deskSince, !!error && p.deskError);
    setText(p.deskReceiver.value, desk?.receiver || "—");
    setText(p.deskName.value, desk?.name || "—");
    setProp(p.leave, "disabled", this.leaving);
    syncChildren(p.card, ...p.head, p.deskLine, p.deskReceiver.el, p.deskName.el, p.deskHandles, p.leaveActions, this.leaving && p.leaving);
  }

  // ---- actions ----

  private async setReceiver(on: boolean): Promise<void> {
    if (this.switching) return;
    this.switching = true;
    this.paint();
    try {
      const view = await backend.setOfficeReceiver(on);
      this.switching = false;
      this.adopt(view);
      this.host.saved();
    } catch (e) {
      this.switching = false;
      this.host.ctx.notify.error(e);
      // The switch goes back to the role in force.
      this.paint();
    }
  }

  /** Joins the receiver the pasted code names; on success the app restarts as a desk. */
  private async join(): Promise<void> {
    const code = this.parts.joinCode.value.trim();
    if (code === "" || this.joining) return;
    this.joining = true;
    this.joinError = "";
    this.paint();
    try {
      await backend.joinOffice(code);
      // Kanca is restarting: "Bağlanıyor… Kanca yeniden başlıyor" stays until the window goes.
    } catch (e) {
      this.joining = false;
      this.joinError = errorText(backend.toBackendError(e));
      this.paint();
      this.parts.joinCode.focus();
    }
  }

  private async leave(): Promise<void> {
    const ok = await confirmDialog({
      title: t("office.leaveTitle"),
      body: t("office.leaveBody"),
      confirm: t("office.leave"),
      danger: true,
      testid: "leave-office-dialog",
    });
    if (!ok || this.leaving) return;
    this.leaving = true;
    this.paint();
    try {
      await backend.leaveOffice();
      // Kanca is restarting on its own.
    } catch (e) {
      this.leaving = false;
      this.host.ctx.notify.error(e);
      this.paint();
    }
  }
}
