// Pure glue between the metadata-only workload informers and the trigger work queue: queue
// keys, which watch events matter, the trigger index, and the problems already reported.

import { controllerRefOf, type KindKey } from "../api/index.ts";
import {
  annotationChanged,
  anyOf,
  generationChanged,
  type KubeObjectLike,
  type Predicate,
  type Projection,
} from "../runtime/index.ts";
import { problemsToReport } from "./events.ts";
import { triggerKeys } from "./keys.ts";
import type { WorkloadKind } from "./kinds.ts";
import { type Problem, TRIGGER_ANNOTATION } from "./types.ts";

/** What a metadata-only (PartialObjectMetadata) watch delivers for a workload. */
export interface WorkloadMetadata {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    annotations?: Record<string, string> | null;
    ownerReferences?: readonly { controller?: boolean | null; kind?: string; name?: string }[] | null;
  };
}

/**
 * What the trigger controller keeps of each workload it watches: what the functions here read
 * (name, namespace, uid, versions, the trigger annotation, the controller owner reference) and
 * nothing else. Most watched workloads are ReplicaSets and Jobs owned by another controller,
 * whose labels and other annotations would otherwise be most of the cache (docs/memory.md).
 */
export const TRIGGER_INPUTS: Projection = {
  name: "trigger-inputs",
  keep: (obj: KubeObjectLike) => triggerInputsOf(obj as WorkloadMetadata),
};

function triggerInputsOf(workload: WorkloadMetadata): WorkloadMetadata {
  const metadata = workload.metadata;
  if (!metadata) return workload;
  const trigger = metadata.annotations?.[TRIGGER_ANNOTATION];
  const controller = controllerRefOf(workload);
  return {
    ...(workload.apiVersion === undefined ? {} : { apiVersion: workload.apiVersion }),
    ...(workload.kind === undefined ? {} : { kind: workload.kind }),
    metadata: {
      ...(metadata.name === undefined ? {} : { name: metadata.name }),
      ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
      ...(metadata.uid === undefined ? {} : { uid: metadata.uid }),
      ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
      ...(metadata.generation === undefined ? {} : { generation: metadata.generation }),
      ...(trigger === undefined ? {} : { annotations: { [TRIGGER_ANNOTATION]: trigger } }),
      ...(controller === undefined
        ? {}
        : {
            ownerReferences: [
              {
                controller: true,
                ...(controller.kind === undefined ? {} : { kind: controller.kind }),
                ...(controller.name === undefined ? {} : { name: controller.name }),
              },
            ],
          }),
    },
  };
}

/** Name of the informer index from "<namespace>/<stream>:<tag>" to the workloads following it. */
export const TRIGGER_INDEX = "image.openshift.io/triggers";

/** The trigger controller's work item: one workload of one kind. */
export interface WorkloadKey extends KindKey {
  readonly kind: WorkloadKind;
  readonly namespace: string;
}

/** The key of a cached workload of `kind`; undefined for objects without namespace or name. */
export function workloadKey(kind: WorkloadKind, workload: WorkloadMetadata): WorkloadKey | undefined {
  const namespace = workload.metadata?.namespace;
  const name = workload.metadata?.name;
  return namespace && name ? { kind, namespace, name } : undefined;
}

export function annotationOf(workload: WorkloadMetadata): string | undefined {
  return workload.metadata?.annotations?.[TRIGGER_ANNOTATION] ?? undefined;
}

/**
 * A workload managed by another controller (a ReplicaSet of a Deployment, a Job of a
 * CronJob) is left alone: the Deployment controller copies the Deployment's annotations,
 * trigger included, onto its ReplicaSets, and patching them would rewrite the pod template
 * of old revisions behind the Deployment's back. The owner's own trigger rolls it out.
 */
export function isControlledByOwner(workload: WorkloadMetadata): boolean {
  return controllerRefOf(workload) !== undefined;
}

/** Whether an added workload needs a reconcile: it carries triggers and nobody else manages it. */
export function wantsReconcile(workload: WorkloadMetadata): boolean {
  return annotationOf(workload) !== undefined && !isControlledByOwner(workload);
}

/**
 * Whether an update matters: the annotation or ownership changed, or the spec did (the
 * generation moved: someone may have edited a triggered image). Status-only updates do not.
 * Objects without a generation (Pods on older API servers) fall back to resourceVersion.
 */
export function workloadChanged(oldObj: WorkloadMetadata, newObj: WorkloadMetadata): boolean {
  if (!wantsReconcile(newObj) && !wantsReconcile(oldObj)) return false;
  return triggerInputsChanged({ type: "updated", old: oldObj, object: newObj });
}

const controllingOwnerChanged: Predicate<WorkloadMetadata> = (event) =>
  event.type !== "updated" || isControlledByOwner(event.old) !== isControlledByOwner(event.object);

const triggerInputsChanged = anyOf<WorkloadMetadata>(
  annotationChanged(TRIGGER_ANNOTATION),
  controllingOwnerChanged,
  generationChanged,
);

/**
 * The workload watch: a new workload with triggers, an update that matters (workloadChanged),
 * and the delete of one that had triggers (its reported problems are forgotten).
 */
export const workloadEventMatters: Predicate<WorkloadMetadata> = (event) =>
  event.type === "updated" ? workloadChanged(event.old, event.object) : wantsReconcile(event.object);

/** Index values of a workload: the tags its active triggers follow; none for managed objects. */
export function workloadIndexKeys(workload: WorkloadMetadata, kind: WorkloadKind): string[] {
  if (!wantsReconcile(workload)) return [];
  return triggerKeys(workload, kind);
}

/**
 * The problems reported per workload, so a resync reports only new problems. A problem that
 * went away is forgotten, so its return is reported again; so are those of a workload deleted
 * and created again under the same name (another `uid`).
 */
export class ReportedProblems {
  readonly #byWorkload = new Map<string, { uid: string | undefined; fingerprints: ReadonlySet<string> }>();

  /** Returns the problems to report now, and remembers the current set. */
  update(workloadId: string, problems: readonly Problem[], uid?: string): Problem[] {
    const remembered = this.#byWorkload.get(workloadId);
    const { toReport, fingerprints } = problemsToReport(
      problems,
      remembered !== undefined && remembered.uid === uid ? remembered.fingerprints : new Set(),
    );
    if (fingerprints.length === 0) this.#byWorkload.delete(workloadId);
    else this.#byWorkload.set(workloadId, { uid, fingerprints: new Set(fingerprints) });
    return toReport;
  }

  forget(workloadId: string): void {
    this.#byWorkload.delete(workloadId);
  }

  get size(): number {
    return this.#byWorkload.size;
  }
}
