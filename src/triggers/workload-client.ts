// Live reads and JSON Patch writes of workload objects. The controller keeps no cache of full
// workloads (memory would grow with every pod spec in the cluster); it reads an object only
// when its metadata carries the trigger annotation, and remembers only its container names and
// images (projection.ts). Every kind goes through the generic object API, addressed by its row
// of the kinds table.

import type { ObjectApi } from "../runtime/index.ts";
import { type WorkloadKind, workloadKindInfo } from "./kinds.ts";
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

/** A WorkloadClient over the object API (which names the field manager). */
export function workloadClient(objects: ObjectApi): WorkloadClient {
  return {
    get: (kind, namespace, name) => objects.get(workloadKindInfo(kind), { namespace, name }),
    patch: (kind, namespace, name, operations) =>
      objects.jsonPatch(workloadKindInfo(kind), { namespace, name }, operations),
  };
}
