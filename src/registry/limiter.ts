// Sharing and throttling: identical concurrent fetches run once, recent results are reused
// for a short window, and every registry gets one concurrency limit and request budget that
// all image streams share.

import PQueue from "p-queue";
import { RegistryError } from "./errors.ts";

/**
 * Single-flight plus a short-lived result cache. Callers asking for the same key while a
 * fetch runs share it; a success is reused for `ttlMs`; failures are never cached.
 */
export class SharedFetches<T> {
  readonly #inflight = new Map<string, Promise<T>>();
  readonly #recent = new Map<string, { value: T; until: number }>();
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #maxEntries: number;

  constructor(options: { ttlMs: number; now?: () => number; maxEntries?: number }) {
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 2048;
  }

  /** A fresh cached value, without fetching. */
  peek(key: string): T | undefined {
    const hit = this.#recent.get(key);
    if (!hit) return undefined;
    if (this.#now() >= hit.until) {
      this.#recent.delete(key);
      return undefined;
    }
    return hit.value;
  }

  /** Stores a value fetched by other means (e.g. a GET answers a later HEAD). */
  remember(key: string, value: T): void {
    if (this.#ttlMs <= 0) return;
    if (this.#recent.size >= this.#maxEntries) this.#evict();
    this.#recent.delete(key);
    this.#recent.set(key, { value, until: this.#now() + this.#ttlMs });
  }

  /** `fresh` skips values fetched earlier or in flight: the caller needs an answer from now. */
  get(key: string, fetch: () => Promise<T>, fresh = false): Promise<T> {
    if (!fresh) {
      const cached = this.peek(key);
      if (cached !== undefined) return Promise.resolve(cached);
      const running = this.#inflight.get(key);
      if (running) return running;
    }
    const promise = fetch().then(
      (value) => {
        this.#inflight.delete(key);
        this.remember(key, value);
        return value;
      },
      (err: unknown) => {
        this.#inflight.delete(key);
        throw err;
      },
    );
    this.#inflight.set(key, promise);
    return promise;
  }

  #evict(): void {
    const now = this.#now();
    for (const [key, entry] of this.#recent) if (now >= entry.until) this.#recent.delete(key);
    if (this.#recent.size >= this.#maxEntries) {
      const oldest = this.#recent.keys().next();
      if (!oldest.done) this.#recent.delete(oldest.value);
    }
  }
}

/** Bounded least-recently-used map for content-addressed (immutable) results. */
export class LruCache<T> {
  readonly #map = new Map<string, T>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): T | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }
  set(key: string, value: T): void {
    if (this.#max <= 0) return;
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }
}

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
