// A work queue with client-go semantics, push-based: keys are handed to `process` with bounded
// concurrency (p-queue). A key waits in the queue at most once, is never processed twice at
// once, and a key added while it is being processed runs again once it finishes.
import PQueue from "p-queue";
import { ExponentialBackoff, type RateLimiter } from "./backoff.ts";

export type ProcessFn = (key: string, signal: AbortSignal) => Promise<void>;

/** Hooks for metrics; the queue itself depends on no metrics library. */
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

export interface WorkQueueOptions {
  process: ProcessFn;
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

export class WorkQueue {
  readonly #process: ProcessFn;
  readonly #concurrency: number;
  readonly #rateLimiter: RateLimiter;
  readonly #hooks: WorkQueueHooks;
  readonly #workers: PQueue;
  /** Keys waiting to be processed, in order; each also in #dirty. */
  readonly #queue: string[] = [];
  /** Keys that need processing: waiting in #queue, or to run again after the current run. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** When each dirty key was added, for queue latency. */
  readonly #addedAt = new Map<string, number>();
  readonly #delayed = new Map<string, { readyAt: number; timer: NodeJS.Timeout }>();
  /** Aborted when a shutdown deadline passes, so in-flight work can give up. */
  readonly #abort = new AbortController();
  #started: boolean;
  #shuttingDown = false;
  readonly counters: WorkQueueCounters = { adds: 0, retries: 0, processed: 0, errors: 0 };

  constructor(options: WorkQueueOptions) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.#process = options.process;
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

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  start(): void {
    if (this.#started || this.#shuttingDown) return;
    this.#started = true;
    this.#pump();
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#addedAt.set(key, Date.now());
    this.counters.adds++;
    this.#safeHook(() => this.#hooks.onAdd?.(key));
    // A key being processed is queued again only when that run finishes.
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#pump();
  }

  /** Adds `key` after `ms`; if it is already waiting, the earlier time wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.#cancelDelayed(key);
      this.add(key);
      return;
    }
    const readyAt = Date.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing && existing.readyAt <= readyAt) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { readyAt, timer });
  }

  /** Adds `key` after its per-key backoff delay, counting one more failure. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.counters.retries++;
    this.#safeHook(() => this.#hooks.onRetry?.(key));
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Resets the backoff of `key` (call after it was processed successfully). */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  /** Consecutive failures of `key` since it was last forgotten. */
  retries(key: string): number {
    return this.#rateLimiter.retries(key);
  }

  /**
   * Stops accepting keys, drops waiting and delayed ones (level-triggered controllers see them
   * again on the next start) and waits for in-flight work. Resolves true once it finished, or
   * false when `timeoutMs` passed first; in-flight work is then signalled to abort.
   */
  async shutdown(timeoutMs = 30_000): Promise<boolean> {
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    for (const key of this.#queue) {
      this.#dirty.delete(key);
      this.#addedAt.delete(key);
    }
    this.#queue.length = 0;
    // Reruns pending behind in-flight keys are dropped too.
    this.#dirty.clear();
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
      const key = this.#queue.shift() as string;
      this.#dirty.delete(key);
      this.#processing.add(key);
      const addedAt = this.#addedAt.get(key);
      this.#addedAt.delete(key);
      if (addedAt !== undefined) {
        const latency = Date.now() - addedAt;
        this.#safeHook(() => this.#hooks.onQueueLatency?.(key, latency));
      }
      void this.#workers.add(() => this.#run(key));
    }
  }

  async #run(key: string): Promise<void> {
    const started = Date.now();
    try {
      await this.#process(key, this.#abort.signal);
    } catch (err) {
      this.counters.errors++;
      this.#safeHook(() => this.#hooks.onProcessError?.(key, err));
    } finally {
      this.counters.processed++;
      const duration = Date.now() - started;
      this.#safeHook(() => this.#hooks.onWorkDuration?.(key, duration));
      this.#processing.delete(key);
      if (this.#dirty.has(key)) this.#queue.push(key);
    }
  }

  #cancelDelayed(key: string): void {
    const existing = this.#delayed.get(key);
    if (!existing) return;
    clearTimeout(existing.timer);
    this.#delayed.delete(key);
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
