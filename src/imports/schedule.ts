// The cluster-wide budget of scheduled imports (OpenShift: 60 per minute) as plain data, and
// which planned tags may run now under it (admitScheduledImports).

import type { PlannedTagImport, StreamImportState } from "./model.ts";
import { newImportState } from "./plan.ts";

/**
 * Slots of the budget, one every `spacingMs` on average, handed out in the order asked (a
 * generic cell rate algorithm): a slot may be taken up to `toleranceMs` ahead of the even
 * spacing, so one second's worth of slots can go at once and a tag due a moment after another
 * does not wait for the next slot (nor cost the controller a second round to get it).
 */
export interface ScheduledImportBudget {
  readonly spacingMs: number;
  readonly toleranceMs: number;
  /** Epoch ms at which the next slot falls on the even spacing (-Infinity when none was ever taken). */
  readonly nextFreeAt: number;
}

export function scheduledImportBudget(perMinute: number): ScheduledImportBudget {
  const spacingMs = 60_000 / perMinute;
  const perSecond = Math.max(1, Math.floor(perMinute / 60));
  return { spacingMs, toleranceMs: (perSecond - 1) * spacingMs, nextFreeAt: Number.NEGATIVE_INFINITY };
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
    const onSpacing = Math.max(nextFreeAt, now);
    nextFreeAt = onSpacing + budget.spacingMs;
    const slot = onSpacing - budget.toleranceMs;
    if (slot <= now) tags.push(tag);
    else reserved[tag.tag] = slot;
  }
  const next: StreamImportState = { ...base };
  if (Object.keys(reserved).length > 0) next.reservedSlots = reserved;
  else delete next.reservedSlots;
  return { tags, state: next, budget: { ...budget, nextFreeAt } };
}
