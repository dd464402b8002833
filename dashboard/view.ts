// Small DOM helpers for the dashboard: element builder, lookups, sparkline, chips, empty states.

/** What a route shows (router.ts); disposed when another route is shown or the session ends. */
export interface View {
  el: HTMLElement;
  dispose(): void;
}

type Child = Node | string | number | null | undefined | false;
type Attr = string | number | boolean | ((event: Event) => void) | undefined;

/** Creates an element; attributes starting with "on" are listeners, the rest attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.slice(2).toLowerCase(), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces an element's children; null, undefined and false are skipped, like in h(). */
export function setChildren(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren(
    ...children
      .flat()
      .flatMap((child) =>
        child === null || child === undefined || child === false ? [] : [child instanceof Node ? child : String(child)],
      ),
  );
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const SVG = "http://www.w3.org/2000/svg";

/** An inline SVG line of per-minute counts (oldest left), scaled to its own maximum. */
export function sparkline(series: readonly number[], width = 120, height = 24): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  const max = Math.max(1, ...series);
  const step = series.length > 1 ? width / (series.length - 1) : width;
  const points = series.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "currentColor");
  line.setAttribute("stroke-width", "1.5");
  line.setAttribute("vector-effect", "non-scaling-stroke");
  svg.append(line);
  const title = document.createElementNS(SVG, "title");
  title.textContent = `last ${series.length} min: ${series.reduce((a, b) => a + b, 0)} served, peak ${Math.max(0, ...series)}/min`;
  svg.append(title);
  return svg;
}

/** Values as chips; long lists show the first `max` and a "+N more" chip. */
export function chips(values: readonly string[], max = 40): HTMLElement {
  if (values.length === 0) return h("span", { class: "muted" }, "—");
  const shown = values.slice(0, max).map((v) => h("span", { class: "chip" }, v));
  const more = values.length > max ? h("span", { class: "chip more" }, `+${values.length - max} more`) : null;
  return h("span", { class: "chips" }, shown, more);
}

/** A friendly "nothing here" block with an optional action. */
export function emptyState(title: string, detail: string, action?: HTMLElement): HTMLElement {
  return h(
    "div",
    { class: "empty" },
    h("p", { class: "empty-title" }, title),
    h("p", { class: "muted" }, detail),
    action,
  );
}

export function button(
  label: string,
  onclick: (event: Event) => void,
  attrs: Record<string, Attr> = {},
  kind: "primary" | "secondary" | "danger" | "ghost" = "secondary",
): HTMLButtonElement {
  return h("button", { type: "button", class: `btn btn-${kind}`, onclick, ...attrs }, label);
}
