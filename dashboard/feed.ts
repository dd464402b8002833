// The live feed: the last few versions, then ruleChanges over SSE, resumed after the last version seen
// whenever the stream drops. Rows give the full id, the name, what changed, when, who and why, and open
// the campaign. Changes arrive in bursts (an import is one version of thousands of items): they are
// batched, a version shows its first few items and a count, and the rest of the page hears of them
// through the session's "changes" event (the list and campaign page refresh themselves from it).
import { ApiError } from "./api.ts";
import { byline } from "./byline.ts";
import { describeChanges, describeNew } from "./diff.ts";
import { count } from "./format.ts";
import {
  type CampaignPage,
  type CampaignState,
  INDEX_STATUS,
  type IndexStatus,
  RULE_CHANGES,
  type RuleChange,
  recentChanges,
  STATES,
} from "./queries.ts";
import type { LiveChange, Session } from "./session.ts";
import { $, h } from "./view.ts";

const MAX_VERSIONS_SHOWN = 30;
const ITEMS_PER_VERSION = 3;
const HISTORY_VERSIONS = 8;
const BATCH_MS = 40;

const KIND_TEXT: Record<RuleChange["kind"], string> = {
  CAMPAIGN_CREATED: "created",
  CAMPAIGN_UPDATED: "updated",
  CAMPAIGN_DELETED: "deleted",
  CATEGORY_UPSERTED: "category saved",
  CATEGORY_DELETED: "category deleted",
};

interface Block {
  version: number;
  rows: HTMLLIElement[];
  more?: HTMLLIElement;
  hidden: number;
}

export function startFeed(session: Session): void {
  const list = $("feed");
  const empty = $("feed-empty");
  const state = $("feed-state");
  list.replaceChildren();
  empty.hidden = false;
  const blocks = new Map<number, Block>();
  let lastVersion: number | undefined;
  /** Where the next stream starts when it must not replay (history shows only part of a version). */
  let resumeAfter: number | undefined;
  let seenOfLast = new Set<string>();
  let pending: RuleChange[] = [];
  let batchTimer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;

  const setState = (name: "live" | "paused" | "wait") => {
    state.className = `pill pill-${name}`;
    state.textContent = name === "wait" ? "connecting…" : name;
    state.title = name === "paused" ? "The stream is down; it resumes by itself, from the last change shown" : "";
  };

  session.on("connection", (reachable) => {
    if (!reachable) setState("paused");
    else wake?.();
  });

  /** Skips what was shown already: a resumed stream replays the last version. */
  const isNew = (change: RuleChange): boolean => {
    const key = `${change.kind}/${change.campaignId ?? ""}/${change.categoryId ?? ""}`;
    if (lastVersion !== undefined && change.version < lastVersion) return false;
    if (change.version === lastVersion) {
      if (seenOfLast.has(key)) return false;
    } else {
      lastVersion = change.version;
      seenOfLast = new Set();
    }
    seenOfLast.add(key);
    return true;
  };

  /** Changes from before the page opened: their campaigns are shown as they are now, without a diff. */
  const earlier = new WeakSet<RuleChange>();

  const receive = (change: RuleChange) => {
    if (!isNew(change)) return;
    pending.push(change);
    if (batchTimer === undefined) batchTimer = setTimeout(flush, BATCH_MS);
  };

  function flush(): void {
    batchTimer = undefined;
    const batch = pending;
    pending = [];
    const shown: { change: RuleChange; row: HTMLLIElement; before?: CampaignState }[] = [];
    for (const change of batch) {
      const row = place(change);
      const before = change.campaignId ? session.cache.latest(change.campaignId) : undefined;
      if (row) shown.push({ change, row, before });
      if (change.kind === "CAMPAIGN_DELETED" && change.campaignId) session.cache.forget(change.campaignId);
    }
    empty.hidden = list.children.length > 0;
    void enrich(batch, shown);
  }

  /** Puts a change in its version's block: a row for the first few, a count for the rest. */
  function place(change: RuleChange): HTMLLIElement | undefined {
    let block = blocks.get(change.version);
    if (!block) {
      block = { version: change.version, rows: [], hidden: 0 };
      blocks.set(change.version, block);
      trim();
    }
    if (block.rows.length < ITEMS_PER_VERSION) {
      const row = itemRow(change);
      const anchor = block.rows.at(-1);
      if (anchor) anchor.after(row);
      else list.prepend(row);
      block.rows.push(row);
      return row;
    }
    block.hidden++;
    const text = `+${count(block.hidden)} more change${block.hidden === 1 ? "" : "s"} in v${block.version}`;
    if (block.more) block.more.firstElementChild?.replaceChildren(text);
    else {
      block.more = h(
        "li",
        { class: "feed-more", "data-version": block.version },
        h("a", { href: "#/?sort=UPDATED_AT", title: "Recently changed campaigns" }, text),
      );
      block.rows.at(-1)?.after(block.more);
    }
    return undefined;
  }

  function trim(): void {
    while (blocks.size > MAX_VERSIONS_SHOWN) {
      const oldest = Math.min(...blocks.keys());
      const block = blocks.get(oldest);
      for (const row of block?.rows ?? []) row.remove();
      block?.more?.remove();
      blocks.delete(oldest);
    }
  }

  /** Looks up the shown campaigns (name, state), fills in what changed, then tells the page. */
  async function enrich(
    batch: RuleChange[],
    shown: { change: RuleChange; row: HTMLLIElement; before?: CampaignState }[],
  ) {
    const ids = [
      ...new Set(
        shown.flatMap(({ change }) =>
          change.campaignId && change.kind !== "CAMPAIGN_DELETED" ? [change.campaignId] : [],
        ),
      ),
    ].slice(0, 500);
    const states = new Map<string, CampaignState>();
    if (ids.length > 0) {
      try {
        const { campaignsPage } = await session.api.query<{ campaignsPage: CampaignPage<CampaignState> }>(STATES, {
          ids,
          first: ids.length,
        });
        for (const state of campaignsPage.nodes) states.set(state.id, state);
      } catch {
        // Unreachable or refused: the rows keep their ids; the session shows why.
      }
    }
    const described = new Map<RuleChange, LiveChange>();
    for (const { change, row, before } of shown) {
      const after = change.campaignId ? states.get(change.campaignId) : undefined;
      const from =
        after && change.kind === "CAMPAIGN_UPDATED" ? session.cache.before(after.id, after.revision) : before;
      fillRow(row, change, from, after, earlier.has(change));
      described.set(change, { change, before: from, after });
    }
    session.cache.put([...states.values()]);
    session.emit(
      "changes",
      batch.map((change) => described.get(change) ?? { change }),
    );
  }

  async function history(): Promise<void> {
    const { indexStatus } = await session.api.query<{ indexStatus: IndexStatus }>(INDEX_STATUS);
    const newest = indexStatus.version;
    const versions = Array.from({ length: HISTORY_VERSIONS }, (_, i) => newest - HISTORY_VERSIONS + i).filter(
      (v) => v >= 0,
    );
    const variables: Record<string, number> = {};
    versions.forEach((v, i) => {
      variables[`v${i}`] = v;
    });
    if (versions.length > 0) {
      const data = await session.api.query<Record<string, RuleChange[]>>(
        recentChanges(versions, ITEMS_PER_VERSION),
        variables,
      );
      // Each alias lists from one version up: keep, per version, the items of that version only.
      versions.forEach((v, i) => {
        for (const change of data[`v${i}`] ?? []) {
          if (change.version !== v + 1) continue;
          earlier.add(change);
          receive(change);
        }
      });
    }
    lastVersion = Math.max(lastVersion ?? 0, newest);
    resumeAfter = newest;
  }

  async function follow(): Promise<void> {
    for (let attempt = 0; session.active; attempt++) {
      const stream = new AbortController();
      try {
        if (lastVersion === undefined) await history();
        // Resume at the last version itself when a small one may have been cut short (its shown items
        // are skipped); a big one (an import) is not streamed twice.
        const since = resumeAfter ?? Math.max(0, (lastVersion ?? 0) - (seenOfLast.size <= 50 ? 1 : 0));
        await session.api.subscribe<{ ruleChanges: RuleChange }>(
          RULE_CHANGES,
          { since },
          {
            onOpen: () => {
              attempt = 0;
              resumeAfter = undefined;
              setState("live");
            },
            onData: ({ ruleChanges }) => receive(ruleChanges),
          },
          stream.signal,
        );
      } catch (error) {
        if (error instanceof ApiError && error.code === "UNAUTHENTICATED") return;
      }
      stream.abort();
      if (!session.active) return;
      setState("paused");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(2_000, 250 * 2 ** attempt));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  setState("wait");
  void follow();
}

function itemRow(change: RuleChange): HTMLLIElement {
  const id = change.campaignId ?? change.categoryId ?? "";
  const kind = KIND_TEXT[change.kind];
  // A deleted campaign's page shows its history (and lets an admin restore it).
  const href = change.campaignId
    ? `#/campaign/${encodeURIComponent(change.campaignId)}`
    : `#/?dim=categories&value=${encodeURIComponent(id)}`;
  const body = [
    h(
      "span",
      { class: "feed-line" },
      h("span", { class: `kind kind-${change.kind.toLowerCase().replace(/_/g, "-")}` }, kind),
      h("span", { class: "version" }, `v${change.version}`),
      h("time", { datetime: change.at, title: change.at }, `${change.at.slice(11, 19)} UTC`),
    ),
    h("span", { class: "feed-who" }, h("span", { class: "mono cid" }, id), h("span", { class: "feed-name" })),
    h("span", { class: "feed-what muted" }),
    byline(change.actor, change.reason, { class: "byline feed-by small" }),
  ];
  return h(
    "li",
    {
      class: "feed-item",
      "data-version": change.version,
      "data-campaign": change.campaignId ?? undefined,
      "data-category": change.categoryId ?? undefined,
    },
    h("a", { class: "feed-link", href }, body),
  );
}

function fillRow(
  row: HTMLLIElement,
  change: RuleChange,
  before: CampaignState | undefined,
  after: CampaignState | undefined,
  earlier: boolean,
): void {
  const name = after?.name ?? before?.name;
  const nameEl = row.querySelector(".feed-name");
  if (nameEl && name) nameEl.textContent = name;
  if (earlier) return;
  let what: string[] = [];
  if (change.kind === "CAMPAIGN_CREATED" && after) what = describeNew(after);
  else if (change.kind === "CAMPAIGN_UPDATED" && after) {
    what = before ? describeChanges(before, after) : [];
    // Its previous state was never on this page: say what it is now.
    if (what.length === 0) what = [`revision ${after.revision}`, ...describeNew(after)];
  } else if (change.kind === "CATEGORY_UPSERTED" || change.kind === "CATEGORY_DELETED") {
    what = [
      change.kind === "CATEGORY_DELETED"
        ? "its rules are gone from every campaign"
        : "its apps changed; campaigns targeting it follow",
    ];
  }
  const whatEl = row.querySelector(".feed-what");
  if (whatEl) whatEl.textContent = what.join(" · ");
}
