// Collects the firings of a tag change until they stop coming, so that its Events can be
// planned for the whole fan-out at once (planFiredEvents). The patches never wait for this:
// only the Events are written late, a quiet period after the batch's last firing.

import { type Firing, firingBatchKey } from "./events.ts";

export interface FiredBatchesOptions {
  /** A batch is reported once no firing joined it for this long (default 1 s). */
  quietMs?: number;
  /** ...or this long after its first firing, whichever comes first (default 10 s). */
  maxWaitMs?: number;
  report(firings: Firing[]): void;
}

interface Batch {
  readonly firings: Firing[];
  readonly startedAt: number;
  timer: NodeJS.Timeout;
}

export class FiredBatches {
  readonly #quietMs: number;
  readonly #maxWaitMs: number;
  readonly #report: (firings: Firing[]) => void;
  readonly #batches = new Map<string, Batch>();

  constructor(options: FiredBatchesOptions) {
    this.#quietMs = options.quietMs ?? 1000;
    this.#maxWaitMs = options.maxWaitMs ?? 10_000;
    this.#report = options.report;
  }

  add(firing: Firing): void {
    const key = firingBatchKey(firing);
    const now = Date.now();
    const batch = this.#batches.get(key);
    if (batch === undefined) {
      this.#batches.set(key, {
        firings: [firing],
        startedAt: now,
        timer: this.#schedule(key, this.#quietMs),
      });
      return;
    }
    batch.firings.push(firing);
    clearTimeout(batch.timer);
    batch.timer = this.#schedule(key, Math.min(this.#quietMs, batch.startedAt + this.#maxWaitMs - now));
  }

  /** Reports every batch now (at shutdown). */
  flush(): void {
    for (const key of [...this.#batches.keys()]) this.#flush(key);
  }

  get pending(): number {
    return this.#batches.size;
  }

  #schedule(key: string, delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.#flush(key), Math.max(0, delayMs));
    timer.unref();
    return timer;
  }

  #flush(key: string): void {
    const batch = this.#batches.get(key);
    if (batch === undefined) return;
    this.#batches.delete(key);
    clearTimeout(batch.timer);
    this.#report(batch.firings);
  }
}
