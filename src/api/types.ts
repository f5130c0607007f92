// Plain TypeScript shapes of OpenShift's image.openshift.io/v1 ImageStream and
// ImageStreamTag, field for field (design.md section 4). The interfaces are generated from
// the CRD schemas in schema.ts (types.generated.ts); this file is the stable import point.

import { API_GROUP, API_VERSION_NAME } from "./schema.ts";
import type { ImageStream, ImageStreamTag } from "./types.generated.ts";

export type { ObjectMeta, OwnerReference } from "./meta.ts";
export type {
  DockerConfig,
  DockerImageMetadata,
  Image,
  ImageImportSpec,
  ImageImportStatus,
  ImageLayer,
  ImageLookupPolicy,
  ImageManifest,
  ImageStream,
  ImageStreamImport,
  ImageStreamImportSpec,
  ImageStreamImportStatus,
  ImageStreamSpec,
  ImageStreamStatus,
  ImageStreamTag,
  ImageStreamTagStatus,
  ImportMode,
  ImportResultStatus,
  NamedTagEventList,
  ObjectReference,
  Receiver,
  ReceiverCondition,
  ReceiverProviderName,
  ReceiverSecretRef,
  ReceiverSpec,
  ReceiverStatus,
  RepositoryImportSpec,
  RepositoryImportStatus,
  TagEvent,
  TagEventCondition,
  TagEventConditionType,
  TagImportPolicy,
  TagReference,
  TagReferencePolicy,
  TagReferencePolicyType,
  TagSourceKind,
} from "./types.generated.ts";

export const GROUP = API_GROUP;
export const VERSION = API_VERSION_NAME;
export const API_VERSION = `${GROUP}/${VERSION}`;

interface ListMeta {
  resourceVersion?: string;
  continue?: string;
}

export interface ImageStreamList {
  apiVersion?: string;
  kind?: "ImageStreamList";
  metadata?: ListMeta;
  items: ImageStream[];
}

export interface ImageStreamTagList {
  apiVersion?: string;
  kind?: "ImageStreamTagList";
  metadata?: ListMeta;
  items: ImageStreamTag[];
}
