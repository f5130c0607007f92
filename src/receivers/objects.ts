// Receiver objects as the core sees them: the custom resource and its Secret become a
// Receiver (token read, namespaces listed), or a problem the status reports; and the status
// the controller writes (the URL to paste, the Ready condition).

import {
  RECEIVER_SECRET_TYPE,
  type ReceiverCondition,
  type Receiver as ReceiverObject,
  type ReceiverStatus,
} from "../api/index.ts";
import type { SecretLike } from "../registry/index.ts";
import { type Receiver, receiverPath } from "./model.ts";

/** A receiver's Secret as cached (the fields read). */
export interface ReceiverSecret extends SecretLike {
  metadata?: NonNullable<SecretLike["metadata"]> & { resourceVersion?: string };
}

/** Key of the token in a receiver's Secret. */
export const RECEIVER_TOKEN_KEY = "token";

export type ReceiverProblem = { reason: "SecretNotFound" | "TokenMissing"; message: string };

/**
 * The receiver `object` describes with its Secret's token, acting on its own namespace and
 * the ones it lists (whether those are allowed is asked separately).
 */
export function receiverOf(
  object: ReceiverObject,
  secret: SecretLike | undefined,
): { ok: true; receiver: Receiver } | ({ ok: false } & ReceiverProblem) {
  const namespace = object.metadata.namespace ?? "";
  const name = object.metadata.name ?? "";
  const secretName = object.spec.secretRef.name;
  if (!secret) {
    return {
      ok: false,
      reason: "SecretNotFound",
      message: `no Secret of type ${RECEIVER_SECRET_TYPE} named ${secretName} in namespace ${namespace}`,
    };
  }
  const encoded = secret.data?.[RECEIVER_TOKEN_KEY];
  const token = encoded ? Buffer.from(encoded, "base64").toString("utf8").trim() : "";
  if (token === "") {
    return {
      ok: false,
      reason: "TokenMissing",
      message: `Secret ${secretName} has no non-empty key "${RECEIVER_TOKEN_KEY}"`,
    };
  }
  const extra = (object.spec.namespaces ?? []).filter((n) => n !== namespace);
  const receiver: Receiver = {
    namespace,
    name,
    provider: object.spec.provider,
    token,
    namespaces: [namespace, ...new Set(extra)],
  };
  if (object.spec.registry) receiver.registry = object.spec.registry;
  return { ok: true, receiver };
}

function readyCondition(
  resolved: ReturnType<typeof receiverOf>,
  denied: readonly string[],
): Omit<ReceiverCondition, "lastTransitionTime" | "observedGeneration"> {
  if (!resolved.ok)
    return { type: "Ready", status: "False", reason: resolved.reason, message: resolved.message };
  if (denied.length > 0) {
    return {
      type: "Ready",
      status: "False",
      reason: "NamespaceNotAllowed",
      message:
        `the service accounts of namespace ${resolved.receiver.namespace} may not update imagestreams in ` +
        `${denied.join(", ")}: events import nothing there (bind a role that allows it, or remove them)`,
    };
  }
  return {
    type: "Ready",
    status: "True",
    reason: "Ready",
    message: `POST the ${resolved.receiver.provider} webhooks to the operator's hooks URL + status.url`,
  };
}

/**
 * The status for `object`: its URL path (once the token is known) and the Ready condition, the
 * transition time kept while the condition's status does not change.
 */
export function receiverStatus(
  object: ReceiverObject,
  resolved: ReturnType<typeof receiverOf>,
  denied: readonly string[],
  now: string,
): ReceiverStatus {
  const generation = object.metadata.generation;
  const previous = object.status?.conditions?.find((c) => c.type === "Ready");
  const ready = readyCondition(resolved, denied);
  const condition: ReceiverCondition = {
    ...ready,
    lastTransitionTime:
      previous?.status === ready.status && previous.lastTransitionTime ? previous.lastTransitionTime : now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return {
    ...(resolved.ok ? { url: receiverPath(resolved.receiver) } : {}),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: [condition],
  };
}
