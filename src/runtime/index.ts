// The controller runtime: work queue, reconcile loop, informers, events and status helpers.
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
  Controller,
  type ControllerOptions,
  isTerminal,
  objectKey,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
  splitKey,
  TerminalError,
  terminal,
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
export { type KubeListWatchOptions, listWatchFromClient } from "./kube-source.ts";
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
