// Catch-up after lost notifications (operator down, a restart, a registry that gave up): the
// leader reads the tags of every stream's repository in the integrated registry on start and
// then every interval, and records each tag whose image differs from the stream's newest item
// (a HEAD per tag when nothing changed). Spec tags are the import controller's: they are left
// alone, or the two would take turns. A repository whose stream does not exist is never read:
// catch-up does not recreate a stream a user deleted; a live push does (docs/push.md).

import { IMAGESTREAMS, type ImageStream } from "../api/index.ts";
import { isRegistryError, type RegistryClient } from "../registry/index.ts";
import {
  type ControllerContext,
  type ControllerHandle,
  eventTypes,
  type ObjectKey,
  ownKey,
} from "../runtime/index.ts";
import { catchUpTags } from "./catch-up.ts";
import type { IntegratedRegistry, PushRecorder } from "./recorder.ts";

export interface CatchUpControllerOptions {
  recorder: PushRecorder;
  registry: RegistryClient;
  integrated: IntegratedRegistry;
  intervalMs: number;
}

export function createPushCatchUpController(
  ctx: ControllerContext,
  options: CatchUpControllerOptions,
): ControllerHandle {
  const streams = ctx.informers.for<ImageStream>(IMAGESTREAMS);
  const { recorder, registry, integrated } = options;
  return (
    ctx
      .controller<ObjectKey>({
        name: "push-catch-up",
        reconcile: async (key, { log, signal }) => {
          const stream = streams.get(key);
          if (!stream || stream.metadata.deletionTimestamp) return;
          const namespace = key.namespace ?? "";
          let tags: string[];
          try {
            tags = await registry.listTags(`${integrated.host}/${namespace}/${key.name}`, {
              insecure: integrated.insecure,
              signal,
            });
          } catch (err) {
            // Nothing was ever pushed to this stream's repository.
            if (isRegistryError(err) && err.reason === "NotFound")
              return { requeueAfter: options.intervalMs };
            throw err;
          }
          let recorded = 0;
          for (const { tag, recordedImage } of catchUpTags(streams.get(key) ?? stream, tags)) {
            const outcome = await recorder.record({
              namespace,
              stream: key.name,
              tag,
              ...(recordedImage ? { knownDigest: recordedImage } : {}),
              createStream: false,
              signal,
            });
            if (outcome.result === "recorded") {
              recorded++;
              log.info({ tag, digest: outcome.digest }, "push caught up from the registry");
            }
          }
          if (recorded === 0) log.debug({ tags: tags.length }, "integrated registry tags checked");
          return { requeueAfter: options.intervalMs };
        },
      })
      // The cache is replayed as adds on start: every stream is read once, then every interval.
      .watch(streams, { map: ownKey, predicate: eventTypes("added") })
  );
}
