// Status writes through the status subresource with optimistic concurrency.
import { isConflict } from "./errors.ts";

export interface StatusUpdate<T> {
  /** Reads the object fresh from the API server. */
  get: () => Promise<T>;
  /** Returns the object with the desired status, or undefined when nothing needs writing. */
  mutate: (fresh: T) => T | undefined;
  /** Writes through the status subresource (PUT .../status, carrying resourceVersion). */
  replaceStatus: (obj: T) => Promise<T>;
  /** A copy already at hand (from a cache) for the first attempt, saving one read. */
  current?: T;
  /** Attempts in all, including the first (default 5). */
  maxAttempts?: number;
}

export interface StatusUpdateResult<T> {
  /** False when mutate found nothing to change. */
  written: boolean;
  /** The object as written, or as last read when nothing was written. */
  object: T;
  attempts: number;
}

/**
 * Applies `mutate` and writes the status; on 409 Conflict reads the object again and re-applies
 * `mutate` to the fresh copy. Other errors, and a conflict on the last attempt, are thrown.
 */
export async function updateStatusWithRetry<T>(update: StatusUpdate<T>): Promise<StatusUpdateResult<T>> {
  const maxAttempts = update.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  }
  let base = update.current;
  for (let attempt = 1; ; attempt++) {
    const fresh = base ?? (await update.get());
    base = undefined;
    const desired = update.mutate(fresh);
    if (desired === undefined) return { written: false, object: fresh, attempts: attempt };
    try {
      return { written: true, object: await update.replaceStatus(desired), attempts: attempt };
    } catch (err) {
      if (!isConflict(err) || attempt >= maxAttempts) throw err;
    }
  }
}
