// Throttling: every registry gets one concurrency limit and request budget that all image
// streams share, and a 429 pauses every caller of that registry.

import PQueue from "p-queue";
import { RegistryError } from "./errors.ts";

export interface BudgetOptions {
  /** Requests in flight at once to this registry. */
  concurrency: number;
  /** Requests started per second (sliding window). */
  requestsPerSecond: number;
  /** Wait at most this long for a 429 backoff to end; beyond it, fail with TooManyRequests. */
  maxBackoffWaitMs: number;
  /** Backoff after a 429 without `Retry-After`; doubles on consecutive 429s. */
  defaultBackoffMs: number;
  now?: () => number;
}

/**
 * One registry's shared budget. A 429 pauses every caller until `Retry-After` has passed:
 * short pauses are waited out, longer ones fail fast so controllers requeue instead of
 * holding work.
 */
export class RegistryBudget {
  readonly #queue: PQueue;
  readonly #options: BudgetOptions;
  readonly #now: () => number;
  #blockedUntil = 0;
  #consecutive429 = 0;
  #resumeTimer: NodeJS.Timeout | undefined;

  constructor(options: BudgetOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#queue = new PQueue({
      concurrency: options.concurrency,
      intervalCap: Math.max(1, options.requestsPerSecond),
      interval: 1000,
      strict: true,
    });
  }

  /** Milliseconds left in the current backoff (0 when not backing off). */
  backoffRemainingMs(): number {
    return Math.max(0, this.#blockedUntil - this.#now());
  }

  get pending(): number {
    return this.#queue.pending;
  }

  get queued(): number {
    return this.#queue.size;
  }

  async run<T>(task: () => Promise<T>, registry: string): Promise<T> {
    const remaining = this.backoffRemainingMs();
    if (remaining > this.#options.maxBackoffWaitMs) {
      const retryAfter = Math.ceil(remaining / 1000);
      throw new RegistryError(
        "TooManyRequests",
        `registry "${registry}" is rate limiting requests; retry after ${retryAfter}s`,
        { retryAfter, status: 429 },
      );
    }
    return this.#queue.add(task);
  }

  /** Records a 429; returns the backoff applied, in seconds. */
  rateLimited(retryAfterSeconds: number | undefined): number {
    this.#consecutive429++;
    const fallback = this.#options.defaultBackoffMs * 2 ** Math.min(this.#consecutive429 - 1, 6);
    const waitMs = retryAfterSeconds === undefined ? fallback : retryAfterSeconds * 1000;
    const until = this.#now() + waitMs;
    if (until > this.#blockedUntil) {
      this.#blockedUntil = until;
      this.#queue.pause();
      clearTimeout(this.#resumeTimer);
      this.#resumeTimer = setTimeout(() => {
        this.#resumeTimer = undefined;
        this.#queue.start();
      }, waitMs);
      this.#resumeTimer.unref?.();
    }
    return Math.ceil(waitMs / 1000);
  }

  succeeded(): void {
    this.#consecutive429 = 0;
  }
}
