// One call in full: parties, status, times, route, event timeline, CDR call flow, hang-up cause
// and every raw payload. Everything from the backend goes in as text.

import { callBack, getCall, openInCrm, openUrl } from "../lib/backend";
import { callBackNumber, contactTarget, copyableNumber, isTestCall, stateAt } from "../lib/calls";
import { h, nextId, replaceChildren, type Child } from "../lib/dom";
import {
  displayName,
  eventTypeLabel,
  formatClock,
  formatDateTime,
  formatDuration,
  hangupText,
  phoneBookNumber,
  prettyPayload,
  routeStepLabel,
  toDate,
} from "../lib/format";
import { t } from "../lib/i18n";
import { phoneBookWritable } from "../lib/office";
import type { Call, CallDetail, CallflowLeg, CallState, EventView } from "../lib/types";
import { directionIcon, directionLabel, namedParty, partyText } from "./callRow";
import { mediaCard } from "./callMedia";
import { CallNotes } from "./callNotes";
import { icon } from "./icons";
import { button, confirmDialog, copyButton, statePill, testBadge } from "./ui";
import type { AppContext, View } from "./view";

type Phase = "idle" | "loading" | "ready" | "missing" | "error";

/** Only web links go to the system browser. */
/** The "Ended" fact: when, or why there is no time. */
function endedText(c: Pick<Call, "ended_at">, state: CallState): string {
  if (c.ended_at) return formatDateTime(c.ended_at);
  if (state === "ringing") return t("detail.stillRinging");
  return state === "end_unknown" ? t("detail.endUnknown") : "—";
}

export function isWebUrl(url: string | null | undefined): url is string {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

export class CallDetailView implements View {
  readonly el: HTMLElement;
  private uuid: string | null = null;
  private detail: CallDetail | null = null;
  private phase: Phase = "idle";
  private gen = 0;
  /** Kept across renders so a note being typed survives a webhook for the call. */
  private notes: CallNotes;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private openRaw = new Set<number>();
  private readonly titleId = nextId("detail-title");

  constructor(
    private readonly ctx: AppContext,
    private readonly onBack: () => void,
  ) {
    this.el = h("section", { class: "view view-detail", testid: "call-detail", attrs: { "aria-labelledby": this.titleId } });
    this.notes = this.newNotes();
  }

  private newNotes(): CallNotes {
    return new CallNotes(this.ctx, () => {
      this.ctx.annotationsChanged?.();
      void this.load(false);
    });
  }

  get currentUuid(): string | null {
    return this.uuid;
  }

  get call(): CallDetail | null {
    return this.detail;
  }

  /** Shows a call; loads it from the backend. */
  async show(uuid: string): Promise<void> {
    if (this.uuid !== uuid) {
      this.detail = null;
      this.openRaw.clear();
    }
    this.uuid = uuid;
    this.el.dataset.uuid = uuid;
    await this.load(true);
  }

  private async load(showLoading: boolean): Promise<void> {
    const uuid = this.uuid;
    if (uuid === null) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const gen = ++this.gen;
    if (showLoading && !this.detail) {
      this.phase = "loading";
      this.render();
    }
    try {
      const d = await getCall(uuid);
      if (gen !== this.gen) return;
      if (d) {
        this.detail = d;
        this.phase = "ready";
      } else {
        this.phase = this.detail ? "ready" : "missing";
        // A call opened right after it was sent (a notification, the test event) may not be
        // stored yet: look once more shortly; `calls-changed` also reloads it when it lands.
        if (!this.detail && showLoading) this.retryTimer = setTimeout(() => void this.load(false), 700);
      }
    } catch (e) {
      if (gen !== this.gen) return;
      this.phase = this.detail ? "ready" : "error";
      this.ctx.notify.error(e);
    }
    this.render();
  }

  /** A call changed: reload if it is the one on screen. */
  onCallChanged(call: Call): void {
    if (call.uuid === this.uuid) void this.load(false);
  }

  /** Calls changed without saying which: read the one on screen again. */
  refresh(): void {
    if (this.phase !== "idle") void this.load(false);
  }

  // ---- rendering ----

  private render(): void {
    const focusedTestid = document.activeElement instanceof HTMLElement && this.el.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-testid")
      : null;
    const back = button({
      label: t("detail.back"),
      icon: "back",
      variant: "ghost",
      testid: "detail-back",
      title: t("detail.backLabel"),
      onClick: () => this.onBack(),
    });
    back.setAttribute("aria-keyshortcuts", "Escape");
    const top = h("div", { class: "detail-top" }, back);

    let body: Child[];
    switch (this.phase) {
      case "ready":
        body = this.detail ? this.renderCall(this.detail) : [];
        break;
      case "missing":
        body = [
          h(
            "div",
            { class: "empty-state", testid: "detail-missing" },
            icon("search", "empty-icon"),
            h("h1", { class: "empty-title", id: this.titleId, text: t("detail.notFound") }),
            h("p", { class: "empty-hint", text: t("detail.notFoundHint") }),
          ),
        ];
        break;
      case "error":
        body = [
          h(
            "div",
            { class: "empty-state", testid: "detail-error" },
            icon("alert", "empty-icon"),
            h("h1", { class: "empty-title", id: this.titleId, text: t("error.title") }),
            button({ label: t("action.retry"), icon: "refresh", onClick: () => void this.load(true) }),
          ),
        ];
        break;
      default:
        body = [h("p", { class: "detail-loading", id: this.titleId, text: t("detail.loading") })];
    }
    replaceChildren(this.el, top, ...body);
    if (focusedTestid) {
      const again = this.el.querySelector<HTMLElement>(`[data-testid="${focusedTestid}"]`);
      again?.focus();
    }
  }

  /** "Kişilere ekle", or "Kişiyi düzenle" when the other party is in the phone book. */
  private contactButton(c: CallDetail): HTMLButtonElement | null {
    const target = contactTarget(c);
    const add = this.ctx.addToContacts?.bind(this.ctx);
    if (!target || !add || !phoneBookWritable(this.ctx.status())) return null;
    const { number, known } = target;
    return button({
      label: known ? t("detail.editContact") : t("detail.addContact"),
      icon: known ? "user" : "plus",
      testid: known ? "detail-edit-contact" : "detail-add-contact",
      onClick: () => add(number, c.uuid, known),
    });
  }

  private renderCall(c: CallDetail): Child[] {
    const state = stateAt(c, Date.now() * 1000);
    const caller = partyText(c.caller);
    const name = displayName(c.caller_name) || null;
    const number = copyableNumber(c);
    const actions = h(
      "div",
      { class: "detail-actions" },
      copyButton(() => number, (s) => this.ctx.copy(s), {
        label: t("detail.copyNumber"),
        testid: "detail-copy-number",
        small: false,
      }),
      isWebUrl(c.cdr_url)
        ? button({
            label: t("detail.openPanel"),
            icon: "external",
            testid: "detail-open-panel",
            onClick: () => this.openPanel(c.cdr_url as string),
          })
        : null,
    );
    const contactBtn = this.contactButton(c);
    if (contactBtn) actions.appendChild(contactBtn);
    if (this.ctx.settings()?.crm_url) {
      actions.appendChild(
        button({
          label: t("detail.openCrm"),
          icon: "external",
          testid: "detail-open-crm",
          onClick: () => void openInCrm(c.uuid).catch((e) => this.ctx.notify.error(e)),
        }),
      );
    }
    const back = callBackNumber(c);
    const api = this.ctx.status()?.api;
    if (back && api && api.state !== "off") {
      actions.appendChild(
        button({
          label: t("detail.callBack"),
          icon: "phone",
          testid: "detail-call-back",
          onClick: () => void this.callBack(back),
        }),
      );
    }
    const copyNumberBtn = actions.firstElementChild as HTMLButtonElement;
    if (!number) copyNumberBtn.disabled = true;

    const header = h(
      "header",
      { class: "detail-header" },
      h("span", { class: "detail-dir", title: directionLabel(c) }, directionIcon(c)),
      h(
        "div",
        { class: "detail-heading" },
        h(
          "h1",
          { class: "detail-caller-line", id: this.titleId },
          name ? h("span", { class: "detail-name", testid: "detail-name", text: name }) : null,
          h("span", { class: ["detail-caller", !!name && "has-name"], testid: "detail-caller", text: caller }),
          isTestCall(c) ? testBadge() : null,
        ),
        h(
          "p",
          { class: "detail-sub" },
          h("span", { text: directionLabel(c) }),
          h("span", { class: "sep", text: "·", attrs: { "aria-hidden": "true" } }),
          statePill(state, c.kind, "detail-status"),
        ),
      ),
      actions,
    );

    const hangup = hangupText(c.hangup_cause, c.hangup_detail);
    const facts: [string, Child, string?][] = [
      [t("detail.caller"), partyText(c.caller), "detail-caller-number"],
      [t("detail.callee"), namedParty(c.callee_name, c.callee), "detail-callee"],
      [t("detail.direction"), directionLabel(c)],
      [t("detail.started"), formatDateTime(c.started_at_us || c.started_at), "detail-started"],
      [t("detail.ended"), endedText(c, state)],
      [t("detail.duration"), formatDuration(c.duration_s), "detail-duration"],
    ];
    if (hangup) facts.push([t("detail.hangup"), hangup, "detail-hangup"]);
    if (c.recorded === true || c.recorded === false) {
      facts.push([t("detail.recorded"), c.recorded ? t("detail.recordedYes") : t("detail.recordedNo")]);
    }
    facts.push([t("detail.route"), this.renderRoute(c), "detail-route"]);

    const dl = h("dl", { class: "facts" });
    for (const [k, v, testid] of facts) {
      dl.appendChild(h("div", { class: "fact" }, h("dt", { text: k }), h("dd", { testid }, v)));
    }

    this.notes.set(c);
    const sections: Child[] = [
      header,
      h("div", { class: "card" }, dl),
      mediaCard(c, this.ctx),
      this.notes.el,
      this.renderTimeline(c.events),
    ];
    if (c.callflow && c.callflow.length > 0) sections.push(this.renderCallflow(c.callflow));
    sections.push(this.renderRaw(c.events));
    return [h("div", { class: "detail-scroll" }, ...sections)];
  }

  private renderRoute(c: CallDetail): HTMLElement {
    if (c.route.length === 0) return h("span", { class: "muted", text: t("detail.noRoute") });
    const ol = h("ol", { class: "route" });
    c.route.forEach((step, i) => {
      if (i > 0) ol.appendChild(h("li", { class: "route-sep", text: "→", attrs: { "aria-hidden": "true" } }));
      const at = toDate(step.at);
      ol.appendChild(
        h(
          "li",
          { class: `route-step route-${step.type}` },
          h("span", { text: routeStepLabel(step) }),
          at ? h("span", { class: "route-at", text: formatClock(at, true) }) : null,
        ),
      );
    });
    return ol;
  }

  private eventTime(e: EventView): string {
    const d = toDate(e.timestamp_us ?? e.timestamp ?? e.received_at);
    return d ? formatClock(d, true) : "—";
  }

  private renderTimeline(events: readonly EventView[]): HTMLElement {
    const id = nextId("timeline");
    const ol = h("ol", { class: "timeline", testid: "detail-timeline", attrs: { "aria-labelledby": id } });
    for (const e of events) {
      const d = toDate(e.timestamp_us ?? e.timestamp ?? e.received_at);
      ol.appendChild(
        h(
          "li",
          { class: `timeline-item ev-${e.type.replace(/[^a-z_]/gi, "")}`, testid: "timeline-event", dataset: { type: e.type } },
          h("span", { class: "timeline-dot", attrs: { "aria-hidden": "true" } }),
          h(
            "time",
            { class: "timeline-time", attrs: { datetime: d ? d.toISOString() : null }, title: d ? formatDateTime(d.getTime() * 1000) : undefined },
            this.eventTime(e),
          ),
          h("span", { class: "timeline-label", text: eventTypeLabel(e.type, e.received_type) }),
        ),
      );
    }
    if (events.length === 0) ol.appendChild(h("li", { class: "muted", text: t("detail.noEvents") }));
    return h("section", { class: "card" }, h("h2", { class: "card-title", id, text: t("detail.timeline") }), ol);
  }

  private renderCallflow(legs: readonly CallflowLeg[]): HTMLElement {
    const id = nextId("callflow");
    const clock = (v: string | null) => {
      const d = toDate(v);
      return d ? formatClock(d, true) : "—";
    };
    const head = h(
      "tr",
      null,
      ...[t("detail.leg.callee"), t("detail.leg.start"), t("detail.leg.answer"), t("detail.leg.hangup"), t("detail.leg.redirection")].map((s) =>
        h("th", { text: s, attrs: { scope: "col" } }),
      ),
    );
    const rows = legs.map((leg) => {
      const redirect = [leg.redirection, leg.redirection_target].filter((x): x is string => !!x).join(" → ");
      return h(
        "tr",
        { testid: "callflow-leg" },
        h("td", { text: leg.callee ?? "—" }),
        h("td", { text: clock(leg.start_time) }),
        h("td", { text: clock(leg.answer_time) }),
        h("td", { text: clock(leg.hangup_time) }),
        h("td", { text: redirect || "—" }),
      );
    });
    return h(
      "section",
      { class: "card", testid: "detail-callflow" },
      h("h2", { class: "card-title", id, text: t("detail.callflow") }),
      h("div", { class: "table-wrap" }, h("table", { class: "table", attrs: { "aria-labelledby": id } }, h("thead", null, head), h("tbody", null, ...rows))),
    );
  }

  private renderRaw(events: readonly EventView[]): HTMLElement {
    const items = events.map((e, i) => {
      const label = eventTypeLabel(e.type, e.received_type);
      const text = prettyPayload(e.raw);
      const details = h(
        "details",
        { class: "raw", testid: "raw-payload", dataset: { type: e.type } },
        h(
          "summary",
          { class: "raw-summary" },
          h("span", { class: "raw-title", text: label }),
          h("span", { class: "raw-meta", text: [e.received_type, e.content_type, this.eventTime(e)].filter(Boolean).join(" · ") }),
        ),
        h(
          "div",
          { class: "raw-body" },
          copyButton(() => e.raw, (s) => this.ctx.copy(s), {
            label: t("detail.rawCopy"),
            testid: "raw-copy",
          }),
          h("pre", { class: "raw-pre", attrs: { tabindex: 0 } }, h("code", { text: text })),
        ),
      );
      const copy = details.querySelector("button");
      copy?.setAttribute("aria-label", t("detail.rawCopyLabel", { event: label }));
      if (this.openRaw.has(i)) details.open = true;
      details.addEventListener("toggle", () => {
        if (details.open) this.openRaw.add(i);
        else this.openRaw.delete(i);
      });
      return details;
    });
    const id = nextId("raw");
    return h(
      "section",
      { class: "card", attrs: { "aria-labelledby": id } },
      h("h2", { class: "card-title", id, text: t("detail.raw") }),
      h("p", { class: "card-hint", text: t("detail.rawHint") }),
      ...items,
    );
  }

  /** "Geri ara" from a pop-up: the call is open, ask as its button would. */
  askCallBack(): void {
    const number = this.detail ? callBackNumber(this.detail) : null;
    if (number) void this.callBack(number);
  }

  /** "Geri ara": asked first, since it rings two phones. */
  private async callBack(number: string): Promise<void> {
    const ok = await confirmDialog({
      title: t("detail.callBackTitle"),
      body: t("detail.callBackBody", { number: phoneBookNumber({ raw: number, e164: number.startsWith("+") ? number : null }) }),
      confirm: t("detail.callBack"),
      testid: "call-back-dialog",
    });
    if (!ok) return;
    try {
      const message = await callBack(number);
      this.ctx.notify.toast(message || t("detail.callBackStarted"));
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }

  private async openPanel(url: string): Promise<void> {
    try {
      await openUrl(url);
    } catch (e) {
      this.ctx.notify.error(e);
    }
  }

  // ---- view lifecycle ----

  mount(): void {}

  unmount(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  rerender(): void {
    // A language switch: the editor's labels are new (text being typed is not kept).
    this.notes.dispose();
    this.notes = this.newNotes();
    if (this.uuid !== null) this.render();
  }

  focus(): void {
    const back = this.el.querySelector<HTMLElement>('[data-testid="detail-back"]');
    back?.focus();
  }
}
