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

/** A change's campaigns as pairs: id and new state, null when removed. */
type Entries = [string, CampaignDef | null][];

/** What one part carries of a change: a campaign, or a run of a category's apps [start, end). */
type Piece =
  | { campaign: string; def: CampaignDef | null }
  | { category: string; def: CategoryDef | null; start: number; end: number };

/** What one part holds at most, in rule values (plus a few per campaign): ~60 KB of JSON, ~1 ms to parse. */
export const PART_VALUES = 2_000;
const CAMPAIGN_WEIGHT = 8;
/** Changes whose parts are being collected at once; older ones are dropped (they fall back to the log). */
const MAX_PENDING_CHANGES = 16;

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
  const campaigns = new Map<string, CampaignDef>();
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
 * a whole large change in one.
 */
export function* splitChange(change: CarriedChange, partValues = PART_VALUES): Generator<ChangePart> {
  const groups: Piece[][] = [];
  let group: Piece[] | null = null;
  let weight = 0;
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
 * Each part is turned back into campaigns as it arrives, so the last one does not convert them all.
 */
export class ChangeAssembler {
  private readonly pending = new Map<string, (Received | undefined)[]>();

  add(token: string, part: ChangePart): CarriedChange | null | undefined {
    let parts = this.pending.get(token);
    if (!parts) {
      parts = new Array(part.count);
      this.pending.set(token, parts);
      if (this.pending.size > MAX_PENDING_CHANGES) this.pending.delete(this.pending.keys().next().value as string);
    }
    parts[part.index] = { campaigns: entriesOf(part), categories: part.categories };
    if (part.index !== part.count - 1) return undefined;
    this.pending.delete(token);
    const campaigns = new Map<string, CampaignDef | null>();
    const categories = new Map<string, { id: string; apps: string[] } | null>();
    for (let i = 0; i < parts.length; i++) {
      const each = parts[i];
      if (!each) return null;
      for (const [id, def] of each.campaigns) campaigns.set(id, def);
      for (const { id, apps } of each.categories) {
        const earlier = categories.get(id);
        if (earlier && apps) for (const app of apps) earlier.apps.push(app);
        else categories.set(id, apps && { id, apps });
      }
    }
    return { campaigns, categories };
  }

  /** Forgets a token's parts (its transaction failed). */
  drop(token: string): void {
    this.pending.delete(token);
  }
}

/** A part as it arrived, its campaigns turned back into the index's. */
interface Received {
  campaigns: Entries;
  categories: WireCategory[];
}

function entriesOf(part: ChangePart): Entries {
  const entries: Entries = [];
  for (const c of part.campaigns) {
    entries.push([
      c.id,
      {
        ...c,
        startsAt: c.startsAt === null ? null : new Date(c.startsAt),
        endsAt: c.endsAt === null ? null : new Date(c.endsAt),
      },
    ]);
  }
  for (const id of part.removed) entries.push([id, null]);
  return entries;
}
