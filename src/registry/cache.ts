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

interface Fetched<T> {
  value: T;
  /** When the fetch that produced the value started: what "fresh after T" compares. */
  startedAt: number;
  completedAt: number;
}

export interface SharedFetchesOptions {
  /** How long a result answers callers that ask for no particular freshness (0: never). */
  ttlMs: number;
  /** How long a result is kept for callers that name the freshness they need (default: ttlMs). */
  retainMs?: number;
  now?: () => number;
  maxEntries?: number;
}

/**
 * Single-flight plus a result cache; failures are never cached. A caller either takes what
 * was fetched within the TTL, or names `startedAfter`: then any fetch that started at or
 * after that time answers it, still running or done (kept for `retainMs`), and nothing
 * older does. That is how a re-import request sees a push made just before it, and still
 * shares one registry lookup among every stream that asked after the push.
 */
export class SharedFetches<T> {
  readonly #inflight = new Map<string, { promise: Promise<T>; startedAt: number }>();
  readonly #results: BoundedCache<Fetched<T>>;
  readonly #ttlMs: number;
  readonly #keepMs: number;
  readonly #now: () => number;

  constructor(options: SharedFetchesOptions) {
    this.#ttlMs = options.ttlMs;
    this.#keepMs = Math.max(options.ttlMs, options.retainMs ?? options.ttlMs);
    this.#now = options.now ?? Date.now;
    this.#results = new BoundedCache(options.maxEntries ?? 2048, this.#now);
  }

  /** A cached value fresh enough for the caller, without fetching. */
  peek(key: string, startedAfter?: number): T | undefined {
    const hit = this.#results.get(key);
    if (!hit) return undefined;
    if (startedAfter !== undefined) return hit.startedAt >= startedAfter ? hit.value : undefined;
    return this.#now() < hit.completedAt + this.#ttlMs ? hit.value : undefined;
  }

  /** The last value fetched, however old (a hint of what the next fetch will find). */
  latest(key: string): T | undefined {
    return this.#results.get(key)?.value;
  }

  /** Stores a value fetched by other means (e.g. a GET answers a later HEAD). */
  remember(key: string, value: T, startedAt = this.#now()): void {
    if (this.#keepMs <= 0) return;
    // A slower, older fetch finishing last must not replace a newer answer.
    const kept = this.#results.get(key);
    if (kept && kept.startedAt > startedAt) return;
    const now = this.#now();
    this.#results.set(key, { value, startedAt, completedAt: now }, now + this.#keepMs);
  }

  get(key: string, fetch: () => Promise<T>, startedAfter?: number): Promise<T> {
    const cached = this.peek(key, startedAfter);
    if (cached !== undefined) return Promise.resolve(cached);
    const running = this.#inflight.get(key);
    if (running && (startedAfter === undefined || running.startedAt >= startedAfter)) return running.promise;
    const startedAt = this.#now();
    const promise = fetch().then(
      (value) => {
        if (this.#inflight.get(key)?.promise === promise) this.#inflight.delete(key);
        this.remember(key, value, startedAt);
        return value;
      },
      (err: unknown) => {
        if (this.#inflight.get(key)?.promise === promise) this.#inflight.delete(key);
        throw err;
      },
    );
    this.#inflight.set(key, { promise, startedAt });
    return promise;
  }
}
