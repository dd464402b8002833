// The campaign list's rows: one table row per campaign (CSS turns rows into cards on narrow screens,
// each cell labelled by data-label), updated in place by key so a live refresh only rebuilds the rows
// whose campaign or counts changed.
import { count, deliveryState, flight, targetingSummary } from "./format.ts";
import type { CampaignRow } from "./queries.ts";
import { h, sparkline } from "./view.ts";

export interface RowActions {
  admin: boolean;
  toggle(row: CampaignRow, button: HTMLButtonElement): void;
}

const HEADS: [string, string][] = [
  ["campaign", ""],
  ["status", ""],
  ["priority", "num"],
  ["flight", ""],
  ["targeting", ""],
  ["served 1 h", "num"],
  ["last 60 min", ""],
];

export function tableHead(admin: boolean): HTMLTableSectionElement {
  return h(
    "thead",
    {},
    h(
      "tr",
      {},
      HEADS.map(([label, cls]) => h("th", { class: cls || undefined, scope: "col" }, label)),
      admin ? h("th", { scope: "col" }, h("span", { class: "sr-only" }, "actions")) : null,
    ),
  );
}

function rowOf(c: CampaignRow, actions: RowActions): HTMLTableRowElement {
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
    "tr",
    { "data-cid": c.id, class: `row-${state}` },
    h(
      "td",
      { class: "campaign", "data-label": "campaign" },
      h("a", { class: "cid mono", href }, c.id),
      h("span", { class: "name" }, c.name),
    ),
    h(
      "td",
      { class: "status", "data-label": "status" },
      h(
        "span",
        {},
        h("span", { class: `badge badge-${c.status.toLowerCase()}` }, c.status),
        state !== "paused" ? h("span", { class: `state state-${state}` }, state) : null,
      ),
    ),
    h("td", { class: "num priority", "data-label": "priority" }, c.priority),
    h("td", { class: "flight", "data-label": "flight" }, flight(c)),
    h("td", { class: "targeting", "data-label": "targeting" }, targetingSummary(c.targeting, 2)),
    h("td", { class: "num served", "data-label": "served 1 h" }, c.stats ? count(c.stats.servedLastHour) : "—"),
    h("td", { class: "spark-cell", "data-label": "last 60 min" }, c.stats ? sparkline(c.stats.series) : null),
    actions.admin
      ? h(
          "td",
          { class: "actions", "data-label": "" },
          toggle,
          h("a", { class: "btn btn-ghost btn-small row-open", href }, "Open"),
        )
      : null,
  );
}

/** Rows by campaign id, with what they were built from. */
export class RowSet {
  private readonly built = new Map<string, { signature: string; row: HTMLTableRowElement }>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly actions: RowActions,
  ) {}

  /** Shows exactly `campaigns`, in order, rebuilding only rows whose data changed. */
  render(campaigns: readonly CampaignRow[]): void {
    const keep = new Set<string>();
    let previous: HTMLTableRowElement | undefined;
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
