// A bounded, uniform sample of recent device requests, for reach forecasts: the last hour in windows
// of five minutes, each a reservoir of SLOTS requests (Algorithm L: for a request that is not taken —
// nearly all of them — the hot path is a counter increment and a comparison; one that is taken costs a
// few random draws). Each window also counts every request it saw, so a window's sample stands for
// `requests / sample.length` requests each.
//
// Memory: 12 windows × 1,000 slots = at most 12,000 requests kept (references to the request objects
// delivery parsed anyway: ~150 bytes each with their three strings), ≈ 2 MB whatever the traffic.
import type { DeviceRequest } from "./types.ts";

export interface SampledWindow {
  /** [start, end) in ms since epoch; `end` is "now" for the current window. */
  start: number;
  end: number;
  /** Every valid request the window saw. */
  requests: number;
  sample: readonly DeviceRequest[];
}

export interface TrafficSampleOptions {
  windowMs?: number;
  windows?: number;
  slots?: number;
  clock?: () => number;
  random?: () => number;
}

class Reservoir {
  seen = 0;
  readonly sample: DeviceRequest[] = [];
  private weight = 0;
  private next = 0;

  constructor(
    readonly start: number,
    private readonly slots: number,
    private readonly random: () => number,
  ) {}

  /** Counts one request; true when the sample takes it (then `put` it). */
  wants(): boolean {
    const index = this.seen++;
    return index < this.slots || index === this.next;
  }

  put(request: DeviceRequest): void {
    const index = this.seen - 1;
    if (index < this.slots) {
      this.sample.push(request);
      if (index === this.slots - 1) {
        this.weight = Math.exp(Math.log(this.draw()) / this.slots);
        this.skip(index);
      }
      return;
    }
    this.sample[Math.floor(this.random() * this.slots)] = request;
    this.weight *= Math.exp(Math.log(this.draw()) / this.slots);
    this.skip(index);
  }

  private skip(from: number): void {
    this.next = from + Math.floor(Math.log(this.draw()) / Math.log(1 - this.weight)) + 1;
  }

  /** Uniform in (0, 1]: logarithms stay finite. */
  private draw(): number {
    return 1 - this.random();
  }
}

export class TrafficSample {
  private readonly windowMs: number;
  private readonly windows: number;
  private readonly slots: number;
  private readonly clock: () => number;
  private readonly random: () => number;
  private current: Reservoir;
  private currentEnd: number;
  private past: Reservoir[] = [];

  constructor(options: TrafficSampleOptions = {}) {
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.windows = options.windows ?? 12;
    this.slots = options.slots ?? 1_000;
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    const now = this.clock();
    this.current = new Reservoir(now, this.slots, this.random);
    this.currentEnd = now + this.windowMs;
  }

  /** One valid delivery request; `now`: the caller's reading of the clock, when it has one. */
  record(request: DeviceRequest, now = this.clock()): void {
    if (this.counts(now)) this.add(request);
  }

  /**
   * Hot path: counts one valid request; true when the sample takes it — then `add` it. A request
   * answered from the device cache is parsed again only then, not on every hit.
   */
  counts(now = this.clock()): boolean {
    if (now >= this.currentEnd) this.rotate(now);
    return this.current.wants();
  }

  /** The request `counts()` said the sample takes. */
  add(request: DeviceRequest): void {
    this.current.put(request);
  }

  /** The windows that overlap the last `windows × windowMs`, oldest first. */
  recent(now = this.clock()): SampledWindow[] {
    if (now >= this.currentEnd) this.rotate(now);
    const oldest = now - this.windows * this.windowMs;
    return [...this.past, this.current]
      .map((window, i, all) => ({
        start: window.start,
        end: i === all.length - 1 ? now : (all[i + 1] as Reservoir).start,
        requests: window.seen,
        sample: window.sample,
      }))
      .filter((window) => window.end > oldest && window.requests > 0);
  }

  /** Requests kept right now (bounded by windows × slots). */
  get kept(): number {
    return this.past.reduce((sum, window) => sum + window.sample.length, this.current.sample.length);
  }

  private rotate(now: number): void {
    this.past.push(this.current);
    if (this.past.length > this.windows - 1) this.past.shift();
    this.current = new Reservoir(now, this.slots, this.random);
    this.currentEnd = now + this.windowMs;
  }
}
