// What a cached object costs: JSON.parse allocates every string and every object anew, so
// 30,000 ImageStreamTags naming 30 images hold 30,000 copies of the same apiVersion, namespace,
// media types and image metadata (docs/memory.md). Before an object enters an informer's cache
// its repeated strings are replaced by one shared copy, and the fields its resource declares as
// content (e.g. an ImageStreamTag's image) by one shared, frozen object per distinct content.
import { createHash } from "node:crypto";
import { isRecord } from "../api/index.ts";

/** Keys whose values are unique per object: interning them would only fill the table. */
const UNIQUE_KEYS = new Set(["uid", "resourceVersion"]);
/** Longer strings are rarely repeated verbatim (certificates, scripts); left as they are. */
const MAX_INTERNED_LENGTH = 512;

/**
 * A table of canonical values that forgets what is no longer used: two generations, the young
 * one replaced once it holds `capacity` entries; a value found in the old one moves to the
 * young one. Memory stays bounded (at most 2 x capacity entries) without reference counting.
 */
class Generations<V> {
  readonly #capacity: number;
  #young = new Map<string, V>();
  #old = new Map<string, V>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The canonical value for `key`, `make()` the first time. */
  get(key: string, make: () => V): V {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const value = this.#old.get(key) ?? make();
    if (this.#young.size >= this.#capacity) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
    return value;
  }
}

export interface CompactorOptions {
  /** Distinct strings kept per generation (default 50,000). */
  strings?: number;
  /** Distinct shared field values kept per generation (default 5,000). */
  shared?: number;
}

/**
 * `obj` without `metadata.managedFields`: no controller reads it, and it grows with the object's
 * spec (most of a metadata-only cache's memory, measured with 3000 Deployments). The one place
 * that rule lives: the list/watch source's default, and the first step of `Compactor.compact`.
 */
export function withoutManagedFields<T>(obj: T): T {
  if (!isRecord(obj) || !isRecord(obj.metadata) || !("managedFields" in obj.metadata)) return obj;
  // Rebuilt rather than `delete`d: a deleted property turns every cached metadata into a
  // dictionary-mode object (about 800 bytes instead of 400, docs/memory.md).
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  (obj as Record<string, unknown>).metadata = metadata;
  return obj;
}

/**
 * Where a resource's shared fields are, compiled from their paths: `image` (a top-level key),
 * `metadata.ownerReferences` (a nested one), `spec.tags[]` (each element of a list),
 * `status.tags[].items[]` (each element of lists inside a list).
 */
interface SharePlan {
  /** This value is replaced by its shared copy. */
  share?: true;
  /** Plans for the named fields of this object. */
  fields?: Map<string, SharePlan>;
  /** The plan for each element of this list. */
  each?: SharePlan;
}

function compilePlan(paths: readonly string[]): SharePlan {
  const root: SharePlan = {};
  for (const path of paths) {
    let plan = root;
    for (const segment of path.split(".")) {
      const name = segment.endsWith("[]") ? segment.slice(0, -2) : segment;
      plan.fields ??= new Map();
      let next = plan.fields.get(name);
      if (!next) {
        next = {};
        plan.fields.set(name, next);
      }
      plan = next;
      if (segment.endsWith("[]")) {
        plan.each ??= {};
        plan = plan.each;
      }
    }
    plan.share = true;
  }
  return root;
}

/** Shrinks objects before they are cached; one per process, so every informer shares its tables. */
export class Compactor {
  readonly #strings: Generations<string>;
  readonly #shared: Generations<unknown>;
  /** Compiled once per list of paths (resource types hold theirs frozen, so identity works). */
  readonly #plans = new WeakMap<readonly string[], SharePlan>();

  constructor(options: CompactorOptions = {}) {
    this.#strings = new Generations(options.strings ?? 50_000);
    this.#shared = new Generations(options.shared ?? 5_000);
  }

  /**
   * `obj` without `metadata.managedFields`, its strings interned, and each value at a path of
   * `sharedFields` (see SharePlan: `image`, `metadata.ownerReferences`, `spec.tags[]`) replaced
   * by the one frozen copy of equal content. Rebuilt in place: `obj` must be freshly parsed.
   * Never mutate a cached object: shared values are frozen, so a mutation fails loudly.
   */
  compact<T>(obj: T, sharedFields: readonly string[] = []): T {
    if (!isRecord(obj)) return obj;
    let plan = this.#plans.get(sharedFields);
    if (!plan) {
      plan = compilePlan(sharedFields);
      this.#plans.set(sharedFields, plan);
    }
    return this.#apply(withoutManagedFields(obj), plan, "") as T;
  }

  #apply(value: unknown, plan: SharePlan, key: string): unknown {
    if (value === null || typeof value !== "object") return this.#intern(value, key);
    if (plan.share) return this.#share(value);
    if (plan.each && Array.isArray(value)) {
      const each = plan.each;
      for (let i = 0; i < value.length; i++) value[i] = this.#apply(value[i], each, key);
      return value;
    }
    if (plan.fields && isRecord(value)) {
      for (const k of Object.keys(value)) {
        const field = plan.fields.get(k);
        value[k] = field ? this.#apply(value[k], field, k) : this.#intern(value[k], k);
      }
      return value;
    }
    return this.#intern(value, key);
  }

  /** The value with its strings replaced by their canonical copies (objects rebuilt in place). */
  #intern(value: unknown, key: string): unknown {
    if (typeof value === "string") {
      if (value.length > MAX_INTERNED_LENGTH || UNIQUE_KEYS.has(key)) return value;
      return this.#strings.get(value, () => value);
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.#intern(value[i], key);
      return value;
    }
    if (isRecord(value)) {
      for (const k of Object.keys(value)) value[k] = this.#intern(value[k], k);
      return value;
    }
    return value;
  }

  /** The one frozen copy of `value`'s content (by SHA-256 of its JSON). */
  #share(value: object): unknown {
    const json = JSON.stringify(value);
    const key = createHash("sha256").update(json).digest("base64");
    return this.#shared.get(key, () => deepFreeze(this.#intern(value, "")));
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
