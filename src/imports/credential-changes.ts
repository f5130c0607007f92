// "A new pull secret retries failed tags now": when a namespace gains a pull secret, or one
// changes, tags of its streams that failed are retried at once instead of after their backoff.
// Level-triggered: the controller remembers which secret versions a stream was last imported
// with, and the next reconcile compares.
import type { StreamImportState } from "./model.ts";

/** What identifies one version of a secret: its name and resourceVersion. */
export interface VersionedSecret {
  metadata?: { name?: string; resourceVersion?: string } | undefined;
}

/** The versions of a namespace's pull secrets, sorted: the value to remember per stream. */
export function secretVersions(secrets: readonly VersionedSecret[]): string[] {
  return secrets.map((s) => `${s.metadata?.name ?? ""}@${s.metadata?.resourceVersion ?? ""}`).sort();
}

/**
 * The memory with every failed tag's backoff forgotten when a secret appeared or changed since
 * `seen` (deletions alone change nothing); else the memory as it is. Without memory or without
 * an earlier look there is no backoff to forget.
 */
export function retryFailedTagsOnNewSecrets(
  state: StreamImportState | undefined,
  seen: readonly string[] | undefined,
  current: readonly string[],
): StreamImportState | undefined {
  if (state === undefined || seen === undefined) return state;
  const before = new Set(seen);
  if (current.every((version) => before.has(version))) return state;
  const tags: StreamImportState["tags"] = {};
  for (const [tag, tagState] of Object.entries(state.tags)) {
    // Deleting the memory is not enough: without it the core counts the backoff from when it
    // first saw the stream. An attempt "long ago" with no failures is due at once.
    tags[tag] = tagState.consecutiveFailures > 0 ? { lastAttempt: 0, consecutiveFailures: 0 } : tagState;
  }
  return { ...state, tags };
}
