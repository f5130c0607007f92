// Public surface of push-driven imports for the integrated registry: notification envelopes
// to push records, a push as a stream status change (the import core's history rules), the
// recorder both the notification endpoint and catch-up write through, and catch-up.

export { type CatchUpTag, catchUpTags } from "./catch-up.ts";
export { type CatchUpControllerOptions, createPushCatchUpController } from "./catch-up-controller.ts";
export {
  NOTIFICATIONS_PATH,
  type NotificationEndpointOptions,
  notificationRoute,
  type PushEventResult,
} from "./endpoint.ts";
export {
  type ClassifiedEvents,
  classifyEvent,
  classifyEvents,
  type IgnoredEvent,
  type IgnoreReason,
  type ManifestPush,
  manifestPush,
  NOTIFICATION_MEDIA_TYPE,
  type NotificationAuth,
  type PushRecord,
  parseEnvelope,
  type RegistryEvent,
  verifyNotificationSecret,
} from "./notifications.ts";
export {
  type IntegratedRegistry,
  PushRecorder,
  type PushRecorderOptions,
  type RecordRequest,
  type RecordResult,
} from "./recorder.ts";
export { applyPushedImage, type PushUpdate, type ResolvedPush, streamForPush } from "./status.ts";
