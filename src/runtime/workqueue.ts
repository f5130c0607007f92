// A work queue with client-go semantics, push-based: keys are handed to `process` with bounded
// concurrency (p-queue). A key waits in the queue at most once, is never processed twice at
// once, and a key added while it is being processed runs again once it finishes. Keys may be
// any value with a canonical string form (`identify`); the queue de-duplicates by that string.
import PQueue from "p-queue";
import { ExponentialBackoff, type RateLimiter } from "./backoff.ts";
import { Delays } from "./delays.ts";

export type ProcessFn<K> = (key: K, signal: AbortSignal) => Promise<void>;

/** Hooks for metrics (called with the key's canonical string); the queue depends on no metrics library. */
export interface WorkQueueHooks {
  /** A key was accepted into the queue (not called for duplicates). */
  onAdd?(key: string): void;
  /** A key was scheduled again through the rate limiter. */
  onRetry?(key: string): void;
  /** Time a key waited in the queue before processing started. */
  onQueueLatency?(key: string, ms: number): void;
  /** Time one processing of a key took. */
  onWorkDuration?(key: string, ms: number): void;
  /** `process` rejected; the queue does not requeue by itself, the caller decides. */
  onProcessError?(key: string, err: unknown): void;
}

export interface WorkQueueOptions<K> {
  process: ProcessFn<K>;
  /** The canonical string of a key (default String). Equal strings are one key. */
  identify?: (key: K) => string;
  /** Keys processed at the same time (default 1). */
  concurrency?: number;
  rateLimiter?: RateLimiter;
  hooks?: WorkQueueHooks;
  /** Start handing out keys at once (default true); otherwise call start(). */
  autoStart?: boolean;
}

export interface WorkQueueCounters {
  adds: number;
  retries: number;
  processed: number;
  errors: number;
}

export class WorkQueue<K = string> {
  readonly #process: ProcessFn<K>;
  readonly #identify: (key: K) => string;
  readonly #concurrency: number;
  readonly #rateLimiter: RateLimiter;
  readonly #hooks: WorkQueueHooks;
  readonly #workers: PQueue;
  /** The key behind each id waiting in #queue or #dirty. */
  readonly #keys = new Map<string, K>();
  /** Ids of keys waiting to be processed, in order; each also in #dirty. */
  readonly #queue: string[] = [];
  /** Keys that need processing: waiting in #queue, or to run again after the current run. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** When each dirty key was added, for queue latency. */
  readonly #addedAt = new Map<string, number>();
  readonly #delayed = new Delays<K>((key) => this.add(key));
  /** Aborted when a shutdown deadline passes, so in-flight work can give up. */
  readonly #abort = new AbortController();
  #started: boolean;
  #shuttingDown = false;
  readonly counters: WorkQueueCounters = { adds: 0, retries: 0, processed: 0, errors: 0 };

  constructor(options: WorkQueueOptions<K>) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.#process = options.process;
    this.#identify = options.identify ?? String;
    this.#concurrency = concurrency;
    this.#rateLimiter = options.rateLimiter ?? new ExponentialBackoff();
    this.#hooks = options.hooks ?? {};
    this.#workers = new PQueue({ concurrency });
    // "next" fires once p-queue has freed a slot: the moment another waiting key can start.
    this.#workers.on("next", () => this.#pump());
    this.#started = options.autoStart ?? true;
  }

  /** Keys waiting to be processed (not counting those in flight or delayed). */
  get depth(): number {
    return this.#queue.length;
  }

  /** Keys being processed right now. */
  get inFlight(): number {
    return this.#processing.size;
  }

  /** Keys waiting for a delayed add. */
  get delayed(): number {
    return this.#delayed.size;
  }

  start(): void {
    if (this.#started || this.#shuttingDown) return;
    this.#started = true;
    this.#pump();
  }

  add(key: K): void {
    const id = this.#identify(key);
    if (this.#shuttingDown || this.#dirty.has(id)) return;
    this.#dirty.add(id);
    this.#keys.set(id, key);
    this.#addedAt.set(id, Date.now());
    this.counters.adds++;
    this.#safeHook(() => this.#hooks.onAdd?.(id));
    // A key being processed is queued again only when that run finishes.
    if (this.#processing.has(id)) return;
    this.#queue.push(id);
    this.#pump();
  }

  /** Adds `key` after `ms`; if it is already waiting, the earlier time wins. */
  addAfter(key: K, ms: number): void {
    if (this.#shuttingDown) return;
    const id = this.#identify(key);
    if (!(ms > 0)) {
      this.#delayed.delete(id);
      this.add(key);
      return;
    }
    const readyAt = Date.now() + ms;
    const existing = this.#delayed.readyAt(id);
    if (existing !== undefined && existing <= readyAt) return;
    this.#delayed.set(id, key, readyAt);
  }

  /** Adds `key` after its per-key backoff delay, counting one more failure. */
  addRateLimited(key: K): void {
    if (this.#shuttingDown) return;
    const id = this.#identify(key);
    this.counters.retries++;
    this.#safeHook(() => this.#hooks.onRetry?.(id));
    this.addAfter(key, this.#rateLimiter.when(id));
  }

  /** Resets the backoff of `key` (call after it was processed successfully). */
  forget(key: K): void {
    this.#rateLimiter.forget(this.#identify(key));
  }

  /** Consecutive failures of `key` since it was last forgotten. */
  retries(key: K): number {
    return this.#rateLimiter.retries(this.#identify(key));
  }

  /**
   * Stops accepting keys, drops waiting and delayed ones (level-triggered controllers see them
   * again on the next start) and waits for in-flight work. Resolves true once it finished, or
   * false when `timeoutMs` passed first; in-flight work is then signalled to abort.
   */
  async shutdown(timeoutMs = 30_000): Promise<boolean> {
    this.#shuttingDown = true;
    this.#delayed.clear();
    for (const key of this.#queue) {
      this.#dirty.delete(key);
      this.#addedAt.delete(key);
    }
    this.#queue.length = 0;
    // Reruns pending behind in-flight keys are dropped too.
    this.#dirty.clear();
    this.#keys.clear();
    this.#addedAt.clear();
    if (this.#processing.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = this.#workers.onIdle().then(() => true as const);
    const result = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (!result) this.#abort.abort(new Error("work queue shutdown deadline passed"));
    return result;
  }

  #pump(): void {
    if (!this.#started) return;
    // Hand p-queue only as many keys as it can start, so waiting keys stay here, de-duplicated.
    while (this.#queue.length > 0 && this.#workers.pending + this.#workers.size < this.#concurrency) {
      const id = this.#queue.shift() as string;
      const key = this.#keys.get(id) as K;
      this.#keys.delete(id);
      this.#dirty.delete(id);
      this.#processing.add(id);
      const addedAt = this.#addedAt.get(id);
      this.#addedAt.delete(id);
      if (addedAt !== undefined) {
        const latency = Date.now() - addedAt;
        this.#safeHook(() => this.#hooks.onQueueLatency?.(id, latency));
      }
      void this.#workers.add(() => this.#run(id, key));
    }
  }

  async #run(id: string, key: K): Promise<void> {
    const started = Date.now();
    try {
      await this.#process(key, this.#abort.signal);
    } catch (err) {
      this.counters.errors++;
      this.#safeHook(() => this.#hooks.onProcessError?.(id, err));
    } finally {
      this.counters.processed++;
      const duration = Date.now() - started;
      this.#safeHook(() => this.#hooks.onWorkDuration?.(id, duration));
      this.#processing.delete(id);
      if (this.#dirty.has(id)) this.#queue.push(id);
    }
  }

  #safeHook(call: () => void): void {
    // A broken metrics hook must never break the queue.
    try {
      call();
    } catch {
      // ignored on purpose
    }
  }
}
