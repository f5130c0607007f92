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
export { withSharedConnections } from "./connections.ts";
export {
  type ControllerContext,
  type ControllerContextParts,
  type ControllerHandle,
  createControllerContext,
  FIELD_MANAGER,
} from "./context.ts";
export {
  Controller,
  type ControllerOptions,
  objectKey,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
  splitKey,
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
  MAX_EVENT_NOTE_BYTES,
  objectRefOf,
  truncateUtf8,
} from "./events.ts";
export {
  type IndexFunc,
  Informer,
  type InformerHandlers,
  type InformerOptions,
  type KubeObjectLike,
  keyOf,
  type ListWatchSource,
  type WatchEventType,
} from "./informer.ts";
export {
  collectionPath,
  type InformerFactory,
  type SharedInformer,
  type SharedInformerOptions,
  SharedInformers,
} from "./informers.ts";
export { type KubeListWatchOptions, listWatchFromClient } from "./kube-source.ts";
export { loadKubeConfig } from "./kubeconfig.ts";
export {
  type StatusUpdate,
  type StatusUpdateResult,
  updateStatusWithRetry,
} from "./status.ts";
export {
  type ProcessFn,
  WorkQueue,
  type WorkQueueCounters,
  type WorkQueueHooks,
  type WorkQueueOptions,
} from "./workqueue.ts";
