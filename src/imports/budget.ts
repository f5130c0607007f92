// The cluster-wide budget of scheduled imports (OpenShift: at most 60 a minute), spread evenly
// over the minute (one every 60/N s) so scheduled tags never re-import in a burst. Time is a
// parameter; the controller keeps one budget for all streams.
import type { PlannedTagImport } from "./model.ts";

export class ScheduledImportBudget {
  readonly #spacingMs: number;
  #nextFree = 0;

  constructor(perMinute: number) {
    if (!(perMinute > 0))
      throw new RangeError(`scheduled imports per minute must be positive, got ${perMinute}`);
    this.#spacingMs = 60_000 / perMinute;
  }

  /** Takes a slot at `now` (0), or says how long to wait for the next free one (nothing taken). */
  take(now: number): number {
    if (this.#nextFree <= now) {
      // An idle budget does not bank slots: at most one slot's worth of backlog is forgiven.
      this.#nextFree = Math.max(this.#nextFree, now - this.#spacingMs) + this.#spacingMs;
      return 0;
    }
    return this.#nextFree - now;
  }
}

export interface AdmittedImports {
  /** The tags to import now. */
  tags: PlannedTagImport[];
  /** Epoch ms when the first deferred scheduled tag may go; undefined when none was deferred. */
  deferredUntil: number | undefined;
}

/**
 * Tags whose only cause is the schedule spend the budget; any other cause (a new tag, a spec
 * change, a user's request, a retry) is user intent and always goes.
 */
export function admitScheduledImports(
  tags: readonly PlannedTagImport[],
  budget: ScheduledImportBudget,
  now: number,
): AdmittedImports {
  let deferredUntil: number | undefined;
  const admitted = tags.filter((tag) => {
    if (tag.causes.some((cause) => cause !== "Scheduled")) return true;
    const wait = budget.take(now);
    if (wait === 0) return true;
    deferredUntil = Math.min(deferredUntil ?? Number.POSITIVE_INFINITY, now + wait);
    return false;
  });
  return { tags: admitted, deferredUntil };
}
