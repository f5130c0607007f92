// Typed keys of the objects controllers reconcile (the types are the API's, src/api/meta.ts).
// The work queue de-duplicates by one canonical string per key; logs carry kind, namespace and
// name as separate fields.
import type { KindKey, ObjectKey } from "../api/index.ts";

export type { KindKey, ObjectKey };

/** What keyOf needs of an object: its metadata's namespace and name. */
export interface KubeObjectLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string } | undefined;
}

/** The key of an object, from its metadata. */
export function keyOf(obj: KubeObjectLike): ObjectKey {
  const namespace = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return namespace ? { namespace, name } : { name };
}

/**
 * The canonical text of a key: `namespace/name`, or `name` when cluster-scoped (client-go's
 * cache key), prefixed with `Kind:` for kind keys. The queue de-duplicates by it.
 */
export function keyString(key: ObjectKey | KindKey): string {
  const object = key.namespace ? `${key.namespace}/${key.name}` : key.name;
  return "kind" in key && key.kind ? `${key.kind}:${object}` : object;
}

/** The log fields of a key: `key` (canonical), `kind` when there is one, `namespace`, `name`. */
export function keyFields(key: ObjectKey | KindKey): Record<string, string> {
  return {
    key: keyString(key),
    ...("kind" in key && key.kind ? { kind: key.kind } : {}),
    ...(key.namespace ? { namespace: key.namespace } : {}),
    name: key.name,
  };
}
