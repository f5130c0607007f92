// The single source of truth for the image.openshift.io/v1 API served by this project:
// OpenAPI v3 structural schemas of ImageStream and ImageStreamTag, from which
// scripts/gen-crds.ts writes both the CRD YAML in crds/ and src/api/types.generated.ts.
// Keys starting with `ts` (tsName, tsType, tsRequired) only steer the TypeScript generator
// and are stripped from the CRDs.

export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
  fieldPath?: string;
}

export interface SchemaNode {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  format?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  required?: string[];
  enum?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  minimum?: number;
  nullable?: boolean;
  "x-kubernetes-validations"?: CelRule[];
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  /** TS only: emit this node as a named interface (objects) or type alias (enums). */
  tsName?: string;
  /** TS only: use this type expression verbatim instead of deriving one. */
  tsType?: string;
  /** TS only: properties required in TypeScript although the schema does not require them. */
  tsRequired?: string[];
}

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface CrdModel {
  /** API group of the kind (default API_GROUP, image.openshift.io). */
  group?: string;
  /** Its version (default API_VERSION_NAME, v1). */
  version?: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
  printerColumns: PrinterColumn[];
  /**
   * Whether status is a subresource (written only through `/status`). ImageStreamImport has none:
   * its status is the answer an admission webhook puts into the object before it is stored, and
   * a status subresource would make the API server drop it on create.
   */
  statusSubresource: boolean;
  schema: SchemaNode;
}

export const API_GROUP = "image.openshift.io";
export const API_VERSION_NAME = "v1";
/** The group of this operator's own kinds (Receiver), which OpenShift does not have. */
export const OPERATOR_API_GROUP = "imagestream-operator.io";
export const OPERATOR_API_VERSION_NAME = "v1alpha1";
/** Providers a Receiver understands (docs/push.md, "Receivers"). */
export const RECEIVER_PROVIDERS = [
  "dockerhub",
  "harbor",
  "quay",
  "github",
  "gitlab",
  "distribution",
  "generic",
] as const;
/** The Secret type a Receiver's token lives in (the operator caches Secrets of this type only). */
export const RECEIVER_SECRET_TYPE = "imagestream-operator.io/receiver-token";
/** Most namespaces one Receiver may act on. */
export const MAX_RECEIVER_NAMESPACES = 100;

/** OpenShift's image stream name grammar (design.md section 4). */
export const STREAM_NAME_PATTERN = "^[a-z0-9]+(?:[._-][a-z0-9]+)*$";
/** The registry tag grammar (design.md section 4). */
export const TAG_NAME_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$";
export const TAG_NAME_MAX_LENGTH = 128;
/** Kubernetes object names (DNS subdomains) are at most this long. */
export const OBJECT_NAME_MAX_LENGTH = 253;
/** Bounds that keep the CEL cost estimate of per-tag rules within the API server's budget. */
export const MAX_SPEC_TAGS = 1000;
const MAX_REFERENCE_LENGTH = 1024;

// ---------------------------------------------------------------- building blocks

const str = (description: string, extra: Partial<SchemaNode> = {}): SchemaNode => ({
  type: "string",
  description,
  ...extra,
});
const bool = (description: string): SchemaNode => ({ type: "boolean", description });
const int64 = (description: string, extra: Partial<SchemaNode> = {}): SchemaNode => ({
  type: "integer",
  format: "int64",
  description,
  ...extra,
});
const dateTime = (description: string): SchemaNode => ({ type: "string", format: "date-time", description });
const stringMap = (description: string, nullable = false): SchemaNode => ({
  type: "object",
  description,
  additionalProperties: { type: "string" },
  ...(nullable ? { nullable: true } : {}),
});
const stringList = (description: string): SchemaNode => ({
  type: "array",
  description,
  items: { type: "string" },
});

const tagNameRule: CelRule = {
  rule: `self.matches('${TAG_NAME_PATTERN}')`,
  messageExpression:
    "'\"' + self + '\" is not a valid tag name: use 1-128 letters, digits, \\'_\\', \\'.\\' or \\'-\\', " +
    "not starting with \\'.\\' or \\'-\\''",
};

// ---------------------------------------------------------------- shared types

const tagSourceKind: SchemaNode = {
  type: "string",
  tsName: "TagSourceKind",
  description:
    "Kind of the source: DockerImage (a pull spec in a registry), ImageStreamTag (another tag, " +
    "`tag` or `stream:tag`) or ImageStreamImage (one image of a stream, `stream@sha256:...`).",
  enum: ["DockerImage", "ImageStreamTag", "ImageStreamImage"],
};

/** Fields of core/v1 ObjectReference that OpenShift's `from` carries and nothing reads. */
const objectReferenceCompat: Record<string, SchemaNode> = {
  apiVersion: str("Accepted for compatibility with core/v1 ObjectReference; ignored."),
  uid: str("Accepted for compatibility with core/v1 ObjectReference; ignored."),
  resourceVersion: str("Accepted for compatibility with core/v1 ObjectReference; ignored."),
  fieldPath: str("Accepted for compatibility with core/v1 ObjectReference; ignored."),
};

const objectReference: SchemaNode = {
  type: "object",
  tsName: "ObjectReference",
  description: "Where a tag's image comes from.",
  required: ["kind", "name"],
  properties: {
    kind: tagSourceKind,
    name: str(
      "For DockerImage a pull spec (`registry/repo:tag` or `registry/repo@sha256:...`); for ImageStreamTag " +
        "`tag` or `stream:tag`; for ImageStreamImage `stream@sha256:...` (a unique digest prefix is enough).",
      { maxLength: MAX_REFERENCE_LENGTH },
    ),
    namespace: str(
      "Namespace of the source ImageStreamTag or ImageStreamImage; defaults to the stream's own namespace. " +
        "Ignored for DockerImage.",
    ),
    ...objectReferenceCompat,
  },
};

const importMode: SchemaNode = {
  type: "string",
  tsName: "ImportMode",
  description:
    "How manifest lists and OCI indexes are imported. Legacy (the default, also when empty or missing, as " +
    "OpenShift defaults it) imports one platform: the tag's importer.image.openshift.io/prefer-arch and " +
    "prefer-os annotations, then the operator's configured platform, then linux/amd64, then the first " +
    "entry. PreserveOriginal keeps the list's own digest and records every sub-manifest.",
  // "" is what OpenShift's clients send when they leave the field unset; OpenShift defaults it to Legacy.
  enum: ["Legacy", "PreserveOriginal", ""],
};

const tagImportPolicy: SchemaNode = {
  type: "object",
  tsName: "TagImportPolicy",
  description:
    "How and when the tag's image is imported from its registry. An empty object means: import once, " +
    "over TLS, with importMode Legacy.",
  properties: {
    insecure: bool(
      "Allow plain HTTP and TLS without certificate verification when importing this tag only. " +
        "Setting it to false does not override the stream's openshift.io/image.insecureRepository annotation.",
    ),
    scheduled: bool(
      "Re-import the tag periodically (the operator's scheduled import interval, 15 minutes at the " +
        "least) so the tag follows changes in the registry. Only for tags whose from.kind is DockerImage.",
    ),
    importMode,
  },
};

const referencePolicyType: SchemaNode = {
  type: "string",
  tsName: "TagReferencePolicyType",
  description:
    "Source (the default, also when empty or missing, as OpenShift defaults it): workloads pull the image " +
    "from its source registry. Local: pull through the cluster's registry; without a configured local or " +
    "pull-through registry this behaves as Source.",
  // "" is what OpenShift's clients and its own catalog streams send (`referencePolicy: {type: ""}`);
  // OpenShift's API server defaults it to Source.
  enum: ["Source", "Local", ""],
};

const tagReferencePolicy: SchemaNode = {
  type: "object",
  tsName: "TagReferencePolicy",
  description: "Which pull spec consumers of the tag (triggers, image lookup) use.",
  properties: { type: referencePolicyType },
};

// OpenShift refuses a scheduled ImageStreamTag or ImageStreamImage source; a tag without `from`
// passes its validation (there is nothing to schedule), so it passes here too.
const scheduledOnlyForDockerImage: CelRule = {
  rule:
    "!(has(self.importPolicy) && has(self.importPolicy.scheduled) && self.importPolicy.scheduled) || " +
    "!has(self.from) || self.from == null || self.from.kind == 'DockerImage'",
  messageExpression:
    "'tag \"' + self.name + '\": importPolicy.scheduled is only allowed when from.kind is DockerImage; " +
    "only images from a registry can be re-imported on a schedule'",
  fieldPath: ".importPolicy.scheduled",
  reason: "FieldValueForbidden",
};

const tagReference: SchemaNode = {
  type: "object",
  tsName: "TagReference",
  description:
    "A tag of the stream: its name, where its image comes from and how it is imported. A tag without " +
    "`from` only carries metadata (annotations) for images pushed or tagged into the stream.",
  required: ["name"],
  "x-kubernetes-validations": [scheduledOnlyForDockerImage],
  properties: {
    name: str("Name of the tag (registry tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`).", {
      maxLength: TAG_NAME_MAX_LENGTH,
      "x-kubernetes-validations": [tagNameRule],
    }),
    annotations: stringMap(
      "Annotations of the tag, such as openshift.io/display-name, description, iconClass, tags and " +
        "supports (used by catalogs), or importer.image.openshift.io/prefer-arch and prefer-os.",
      true,
    ),
    from: { ...objectReference, nullable: true, description: "Where the tag's image comes from." },
    reference: bool(
      "When true the tag only points at from.name: nothing is imported and status records the pull spec " +
        "as given, with an empty image.",
    ),
    generation: int64(
      "The stream generation at which this tag was last changed; set by the server in OpenShift and " +
        "carried in exported manifests. Status events of the same generation belong to this spec.",
      { nullable: true },
    ),
    importPolicy: tagImportPolicy,
    referencePolicy: tagReferencePolicy,
  },
};

const imageLookupPolicy: SchemaNode = {
  type: "object",
  tsName: "ImageLookupPolicy",
  description: "Whether workloads in the namespace may use the stream's name as an image.",
  properties: {
    local: bool(
      "When true, pod templates in the same namespace may name `stream:tag` as an image and the " +
        "operator's admission webhook resolves it to the tag's digest pull spec.",
    ),
  },
};

const tagEvent: SchemaNode = {
  type: "object",
  tsName: "TagEvent",
  description: "One entry of a tag's history.",
  required: ["created", "dockerImageReference", "image", "generation"],
  properties: {
    created: dateTime("When the tag started pointing at this image."),
    dockerImageReference: str(
      "Pull spec of the image, as specific as possible while keeping the source's name " +
        "(for example `docker.io/library/redis@sha256:...`).",
    ),
    image: str("Digest of the image (`sha256:...`); empty for reference tags."),
    generation: int64("Spec tag generation that produced this event."),
  },
};

const tagEventCondition: SchemaNode = {
  type: "object",
  tsName: "TagEventCondition",
  description: "A condition of a tag; present only while the last import of the tag failed.",
  required: ["type", "status", "generation"],
  properties: {
    type: {
      type: "string",
      tsName: "TagEventConditionType",
      description: "Type of the condition: ImportSuccess.",
      enum: ["ImportSuccess"],
    },
    status: str("True, False or Unknown.", { enum: ["True", "False", "Unknown"] }),
    lastTransitionTime: dateTime("When the condition last changed status."),
    reason: str("Machine-readable reason in OpenShift's style: NotFound, Unauthorized, InternalError, ..."),
    message: str("Human-readable detail of the failure."),
    generation: int64("Spec tag generation this condition refers to."),
  },
};

const namedTagEventList: SchemaNode = {
  type: "object",
  tsName: "NamedTagEventList",
  description: "Status of one tag: its history and conditions.",
  required: ["tag", "items"],
  properties: {
    tag: str("Name of the tag."),
    items: {
      type: "array",
      nullable: true,
      description: "History of the tag, newest first; items[0] is the tag's current image.",
      items: tagEvent,
    },
    conditions: {
      type: "array",
      description: "Problems with the tag, such as a failed import (ImportSuccess=False).",
      items: tagEventCondition,
    },
  },
};

// ---------------------------------------------------------------- ImageStream

const dockerImageRepositoryRule: CelRule = {
  rule: "!self.contains('@') && !self.substring(self.lastIndexOf('/') + 1).contains(':')",
  messageExpression:
    "'\"' + self + '\" must name a repository without a tag or digest (for example " +
    "docker.io/library/redis); list tags in spec.tags instead'",
};

const imageStreamSpec: SchemaNode = {
  type: "object",
  tsName: "ImageStreamSpec",
  description: "Desired state of the image stream: its tags and where their images come from.",
  properties: {
    lookupPolicy: imageLookupPolicy,
    dockerImageRepository: str(
      "Deprecated but supported: a repository (`registry/namespace/name`, no tag or digest) whose tags " +
        "are all imported (latest first, then semantic versions newest first, up to the operator's limit).",
      { maxLength: MAX_REFERENCE_LENGTH, "x-kubernetes-validations": [dockerImageRepositoryRule] },
    ),
    tags: {
      type: "array",
      nullable: true,
      description: "Tags of the stream and where their images come from. Tag names are unique.",
      maxItems: MAX_SPEC_TAGS,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: tagReference,
    },
  },
};

const imageStreamStatus: SchemaNode = {
  type: "object",
  tsName: "ImageStreamStatus",
  description: "Observed state of the stream, maintained by the operator.",
  properties: {
    dockerImageRepository: str(
      "Where the stream's images can be pulled from: `<local registry>/<namespace>/<name>` when a local " +
        "registry is configured, otherwise spec.dockerImageRepository.",
    ),
    publicDockerImageRepository: str("Pull location of the stream from outside the cluster, if configured."),
    tags: {
      type: "array",
      nullable: true,
      description: "Per-tag history and conditions.",
      items: namedTagEventList,
    },
    tagSummary: str(
      "Additive (not in OpenShift): the status tags, most recently updated first, at most three then " +
        "' + N more...', as `oc get is` prints them. Shown in the TAGS column.",
    ),
    lastUpdated: dateTime(
      "Additive (not in OpenShift): newest `created` over all tags. Shown in the UPDATED column.",
    ),
  },
};

const streamNameRule: CelRule = {
  rule: `self.metadata.name.matches('${STREAM_NAME_PATTERN}')`,
  messageExpression:
    "'image stream name \"' + self.metadata.name + '\" is invalid: use lowercase letters and digits, " +
    "separated by single \\'.\\', \\'_\\' or \\'-\\''",
  fieldPath: ".metadata.name",
};

const rootMeta = (kind: string): Record<string, SchemaNode> => ({
  apiVersion: str("API version of the object: image.openshift.io/v1."),
  kind: str(`Kind of the object: ${kind}.`, { tsType: `"${kind}"` }),
  metadata: {
    type: "object",
    tsType: "ObjectMeta",
    properties: { name: { type: "string" } },
  },
});

const imageStreamSchema: SchemaNode = {
  type: "object",
  tsName: "ImageStream",
  description:
    "A stream of container images identified by tags (OpenShift image.openshift.io/v1 ImageStream). " +
    "Tags point at images in registries, at other tags or at images of other streams; the operator " +
    "imports them and records their digests and history in status.",
  tsRequired: ["metadata"],
  "x-kubernetes-validations": [streamNameRule],
  properties: {
    ...rootMeta("ImageStream"),
    spec: imageStreamSpec,
    status: imageStreamStatus,
  },
};

// ---------------------------------------------------------------- ImageStreamTag

const dockerConfig: SchemaNode = {
  type: "object",
  tsName: "DockerConfig",
  description: "The image's runtime configuration; other fields of the Docker config are kept as they are.",
  "x-kubernetes-preserve-unknown-fields": true,
  properties: {
    User: str("User the container runs as."),
    ExposedPorts: {
      type: "object",
      description: "Ports the image exposes, keyed by `port/protocol`.",
      additionalProperties: { type: "object", tsType: "Record<string, never>" },
    },
    Env: stringList("Environment variables, `NAME=value`."),
    Cmd: stringList("Default command arguments."),
    Entrypoint: stringList("Entrypoint."),
    WorkingDir: str("Working directory."),
    Labels: stringMap("Image labels."),
  },
};

const dockerImageMetadata: SchemaNode = {
  type: "object",
  tsName: "DockerImageMetadata",
  description: "Image metadata from the image config; other fields are kept as they are.",
  "x-kubernetes-preserve-unknown-fields": true,
  properties: {
    Architecture: str("CPU architecture, e.g. amd64."),
    Os: str("Operating system, e.g. linux."),
    Variant: str("CPU variant, e.g. v8."),
    Created: dateTime("When the image was built."),
    Author: str("Author of the image."),
    Config: dockerConfig,
    Size: int64("Total size of the image's layers in bytes."),
  },
};

const imageLayer: SchemaNode = {
  type: "object",
  tsName: "ImageLayer",
  description: "One layer of the image.",
  required: ["name", "size", "mediaType"],
  properties: {
    name: str("Digest of the layer."),
    size: int64("Size of the layer in bytes."),
    mediaType: str("Media type of the layer."),
  },
};

const imageManifest: SchemaNode = {
  type: "object",
  tsName: "ImageManifest",
  description: "One platform entry of a manifest list or OCI index.",
  required: ["digest", "mediaType", "manifestSize", "architecture", "os"],
  properties: {
    digest: str("Digest of the platform manifest."),
    mediaType: str("Media type of the platform manifest."),
    manifestSize: int64("Size of the platform manifest in bytes."),
    architecture: str("CPU architecture."),
    os: str("Operating system."),
    variant: str("CPU variant."),
  },
};

const image: SchemaNode = {
  type: "object",
  tsName: "Image",
  description:
    "The tag's current image, maintained by the operator. Other fields of OpenShift's Image " +
    "(signatures, ...) are kept as they are.",
  "x-kubernetes-preserve-unknown-fields": true,
  required: ["dockerImageReference"],
  properties: {
    metadata: {
      type: "object",
      description: "Identity of the image; name is its digest.",
      required: ["name"],
      tsType: "{ name: string; creationTimestamp?: string; annotations?: Record<string, string> }",
      properties: {
        name: str("Digest of the image (`sha256:...`)."),
        creationTimestamp: dateTime("When the image was first imported."),
        annotations: stringMap("Annotations of the image."),
        uid: str("Accepted for compatibility with exported OpenShift images; ignored."),
        resourceVersion: str("Accepted for compatibility with exported OpenShift images; ignored."),
      },
    },
    dockerImageReference: str("Pull spec of the image by digest."),
    dockerImageMetadata,
    dockerImageMetadataVersion: str("Version of dockerImageMetadata, e.g. 1.0."),
    dockerImageLayers: { type: "array", description: "Layers of the image, base first.", items: imageLayer },
    dockerImageManifestMediaType: str("Media type of the image's manifest."),
    dockerImageManifests: {
      type: "array",
      description: "For a manifest list or OCI index imported with PreserveOriginal: its platform entries.",
      items: imageManifest,
    },
  },
};

const imageStreamTagStatus: SchemaNode = {
  type: "object",
  tsName: "ImageStreamTagStatus",
  description:
    "Additive (not in OpenShift), written through the status subresource by the operator. OpenShift's " +
    "own ImageStreamTag fields (tag, generation, lookupPolicy, conditions, image) stay at the top level.",
  properties: {
    lastUpdated: dateTime("When the tag started pointing at its current image. Shown in the UPDATED column."),
    observedGeneration: int64(
      "metadata.generation of this object that the operator last synced into the stream.",
    ),
  },
};

const istagNameRule: CelRule = {
  rule:
    "!has(self.tag) || self.tag == null || " +
    "self.metadata.name.endsWith('.' + self.tag.name.lowerAscii().replace('_', '-'))",
  messageExpression:
    "'ImageStreamTag name \"' + self.metadata.name + '\" must be <stream>.' + " +
    "self.tag.name.lowerAscii().replace('_', '-') + ' for tag.name \"' + self.tag.name + " +
    "'\" (the tag lower-cased, \\'_\\' replaced by \\'-\\')'",
  fieldPath: ".metadata.name",
};

const istagStreamPartRule: CelRule = {
  rule:
    "self.metadata.name.contains('.') && " +
    `self.metadata.name.substring(0, self.metadata.name.lastIndexOf('.')).matches('${STREAM_NAME_PATTERN}')`,
  messageExpression:
    "'ImageStreamTag name \"' + self.metadata.name + '\" must be <stream>.<tag> with a valid image stream name'",
  fieldPath: ".metadata.name",
};

const imageStreamTagSchema: SchemaNode = {
  type: "object",
  tsName: "ImageStreamTag",
  description:
    "One tag of an image stream (OpenShift image.openshift.io/v1 ImageStreamTag), named " +
    "`<stream>.<tag>` because `:` is not allowed in object names. The operator keeps one per tag; " +
    "creating or editing one changes the stream's spec.tags, deleting one removes the tag.",
  tsRequired: ["metadata"],
  "x-kubernetes-validations": [istagStreamPartRule, istagNameRule],
  properties: {
    ...rootMeta("ImageStreamTag"),
    tag: {
      ...tagReference,
      nullable: true,
      description:
        "The spec tag (as in the stream's spec.tags); null when the tag only exists in status. " +
        "tag.name is the real tag name; the object name is derived from it.",
    },
    generation: int64("Generation of the stream's spec tag."),
    lookupPolicy: imageLookupPolicy,
    conditions: {
      type: "array",
      description: "Problems with the tag, copied from the stream's status.",
      items: tagEventCondition,
    },
    image: image,
    status: imageStreamTagStatus,
  },
};

// ---------------------------------------------------------------- ImageStreamImport

const dockerImageSource = (description: string): SchemaNode => ({
  type: "object",
  description,
  required: ["kind", "name"],
  properties: {
    kind: str("Kind of the source: only DockerImage (a pull spec in a registry) can be imported.", {
      enum: ["DockerImage"],
    }),
    name: str("The pull spec to import.", { maxLength: MAX_REFERENCE_LENGTH }),
    namespace: str("Accepted for compatibility with core/v1 ObjectReference; ignored."),
    ...objectReferenceCompat,
  },
});

const imageImportSpec: SchemaNode = {
  type: "object",
  tsName: "ImageImportSpec",
  description: "One image to import and the tag of the stream that records it.",
  required: ["from"],
  properties: {
    from: {
      ...dockerImageSource("The image to import (`registry/repo:tag` or `registry/repo@sha256:...`)."),
      tsName: "DockerImageSource",
    },
    to: {
      type: "object",
      description:
        "The tag that records the image; defaults to the tag of from.name. Without one (a digest " +
        "without `to`), the image is imported and reported but not recorded in the stream.",
      nullable: true,
      required: ["name"],
      properties: {
        name: str("Name of the tag.", {
          maxLength: TAG_NAME_MAX_LENGTH,
          "x-kubernetes-validations": [tagNameRule],
        }),
      },
    },
    importPolicy: tagImportPolicy,
    referencePolicy: tagReferencePolicy,
    includeManifest: bool("Accepted for compatibility; the raw manifest is never returned."),
  },
};

const repositoryImportSpec: SchemaNode = {
  type: "object",
  tsName: "RepositoryImportSpec",
  description:
    "A whole repository to import: its tags (latest first, then semantic versions newest first, up to " +
    "the operator's limit) become tags of the stream.",
  required: ["from"],
  properties: {
    from: {
      ...dockerImageSource("The repository (`registry/namespace/name`, no tag or digest)."),
      // The same shape as an image's source; only the name's rule differs.
      tsType: "DockerImageSource",
      properties: {
        ...dockerImageSource("").properties,
        name: str("The repository to import, without tag or digest.", {
          maxLength: MAX_REFERENCE_LENGTH,
          "x-kubernetes-validations": [dockerImageRepositoryRule],
        }),
      },
    },
    importPolicy: tagImportPolicy,
    referencePolicy: tagReferencePolicy,
    includeManifest: bool("Accepted for compatibility; the raw manifests are never returned."),
  },
};

const atLeastOneImport: CelRule = {
  rule: "(has(self.images) && size(self.images) > 0) || (has(self.repository) && self.repository != null)",
  message: "you must specify at least one image or a repository import",
  fieldPath: ".images",
};

const imageStreamImportSpec: SchemaNode = {
  type: "object",
  tsName: "ImageStreamImportSpec",
  description: "What to import, and whether to record it in the stream.",
  "x-kubernetes-validations": [atLeastOneImport],
  properties: {
    import: bool(
      "When true the stream is created or updated with the imported tags (oc import-image); when false " +
        "(--dry-run) the images are only inspected and reported.",
    ),
    repository: { ...repositoryImportSpec, nullable: true },
    images: {
      type: "array",
      maxItems: MAX_SPEC_TAGS,
      description: "Images to import.",
      items: imageImportSpec,
    },
  },
};

const kubernetesStatus: SchemaNode = {
  type: "object",
  tsName: "ImportResultStatus",
  description:
    "The result of one import as a Kubernetes Status (meta/v1 Status): status Success, or Failure with " +
    "reason (NotFound, Unauthorized, ...), message and HTTP-like code.",
  "x-kubernetes-preserve-unknown-fields": true,
  properties: {
    status: str("Success or Failure.", { enum: ["Success", "Failure"] }),
    message: str("Human-readable description of the failure."),
    reason: str("Machine-readable reason of the failure."),
    code: { type: "integer", format: "int32", description: "HTTP-like status code of the failure." },
  },
};

const imageImportStatus: SchemaNode = {
  type: "object",
  tsName: "ImageImportStatus",
  description: "The result of importing one image.",
  required: ["status"],
  properties: {
    status: kubernetesStatus,
    image: image,
    tag: str("The tag that records the image, if any."),
    manifests: {
      type: "array",
      description: "For a manifest list imported with PreserveOriginal: the image of each platform entry.",
      items: image,
    },
  },
};

const imageStreamImportStatus: SchemaNode = {
  type: "object",
  tsName: "ImageStreamImportStatus",
  description:
    "The import's answer, written by the operator's admission webhook before the object is stored.",
  properties: {
    import: {
      type: "object",
      description: "The image stream after the import (spec.import true).",
      "x-kubernetes-preserve-unknown-fields": true,
      tsType: "ImageStream",
    },
    repository: {
      type: "object",
      tsName: "RepositoryImportStatus",
      description: "The result of a repository import.",
      properties: {
        status: kubernetesStatus,
        images: { type: "array", description: "One result per imported tag.", items: imageImportStatus },
        additionalTags: stringList("Tags of the repository beyond the import limit, not imported."),
      },
    },
    images: {
      type: "array",
      description: "One result per spec.images entry, in the same order.",
      items: imageImportStatus,
    },
  },
};

const imageStreamImportSchema: SchemaNode = {
  type: "object",
  tsName: "ImageStreamImport",
  description:
    "A request to import images into the image stream of the same name (OpenShift image.openshift.io/v1 " +
    "ImageStreamImport, what `oc import-image` creates). Create-only: the operator's admission webhook " +
    "performs the import while the object is created and answers in status; stored objects are answers, " +
    "not state, and the operator deletes them shortly afterwards.",
  tsRequired: ["metadata"],
  "x-kubernetes-validations": [streamNameRule],
  properties: {
    ...rootMeta("ImageStreamImport"),
    spec: { ...imageStreamImportSpec },
    status: imageStreamImportStatus,
  },
  required: ["spec"],
};

const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

const receiverCondition: SchemaNode = {
  type: "object",
  tsName: "ReceiverCondition",
  description: "A condition of a Receiver (Ready).",
  required: ["type", "status"],
  properties: {
    type: str("Type of the condition: Ready."),
    status: str("True, False or Unknown.", { enum: ["True", "False", "Unknown"] }),
    reason: str("Machine-readable reason: Ready, SecretNotFound, TokenMissing, NamespaceNotAllowed."),
    message: str("Human-readable detail."),
    lastTransitionTime: dateTime("When the condition last changed status."),
    observedGeneration: int64("metadata.generation the condition was computed for."),
  },
};

const receiverSchema: SchemaNode = {
  type: "object",
  tsName: "Receiver",
  description:
    "A webhook endpoint for an external registry (Docker Hub, Harbor, Quay, GitHub, GitLab, a " +
    "distribution registry or a generic client): a verified event imports exactly the tags it names in " +
    "the streams of the receiver's namespaces that import from that image (docs/push.md).",
  tsRequired: ["metadata"],
  properties: {
    apiVersion: str(`API version of the object: ${OPERATOR_API_GROUP}/${OPERATOR_API_VERSION_NAME}.`),
    kind: str("Kind of the object: Receiver.", { tsType: '"Receiver"' }),
    metadata: { type: "object", tsType: "ObjectMeta", properties: { name: { type: "string" } } },
    spec: {
      type: "object",
      tsName: "ReceiverSpec",
      description: "Which provider sends the events, and where its secret is.",
      required: ["provider", "secretRef"],
      properties: {
        provider: {
          type: "string",
          tsName: "ReceiverProviderName",
          description:
            "Who sends the webhooks: dockerhub, harbor, quay, github (registry_package events), gitlab " +
            '(pipeline events), distribution (a registry\'s notifications) or generic ({"image": ref}).',
          enum: [...RECEIVER_PROVIDERS],
        },
        secretRef: {
          type: "object",
          tsName: "ReceiverSecretRef",
          description:
            `A Secret of type ${RECEIVER_SECRET_TYPE} in the receiver's namespace whose key \`token\` is ` +
            "the shared secret (the URL path is derived from it; providers that sign payloads sign with it).",
          required: ["name"],
          properties: {
            name: str("Name of the Secret.", { pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength: 253 }),
          },
        },
        registry: str(
          "Registry host the provider's events stand for, as streams name it (e.g. harbor.example.com); " +
            "required for gitlab on a self-managed instance (default registry.gitlab.com), optional " +
            "elsewhere (it replaces the host the payload names).",
          { maxLength: 253, pattern: "^[A-Za-z0-9.-]+(:[0-9]+)?$" },
        ),
        namespaces: {
          type: "array",
          description:
            "More namespaces whose streams this receiver may import, besides its own; each needs the " +
            "service accounts of the receiver's namespace to be allowed to update imagestreams there.",
          maxItems: MAX_RECEIVER_NAMESPACES,
          "x-kubernetes-list-type": "set",
          items: { type: "string", pattern: DNS_LABEL_PATTERN, maxLength: 63 },
        },
      },
    },
    status: {
      type: "object",
      tsName: "ReceiverStatus",
      description: "Where to send the webhooks, and whether the receiver works.",
      properties: {
        url: str("The path to paste into the provider, after the operator's hooks URL: /hook/<sha256>."),
        observedGeneration: int64("metadata.generation this status was computed for."),
        conditions: {
          type: "array",
          description: "Ready: the Secret was found and every namespace is allowed.",
          items: receiverCondition,
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["type"],
        },
      },
    },
  },
  required: ["spec"],
};

// ---------------------------------------------------------------- CRDs

export const imageStreamCrd: CrdModel = {
  plural: "imagestreams",
  singular: "imagestream",
  kind: "ImageStream",
  listKind: "ImageStreamList",
  shortNames: ["is"],
  // OpenShift lists image streams in `oc get all`; kubectl does the same with this category.
  categories: ["all"],
  printerColumns: [
    {
      name: "Image Repository",
      type: "string",
      jsonPath: ".status.dockerImageRepository",
      description: "Where the stream's images can be pulled from.",
    },
    {
      name: "Tags",
      type: "string",
      jsonPath: ".status.tagSummary",
      description: "Tags of the stream, most recently updated first.",
    },
    {
      name: "Updated",
      type: "date",
      jsonPath: ".status.lastUpdated",
      description: "When a tag last changed.",
    },
  ],
  statusSubresource: true,
  schema: imageStreamSchema,
};

export const imageStreamTagCrd: CrdModel = {
  plural: "imagestreamtags",
  singular: "imagestreamtag",
  kind: "ImageStreamTag",
  listKind: "ImageStreamTagList",
  shortNames: ["istag"],
  categories: [],
  printerColumns: [
    {
      name: "Image Reference",
      type: "string",
      jsonPath: ".image.dockerImageReference",
      description: "Pull spec of the tag's current image.",
    },
    {
      name: "Updated",
      type: "date",
      jsonPath: ".status.lastUpdated",
      description: "When the tag started pointing at its current image.",
    },
  ],
  statusSubresource: true,
  schema: imageStreamTagSchema,
};

export const imageStreamImportCrd: CrdModel = {
  plural: "imagestreamimports",
  singular: "imagestreamimport",
  kind: "ImageStreamImport",
  listKind: "ImageStreamImportList",
  // OpenShift gives imagestreamimports no short name and no category.
  shortNames: [],
  categories: [],
  printerColumns: [
    {
      name: "Import",
      type: "boolean",
      jsonPath: ".spec.import",
      description: "Whether the stream was created or updated (false: dry run).",
    },
  ],
  statusSubresource: false,
  schema: imageStreamImportSchema,
};

export const receiverCrd: CrdModel = {
  group: OPERATOR_API_GROUP,
  version: OPERATOR_API_VERSION_NAME,
  plural: "receivers",
  singular: "receiver",
  kind: "Receiver",
  listKind: "ReceiverList",
  shortNames: [],
  categories: [],
  printerColumns: [
    { name: "Provider", type: "string", jsonPath: ".spec.provider", description: "Who sends the webhooks." },
    {
      name: "URL",
      type: "string",
      jsonPath: ".status.url",
      description: "The path to paste into the provider, after the hooks URL.",
    },
    {
      name: "Ready",
      type: "string",
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: "Whether the receiver accepts events.",
    },
  ],
  statusSubresource: true,
  schema: receiverSchema,
};

export const crdModels: readonly CrdModel[] = [
  imageStreamCrd,
  imageStreamTagCrd,
  imageStreamImportCrd,
  receiverCrd,
];
