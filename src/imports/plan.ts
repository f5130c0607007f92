// Which tags of a stream need an import now, and why (planImports), plus the controller
// memory that the plan reads (recordImportAttempts).

import type { ImageStream, NamedTagEventList, TagReference } from "../api/index.ts";
import { importModeOf } from "../api/index.ts";
import { backoffDelay } from "../runtime/index.ts";
import { hasImportFailure, observedGeneration } from "./history.ts";
import {
  EVERY_REPOSITORY_TAG,
  IMPORT_REQUESTED_ANNOTATION,
  IMPORT_REQUESTED_HANDLED_ANNOTATION,
  type ImportCause,
  type ImportOutcome,
  type ImportPlan,
  type ImportSettings,
  INSECURE_REPOSITORY_ANNOTATION,
  type PlannedTagImport,
  REPOSITORY_CHECK_ANNOTATION,
  type StreamImportState,
} from "./model.ts";
import { tagPlatformPreferences } from "./platform.ts";
import { joinRepositoryTag } from "./references.ts";
import { pendingTagRequests } from "./requests.ts";

/**
 * The generation a tag's status must reach. OpenShift's API server stamps each changed spec
 * tag with the stream generation; a CRD has no such hook, so every spec change counts for
 * every tag: `metadata.generation`, or the tag's own `generation` when the object has none.
 * An unchanged re-import after an unrelated spec edit only bumps `items[0].generation`.
 */
export function specTagGeneration(stream: ImageStream, tagRef?: TagReference): number {
  return stream.metadata.generation ?? tagRef?.generation ?? 0;
}

/** A spec tag the import controller resolves through a registry (OpenShift's tagImportable). */
export function isImportable(tagRef: TagReference): boolean {
  return tagRef.from?.kind === "DockerImage" && !!tagRef.from.name && tagRef.reference !== true;
}

/** The re-import request not yet honoured, if any. */
export function pendingImportRequest(stream: ImageStream): string | undefined {
  const annotations = stream.metadata.annotations ?? {};
  const requested = annotations[IMPORT_REQUESTED_ANNOTATION]?.trim();
  if (!requested) return undefined;
  return requested === annotations[IMPORT_REQUESTED_HANDLED_ANNOTATION] ? undefined : requested;
}

/** Stable 32-bit FNV-1a hash, so a tag keeps its place in the schedule across restarts. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Next scheduled import of a tag. Each tag owns a fixed phase within the interval (a hash of
 * namespace/name/tag), so tags are spread evenly and never fire together; the import happens
 * at the first phase slot at least `interval - interval/10` after the last import (the slack
 * absorbs queueing delay, so a late check does not skip a whole interval). A manual import
 * thus resets the schedule. With nothing known (restart), the first slot after `since`.
 */
export function nextScheduledImport(
  key: string,
  lastImport: number | undefined,
  since: number | undefined,
  intervalMs: number,
): number {
  const interval = Math.max(1, intervalMs);
  const phase = stableHash(key) % interval;
  const earliest = Math.max(
    lastImport === undefined ? Number.NEGATIVE_INFINITY : lastImport + interval - Math.floor(interval / 10),
    since ?? Number.NEGATIVE_INFINITY,
  );
  if (earliest === Number.NEGATIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  return phase + Math.ceil((earliest - phase) / interval) * interval;
}

/** Retry delay after `failures` consecutive failures: the first waits the base delay, each next one twice as long, capped. */
export function retryDelay(
  failures: number,
  settings: Pick<ImportSettings, "backoffBaseMs" | "backoffMaxMs">,
): number {
  return backoffDelay(Math.max(failures, 1) - 1, {
    baseMs: settings.backoffBaseMs,
    maxMs: settings.backoffMaxMs,
  });
}

function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function statusEntry(stream: ImageStream, tag: string): NamedTagEventList | undefined {
  return stream.status?.tags?.find((t) => t.tag === tag);
}

/**
 * Decides which spec tags need an import at `now` (epoch ms) and why:
 * - Initial: the tag has no status yet;
 * - SpecChanged: the spec generation is newer than the one observed in status;
 * - Requested: the stream carries a re-import request not yet honoured, or a tag request (a
 *   receiver's event) names the tag;
 * - Retry: the last import failed and its backoff expired;
 * - Scheduled: `importPolicy.scheduled` and the tag's slot came.
 * Tags with `reference: true`, without `from`, or not `DockerImage` are never imported.
 * `spec.dockerImageRepository` is imported when never checked (annotation absent), on
 * request, or when the spec changed since its last import; a tag request for one of its tags
 * (not a spec tag) imports just that tag.
 */
export function planImports(
  stream: ImageStream,
  now: number,
  state: StreamImportState | undefined,
  settings: ImportSettings,
): ImportPlan {
  const annotations = stream.metadata.annotations ?? {};
  const request = pendingImportRequest(stream);
  const tagRequest = pendingTagRequests(stream);
  const requestedTags = new Set(tagRequest?.tags ?? []);
  const streamInsecure = annotations[INSECURE_REPOSITORY_ANNOTATION] === "true";
  const lastCheck = parseTime(annotations[REPOSITORY_CHECK_ANNOTATION]);
  const key = `${stream.metadata.namespace ?? ""}/${stream.metadata.name ?? ""}`;
  const tags: PlannedTagImport[] = [];
  let nextCheckAt = Number.POSITIVE_INFINITY;

  for (const tagRef of stream.spec?.tags ?? []) {
    if (!isImportable(tagRef)) continue;
    const entry = statusEntry(stream, tagRef.name);
    const tagState = state?.tags[tagRef.name];
    const causes: ImportCause[] = [];
    if (!entry) causes.push("Initial");
    else if (specTagGeneration(stream, tagRef) > observedGeneration(entry)) causes.push("SpecChanged");
    if (request || requestedTags.has(tagRef.name)) causes.push("Requested");

    // Due times are reported whether or not they passed: a tag due now that this round does not
    // import (the budget deferred it, or it became due while the round ran) must bring the
    // controller back, or it drops out of the schedule.
    if (entry && hasImportFailure(entry)) {
      const failures = Math.max(tagState?.consecutiveFailures ?? 1, 1);
      const lastAttempt = tagState?.lastAttempt ?? state?.since;
      const retryAt = lastAttempt === undefined ? now : lastAttempt + retryDelay(failures, settings);
      if (retryAt <= now) causes.push("Retry");
      nextCheckAt = Math.min(nextCheckAt, retryAt);
    }

    if (tagRef.importPolicy?.scheduled) {
      // A tag holding a budget slot was already found due: it is due again at that slot.
      const due =
        state?.reservedSlots?.[tagRef.name] ??
        nextScheduledImport(
          `${key}/${tagRef.name}`,
          tagState?.lastAttempt ?? lastCheck ?? parseTime(entry?.items?.[0]?.created),
          tagState ? undefined : state?.since,
          settings.scheduleIntervalMs,
        );
      if (due <= now) causes.push("Scheduled");
      nextCheckAt = Math.min(nextCheckAt, due);
    }

    if (causes.length === 0) continue;
    nextCheckAt = Math.min(nextCheckAt, now);
    tags.push({
      tag: tagRef.name,
      from: tagRef.from!.name,
      insecure: streamInsecure || tagRef.importPolicy?.insecure === true,
      importMode: importModeOf(tagRef.importPolicy),
      ...tagPlatformPreferences(tagRef),
      causes,
    });
  }

  const plan: ImportPlan = { tags };
  const repository = stream.spec?.dockerImageRepository?.trim();
  if (repository) {
    const causes: ImportCause[] = [];
    if (lastCheck === undefined) causes.push("Initial");
    else if (specTagGeneration(stream) > repositoryObservedGeneration(stream, state))
      causes.push("SpecChanged");
    if (request || requestedTags.has(EVERY_REPOSITORY_TAG)) causes.push("Requested");
    if (causes.length > 0) {
      plan.repository = {
        from: repository,
        insecure: streamInsecure,
        limit: settings.repositoryTagLimit,
        causes,
      };
    }
  }
  // A requested tag of the repository that is not a spec tag: that tag alone, now.
  const specNames = new Set((stream.spec?.tags ?? []).map((t) => t.name));
  if (repository && !plan.repository) {
    for (const tag of requestedTags) {
      if (tag === EVERY_REPOSITORY_TAG || specNames.has(tag)) continue;
      tags.push({
        tag,
        from: joinRepositoryTag(repository, tag),
        insecure: streamInsecure,
        importMode: "Legacy",
        causes: ["Requested"],
      });
      nextCheckAt = Math.min(nextCheckAt, now);
    }
  }
  if (request) plan.importRequest = request;
  if (tagRequest) plan.tagRequest = tagRequest.value;
  if (Number.isFinite(nextCheckAt)) plan.nextCheckAt = nextCheckAt;
  return plan;
}

// Without memory, the repository counts as observed at the newest generation of the status
// tags it created (tags not in spec); with none, the existing check annotation is trusted.
function repositoryObservedGeneration(stream: ImageStream, state: StreamImportState | undefined): number {
  if (state?.repositoryGeneration !== undefined) return state.repositoryGeneration;
  const specTags = new Set((stream.spec?.tags ?? []).map((t) => t.name));
  let observed: number | undefined;
  for (const entry of stream.status?.tags ?? []) {
    if (specTags.has(entry.tag)) continue;
    observed = Math.max(observed ?? 0, observedGeneration(entry));
  }
  return observed ?? specTagGeneration(stream);
}

/** An empty memory for a stream, started at `now`. */
export function newImportState(now: number): StreamImportState {
  return { since: now, tags: {} };
}

/**
 * The controller memory after an import round: attempt times, consecutive failures, and the
 * generation of a repository import. Tags no longer in the stream's spec are forgotten; a budget
 * slot is released once its tag was attempted or is no longer scheduled.
 */
export function recordImportAttempts(
  state: StreamImportState | undefined,
  stream: ImageStream,
  outcomes: readonly ImportOutcome[],
  now: number,
  repositoryImported = false,
): StreamImportState {
  const specTags = new Set((stream.spec?.tags ?? []).map((t) => t.name));
  const tags: StreamImportState["tags"] = {};
  for (const [tag, tagState] of Object.entries(state?.tags ?? {})) {
    if (specTags.has(tag)) tags[tag] = tagState;
  }
  for (const outcome of outcomes) {
    if (!specTags.has(outcome.tag)) continue;
    const failures = outcome.ok ? 0 : (tags[outcome.tag]?.consecutiveFailures ?? 0) + 1;
    tags[outcome.tag] = { lastAttempt: now, consecutiveFailures: failures };
  }
  const next: StreamImportState = { since: state?.since ?? now, tags };
  const repositoryGeneration = repositoryImported ? specTagGeneration(stream) : state?.repositoryGeneration;
  if (repositoryGeneration !== undefined) next.repositoryGeneration = repositoryGeneration;
  const attempted = new Set(outcomes.map((o) => o.tag));
  const scheduled = new Set(
    (stream.spec?.tags ?? []).filter((t) => t.importPolicy?.scheduled).map((t) => t.name),
  );
  const reservedSlots = Object.entries(state?.reservedSlots ?? {}).filter(
    ([tag]) => scheduled.has(tag) && !attempted.has(tag),
  );
  if (reservedSlots.length > 0) next.reservedSlots = Object.fromEntries(reservedSlots);
  return next;
}
