// Kubernetes object metadata as this project reads and writes it (a subset of
// meta/v1 ObjectMeta). Hand-written: the API server owns its schema, not our CRDs.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

/** The owner reference marked `controller: true` (an object has at most one), if any. */
export function controllerRefOf<R extends { readonly controller?: boolean | null }>(obj: {
  readonly metadata?: { readonly ownerReferences?: readonly R[] | null } | undefined;
}): R | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}
