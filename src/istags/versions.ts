// Which resource versions the ImageStreamTag controller replaced or wrote itself: bookkeeping
// of its watch predicates and its stale-cache check, kept apart so it is unit-tested alone.
import type { ObjectKey } from "../runtime/index.ts";

/** A version this controller superseded or wrote is forgotten after this long (bounds memory). */
export const VERSION_MARK_TTL_MS = 5 * 60_000;

/**
 * Resource versions per object key (`is/ns/name`, `istag/ns/name`), each forgotten after
 * VERSION_MARK_TTL_MS; expired entries are swept on the next mark after a TTL has passed, so
 * versions whose event never comes (the object deleted, the event seen before the write's
 * answer) do not pile up.
 */
export class VersionMarks {
  readonly #entries = new Map<string, { versions: Set<string>; until: number }>();
  readonly #now: () => number;
  #sweepAt = 0;
  constructor(now: () => number) {
    this.#now = now;
  }
  mark(key: string, resourceVersion: string | undefined): void {
    if (!resourceVersion) return;
    const now = this.#now();
    if (now >= this.#sweepAt) {
      for (const [k, entry] of this.#entries) if (entry.until < now) this.#entries.delete(k);
      this.#sweepAt = now + VERSION_MARK_TTL_MS;
    }
    const entry = this.#entries.get(key) ?? { versions: new Set<string>(), until: 0 };
    entry.versions.add(resourceVersion);
    entry.until = now + VERSION_MARK_TTL_MS;
    this.#entries.set(key, entry);
  }
  /** Whether `resourceVersion` is marked for `key` (and not expired). */
  has(key: string, resourceVersion: string | undefined): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    if (entry.until < this.#now()) {
      this.#entries.delete(key);
      return false;
    }
    return resourceVersion !== undefined && entry.versions.has(resourceVersion);
  }
  /** Whether any version is marked for `key`. */
  hasAny(key: string): boolean {
    return (this.#entries.get(key)?.versions.size ?? 0) > 0;
  }
  /** Forgets one version; true when `key` has none left. */
  unmark(key: string, resourceVersion: string | undefined): boolean {
    const entry = this.#entries.get(key);
    if (entry && resourceVersion !== undefined) entry.versions.delete(resourceVersion);
    if (entry && entry.versions.size > 0) return false;
    this.#entries.delete(key);
    return true;
  }
  forget(key: string): void {
    this.#entries.delete(key);
  }
}

/**
 * Tells the events of this controller's own writes from everyone else's. A write's answer marks
 * the version it produced, and the event showing that version is consumed. The watch can deliver
 * a write before its answer has been read, so an event for an object with a write in flight is
 * held until the answer: the written version is consumed, the others are handed back to be
 * reconciled. `caughtUp` is told when the cache shows the last version this controller wrote.
 */
export class OwnWrites {
  readonly #marks: VersionMarks;
  readonly #inFlight = new Map<string, { writes: number; held: { version?: string; keys: ObjectKey[] }[] }>();
  readonly #caughtUp: (markKey: string) => void;
  constructor(now: () => number, caughtUp: (markKey: string) => void) {
    this.#marks = new VersionMarks(now);
    this.#caughtUp = caughtUp;
  }
  begin(markKey: string): void {
    const entry = this.#inFlight.get(markKey) ?? { writes: 0, held: [] };
    entry.writes++;
    this.#inFlight.set(markKey, entry);
  }
  /** The write's answer (no version when it failed); returns the keys of held events that were not it. */
  end(markKey: string, version: string | undefined): ObjectKey[] {
    const entry = this.#inFlight.get(markKey);
    const at = version === undefined ? -1 : (entry?.held.findIndex((h) => h.version === version) ?? -1);
    if (entry && at >= 0) {
      entry.held.splice(at, 1);
      if (!this.#marks.hasAny(markKey)) this.#caughtUp(markKey);
    } else this.#marks.mark(markKey, version);
    if (!entry) return [];
    entry.writes--;
    if (entry.writes > 0) return [];
    this.#inFlight.delete(markKey);
    return entry.held.flatMap((h) => h.keys);
  }
  /** Whether an event needs a reconcile now: not for an own write, nor while a write's answer is awaited. */
  admit(markKey: string, version: string | undefined, keys: () => ObjectKey[]): boolean {
    if (this.#marks.has(markKey, version)) {
      if (this.#marks.unmark(markKey, version)) this.#caughtUp(markKey);
      return false;
    }
    const entry = this.#inFlight.get(markKey);
    if (!entry) return true;
    entry.held.push({ ...(version === undefined ? {} : { version }), keys: keys() });
    return false;
  }
}
