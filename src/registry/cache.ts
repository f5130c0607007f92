// The client's memory: one bounded map whose entries may expire, and single-flight sharing
// of identical fetches on top of it. Every cache of the registry client is one of these.

/** A bounded map whose entries may expire; the least recently used goes first when full. */
export class BoundedCache<T> {
  readonly #entries = new Map<string, { value: T; until: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(maxEntries: number, now: () => number = Date.now) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value while it has not expired (and marks it recently used). */
  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (this.#now() >= entry.until) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` until `until` (epoch ms; never expires by default), evicting the least recently used. */
  set(key: string, value: T, until = Number.POSITIVE_INFINITY): void {
    if (this.#maxEntries <= 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) this.#evict();
    this.#entries.set(key, { value, until });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  #evict(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (now >= entry.until) this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) return;
      this.#entries.delete(oldest.value);
    }
  }
}

/**
 * Single-flight plus a short-lived result cache. Callers asking for the same key while a
 * fetch runs share it; a success is reused for `ttlMs`; failures are never cached.
 */
export class SharedFetches<T> {
  readonly #inflight = new Map<string, Promise<T>>();
  readonly #recent: BoundedCache<T>;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; now?: () => number; maxEntries?: number }) {
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#recent = new BoundedCache(options.maxEntries ?? 2048, this.#now);
  }

  /** A fresh cached value, without fetching. */
  peek(key: string): T | undefined {
    return this.#recent.get(key);
  }

  /** Stores a value fetched by other means (e.g. a GET answers a later HEAD). */
  remember(key: string, value: T): void {
    if (this.#ttlMs > 0) this.#recent.set(key, value, this.#now() + this.#ttlMs);
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
}
