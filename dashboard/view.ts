// Small DOM helpers for the dashboard: element builder, sparkline, targeting summary, times.

type Child = Node | string | number | null | undefined | false;

/** Creates an element; attributes starting with "on" are listeners, the rest attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | ((event: Event) => void) | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.slice(2).toLowerCase(), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

/** An inline SVG line of per-minute counts (oldest left), scaled to its own maximum. */
export function sparkline(series: readonly number[], width = 120, height = 24): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "spark");
  const max = Math.max(1, ...series);
  const step = series.length > 1 ? width / (series.length - 1) : width;
  const points = series.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "currentColor");
  line.setAttribute("stroke-width", "1.5");
  svg.append(line);
  const title = document.createElementNS(SVG, "title");
  title.textContent = `last ${series.length} min: ${series.reduce((a, b) => a + b, 0)} served, peak ${Math.max(0, ...series)}/min`;
  svg.append(title);
  return svg;
}

export interface DimensionValues {
  apps: string[];
  countries: string[];
  os: string[];
  categories: string[];
}

const DIMENSIONS: [keyof DimensionValues, string][] = [
  ["apps", "app"],
  ["categories", "category"],
  ["countries", "country"],
  ["os", "os"],
];

function list(values: string[], max = 3): string {
  return values.length <= max ? values.join(", ") : `${values.slice(0, max).join(", ")} +${values.length - max}`;
}

/** "app: a, b · country: US · not os: ios", or "everyone" for a campaign without rules. */
export function targetingSummary(t: { include: DimensionValues; exclude: DimensionValues }): string {
  const parts: string[] = [];
  for (const [key, label] of DIMENSIONS) if (t.include[key].length) parts.push(`${label}: ${list(t.include[key])}`);
  for (const [key, label] of DIMENSIONS) if (t.exclude[key].length) parts.push(`not ${label}: ${list(t.exclude[key])}`);
  return parts.length ? parts.join(" · ") : "everyone";
}

export const shortDate = (iso: string | null): string => (iso ? iso.slice(0, 16).replace("T", " ") : "—");

export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return seconds < 60 ? `${seconds}s ago` : `${Math.round(seconds / 60)}m ago`;
}
