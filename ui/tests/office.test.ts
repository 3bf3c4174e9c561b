// Office mode in the window: Settings > Ofis on its own, on the receiver and on a desk; what a
// desk does not show (the receiver's business); the sidebar's warning; and `shared-changed`.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FAKE_FINGERPRINT, FAKE_OFFICE_ADDR } from "../src/dev/fakeBackend";
import { sampleCall } from "../src/dev/sample";
import { setLanguage, t } from "../src/lib/i18n";
import type { ClientInfo, DeskStatus } from "../src/lib/types";
import { $, $$, cleanup, emitEvent, FakeBackend, flush, installFake, key, startTestApp, type } from "./helpers";

const MIN = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function desk(patch: Partial<DeskStatus> = {}): DeskStatus {
  return { state: "connected", receiver: FAKE_OFFICE_ADDR, name: "Resepsiyon", error: null, since: null, caught_up: 0, media: false, no_phone_book: false, ...patch };
}

/** This computer is a desk: no listener, no tunnel, the receiver's connection in the status. */
function deskFake(patch: Partial<DeskStatus> = {}, fake = new FakeBackend([])): FakeBackend {
  installFake(fake);
  fake.status = {
    ...fake.status,
    listener: { state: "off", addr: null, error: null, hint: null },
    office: { role: "desk", desk: desk(patch), receiver: null },
  };
  return fake;
}

function receiverFake(desks: ClientInfo[] = []): FakeBackend {
  const fake = installFake(new FakeBackend([]));
  fake.desks = desks;
  fake.status.office = fake.officeView("receiver");
  return fake;
}

async function openSettings(fake: FakeBackend) {
  const app = await startTestApp();
  $("nav-settings").click();
  await flush();
  return { fake, app };
}

const has = (testid: string) => $$(testid).length > 0;
const labelOf = (input: HTMLElement) => document.querySelector(`label[for="${input.id}"]`)?.textContent ?? "";

function paste(testid: string, value: string): void {
  type($(testid) as HTMLInputElement, value);
}

describe("office card, on its own", () => {
  afterEach(() => {
    setLanguage("tr");
    cleanup();
  });

  it("says what office mode is, offers the receiver switch and the form to join a receiver", async () => {
    await openSettings(installFake(new FakeBackend([])));
    expect($("settings-office").dataset.role).toBe("alone");
    expect($("office-intro").textContent).toBe(t("office.intro"));
    const sw = $("office-receiver") as HTMLInputElement;
    expect(sw.getAttribute("role")).toBe("switch");
    expect(sw.checked).toBe(false);
    expect(labelOf(sw)).toBe("Bu bilgisayar ofisin alıcısı olsun");
    const code = $("office-join-code");
    expect(code.tagName).toBe("TEXTAREA");
    expect(labelOf(code)).toBe("Ofis alıcısına bağlan");
    const join = $("office-join-button") as HTMLButtonElement;
    expect(join.disabled).toBe(true);
    paste("office-join-code", "KANCA1-abc");
    expect(join.disabled).toBe(false);
    for (const receiverOnly of ["office-serving", "office-desks", "office-leave"]) expect(has(receiverOnly), receiverOnly).toBe(false);
  });

  it("the switch makes this computer the receiver: its address, fingerprint and desks show in place of the form", async () => {
    const { fake } = await openSettings(installFake(new FakeBackend([])));
    const sw = $("office-receiver") as HTMLInputElement;
    sw.click();
    await flush();
    expect(fake.calledWith("set_office_receiver")).toEqual([{ on: true }]);
    expect($("settings-office").dataset.role).toBe("receiver");
    expect($("office-receiver")).toBe(sw);
    expect(sw.checked).toBe(true);
    expect($("office-serving").textContent).toBe("Masalar bu adresten bağlanır: 192.168.1.10:8498");
    expect($("office-fingerprint").textContent).toBe("3F9A 0C27 D41B E856…");
    expect($("office-fingerprint").className).toContain("cred-value");
    $("office-fingerprint-copy").click();
    await flush();
    expect(fake.calledWith("copy_text")).toEqual([{ text: FAKE_FINGERPRINT }]);
    expect($("office-desk-list").textContent).toBe("Henüz masa yok.");
    expect(has("office-join")).toBe(false);
    // Saved at once, as every setting is.
    expect($("settings-saved").textContent).toContain("Kaydedildi");
  });

  it("join errors are said under the code, in words chosen by their code", async () => {
    const { fake } = await openSettings(installFake(new FakeBackend([])));
    const seen = new Set<string>();
    for (const code of ["bad_pairing_code", "office_unreachable", "office_refused", "settings"] as const) {
      fake.failures.set("join_office", { code, message: "technical detail" });
      paste("office-join-code", "KANCA1-eyJhZGRyIjoiMTAuMC4wLjI6ODQ5OCJ9");
      $("office-join-button").click();
      await flush();
      const error = $("office-join-error");
      expect(error.textContent, code).toBe(t(`errcode.${code}`));
      expect(error.getAttribute("role")).toBe("alert");
      expect($("office-join-code").getAttribute("aria-invalid")).toBe("true");
      expect($("office-join-code").getAttribute("aria-describedby")).toContain(error.id);
      expect(has("office-joining")).toBe(false);
      seen.add(error.textContent ?? "");
    }
    expect(seen.size).toBe(4);
    expect([...seen][0]).toContain("KANCA1-");
    expect(has("error-banner")).toBe(false);
  });

  it("speaks English, with the backend's detail after the words", async () => {
    const fake = installFake(new FakeBackend([]));
    fake.settings.language = "en";
    fake.failures.set("join_office", { code: "office_unreachable", message: "connect 10.0.0.2:8498: timed out" });
    await openSettings(fake);
    expect(labelOf($("office-receiver"))).toBe("Make this computer the office's receiver");
    paste("office-join-code", "KANCA1-x");
    $("office-join-button").click();
    await flush();
    expect($("office-join-error").textContent).toBe("The office receiver cannot be reached; is the receiver switched on and on the same network? (connect 10.0.0.2:8498: timed out)");
  });

  it("while joining it sends the pasted code and says Kanca restarts, until the window goes", async () => {
    const fake = installFake(new FakeBackend([]));
    let release!: () => void;
    fake.gates.set("join_office", new Promise<void>((r) => (release = r)));
    await openSettings(fake);
    paste("office-join-code", "  KANCA1-eyJ0b2tlbiI6Ingi\n");
    $("office-join-button").click();
    await flush();
    expect(fake.calledWith("join_office")).toEqual([{ code: "KANCA1-eyJ0b2tlbiI6Ingi" }]);
    expect($("office-joining").textContent).toBe("Bağlanıyor… Kanca yeniden başlıyor");
    expect(($("office-join-button") as HTMLButtonElement).disabled).toBe(true);
    release();
    await flush();
    expect(fake.restartedAs).toBe("desk");
    expect($("office-joining").textContent).toBe("Bağlanıyor… Kanca yeniden başlıyor");
    expect(has("office-join-error")).toBe(false);
  });
});

describe("office card, the receiver", () => {
  afterEach(cleanup);

  const desks = (): ClientInfo[] => [
    { name: "Resepsiyon", paired_at: ago(2 * 24 * 60 * MIN), last_seen: ago(3 * MIN), revoked: false },
    { name: "Muhasebe", paired_at: ago(3 * 24 * 60 * MIN), last_seen: null, revoked: true },
  ];

  it("lists the desks with when they were paired and last seen, and removes one after asking", async () => {
    const { fake } = await openSettings(receiverFake(desks()));
    const rows = $$("office-desk");
    expect(rows.map((r) => $("office-desk-name", r).textContent)).toEqual(["Resepsiyon", "Muhasebe"]);
    expect(rows.map((r) => $("office-desk-seen", r).textContent)).toEqual(["son görülme: 3 dk önce", "henüz bağlanmadı"]);
    expect(rows[0]!.textContent).toContain("eşlendi: ");
    expect(rows.map((r) => r.textContent?.includes("Kaldırıldı"))).toEqual([false, true]);
    const remove = $$("office-desk-revoke");
    expect(remove.length).toBe(1);
    expect(remove[0]!.getAttribute("aria-label")).toBe("Resepsiyon masasını kaldır");

    remove[0]!.click();
    expect($("revoke-desk-dialog").textContent).toContain("Resepsiyon masası kaldırılsın mı?");
    $("confirm-cancel").click();
    await flush();
    expect(fake.calledWith("revoke_desk")).toEqual([]);

    remove[0]!.click();
    $("confirm-ok").click();
    await flush();
    expect(fake.calledWith("revoke_desk")).toEqual([{ name: "Resepsiyon" }]);
    expect($$("office-desk-revoke").length).toBe(0);
    expect($$("office-desk").map((r) => r.textContent?.includes("Kaldırıldı"))).toEqual([true, true]);
  });

  it("adding a desk shows its code once: read-only, monospace, with a copy button", async () => {
    const { fake } = await openSettings(receiverFake(desks()));
    const reads = fake.calledWith("get_office").length;
    expect(has("office-code-box")).toBe(false);
    expect(($("office-add-desk") as HTMLButtonElement).disabled).toBe(true);
    paste("office-desk-name-input", " Depo ");
    $("office-add-desk").click();
    await flush();
    expect(fake.calledWith("add_desk")).toEqual([{ name: "Depo" }]);
    const box = $("office-code") as HTMLTextAreaElement;
    expect(box.tagName).toBe("TEXTAREA");
    expect(box.readOnly).toBe(true);
    expect(box.className).toContain("office-code");
    expect(box.value).toMatch(/^KANCA1-/);
    expect(labelOf(box)).toBe("Depo masasının eşleştirme kodu");
    expect($("office-code-once").textContent).toContain("yalnızca bir kez");
    expect(document.activeElement).toBe(box);
    $("office-code-copy").click();
    await flush();
    expect(fake.calledWith("copy_text")).toEqual([{ text: box.value }]);
    // The list is read again: the new desk is in it.
    expect(fake.calledWith("get_office").length).toBeGreaterThan(reads);
    expect($$("office-desk-name").map((e) => e.textContent)).toEqual(["Resepsiyon", "Muhasebe", "Depo"]);
    expect(($("office-desk-name-input") as HTMLInputElement).value).toBe("");

    // Shown once: gone after leaving Settings.
    $("nav-history").click();
    await flush();
    $("nav-settings").click();
    await flush();
    expect(has("office-code-box")).toBe(false);
  });

  it("a name already taken is said under the field, and no code shows", async () => {
    await openSettings(receiverFake(desks()));
    paste("office-desk-name-input", "Resepsiyon");
    $("office-add-desk").click();
    await flush();
    expect($("office-add-desk-error").textContent).toBe(t("errcode.bad_desk_name"));
    expect($("office-desk-name-input").getAttribute("aria-invalid")).toBe("true");
    expect(has("office-code-box")).toBe(false);
  });

  it("a receiver that cannot serve says why instead of an address", async () => {
    const fake = receiverFake();
    fake.status.office = { role: "receiver", desk: null, receiver: { addr: null, fingerprint: null, error: "0.0.0.0:8498: address in use", desks: [] } };
    await openSettings(fake);
    expect($("office-server-error").textContent).toBe("Masalar için sunucu başlatılamadı: 0.0.0.0:8498: address in use");
    expect(has("office-serving")).toBe(false);
    expect(has("office-fingerprint")).toBe(false);
  });
});

describe("a desk", () => {
  afterEach(cleanup);

  it("the office card shows the connection by state, the receiver, the desk's name and the error as detail", async () => {
    const fake = deskFake({ state: "connecting" });
    await openSettings(fake);
    expect($("settings-office").dataset.role).toBe("desk");
    const line = $("office-desk-line");
    expect($("office-desk-receiver").textContent).toBe(FAKE_OFFICE_ADDR);
    expect($("office-desk-own-name").textContent).toBe("Resepsiyon");
    const words: [DeskStatus["state"], string][] = [
      ["connecting", "Bağlanıyor…"],
      ["catching_up", "Eksikleri alıyor…"],
      ["connected", "Bağlı"],
      ["unreachable", "Ulaşılamıyor — yeniden deneniyor"],
      ["refused", "Alıcı bu masayı reddetti — yeniden eşleştirin"],
    ];
    for (const [state, text] of words) {
      const error = state === "unreachable" ? "connection refused (os error 111)" : null;
      await emitEvent("status-changed", { ...fake.status, office: { role: "desk", desk: desk({ state, error }), receiver: null } });
      expect($("office-desk-line")).toBe(line);
      expect(line.dataset.state).toBe(state);
      expect($("office-desk-state").textContent).toBe(text);
      expect(has("office-desk-error")).toBe(error !== null);
      if (error) expect($("office-desk-error").textContent).toBe(error);
    }
    for (const aloneOnly of ["office-receiver", "office-join", "office-desks"]) expect(has(aloneOnly), aloneOnly).toBe(false);
  });

  it("Settings hides the receiver's business and the office card says the receiver handles it", async () => {
    const { fake } = await openSettings(deskFake());
    for (const receiverOnly of ["settings-tunnel", "tunnel-test", "settings-listener", "settings-webhook-form", "settings-webhook-url", "settings-api-state", "settings-api-token"]) {
      expect(has(receiverOnly), receiverOnly).toBe(false);
    }
    expect($("office-desk-handles").textContent).toContain("alıcıda ayarlanır");
    expect(has("settings-dnd")).toBe(true);
    expect(has("settings-language")).toBe(true);
    expect(fake.calledWith("get_tunnel_settings")).toEqual([]);
  });

  it("on its own the same sections show (the hiding is the desk's)", async () => {
    await openSettings(installFake(new FakeBackend([])));
    for (const section of ["settings-tunnel", "settings-listener", "settings-api-state", "settings-office"]) expect(has(section), section).toBe(true);
  });

  it("'Bağlantıyı kes' asks first, saying this computer works on its own again with its own history", async () => {
    const { fake } = await openSettings(deskFake());
    $("office-leave").click();
    const body = $("leave-office-dialog").textContent ?? "";
    expect(body).toContain("kendi başına");
    expect(body).toContain("kendi geçmişiyle");
    $("confirm-cancel").click();
    await flush();
    expect(fake.calledWith("leave_office")).toEqual([]);
    $("office-leave").click();
    $("confirm-ok").click();
    await flush();
    expect(fake.calledWith("leave_office")).toEqual([{}]);
    expect($("office-leaving").textContent).toBe("Kanca yeniden başlıyor…");
    expect(($("office-leave") as HTMLButtonElement).disabled).toBe(true);
  });

  it("the first-run guide does not ask a desk to set up the webhook", async () => {
    const fake = deskFake();
    fake.settings.first_run_done = false;
    await startTestApp();
    expect(has("guide")).toBe(true);
    expect(has("guide-desk")).toBe(true);
    for (const webhookStep of ["guide-webhook-url", "send-test-event", "guide-leave-empty", "guide-choose-tunnel"]) expect(has(webhookStep), webhookStep).toBe(false);
    expect($("guide").textContent).toContain("alıcıda ayarlanır");
    $("guide-desk-settings").click();
    await flush();
    expect(has("settings-office")).toBe(true);
  });

  it("the sidebar shows the connection, and warns while the receiver cannot be reached, leading to Settings", async () => {
    const fake = deskFake();
    await startTestApp();
    expect($("listener-status").textContent).toContain("Ofise bağlı");
    expect(has("sidebar-tunnel")).toBe(false);
    expect(has("sidebar-office-warning")).toBe(false);
    for (const state of ["unreachable", "refused"] as const) {
      await emitEvent("status-changed", { ...fake.status, office: { role: "desk", desk: desk({ state, error: "timed out" }), receiver: null } });
      const warning = $("sidebar-office-warning");
      expect(warning.tagName).toBe("BUTTON");
      expect(warning.textContent).toBe("Ofis alıcısına ulaşılamıyor");
      expect(warning.getAttribute("title")).toBe("timed out");
    }
    $("sidebar-office-warning").click();
    await flush();
    expect(document.getElementById("app")!.dataset.view).toBe("settings");
    await emitEvent("status-changed", { ...fake.status, office: { role: "desk", desk: desk({ state: "connected" }), receiver: null } });
    expect(has("sidebar-office-warning")).toBe(false);
  });

  it("a receiver that shares no phone book (PostgreSQL): the contacts view says so and offers no writes", async () => {
    const fake = deskFake({ no_phone_book: true }, new FakeBackend([sampleCall({ uuid: "pb-1", caller: "902125550000" })]));
    await startTestApp();
    $("nav-contacts").click();
    await flush();
    expect($("contacts-not-shared").textContent).toBe(t("contacts.notShared"));
    expect($("contacts-not-shared").textContent).toContain("PostgreSQL");
    for (const write of ["contacts-add", "contacts-import", "contacts-export-vcard"]) expect(has(write), write).toBe(false);
    expect($("contacts-count").textContent).not.toContain("ekleyin");
    // Nor does a call offer "Kişilere ekle": not in its menu, not in its detail.
    $("nav-history").click();
    await flush();
    const row = $$("call-row").find((r) => r.dataset.uuid === "pb-1")!;
    row.dispatchEvent(new MouseEvent("contextmenu", { bubbles: true, cancelable: true, button: 2, clientX: 120, clientY: 80 }));
    expect(has("row-menu-open")).toBe(true);
    expect(has("row-menu-contact")).toBe(false);
    key(document.activeElement!, "Escape");
    row.click();
    await flush(8);
    expect(has("detail-add-contact")).toBe(false);
    // Back with a receiver that shares one: the usual view, once it is shown again.
    await emitEvent("status-changed", { ...fake.status, office: { role: "desk", desk: desk(), receiver: null } });
    $("nav-history").click();
    await flush();
    $("nav-contacts").click();
    await flush();
    expect(has("contacts-not-shared")).toBe(false);
    expect(has("contacts-add")).toBe(true);
    $("nav-history").click();
    await flush();
    $$("call-row").find((r) => r.dataset.uuid === "pb-1")!.dispatchEvent(new MouseEvent("contextmenu", { bubbles: true, cancelable: true, button: 2, clientX: 120, clientY: 80 }));
    expect(has("row-menu-contact")).toBe(true);
    key(document.activeElement!, "Escape");
    $$("call-row").find((r) => r.dataset.uuid === "pb-1")!.click();
    await flush(8);
    expect(has("detail-add-contact")).toBe(true);
  });
});

describe("shared-changed", () => {
  afterEach(cleanup);

  const NOW_US = Date.now() * 1000;

  async function start(fake: FakeBackend) {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    installFake(fake);
    return startTestApp();
  }

  const getCalls = (fake: FakeBackend, uuid: string) => fake.calledWith("get_call").filter((a) => a?.uuid === uuid).length;

  it("a burst is read once after 150 ms of quiet, and the open call only when it is the one that changed", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "open", startedAtUs: NOW_US }), sampleCall({ uuid: "other", startedAtUs: NOW_US - 60_000_000 })]);
    const app = await start(fake);
    app.openCall("open");
    await flush();
    const openReads = getCalls(fake, "open");
    // Written at another desk: the receiver has it, this window has not read it yet.
    fake.notes.set("open", { note: "Başka masadan not", tags: ["fatura"] });
    fake.notes.set("other", { note: "Öteki aramanın notu", tags: [] });

    for (let i = 0; i < 3; i++) {
      await emitEvent("shared-changed", { what: "call", uuid: "other" });
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(getCalls(fake, "other")).toBe(0);
    await vi.advanceTimersByTimeAsync(110);
    expect(getCalls(fake, "other")).toBe(1);
    expect(getCalls(fake, "open")).toBe(openReads);
    expect(($("detail-note") as HTMLTextAreaElement).value).toBe("");
    expect(app.history.items.find((c) => c.uuid === "other")?.note).toBe("Öteki aramanın notu");

    await emitEvent("shared-changed", { what: "call", uuid: "open" });
    await vi.advanceTimersByTimeAsync(160);
    await flush();
    expect(($("detail-note") as HTMLTextAreaElement).value).toBe("Başka masadan not");
    expect(app.history.items.find((c) => c.uuid === "open")?.tags).toEqual(["fatura"]);
  });

  it("contacts and names read the list, the open call and the phone book again; tags their colours", async () => {
    const fake = new FakeBackend([sampleCall({ uuid: "c1", startedAtUs: NOW_US, caller: "905324445566" })]);
    const app = await start(fake);
    $("nav-contacts").click();
    await flush();
    expect($$("contact-row").length).toBe(0);
    app.openCall("c1");
    await flush();
    const searches = fake.calledWith("search_calls").length;
    const reads = getCalls(fake, "c1");
    fake.contacts.push({ id: 7, name: "Ayşe Yılmaz", company: null, numbers: [{ raw: "0532 444 55 66", e164: "+905324445566", label: null }], email: null, note: null, tags: [], source: "typed" });

    await emitEvent("shared-changed", { what: "contacts", uuid: null });
    await emitEvent("shared-changed", { what: "names", uuid: null });
    expect(fake.calledWith("search_calls").length).toBe(searches);
    await vi.advanceTimersByTimeAsync(160);
    await flush();
    expect(fake.calledWith("search_calls").length).toBe(searches + 1);
    expect(getCalls(fake, "c1")).toBe(reads + 1);
    expect($("call-detail").textContent).toContain("Ayşe Yılmaz");
    expect(app.contacts.items.map((c) => c.name)).toEqual(["Ayşe Yılmaz"]);

    const tagReads = fake.calledWith("list_tags").length;
    fake.tagColours.set("acil", "red");
    await emitEvent("shared-changed", { what: "tags", uuid: null });
    await vi.advanceTimersByTimeAsync(160);
    expect(fake.calledWith("list_tags").length).toBe(tagReads + 1);
    expect(app.tags.colourOf("acil")).toBe("red");
  });
});
