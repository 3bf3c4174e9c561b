// Inline SVG icons built with createElementNS: no external assets, nothing loaded from outside.
// Stroke shapes in the style of Feather icons (MIT).

import { svg } from "../lib/dom";

type Shape = [keyof SVGElementTagNameMap, Record<string, string | number>];

const PHONE =
  "M22 16.92v3a2 2 0 0 1-2.18 2 19.8 19.8 0 0 1-8.63-3.07 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.12 4.18 2 2 0 0 1 4.11 2h3a2 2 0 0 1 2 1.72c.13.96.36 1.9.7 2.81a2 2 0 0 1-.45 2.11L8.09 9.91a16 16 0 0 0 6 6l1.27-1.27a2 2 0 0 1 2.11-.45c.91.34 1.85.57 2.81.7A2 2 0 0 1 22 16.92z";

const SHAPES = {
  incoming: [
    ["line", { x1: 17, y1: 7, x2: 7, y2: 17 }],
    ["polyline", { points: "16 17 7 17 7 8" }],
  ],
  outgoing: [
    ["line", { x1: 7, y1: 17, x2: 17, y2: 7 }],
    ["polyline", { points: "8 7 17 7 17 16" }],
  ],
  missed: [
    ["line", { x1: 17, y1: 7, x2: 7, y2: 17 }],
    ["polyline", { points: "16 17 7 17 7 8" }],
    ["line", { x1: 14, y1: 4, x2: 20, y2: 10 }],
    ["line", { x1: 20, y1: 4, x2: 14, y2: 10 }],
  ],
  phone: [["path", { d: PHONE }]],
  fax: [
    ["polyline", { points: "6 9 6 2 18 2 18 9" }],
    ["path", { d: "M6 18H4a2 2 0 0 1-2-2v-5a2 2 0 0 1 2-2h16a2 2 0 0 1 2 2v5a2 2 0 0 1-2 2h-2" }],
    ["rect", { x: 6, y: 14, width: 12, height: 8 }],
  ],
  settings: [
    ["circle", { cx: 12, cy: 12, r: 3 }],
    [
      "path",
      {
        d: "M19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 1 1-4 0v-.09A1.65 1.65 0 0 0 9 19.4a1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06A1.65 1.65 0 0 0 4.68 15a1.65 1.65 0 0 0-1.51-1H3a2 2 0 1 1 0-4h.09A1.65 1.65 0 0 0 4.6 9a1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 2.83-2.83l.06.06A1.65 1.65 0 0 0 9 4.68a1.65 1.65 0 0 0 1-1.51V3a2 2 0 1 1 4 0v.09a1.65 1.65 0 0 0 1 1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06A1.65 1.65 0 0 0 19.4 9a1.65 1.65 0 0 0 1.51 1H21a2 2 0 1 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1z",
      },
    ],
  ],
  guide: [
    ["path", { d: "M2 4h6a4 4 0 0 1 4 4v13a3 3 0 0 0-3-3H2z" }],
    ["path", { d: "M22 4h-6a4 4 0 0 0-4 4v13a3 3 0 0 1 3-3h7z" }],
  ],
  search: [
    ["circle", { cx: 11, cy: 11, r: 7 }],
    ["line", { x1: 21, y1: 21, x2: 16.2, y2: 16.2 }],
  ],
  copy: [
    ["rect", { x: 9, y: 9, width: 13, height: 13, rx: 2 }],
    ["path", { d: "M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1" }],
  ],
  eye: [
    ["path", { d: "M1 12s4-8 11-8 11 8 11 8-4 8-11 8-11-8-11-8z" }],
    ["circle", { cx: 12, cy: 12, r: 3 }],
  ],
  eyeOff: [
    ["path", { d: "M17.94 17.94A10.07 10.07 0 0 1 12 20c-7 0-11-8-11-8a18.45 18.45 0 0 1 5.06-5.94" }],
    ["path", { d: "M9.9 4.24A9.12 9.12 0 0 1 12 4c7 0 11 8 11 8a18.5 18.5 0 0 1-2.16 3.19" }],
    ["path", { d: "M14.12 14.12a3 3 0 1 1-4.24-4.24" }],
    ["line", { x1: 1, y1: 1, x2: 23, y2: 23 }],
  ],
  back: [
    ["line", { x1: 19, y1: 12, x2: 5, y2: 12 }],
    ["polyline", { points: "12 19 5 12 12 5" }],
  ],
  external: [
    ["path", { d: "M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6" }],
    ["polyline", { points: "15 3 21 3 21 9" }],
    ["line", { x1: 10, y1: 14, x2: 21, y2: 3 }],
  ],
  refresh: [
    ["polyline", { points: "23 4 23 10 17 10" }],
    ["path", { d: "M20.49 15a9 9 0 1 1-2.12-9.36L23 10" }],
  ],
  bell: [
    ["path", { d: "M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9" }],
    ["path", { d: "M13.73 21a2 2 0 0 1-3.46 0" }],
  ],
  bellOff: [
    ["path", { d: "M13.73 21a2 2 0 0 1-3.46 0" }],
    ["path", { d: "M18.63 13A17.9 17.9 0 0 1 18 8" }],
    ["path", { d: "M6.26 6.26A5.86 5.86 0 0 0 6 8c0 7-3 9-3 9h14" }],
    ["path", { d: "M18 8a6 6 0 0 0-9.33-5" }],
    ["line", { x1: 1, y1: 1, x2: 23, y2: 23 }],
  ],
  check: [["polyline", { points: "20 6 9 17 4 12" }]],
  close: [
    ["line", { x1: 18, y1: 6, x2: 6, y2: 18 }],
    ["line", { x1: 6, y1: 6, x2: 18, y2: 18 }],
  ],
  alert: [
    ["circle", { cx: 12, cy: 12, r: 10 }],
    ["line", { x1: 12, y1: 8, x2: 12, y2: 12 }],
    ["line", { x1: 12, y1: 16, x2: 12.01, y2: 16 }],
  ],
  send: [
    ["line", { x1: 22, y1: 2, x2: 11, y2: 13 }],
    ["polygon", { points: "22 2 15 22 11 13 2 9 22 2" }],
  ],
  inbox: [
    ["polyline", { points: "22 12 16 12 14 15 10 15 8 12 2 12" }],
    ["path", { d: "M5.45 5.11 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z" }],
  ],
  plus: [
    ["line", { x1: 12, y1: 5, x2: 12, y2: 19 }],
    ["line", { x1: 5, y1: 12, x2: 19, y2: 12 }],
  ],
  user: [
    ["path", { d: "M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2" }],
    ["circle", { cx: 12, cy: 7, r: 4 }],
  ],
  chevron: [["polyline", { points: "6 9 12 15 18 9" }]],
} satisfies Record<string, Shape[]>;

export type IconName = keyof typeof SHAPES;

const templates = new Map<string, SVGSVGElement>();

/** A decorative icon (aria-hidden); label the control that holds it. */
export function icon(name: IconName, cls = ""): SVGSVGElement {
  const key = `${name}|${cls}`;
  let tpl = templates.get(key);
  if (!tpl) {
    const shapes: Shape[] = SHAPES[name];
    tpl = svg(
      "svg",
      {
        viewBox: "0 0 24 24",
        fill: "none",
        stroke: "currentColor",
        "stroke-width": 2,
        "stroke-linecap": "round",
        "stroke-linejoin": "round",
        "aria-hidden": "true",
        focusable: "false",
        class: `icon ${cls}`.trim(),
        "data-icon": name,
      },
      ...shapes.map(([tag, attrs]) => svg(tag, attrs)),
    );
    templates.set(key, tpl);
  }
  // Rows are built all the time while scrolling: cloning beats building.
  return tpl.cloneNode(true) as SVGSVGElement;
}
