// The Contacts view: list, search, add, edit, delete, import (picker and drop), export, and
// adding a call's number to a contact from the call detail.
import { afterEach, describe, expect, it } from "vitest";
import { CONTACT_SEARCH_DEBOUNCE_MS } from "../src/components/contacts";
import { parseNumbers, parseTags } from "../src/components/contactForm";
import { sampleCall } from "../src/dev/sample";
import { NAME_CHARS } from "../src/lib/format";
import type { App } from "../src/app";
import type { Contact } from "../src/lib/types";
import { $, $$, cleanup, emitEvent, FakeBackend, flush, installFake, rowUuids, startTestApp, type } from "./helpers";

const NOW_US = Date.now() * 1000;
const HOSTILE = `<img src=x onerror=alert(1)><script>alert(2)</script>${"Ş".repeat(5_000)}`;

function contact(id: number, name: string, number: string, extra: Partial<Contact> = {}): Contact {
  return { id, name, company: null, numbers: [{ raw: number, e164: null, label: null }], email: null, note: null, tags: [], source: "typed", ...extra };
}

async function openContacts(fake: FakeBackend): Promise<App> {
  installFake(fake);
  const app = await startTestApp();
  $("nav-contacts").click();
  await flush();
  return app;
}

function names(): string[] {
  return $$("contact-name").map((e) => e.textContent ?? "");
}

function fill(testid: string, value: string): void {
  const el = $(testid) as HTMLInputElement;
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, CONTACT_SEARCH_DEBOUNCE_MS + 20));
  await flush();
}

function pick(input: HTMLInputElement, files: File[]): void {
  Object.defineProperty(input, "files", { value: files, configurable: true });
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

const VCARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:İpek Işık\r\nTEL;TYPE=CELL:0532 444 55 66\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ahmet Yılmaz\r\nTEL:+90 212 000 00 00\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nTEL:0500\r\nEND:VCARD\r\n";

describe("contacts view", () => {
  afterEach(cleanup);

  it("is in the sidebar and lists the phone book, empty at first with a way in", async () => {
    await openContacts(new FakeBackend());
    expect($("view-contacts")).toBeTruthy();
    expect($("nav-contacts").getAttribute("aria-current")).toBe("page");
    expect($("contacts-count").textContent).toContain("Henüz kişi yok");
    expect($("contacts-import")).toBeTruthy();
  });

  it("searches through the engine as the user types", async () => {
    const fake = new FakeBackend();
    fake.contacts = [contact(1, "İpek Işık", "05324445566"), contact(2, "Ahmet Yılmaz", "02120000000")];
    await openContacts(fake);
    expect(names()).toEqual(["Ahmet Yılmaz", "İpek Işık"]);
    type($("contacts-search") as HTMLInputElement, "isik");
    await settle();
    expect(fake.calledWith("list_contacts").at(-1)).toEqual({ query: "isik" });
    expect(names()).toEqual(["İpek Işık"]);
    expect($("contacts-count").textContent).toBe("1 kişi");
    type($("contacts-search") as HTMLInputElement, "zzz");
    await settle();
    expect($("contacts-count").textContent).toBe("Aramanızla eşleşen kişi yok");
  });

  it("adds a contact; a missing name or a bad number is said in the form", async () => {
    const fake = new FakeBackend();
    await openContacts(fake);
    $("contacts-add").click();
    await flush();
    $("contact-save").click();
    await flush();
    expect($("contact-form-error").textContent).toBe("Kişinin bir adı olmalı");
    expect(fake.calledWith("add_contact")).toEqual([]);

    fill("contact-name", "  Mehmet Öztürk ");
    fill("contact-company", "Öztürk Lojistik");
    fill("contact-numbers", "abc");
    $("contact-save").click();
    await flush();
    expect($("contact-form-error").textContent).toBe("Bu bir telefon numarası değil");

    fill("contact-numbers", "0532 444 55 66\n+90 212 000 00 00");
    fill("contact-note", "sabah 9'dan önce aramayın");
    fill("contact-tags", "vip, tedarikçi, vip");
    $("contact-save").click();
    await flush();
    expect(fake.calledWith("add_contact").at(-1)).toEqual({
      input: {
        name: "Mehmet Öztürk",
        company: "Öztürk Lojistik",
        numbers: [
          { raw: "0532 444 55 66", label: null },
          { raw: "+90 212 000 00 00", label: null },
        ],
        email: null,
        note: "sabah 9'dan önce aramayın",
        tags: ["vip", "tedarikçi"],
      },
    });
    expect(document.querySelector('[data-testid="contact-form"]')).toBeNull();
    expect(names()).toEqual(["Mehmet Öztürk"]);
    expect($("contact-numbers").textContent).toBe("0532 444 55 66 · +90 212 000 00 00");
    expect($("toast").textContent).toContain("Mehmet Öztürk");
  });

  it("edits and deletes a contact (after asking)", async () => {
    const fake = new FakeBackend();
    fake.contacts = [contact(7, "Ayşe", "05551112233", { numbers: [{ raw: "05551112233", e164: "+905551112233", label: "cep" }] })];
    await openContacts(fake);
    $("contact-edit").click();
    await flush();
    expect(($("contact-name") as HTMLInputElement).value).toBe("Ayşe");
    fill("contact-name", "Ayşe Kaya");
    $("contact-save").click();
    await flush();
    // The number's label survives an edit that kept the number.
    expect(fake.calledWith("update_contact").at(-1)).toMatchObject({ id: 7, input: { name: "Ayşe Kaya", numbers: [{ raw: "05551112233", label: "cep" }] } });
    expect(names()).toEqual(["Ayşe Kaya"]);

    $("contact-delete").click();
    await flush();
    $("confirm-cancel").click();
    await flush();
    expect(fake.contacts.length).toBe(1);
    $("contact-delete").click();
    await flush();
    expect($("contact-delete-dialog").textContent).toContain("Ayşe Kaya");
    $("confirm-ok").click();
    await flush();
    expect(fake.contacts).toEqual([]);
    expect(names()).toEqual([]);
  });

  it("imports a picked file by its content and reports what was skipped and where", async () => {
    const fake = new FakeBackend();
    await openContacts(fake);
    pick($("contacts-import-input") as HTMLInputElement, [new File([VCARD], "telefon.vcf", { type: "text/vcard" })]);
    await flush(8);
    const args = fake.calledWith("import_contact_file").at(-1) as { name: string; bytes: number[] };
    expect(args.name).toBe("telefon.vcf");
    expect(new TextDecoder().decode(new Uint8Array(args.bytes))).toBe(VCARD);
    expect($("contacts-report-summary").textContent).toBe("2 eklendi, 0 güncellendi, 0 değişmedi, 1 atlandı");
    expect($("contacts-skips").textContent).toBe("telefon.vcf: card 3: no name");
    expect(names()).toEqual(["Ahmet Yılmaz", "İpek Işık"]);
  });

  it("imports files dropped on the window (paths from the shell), from any view", async () => {
    const fake = new FakeBackend();
    fake.files.set("/home/r/rehber.csv", "Name,Phone\nMehmet Öztürk,05324445566\n");
    installFake(fake);
    const app = await startTestApp();
    expect(app.currentView).toBe("history");
    await emitEvent("tauri://drag-drop", { paths: ["/home/r/rehber.csv", "/home/r/yok.vcf"], position: { x: 1, y: 1 } });
    await flush(8);
    expect(app.currentView).toBe("contacts");
    expect(fake.calledWith("import_contacts").at(-1)).toEqual({ paths: ["/home/r/rehber.csv", "/home/r/yok.vcf"] });
    expect($("contacts-report-summary").textContent).toBe("1 eklendi, 0 güncellendi, 0 değişmedi, 1 atlandı");
    expect(names()).toEqual(["Mehmet Öztürk"]);
  });

  it("imports a file dropped on the view by content (a plain browser drop)", async () => {
    const fake = new FakeBackend();
    await openContacts(fake);
    const drop = new Event("drop", { bubbles: true, cancelable: true });
    Object.defineProperty(drop, "dataTransfer", { value: { files: [new File(["Ali,05301112233\n"], "a.csv")], types: ["Files"] } });
    $("view-contacts").dispatchEvent(drop);
    await flush(8);
    expect(drop.defaultPrevented).toBe(true);
    expect(names()).toEqual(["Ali"]);
  });

  it("exports vCard and CSV and says where the file went", async () => {
    const fake = new FakeBackend();
    await openContacts(fake);
    $("contacts-export-csv").click();
    await flush();
    expect(fake.calledWith("export_contacts").at(-1)).toEqual({ format: "csv", path: null });
    expect($("toast").textContent).toContain("kisiler.csv");
    $("contacts-export-vcard").click();
    await flush();
    expect(fake.calledWith("export_contacts").at(-1)).toEqual({ format: "vcard", path: null });
  });

  it("shows a hostile name as text, and a 5,000-character one without breaking the row", async () => {
    const fake = new FakeBackend();
    fake.contacts = [contact(1, HOSTILE, "05324445566", { company: "<b>Şirket</b>", note: "<i>not</i>", tags: ["<u>x</u>"] })];
    await openContacts(fake);
    // The markup as text, cut short (the form keeps the whole name).
    expect(names()).toEqual([`${Array.from(HOSTILE).slice(0, NAME_CHARS - 1).join("")}…`]);
    expect($("contact-row").textContent).toContain("<b>Şirket</b>");
    expect(document.querySelectorAll("img, script, b, i, u").length).toBe(0);
    $("contact-edit").click();
    await flush();
    expect(($("contact-name") as HTMLInputElement).value).toBe(HOSTILE);
  });

  it("parses numbers one a line and tags by commas", () => {
    expect(parseNumbers(" 0532 444 55 66 \n\n+90 212 000 00 00; 1000")).toEqual(["0532 444 55 66", "+90 212 000 00 00", "1000"]);
    expect(parseTags(" vip ,, tedarikçi,vip")).toEqual(["vip", "tedarikçi"]);
  });
});

describe("a call's number into the phone book", () => {
  afterEach(cleanup);

  it("'Kişilere ekle' makes a new contact; the detail and the list show the name at once", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "c1", startedAtUs: NOW_US })]);
    fake.contacts = [contact(9, "Başka Biri", "02129999999")];
    const app = await openContacts(fake);
    app.navigate("history");
    await flush();
    app.openCall("c1");
    await flush();
    $("detail-add-contact").click();
    await flush();
    expect(app.currentView).toBe("contacts");
    expect($("contacts-pending").textContent).toContain("+905324445566");
    expect(($("contact-numbers") as HTMLTextAreaElement).value).toBe("+905324445566");
    fill("contact-name", "Mehmet Öztürk");
    $("contact-save").click();
    await flush(8);
    // Back on the call, named now.
    expect(app.currentView).toBe("detail");
    expect($("detail-name").textContent).toBe("Mehmet Öztürk");
    expect($("detail-edit-contact")).toBeTruthy();
    $("detail-back").click();
    await flush(8);
    expect(rowUuids()).toEqual(["c1"]);
    expect($("row-name").textContent).toBe("Mehmet Öztürk");
  });

  it("adds the number to an existing contact picked from the list", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "c1", startedAtUs: NOW_US })]);
    fake.contacts = [contact(3, "Öztürk Lojistik", "02120000000")];
    installFake(fake);
    const app = await startTestApp();
    app.openCall("c1");
    await flush();
    $("detail-add-contact").click();
    await flush();
    $("contact-add-here").click();
    await flush(8);
    expect(fake.calledWith("add_number_to_contact").at(-1)).toEqual({ id: 3, number: { raw: "+905324445566", label: null } });
    expect(app.currentView).toBe("detail");
    expect($("detail-name").textContent).toBe("Öztürk Lojistik");
  });

  it("'Kişiyi düzenle' on a known caller opens that contact's form", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "c1", startedAtUs: NOW_US })]);
    fake.contacts = [contact(4, "İpek Işık", "0532 444 55 66")];
    installFake(fake);
    const app = await startTestApp();
    app.openCall("c1");
    await flush();
    $("detail-edit-contact").click();
    await flush(8);
    expect(($("contact-name") as HTMLInputElement).value).toBe("İpek Işık");
    fill("contact-name", "İpek Işık Kaya");
    $("contact-save").click();
    await flush(8);
    expect(app.currentView).toBe("detail");
    expect($("detail-name").textContent).toBe("İpek Işık Kaya");
  });
});
