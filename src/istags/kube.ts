// The API server writes of the ImageStreamTag controller, through client-node's
// CustomObjectsApi. Every write names FIELD_MANAGER and carries the resourceVersion it was
// computed from (optimistic concurrency), except creates.
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import {
  API_VERSION,
  IMAGESTREAMS,
  IMAGESTREAMTAGS,
  type ImageStream,
  type ImageStreamStatus,
  type ImageStreamTag,
  type ImageStreamTagStatus,
  type TagReference,
} from "../api/index.ts";
import { FIELD_MANAGER } from "../runtime/index.ts";

export interface IstagApi {
  createStream(namespace: string, name: string, tags: TagReference[]): Promise<ImageStream>;
  getStream(namespace: string, name: string): Promise<ImageStream>;
  /** Replaces spec.tags, guarded by the stream's resourceVersion. */
  patchSpecTags(stream: ImageStream, tags: TagReference[]): Promise<ImageStream>;
  replaceStreamStatus(stream: ImageStream, status: ImageStreamStatus): Promise<ImageStream>;
  createIstag(istag: ImageStreamTag): Promise<ImageStreamTag>;
  /** PUT of the main resource (top-level fields and metadata), guarded by resourceVersion. */
  replaceIstag(istag: ImageStreamTag): Promise<ImageStreamTag>;
  /** PUT of the status subresource, guarded by the object's resourceVersion. */
  replaceIstagStatus(istag: ImageStreamTag, status: ImageStreamTagStatus): Promise<ImageStreamTag>;
  /** Sets metadata.finalizers, guarded by resourceVersion. */
  setFinalizers(istag: ImageStreamTag, finalizers: string[]): Promise<ImageStreamTag>;
  /** Deletes the object if it is still the one seen (uid precondition). */
  deleteIstag(istag: ImageStreamTag): Promise<void>;
}

export function istagApiFromKubeConfig(kc: KubeConfig): IstagApi {
  const api = kc.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  const streamPath = (stream: ImageStream) => ({
    ...IMAGESTREAMS,
    namespace: stream.metadata.namespace ?? "",
    name: stream.metadata.name ?? "",
  });
  const istagPath = (istag: ImageStreamTag) => ({
    ...IMAGESTREAMTAGS,
    namespace: istag.metadata.namespace ?? "",
    name: istag.metadata.name ?? "",
  });
  return {
    createStream: async (namespace, name, tags) =>
      (await api.createNamespacedCustomObject({
        ...IMAGESTREAMS,
        namespace,
        fieldManager: FIELD_MANAGER,
        body: { apiVersion: API_VERSION, kind: "ImageStream", metadata: { name, namespace }, spec: { tags } },
      })) as ImageStream,
    getStream: async (namespace, name) =>
      (await api.getNamespacedCustomObject({ ...IMAGESTREAMS, namespace, name })) as ImageStream,
    patchSpecTags: async (stream, tags) =>
      (await api.patchNamespacedCustomObject(
        {
          ...streamPath(stream),
          fieldManager: FIELD_MANAGER,
          body: { metadata: { resourceVersion: stream.metadata.resourceVersion }, spec: { tags } },
        },
        mergePatch,
      )) as ImageStream,
    replaceStreamStatus: async (stream, status) =>
      (await api.replaceNamespacedCustomObjectStatus({
        ...streamPath(stream),
        fieldManager: FIELD_MANAGER,
        body: { ...stream, status },
      })) as ImageStream,
    createIstag: async (istag) =>
      (await api.createNamespacedCustomObject({
        ...IMAGESTREAMTAGS,
        namespace: istag.metadata.namespace ?? "",
        fieldManager: FIELD_MANAGER,
        body: istag,
      })) as ImageStreamTag,
    replaceIstag: async (istag) =>
      (await api.replaceNamespacedCustomObject({
        ...istagPath(istag),
        fieldManager: FIELD_MANAGER,
        body: istag,
      })) as ImageStreamTag,
    replaceIstagStatus: async (istag, status) =>
      (await api.replaceNamespacedCustomObjectStatus({
        ...istagPath(istag),
        fieldManager: FIELD_MANAGER,
        body: { ...istag, status },
      })) as ImageStreamTag,
    setFinalizers: async (istag, finalizers) =>
      (await api.patchNamespacedCustomObject(
        {
          ...istagPath(istag),
          fieldManager: FIELD_MANAGER,
          body: { metadata: { resourceVersion: istag.metadata.resourceVersion, finalizers } },
        },
        mergePatch,
      )) as ImageStreamTag,
    deleteIstag: async (istag) => {
      await api.deleteNamespacedCustomObject({
        ...istagPath(istag),
        body: { preconditions: { uid: istag.metadata.uid ?? "" } },
      });
    },
  };
}
