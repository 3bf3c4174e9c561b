// Untrusted text (webhook data, search input) must never become markup.
import { afterEach, describe, expect, it } from "vitest";
import { renderCallRow } from "../src/components/callRow";
import { sampleCall, sampleDetail } from "../src/dev/sample";
import type { CallDetail } from "../src/lib/types";
import { $, $$, cleanup, FakeBackend, flush, installFake, startTestApp, type } from "./helpers";

const EVIL = "<img src=x onerror=alert(1)>";
const NOW_US = Date.now() * 1000;

function evilCall() {
  return {
    ...sampleCall({ uuid: "evil", startedAtUs: NOW_US }),
    caller: EVIL,
    caller_raw: EVIL,
    caller_e164: null,
    callee: `<script>alert(2)</script>`,
    route: [{ type: "extension" as const, destination: `<b onmouseover=alert(3)>1000</b>`, at: null }],
    hangup_cause: `<svg onload=alert(4)>`,
  };
}

function noInjectedElements(root: ParentNode = document): void {
  expect(root.querySelectorAll("img, script, b, iframe, object, embed").length).toBe(0);
  for (const el of root.querySelectorAll("*")) {
    for (const attr of el.getAttributeNames()) expect(attr.startsWith("on"), `${el.tagName} ${attr}`).toBe(false);
  }
  // Only the app's own icons are SVG, and none carry handlers.
  for (const svg of root.querySelectorAll("svg")) expect(svg.getAttribute("data-icon")).toBeTruthy();
}

describe("escaping of untrusted text", () => {
  afterEach(cleanup);

  it("list row shows the caller literally", async () => {
    const row = renderCallRow(evilCall());
    document.body.appendChild(row);
    expect(row.querySelector(".row-caller")!.textContent).toBe(EVIL);
    expect(row.textContent).toContain("<script>alert(2)</script>");
    expect(row.textContent).toContain("<b onmouseover=alert(3)>1000</b>");
    noInjectedElements(row);

    installFake(new FakeBackend([evilCall()]));
    await startTestApp();
    expect($("call-row").querySelector(".row-caller")!.textContent).toBe(EVIL);
    noInjectedElements();
  });

  it("detail view shows the caller, callee, route and hang-up cause literally", async () => {
    const fake = installFake(new FakeBackend([]));
    const d: CallDetail = { ...sampleDetail(evilCall()), hangup_detail: `"><img src=y onerror=alert(5)>` };
    d.events.push({ ...d.events[0]!, type: "weird", received_type: `<iframe src=javascript:alert(6)>` });
    fake.details.set("evil", d);
    const app = await startTestApp();
    app.openCall("evil");
    await flush();
    expect($("detail-caller").textContent).toBe(EVIL);
    expect($("detail-callee").textContent).toBe("<script>alert(2)</script>");
    expect($("detail-hangup").textContent).toContain("<svg onload=alert(4)>");
    expect($("detail-hangup").textContent).toContain(`"><img src=y onerror=alert(5)>`);
    expect($("detail-route").textContent).toContain("<b onmouseover=alert(3)>1000</b>");
    expect($("detail-timeline").textContent).toContain("<iframe src=javascript:alert(6)>");
    noInjectedElements();
  });

  it("raw payload view shows markup in the body literally (JSON and not JSON)", async () => {
    const fake = installFake(new FakeBackend([]));
    const d = sampleDetail(sampleCall({ uuid: "raw", startedAtUs: NOW_US }));
    d.events[0] = { ...d.events[0]!, raw: JSON.stringify({ event_type: "call_init", caller: EVIL }) };
    d.events[1] = { ...d.events[1]!, raw: `caller=${EVIL}&x=</pre><script>alert(7)</script>`, content_type: "application/x-www-form-urlencoded" };
    fake.details.set("raw", d);
    const app = await startTestApp();
    app.openCall("raw");
    await flush();
    const raws = $$("raw-payload");
    expect(raws[0]!.querySelector("code")!.textContent).toContain(`"caller": "${EVIL}"`);
    expect(raws[1]!.querySelector("code")!.textContent).toBe(`caller=${EVIL}&x=</pre><script>alert(7)</script>`);
    noInjectedElements();
  });

  it("search text is sent as plain text and never rendered as markup", async () => {
    const fake = installFake(new FakeBackend([]));
    const app = await startTestApp();
    const input = $("search-input") as HTMLInputElement;
    type(input, EVIL);
    await app.history.reload();
    expect(fake.calledWith("search_calls").at(-1)).toMatchObject({ query: { text: EVIL } });
    expect($("empty-state").dataset.kind).toBe("no-results");
    noInjectedElements();
  });

  it("error messages from the backend are text", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.failures.set("search_calls", { code: "database", message: EVIL });
    await startTestApp();
    // In Turkish the detail is the banner's tooltip, kept as text.
    expect($("error-banner").querySelector(".banner-text")?.getAttribute("title")).toBe(EVIL);
    noInjectedElements();
  });

  it("the DOM helper refuses event-handler and style attributes", async () => {
    const { h } = await import("../src/lib/dom");
    expect(() => h("div", { attrs: { onclick: "alert(1)" } })).toThrow();
    expect(() => h("div", { attrs: { style: "color:red" } })).toThrow();
  });
});
