// In-memory delivery counts on the hot path: per minute bucket, per campaign id, no I/O. A response
// with a kept answer costs a field increment whatever the number of ads: the answer carries a tally
// (its responses since the last take), and the tallies are expanded into per-campaign counts only when
// the flusher takes them. A hash lookup per response — keyed by the answer's id list — cost ~0.1–0.3 µs
// against a delivery budget of a few µs, and a new tally per answer and take (every 0.5 s) cost nearly
// as much in allocation. A one-off answer (built for this response, kept nowhere) is counted per
// campaign at once: a tally would keep every one-off answer's list alive until the flush, one per
// never-seen device (in-process, 1.27M never-seen requests: heap used 295 MB, 132 MB without).
//
// Each device keeps an answer of its own, so a take expands about as many tallies as there were
// responses: a Map update per served id made the flush cost ~0.4 µs per response, and its boxes fed
// the collector. A tally therefore resolves its ids once, on its first take, to the counter's cells
// (one per campaign id, shared by every tally naming it); a take adds to cells, then writes only the
// cells it touched into the minute's counts.
import { MINUTE_MS, minuteOf } from "./minutes.ts";

/** Counts per minute bucket, then per campaign id. */
export type MinuteCounts = Map<number, Map<string, number>>;

/** What the counter needs of a served answer (delivery's `Answer` has this shape). */
export interface CountedAnswer {
  /** The campaigns served, each with its id. */
  readonly campaigns: readonly { readonly id: string }[];
  /** Built for this response and kept nowhere: counted per id at once. */
  readonly oneOff: boolean;
  /** The counter's slot: the answer's tally (null until first counted). */
  tally: unknown;
}

/** The responses counted in one minute between two takes; their counts are read when it is sealed. */
class Epoch {
  tallies: Tally[] = [];
  counts = new Float64Array(0);
  sealed = false;
  constructor(readonly minute: number) {}

  /** Reads the counts once: from then on its tallies move to the next epoch they are counted in. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    this.counts = new Float64Array(this.tallies.length);
    for (let i = 0; i < this.tallies.length; i++) this.counts[i] = (this.tallies[i] as Tally).n;
  }

  /** Expanded into per-id counts: only `sealed` is still read (by tallies that point here). */
  release(): void {
    this.tallies = [];
    this.counts = new Float64Array(0);
  }
}

/** One kept answer's responses in the epoch it was last counted in. */
class Tally {
  n = 1;
  /** Its ids' cells in the counter that resolved them (the first take that expanded it). */
  cells: readonly Cell[] | null = null;
  owner: DeliveryCounter | null = null;
  constructor(
    public epoch: Epoch,
    readonly campaigns: readonly { readonly id: string }[],
  ) {}
}

/** A campaign id's count in the epoch being expanded: zero between takes. */
class Cell {
  n = 0;
  /** The last take that counted it (unused cells are dropped from the lookup now and then). */
  take = 0;
  constructor(readonly id: string) {}
}

/** Takes between two sweeps of cells no take has used for that long. */
const CELL_SWEEP_TAKES = 120;

export class DeliveryCounter {
  /** Counts already per campaign: one-off answers', and those put back by a failed flush. */
  private perId: MinuteCounts = new Map();
  /** Epochs sealed since the last take (the minute changed), then the open one. */
  private epochs: Epoch[] = [];
  private epoch = new Epoch(0);
  private minuteEnd = 0;
  private currentPerId: Map<string, number> = new Map();
  private readonly cells = new Map<string, Cell>();
  private takes = 0;
  /** The take running now: takes run one at a time (cells hold a take's partial counts). */
  private taking: Promise<unknown> = Promise.resolve();

  /** Called once per delivery response with the answer it served. */
  count(answer: CountedAnswer, now = Date.now()): void {
    const campaigns = answer.campaigns;
    if (campaigns.length === 0) return;
    if (now >= this.minuteEnd || now < this.minuteEnd - MINUTE_MS) this.enterMinute(now);
    const slot = answer.tally;
    const epoch = this.epoch;
    if (slot instanceof Tally) {
      if (slot.epoch === epoch) {
        slot.n++;
        return;
      }
      if (slot.epoch.sealed) {
        slot.epoch = epoch;
        slot.n = 1;
        epoch.tallies.push(slot);
        return;
      }
    } else if (!answer.oneOff) {
      const tally = new Tally(epoch, campaigns);
      answer.tally = tally;
      epoch.tallies.push(tally);
      return;
    }
    // One-off, or tallied in another counter's open epoch (only where counters share answers: tests).
    const byId = this.currentPerId;
    for (const { id } of campaigns) byId.set(id, (byId.get(id) ?? 0) + 1);
  }

  /**
   * Everything counted since the last take; the counter starts empty again at once. The tallies are
   * expanded `sliceSize` at a time, yielding to the event loop between slices: hundreds of thousands
   * of kept answers per flush would otherwise hold the loop for several milliseconds.
   */
  take(sliceSize = 5_000): Promise<MinuteCounts> {
    const taken = this.perId;
    const epochs = this.epochs;
    this.epoch.seal();
    this.perId = new Map();
    this.epochs = [];
    this.minuteEnd = 0;
    const expanded = this.taking.then(() => this.expand(taken, epochs, sliceSize));
    this.taking = expanded.catch(() => undefined);
    return expanded;
  }

  private async expand(taken: MinuteCounts, epochs: readonly Epoch[], sliceSize: number): Promise<MinuteCounts> {
    const take = ++this.takes;
    let inSlice = 0;
    for (const epoch of epochs) {
      const { tallies, counts } = epoch;
      const touched: Cell[] = [];
      for (let i = 0; i < tallies.length; i++) {
        const tally = tallies[i] as Tally;
        if (tally.owner !== this) {
          tally.cells = tally.campaigns.map(({ id }) => this.cellOf(id));
          tally.owner = this;
        }
        const n = counts[i] as number;
        for (const cell of tally.cells as readonly Cell[]) {
          if (cell.n === 0) touched.push(cell);
          cell.n += n;
        }
        if (++inSlice === sliceSize) {
          inSlice = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      const into = bucketOf(taken, epoch.minute);
      for (const cell of touched) {
        into.set(cell.id, (into.get(cell.id) ?? 0) + cell.n);
        cell.n = 0;
        cell.take = take;
      }
      epoch.release();
    }
    if (take % CELL_SWEEP_TAKES === 0) {
      // A tally may still hold a dropped cell: it counts on (drained by id all the same), unshared.
      for (const [id, cell] of this.cells) if (cell.take <= take - CELL_SWEEP_TAKES) this.cells.delete(id);
    }
    return taken;
  }

  private cellOf(id: string): Cell {
    let cell = this.cells.get(id);
    if (cell === undefined) {
      cell = new Cell(id);
      this.cells.set(id, cell);
    }
    return cell;
  }

  /** Puts counts back (a flush failed): they are written with the next flush. */
  restore(counts: MinuteCounts): void {
    for (const [minute, byId] of counts) {
      const into = bucketOf(this.perId, minute);
      for (const [id, n] of byId) into.set(id, (into.get(id) ?? 0) + n);
    }
  }

  /** Drops buckets older than `oldestMinute` (kept back by a long outage; Redis would expire them anyway). */
  prune(oldestMinute: number): void {
    for (const minute of this.perId.keys()) if (minute < oldestMinute) this.perId.delete(minute);
  }

  private enterMinute(now: number): void {
    const minute = minuteOf(now);
    this.minuteEnd = (minute + 1) * MINUTE_MS;
    this.epoch.seal();
    this.epoch = new Epoch(minute);
    this.epochs.push(this.epoch);
    this.currentPerId = bucketOf(this.perId, minute);
  }
}

/** The minute's bucket, made empty if there is none yet. */
function bucketOf<K, V>(buckets: Map<number, Map<K, V>>, minute: number): Map<K, V> {
  let bucket = buckets.get(minute);
  if (!bucket) {
    bucket = new Map();
    buckets.set(minute, bucket);
  }
  return bucket;
}
