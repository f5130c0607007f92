// A push to the integrated registry as a stream status change, through the import core's
// history rules (addTagEvent): the tag gets the pushed image as its newest item, with no
// spec tag needed (OpenShift's "no spec tag"), and a stream that does not exist is created.
//
// Ordering: events are hints and may repeat or arrive late. The shell re-resolves the tag
// in the registry (the source of truth) before calling applyPushedImage, so a late event
// for an older push resolves to the tag's current image, which is already newest: no
// change. A repeat is a no-op by the history rules themselves.

import type { ImageStream, ImageStreamStatus, NamedTagEventList } from "../api/index.ts";
import { API_VERSION } from "../api/index.ts";
import {
  addTagEvent,
  clearConditions,
  computeStatus,
  formatTime,
  type ImportSettings,
  mostSpecificPullSpec,
  type TagChange,
} from "../imports/index.ts";

/** The image a tag of a stream repository resolves to now, as the shell read it from the registry. */
export interface ResolvedPush {
  namespace: string;
  stream: string;
  tag: string;
  /** The image to record: the manifest digest (for a list, the one the import mode selects). */
  digest: string;
}

export type PushUpdate =
  | { kind: "unchanged" }
  /** Create `stream` (metadata and spec), then write `status` through the status subresource. */
  | { kind: "create"; stream: ImageStream; status: ImageStreamStatus; changes: TagChange[] }
  | { kind: "update"; status: ImageStreamStatus; changes: TagChange[] };

/** The stream OpenShift creates for a push to a repository without one: no spec tags. */
export function streamForPush(namespace: string, name: string): ImageStream {
  return {
    apiVersion: API_VERSION,
    kind: "ImageStream",
    metadata: { namespace, name },
    spec: { lookupPolicy: { local: false } },
  };
}

/**
 * The status after recording `pushed` as the tag's newest image. The pull spec is the
 * integrated registry's (`<localRegistryHost>/<ns>/<stream>@<digest>`), which is required.
 */
export function applyPushedImage(input: {
  stream: ImageStream | undefined;
  pushed: ResolvedPush;
  now: Date;
  settings: ImportSettings;
}): PushUpdate {
  const { pushed, now, settings } = input;
  if (!settings.localRegistryHost) {
    throw new Error("applyPushedImage needs settings.localRegistryHost (the integrated registry's host)");
  }
  const base = input.stream ?? streamForPush(pushed.namespace, pushed.stream);
  const pullSpec = mostSpecificPullSpec(
    `${settings.localRegistryHost}/${pushed.namespace}/${pushed.stream}:${pushed.tag}`,
    pushed.digest,
  );
  // A new stream gets generation 1 when the API server creates it.
  const generation = base.metadata.generation ?? 1;
  const tags = base.status?.tags ?? [];
  const current: NamedTagEventList = tags.find((t) => t.tag === pushed.tag) ?? {
    tag: pushed.tag,
    items: null,
  };
  const { entry, change } = addTagEvent(
    current,
    { created: formatTime(now), dockerImageReference: pullSpec, image: pushed.digest, generation },
    settings.historyLimit,
  );
  const withPush: ImageStream = {
    ...base,
    status: {
      ...(base.status ?? {}),
      tags: [...tags.filter((t) => t.tag !== pushed.tag), clearConditions(entry)],
    },
  };
  // Tracking tags, the summary fields and the repository fields follow, as after an import.
  const derived = computeStatus({
    stream: withPush,
    outcomes: [],
    now,
    settings,
  });
  const status = derived?.status ?? withPush.status ?? {};
  const changes: TagChange[] = [
    ...(change === "none"
      ? []
      : [
          { tag: pushed.tag, kind: "Updated" as const, image: pushed.digest, dockerImageReference: pullSpec },
        ]),
    ...(derived?.changes ?? []),
  ];
  if (!input.stream) {
    return { kind: "create", stream: streamForPush(pushed.namespace, pushed.stream), status, changes };
  }
  if (change === "none" && !derived?.status) return { kind: "unchanged" };
  return { kind: "update", status, changes };
}
