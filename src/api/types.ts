// Plain TypeScript shapes of OpenShift's image.openshift.io/v1 ImageStream and
// ImageStreamTag, field for field (design.md section 4). Optional everywhere the API is.

export const GROUP = "image.openshift.io";
export const VERSION = "v1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ObjectMeta {
  name?: string;
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

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export type TagSourceKind = "DockerImage" | "ImageStreamTag" | "ImageStreamImage";

export interface ObjectReference {
  kind: TagSourceKind;
  name: string;
  namespace?: string;
}

export type ImportMode = "Legacy" | "PreserveOriginal";

export interface TagImportPolicy {
  insecure?: boolean;
  scheduled?: boolean;
  importMode?: ImportMode;
}

export type TagReferencePolicyType = "Source" | "Local";

export interface TagReferencePolicy {
  type?: TagReferencePolicyType;
}

export interface TagReference {
  name: string;
  annotations?: Record<string, string> | null;
  from?: ObjectReference | null;
  reference?: boolean;
  generation?: number | null;
  importPolicy?: TagImportPolicy;
  referencePolicy?: TagReferencePolicy;
}

export interface ImageLookupPolicy {
  local?: boolean;
}

export interface ImageStreamSpec {
  lookupPolicy?: ImageLookupPolicy;
  dockerImageRepository?: string;
  tags?: TagReference[] | null;
}

export interface TagEvent {
  created: string;
  dockerImageReference: string;
  image: string;
  generation: number;
}

export type TagEventConditionType = "ImportSuccess";

export interface TagEventCondition {
  type: TagEventConditionType;
  status: "True" | "False" | "Unknown";
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
  generation: number;
}

export interface NamedTagEventList {
  tag: string;
  items: TagEvent[] | null;
  conditions?: TagEventCondition[];
}

export interface ImageStreamStatus {
  dockerImageRepository?: string;
  publicDockerImageRepository?: string;
  tags?: NamedTagEventList[] | null;
  /** Additive: comma-separated tag names with a current image, for the TAGS printer column. */
  tagSummary?: string;
  /** Additive: newest `created` over all tags, for the UPDATED printer column. */
  lastUpdated?: string;
}

export interface ImageStream {
  apiVersion?: string;
  kind?: "ImageStream";
  metadata: ObjectMeta;
  spec?: ImageStreamSpec;
  status?: ImageStreamStatus;
}

export interface ImageStreamList {
  apiVersion?: string;
  kind?: "ImageStreamList";
  metadata?: { resourceVersion?: string; continue?: string };
  items: ImageStream[];
}

/** Docker image configuration as OpenShift's DockerImage metadata records it. */
export interface DockerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
}

export interface DockerImageMetadata {
  Architecture?: string;
  Os?: string;
  Variant?: string;
  Created?: string;
  Author?: string;
  Config?: DockerConfig;
  Size?: number;
}

export interface ImageLayer {
  name: string;
  size: number;
  mediaType: string;
}

export interface ImageManifest {
  digest: string;
  mediaType: string;
  manifestSize: number;
  architecture: string;
  os: string;
  variant?: string;
}

export interface Image {
  metadata: { name: string; creationTimestamp?: string; annotations?: Record<string, string> };
  dockerImageReference: string;
  dockerImageMetadata?: DockerImageMetadata;
  dockerImageLayers?: ImageLayer[];
  dockerImageManifestMediaType?: string;
  dockerImageManifests?: ImageManifest[];
}

export interface ImageStreamTag {
  apiVersion?: string;
  kind?: "ImageStreamTag";
  metadata: ObjectMeta;
  tag?: TagReference | null;
  generation?: number;
  lookupPolicy?: ImageLookupPolicy;
  conditions?: TagEventCondition[];
  image?: Image;
}
