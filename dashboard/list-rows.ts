// The campaign list's rows: one row per campaign in an ARIA table of divs (CSS grid; cards on narrow
// screens, each cell labelled by data-label), updated in place by key so a live refresh only rebuilds
// the rows whose campaign or counts changed. Divs, not <tr>: a row box can skip the layout and paint of
// rows off screen (content-visibility), so 500 loaded rows cost what the visible ones cost.
import { count, deliveryState, flight, targetingSummary } from "./format.ts";
import type { CampaignRow } from "./queries.ts";
import { h, sparkline } from "./view.ts";

export interface RowActions {
  admin: boolean;
  toggle(row: CampaignRow, button: HTMLButtonElement): void;
}

/** Label, cell class, and the column's class (its width: the table lays out fixed, see style.css). */
const HEADS: [string, string, string][] = [
  ["campaign", "", "col-campaign"],
  ["status", "", "col-status"],
  ["priority", "num", "col-priority"],
  ["flight", "", "col-flight"],
  ["targeting", "", "col-targeting"],
  ["served 1 h", "num", "col-served"],
  ["last 60 min", "", "col-spark"],
];

export function tableHead(admin: boolean): HTMLDivElement {
  return h(
    "div",
    { class: "list-head-row", role: "row" },
    HEADS.map(([label, cls, col]) => h("div", { class: `${col} ${cls}`.trim(), role: "columnheader" }, label)),
    admin ? h("div", { class: "col-actions", role: "columnheader" }, h("span", { class: "sr-only" }, "actions")) : null,
  );
}

const cell = (cls: string, label: string, ...children: (Node | string | number | null)[]) =>
  h("div", { class: `cell ${cls}`, role: "cell", "data-label": label }, ...children);

function rowOf(c: CampaignRow, actions: RowActions): HTMLDivElement {
  const state = deliveryState(c);
  const href = `#/campaign/${encodeURIComponent(c.id)}`;
  const toggle = actions.admin
    ? h(
        "button",
        {
          type: "button",
          class: "btn btn-secondary btn-small toggle",
          "data-action": c.status === "ACTIVE" ? "pause" : "resume",
        },
        c.status === "ACTIVE" ? "Pause" : "Resume",
      )
    : null;
  toggle?.addEventListener("click", () => actions.toggle(c, toggle));
  return h(
    "div",
    { "data-cid": c.id, class: `crow row-${state}`, role: "row" },
    cell("campaign", "campaign", h("a", { class: "cid mono", href }, c.id), h("span", { class: "name" }, c.name)),
    cell(
      "status",
      "status",
      h(
        "span",
        {},
        h("span", { class: `badge badge-${c.status.toLowerCase()}` }, c.status),
        state !== "paused" ? h("span", { class: `state state-${state}` }, state) : null,
      ),
    ),
    cell("num priority", "priority", c.priority),
    cell("flight", "flight", flight(c)),
    cell("targeting", "targeting", targetingSummary(c.targeting, 2)),
    cell("num served", "served 1 h", c.stats ? count(c.stats.servedLastHour) : "—"),
    cell("spark-cell", "last 60 min", c.stats ? sparkline(c.stats.series) : null),
    actions.admin
      ? cell("actions", "", toggle, h("a", { class: "btn btn-ghost btn-small row-open", href }, "Open"))
      : null,
  );
}

/** Rows by campaign id, with what they were built from. */
export class RowSet {
  private readonly built = new Map<string, { signature: string; row: HTMLDivElement }>();

  constructor(
    private readonly body: HTMLElement,
    private readonly actions: RowActions,
  ) {}

  /** Shows exactly `campaigns`, in order, rebuilding only rows whose data changed. */
  render(campaigns: readonly CampaignRow[]): void {
    const keep = new Set<string>();
    let previous: HTMLDivElement | undefined;
    for (const c of campaigns) {
      keep.add(c.id);
      const signature = JSON.stringify(c);
      let entry = this.built.get(c.id);
      if (!entry || entry.signature !== signature) {
        const row = rowOf(c, this.actions);
        entry?.row.replaceWith(row);
        entry = { signature, row };
        this.built.set(c.id, entry);
      }
      const expected: Element | null = previous ? previous.nextElementSibling : this.body.firstElementChild;
      if (expected !== entry.row) {
        if (previous) previous.after(entry.row);
        else this.body.prepend(entry.row);
      }
      previous = entry.row;
    }
    for (const [id, entry] of this.built) {
      if (keep.has(id)) continue;
      entry.row.remove();
      this.built.delete(id);
    }
  }
}
