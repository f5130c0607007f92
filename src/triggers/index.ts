// Pure core of the image trigger controller (`image.openshift.io/triggers`): parsing,
// container resolution, update planning, JSON Patch, the remembered container projection, index
// keys and event texts (no I/O);
// then the controller around it (controller.ts) and its I/O helpers.

// The imperative shell: the controller and the I/O it needs.
export {
  createTriggerController,
  TRIGGER_CONTROLLER_NAME,
  type TriggerControllerOptions,
} from "./controller.ts";
export {
  FIRED_EVENTS_PER_WORKLOAD_MAX,
  FIRED_REASON,
  type Firing,
  firedEvent,
  firedMessage,
  firingBatchKey,
  notAuthorizedProblem,
  type PlannedEvent,
  type ProblemReport,
  planFiredEvents,
  problemEvent,
  problemFingerprint,
  problemSetFingerprint,
  problemsToReport,
  type TriggerEvent,
} from "./events.ts";
export {
  canonicalFieldPath,
  type FieldPathResult,
  isValidContainerName,
  parseFieldPath,
} from "./fieldpath.ts";
export { FiredBatches, type FiredBatchesOptions } from "./fired-batches.ts";
export {
  changedTags,
  newestTagImage,
  tagKeysForStream,
  tagLookupFromStreams,
  triggerKey,
  triggerKeys,
} from "./keys.ts";
export {
  isWorkloadKind,
  WORKLOAD_KINDS,
  type WorkloadKind,
  type WorkloadKindInfo,
  workloadKindByAlias,
  workloadKindInfo,
} from "./kinds.ts";
export {
  isValidNamespace,
  isValidStreamName,
  isValidTagName,
  type ParsedTriggers,
  parseStreamTagName,
  parseTriggers,
  parseWorkloadTriggers,
  triggerAnnotation,
} from "./parse.ts";
export {
  buildPatch,
  describeSource,
  evaluateWorkload,
  planTriggerUpdates,
  type TriggerPlan,
  type WorkloadEvaluation,
} from "./plan.ts";
export {
  projectedWorkload,
  projectionIsCurrent,
  projectWorkload,
  type WorkloadProjection,
} from "./projection.ts";
export { jsonPointer, type ResolvedContainer, type ResolveResult, resolveContainer } from "./resolve.ts";
export {
  type ContainerList,
  type ContainerSelector,
  type FieldPathTarget,
  type ImageChange,
  JSON_PATCH_CONTENT_TYPE,
  type JsonPatchOperation,
  type Problem,
  type ProblemReason,
  type TagImage,
  type TagLookup,
  TRIGGER_ANNOTATION,
  type Trigger,
  type TriggerSource,
  type WorkloadObject,
} from "./types.ts";
export {
  type WorkloadClient,
  type WorkloadResource,
  workloadClient,
} from "./workload-client.ts";
export {
  isControlledByOwner,
  ReportedProblems,
  TRIGGER_INDEX,
  type WorkloadKey,
  type WorkloadMetadata,
  wantsReconcile,
  workloadChanged,
  workloadEventMatters,
  workloadIndexKeys,
  workloadKey,
} from "./workload-watch.ts";
