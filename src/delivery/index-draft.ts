// Copy-on-write edits over one snapshot's structures, done in steps. Nothing in the base is modified:
// every map that changes gets an overlay (layered-map.ts), every posting list that changes is rebuilt
// once, at the end, from its removals and additions — so thousands of changes to one list cost one
// pass over it, not one per change.
import type { CatalogStats, CompiledCampaign } from "./compiled-campaign.ts";
import { EMPTY_LIST, type IndexData, type Postings } from "./index-data.ts";
import type { LayeredMapDraft } from "./layered-map.ts";
import { ShardedMap } from "./sharded-map.ts";
import type { Steps } from "./steps.ts";
import { DIMENSIONS, type Dimension } from "./types.ts";

interface PostingEdit {
  removed: Set<CompiledCampaign> | null;
  added: CompiledCampaign[];
}

/** Work units between two yields: app memberships, posting lists. */
const STEP = 512;

export class IndexDraft implements CatalogStats {
  private readonly campaigns: LayeredMapDraft<CompiledCampaign>;
  private readonly paused: LayeredMapDraft<CompiledCampaign>;
  private readonly categoryApps: LayeredMapDraft<readonly string[]>;
  private readonly appCategories: LayeredMapDraft<readonly string[]>;
  // Sharded: a bulk change edits the postings of 100,000+ apps (sharded-map.ts).
  private readonly edits: Record<Dimension, ShardedMap<PostingEdit>> = {
    app: new ShardedMap(),
    os: new ShardedMap(),
    country: new ShardedMap(),
    category: new ShardedMap(),
  };
  private readonly unanchoredEdit: PostingEdit = { removed: null, added: [] };
  /** Category lists made by this draft, by their ids joined: apps with the same categories share one. */
  private readonly categoryLists = new Map<string, readonly string[]>();
  /**
   * Campaigns added by this draft, by id (removing one of them undoes its addition instead). Sharded:
   * one Set of a 20,000-campaign import rehashed 16,384 entries in one `add`.
   */
  private readonly added = new ShardedMap<CompiledCampaign>();

  constructor(private readonly base: IndexData) {
    this.campaigns = base.campaigns.edit();
    this.paused = base.paused.edit();
    this.categoryApps = base.categoryApps.edit();
    this.appCategories = base.appCategories.edit();
  }

  get appCount(): number {
    return this.appCategories.size;
  }

  categorySize(id: string): number {
    return this.categoryApps.get(id)?.length ?? 0;
  }

  campaign(id: string): CompiledCampaign | undefined {
    return this.campaigns.get(id);
  }

  /** Replaces a category's apps (null deletes it), changing only the memberships that differ. */
  *setCategory(id: string, apps: readonly string[] | null): Steps<void> {
    const previous = this.categoryApps.get(id) ?? EMPTY_LIST;
    const keep = apps ? yield* setOf(apps) : null;
    const next = apps && keep ? (keep.size === apps.length ? apps : yield* listOf(keep)) : null;
    for (let i = 0; i < previous.length; i++) {
      const app = previous[i] as string;
      if (!keep?.has(app)) this.leave(app, id);
      if (i % STEP === STEP - 1) yield;
    }
    if (next) {
      const had = yield* setOf(previous);
      for (let i = 0; i < next.length; i++) {
        const app = next[i] as string;
        if (!had.has(app)) this.join(app, id);
        if (i % STEP === STEP - 1) yield;
      }
      this.categoryApps.set(id, next);
    } else {
      this.categoryApps.delete(id);
    }
  }

  removeCampaign(id: string): void {
    this.paused.delete(id);
    const campaign = this.campaigns.get(id);
    if (!campaign) return;
    this.campaigns.delete(id);
    const undo = this.added.delete(id);
    const edits = campaign.anchor ? this.edits[campaign.anchor] : null;
    for (const value of anchorValues(campaign)) {
      const edit = edits ? editOf(edits, value) : this.unanchoredEdit;
      if (undo) {
        edit.added.splice(edit.added.indexOf(campaign), 1);
      } else {
        edit.removed ??= new Set();
        edit.removed.add(campaign);
      }
    }
  }

  /** A PAUSED campaign: kept by id, filed nowhere. */
  addPausedCampaign(campaign: CompiledCampaign): void {
    this.removeCampaign(campaign.id);
    this.paused.set(campaign.id, campaign);
  }

  addCampaign(campaign: CompiledCampaign): void {
    this.removeCampaign(campaign.id);
    this.campaigns.set(campaign.id, campaign);
    this.added.set(campaign.id, campaign);
    const edits = campaign.anchor ? this.edits[campaign.anchor] : null;
    for (const value of anchorValues(campaign))
      (edits ? editOf(edits, value) : this.unanchoredEdit).added.push(campaign);
  }

  /** The new structures; the draft must not be used afterwards. */
  *finish(): Steps<IndexData> {
    const postings = {} as Record<Dimension, Postings>;
    for (const dimension of DIMENSIONS) {
      const edits = this.edits[dimension];
      if (edits.size === 0) {
        postings[dimension] = this.base.postings[dimension];
        continue;
      }
      const draft = this.base.postings[dimension].edit();
      let done = 0;
      for (const [value, edit] of edits) {
        const current = draft.get(value);
        const list = applyEdit(current ?? EMPTY_LIST, edit);
        draft.replace(value, current, list.length ? list : undefined);
        if (++done % 64 === 0) yield;
      }
      postings[dimension] = draft.finish();
    }
    const unanchored = applyEdit(this.base.unanchored, this.unanchoredEdit);
    yield;
    return {
      campaigns: this.campaigns.finish(),
      paused: this.paused.finish(),
      postings,
      unanchored,
      categoryApps: this.categoryApps.finish(),
      appCategories: this.appCategories.finish(),
    };
  }

  private join(app: string, category: string): void {
    const current = this.appCategories.get(app) ?? EMPTY_LIST;
    this.appCategories.set(app, this.categoryList([...current, category].sort()));
  }

  private leave(app: string, category: string): void {
    const current = this.appCategories.get(app) ?? EMPTY_LIST;
    const rest = current.filter((id) => id !== category);
    if (rest.length) this.appCategories.set(app, this.categoryList(rest));
    else this.appCategories.delete(app);
  }

  private categoryList(ids: string[]): readonly string[] {
    const key = ids.join("\n");
    let list = this.categoryLists.get(key);
    if (!list) {
      list = Object.freeze(ids);
      this.categoryLists.set(key, list);
    }
    return list;
  }
}

function anchorValues(campaign: CompiledCampaign): Iterable<string> {
  // The unanchored list is one posting: a single pseudo-value.
  return campaign.anchor ? (campaign.include[campaign.anchor] ?? EMPTY_LIST) : [""];
}

function editOf(edits: ShardedMap<PostingEdit>, value: string): PostingEdit {
  let edit = edits.get(value);
  if (!edit) {
    edit = { removed: null, added: [] };
    edits.set(value, edit);
  }
  return edit;
}

function applyEdit(list: readonly CompiledCampaign[], edit: PostingEdit): readonly CompiledCampaign[] {
  if (!edit.removed && edit.added.length === 0) return list;
  const { removed } = edit;
  const kept = removed ? list.filter((campaign) => !removed.has(campaign)) : list.slice();
  for (const campaign of edit.added) kept.push(campaign);
  return kept.length ? kept : EMPTY_LIST;
}

function* listOf(set: ReadonlySet<string>): Steps<readonly string[]> {
  const list: string[] = [];
  for (const value of set) {
    list.push(value);
    if (list.length % STEP === 0) yield;
  }
  return list;
}

function* setOf(values: readonly string[]): Steps<Set<string>> {
  const set = new Set<string>();
  for (let i = 0; i < values.length; i++) {
    set.add(values[i] as string);
    if (i % STEP === STEP - 1) yield;
  }
  return set;
}
