// Settings > Notifications: whether pop-ups can be shown at all, do not disturb, which events pop
// up, only my extensions, and the extensions themselves (./extensions.ts).

import { h, nextId, setProp, setText, syncChildren } from "../../lib/dom";
import { t } from "../../lib/i18n";
import type { AppStatus, PopupEvents, Settings } from "../../lib/types";
import { section, switchField } from "../ui";
import { ExtensionsEditor } from "./extensions";
import type { SettingsHost, SettingsSection } from "./section";

const POPUP_KEYS: readonly (keyof PopupEvents)[] = ["call_init", "routed", "missed", "fax", "outgoing"];

interface Parts {
  card: HTMLElement;
  head: Node[];
  unavailable: HTMLElement;
  dnd: HTMLInputElement;
  rest: Node[];
  popups: Map<keyof PopupEvents, HTMLInputElement>;
  onlyMine: HTMLInputElement;
}

export class NotificationsSection implements SettingsSection {
  private readonly extensions: ExtensionsEditor;
  private parts: Parts;

  constructor(private readonly host: SettingsHost) {
    this.extensions = new ExtensionsEditor(host);
    this.parts = this.build();
  }

  get el(): HTMLElement {
    return this.parts.card;
  }

  rebuild(): void {
    this.extensions.rebuild();
    this.parts = this.build();
  }

  private build(): Parts {
    const popups = new Map<keyof PopupEvents, HTMLInputElement>();
    const group = h("div", { class: "checks", attrs: { role: "group", "aria-label": t("settings.notifications") } });
    for (const key of POPUP_KEYS) {
      const id = nextId("popup");
      const input = h("input", { id, testid: `settings-popup-${key}`, attrs: { type: "checkbox" } });
      input.addEventListener("change", () => {
        const current = this.host.ctx.settings();
        if (!current) return;
        void this.host.save({ popup_events: { ...current.popup_events, [key]: input.checked } });
      });
      popups.set(key, input);
      group.appendChild(h("label", { class: "check", attrs: { for: id } }, input, h("span", { text: t(`settings.popup.${key}`) })));
    }
    const onlyMine = switchField({
      label: t("settings.onlyMine"),
      hint: t("settings.onlyMineHint"),
      checked: false,
      testid: "settings-only-mine",
      onChange: (v) => void this.host.save({ only_my_extensions: v }),
    });
    const dnd = switchField({
      label: t("settings.dnd"),
      hint: t("settings.dndHint"),
      checked: false,
      testid: "settings-dnd",
      onChange: (v) => void this.host.save({ dnd: v }),
    });
    const card = section(t("settings.notifications"));
    return {
      card,
      head: [...card.childNodes],
      unavailable: h("p", { class: "inline-warning", testid: "settings-notifications-unavailable" }),
      dnd: dnd.input,
      rest: [dnd.root, h("p", { class: "field-hint", text: t("settings.notificationsHint") }), group, onlyMine.root, this.extensions.el],
      popups,
      onlyMine: onlyMine.input,
    };
  }

  update(status: AppStatus | null, settings: Settings | null): void {
    const p = this.parts;
    const notif = status?.notifications;
    const unavailable = !!notif && !notif.available;
    if (unavailable) setText(p.unavailable, t("settings.notificationsUnavailable", { error: notif.error ?? "—" }));
    syncChildren(p.card, ...p.head, unavailable && p.unavailable, ...p.rest);
    if (!settings) return;
    setProp(p.dnd, "checked", settings.dnd);
    for (const [key, input] of p.popups) input.checked = settings.popup_events[key];
    setProp(p.onlyMine, "checked", settings.only_my_extensions);
    this.extensions.update(settings);
  }
}
