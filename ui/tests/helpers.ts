// Test helpers: the fake backend behind mockIPC, starting the app, waiting for async work.

import { clearMocks, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { vi } from "vitest";
import { App, startApp } from "../src/app";
import { FakeBackend } from "../src/dev/fakeBackend";
import type { Call } from "../src/lib/types";

export { FakeBackend };

/** Installs a fake backend behind Tauri's mocked IPC (commands and events). */
export function installFake(fake: FakeBackend = new FakeBackend()): FakeBackend {
  mockWindows("main");
  mockIPC((cmd, args) => fake.handle(cmd, args as Record<string, unknown> | undefined), { shouldMockEvents: true });
  fake.emit = (event, payload) => void emit(event, payload);
  return fake;
}

/** Sends an event from "the backend" to the app. */
export async function emitEvent(event: string, payload: unknown): Promise<void> {
  await emit(event, payload);
  await flush();
}

/** Lets pending promises and zero-delay timers run. Works with real and fake timers. */
export async function flush(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(0);
    else await new Promise((r) => setTimeout(r, 0));
  }
}

let current: App | null = null;

export async function startTestApp(): Promise<App> {
  document.body.replaceChildren();
  const root = document.createElement("div");
  root.id = "app";
  document.body.appendChild(root);
  current = await startApp(root);
  await flush();
  return current;
}

export function cleanup(): void {
  current?.destroy();
  current = null;
  document.body.replaceChildren();
  clearMocks();
  vi.useRealTimers();
}

export function $(testid: string, root: ParentNode = document): HTMLElement {
  const el = root.querySelector<HTMLElement>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no element with data-testid="${testid}"`);
  return el;
}

export function $$(testid: string, root: ParentNode = document): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(`[data-testid="${testid}"]`)];
}

export function rowUuids(): string[] {
  return $$("call-row")
    .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
    .map((r) => r.dataset.uuid ?? "");
}

export function key(target: EventTarget, k: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(e);
  return e;
}

export function type(input: HTMLInputElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

export function searches(fake: FakeBackend): Record<string, unknown>[] {
  return fake.calledWith("search_calls").map((a) => (a as { query: Record<string, unknown> }).query);
}

export function withTest(call: Call, test: boolean): Call {
  return { ...call, test };
}

/**
 * The DOM changes under `root` while `action` runs, in words ("characterData on SPAN last-event"),
 * so a test can say a status change touched nothing, or only what it concerns.
 */
export async function domChanges(root: Node, action: () => Promise<unknown>): Promise<string[]> {
  const records: MutationRecord[] = [];
  const observer = new MutationObserver((r) => records.push(...r));
  observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
  await action();
  records.push(...observer.takeRecords());
  observer.disconnect();
  return records.map((c) => {
    const el = c.target instanceof Element ? c.target : c.target.parentElement;
    const what = el?.getAttribute("data-testid") || el?.getAttribute("class") || "";
    return `${c.type}${c.attributeName ? ` ${c.attributeName}` : ""} on ${el?.tagName ?? "?"} ${what}`.trim();
  });
}
