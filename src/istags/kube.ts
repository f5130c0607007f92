// The API server writes of the ImageStreamTag controller, through the runtime's object API.
// Every write names the field manager and carries the resourceVersion it was computed from
// (optimistic concurrency), except creates.
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
import type { ObjectApi } from "../runtime/index.ts";

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

/** The ImageStreamTag controller's writes over the generic object API. */
export function istagApi(objects: ObjectApi): IstagApi {
  const keyOfObject = (obj: ImageStream | ImageStreamTag) => ({
    namespace: obj.metadata.namespace,
    name: obj.metadata.name ?? "",
  });
  return {
    createStream: (namespace, name, tags) =>
      objects.create<ImageStream>(IMAGESTREAMS, {
        apiVersion: API_VERSION,
        kind: "ImageStream",
        metadata: { name, namespace },
        spec: { tags },
      }),
    getStream: (namespace, name) => objects.get<ImageStream>(IMAGESTREAMS, { namespace, name }),
    patchSpecTags: (stream, tags) =>
      objects.mergePatch<ImageStream>(IMAGESTREAMS, keyOfObject(stream), {
        metadata: { resourceVersion: stream.metadata.resourceVersion },
        spec: { tags },
      }),
    replaceStreamStatus: (stream, status) => objects.replaceStatus(IMAGESTREAMS, { ...stream, status }),
    createIstag: (istag) => objects.create(IMAGESTREAMTAGS, istag),
    replaceIstag: (istag) => objects.replace(IMAGESTREAMTAGS, istag),
    replaceIstagStatus: (istag, status) => objects.replaceStatus(IMAGESTREAMTAGS, { ...istag, status }),
    setFinalizers: (istag, finalizers) =>
      objects.mergePatch<ImageStreamTag>(IMAGESTREAMTAGS, keyOfObject(istag), {
        metadata: { resourceVersion: istag.metadata.resourceVersion, finalizers },
      }),
    deleteIstag: (istag) =>
      objects.delete(IMAGESTREAMTAGS, keyOfObject(istag), { uid: istag.metadata.uid ?? "" }),
  };
}
