// The call list's context menu: right click or Shift+F10 / the menu key on a row; open, copy
// the number, "CRM'de aç", add to or edit in the phone book.
import { afterEach, describe, expect, it } from "vitest";
import { sampleCall } from "../src/dev/sample";
import type { Contact } from "../src/lib/types";
import { $, $$, cleanup, FakeBackend, flush, installFake, key, startTestApp } from "./helpers";

const NOW_US = Date.now() * 1000;

function calls(): FakeBackend {
  return new FakeBackend([
    sampleCall({ uuid: "r1", startedAtUs: NOW_US, caller: "905324445566" }),
    sampleCall({ uuid: "r2", startedAtUs: NOW_US - 60_000_000, caller: "902125550000" }),
  ]);
}

function row(uuid: string): HTMLElement {
  const r = $$("call-row").find((e) => e.dataset.uuid === uuid);
  if (!r) throw new Error(`no row ${uuid}`);
  return r;
}

/** A right click on the row's name, as the mouse sends it. */
function rightClick(target: Element, x = 120, y = 80): MouseEvent {
  const e = new MouseEvent("contextmenu", { bubbles: true, cancelable: true, button: 2, clientX: x, clientY: y });
  target.dispatchEvent(e);
  return e;
}

function menuItems(): string[] {
  return [...$("row-menu").querySelectorAll("[role=menuitem]")].map((i) => i.textContent ?? "");
}

function isOpen(): boolean {
  return document.querySelector('[data-testid="row-menu"]') !== null;
}

describe("the call list's context menu", () => {
  afterEach(cleanup);

  it("opens on a right click at the mouse, for that row, instead of WebKit's menu", async () => {
    installFake(calls());
    await startTestApp();
    const e = rightClick(row("r2").querySelector(".row-caller")!, 150, 90);
    expect(e.defaultPrevented).toBe(true);
    const menu = $("row-menu");
    expect(menu.getAttribute("role")).toBe("menu");
    expect(menu.getAttribute("aria-label")).toBe("Arama işlemleri");
    expect([menu.style.left, menu.style.top]).toEqual(["150px", "90px"]);
    // No CRM link set: no CRM item. The caller is unknown: "Kişilere ekle".
    expect(menuItems()).toEqual(["Aç", "Numarayı kopyala", "Kişilere ekle"]);
    expect(document.activeElement).toBe($("row-menu-open"));
    expect(row("r2").getAttribute("aria-selected")).toBe("true");
    // A right click on the menu itself shows no WebKit menu over it.
    expect(rightClick($("row-menu-copy")).defaultPrevented).toBe(true);
    expect(isOpen()).toBe(true);
  });

  it("'Aç' opens the call of the row clicked", async () => {
    installFake(calls());
    const app = await startTestApp();
    rightClick(row("r2"));
    $("row-menu-open").click();
    await flush();
    expect(isOpen()).toBe(false);
    expect(app.currentView).toBe("detail");
    expect(app.detail.currentUuid).toBe("r2");
  });

  it("'CRM'de aç' shows with a CRM link set and opens that call in the CRM", async () => {
    const fake = calls();
    fake.settings = { ...fake.settings, crm_url: "https://crm.example.com/ara?tel={e164}" };
    installFake(fake);
    const app = await startTestApp();
    rightClick(row("r2"));
    expect(menuItems()).toEqual(["Aç", "Numarayı kopyala", "CRM'de aç", "Kişilere ekle"]);
    $("row-menu-crm").click();
    await flush();
    expect(fake.calledWith("open_in_crm")).toEqual([{ uuid: "r2" }]);
    expect(app.currentView).toBe("history");
    expect(isOpen()).toBe(false);
  });

  it("'Geri ara' shows with Bulutfon's API connected and asks in the call it opens", async () => {
    const fake = calls();
    fake.status = { ...fake.status, api: { state: "ok", account: "ornekticaret", last_sync: null, progress: null, error: null, last_added: 0 } };
    installFake(fake);
    const app = await startTestApp();
    rightClick(row("r2"));
    expect(menuItems()).toEqual(["Aç", "Numarayı kopyala", "Geri ara", "Kişilere ekle"]);
    $("row-menu-call-back").click();
    await flush(8);
    expect(app.currentView).toBe("detail");
    expect($("call-back-dialog").textContent).toContain("0 212 555 00 00");
    expect(fake.calledWith("call_back")).toEqual([]);
  });

  it("a CRM failure is said", async () => {
    const fake = calls();
    fake.settings = { ...fake.settings, crm_url: "https://crm.example.com/{e164}" };
    fake.failures.set("open_in_crm", { code: "opener", message: "xdg-open failed" });
    installFake(fake);
    await startTestApp();
    rightClick(row("r1"));
    $("row-menu-crm").click();
    await flush(8);
    expect($("error-banner").hidden).toBe(false);
  });

  it("'Numarayı kopyala' copies the row's number and says so", async () => {
    const fake = calls();
    installFake(fake);
    await startTestApp();
    rightClick(row("r2"));
    $("row-menu-copy").click();
    await flush();
    expect(fake.calledWith("copy_text")).toEqual([{ text: "+902125550000" }]);
    expect($("toast").textContent).toContain("Kopyalandı: +902125550000");
  });

  it("'Kişilere ekle' takes the row's number to a new contact; a known caller's is 'Kişiyi düzenle'", async () => {
    const fake = calls();
    const known: Contact = { id: 4, name: "İpek Işık", company: null, numbers: [{ raw: "0532 444 55 66", e164: null, label: null }], email: null, note: null, tags: [], source: "typed" };
    fake.contacts = [known];
    installFake(fake);
    const app = await startTestApp();
    rightClick(row("r1"));
    expect(menuItems()).toEqual(["Aç", "Numarayı kopyala", "Kişiyi düzenle"]);
    key(document.activeElement!, "Escape");
    rightClick(row("r2"));
    $("row-menu-contact").click();
    await flush(8);
    expect(app.currentView).toBe("contacts");
    expect(($("contact-numbers") as HTMLTextAreaElement).value).toBe("+902125550000");
  });

  it("opens from the keyboard (Shift+F10, the menu key) under the selected row; Escape gives the focus back", async () => {
    installFake(calls());
    const app = await startTestApp();
    const list = $("call-list");
    list.focus();
    key(list, "ArrowDown");
    expect(app.history.list.selectedItem()?.uuid).toBe("r2");
    const open = key(list, "F10", { shiftKey: true });
    expect(open.defaultPrevented).toBe(true);
    expect(isOpen()).toBe(true);
    expect(document.activeElement).toBe($("row-menu-open"));
    key(document.activeElement!, "ArrowDown");
    expect(document.activeElement).toBe($("row-menu-copy"));
    key(document.activeElement!, "ArrowUp");
    key(document.activeElement!, "ArrowUp");
    expect(document.activeElement).toBe($("row-menu-contact"));
    const esc = key(document.activeElement!, "Escape");
    expect(esc.defaultPrevented).toBe(true);
    expect(isOpen()).toBe(false);
    expect(document.activeElement).toBe(list);
    expect(app.currentView).toBe("history");

    key(list, "ContextMenu");
    expect(isOpen()).toBe(true);
    // Enter on "Aç" opens the selected call.
    $("row-menu-open").click();
    await flush();
    expect(app.detail.currentUuid).toBe("r2");
  });

  it("a plain F10 or a key without a selection opens nothing", async () => {
    installFake(calls());
    await startTestApp();
    const list = $("call-list");
    key(list, "F10");
    expect(isOpen()).toBe(false);
    key(list, "ContextMenu");
    expect(isOpen()).toBe(false);
  });

  it("closes on a click outside, on a scroll, and when another row's menu opens", async () => {
    installFake(calls());
    await startTestApp();
    rightClick(row("r1"));
    document.body.dispatchEvent(new MouseEvent("mousedown", { bubbles: true }));
    expect(isOpen()).toBe(false);

    rightClick(row("r1"));
    // A click inside the menu does not close it.
    $("row-menu").dispatchEvent(new MouseEvent("mousedown", { bubbles: true }));
    expect(isOpen()).toBe(true);
    $("call-list").dispatchEvent(new Event("scroll"));
    expect(isOpen()).toBe(false);

    rightClick(row("r1"));
    rightClick(row("r2"));
    expect($$("row-menu").length).toBe(1);
    $("row-menu-open").click();
    await flush();
    expect(document.querySelector('[data-testid="call-detail"]')?.getAttribute("data-uuid")).toBe("r2");
  });
});
