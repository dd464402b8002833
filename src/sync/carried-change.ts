// A bulk change that travels ahead of its commit. The replica that writes an import, a category's app
// set or a category's deletion knows the whole state it will leave those campaigns and that category
// in (a deletion once its transaction has locked the campaigns naming the category), so while the
// transaction runs it sends that state on the bus, in parts, under a token; every replica builds the
// snapshot it will serve from it (index-sync.ts `prepare`), and serves it only when the commit message
// names the token with the version it committed as, onto the version just before. Reading a
// 2,000-campaign import back after the commit took each replica 70–220 ms, all at once; applying the
// carried change after the commit still took 60–200 ms. Anything else — a part missing, a replica
// behind or ahead, a transaction that failed — never serves what was carried: the change log stays
// the truth.

import { ShardedMap } from "../delivery/sharded-map.ts";
import type { Steps } from "../delivery/steps.ts";
import type { CampaignDef, CategoryDef, DimensionValues, IndexChange } from "../delivery/types.ts";
import type { CampaignRow } from "../store/campaign-writes.ts";
import { type RuleTuple, targetingOf } from "../store/targeting-store.ts";

/** A campaign as it travels: flight bounds as epoch ms (JSON has no dates). */
type WireCampaign = Omit<CampaignDef, "startsAt" | "endsAt"> & { startsAt: number | null; endsAt: number | null };

/** What a write carries ahead: the new state of some campaigns and categories (null: removed). */
export type CarriedChange = Pick<IndexChange, "campaigns" | "categories">;

/**
 * A category's apps, or a run of them: a large category travels in several parts, its runs in order
 * (the assembler joins them). `apps` null: the category is removed.
 */
interface WireCategory {
  id: string;
  apps: string[] | null;
}

/** One message's share of a change: some campaigns' new state, some campaigns removed, category runs. */
export interface ChangePart {
  index: number;
  count: number;
  campaigns: WireCampaign[];
  removed: string[];
  categories: WireCategory[];
}

/** What one part carries of a change: a campaign, or a run of a category's apps [start, end). */
type Piece =
  | { campaign: string; def: CampaignDef | null }
  | { category: string; def: CategoryDef | null; start: number; end: number };

/** What one part holds at most, in rule values (plus a few per campaign): ~60 KB of JSON, ~1 ms to parse. */
export const PART_VALUES = 2_000;
const CAMPAIGN_WEIGHT = 8;
/** Changes whose parts are being collected at once; older ones are dropped (they fall back to the log). */
const MAX_PENDING_CHANGES = 16;
/** Pieces grouped into parts between two yields. */
const GROUPING_STEP = 2_000;

/** The index's view of a campaign just written whole (an import item, validated and normalised). */
export function campaignDefOf(row: CampaignRow): CampaignDef {
  const { id, imageUrl, cta, status, priority, startsAt, endsAt } = row;
  const targeting = targetingOf(row.rules.map((rule): RuleTuple => [rule.dimension, rule.mode, rule.value]));
  return { id, imageUrl, cta, status, priority, startsAt, endsAt, ...targeting };
}

const valueCount = (values: DimensionValues) =>
  values.app.length + values.country.length + values.os.length + values.category.length;

/** The index's view of campaigns just written whole, one step each (2,000 take several ms at once). */
export function* carriedState(rows: readonly CampaignRow[]): Steps<CarriedChange> {
  const campaigns = new ShardedMap<CampaignDef>();
  for (const row of rows) {
    campaigns.set(row.id, campaignDefOf(row));
    yield;
  }
  return { campaigns, categories: new Map() };
}

/** A category's new app set as carried (the whole set: the index replaces it). */
export function carriedCategory(category: CategoryDef): CarriedChange {
  return { campaigns: new Map(), categories: new Map([[category.id, category]]) };
}

/** A category deleted, and the campaigns that named it as the deletion leaves them (their rules gone). */
export function* carriedCategoryDeletion(id: string, rewritten: readonly CampaignRow[]): Steps<CarriedChange> {
  const { campaigns } = yield* carriedState(rewritten);
  return { campaigns, categories: new Map([[id, null]]) };
}

/**
 * `change` in parts of at most PART_VALUES values (a larger campaign alone; a larger category in runs).
 * Each part is made when it is asked for, so a publisher that sends one per event-loop turn never copies
 * a whole large change in one; while it groups the pieces it yields null every GROUPING_STEP of them
 * (grouping a 20,000-campaign import at once held the writing replica ~7 ms): take the next value on a
 * later turn, send nothing.
 */
export function* splitChange(change: CarriedChange, partValues = PART_VALUES): Generator<ChangePart | null> {
  const groups: Piece[][] = [];
  let group: Piece[] | null = null;
  let weight = 0;
  let grouped = 0;
  const add = (piece: Piece, size: number) => {
    if (!group || (weight > 0 && weight + size > partValues)) {
      group = [];
      groups.push(group);
      weight = 0;
    }
    weight += size;
    group.push(piece);
  };
  for (const [campaign, def] of change.campaigns) {
    add({ campaign, def }, CAMPAIGN_WEIGHT + (def ? valueCount(def.include) + valueCount(def.exclude) : 0));
    if (++grouped % GROUPING_STEP === 0) yield null;
  }
  const run = Math.max(1, partValues - CAMPAIGN_WEIGHT);
  for (const [category, def] of change.categories) {
    const apps = def?.apps.length ?? 0;
    let start = 0;
    do {
      const end = Math.min(apps, start + run);
      add({ category, def, start, end }, CAMPAIGN_WEIGHT + end - start);
      start = end;
    } while (start < apps);
  }
  for (let index = 0; index < groups.length; index++) {
    const part: ChangePart = { index, count: groups.length, campaigns: [], removed: [], categories: [] };
    for (const piece of groups[index] as Piece[]) {
      if ("category" in piece) {
        const apps = piece.def ? piece.def.apps.slice(piece.start, piece.end) : null;
        part.categories.push({ id: piece.category, apps });
      } else if (piece.def) {
        const def = piece.def;
        part.campaigns.push({
          ...def,
          startsAt: def.startsAt?.getTime() ?? null,
          endsAt: def.endsAt?.getTime() ?? null,
        });
      } else part.removed.push(piece.campaign);
    }
    yield part;
  }
}

/**
 * Collects the parts of carried changes as they arrive (in order: one publisher). `add` gives the
 * change's campaigns once the last part of a token came with all the others, null when the last came
 * but some did not (the replica reads the log at the commit instead), undefined while parts are to come.
 * Each part is merged as it arrives, into sharded maps (sharded-map.ts): merging a 20,000-campaign
 * import's parts all at the last one held a replica's event loop ~15 ms.
 */
export class ChangeAssembler {
  private readonly pending = new Map<string, Assembly>();

  add(token: string, part: ChangePart): CarriedChange | null | undefined {
    let assembly = this.pending.get(token);
    if (!assembly) {
      assembly = { next: 0, complete: true, campaigns: new ShardedMap(), categories: new Map() };
      this.pending.set(token, assembly);
      if (this.pending.size > MAX_PENDING_CHANGES) this.pending.delete(this.pending.keys().next().value as string);
    }
    if (part.index !== assembly.next) assembly.complete = false;
    assembly.next = part.index + 1;
    if (assembly.complete) merge(assembly, part);
    if (part.index !== part.count - 1) return undefined;
    this.pending.delete(token);
    if (!assembly.complete) return null;
    return { campaigns: assembly.campaigns, categories: assembly.categories };
  }

  /** Forgets a token's parts (its transaction failed). */
  drop(token: string): void {
    this.pending.delete(token);
  }
}

/** A change's parts merged so far; `complete` until a part is missing (then nothing more is merged). */
interface Assembly {
  next: number;
  complete: boolean;
  readonly campaigns: ShardedMap<CampaignDef | null>;
  readonly categories: Map<string, { id: string; apps: string[] } | null>;
}

function merge(assembly: Assembly, part: ChangePart): void {
  for (const c of part.campaigns) {
    assembly.campaigns.set(c.id, {
      ...c,
      startsAt: c.startsAt === null ? null : new Date(c.startsAt),
      endsAt: c.endsAt === null ? null : new Date(c.endsAt),
    });
  }
  for (const id of part.removed) assembly.campaigns.set(id, null);
  for (const { id, apps } of part.categories) {
    const earlier = assembly.categories.get(id);
    if (earlier && apps) for (const app of apps) earlier.apps.push(app);
    else assembly.categories.set(id, apps && { id, apps });
  }
}
