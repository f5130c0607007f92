// Public surface of push-driven imports for the integrated registry: notification envelopes
// to push records, a push as a stream status change (the import core's history rules), and
// the catch-up plan after missed notifications. The endpoint and the registry reads are the
// shell's.

export { type CatchUpPlan, catchUpRepositories, planCatchUp, type RepositoryState } from "./catch-up.ts";
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
  applyPushedImage,
  type PushDecision,
  type PushUpdate,
  pushDecision,
  type ResolvedPush,
  streamForPush,
} from "./status.ts";
