// The cluster-wide budget of scheduled imports (OpenShift: 60 per minute) as plain data, and
// which planned tags may run now under it (admitScheduledImports).

import type { PlannedTagImport, StreamImportState } from "./model.ts";
import { newImportState } from "./plan.ts";

/** Slots of the budget, spread evenly: one every `spacingMs`, handed out in the order asked. */
export interface ScheduledImportBudget {
  readonly spacingMs: number;
  /** Epoch ms of the first slot nobody holds (-Infinity when none was ever taken). */
  readonly nextFreeAt: number;
}

export function scheduledImportBudget(perMinute: number): ScheduledImportBudget {
  return { spacingMs: 60_000 / perMinute, nextFreeAt: Number.NEGATIVE_INFINITY };
}

export interface Admission {
  /** The planned tags to import in this round. */
  tags: PlannedTagImport[];
  /** The stream's memory with the slots its deferred tags now hold. */
  state: StreamImportState;
  budget: ScheduledImportBudget;
}

/**
 * Which planned tags run now. Causes other than Scheduled are user intent and always run. A tag
 * due only by its schedule runs when it holds a slot of the budget: the one it reserved earlier
 * (planImports plans it once that slot came), or the next free slot if that is now. Otherwise it
 * reserves the next free slot, kept in the stream's memory, and the plan reports it due then.
 * Each tag holds at most one slot, so many streams deferred at the same moment do not compete
 * for the same slot again when they wake: every one of them runs at its own.
 */
export function admitScheduledImports(
  planned: readonly PlannedTagImport[],
  state: StreamImportState | undefined,
  budget: ScheduledImportBudget,
  now: number,
): Admission {
  const base = state ?? newImportState(now);
  const reserved = { ...base.reservedSlots };
  let nextFreeAt = budget.nextFreeAt;
  const tags: PlannedTagImport[] = [];
  for (const tag of planned) {
    if (tag.causes.some((c) => c !== "Scheduled")) {
      tags.push(tag);
      continue;
    }
    const held = reserved[tag.tag];
    if (held !== undefined) {
      // Released by recordImportAttempts once the tag was attempted.
      if (held <= now) tags.push(tag);
      continue;
    }
    const slot = Math.max(nextFreeAt, now);
    nextFreeAt = slot + budget.spacingMs;
    if (slot <= now) tags.push(tag);
    else reserved[tag.tag] = slot;
  }
  const next: StreamImportState = { ...base };
  if (Object.keys(reserved).length > 0) next.reservedSlots = reserved;
  else delete next.reservedSlots;
  return { tags, state: next, budget: { ...budget, nextFreeAt } };
}
