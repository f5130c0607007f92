// Live reads and JSON Patch writes of workload objects. The controller keeps no cache of full
// workloads (memory would grow with every pod spec in the cluster); it reads an object only
// when its metadata carries the trigger annotation.

import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { WorkloadKind } from "./kinds.ts";
import type { JsonPatchOperation, WorkloadObject } from "./types.ts";

/** A full workload as read from the API server. */
export interface WorkloadResource extends WorkloadObject {
  readonly metadata?: WorkloadObject["metadata"] & {
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly generation?: number;
  };
}

export interface WorkloadClient {
  get(kind: WorkloadKind, namespace: string, name: string): Promise<WorkloadResource>;
  /** Applies an RFC 6902 JSON Patch; rejects with the API error (422/409 when a `test` failed). */
  patch(
    kind: WorkloadKind,
    namespace: string,
    name: string,
    operations: readonly JsonPatchOperation[],
  ): Promise<WorkloadResource>;
}

/** A WorkloadClient through client-node's typed APIs, writing as `fieldManager`. */
export function workloadClientFromKubeConfig(kc: KubeConfig, fieldManager: string): WorkloadClient {
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  // client-node picks the patch content type itself unless told; say it explicitly.
  const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

  return {
    get(kind, namespace, name): Promise<WorkloadResource> {
      const ref = { namespace, name };
      switch (kind) {
        case "Deployment":
          return apps.readNamespacedDeployment(ref);
        case "StatefulSet":
          return apps.readNamespacedStatefulSet(ref);
        case "DaemonSet":
          return apps.readNamespacedDaemonSet(ref);
        case "ReplicaSet":
          return apps.readNamespacedReplicaSet(ref);
        case "CronJob":
          return batch.readNamespacedCronJob(ref);
        case "Job":
          return batch.readNamespacedJob(ref);
        case "Pod":
          return core.readNamespacedPod(ref);
      }
    },
    patch(kind, namespace, name, operations): Promise<WorkloadResource> {
      const request = { namespace, name, body: operations, fieldManager };
      switch (kind) {
        case "Deployment":
          return apps.patchNamespacedDeployment(request, jsonPatch);
        case "StatefulSet":
          return apps.patchNamespacedStatefulSet(request, jsonPatch);
        case "DaemonSet":
          return apps.patchNamespacedDaemonSet(request, jsonPatch);
        case "ReplicaSet":
          return apps.patchNamespacedReplicaSet(request, jsonPatch);
        case "CronJob":
          return batch.patchNamespacedCronJob(request, jsonPatch);
        case "Job":
          return batch.patchNamespacedJob(request, jsonPatch);
        case "Pod":
          return core.patchNamespacedPod(request, jsonPatch);
      }
    },
  };
}
