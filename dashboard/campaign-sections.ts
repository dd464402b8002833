// The sections of a campaign page, in order. A section names the Campaign fields it needs (merged into
// the page's one query) and draws itself from the answer; a new one (history, "Why not serving?") is one
// more entry here, with its own module if it needs more than a render. A section with state of its own
// (inputs, an answer) gets back the element it drew last time and returns it, updated: the page keeps
// it in place, so a reload neither clears it nor takes the focus away.

import { campaignHistoryBox, HISTORY_PAGE, type HistoryBox } from "./campaign-history.ts";
import { count, DIMENSIONS, deliveryState, flight, utc } from "./format.ts";
import { type CampaignRevision, type CampaignState, type CampaignStats, REVISION_FIELDS } from "./queries.ts";
import type { Session } from "./session.ts";
import { chips, h, sparkline } from "./view.ts";
import { type WhyBox, whyNotServing } from "./why-not-serving.ts";

/** The page's campaign: its state, when it was made, its stats, and whatever sections asked for. */
export interface CampaignDetail extends CampaignState {
  createdAt: string;
  stats: Required<CampaignStats> | null;
  [more: string]: unknown;
}

/** What a section may ask of the page it is on. */
export interface SectionPage {
  /** Reads the campaign again and redraws (after a change the section made). */
  reload(): void;
}

export interface CampaignSection {
  id: string;
  title: string;
  /** A selection on Campaign, e.g. "stats { servedLastHour }". */
  fields: string;
  /** `previous`: what this section returned on the page's last draw (same campaign), if anything. */
  render(campaign: CampaignDetail, session: Session, previous: HTMLElement | undefined, page: SectionPage): HTMLElement;
}

const deliverySection: CampaignSection = {
  id: "delivery",
  title: "Deliveries",
  fields: "stats { servedLastMinute servedLastHour series(minutes: 60) }",
  render(c) {
    if (!c.stats)
      return h("p", { class: "muted" }, "Delivery stats are unavailable right now (stats store unreachable).");
    const peak = Math.max(0, ...c.stats.series);
    const quiet = c.stats.series.every((n) => n === 0);
    return h(
      "div",
      { class: "stats" },
      h(
        "dl",
        { class: "figures" },
        h("div", {}, h("dt", {}, "last minute"), h("dd", { id: "served-minute" }, count(c.stats.servedLastMinute))),
        h("div", {}, h("dt", {}, "last hour"), h("dd", { id: "served-hour" }, count(c.stats.servedLastHour))),
        h("div", {}, h("dt", {}, "peak per minute"), h("dd", {}, count(peak))),
      ),
      quiet
        ? h("p", { class: "muted" }, "Not served in the last hour: no device matched it, or it was not live.")
        : h(
            "div",
            { class: "chart" },
            sparkline(c.stats.series, 600, 80),
            h("div", { class: "chart-axis muted small" }, h("span", {}, "60 min ago"), h("span", {}, "now")),
          ),
    );
  },
};

const targetingSection: CampaignSection = {
  id: "targeting",
  title: "Targeting",
  fields: "",
  render(c) {
    const none = DIMENSIONS.every(([key]) => !c.targeting.include[key].length && !c.targeting.exclude[key].length);
    if (none) return h("p", {}, "No rules: this campaign matches every device (while it is live).");
    return h(
      "table",
      { class: "rules-table" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "include"), h("th", {}, "exclude"))),
      h(
        "tbody",
        {},
        DIMENSIONS.map(([key, , plural]) =>
          h(
            "tr",
            { "data-dimension": key },
            h("th", { scope: "row" }, plural),
            h(
              "td",
              { "data-label": "include" },
              c.targeting.include[key].length ? chips(c.targeting.include[key]) : h("span", { class: "muted" }, "any"),
            ),
            h("td", { "data-label": "exclude" }, chips(c.targeting.exclude[key])),
          ),
        ),
      ),
    );
  },
};

const flightSection: CampaignSection = {
  id: "flight",
  title: "Flight, priority and creative",
  fields: "",
  render(c) {
    const state = deliveryState(c);
    const why = {
      live: "delivery serves it to matching devices now",
      paused: "paused: delivery does not serve it",
      scheduled: "scheduled: delivery serves it from its start",
      ended: "ended: its flight is over",
    }[state];
    return h(
      "dl",
      { class: "facts" },
      h(
        "div",
        {},
        h("dt", {}, "status"),
        h("dd", {}, h("span", { class: `badge badge-${c.status.toLowerCase()}` }, c.status), ` ${why}`),
      ),
      h("div", {}, h("dt", {}, "flight"), h("dd", {}, flight(c))),
      h("div", {}, h("dt", {}, "priority"), h("dd", {}, `${c.priority} (0–1000, higher served first)`)),
      h("div", {}, h("dt", {}, "call to action"), h("dd", {}, c.cta)),
      h("div", {}, h("dt", {}, "image"), h("dd", { class: "wrap mono small" }, c.imageUrl)),
      h("div", {}, h("dt", {}, "created"), h("dd", {}, utc(c.createdAt))),
    );
  },
};

const whyBoxes = new WeakMap<HTMLElement, WhyBox>();

const whySection: CampaignSection = {
  id: "why",
  title: "Why not serving?",
  fields: "",
  render(c, session, previous) {
    const kept = previous && whyBoxes.get(previous);
    if (kept) {
      kept.update({ campaignId: c.id, targeting: c.targeting, revision: c.revision });
      return kept.el;
    }
    const box = whyNotServing(session, { campaignId: c.id, targeting: c.targeting, revision: c.revision });
    whyBoxes.set(box.el, box);
    return box.el;
  },
};

const historyBoxes = new WeakMap<HTMLElement, HistoryBox>();

const historySection: CampaignSection = {
  id: "history",
  title: "History",
  // A literal `first` (see queries.ts): one more than shown, the base of the oldest one's diff.
  fields: `history(first: ${HISTORY_PAGE + 1}) { ${REVISION_FIELDS} }`,
  render(c, session, previous, page) {
    const source = { campaignId: c.id, revision: c.revision, revisions: (c.history ?? []) as CampaignRevision[] };
    const kept = previous && historyBoxes.get(previous);
    // Drawn from a save's answer before the page read the campaign again: its history is not there yet.
    if (kept && source.revisions[0] && source.revisions[0].revision !== c.revision) return kept.el;
    if (kept) {
      kept.update(source);
      return kept.el;
    }
    const box = campaignHistoryBox(session, source, () => page.reload());
    historyBoxes.set(box.el, box);
    return box.el;
  },
};

export const campaignSections: CampaignSection[] = [
  deliverySection,
  whySection,
  targetingSection,
  flightSection,
  historySection,
];
