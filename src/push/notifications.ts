// Registry notifications (distribution's `notifications.endpoints`): the shared-secret check,
// envelope parsing, and the event classification into push records. OpenShift records
// pushes in the stream when the manifest is written; here the event is the hint and the
// registry stays the source of truth (the shell re-resolves the tag before writing).
//
// What is recorded: a manifest (image, manifest list or OCI index) pushed with a tag to
// `<namespace>/<stream>`. What is ignored, with a reason: pulls; blob pushes and cross-repo
// mounts (layers do not change a stream); manifests pushed by digest only (the members of a
// list: the list's own tagged push names them); deletes (OpenShift's registry does not touch
// the stream either: history goes with `oc tag -d` / pruning); repositories that are not
// `<namespace>/<stream>`; events that do not follow the format.

import { parseStreamRepository, validateTagName } from "../api/index.ts";
import {
  asRecord,
  asString,
  headerValue,
  MAX_WEBHOOK_BODY_BYTES,
  parseJsonObject,
  type Rejection,
  reject,
  secretsEqual,
} from "../http/index.ts";
import { validateDigest } from "../registry/index.ts";

export const NOTIFICATION_MEDIA_TYPE = "application/vnd.docker.distribution.events.v1+json";

const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);
const LIST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.index.v1+json",
]);

/** One event as distribution sends it (the fields this code reads). */
export interface RegistryEvent {
  id: string;
  timestamp?: string;
  action: string;
  target: {
    mediaType?: string;
    digest?: string;
    size?: number;
    repository: string;
    url?: string;
    tag?: string;
    fromRepository?: string;
  };
  request?: { id?: string; host?: string; method?: string; useragent?: string };
  actor?: { name?: string };
}

/** A tagged manifest push to a stream repository. */
export interface PushRecord {
  namespace: string;
  stream: string;
  tag: string;
  digest: string;
  mediaType: string;
  /** True for manifest lists and OCI indexes (their recorded image depends on the import mode). */
  isList: boolean;
  /** The event id, for log lines. */
  eventId: string;
}

export type IgnoreReason =
  | "pull"
  | "blob"
  | "mount"
  | "delete"
  | "untagged-manifest"
  | "not-a-stream-repository"
  | "unknown-action"
  | "invalid-event";

export interface IgnoredEvent {
  eventId: string;
  reason: IgnoreReason;
  message: string;
}

export interface ClassifiedEvents {
  /** One record per (namespace, stream, tag): the last event of the batch wins. */
  records: PushRecord[];
  ignored: IgnoredEvent[];
}

export interface NotificationAuth {
  /** Header distribution sends from `endpoints[].headers` (e.g. `Authorization`). */
  header: string;
  /** Its expected value (e.g. `Bearer <secret from the Secret>`). */
  secret: string;
}

/** True when the request carries the shared secret; anything else must get 401 and change nothing. */
export function verifyNotificationSecret(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  auth: NotificationAuth,
): boolean {
  return secretsEqual(headerValue(headers, auth.header), auth.secret);
}

function parseEvent(raw: unknown, index: number): RegistryEvent | string {
  const event = asRecord(raw);
  if (!event) return `events[${index}] is not an object`;
  const target = asRecord(event.target);
  const action = asString(event.action);
  const repository = asString(target?.repository);
  if (!action) return `events[${index}].action is missing`;
  if (!target || !repository) return `events[${index}].target.repository is missing`;
  const parsed: RegistryEvent = {
    id: asString(event.id) ?? `#${index}`,
    action,
    target: { repository },
  };
  const timestamp = asString(event.timestamp);
  if (timestamp) parsed.timestamp = timestamp;
  for (const key of ["mediaType", "digest", "url", "tag", "fromRepository"] as const) {
    const value = asString(target[key]);
    if (value !== undefined) parsed.target[key] = value;
  }
  if (typeof target.size === "number") parsed.target.size = target.size;
  const request = asRecord(event.request);
  if (request) {
    parsed.request = {};
    for (const key of ["id", "host", "method", "useragent"] as const) {
      const value = asString(request[key]);
      if (value !== undefined) parsed.request[key] = value;
    }
  }
  const actor = asRecord(event.actor);
  const actorName = asString(actor?.name);
  if (actorName) parsed.actor = { name: actorName };
  return parsed;
}

/**
 * Parses a notification envelope `{ "events": [...] }`. A body over the bound, a content
 * type other than distribution's (or JSON), or an envelope that is not of that shape is
 * refused whole: nothing in it is applied.
 */
export function parseEnvelope(
  body: Buffer,
  contentType: string | undefined,
  maxBytes: number = MAX_WEBHOOK_BODY_BYTES,
): { ok: true; events: RegistryEvent[] } | Rejection {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type !== undefined && type !== NOTIFICATION_MEDIA_TYPE && type !== "application/json") {
    return reject(415, "content-type", `content type "${type}" is not ${NOTIFICATION_MEDIA_TYPE}`);
  }
  const json = parseJsonObject(body, maxBytes);
  if (!json.ok) return json;
  const events = json.value.events;
  if (!Array.isArray(events)) return reject(400, "malformed", 'envelope has no "events" array');
  const parsed: RegistryEvent[] = [];
  for (const [index, raw] of events.entries()) {
    const event = parseEvent(raw, index);
    if (typeof event === "string") return reject(400, "malformed", event);
    parsed.push(event);
  }
  return { ok: true, events: parsed };
}

/** A tagged manifest push to any repository (the shape external distribution receivers need too). */
export interface ManifestPush {
  repository: string;
  tag: string;
  digest: string;
  mediaType: string;
  isList: boolean;
  eventId: string;
}

function ignore(event: RegistryEvent, reason: IgnoreReason, message: string): IgnoredEvent {
  return { eventId: event.id, reason, message };
}

/** The tagged manifest push an event reports, or why it reports none. */
export function manifestPush(event: RegistryEvent): ManifestPush | IgnoredEvent {
  const { target } = event;
  switch (event.action) {
    case "pull":
      return ignore(event, "pull", "pulls change no stream");
    case "mount":
      return ignore(event, "mount", `blob mounted from ${target.fromRepository ?? "another repository"}`);
    case "delete":
      return ignore(event, "delete", "registry deletes keep the stream's history (as OpenShift)");
    case "push":
      break;
    default:
      return ignore(event, "unknown-action", `action "${event.action}"`);
  }
  const mediaType = target.mediaType ?? "";
  if (!MANIFEST_MEDIA_TYPES.has(mediaType))
    return ignore(event, "blob", `${mediaType || "untyped"} push is not a manifest`);
  if (!target.tag) return ignore(event, "untagged-manifest", "manifest pushed by digest only");
  const tagProblem = validateTagName(target.tag);
  if (tagProblem) return ignore(event, "invalid-event", tagProblem);
  const digestProblem = target.digest === undefined ? "digest is missing" : validateDigest(target.digest);
  if (digestProblem || !target.digest)
    return ignore(event, "invalid-event", `target.digest: ${digestProblem}`);
  return {
    repository: target.repository,
    tag: target.tag,
    digest: target.digest,
    mediaType,
    isList: LIST_MEDIA_TYPES.has(mediaType),
    eventId: event.id,
  };
}

/** A push record, or why the event changes no stream. */
export function classifyEvent(event: RegistryEvent): PushRecord | IgnoredEvent {
  const push = manifestPush(event);
  if ("reason" in push) return push;
  const repository = parseStreamRepository(push.repository);
  if (!repository) {
    return ignore(
      event,
      "not-a-stream-repository",
      `repository "${push.repository}" is not <namespace>/<stream>`,
    );
  }
  const { repository: _repository, ...rest } = push;
  return { namespace: repository.namespace, stream: repository.stream, ...rest };
}

/** Classifies a batch; repeated pushes of one tag collapse to the last (events arrive in order). */
export function classifyEvents(events: readonly RegistryEvent[]): ClassifiedEvents {
  const byTag = new Map<string, PushRecord>();
  const ignored: IgnoredEvent[] = [];
  for (const event of events) {
    const result = classifyEvent(event);
    if ("reason" in result) {
      ignored.push(result);
      continue;
    }
    const key = `${result.namespace}/${result.stream}:${result.tag}`;
    byTag.delete(key); // keep insertion order = order of the newest event per tag
    byTag.set(key, result);
  }
  return { records: [...byTag.values()], ignored };
}
