// Tag history and condition rules (OpenShift's AddTagEventToImageStream and SetTagConditions),
// as pure functions over one status tag entry. They return a new entry; inputs are not mutated.

import type { NamedTagEventList, TagEvent, TagEventCondition } from "../api/index.ts";

export type TagEventChange = "none" | "generation" | "replaced" | "prepended";

/**
 * Adds `next` to the history (newest first), comparing it with `items[0]` only:
 * same pull spec, digest and generation: no change; same pull spec and digest: the
 * generation is updated; only one of pull spec or digest differs: `items[0]` is replaced;
 * otherwise `next` is prepended. Any change clears the tag's conditions. `historyLimit`
 * bounds the history whenever it changes.
 */
export function addTagEvent(
  entry: NamedTagEventList,
  next: TagEvent,
  historyLimit: number,
): { entry: NamedTagEventList; change: TagEventChange } {
  const items = entry.items ?? [];
  const previous = items[0];
  let updated: TagEvent[];
  let change: TagEventChange;
  if (!previous) {
    updated = [next];
    change = "prepended";
  } else {
    const sameRef = previous.dockerImageReference === next.dockerImageReference;
    const sameImage = previous.image === next.image;
    const sameGeneration = previous.generation === next.generation;
    if (sameRef && sameImage && sameGeneration) return { entry, change: "none" };
    if (sameRef && sameImage) {
      updated = [{ ...previous, generation: next.generation }, ...items.slice(1)];
      change = "generation";
    } else if (sameRef || sameImage) {
      // OpenShift collapses into items[0], keeping its `created`.
      updated = [
        {
          ...previous,
          image: next.image,
          dockerImageReference: next.dockerImageReference,
          generation: next.generation,
        },
        ...items.slice(1),
      ];
      change = "replaced";
    } else {
      updated = [next, ...items];
      change = "prepended";
    }
  }
  const { conditions: _cleared, ...rest } = entry;
  return { entry: { ...rest, items: limitHistory(updated, historyLimit) }, change };
}

function limitHistory(items: TagEvent[], historyLimit: number): TagEvent[] {
  const limit = Math.max(1, Math.floor(historyLimit));
  return items.length > limit ? items.slice(0, limit) : items;
}

/** Removes every condition of the tag (a successful import or resolution). */
export function clearConditions(entry: NamedTagEventList): NamedTagEventList {
  if (entry.conditions === undefined) return entry;
  const { conditions: _cleared, ...rest } = entry;
  return entry.conditions.length === 0 ? entry : rest;
}

/**
 * Records a failed import as `ImportSuccess=False`, keeping the history. An identical
 * condition (status, reason, message, generation) is not rewritten; `lastTransitionTime`
 * is kept while the status stays False.
 */
export function setImportFailure(
  entry: NamedTagEventList,
  failure: { reason: string; message: string; generation: number },
  now: string,
): NamedTagEventList {
  const existing = entry.conditions?.find((c) => c.type === "ImportSuccess");
  const message = failure.message || "unknown error prevented import";
  if (
    existing &&
    entry.conditions?.length === 1 &&
    existing.status === "False" &&
    existing.reason === failure.reason &&
    existing.message === message &&
    existing.generation === failure.generation
  ) {
    return entry;
  }
  const condition: TagEventCondition = {
    type: "ImportSuccess",
    status: "False",
    lastTransitionTime:
      existing?.status === "False" && existing.lastTransitionTime ? existing.lastTransitionTime : now,
    reason: failure.reason,
    message,
    generation: failure.generation,
  };
  return { ...entry, items: entry.items ?? null, conditions: [condition] };
}

/**
 * The generation the controller last acted on for a tag: the newest of `items[0].generation`
 * and the `ImportSuccess` condition's generation (OpenShift's LatestObservedTagGeneration).
 */
export function observedGeneration(entry: NamedTagEventList | undefined): number {
  if (!entry) return 0;
  let generation = entry.items?.[0]?.generation ?? 0;
  const condition = entry.conditions?.find((c) => c.type === "ImportSuccess");
  if (condition && condition.generation > generation) generation = condition.generation;
  return generation;
}

/** True when the tag's last import attempt failed (its history may still hold older images). */
export function hasImportFailure(entry: NamedTagEventList | undefined): boolean {
  return entry?.conditions?.some((c) => c.type === "ImportSuccess" && c.status === "False") ?? false;
}
