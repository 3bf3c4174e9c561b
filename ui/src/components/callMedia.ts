// A call's recording and a fax's pages, fetched from Bulutfon's API through the engine on demand
// (the window never holds the API key): "Kaydı dinle" plays the recording in an <audio> element,
// "Faksı göster" shows each page as an image, "Kaydet" writes the fax as PDF or TIFF to the
// Downloads folder. Both only when the API is connected (on an office desk: when its receiver's
// is); media load from Kanca's own scheme,
// the only media source the CSP allows.

import * as backend from "../lib/backend";
import { h, replaceChildren } from "../lib/dom";
import { t } from "../lib/i18n";
import type { CallDetail } from "../lib/types";
import { button } from "./ui";
import type { AppContext } from "./view";

export function mediaCard(c: CallDetail, ctx: AppContext): HTMLElement | null {
  const status = ctx.status();
  const api = status?.api;
  // A desk of an office fetches through its receiver, when the receiver has the API.
  const throughReceiver = status?.office?.desk?.media === true;
  if (!throughReceiver && (!api || api.state === "off")) return null;
  if (c.kind === "fax") return faxCard(c.uuid, ctx);
  if (c.recorded === true) return recordingCard(c.uuid, ctx);
  return null;
}

function recordingCard(uuid: string, ctx: AppContext): HTMLElement {
  const body = h("div", { class: "media-body" });
  const card = h("section", { class: "card media-card", testid: "detail-recording" }, h("h2", { class: "card-title", text: t("media.recording") }), body);
  const play = button({
    label: t("media.listen"),
    icon: "send",
    testid: "detail-listen",
    onClick: async () => {
      play.disabled = true;
      try {
        // WebKitGTK's media player cannot read a custom scheme itself: the bytes are fetched
        // from it and handed over as a blob (which WebView2 and WKWebView play as well).
        const res = await fetch(backend.mediaUrl(`recording/${encodeURIComponent(uuid)}`));
        if (!res.ok) throw new backend.BackendError(res.status === 403 ? "bad_token" : "api_unavailable", await res.text());
        const audio = h("audio", { testid: "detail-audio", attrs: { controls: "", preload: "auto" } });
        audio.src = URL.createObjectURL(await res.blob());
        replaceChildren(body, audio);
        void audio.play().catch(() => {
          /* autoplay may be refused; the controls are there */
        });
      } catch (e) {
        play.disabled = false;
        ctx.notify.error(e);
      }
    },
  });
  replaceChildren(body, play);
  return card;
}

function faxCard(uuid: string, ctx: AppContext): HTMLElement {
  const pages = h("div", { class: "fax-pages", testid: "fax-pages" });
  const actions = h("div", { class: "card-actions" });
  const card = h("section", { class: "card media-card", testid: "detail-fax" }, h("h2", { class: "card-title", text: t("media.fax") }), pages, actions);
  const save = (pdf: boolean) => async () => {
    try {
      const path = await backend.saveFax(uuid, pdf);
      ctx.notify.toast(t("media.saved", { path }));
    } catch (e) {
      ctx.notify.error(e);
    }
  };
  const show = button({
    label: t("media.showFax"),
    icon: "eye",
    testid: "detail-show-fax",
    onClick: async () => {
      show.disabled = true;
      replaceChildren(pages, h("p", { class: "muted", text: t("media.loading") }));
      try {
        const count = await backend.faxPageCount(uuid);
        const imgs = Array.from({ length: count }, (_, i) =>
          h("img", {
            class: "fax-page",
            testid: "fax-page",
            attrs: { src: backend.mediaUrl(`fax/${encodeURIComponent(uuid)}/${i + 1}`), alt: t("media.page", { n: i + 1, total: count }), loading: "lazy" },
          }),
        );
        replaceChildren(pages, ...imgs);
        replaceChildren(
          actions,
          button({ label: t("media.savePdf"), icon: "copy", testid: "detail-save-fax-pdf", onClick: () => void save(true)() }),
          button({ label: t("media.saveTiff"), variant: "ghost", testid: "detail-save-fax-tiff", onClick: () => void save(false)() }),
        );
      } catch (e) {
        replaceChildren(pages);
        show.disabled = false;
        ctx.notify.error(e);
      }
    },
  });
  replaceChildren(actions, show);
  return card;
}
