// Dev-only demo: `npm run dev`, then open http://localhost:1420/?demo in a browser to try the UI
// without the Rust side. Serves 20,000 sample calls and simulates a live call now and then.
// `?demo&empty` starts with no calls, `?demo&firstrun` shows the first-run guide,
// `?demo&failed` shows a listener that failed to start, `?demo&en` starts in English,
// `?demo&ngrok` starts with ngrok online on a static domain, `?demo&cloudflared` with a quick
// tunnel (its URL changes on every start); otherwise the tunnel is off. `&receiver` makes this
// computer the office's receiver with two desks, `&desk` a desk that cannot reach its receiver.
// `&view=settings` opens the settings (or `faxes`, `guide`) right away.

import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { FakeBackend, onlineTunnel } from "./fakeBackend";
import { sampleCall, sampleCalls } from "./sample";

export function installDemoBackend(): FakeBackend {
  const params = new URLSearchParams(location.search);
  const fake = new FakeBackend(params.has("empty") ? [] : sampleCalls(20_000, Date.now() * 1000 - 90_000_000, 7, 900));
  fake.settings.language = params.has("en") ? "en" : params.has("system") ? null : "tr";
  if (params.has("firstrun")) fake.settings.first_run_done = false;
  if (params.has("failed")) {
    fake.status.listener = {
      state: "failed",
      addr: null,
      error: "127.0.0.1:8497 adresi kullanımda (address already in use)",
      hint: "Başka bir Kanca çalışıyor olabilir; kapatın veya KANCA_LISTEN ile başka bir port seçin.",
    };
    fake.status = fake.withUrls({ ...fake.status, webhook_url: null, local_webhook_url: null });
  }
  if (params.has("basic")) fake.status.webhook_form = "basic_auth";
  fake.status.last_event_at = new Date(Date.now() - 3 * 60_000).toISOString();
  // Tunnels take a moment to come up; the self-test a moment to come back.
  fake.tunnelOnlineAfterMs = 1500;
  fake.delays.set("test_connection", 800);
  fake.delays.set("save_tunnel_settings", 200);
  if (params.has("ngrok")) {
    fake.tunnelSettings = { mode: "ngrok", ngrok_authtoken: "2demoTOKEN_abcdefghijklmnop", ngrok_domain: "kanca-ofis.ngrok-free.app", cloudflared_path: null, own_url: null };
    fake.setTunnel(onlineTunnel("ngrok", "https://kanca-ofis.ngrok-free.app", false));
  } else if (params.has("cloudflared")) {
    fake.tunnelSettings = { mode: "cloudflared", ngrok_authtoken: null, ngrok_domain: null, cloudflared_path: null, own_url: null };
    fake.setTunnel(onlineTunnel("cloudflared", "https://rapid-frog-example.trycloudflare.com", true));
  }

  if (params.has("receiver")) {
    fake.desks = [
      { name: "Resepsiyon", paired_at: new Date(Date.now() - 2 * 86_400_000).toISOString(), last_seen: new Date(Date.now() - 4 * 60_000).toISOString(), revoked: false },
      { name: "Muhasebe", paired_at: new Date(Date.now() - 9 * 86_400_000).toISOString(), last_seen: null, revoked: true },
    ];
    fake.status.office = fake.officeView("receiver");
  } else if (params.has("desk")) {
    const since = new Date(Date.now() - 2 * 60_000).toISOString();
    fake.status.listener = { state: "off", addr: null, error: null, hint: null };
    fake.status.office = {
      role: "desk",
      desk: { state: "unreachable", receiver: "192.168.1.10:8498", name: "Resepsiyon", error: "bağlantı reddedildi (connection refused)", since, caught_up: 0, media: false, no_phone_book: false },
      receiver: null,
    };
  }

  mockWindows("main");
  mockIPC((cmd, args) => fake.handle(cmd, args as Record<string, unknown> | undefined), { shouldMockEvents: true });
  fake.emit = (event, payload) => {
    const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: (c: string, a: unknown) => Promise<unknown> } }).__TAURI_INTERNALS__;
    void internals.invoke("plugin:event|emit", { event, payload });
  };

  // `&view=settings` (or faxes, guide): open that view once the app has started.
  const view = params.get("view");
  if (view) setTimeout(() => fake.emit("navigate", { view }), 300);

  if (!params.has("quiet")) {
    let n = 0;
    setInterval(() => {
      n += 1;
      const call = sampleCall({
        uuid: `live-${Date.now().toString(36)}`,
        startedAtUs: Date.now() * 1000,
        caller: `90532${String(1000000 + n * 7919).slice(0, 7)}`,
        state: "ringing",
        route: [{ type: "menu", destination: "10", at: null }],
      });
      fake.upsert(call);
      setTimeout(() => {
        fake.upsert({ ...sampleCall({ uuid: call.uuid, startedAtUs: call.started_at_us, caller: call.caller_raw ?? undefined, state: n % 3 === 0 ? "missed" : "answered", durationS: 42 }) }, "call_hangup");
      }, 6000);
    }, 25_000);
  }
  return fake;
}
