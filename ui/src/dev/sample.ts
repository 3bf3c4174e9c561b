// Sample calls shaped like the backend's, for the dev demo (`npm run dev`, then /?demo) and the
// unit tests. Never part of the production bundle.

import type { Call, CallDetail, EventView, RouteStep } from "../lib/types";

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** "905324445566" → "0 532 444 55 66" */
export function displayTr(e164digits: string): string {
  const nsn = e164digits.replace(/^90/, "");
  return `0 ${nsn.slice(0, 3)} ${nsn.slice(3, 6)} ${nsn.slice(6, 8)} ${nsn.slice(8)}`;
}

export function uuidFor(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `f615986c-2001-11e5-bdee-${hex}`;
}

const COMPANY = "908508850000";

export interface SampleOptions {
  uuid?: string;
  startedAtUs?: number;
  kind?: Call["kind"];
  direction?: Call["direction"];
  state?: Call["state"];
  caller?: string; // e164 digits without '+'
  callee?: string;
  route?: RouteStep[];
  durationS?: number | null;
  test?: boolean;
}

/** One call, complete and consistent. */
export function sampleCall(o: SampleOptions = {}): Call {
  const started = o.startedAtUs ?? Date.now() * 1000;
  const state = o.state ?? "answered";
  const kind = o.kind ?? "call";
  const direction = o.direction ?? "in";
  const callerDigits = o.caller ?? "905324445566";
  const calleeDigits = o.callee ?? COMPANY;
  const duration = state === "ringing" ? null : o.durationS !== undefined ? o.durationS : state === "answered" ? 65 : 0;
  const endedUs = state === "ringing" ? null : started + (duration ?? 0) * 1_000_000 + 5_000_000;
  const isNum = (d: string) => /^\d{11,12}$/.test(d);
  const call: Call = {
    uuid: o.uuid ?? uuidFor(Math.floor(started / 1000)),
    kind,
    direction,
    caller: isNum(callerDigits) ? displayTr(callerDigits) : callerDigits,
    caller_raw: callerDigits,
    caller_e164: isNum(callerDigits) ? `+${callerDigits}` : null,
    callee: isNum(calleeDigits) ? displayTr(calleeDigits) : calleeDigits,
    callee_raw: calleeDigits,
    callee_e164: isNum(calleeDigits) ? `+${calleeDigits}` : null,
    started_at: new Date(started / 1000).toISOString(),
    ended_at: endedUs === null ? null : new Date(endedUs / 1000).toISOString(),
    answered: state === "ringing" ? null : state === "answered" || state === "ended",
    missed: state === "missed",
    state,
    // The engine's limit (SILENCE_LIMIT_US in src-tauri/core/src/call.rs): two hours of silence.
    ringing_until_us: state === "ringing" && kind === "call" ? started + 2 * 3600 * 1_000_000 : null,
    duration_s: duration,
    hangup_cause: state === "ringing" ? null : state === "missed" ? "NO_ANSWER" : "NORMAL_CLEARING",
    route: o.route ?? (kind === "fax" ? [] : [
      { type: "menu", destination: "10", at: null },
      { type: "group", destination: "111", at: null },
      { type: "extension", destination: "1000", at: null },
    ]),
    event_count: 5,
    test: o.test ?? false,
    started_at_us: started,
    ended_at_us: endedUs,
    caller_name: null,
    callee_name: null,
    note: null,
    tags: [],
  };
  return call;
}

/** `n` calls, newest first, one every `stepS` seconds back from `nowUs`. */
export function sampleCalls(n: number, nowUs = Date.now() * 1000, seed = 1, stepS = 600): Call[] {
  const r = rng(seed);
  const out: Call[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    const fax = x < 0.04;
    const state: Call["state"] = fax ? "ended" : x < 0.25 ? "missed" : x < 0.3 ? "ended" : "answered";
    const direction: Call["direction"] = !fax && r() < 0.3 ? "out" : "in";
    const num = `90532${String(Math.floor(r() * 1e7)).padStart(7, "0")}`;
    const ext = String(1000 + Math.floor(r() * 5));
    out.push(
      sampleCall({
        uuid: uuidFor(i + 1),
        startedAtUs: nowUs - i * stepS * 1_000_000 - Math.floor(r() * 1e6),
        kind: fax ? "fax" : "call",
        direction,
        state,
        caller: direction === "out" ? ext : num,
        callee: direction === "out" ? num : COMPANY,
        durationS: state === "answered" ? Math.floor(r() * 600) + 5 : 0,
        route:
          fax || direction === "out"
            ? []
            : [
                { type: "menu", destination: "10", at: null },
                { type: "group", destination: "111", at: null },
                { type: "extension", destination: ext, at: null },
              ],
      }),
    );
  }
  return out;
}

function event(type: string, us: number, body: Record<string, unknown>): EventView {
  return {
    type,
    received_type: type,
    timestamp: new Date(us / 1000).toISOString(),
    timestamp_us: us,
    received_at: new Date(us / 1000 + 40).toISOString(),
    content_type: "application/json",
    raw: JSON.stringify({ event_type: type, ...body, timestamp: us }),
    payload: { event_type: type, ...body, timestamp: us },
  };
}

/** The detail of a call: its events with raw bodies, the CDR's call flow. */
export function sampleDetail(call: Call): CallDetail {
  const base = {
    caller: call.caller_raw,
    callee: call.callee_raw,
    uuid: call.uuid,
    direction: call.direction.toUpperCase(),
  };
  const t0 = call.started_at_us;
  const events: EventView[] = [event(call.kind === "fax" ? "fax_init" : "call_init", t0, base)];
  call.route.forEach((step, i) => {
    events.push(event(`call_init_${step.type}`, t0 + (i + 1) * 1_000_000, { ...base, destination: step.destination }));
  });
  if (call.missed) events.push(event("missing_call", t0 + 20_000_000, base));
  const flow = call.route.map((step, i) => ({
    callee: step.destination,
    start_time: new Date(t0 / 1000 + i * 1000).toISOString(),
    answer_time: i === call.route.length - 1 && call.state === "answered" ? new Date(t0 / 1000 + 8000).toISOString() : null,
    hangup_time: call.ended_at,
    redirection: i < call.route.length - 1 ? `REDIRECTED_TO_${call.route[i + 1]!.type.toUpperCase()}` : null,
    redirection_target: i < call.route.length - 1 ? call.route[i + 1]!.destination : null,
  }));
  if (call.state !== "ringing" && call.ended_at_us !== null) {
    events.push(
      event("call_hangup", call.ended_at_us, {
        ...base,
        hangup_cause: call.hangup_cause,
        cdr: { uuid: call.uuid, call_record: false, hangup_cause: call.hangup_cause, sip_hangup_disposition: "recv_bye", callflow: flow },
      }),
    );
  }
  return {
    ...call,
    events,
    hangup_detail: call.state === "ringing" ? null : "recv_bye",
    recorded: call.state === "ringing" ? null : false,
    cdr_url: call.state === "ringing" ? null : `https://panel.bulutfon.com/cdrs/${call.uuid}`,
    cdr_api_url: null,
    callflow: call.state === "ringing" ? [] : flow,
  };
}
