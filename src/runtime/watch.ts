// What a controller watches: informer events, filtered by predicates and mapped to the keys to
// reconcile. Predicates and maps are pure functions of the event; the controller wires them.
import { sameJson } from "../api/index.ts";
import type { KubeObjectLike, ObjectKey } from "./keys.ts";
import { keyOf } from "./keys.ts";

/** One informer event. A delete carries the object as last seen. */
export type WatchEvent<T> =
  | { readonly type: "added"; readonly object: T }
  | { readonly type: "updated"; readonly object: T; readonly old: T }
  | { readonly type: "deleted"; readonly object: T };

/** Whether an event matters to a controller. */
export type Predicate<T> = (event: WatchEvent<T>) => boolean;

/** The keys an event asks to reconcile: the object's own, its followers, its owner, ... */
export type KeyMap<T, K> = (object: T, event: WatchEvent<T>) => Iterable<K | undefined>;

export interface WatchOptions<T, K> {
  map: KeyMap<T, K>;
  /** Default: every event. */
  predicate?: Predicate<T>;
  /**
   * Called with every event the predicate lets through, before `map`: for bookkeeping that must
   * record when a change was seen rather than when it is reconciled (e.g. when a re-import
   * request first appeared). Reconcile decisions belong in reconcile, not here.
   */
  observe?: (object: T, event: WatchEvent<T>) => void;
}

/** The read side of an informer a controller watches. */
export interface WatchSource<T> {
  addHandlers(handlers: {
    onAdd?(obj: T): void;
    onUpdate?(oldObj: T, newObj: T): void;
    onDelete?(obj: T): void;
  }): () => void;
  list(): T[];
}

// ---- maps

/** The object's own key. */
export const ownKey = (object: KubeObjectLike): ObjectKey[] => [keyOf(object)];

/** Maps the object and, on an update, its previous version too (both may need a look). */
export function eachVersion<T, K>(map: (object: T) => Iterable<K | undefined>): KeyMap<T, K> {
  return (object, event) => (event.type === "updated" ? [...map(event.old), ...map(object)] : map(object));
}

/** The object before and after the event (undefined where it did not exist). */
export function beforeAndAfter<T>(event: WatchEvent<T>): { before: T | undefined; after: T | undefined } {
  switch (event.type) {
    case "added":
      return { before: undefined, after: event.object };
    case "updated":
      return { before: event.old, after: event.object };
    case "deleted":
      return { before: event.object, after: undefined };
  }
}

// ---- predicates: each lets adds and deletes through and judges updates

type Versioned = { metadata?: { resourceVersion?: string; generation?: number } | undefined };
type Annotated = { metadata?: { annotations?: Readonly<Record<string, string>> | null } | undefined };

/** Only the given event types. */
export function eventTypes<T>(...types: WatchEvent<T>["type"][]): Predicate<T> {
  return (event) => types.includes(event.type);
}

/** Updates that changed the object at all (a relist repeats unchanged objects). */
export const resourceVersionChanged: Predicate<Versioned> = (event) =>
  event.type !== "updated" || event.old.metadata?.resourceVersion !== event.object.metadata?.resourceVersion;

/**
 * Updates of the spec (metadata.generation moved), not of status or metadata alone. Objects
 * without a generation (Pods on older API servers) fall back to the resourceVersion.
 */
export const generationChanged: Predicate<Versioned> = (event) => {
  if (event.type !== "updated") return true;
  const before = event.old.metadata?.generation;
  const after = event.object.metadata?.generation;
  if (before !== undefined || after !== undefined) return before !== after;
  return resourceVersionChanged(event);
};

/** Updates that changed the annotation `name` (set, changed or removed). */
export function annotationChanged(name: string): Predicate<Annotated> {
  return (event) =>
    event.type !== "updated" ||
    (event.old.metadata?.annotations?.[name] ?? undefined) !==
      (event.object.metadata?.annotations?.[name] ?? undefined);
}

/** Updates that changed what `read` picks out of the object (compared as JSON). */
export function fieldChanged<T>(read: (object: T) => unknown): Predicate<T> {
  return (event) => event.type !== "updated" || !sameJson(read(event.old), read(event.object));
}

export function anyOf<T>(...predicates: Predicate<T>[]): Predicate<T> {
  return (event) => predicates.some((p) => p(event));
}

export function allOf<T>(...predicates: Predicate<T>[]): Predicate<T> {
  return (event) => predicates.every((p) => p(event));
}
