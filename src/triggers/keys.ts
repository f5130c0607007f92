// Index keys linking ImageStream tags to the workloads that trigger on them, and the tag
// lookups the planner needs, all computed from cached objects.

import type { ImageStream } from "../api/index.ts";
import { resolveTagPullSpec } from "../imports/index.ts";
import type { WorkloadKind } from "./kinds.ts";
import { parseWorkloadTriggers } from "./parse.ts";
import type { TagImage, TagLookup, WorkloadObject } from "./types.ts";

/** "<namespace>/<stream>:<tag>": the informer index key of one ImageStreamTag. */
export function triggerKey(namespace: string, stream: string, tag: string): string {
  return `${namespace}/${stream}:${tag}`;
}

/**
 * Keys of the tags a workload's active triggers follow, sorted and without repeats, for an
 * informer index. Needs only `metadata`, so it works on metadata-only (PartialObjectMetadata)
 * objects. Paused and malformed triggers are not indexed: a tag change cannot affect them,
 * and editing the annotation re-queues the workload anyway.
 */
export function triggerKeys(workload: WorkloadObject, kind: WorkloadKind): string[] {
  const { triggers } = parseWorkloadTriggers(workload, kind);
  const keys = new Set(
    triggers.filter((t) => !t.paused).map((t) => triggerKey(t.from.namespace, t.from.stream, t.from.tag)),
  );
  return [...keys].sort();
}

/** Keys to look up in the index when the given tags of a stream changed. */
export function tagKeysForStream(namespace: string, stream: string, tags: Iterable<string>): string[] {
  return [...new Set(tags)].map((tag) => triggerKey(namespace, stream, tag));
}

/** The newest image of a tag in a stream's status, or undefined when it has none yet. */
export function newestTagImage(
  stream: ImageStream | undefined,
  tag: string,
  localRegistryHost?: string,
): TagImage | undefined {
  const newest = stream?.status?.tags?.find((entry) => entry.tag === tag)?.items?.[0];
  if (!stream || !newest?.dockerImageReference) return undefined;
  // referencePolicy Local pulls through the cluster's registry when one is configured.
  const reference = resolveTagPullSpec(stream, tag, newest, localRegistryHost ? { localRegistryHost } : {});
  return { dockerImageReference: reference };
}

/** A TagLookup over a cache of ImageStreams (e.g. an informer's store). */
export function tagLookupFromStreams(
  getStream: (namespace: string, name: string) => ImageStream | undefined,
  localRegistryHost?: string,
): TagLookup {
  return (namespace, stream, tag) => newestTagImage(getStream(namespace, stream), tag, localRegistryHost);
}

function newestReferences(stream: ImageStream | undefined): Map<string, string> {
  const references = new Map<string, string>();
  for (const entry of stream?.status?.tags ?? []) {
    const reference = entry.items?.[0]?.dockerImageReference;
    if (reference !== undefined && reference !== "") references.set(entry.tag, reference);
  }
  return references;
}

/**
 * Tags whose newest image differs between two versions of a stream (appeared, changed or
 * gone), sorted. Status changes that keep every tag's newest image (conditions, generation
 * bumps, older history) yield nothing, so they touch no workload.
 */
export function changedTags(
  oldStream: ImageStream | undefined,
  newStream: ImageStream | undefined,
): string[] {
  const before = newestReferences(oldStream);
  const after = newestReferences(newStream);
  const changed = new Set<string>();
  for (const [tag, reference] of after) if (before.get(tag) !== reference) changed.add(tag);
  for (const tag of before.keys()) if (!after.has(tag)) changed.add(tag);
  return [...changed].sort();
}
