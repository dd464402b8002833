// One signed-in session: the API client with its token, the role, whether the replica answers, the
// campaign state cache, and the events the parts of the page share (live changes, connection). Ending
// it (sign-out, token refused) stops every request, timer and stream it started.
import { type Api, createApi } from "./api.ts";
import { CampaignCache } from "./cache.ts";
import type { CampaignState, RuleChange } from "./queries.ts";

export type Role = "ADMIN" | "VIEWER";

/** A change from the live feed, with the campaign's state before (if the page knew it) and after. */
export interface LiveChange {
  change: RuleChange;
  before?: CampaignState;
  after?: CampaignState;
}

interface Events {
  /** The replica started or stopped answering. */
  connection: boolean;
  /** Changes the feed received (a batch; enriched with states). */
  changes: LiveChange[];
}

type Listener<T> = (value: T) => void;

/** A device as typed in "Try a device" or "Why not serving?". */
export interface Device {
  app: string;
  os: string;
  country: string;
}

export class Session {
  readonly api: Api;
  readonly cache = new CampaignCache();
  role: Role = "VIEWER";
  /** The name the audit trail records this caller by (a key's name, env-admin, env-viewer), once known. */
  name: string | undefined;
  /** When the replica last answered anything. */
  lastContact = Date.now();
  reachable = true;
  /** The device last tried or explained: the next "Why not serving?" box starts with it. */
  lastDevice: Device | undefined;
  private readonly ended = new AbortController();
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();
  private readonly timers = new Set<ReturnType<typeof setInterval>>();

  constructor(
    token: string,
    private readonly onEnd: (message: string | undefined) => void,
  ) {
    this.api = createApi(
      token,
      {
        contact: () => {
          this.lastContact = Date.now();
          if (!this.reachable) this.setReachable(true);
        },
        unreachable: () => {
          if (this.reachable) this.setReachable(false);
        },
        unauthenticated: () =>
          this.end(
            "The server no longer accepts your token (it may have restarted with a new one, or the token was revoked). Sign in again.",
          ),
      },
      this.ended.signal,
    );
  }

  get admin(): boolean {
    return this.role === "ADMIN";
  }

  get signal(): AbortSignal {
    return this.ended.signal;
  }

  get active(): boolean {
    return !this.ended.signal.aborted;
  }

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as Listener<Events[K]>)(value);
  }

  /** setInterval that ends with the session; returns a function that stops it sooner. */
  every(ms: number, run: () => void): () => void {
    const timer = setInterval(() => {
      if (this.active) run();
    }, ms);
    this.timers.add(timer);
    return () => {
      clearInterval(timer);
      this.timers.delete(timer);
    };
  }

  /** Ends the session once; `message` is shown on the sign-in form. */
  end(message?: string): void {
    if (!this.active) return;
    this.ended.abort();
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    this.listeners.clear();
    this.onEnd(message);
  }

  private setReachable(reachable: boolean): void {
    this.reachable = reachable;
    this.emit("connection", reachable);
  }
}
