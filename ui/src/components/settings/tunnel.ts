// Settings > How Bulutfon reaches Kanca: the card that holds the tunnel's status line
// (./tunnelStatus.ts), its form (./tunnelForm.ts) and the connection test (./connectionTest.ts).

import { h, syncChildren } from "../../lib/dom";
import { t } from "../../lib/i18n";
import type { AppStatus } from "../../lib/types";
import { section } from "../ui";
import { ConnectionTest } from "./connectionTest";
import type { SettingsHost, SettingsSection } from "./section";
import { TunnelForm } from "./tunnelForm";
import { TunnelStatusLine } from "./tunnelStatus";

export class TunnelSection implements SettingsSection {
  private readonly line = new TunnelStatusLine();
  private readonly form: TunnelForm;
  private readonly test: ConnectionTest;
  private card: HTMLElement;
  private head: Node[];
  private status: AppStatus | null = null;
  private mounted = false;
  private focusPending = false;

  constructor(host: SettingsHost) {
    this.test = new ConnectionTest(host.ctx);
    this.form = new TunnelForm(host.ctx, {
      saved: () => {
        this.test.clear();
        host.saved();
      },
      replaced: () => {
        this.layout();
        this.applyFocus();
      },
    });
    [this.card, this.head] = this.build();
  }

  get el(): HTMLElement {
    return this.card;
  }

  rebuild(): void {
    this.line.rebuild();
    this.form.rebuild();
    this.test.rebuild();
    [this.card, this.head] = this.build();
    this.layout();
  }

  private build(): [HTMLElement, Node[]] {
    const card = section(t("tunnel.title"), h("p", { class: "card-hint", text: t("tunnel.intro") }));
    card.classList.add("tunnel-card");
    card.setAttribute("data-testid", "settings-tunnel");
    return [card, [...card.childNodes]];
  }

  update(status: AppStatus | null): void {
    this.status = status;
    if (status) this.line.update(status);
    this.form.update(status);
    this.layout();
  }

  private layout(): void {
    syncChildren(this.card, ...this.head, this.status && this.line.el, this.form.el, this.status && this.test.el);
  }

  mount(): void {
    this.mounted = true;
    this.line.setActive(true);
    if (!this.form.loaded) void this.form.load();
    this.applyFocus();
  }

  unmount(): void {
    this.mounted = false;
    this.line.setActive(false);
  }

  /** Opened from the guide: focus the chosen way (once the form is there). */
  focusMode(): void {
    this.focusPending = true;
    this.applyFocus();
  }

  private applyFocus(): void {
    if (!this.focusPending || !this.mounted) return;
    const radio = this.form.modeRadio();
    if (!radio) return;
    this.focusPending = false;
    if (typeof this.card.scrollIntoView === "function") this.card.scrollIntoView({ block: "start" });
    radio.focus();
  }
}
