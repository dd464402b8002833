// Bounds the write transactions one process runs at once. Writers serialise on the change counter's row
// lock anyway, and each waiting transaction holds a pool connection: without a bound, a burst of
// mutations takes every connection and the rest fail waiting for the pool. Here they queue in memory
// (FIFO, bounded in length and time) and each takes a connection only when it can make progress.
import { unavailable } from "./errors.ts";

export interface WriteGateOptions {
  /** Transactions running at once; below the pool size so reads keep connections. */
  concurrency: number;
  /** Mutations waiting at most; beyond, UNAVAILABLE at once. */
  maxQueued: number;
  /** How long a mutation may wait for its turn before UNAVAILABLE. */
  maxWaitMs: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** The retry hint sent with a refused write (extensions.retryAfterMs). */
export const RETRY_AFTER_MS = 1_000;

const busy = (why: string) =>
  unavailable(`too many concurrent writes (${why}); retry shortly`, { retryAfterMs: RETRY_AFTER_MS });

export class WriteGate {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly options: WriteGateOptions) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Runs `work` when a slot is free. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /**
   * The database is unavailable (a running write found out): every queued write would find out the
   * same way, one timeout after another, so they are refused now.
   */
  failQueued(error: Error): void {
    for (const waiter of this.queue.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.options.concurrency && this.queue.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.options.maxQueued) {
      return Promise.reject(busy(`${this.queue.length} queued`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const index = this.queue.indexOf(waiter);
          if (index !== -1) this.queue.splice(index, 1);
          reject(busy(`waited ${this.options.maxWaitMs} ms`));
        }, this.options.maxWaitMs),
      };
      this.queue.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (!next) {
      this.running--;
      return;
    }
    clearTimeout(next.timer);
    next.resolve();
  }
}
