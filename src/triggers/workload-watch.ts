// Pure glue between the metadata-only workload informers and the trigger work queue: queue
// keys, which watch events matter, the trigger index, and the problems already reported.

import { controllerRefOf } from "../api/index.ts";
import { problemsToReport } from "./events.ts";
import { triggerKeys } from "./keys.ts";
import { isWorkloadKind, type WorkloadKind } from "./kinds.ts";
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

/** Name of the informer index from "<namespace>/<stream>:<tag>" to the workloads following it. */
export const TRIGGER_INDEX = "image.openshift.io/triggers";

/**
 * "<namespace>/<Kind>/<name>": the runtime splits keys at the first "/", so its logs still
 * carry the namespace, and the name reads as kubectl's "<kind>/<name>".
 */
export function workloadQueueKey(kind: WorkloadKind, namespace: string, name: string): string {
  return `${namespace}/${kind}/${name}`;
}

export function parseWorkloadQueueKey(
  key: string,
): { kind: WorkloadKind; namespace: string; name: string } | undefined {
  const [namespace, kind, name, ...rest] = key.split("/");
  if (rest.length > 0 || !namespace || !name || !isWorkloadKind(kind)) return undefined;
  return { kind, namespace, name };
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
  if (annotationOf(oldObj) !== annotationOf(newObj)) return true;
  if (isControlledByOwner(oldObj) !== isControlledByOwner(newObj)) return true;
  const oldGeneration = oldObj.metadata?.generation;
  const newGeneration = newObj.metadata?.generation;
  if (oldGeneration !== undefined || newGeneration !== undefined) return oldGeneration !== newGeneration;
  return oldObj.metadata?.resourceVersion !== newObj.metadata?.resourceVersion;
}

/** Index values of a workload: the tags its active triggers follow; none for managed objects. */
export function workloadIndexKeys(workload: WorkloadMetadata, kind: WorkloadKind): string[] {
  if (!wantsReconcile(workload)) return [];
  return triggerKeys(workload, kind);
}

/**
 * The problems reported per workload (by UID), so a resync reports only new problems. A
 * problem that went away is forgotten, so its return is reported again.
 */
export class ReportedProblems {
  readonly #byWorkload = new Map<string, ReadonlySet<string>>();

  /** Returns the problems to report now, and remembers the current set. */
  update(workloadId: string, problems: readonly Problem[]): Problem[] {
    const { toReport, fingerprints } = problemsToReport(
      problems,
      this.#byWorkload.get(workloadId) ?? new Set(),
    );
    if (fingerprints.length === 0) this.#byWorkload.delete(workloadId);
    else this.#byWorkload.set(workloadId, new Set(fingerprints));
    return toReport;
  }

  forget(workloadId: string): void {
    this.#byWorkload.delete(workloadId);
  }

  get size(): number {
    return this.#byWorkload.size;
  }
}
