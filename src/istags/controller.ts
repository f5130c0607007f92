// The ImageStreamTag controller: the imperative shell around the core. One work item per
// stream (`namespace/stream`), so users' ImageStreamTag writes and the stream's own changes
// are applied one at a time: first what users asked of the stream (write model), then the
// ImageStreamTags the stream implies (read model). Nothing is written when nothing changed.
// Streams are reconciled in parallel (--imagestreamtag-workers), one at a time each; the
// events of this controller's own writes, and stream updates of metadata alone, are not
// reconciled again: one reconcile per stream change.
import type { ImageStream, ImageStreamTag } from "../api/index.ts";
import { API_VERSION, IMAGESTREAMS, IMAGESTREAMTAGS } from "../api/index.ts";
import { pullSecretInformers } from "../imports/index.ts";
import type { Logger } from "../log/index.ts";
import type { RegistryClient } from "../registry/index.ts";
import {
  allOf,
  type ControllerContext,
  type ControllerHandle,
  eachVersion,
  isConflict,
  isNotFound,
  keyOf,
  keyString,
  type ObjectKey,
  objectRefOf,
  ownKey,
  type ReconcileContext,
  type ReconcileResult,
  resourceVersionChanged,
  updateStatusWithRetry,
  type WatchEvent,
} from "../runtime/index.ts";
import {
  type DesiredIstag,
  desiredTags,
  diffIstags,
  ISTAG_FINALIZER,
  isDeleting,
  isOwnedBy,
  istagStatusUpdate,
  type NameProblem,
  nextSpecTags,
  planWrites,
  reusableImage,
  statusWithoutTags,
  streamChangeConcernsIstags,
  streamNameOf,
  withImageDetails,
  withoutFinalizer,
} from "./core.ts";
import { type ImageDetailsSource, insecureFor, registryImageDetails } from "./image-details.ts";
import { type IstagApi, istagApi } from "./kube.ts";
import { OwnWrites, VersionMarks } from "./versions.ts";

export const ISTAG_CONTROLLER_NAME = "imagestreamtag";
const STREAM_INDEX = "istag-stream";
/** How soon a stream is looked at again while the cache still shows what this controller replaced. */
const STALE_CACHE_RETRY_MS = 1000;

export interface ImageStreamTagControllerOptions {
  /** Registry client for image details (share the import controller's: its cache is by digest). */
  registry?: RegistryClient;
  /** Replaces the registry lookup of image details (tests). Without either, images carry no details. */
  imageDetails?: ImageDetailsSource;
  api?: IstagApi;
  /** Wait before fetching a failed image's details again (default 1 minute). */
  detailsRetryMs?: number;
  now?: () => number;
}

export function createImageStreamTagController(
  ctx: ControllerContext,
  options: ImageStreamTagControllerOptions = {},
): ControllerHandle {
  const now = options.now ?? Date.now;
  /** Versions this controller replaced with its own writes (the cache may still show them). */
  const superseded = new VersionMarks(now);
  /** The versions this controller's writes produced: their events need no reconcile. */
  const ownWrites = new OwnWrites(now, (markKey) => superseded.forget(markKey));
  const api = recordingWrites(options.api ?? istagApi(ctx.objects), {
    begin: (markKey) => ownWrites.begin(markKey),
    end: (markKey, version) => {
      for (const key of ownWrites.end(markKey, version)) controller.enqueue(key);
    },
  });
  const detailsRetryMs = options.detailsRetryMs ?? 60_000;
  // The import controller requests the same informer: one cache, one watch.
  const streams = ctx.informers.for<ImageStream>(IMAGESTREAMS);
  const istags = ctx.informers.for<ImageStreamTag>(IMAGESTREAMTAGS);
  let imageDetails = options.imageDetails;
  if (!imageDetails && options.registry) {
    const secrets = pullSecretInformers(ctx.informers);
    imageDetails = registryImageDetails({
      registry: options.registry,
      secrets,
    });
  }
  /** Per digest and pull spec: when fetching its details may be tried again. */
  const failedDetails = new Map<string, number>();
  /** Per stream: the name problems last reported, so each is reported once, not every reconcile. */
  const reportedProblems = new Map<string, Set<string>>();
  /** Per ImageStreamTag: the rejected edit last reported (uid, generation, message). */
  const reportedRejections = new Map<string, string>();

  /** The stream an ImageStreamTag belongs to (the controller's work item). */
  const streamKeyOf = (istag: ImageStreamTag): ObjectKey | undefined => {
    const stream = streamNameOf(istag);
    return stream ? { namespace: istag.metadata.namespace, name: stream } : undefined;
  };
  istags.addIndex(STREAM_INDEX, (istag) => {
    const stream = streamKeyOf(istag);
    return stream ? [keyString(stream)] : [];
  });

  /**
   * Lets through what this controller did not write itself: the reconcile that wrote an object
   * already acted on what its event shows. Deletes always pass.
   */
  const notOwnWrite =
    <T extends ImageStream | ImageStreamTag>(
      kind: WriteKind,
      keys: (object: T) => (ObjectKey | undefined)[],
    ) =>
    (event: WatchEvent<T>): boolean => {
      if (event.type === "deleted") return true;
      const affected = (): ObjectKey[] =>
        [...(event.type === "updated" ? keys(event.old) : []), ...keys(event.object)].filter(
          (k): k is ObjectKey => k !== undefined,
        );
      return ownWrites.admit(markKeyOf(kind, event.object), event.object.metadata.resourceVersion, affected);
    };
  const streamChanged = (event: WatchEvent<ImageStream>): boolean =>
    event.type !== "updated" || streamChangeConcernsIstags(event.old, event.object);

  const controller = ctx
    .controller<ObjectKey>({
      name: ISTAG_CONTROLLER_NAME,
      concurrency: ctx.config.istagWorkers,
      reconcile: (key, rctx) => reconcile(key, rctx),
    })
    // An edit can move an ImageStreamTag to another stream: both streams take a look.
    .watch(istags, {
      map: eachVersion((istag: ImageStreamTag) => [streamKeyOf(istag)]),
      predicate: allOf(
        resourceVersionChanged,
        notOwnWrite<ImageStreamTag>("istag", (istag) => [streamKeyOf(istag)]),
      ),
    })
    .watch(streams, {
      map: ownKey,
      predicate: allOf(
        resourceVersionChanged,
        notOwnWrite<ImageStream>("is", (stream) => [keyOf(stream)]),
        streamChanged,
      ),
    });

  /** Whether the cache still shows a version this controller replaced (forgotten once it does not). */
  const isStale = (markKey: string, version: string | undefined): boolean => {
    if (superseded.has(markKey, version)) return true;
    superseded.forget(markKey);
    return false;
  };

  async function reconcile(streamKey: ObjectKey, rctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace = "", name: streamName } = streamKey;
    const key = keyString(streamKey);
    const log = rctx.log;
    let stream = streams.get(streamKey);
    // Name problems are reported per stream while it exists; a new stream reports them anew.
    if (!stream) reportedProblems.delete(key);
    const related = istags.byIndex(STREAM_INDEX, key);
    if (
      isStale(`is/${key}`, stream?.metadata.resourceVersion) ||
      related.some((i) => isStale(`istag/${istagKey(i)}`, i.metadata.resourceVersion))
    ) {
      log.debug("cache still shows objects this controller replaced; waiting for it");
      return { requeueAfter: STALE_CACHE_RETRY_MS };
    }

    // Write model: what users' creates, edits and deletes of ImageStreamTags ask of the stream.
    const writes = planWrites(streamName, stream, related);
    for (const rejected of writes.rejected)
      reportRejection(rejected.istag, rejected.reason, rejected.message, log);
    const removedTags = writes.deletions.flatMap((d) => (d.removeTag === undefined ? [] : [d.removeTag]));
    if (!stream) {
      if (writes.setTags.length > 0) {
        stream = await api.createStream(namespace, streamName, writes.setTags);
        log.info({ tags: writes.setTags.map((t) => t.name) }, "image stream created for new ImageStreamTags");
      }
    } else if (!isDeleting(stream)) {
      const tags = nextSpecTags(stream.spec?.tags, writes.setTags, [...writes.unsetTags, ...removedTags]);
      if (tags) {
        superseded.mark(`is/${key}`, stream.metadata.resourceVersion);
        stream = await api.patchSpecTags(stream, tags);
        log.info(
          { set: writes.setTags.map((t) => t.name), removed: [...writes.unsetTags, ...removedTags] },
          "image stream spec.tags updated from ImageStreamTags",
        );
      }
      if (removedTags.length > 0) stream = await removeStatusTags(stream, removedTags, log);
    }
    for (const deletion of writes.deletions) {
      await releaseFinalizer(deletion.istag);
      log.info(
        { istag: deletion.istag.metadata.name, removedTag: deletion.removeTag },
        deletion.removeTag
          ? "ImageStreamTag deleted; tag removed from the stream"
          : "ImageStreamTag released",
      );
    }
    if (!stream || isDeleting(stream)) return undefined;

    // Read model: the ImageStreamTags the stream implies.
    const desired = desiredTags(stream);
    const rejectedNames = new Set(writes.rejected.map((r) => r.istag.metadata.name ?? ""));
    const existingByName = new Map(related.map((i) => [i.metadata.name ?? "", i]));
    for (const want of desired.istags) {
      const found = istags.get({ namespace, name: want.name });
      if (found) existingByName.set(want.name, found);
    }
    let requeueAfter: number | undefined;
    const requeue = (ms: number): void => {
      requeueAfter = Math.min(requeueAfter ?? ms, ms);
    };
    const filled = await Promise.all(
      desired.istags
        .filter((want) => !rejectedNames.has(want.name))
        .map(async (want) => {
          const result = await fillImage(stream, want, existingByName.get(want.name), log, rctx.signal);
          if (result.retry) requeue(detailsRetryMs);
          return result.desired;
        }),
    );
    const plan = diffIstags(stream, { ...desired, istags: filled }, [...existingByName.values()]);
    const conflicts = plan.conflicts.map(
      (c): NameProblem => ({ kind: "collision", name: c.name, tags: [], message: c.message }),
    );
    reportProblems(stream, [...desired.problems, ...conflicts], log);

    const current = new Map<string, ImageStreamTag>();
    for (const create of plan.creates) {
      try {
        current.set(create.metadata.name ?? "", await api.createIstag(create));
        log.info({ istag: create.metadata.name }, "ImageStreamTag created");
      } catch (err) {
        // The cache has not seen an object created a moment ago: look again shortly.
        if (!isConflict(err)) throw err;
        requeue(STALE_CACHE_RETRY_MS);
      }
    }
    for (const update of plan.updates) {
      superseded.mark(`istag/${istagKey(update)}`, update.metadata.resourceVersion);
      current.set(update.metadata.name ?? "", await api.replaceIstag(update));
      log.info({ istag: update.metadata.name }, "ImageStreamTag updated");
    }
    for (const want of filled) {
      const obj = current.get(want.name) ?? existingByName.get(want.name);
      if (!obj || isDeleting(obj) || (!current.has(want.name) && !isOwnedBy(obj, stream))) continue;
      const status = istagStatusUpdate(obj, want.event);
      if (!status) continue;
      superseded.mark(`istag/${istagKey(obj)}`, obj.metadata.resourceVersion);
      // One attempt: a conflict means someone edited the object, which the next round must see
      // as an edit rather than have its generation recorded as synced.
      await api.replaceIstagStatus(obj, status);
    }
    for (const gone of plan.deletes) {
      const released = await releaseFinalizer(gone);
      if (released) await deleteIfPresent(released);
      log.info({ istag: gone.metadata.name }, "ImageStreamTag deleted: its tag is gone from the stream");
    }
    return requeueAfter === undefined ? undefined : { requeueAfter };
  }

  async function fillImage(
    stream: ImageStream,
    want: DesiredIstag,
    existing: ImageStreamTag | undefined,
    log: Logger,
    signal: AbortSignal,
  ): Promise<{ desired: DesiredIstag; retry: boolean }> {
    const digest = want.event?.image;
    if (!want.event || !digest) return { desired: want, retry: false };
    const reused = reusableImage(existing, digest);
    if (reused) return { desired: withImageDetails(want, reused), retry: false };
    if (!imageDetails) return { desired: want, retry: false };
    const reference = want.event.dockerImageReference;
    const failureKey = `${reference}|${digest}`;
    const retryAt = failedDetails.get(failureKey);
    if (retryAt !== undefined && retryAt > now()) {
      // Keep whatever the object shows for this digest meanwhile (possibly no details).
      return { desired: withImageDetails(want, existing?.image), retry: true };
    }
    try {
      const details = await imageDetails({
        namespace: stream.metadata.namespace ?? "",
        dockerImageReference: reference,
        digest,
        insecure: insecureFor(stream, want.tagName, (ns, name) => streams.get({ namespace: ns, name })),
        signal,
      });
      failedDetails.delete(failureKey);
      return { desired: withImageDetails(want, details), retry: false };
    } catch (err) {
      if (signal.aborted) throw err;
      failedDetails.set(failureKey, now() + detailsRetryMs);
      log.warn(
        { istag: want.name, reference, err: err instanceof Error ? err.message : String(err) },
        "could not read image details from the registry; the ImageStreamTag shows digest and pull spec only",
      );
      return { desired: withImageDetails(want, existing?.image), retry: true };
    }
  }

  async function removeStatusTags(stream: ImageStream, tags: string[], log: Logger): Promise<ImageStream> {
    const result = await updateStatusWithRetry<ImageStream>({
      current: stream,
      get: () => api.getStream(stream.metadata.namespace ?? "", stream.metadata.name ?? ""),
      mutate: (fresh) => {
        const status = statusWithoutTags(fresh.status, tags);
        return status ? { ...fresh, status } : undefined;
      },
      replaceStatus: (obj) => {
        superseded.mark(`is/${keyString(keyOf(obj))}`, obj.metadata.resourceVersion);
        return api.replaceStreamStatus(obj, obj.status ?? {});
      },
    });
    if (result.written) log.info({ tags }, "tags removed from the image stream's status");
    return result.object;
  }

  /** Removes this controller's finalizer; the object as written, or undefined when it is gone. */
  async function releaseFinalizer(istag: ImageStreamTag): Promise<ImageStreamTag | undefined> {
    if (!istag.metadata.finalizers?.includes(ISTAG_FINALIZER)) return istag;
    superseded.mark(`istag/${istagKey(istag)}`, istag.metadata.resourceVersion);
    try {
      return await api.setFinalizers(istag, withoutFinalizer(istag));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async function deleteIfPresent(istag: ImageStreamTag): Promise<void> {
    superseded.mark(`istag/${istagKey(istag)}`, istag.metadata.resourceVersion);
    try {
      await api.deleteIstag(istag);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Reports each name problem once (a Warning Event on the stream) while it lasts. */
  function reportProblems(stream: ImageStream, problems: NameProblem[], log: Logger): void {
    const key = keyString(keyOf(stream));
    const before = reportedProblems.get(key) ?? new Set<string>();
    for (const problem of problems) {
      if (before.has(problem.message)) continue;
      log.warn({ istag: problem.name, problem: problem.message }, "ImageStreamTag name problem");
      void ctx.events.record(objectRefOf({ ...stream, apiVersion: API_VERSION, kind: "ImageStream" }), {
        type: "Warning",
        reason: problem.kind === "collision" ? "ImageStreamTagNameCollision" : "InvalidImageStreamTagName",
        action: "SyncImageStreamTags",
        note: problem.message,
      });
    }
    // Most streams have none: no empty Set kept per stream.
    if (problems.length > 0) reportedProblems.set(key, new Set(problems.map((p) => p.message)));
    else reportedProblems.delete(key);
  }

  function reportRejection(istag: ImageStreamTag, reason: string, message: string, log: Logger): void {
    const key = istagKey(istag);
    const fingerprint = `${istag.metadata.uid}|${istag.metadata.generation}|${message}`;
    if (reportedRejections.get(key) === fingerprint) return;
    reportedRejections.set(key, fingerprint);
    log.warn({ istag: istag.metadata.name, reason, problem: message }, "ImageStreamTag change not applied");
    void ctx.events.record(objectRefOf({ ...istag, apiVersion: API_VERSION, kind: "ImageStreamTag" }), {
      type: "Warning",
      reason,
      action: "SyncImageStream",
      note: message,
    });
  }

  return controller;
}

type WriteKind = "is" | "istag";

/** The key of an object's versions in OwnWrites and the superseded marks. */
function markKeyOf(kind: WriteKind, obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${kind}/${keyString(keyOf(obj))}`;
}

/** `api` with every write announced before it is sent and its answer's version after. */
function recordingWrites(
  api: IstagApi,
  hooks: { begin(markKey: string): void; end(markKey: string, version: string | undefined): void },
): IstagApi {
  const write = async <T extends ImageStream | ImageStreamTag>(
    markKey: string,
    send: () => Promise<T>,
  ): Promise<T> => {
    hooks.begin(markKey);
    let version: string | undefined;
    try {
      const written = await send();
      version = written.metadata.resourceVersion;
      return written;
    } finally {
      hooks.end(markKey, version);
    }
  };
  return {
    ...api,
    createStream: (namespace, name, tags) =>
      write(markKeyOf("is", { metadata: { namespace, name } }), () =>
        api.createStream(namespace, name, tags),
      ),
    patchSpecTags: (stream, tags) => write(markKeyOf("is", stream), () => api.patchSpecTags(stream, tags)),
    replaceStreamStatus: (stream, status) =>
      write(markKeyOf("is", stream), () => api.replaceStreamStatus(stream, status)),
    createIstag: (obj) => write(markKeyOf("istag", obj), () => api.createIstag(obj)),
    replaceIstag: (obj) => write(markKeyOf("istag", obj), () => api.replaceIstag(obj)),
    replaceIstagStatus: (obj, status) =>
      write(markKeyOf("istag", obj), () => api.replaceIstagStatus(obj, status)),
    setFinalizers: (obj, finalizers) =>
      write(markKeyOf("istag", obj), () => api.setFinalizers(obj, finalizers)),
  };
}

function istagKey(istag: ImageStreamTag): string {
  return keyString(keyOf(istag));
}
