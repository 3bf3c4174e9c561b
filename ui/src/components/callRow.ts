// One row of the history list. All call data goes in as text.

import { isTestCall, stateAt } from "../lib/calls";
import { h } from "../lib/dom";
import { displayName, formatDuration, formatListTime, routeSummary } from "../lib/format";
import { t } from "../lib/i18n";
import type { Call, TagColour } from "../lib/types";
import { icon } from "./icons";
import { tagChip } from "./tagChip";
import { statePill, testBadge } from "./ui";

export function directionLabel(call: Pick<Call, "direction" | "kind">): string {
  if (call.kind === "fax") return call.direction === "out" ? t("dir.outFax") : t("dir.inFax");
  return call.direction === "out" ? t("dir.outCall") : t("dir.inCall");
}

export function directionIcon(call: Pick<Call, "direction" | "kind" | "missed">): SVGSVGElement {
  if (call.kind === "fax") return icon("fax", "dir-icon dir-fax");
  if (call.direction === "out") return icon("outgoing", "dir-icon dir-out");
  return icon(call.missed ? "missed" : "incoming", call.missed ? "dir-icon dir-missed" : "dir-icon dir-in");
}

export function partyText(value: string | null | undefined): string {
  return value && value.trim() !== "" ? value : t("call.unknownNumber");
}

/** "Mehmet Öztürk · 0 850 885 00 00" when the phone book knows the number, else the number. */
export function namedParty(name: string | null | undefined, number: string | null | undefined): string {
  const n = displayName(name);
  return n ? `${n} · ${partyText(number)}` : partyText(number);
}

/** `colourOf` gives a tag's colour (the app's TagStore); without it tags are neutral chips. */
export function renderCallRow(call: Call, now: Date = new Date(), colourOf: (tag: string) => TagColour | null = () => null): HTMLElement {
  const route = routeSummary(call.route);
  const state = stateAt(call, now.getTime() * 1000);
  const calleeLine = h(
    "span",
    { class: "row-sub" },
    h("span", { class: "row-callee", text: `→ ${namedParty(call.callee_name, call.callee)}` }),
    route ? h("span", { class: "row-route", text: route }) : null,
    ...call.tags.slice(0, 3).map((tag) => tagChip(tag, colourOf(tag), { testid: "row-tag" })),
    call.note ? h("span", { class: "row-note", testid: "row-note", text: displayName(call.note, 60) }) : null,
  );
  return h(
    "div",
    {
      class: ["call-row", call.missed && "is-missed", `state-${state}`],
      testid: "call-row",
      dataset: { uuid: call.uuid, state },
    },
    h(
      "span",
      { class: "row-dir", title: directionLabel(call) },
      directionIcon(call),
      h("span", { class: "sr-only", text: directionLabel(call) }),
    ),
    h(
      "span",
      { class: "row-main" },
      h(
        "span",
        { class: "row-title" },
        call.caller_name?.trim() ? h("span", { class: "row-name", testid: "row-name", text: displayName(call.caller_name) }) : null,
        h("span", { class: ["row-caller", !!call.caller_name?.trim() && "has-name"], text: partyText(call.caller) }),
        isTestCall(call) ? testBadge() : null,
      ),
      calleeLine,
    ),
    h("span", { class: "row-state" }, statePill(state, call.kind)),
    h(
      "span",
      { class: "row-when" },
      h("span", { class: "row-time", text: formatListTime(call.started_at_us || call.started_at, now) }),
      h("span", { class: "row-duration", text: state === "ringing" ? "" : formatDuration(call.duration_s) }),
    ),
  );
}
