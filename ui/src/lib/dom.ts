// Small DOM builders. Text always goes in through textContent / text nodes, never as markup:
// there is no innerHTML anywhere in the app, and attributes that could run code are refused.

export type Child = Node | string | number | null | undefined | false;

type Handlers = { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };

export interface Props {
  class?: string | readonly (string | false | null | undefined)[];
  text?: string;
  testid?: string;
  id?: string;
  title?: string;
  /** Attributes, set with setAttribute. null/undefined/false leave the attribute out. */
  attrs?: Record<string, string | number | boolean | null | undefined>;
  dataset?: Record<string, string>;
  on?: Handlers;
}

function assertSafeAttr(name: string): void {
  const n = name.toLowerCase();
  if (n.startsWith("on") || n === "style" || n === "srcdoc") {
    throw new Error(`refusing to set attribute ${name}`);
  }
}

export function className(c: Props["class"]): string {
  if (c === undefined) return "";
  if (typeof c === "string") return c;
  return c.filter(Boolean).join(" ");
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

function applyProps(el: Element, props: Props | undefined): void {
  if (!props) return;
  const cls = className(props.class);
  if (cls) el.setAttribute("class", cls);
  if (props.id) el.id = props.id;
  if (props.title) el.setAttribute("title", props.title);
  if (props.testid) el.setAttribute("data-testid", props.testid);
  if (props.attrs) {
    for (const [k, v] of Object.entries(props.attrs)) {
      assertSafeAttr(k);
      if (v === null || v === undefined || v === false) continue;
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  if (props.dataset) {
    for (const [k, v] of Object.entries(props.dataset)) (el as HTMLElement).dataset[k] = v;
  }
  if (props.on) {
    for (const [type, handler] of Object.entries(props.on)) {
      if (handler) el.addEventListener(type, handler as EventListener);
    }
  }
  if (props.text !== undefined) el.textContent = props.text;
}

/** createElement with props and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyProps(el, props ?? undefined);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** createElementNS for SVG; attributes are static strings from the code, never data. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: SVGElement[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    assertSafeAttr(k);
    el.setAttribute(k, String(v));
  }
  for (const c of children) el.appendChild(c);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Replaces an element's children. */
export function replaceChildren(el: Element, ...children: Child[]): void {
  clear(el);
  append(el, children);
}

/**
 * Makes `parent`'s children exactly `nodes` (falsy entries skipped), in order, moving as little as
 * possible: a node that stays where it is is not touched, so the focus, caret and half-typed text
 * inside it survive. How a view shows and hides its optional parts without rebuilding the rest.
 */
export function syncChildren(parent: Node, ...nodes: (Node | null | undefined | false)[]): void {
  const wanted = nodes.filter((n): n is Node => !!n);
  const keep = new Set(wanted);
  for (const c of [...parent.childNodes]) if (!keep.has(c)) parent.removeChild(c);
  wanted.forEach((n, i) => {
    const at = parent.childNodes[i] ?? null;
    if (at !== n) parent.insertBefore(n, at);
  });
}

/** Sets a node's text when it differs (an unchanged line is left alone). */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Sets a property (disabled, hidden, checked) when it differs: even an unchanged write of a
 * reflected property rewrites its attribute. */
export function setProp<E extends object, K extends keyof E>(el: E, key: K, value: E[K]): void {
  if (el[key] !== value) el[key] = value;
}

/** Sets an attribute, or removes it for null/undefined/false, when it differs. */
export function setAttr(el: Element, name: string, value: string | null | undefined | false): void {
  assertSafeAttr(name);
  if (value === null || value === undefined || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

/** Runs fn after `ms` of quiet; `flush` runs a pending call now, `cancel` drops it. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: A | null = null;
  const run = () => {
    timer = null;
    const args = pending;
    pending = null;
    if (args) fn(...args);
  };
  const debounced = (...args: A) => {
    pending = args;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  debounced.flush = () => {
    if (timer !== null) {
      clearTimeout(timer);
      run();
    }
  };
  debounced.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending = null;
  };
  return debounced;
}

let uid = 0;
/** A unique id for label/aria wiring. */
export function nextId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** True when a keyboard event comes from a text field, where letters and "/" are typing. */
export function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["checkbox", "radio", "button", "submit", "reset", "range", "color"].includes(target.type);
  }
  return false;
}
