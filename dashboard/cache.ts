// The last states the page saw of each campaign (list rows, opened campaigns, saves, feed lookups), so
// the feed can say what an update changed even when the page made it itself. Bounded: least recently
// stored campaigns go first.
import type { CampaignState } from "./queries.ts";

const MAX_CAMPAIGNS = 5_000;

interface Known {
  state: CampaignState;
  /** The state before `state`, if the page saw it. */
  previous?: CampaignState;
}

export class CampaignCache {
  private readonly known = new Map<string, Known>();

  latest(id: string): CampaignState | undefined {
    return this.known.get(id)?.state;
  }

  /** The newest state seen of an older revision than `revision`: what an update to it started from. */
  before(id: string, revision: number): CampaignState | undefined {
    const known = this.known.get(id);
    if (!known) return undefined;
    if (known.state.revision < revision) return known.state;
    return known.previous && known.previous.revision < revision ? known.previous : undefined;
  }

  /** Stores states; an older revision never replaces a newer one. */
  put(states: readonly CampaignState[]): void {
    for (const incoming of states) {
      const state = stateOf(incoming);
      const known = this.known.get(state.id);
      if (known && known.state.revision >= state.revision) continue;
      this.known.delete(state.id);
      this.known.set(state.id, { state, previous: known?.state });
    }
    for (const id of this.known.keys()) {
      if (this.known.size <= MAX_CAMPAIGNS) break;
      this.known.delete(id);
    }
  }

  forget(id: string): void {
    this.known.delete(id);
  }
}

/** Only the state fields (a list row carries stats too). */
function stateOf(c: CampaignState): CampaignState {
  const { id, name, imageUrl, cta, status, priority, startsAt, endsAt, targeting, revision, updatedAt } = c;
  return { id, name, imageUrl, cta, status, priority, startsAt, endsAt, targeting, revision, updatedAt };
}
