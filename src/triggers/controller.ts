// The trigger controller: the imperative shell around the pure core. It watches workloads as
// metadata only, indexes them by the tags their triggers follow, and on a change of a tag's
// newest image (or of the workload) asks the core what to write and writes one guarded JSON
// Patch. The workload is read in full only when the spec may have changed since the last read
// or write (projection.ts); otherwise its remembered container names and images are enough.

import { type AccessReview, AuthorizationCache, subjectAccessReviewFromClient } from "../access/index.ts";
import { API_VERSION, IMAGESTREAMS, type ImageStream } from "../api/index.ts";
import {
  beforeAndAfter,
  type ControllerContext,
  type ControllerHandle,
  type EventObjectRef,
  httpStatusOf,
  isConflict,
  isInvalid,
  isNotFound,
  keyString,
  objectRefOf,
  type ReconcileContext,
  type ReconcileResult,
  type SharedInformer,
  type WatchEvent,
} from "../runtime/index.ts";
import { type Firing, firedEvent, notAuthorizedProblem, planFiredEvents, problemEvent } from "./events.ts";
import { FiredBatches } from "./fired-batches.ts";
import { changedTags, tagKeysForStream, tagLookupFromStreams } from "./keys.ts";
import { WORKLOAD_KINDS, type WorkloadKind, workloadKindInfo } from "./kinds.ts";
import { parseWorkloadTriggers } from "./parse.ts";
import { evaluateWorkload } from "./plan.ts";
import {
  projectedWorkload,
  projectionIsCurrent,
  projectWorkload,
  type WorkloadProjection,
} from "./projection.ts";
import type { Problem, TagLookup } from "./types.ts";
import { type WorkloadClient, type WorkloadResource, workloadClient } from "./workload-client.ts";
import {
  annotationOf,
  isControlledByOwner,
  ReportedProblems,
  TRIGGER_INDEX,
  TRIGGER_INPUTS,
  type WorkloadKey,
  type WorkloadMetadata,
  wantsReconcile,
  workloadEventMatters,
  workloadIndexKeys,
  workloadKey,
} from "./workload-watch.ts";

export const TRIGGER_CONTROLLER_NAME = "trigger";

export interface TriggerControllerOptions {
  /** Reads and patches workloads (default: the context's object API). */
  client?: WorkloadClient;
  /** Authorizes cross-namespace triggers (default: a SubjectAccessReview). */
  accessReview?: AccessReview;
  /** How long an authorization decision is reused (default 1 minute). */
  authorizationTtlMs?: number;
  /** A tag change's ImageTriggerFired Events are planned once no firing joined for this long (default 1 s). */
  firedEventsQuietMs?: number;
}

/** A retryable failure: the runtime requeues the key with backoff and the next run re-reads. */
class TriggerPatchConflict extends Error {
  readonly reason = "Conflict";
}

export function createTriggerController(
  ctx: ControllerContext,
  options: TriggerControllerOptions = {},
): ControllerHandle {
  const client = options.client ?? workloadClient(ctx.objects);
  const authorization = new AuthorizationCache(
    options.accessReview ?? subjectAccessReviewFromClient(ctx.kc),
    options.authorizationTtlMs === undefined ? {} : { ttlMs: options.authorizationTtlMs },
  );
  const reported = new ReportedProblems();
  /** Container names and images per triggered workload, from its last GET or PATCH answer. */
  const projections = new Map<string, WorkloadProjection>();

  const streams = ctx.informers.for<ImageStream>(IMAGESTREAMS);
  const lookupTag = tagLookupFromStreams(
    (namespace, name) => streams.get({ namespace, name }),
    ctx.config.localRegistry,
  );
  const fired = new FiredBatches({
    ...(options.firedEventsQuietMs === undefined ? {} : { quietMs: options.firedEventsQuietMs }),
    report: (firings) => recordFired(firings),
  });
  const workloads = new Map<WorkloadKind, SharedInformer<WorkloadMetadata>>();
  for (const info of WORKLOAD_KINDS) {
    const informer = ctx.informers.for<WorkloadMetadata>(info, {
      metadataOnly: true,
      projection: TRIGGER_INPUTS,
    });
    informer.addIndex(TRIGGER_INDEX, (workload) => safely(() => workloadIndexKeys(workload, info.kind), []));
    workloads.set(info.kind, informer);
  }

  /** Only the workloads following a tag whose newest image changed. */
  function followersOfChangedTags(stream: ImageStream, event: WatchEvent<ImageStream>): WorkloadKey[] {
    const namespace = stream.metadata?.namespace;
    const name = stream.metadata?.name;
    if (!namespace || !name) return [];
    const { before, after } = beforeAndAfter(event);
    const keys: WorkloadKey[] = [];
    for (const tagKey of tagKeysForStream(namespace, name, changedTags(before, after))) {
      for (const [kind, informer] of workloads) {
        for (const workload of informer.byIndex(TRIGGER_INDEX, tagKey)) {
          const key = workloadKey(kind, workload);
          if (key) keys.push(key);
        }
      }
    }
    return keys;
  }

  const controller = ctx
    .controller<WorkloadKey>({
      name: TRIGGER_CONTROLLER_NAME,
      concurrency: ctx.config.triggerWorkers,
      reconcile: (key, reconcileCtx) => reconcile(key, reconcileCtx),
    })
    .watch(streams, { map: followersOfChangedTags });
  for (const [kind, informer] of workloads) {
    controller.watch(informer, {
      map: (workload) => [workloadKey(kind, workload)],
      predicate: workloadEventMatters,
    });
  }

  async function reconcile(key: WorkloadKey, rctx: ReconcileContext): Promise<ReconcileResult> {
    const { kind, namespace, name } = key;
    const klog = rctx.log;
    const id = keyString(key);
    const cached = workloads.get(kind)?.get({ namespace, name });
    if (cached === undefined || !wantsReconcile(cached)) {
      // Deleted, or no longer triggered: its problems are forgotten, so a comeback reports them.
      reported.forget(id);
      projections.delete(id);
      return;
    }

    let workload: WorkloadResource;
    const projection = projections.get(id);
    if (projection !== undefined && projectionIsCurrent(projection, cached)) {
      workload = projectedWorkload(projection, cached);
    } else {
      try {
        workload = await client.get(kind, namespace, name);
      } catch (err) {
        if (isNotFound(err)) {
          projections.delete(id);
          return;
        }
        throw err;
      }
      projections.set(id, projectWorkload(workload, kind));
      if (annotationOf(workload) === undefined || isControlledByOwner(workload as WorkloadMetadata)) return;
    }

    const access = await authorize(workload, kind, namespace, klog);
    const evaluation = evaluateWorkload(workload, kind, access.lookup);
    const problems = [...evaluation.problems, ...access.problems];
    const ref = eventRef(kind, workload);
    for (const problem of reported.update(id, problems, workload.metadata?.uid)) {
      const event = problemEvent(problem);
      klog.warn({ reason: event.reason }, event.message);
      void ctx.events.record(ref, {
        type: event.type,
        reason: event.reason,
        note: event.message,
        action: "EvaluateTriggers",
      });
    }

    if (evaluation.patch.length > 0) {
      try {
        projections.set(
          id,
          projectWorkload(await client.patch(kind, namespace, name, evaluation.patch), kind),
        );
        ctx.metrics.triggerWrite("success");
      } catch (err) {
        // Whatever went wrong, the next run reads the workload afresh.
        projections.delete(id);
        // A failed `test` answers 422 (Invalid); a lost race with another writer 409.
        const conflict = isConflict(err) || isInvalid(err);
        ctx.metrics.triggerWrite(conflict ? "conflict" : "failure");
        if (isNotFound(err)) return;
        if (conflict) {
          // A `test` failed: the container list changed since the read. Re-read and retry.
          throw new TriggerPatchConflict(
            `patch of ${kind} ${namespace}/${name} rejected (${httpStatusOf(err)}); re-reading`,
            {
              cause: err,
            },
          );
        }
        throw err;
      }
      for (const change of evaluation.changes) {
        klog.info(
          { container: change.name, oldImage: change.oldImage, newImage: change.newImage },
          firedEvent(change).message,
        );
        fired.add({ workload: { ...ref, kind, namespace }, change });
      }
    }

    if (access.failed) throw new Error("could not authorize every cross-namespace trigger; retrying");
    // A denial is re-checked once its cached decision expires, so a new RoleBinding takes effect.
    return access.denied ? { requeueAfter: authorization.ttlMs } : undefined;
  }

  interface Access {
    lookup: TagLookup;
    problems: Problem[];
    denied: boolean;
    failed: boolean;
  }

  /** Hides the tags of source namespaces the workload's namespace may not read. */
  async function authorize(
    workload: WorkloadResource,
    kind: WorkloadKind,
    namespace: string,
    klog: ReconcileContext["log"],
  ): Promise<Access> {
    const crossNamespace = parseWorkloadTriggers(workload, kind).triggers.filter(
      (trigger) => !trigger.paused && trigger.from.namespace !== namespace,
    );
    if (crossNamespace.length === 0) return { lookup: lookupTag, problems: [], denied: false, failed: false };
    const hidden = new Set<string>();
    const problems: Problem[] = [];
    let denied = false;
    let failed = false;
    for (const source of new Set(crossNamespace.map((trigger) => trigger.from.namespace))) {
      try {
        if (await authorization.allowed(namespace, source)) continue;
        denied = true;
        for (const trigger of crossNamespace) {
          if (trigger.from.namespace === source) problems.push(notAuthorizedProblem(trigger, namespace));
        }
      } catch (err) {
        failed = true;
        klog.warn(
          { err, sourceNamespace: source },
          "SubjectAccessReview failed; skipping its triggers for now",
        );
      }
      hidden.add(source);
    }
    const lookup: TagLookup = (sourceNamespace, stream, tag) =>
      hidden.has(sourceNamespace) ? undefined : lookupTag(sourceNamespace, stream, tag);
    return { lookup, problems, denied, failed };
  }

  /** Records a batch's Events: one per workload, or one on the stream for a large fan-out. */
  function recordFired(firings: Firing[]): void {
    const from = firings[0]?.change.trigger.from;
    if (from === undefined) return;
    const stream = streams.get({ namespace: from.namespace, name: from.stream });
    const streamRef = objectRefOf({
      apiVersion: API_VERSION,
      kind: "ImageStream",
      metadata: stream?.metadata ?? { namespace: from.namespace, name: from.stream },
    });
    for (const { regarding, event } of planFiredEvents(firings, streamRef)) {
      void ctx.events.record(regarding, {
        type: event.type,
        reason: event.reason,
        note: event.message,
        action: "UpdateImage",
      });
    }
  }

  return {
    name: controller.name,
    start: () => controller.start(),
    stop: async () => {
      const drained = await controller.stop();
      // The Events of the last firings are written now rather than lost.
      fired.flush();
      return drained;
    },
  };
}

function eventRef(kind: WorkloadKind, workload: WorkloadResource): EventObjectRef {
  const info = workloadKindInfo(kind);
  return objectRefOf({ apiVersion: info.apiVersion, kind: info.kind, metadata: workload.metadata });
}

/** Index and handler code must never throw into an informer because of one odd object. */
function safely<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
