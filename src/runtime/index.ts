// The controller runtime: the controller contract and its context, work queue, reconcile loop,
// shared informers, events, API errors and status helpers.
export {
  type BackoffOptions,
  backoffDelay,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  ExponentialBackoff,
  type RateLimiter,
} from "./backoff.ts";
export {
  type ControllerContext,
  type ControllerContextParts,
  type ControllerHandle,
  type ControllerSpec,
  createControllerContext,
  drainDeadlineMs,
  FIELD_MANAGER,
  type ReplicaService,
} from "./context.ts";
export {
  Controller,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
} from "./controller.ts";
export {
  errorFromStatus,
  httpStatusOf,
  isConflict,
  isGone,
  isInvalid,
  isNotFound,
  KubeApiError,
} from "./errors.ts";
export {
  type EventObjectRef,
  EventRecorder,
  type EventRecorderOptions,
  type EventSeriesPatch,
  type EventSink,
  type EventSpec,
  type EventType,
  eventSinkFromClient,
  type KubeEvent,
  MAX_EVENT_NOTE_BYTES,
  objectRefOf,
  truncateUtf8,
} from "./events.ts";
export {
  type IndexFunc,
  Informer,
  type InformerHandlers,
  type InformerOptions,
  type ListWatchSource,
  type WatchEventType,
} from "./informer.ts";
export {
  collectionPath,
  type InformerFactory,
  type Projection,
  type SharedInformer,
  type SharedInformerOptions,
  SharedInformers,
} from "./informers.ts";
export { type KindKey, type KubeObjectLike, keyFields, keyOf, keyString, type ObjectKey } from "./keys.ts";
export { type KubeRequest, kubeRequest } from "./kube-request.ts";
export { type KubeListWatchOptions, listWatchFromClient } from "./kube-source.ts";
export {
  connectKube,
  type ExecPlugin,
  type KubeConfigSources,
  type KubeConnection,
  type KubeConnectionOptions,
  loadKubeConfig,
  resolveKubeConfig,
} from "./kubeconfig.ts";
export {
  type DeletePreconditions,
  type JsonPatchOperation,
  type KubeObject,
  type ObjectApi,
  objectApi,
} from "./objects.ts";
export {
  type StatusUpdate,
  type StatusUpdateResult,
  updateStatusWithRetry,
} from "./status.ts";
export {
  allOf,
  annotationChanged,
  anyOf,
  beforeAndAfter,
  eachVersion,
  eventTypes,
  fieldChanged,
  generationChanged,
  type KeyMap,
  ownKey,
  type Predicate,
  resourceVersionChanged,
  type WatchEvent,
  type WatchOptions,
  type WatchSource,
} from "./watch.ts";
export {
  type ProcessFn,
  WorkQueue,
  type WorkQueueCounters,
  type WorkQueueHooks,
  type WorkQueueOptions,
} from "./workqueue.ts";
