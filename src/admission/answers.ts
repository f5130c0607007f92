// Stored ImageStreamImports are answers, not state (OpenShift never stores them): the webhook
// puts the import's result into the object kube-apiserver stores and returns to oc, and this
// controller of the leader deletes each one shortly afterwards.
import { IMAGESTREAMIMPORTS } from "../api/index.ts";
import {
  type ControllerContext,
  type ControllerHandle,
  eventTypes,
  isNotFound,
  type ObjectKey,
  ownKey,
} from "../runtime/index.ts";

/** How long a stored answer stays readable (`kubectl get imagestreamimport NAME -o yaml`). */
export const ANSWER_RETENTION_MS = 30_000;

interface AnswerMetadata {
  metadata?: { name?: string; namespace?: string; uid?: string; creationTimestamp?: string };
}

/** How long until the answer created at `creationTimestamp` is due for removal (0: now). */
export function answerRemovalDelay(
  creationTimestamp: string | undefined,
  now: number,
  retentionMs: number,
): number {
  const created = Date.parse(creationTimestamp ?? "");
  if (!Number.isFinite(created)) return 0;
  return Math.max(0, created + retentionMs - now);
}

export function createAnswerCleanupController(
  ctx: ControllerContext,
  options: { retentionMs?: number; now?: () => number } = {},
): ControllerHandle {
  const retentionMs = options.retentionMs ?? ANSWER_RETENTION_MS;
  const now = options.now ?? Date.now;
  const answers = ctx.informers.for<AnswerMetadata>(IMAGESTREAMIMPORTS, { metadataOnly: true });
  return ctx
    .controller<ObjectKey>({
      name: "imagestreamimport-cleanup",
      reconcile: async (key, { log }) => {
        const answer = answers.get(key);
        if (!answer) return;
        const delay = answerRemovalDelay(answer.metadata?.creationTimestamp, now(), retentionMs);
        if (delay > 0) return { requeueAfter: delay };
        try {
          await ctx.objects.delete(
            IMAGESTREAMIMPORTS,
            key,
            answer.metadata?.uid ? { uid: answer.metadata.uid } : undefined,
          );
        } catch (err) {
          if (isNotFound(err)) return;
          throw err;
        }
        log.debug("image stream import answer removed");
      },
    })
    .watch(answers, { map: ownKey, predicate: eventTypes("added") });
}
