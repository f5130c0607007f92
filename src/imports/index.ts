// Public surface of the import core: pure decisions about what to import and how a stream's
// status changes. No I/O; time is always a parameter.

export { createImportController, type ImportControllerOptions, importSettingsFrom } from "./controller.ts";
export { retryFailedTagsOnNewSecrets, secretVersions, type VersionedSecret } from "./credential-changes.ts";
export { failureOf } from "./failures.ts";
export {
  fetchTagImage,
  type RepositoryTags,
  repositoryTags,
  type TagFetchOptions,
  type TagFetchResult,
} from "./fetch.ts";
export type { TagEventChange } from "./history.ts";
export {
  addTagEvent,
  clearConditions,
  hasImportFailure,
  observedGeneration,
  setImportFailure,
} from "./history.ts";
export { imageLayers, imageManifests, imageMetadata, toImage } from "./image.ts";
export * from "./model.ts";
export {
  isImportable,
  newImportState,
  nextScheduledImport,
  pendingImportRequest,
  planImports,
  recordImportAttempts,
  retryDelay,
  specTagGeneration,
  stableHash,
} from "./plan.ts";
export type { ManifestListEntry, ManifestSelection, PlatformPreferences } from "./platform.ts";
export { choosePlatform, selectFromManifestList, tagPlatformPreferences } from "./platform.ts";
export type { ParsedSourceName } from "./references.ts";
export {
  digestOrImageMatch,
  joinRepositoryTag,
  mostSpecificPullSpec,
  parseSourceName,
  rehomeLocalPullSpec,
  splitPullSpec,
} from "./references.ts";
export {
  type HonouredRequests,
  pendingTagRequests,
  requestTagImports,
  withHandledRequest,
} from "./requests.ts";
export {
  type Admission,
  admitScheduledImports,
  type ScheduledImportBudget,
  scheduledImportBudget,
} from "./schedule.ts";
export { pullSecretInformers } from "./secret-informers.ts";
export { crossNamespaceSource, sourceStreamKeys } from "./sources.ts";
export type { ComputeStatusInput, RecordOutcomesInput, StatusUpdate } from "./status.ts";
export {
  computeStatus,
  formatTime,
  recordImportOutcomes,
  resolveImageId,
  resolveTagPullSpec,
} from "./status.ts";
export { prioritizeTags, selectRepositoryTags, summarizeTags } from "./tag-order.ts";
