// Public surface of the API domain: the image.openshift.io/v1 types, their CRD schemas, the
// naming rules, the resources, and the JSON and metadata helpers every layer above shares.
export * from "./defaults.ts";
export { canonicalJson, isRecord, sameJson } from "./json.ts";
export { controllerRefOf, type KindKey, microTime, type NamespacedKey, type ObjectKey } from "./meta.ts";
export * from "./names.ts";
export {
  apiVersionOf,
  CONFIGMAPS,
  IMAGESTREAMIMPORTS,
  IMAGESTREAMS,
  IMAGESTREAMTAGS,
  MUTATING_WEBHOOK_CONFIGURATIONS,
  RECEIVERS,
  type ResourceType,
  SECRETS,
} from "./resources.ts";
export type { CrdModel, PrinterColumn, SchemaNode } from "./schema.ts";
export {
  API_GROUP,
  crdModels,
  imageStreamCrd,
  imageStreamImportCrd,
  imageStreamTagCrd,
  MAX_RECEIVER_NAMESPACES,
  MAX_SPEC_TAGS,
  OPERATOR_API_GROUP,
  OPERATOR_API_VERSION_NAME,
  RECEIVER_PROVIDERS,
  RECEIVER_SECRET_TYPE,
  receiverCrd,
  STREAM_NAME_PATTERN,
  TAG_NAME_PATTERN,
} from "./schema.ts";
export * from "./types.ts";
export {
  IMAGE_LOOKUP_KINDS,
  POD_TEMPLATE_KINDS,
  type PodTemplateKind,
  type PodTemplateKindName,
  podTemplateKind,
  podTemplateKindByAlias,
  podTemplateKindOfGvk,
  RESOLVE_NAMES_ANNOTATION,
  type TriggerKindName,
} from "./workloads.ts";
