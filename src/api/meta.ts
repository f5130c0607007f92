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

/**
 * A meta/v1 MicroTime: RFC 3339 with exactly six fractional digits, the only form the API server
 * accepts for fields such as a Lease's renewTime or an Event's eventTime.
 */
export function microTime(at: number | Date): string {
  return new Date(at).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** The owner reference marked `controller: true` (an object has at most one), if any. */
export function controllerRefOf<R extends { readonly controller?: boolean | null }>(obj: {
  readonly metadata?: { readonly ownerReferences?: readonly R[] | null } | undefined;
}): R | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/** The key of an object: a namespaced one, or a cluster-scoped one when `namespace` is absent or "". */
export interface ObjectKey {
  readonly namespace?: string | undefined;
  readonly name: string;
}

/** The key of a namespaced object, written `namespace/name` in settings and logs. */
export interface NamespacedKey extends ObjectKey {
  readonly namespace: string;
}

/** The key of an object of one of several kinds that one controller reconciles. */
export interface KindKey extends ObjectKey {
  readonly kind: string;
}
