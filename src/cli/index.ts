// Public surface of the kubectl plugin (`kubectl imagestream`): the command runner and the
// pure builders behind each command.
export {
  COMMON_OPTIONS,
  parseDuration,
  parseStreamTagRef,
  type StreamTagRef,
  splitNamespace,
} from "./args.ts";
export {
  CONVERT_HELP,
  type ConvertOptions,
  convertManifests,
  convertObject,
  parseConvertArgs,
} from "./convert.ts";
export { apiErrorMessage, CommandError, describeFailure, UsageError } from "./errors.ts";
export {
  IMAGE_LOOKUP_HELP,
  type ImageLookupOptions,
  type LookupTarget,
  lookupRows,
  parseImageLookupArgs,
  resolvesNames,
  streamLookupPatch,
  workloadLookupPatch,
} from "./image-lookup.ts";
export {
  freshRequestValue,
  IMPORT_IMAGE_HELP,
  IMPORT_REQUESTED,
  IMPORT_REQUESTED_HANDLED,
  type ImportImageOptions,
  type ImportResult,
  type ImportWrite,
  importResult,
  parseImportImageArgs,
  planImportImage,
} from "./import-image.ts";
export { type CliIo, MAIN_HELP, runCli } from "./run.ts";
export {
  containerNames,
  describeTriggers,
  editTriggers,
  formatTable,
  parseSetTriggersArgs,
  parseWorkloadRef,
  SET_TRIGGERS_HELP,
  type SetTriggersOptions,
  type TriggerEdit,
  type TriggerRow,
  triggerAnnotationPatch,
} from "./set-triggers.ts";
export {
  classifySource,
  destinationTag,
  newStream,
  parseTagArgs,
  sourceReference,
  TAG_HELP,
  type TagFlags,
  type TagOptions,
  type TagSource,
  tagsPatch,
  withoutTag,
  withTag,
} from "./tag.ts";
