// Public surface of the API domain: the image.openshift.io/v1 types, their CRD schemas and
// the naming rules.
export * from "./defaults.ts";
export * from "./names.ts";
export type { CrdModel, PrinterColumn, SchemaNode } from "./schema.ts";
export {
  API_GROUP,
  crdModels,
  imageStreamCrd,
  imageStreamImportCrd,
  imageStreamTagCrd,
  MAX_SPEC_TAGS,
  STREAM_NAME_PATTERN,
  TAG_NAME_PATTERN,
} from "./schema.ts";
export * from "./types.ts";
