// A generic object API keyed by a resource description: the reads and writes every controller
// makes, for any resource (ImageStreams, ImageStreamTags, Deployments, Pods, ...), through one
// HTTP path and one error type. Writes name the field manager; replace and patch carry the
// resourceVersion given to them (optimistic concurrency); delete can carry preconditions.
import type { ResourceType } from "../api/index.ts";
import { collectionPath } from "./informers.ts";
import type { ObjectKey } from "./keys.ts";
import { kubeRequest } from "./kube-request.ts";
import type { KubeConnection } from "./kubeconfig.ts";

/** An object as the API returns it; at least its metadata. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string } | undefined;
}

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  readonly op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface ObjectApi {
  get<T extends KubeObject>(type: ResourceType, key: ObjectKey): Promise<T>;
  /** The objects of a namespace (undefined: of every namespace, or of a cluster-scoped resource). */
  list<T extends KubeObject>(type: ResourceType, namespace?: string): Promise<T[]>;
  /** POST to the collection of the object's namespace. */
  create<T extends KubeObject>(type: ResourceType, object: T): Promise<T>;
  /** PUT of the whole object; rejected with 409 unless its resourceVersion is current. */
  replace<T extends KubeObject>(type: ResourceType, object: T): Promise<T>;
  /** PUT of the status subresource; the same concurrency rule. */
  replaceStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T>;
  /** RFC 7386 merge patch (a `metadata.resourceVersion` in it guards the write). */
  mergePatch<T extends KubeObject>(type: ResourceType, key: ObjectKey, patch: object): Promise<T>;
  /** RFC 6902 JSON Patch; a failed `test` answers 422. */
  jsonPatch<T extends KubeObject>(
    type: ResourceType,
    key: ObjectKey,
    operations: readonly JsonPatchOperation[],
  ): Promise<T>;
  /**
   * Server-side apply of `object` (the fields it names become the field manager's; `force` takes
   * them over from other managers). Creates the object when it does not exist.
   */
  apply<T extends KubeObject>(type: ResourceType, object: T, options?: { force?: boolean }): Promise<T>;
  /** Deletes the object, if it still matches `preconditions`. */
  delete(type: ResourceType, key: ObjectKey, preconditions?: DeletePreconditions): Promise<void>;
}

const MERGE_PATCH = "application/merge-patch+json";
const JSON_PATCH = "application/json-patch+json";
/** JSON is YAML: the apply body is sent as JSON under the apply content type. */
const APPLY_PATCH = "application/apply-patch+yaml";

function objectPath(type: ResourceType, key: ObjectKey, subresource?: string): string {
  const namespace = type.namespaced === false ? undefined : key.namespace || undefined;
  const path = `${collectionPath(type, namespace)}/${encodeURIComponent(key.name)}`;
  return subresource ? `${path}/${subresource}` : path;
}

function keyOfObject(object: KubeObject): ObjectKey {
  return { namespace: object.metadata?.namespace, name: object.metadata?.name ?? "" };
}

/** An ObjectApi over the connection's cluster, writing as `fieldManager`. */
export function objectApi(kc: KubeConnection, options: { fieldManager: string }): ObjectApi {
  const query = { fieldManager: options.fieldManager };
  const send = async <T>(request: Parameters<typeof kubeRequest>[1]): Promise<T> =>
    (await kubeRequest(kc, request)) as T;
  return {
    get: (type, key) => send({ method: "GET", path: objectPath(type, key) }),
    list: async <T extends KubeObject>(type: ResourceType, namespace?: string) =>
      (
        await send<{ items?: T[] }>({
          method: "GET",
          path: collectionPath(type, type.namespaced === false ? undefined : namespace),
        })
      ).items ?? [],
    create: (type, object) =>
      send({
        method: "POST",
        path: collectionPath(type, type.namespaced === false ? undefined : object.metadata?.namespace),
        query,
        body: object,
      }),
    replace: (type, object) =>
      send({ method: "PUT", path: objectPath(type, keyOfObject(object)), query, body: object }),
    replaceStatus: (type, object) =>
      send({ method: "PUT", path: objectPath(type, keyOfObject(object), "status"), query, body: object }),
    mergePatch: (type, key, patch) =>
      send({ method: "PATCH", path: objectPath(type, key), query, body: patch, contentType: MERGE_PATCH }),
    jsonPatch: (type, key, operations) =>
      send({
        method: "PATCH",
        path: objectPath(type, key),
        query,
        body: operations,
        contentType: JSON_PATCH,
      }),
    apply: (type, object, options) =>
      send({
        method: "PATCH",
        path: objectPath(type, keyOfObject(object)),
        query: { ...query, ...(options?.force ? { force: "true" } : {}) },
        body: object,
        contentType: APPLY_PATCH,
      }),
    delete: async (type, key, preconditions) => {
      await kubeRequest(kc, {
        method: "DELETE",
        path: objectPath(type, key),
        ...(preconditions ? { body: { apiVersion: "v1", kind: "DeleteOptions", preconditions } } : {}),
      });
    },
  };
}
