// An informer over an abstract list/watch source: a cache of objects kept current by an
// initial list and a watch, with add/update/delete handlers and secondary indexes.
// Unlike client-node's informer it never gives up: 410 Gone relists and diffs the cache, any
// other failure or end of the watch restarts it with capped backoff, and a watch that stays
// silent past a threshold is treated as dead and restarted.
import type { Logger } from "../log/index.ts";
import { ExponentialBackoff } from "./backoff.ts";
import { isGone } from "./errors.ts";
import { type KubeObjectLike, keyOf, keyString, type ObjectKey } from "./keys.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface ListWatchSource<T> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Starts a watch from `resourceVersion`. `onDone` is called at most once: without an error
   * when the server ended the watch, with one (carrying HTTP status 410 when the resource
   * version is too old) otherwise. It may be called before the returned promise resolves.
   */
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: T) => void,
    onDone: (err?: unknown) => void,
  ): Promise<{ abort(): void }>;
}

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T> {
  source: ListWatchSource<T>;
  logger: Logger;
  /** Shown in logs, e.g. "imagestreams". */
  name?: string;
  /** A watch with no event (bookmarks included) for this long is restarted (default 3 minutes). */
  silenceTimeoutMs?: number;
  /** Backoff between failed lists/watches (default 1 s doubling to 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Jitter source for the restart backoff; injectable for deterministic tests. */
  random?: () => number;
}

export type IndexFunc<T> = (obj: T) => string[];

/** The cache key of an object: `namespace/name`, or `name` when cluster-scoped. */
function cacheKey(obj: KubeObjectLike): string {
  return keyString(keyOf(obj));
}

type WatchOutcome =
  | { kind: "closed"; events: number }
  | { kind: "gone"; events: number }
  | { kind: "failed"; err: unknown; events: number }
  | { kind: "silent"; events: number }
  | { kind: "stopped"; events: number };

/**
 * A secondary index. Its function must be pure: an object's old values are computed again from
 * the cached old copy to unindex it, rather than kept per object (at 30,000 ImageStreamTags that
 * record cost several MiB; docs/memory.md).
 */
interface Index<T> {
  name: string;
  fn: IndexFunc<T>;
  /** index value -> keys of the objects that have it */
  keysByValue: Map<string, Set<string>>;
}

const RESTART_KEY = "watch";

export class Informer<T extends KubeObjectLike> {
  readonly #source: ListWatchSource<T>;
  readonly #log: Logger;
  readonly #silenceTimeoutMs: number;
  readonly #backoff: ExponentialBackoff;
  readonly #cache = new Map<string, T>();
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #indexes = new Map<string, Index<T>>();
  readonly #stop = new AbortController();
  #resourceVersion = "";
  #progressAt = Date.now();
  #synced = false;
  #started = false;
  readonly #syncWaiters: ((synced: boolean) => void)[] = [];
  #loop: Promise<void> | undefined;
  /** Ends the watch in progress, if any (set while a watch runs). */
  #endWatch: (() => void) | undefined;

  constructor(options: InformerOptions<T>) {
    this.#source = options.source;
    this.#log = options.logger.child({ informer: options.name ?? "informer" });
    this.#silenceTimeoutMs = options.silenceTimeoutMs ?? 3 * 60_000;
    this.#backoff = new ExponentialBackoff({
      baseMs: options.backoffBaseMs ?? 1000,
      maxMs: options.backoffMaxMs ?? 30_000,
      jitter: 0.2,
      ...(options.random ? { random: options.random } : {}),
    });
  }

  /** Registers handlers; returns a function that removes them. */
  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.#handlers.push(handlers);
    return () => {
      const at = this.#handlers.indexOf(handlers);
      if (at >= 0) this.#handlers.splice(at, 1);
    };
  }

  /** Adds a secondary index; objects already cached are indexed at once. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#indexes.has(name)) throw new Error(`index ${name} already exists`);
    const index: Index<T> = { name, fn, keysByValue: new Map() };
    this.#indexes.set(name, index);
    for (const [key, obj] of this.#cache) this.#addToIndex(index, key, this.#valuesOf(index, key, obj));
  }

  /** Cached objects whose index `name` yields `value`. */
  byIndex(name: string, value: string): T[] {
    const index = this.#indexes.get(name);
    if (!index) throw new Error(`no index named ${name}`);
    const keys = index.keysByValue.get(value);
    if (!keys) return [];
    const objects: T[] = [];
    for (const key of keys) {
      const obj = this.#cache.get(key);
      if (obj) objects.push(obj);
    }
    return objects;
  }

  /** The cached object of `key`'s namespace and name (a kind key's kind is not looked at). */
  get(key: ObjectKey): T | undefined {
    return this.#cache.get(keyString({ namespace: key.namespace, name: key.name }));
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  /** The resource version the cache is current to. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves true once the first list filled the cache, false if stopped before that. */
  waitForSync(): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (this.#stop.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#loop = this.#run();
  }

  /** Ends the watch and the restart loop; resolves once the loop has exited. */
  async stop(): Promise<void> {
    if (!this.#stop.signal.aborted) this.#stop.abort();
    this.#endWatch?.();
    this.#settleSyncWaiters(false);
    await this.#loop;
  }

  /**
   * Epoch ms when the informer last made progress: a list or watch started or ended, or an
   * event arrived. A healthy informer, even a failing one, moves at least once per silence
   * timeout plus backoff; a list or watch call that hangs forever does not (liveness).
   */
  lastProgress(): number {
    return this.#progressAt;
  }

  async #run(): Promise<void> {
    let needList = true;
    while (!this.#stop.signal.aborted) {
      this.#progressAt = Date.now();
      if (needList) {
        try {
          if (!(await this.#list())) return;
          needList = false;
        } catch (err) {
          if (this.#stop.signal.aborted) return;
          const delay = this.#backoff.when(RESTART_KEY);
          this.#log.warn({ err, delayMs: Math.round(delay) }, "list failed; retrying");
          await this.#sleep(delay);
          continue;
        }
      }
      const outcome = await this.#watchOnce(this.#resourceVersion);
      this.#progressAt = Date.now();
      // A watch that delivered events was healthy: its successor starts at the base delay.
      if (outcome.events > 0) this.#backoff.forget(RESTART_KEY);
      switch (outcome.kind) {
        case "stopped":
          return;
        case "gone":
          this.#log.info(
            { resourceVersion: this.#resourceVersion },
            "resource version expired (410); relisting",
          );
          needList = true;
          break;
        case "closed":
          // The server ends watches on its timeout; restart at once unless it ended with nothing.
          if (outcome.events === 0) await this.#sleep(this.#backoff.when(RESTART_KEY));
          break;
        case "silent": {
          const delay = this.#backoff.when(RESTART_KEY);
          // Expected on an idle cluster: a resource with no objects gets no bookmarks either.
          this.#log.debug(
            { silenceTimeoutMs: this.#silenceTimeoutMs, delayMs: Math.round(delay) },
            "watch silent too long; restarting",
          );
          await this.#sleep(delay);
          break;
        }
        case "failed": {
          const delay = this.#backoff.when(RESTART_KEY);
          this.#log.warn({ err: outcome.err, delayMs: Math.round(delay) }, "watch failed; restarting");
          await this.#sleep(delay);
          break;
        }
      }
    }
  }

  /**
   * Lists and replaces the cache; false when stopped meanwhile. A method of its own so that the
   * listed array dies here: kept in #run's suspended frame, it would hold every object as first
   * listed for as long as the watch runs (docs/memory.md).
   */
  async #list(): Promise<boolean> {
    const { items, resourceVersion } = await this.#source.list();
    this.#progressAt = Date.now();
    if (this.#stop.signal.aborted) return false;
    this.#replace(items, resourceVersion);
    this.#log.debug({ items: items.length, resourceVersion }, "listed");
    return true;
  }

  #watchOnce(resourceVersion: string): Promise<WatchOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      let events = 0;
      let handle: { abort(): void } | undefined;
      let silenceTimer: NodeJS.Timeout | undefined;
      const finish = (outcome: WatchOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(silenceTimer);
        this.#endWatch = undefined;
        handle?.abort();
        resolve(outcome);
      };
      const armSilenceTimer = (): void => {
        clearTimeout(silenceTimer);
        silenceTimer = setTimeout(() => finish({ kind: "silent", events }), this.#silenceTimeoutMs);
      };
      this.#endWatch = () => finish({ kind: "stopped", events });
      armSilenceTimer();
      const onEvent = (type: WatchEventType, obj: T): void => {
        if (settled) return;
        events++;
        this.#progressAt = Date.now();
        armSilenceTimer();
        this.#apply(type, obj);
      };
      const onDone = (err?: unknown): void => {
        if (err === undefined || err === null) finish({ kind: "closed", events });
        else if (isGone(err)) finish({ kind: "gone", events });
        else finish({ kind: "failed", err, events });
      };
      this.#source.watch(resourceVersion, onEvent, onDone).then(
        (started) => {
          handle = started;
          // The watch may have ended (or been stopped) before it finished starting.
          if (settled) started.abort();
        },
        (err: unknown) => onDone(err ?? new Error("watch failed to start")),
      );
    });
  }

  #apply(type: WatchEventType, obj: T): void {
    const resourceVersion = obj.metadata?.resourceVersion;
    if (resourceVersion) this.#resourceVersion = resourceVersion;
    if (type === "BOOKMARK") return;
    const key = cacheKey(obj);
    const old = this.#cache.get(key);
    if (type === "DELETED") {
      if (!old) return;
      this.#cache.delete(key);
      this.#reindex(key, old, undefined);
      this.#emitDelete(obj);
      return;
    }
    this.#cache.set(key, obj);
    this.#reindex(key, old, obj);
    if (old) this.#emitUpdate(old, obj);
    else this.#emitAdd(obj);
  }

  /** Replaces the cache with a fresh list, emitting the difference as add/update/delete. */
  #replace(items: T[], resourceVersion: string): void {
    const fresh = new Map<string, T>();
    for (const item of items) fresh.set(cacheKey(item), item);
    for (const [key, old] of [...this.#cache]) {
      if (fresh.has(key)) continue;
      this.#cache.delete(key);
      this.#reindex(key, old, undefined);
      this.#emitDelete(old);
    }
    for (const [key, obj] of fresh) {
      const old = this.#cache.get(key);
      this.#cache.set(key, obj);
      this.#reindex(key, old, obj);
      if (!old) this.#emitAdd(obj);
      // Unchanged objects (same resourceVersion) are not announced again.
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.#emitUpdate(old, obj);
    }
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      this.#settleSyncWaiters(true);
    }
  }

  /** Moves `key` from the index values of its old copy to those of its new one (either may be absent). */
  #reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const index of this.#indexes.values()) {
      const before = old === undefined ? [] : this.#valuesOf(index, key, old, false);
      const after = obj === undefined ? [] : this.#valuesOf(index, key, obj);
      if (before.length === after.length && before.every((v, i) => v === after[i])) continue;
      this.#removeFromIndex(index, key, before);
      this.#addToIndex(index, key, after);
    }
  }

  /** The distinct index values of `obj`; none when the index function throws (logged once, when indexing). */
  #valuesOf(index: Index<T>, key: string, obj: T, log = true): string[] {
    try {
      return [...new Set(index.fn(obj))];
    } catch (err) {
      if (log) this.#log.error({ err, index: index.name, key }, "index function threw; object not indexed");
      return [];
    }
  }

  #addToIndex(index: Index<T>, key: string, values: readonly string[]): void {
    for (const value of values) {
      let keys = index.keysByValue.get(value);
      if (!keys) {
        keys = new Set();
        index.keysByValue.set(value, keys);
      }
      keys.add(key);
    }
  }

  #removeFromIndex(index: Index<T>, key: string, values: readonly string[]): void {
    for (const value of values) {
      const keys = index.keysByValue.get(value);
      keys?.delete(key);
      if (keys?.size === 0) index.keysByValue.delete(value);
    }
  }

  #emitAdd(obj: T): void {
    for (const handlers of [...this.#handlers]) {
      if (handlers.onAdd) this.#safely("add", obj, () => handlers.onAdd?.(obj));
    }
  }

  #emitUpdate(oldObj: T, newObj: T): void {
    for (const handlers of [...this.#handlers]) {
      if (handlers.onUpdate) this.#safely("update", newObj, () => handlers.onUpdate?.(oldObj, newObj));
    }
  }

  #emitDelete(obj: T): void {
    for (const handlers of [...this.#handlers]) {
      if (handlers.onDelete) this.#safely("delete", obj, () => handlers.onDelete?.(obj));
    }
  }

  #safely(event: string, obj: T, call: () => void): void {
    // A handler's bug must not stop the informer or the other handlers.
    try {
      call();
    } catch (err) {
      this.#log.error({ err, event, key: cacheKey(obj) }, "informer handler threw");
    }
  }

  #settleSyncWaiters(synced: boolean): void {
    for (const resolve of this.#syncWaiters.splice(0)) resolve(synced);
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
