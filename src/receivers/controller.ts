// The leader keeps each Receiver's status: the URL path to paste into the provider and the
// Ready condition (its Secret and token found, every listed namespace allowed). Looked at
// again when the Receiver or its Secret changes, and every few minutes for RBAC changes.

import { type AccessReview, AuthorizationCache } from "../access/index.ts";
import {
  RECEIVER_SECRET_TYPE,
  RECEIVERS,
  type Receiver as ReceiverObject,
  SECRETS,
  sameJson,
} from "../api/index.ts";
import { formatTime } from "../imports/index.ts";
import {
  type ControllerContext,
  type ControllerHandle,
  generationChanged,
  keyOf,
  type ObjectKey,
  ownKey,
  resourceVersionChanged,
  type SharedInformer,
  updateStatusWithRetry,
} from "../runtime/index.ts";
import { type ReceiverSecret, receiverOf, receiverStatus } from "./objects.ts";

const RECHECK_MS = 5 * 60_000;

/** The informers every replica needs for receivers: the Receivers and the Secrets of their type. */
export function receiverInformers(ctx: Pick<ControllerContext, "informers">): {
  receivers: SharedInformer<ReceiverObject>;
  secrets: SharedInformer<ReceiverSecret>;
} {
  return {
    receivers: ctx.informers.for<ReceiverObject>(RECEIVERS),
    secrets: ctx.informers.for<ReceiverSecret>(SECRETS, { fieldSelector: `type=${RECEIVER_SECRET_TYPE}` }),
  };
}

export function createReceiverController(
  ctx: ControllerContext,
  options: { access: AccessReview | AuthorizationCache; now?: () => Date },
): ControllerHandle {
  const { receivers, secrets } = receiverInformers(ctx);
  const access =
    options.access instanceof AuthorizationCache ? options.access : new AuthorizationCache(options.access);
  const now = options.now ?? (() => new Date());
  return ctx
    .controller<ObjectKey>({
      name: "receiver",
      reconcile: async (key, { log }) => {
        const object = receivers.get(key);
        if (!object || object.metadata.deletionTimestamp) return;
        const secret = secrets.get({
          namespace: object.metadata.namespace,
          name: object.spec.secretRef.name,
        });
        const resolved = receiverOf(object, secret);
        const denied: string[] = [];
        if (resolved.ok) {
          for (const namespace of resolved.receiver.namespaces.slice(1)) {
            if (!(await access.allowed(resolved.receiver.namespace, namespace))) denied.push(namespace);
          }
        }
        const written = await updateStatusWithRetry<ReceiverObject>({
          current: object,
          get: () => ctx.objects.get<ReceiverObject>(RECEIVERS, key),
          mutate: (fresh) => {
            const next = receiverStatus(fresh, resolved, denied, formatTime(now()));
            return sameJson(fresh.status ?? {}, next) ? undefined : { ...fresh, status: next };
          },
          replaceStatus: (o) => ctx.objects.replaceStatus(RECEIVERS, o),
        });
        if (written.written) {
          const ready = written.object.status?.conditions?.[0];
          log.info(
            { ready: ready?.status, reason: ready?.reason, url: written.object.status?.url },
            "receiver status updated",
          );
        }
        return { requeueAfter: RECHECK_MS };
      },
    })
    .watch(receivers, { map: ownKey, predicate: generationChanged })
    .watch(secrets, {
      map: (secret) =>
        receivers
          .list(secret.metadata?.namespace ?? "")
          .filter((r) => r.spec.secretRef.name === secret.metadata?.name)
          .map(keyOf),
      predicate: resourceVersionChanged,
    });
}
