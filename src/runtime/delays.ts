// Keys waiting for a time, with one timer for all of them. A timer per key cost about 400 bytes
// (a Timeout, its closure and a map entry) for each of 10,000 streams waiting for their next
// scheduled check (docs/memory.md cause 10); here a key costs one small entry in a binary heap.

interface Entry<K> {
  readonly readyAt: number;
  readonly id: string;
  readonly key: K;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class Delays<K> {
  readonly #fire: (key: K) => void;
  readonly #now: () => number;
  /** The live entry of each waiting id; heap entries that are not in here are stale. */
  readonly #live = new Map<string, Entry<K>>();
  /** Min-heap by readyAt; may hold stale entries (replaced or cancelled), skipped when popped. */
  #heap: Entry<K>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  /** `fire` is called with each key once its time has come (and it was not cancelled). */
  constructor(fire: (key: K) => void, now: () => number = () => Date.now()) {
    this.#fire = fire;
    this.#now = now;
  }

  get size(): number {
    return this.#live.size;
  }

  /** When `id` is due, if it waits. */
  readyAt(id: string): number | undefined {
    return this.#live.get(id)?.readyAt;
  }

  /** `key` (known as `id`) fires at `readyAt`, replacing its earlier wait if any. */
  set(id: string, key: K, readyAt: number): void {
    const entry = { readyAt, id, key };
    this.#live.set(id, entry);
    this.#push(entry);
    // Replaced and cancelled entries stay in the heap until popped; rebuild when they dominate.
    if (this.#heap.length > 2 * this.#live.size + 1024) this.#rebuild();
    this.#arm();
  }

  delete(id: string): void {
    this.#live.delete(id);
    if (this.#live.size === 0) this.clear();
  }

  clear(): void {
    this.#live.clear();
    this.#heap = [];
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #arm(): void {
    const next = this.#heap[0];
    if (!next || next.readyAt >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = next.readyAt;
    // setTimeout takes at most 2^31-1 ms; a later time fires early, finds nothing due and re-arms.
    const ms = Math.min(MAX_TIMEOUT_MS, Math.max(0, next.readyAt - this.#now()));
    this.#timer = setTimeout(() => this.#due(), ms);
  }

  #due(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#now();
    const due: K[] = [];
    while (this.#heap.length > 0 && (this.#heap[0] as Entry<K>).readyAt <= now) {
      const entry = this.#pop();
      if (this.#live.get(entry.id) !== entry) continue;
      this.#live.delete(entry.id);
      due.push(entry.key);
    }
    this.#arm();
    for (const key of due) this.#fire(key);
  }

  #rebuild(): void {
    this.#heap = [];
    for (const entry of this.#live.values()) this.#push(entry);
  }

  #push(entry: Entry<K>): void {
    const heap = this.#heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Entry<K>).readyAt <= entry.readyAt) break;
      heap[i] = heap[parent] as Entry<K>;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry<K> {
    const heap = this.#heap;
    const top = heap[0] as Entry<K>;
    const last = heap.pop() as Entry<K>;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && (heap[right] as Entry<K>).readyAt < (heap[left] as Entry<K>).readyAt
          ? right
          : left;
      if ((heap[child] as Entry<K>).readyAt >= last.readyAt) break;
      heap[i] = heap[child] as Entry<K>;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
