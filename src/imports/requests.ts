// Import requests as the planner must see them: the stream-wide re-import request (a user's
// `image.openshift.io/import-requested`) and tag requests (receivers' events, each naming the
// tags to import now), and the value a writer of a tag request puts in the annotation.
import type { ImageStream } from "../api/index.ts";
import {
  IMPORT_REQUESTED_HANDLED_ANNOTATION,
  IMPORT_REQUESTED_TAGS_ANNOTATION,
  IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION,
  type ImportCause,
} from "./model.ts";

/**
 * The time a registry lookup must have started after to answer an import with these causes,
 * given when the controller saw the stream's pending request and its current spec; undefined
 * when a recent lookup will do (scheduled checks, retries). A user's request, or a tag they just
 * added or changed, must see a push made a moment before: only lookups that started after the
 * controller saw the request or the spec answer it (docs/imports.md, "Which registry lookups an
 * import shares").
 */
export function lookupFreshness(
  causes: readonly ImportCause[],
  seen: { readonly request: number; readonly spec: number },
): number | undefined {
  const after: number[] = [];
  if (causes.includes("Requested")) after.push(seen.request);
  if (causes.includes("Initial") || causes.includes("SpecChanged")) after.push(seen.spec);
  return after.length > 0 ? Math.max(...after) : undefined;
}

/** The requests a round honoured, remembered until the cache shows the "handled" annotations. */
export interface HonouredRequests {
  request?: string;
  tagRequest?: string;
}

/** What of `honoured` the stream's "handled" annotations do not show yet; undefined once they show all of it. */
export function notYetShown(
  stream: ImageStream,
  honoured: HonouredRequests | undefined,
): HonouredRequests | undefined {
  const annotations = stream.metadata.annotations ?? {};
  const pending: HonouredRequests = {};
  if (
    honoured?.request !== undefined &&
    annotations[IMPORT_REQUESTED_HANDLED_ANNOTATION] !== honoured.request
  )
    pending.request = honoured.request;
  if (
    honoured?.tagRequest !== undefined &&
    annotations[IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION] !== honoured.tagRequest
  )
    pending.tagRequest = honoured.tagRequest;
  return pending.request === undefined && pending.tagRequest === undefined ? undefined : pending;
}

/**
 * The stream with the honoured requests recorded as handled even if the cache lags: the
 * "handled" annotations are written after status, so the cache can show the new status before
 * them, and without this a request would run twice.
 */
export function withHandledRequest(stream: ImageStream, honoured: HonouredRequests | undefined): ImageStream {
  const pending = notYetShown(stream, honoured);
  if (!pending) return stream;
  const missing: Record<string, string> = {};
  if (pending.request !== undefined) missing[IMPORT_REQUESTED_HANDLED_ANNOTATION] = pending.request;
  if (pending.tagRequest !== undefined)
    missing[IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION] = pending.tagRequest;
  return {
    ...stream,
    metadata: { ...stream.metadata, annotations: { ...stream.metadata.annotations, ...missing } },
  };
}

/** `{"tag": "id"}` from an annotation value; anything else reads as no request. */
function requestMap(value: string | undefined): Record<string, string> {
  if (!value) return {};
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
    );
  } catch {
    return {};
  }
}

/** The requested tags not honoured yet, with the annotation value that asked for them. */
export function pendingTagRequests(stream: ImageStream): { value: string; tags: string[] } | undefined {
  const annotations = stream.metadata.annotations ?? {};
  const value = annotations[IMPORT_REQUESTED_TAGS_ANNOTATION];
  if (!value || value === annotations[IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION]) return undefined;
  const requested = requestMap(value);
  const handled = requestMap(annotations[IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION]);
  const tags = Object.keys(requested)
    .filter((tag) => handled[tag] !== requested[tag])
    .sort();
  return tags.length > 0 ? { value, tags } : undefined;
}

/**
 * The tag request annotation's new value asking for `tags` under request `id`: the tags still
 * pending stay, those already honoured go (the value stays small), the new ones get `id`.
 */
export function requestTagImports(stream: ImageStream, tags: readonly string[], id: string): string {
  const annotations = stream.metadata.annotations ?? {};
  const requested = requestMap(annotations[IMPORT_REQUESTED_TAGS_ANNOTATION]);
  const handled = requestMap(annotations[IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION]);
  const next: Record<string, string> = {};
  for (const [tag, request] of Object.entries(requested)) if (handled[tag] !== request) next[tag] = request;
  for (const tag of tags) next[tag] = id;
  return JSON.stringify(
    Object.fromEntries(Object.entries(next).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  );
}

/**
 * When a request was made, as far as the freshness of its lookups goes: requests carrying the
 * same value are one request (`kubectl annotate is --all ...=$(date)` writes one value to many
 * streams), made when the controller first saw that value, as long as streams with it keep
 * arriving at most `gapMs` apart. A push made before the first of them is therefore seen by
 * all; the lookups that answer them are shared by every stream naming the same reference.
 */
export class RequestBatches {
  readonly #gapMs: number;
  readonly #batches = new Map<string, { first: number; last: number }>();
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(gapMs: number) {
    this.#gapMs = gapMs;
  }

  /** The time request `value`, seen at `now`, counts as made. */
  madeAt(value: string, now: number): number {
    const batch = this.#batches.get(value);
    if (batch !== undefined && now - batch.last <= this.#gapMs) {
      batch.last = Math.max(batch.last, now);
      return batch.first;
    }
    this.#forgetBefore(now - this.#gapMs);
    this.#batches.set(value, { first: now, last: now });
    return now;
  }

  /** Batches in memory (ended ones are dropped as new ones start). */
  get size(): number {
    return this.#batches.size;
  }

  #forgetBefore(time: number): void {
    // at most once per gap: thousands of distinct values arriving together stay linear
    if (time < this.#prunedAt) return;
    this.#prunedAt = time + this.#gapMs;
    for (const [value, batch] of this.#batches) if (batch.last < time) this.#batches.delete(value);
  }
}
