// The integrated registry's notification endpoint, answered by whichever replica the registry
// reaches. A request without the shared secret gets 401 and changes nothing. Each tagged
// manifest push is recorded through the PushRecorder (re-resolved at the registry, written
// with optimistic concurrency) before the answer: 200 when every event is recorded or
// ignored, 503 when one could not be recorded for now, so the registry sends the envelope
// again (a repeat changes nothing that was already recorded). Tags the registry no longer has
// and streams that cannot be created are logged and acknowledged, or the registry would
// resend them forever and hold back every later event.

import { readFile } from "node:fs/promises";
import { headerValue, MAX_WEBHOOK_BODY_BYTES, type Route } from "../http/index.ts";
import type { Logger } from "../log/index.ts";
import { isRegistryError } from "../registry/index.ts";
import { httpStatusOf } from "../runtime/index.ts";
import { classifyEvents, parseEnvelope, verifyNotificationSecret } from "./notifications.ts";
import type { PushRecorder, RecordResult } from "./recorder.ts";

export const NOTIFICATIONS_PATH = "/registry/notifications";

/** What one event did, for metrics: a record result, or why it was ignored. */
export type PushEventResult = RecordResult["result"] | "ignored" | "failed";

export interface NotificationEndpointOptions {
  recorder: PushRecorder;
  /** File holding the shared secret; read per request, so a rotated Secret applies at once. */
  secretFile: string;
  log: Logger;
  onEvent?: (result: PushEventResult, reason?: string) => void;
}

/** Failures another attempt may get past: the registry or the API server was unavailable. */
function retryable(err: unknown): boolean {
  if (isRegistryError(err))
    return ["ServiceUnavailable", "TooManyRequests", "InternalError", "BadResponse"].includes(err.reason);
  const status = httpStatusOf(err);
  // 4xx from the API server (a namespace that does not exist, a name it refuses) will not change.
  return status === undefined || status >= 500 || status === 409 || status === 429;
}

export function notificationRoute(options: NotificationEndpointOptions): Route {
  const { log, recorder } = options;
  return {
    name: "registry-notifications",
    methods: ["POST"],
    path: NOTIFICATIONS_PATH,
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    async handle(req) {
      let secret: string;
      try {
        secret = (await readFile(options.secretFile, "utf8")).trim();
      } catch (err) {
        log.error(
          { file: options.secretFile, err: (err as Error).message },
          "cannot read the notification secret",
        );
        return { status: 503, body: "the notification secret is not readable\n" };
      }
      if (!verifyNotificationSecret(req.headers, { header: "authorization", secret: `Bearer ${secret}` })) {
        log.debug({ remote: req.remoteAddress }, "notification refused: no or wrong shared secret");
        return { status: 401, body: "unauthorized\n" };
      }
      const envelope = parseEnvelope(req.body, headerValue(req.headers, "content-type"));
      if (!envelope.ok) {
        log.debug({ reason: envelope.reason, message: envelope.message }, "notification refused");
        return { status: envelope.status, body: `${envelope.message}\n` };
      }
      const { records, ignored } = classifyEvents(envelope.events);
      for (const event of ignored) {
        options.onEvent?.("ignored", event.reason);
        log.debug(
          { event: event.eventId, reason: event.reason, message: event.message },
          "registry event ignored",
        );
      }
      let retry = false;
      // One stream's tags in order; different streams at once.
      const byStream = Map.groupBy(records, (r) => `${r.namespace}/${r.stream}`);
      await Promise.all(
        [...byStream.values()].map(async (streamRecords) => {
          for (const record of streamRecords) {
            const line = {
              namespace: record.namespace,
              name: record.stream,
              tag: record.tag,
              event: record.eventId,
            };
            try {
              const outcome = await recorder.record({
                namespace: record.namespace,
                stream: record.stream,
                tag: record.tag,
                pushedDigest: record.digest,
                createStream: true,
                signal: req.signal,
              });
              options.onEvent?.(outcome.result);
              if (outcome.result === "recorded") {
                log.info({ ...line, digest: outcome.digest, created: outcome.created }, "push recorded");
              } else {
                log.debug({ ...line, result: outcome.result }, "push changed nothing");
              }
            } catch (err) {
              options.onEvent?.("failed");
              const again = retryable(err);
              retry ||= again;
              log[again ? "warn" : "error"](
                { ...line, err: (err as Error).message, retried: again },
                again ? "push not recorded yet; the registry will send it again" : "push cannot be recorded",
              );
            }
          }
        }),
      );
      return retry
        ? { status: 503, body: "some events could not be recorded yet; send them again\n" }
        : { status: 200 };
    },
  };
}
