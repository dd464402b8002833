// The campaign list's search box, filters and order: built from the URL's parameters, read back into
// them and into a CampaignFilter, so a list view can be bookmarked and the back button restores it.
import type { CampaignFilter, DimensionValues, Order, Status } from "./queries.ts";
import { h } from "./view.ts";

export interface ListParams {
  q: string;
  status: "" | Status;
  live: "" | "true" | "false";
  dim: "" | keyof DimensionValues;
  value: string;
  sort: Order;
}

const ORDERS: [Order, string][] = [
  ["ID", "Sort by id"],
  ["PRIORITY", "Sort by priority"],
  ["SERVED_LAST_HOUR", "Sort by served last hour"],
  ["UPDATED_AT", "Sort by recently changed"],
];
const DIMS: ["" | keyof DimensionValues, string][] = [
  ["", "Targets any"],
  ["apps", "Targets app"],
  ["countries", "Targets country"],
  ["os", "Targets os"],
  ["categories", "Targets category"],
];

const pick = <T extends string>(value: string | null, allowed: readonly T[], fallback: T): T =>
  allowed.includes(value as T) ? (value as T) : fallback;

export function readParams(query: URLSearchParams): ListParams {
  return {
    q: query.get("q") ?? "",
    status: pick(query.get("status"), ["", "ACTIVE", "PAUSED"] as const, ""),
    live: pick(query.get("live"), ["", "true", "false"] as const, ""),
    dim: pick(
      query.get("dim"),
      DIMS.map(([d]) => d),
      "",
    ),
    value: query.get("value") ?? "",
    sort: pick(
      query.get("sort"),
      ORDERS.map(([o]) => o),
      "ID",
    ),
  };
}

export function writeParams(params: ListParams): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value && !(key === "sort" && value === "ID")) query.set(key, value);
  const text = query.toString();
  return text ? `#/?${text}` : "#/";
}

export function toFilter(params: ListParams): CampaignFilter {
  const filter: CampaignFilter = {};
  if (params.q.trim()) filter.search = params.q.trim();
  if (params.status) filter.status = params.status;
  if (params.live) filter.live = params.live === "true";
  if (params.dim && params.value.trim()) filter.targets = { [params.dim]: [params.value.trim()] };
  return filter;
}

export const isFiltered = (params: ListParams): boolean => Object.keys(toFilter(params)).length > 0;

/** "matching “x”, paused, targeting country DE" for the empty state. */
export function describeFilter(params: ListParams): string {
  const parts: string[] = [];
  if (params.q.trim()) parts.push(`matching “${params.q.trim()}”`);
  if (params.status) parts.push(params.status.toLowerCase());
  if (params.live) parts.push(params.live === "true" ? "delivering now" : "not delivering now");
  if (params.dim && params.value.trim()) parts.push(`targeting ${params.dim} ${params.value.trim()}`);
  return parts.join(", ");
}

export interface Toolbar {
  el: HTMLFormElement;
  search: HTMLInputElement;
  /** Shows a problem with a filter value (BAD_USER_INPUT from the server), or clears it. */
  setError(message: string | undefined): void;
  read(): ListParams;
}

const select = (id: string, label: string, options: [string, string][], value: string) =>
  h(
    "select",
    { id, class: "input", "aria-label": label },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
  );

/** `onChange(immediate)`: immediate for selects and Enter, debounced by the caller for typing. */
export function buildToolbar(params: ListParams, onChange: (immediate: boolean) => void): Toolbar {
  const search = h("input", {
    id: "search",
    class: "input",
    type: "search",
    placeholder: "Search id or name",
    "aria-label": "Search campaigns by id or name",
    autocomplete: "off",
    value: params.q,
  });
  const status = select(
    "filter-status",
    "Status",
    [
      ["", "Any status"],
      ["ACTIVE", "Active"],
      ["PAUSED", "Paused"],
    ],
    params.status,
  );
  const live = select(
    "filter-live",
    "Delivering now",
    [
      ["", "Any delivery"],
      ["true", "Delivering now"],
      ["false", "Not delivering"],
    ],
    params.live,
  );
  const dim = select("filter-dim", "Targeting dimension", DIMS, params.dim);
  const value = h("input", {
    id: "filter-value",
    class: "input",
    placeholder: "value, e.g. US",
    "aria-label": "Targeted value",
    autocomplete: "off",
    value: params.value,
  });
  const sort = select("sort", "Order", ORDERS, params.sort);
  const error = h("p", { id: "filter-error", class: "field-error", hidden: true });
  const el = h(
    "form",
    { class: "toolbar", role: "search", novalidate: true },
    h("div", { class: "toolbar-search" }, search),
    h("div", { class: "toolbar-filters" }, status, live, h("span", { class: "target-filter" }, dim, value), sort),
    error,
  );
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    onChange(true);
  });
  for (const input of [search, value]) input.addEventListener("input", () => onChange(false));
  for (const control of [status, live, dim, sort]) control.addEventListener("change", () => onChange(true));
  return {
    el,
    search,
    setError(message) {
      error.hidden = !message;
      error.textContent = message ?? "";
    },
    read: () => ({
      q: search.value,
      status: status.value as ListParams["status"],
      live: live.value as ListParams["live"],
      dim: dim.value as ListParams["dim"],
      value: value.value,
      sort: sort.value as Order,
    }),
  };
}
