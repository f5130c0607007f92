// Catching up with the registry after notifications were lost (operator down, restarts):
// which tags of a stream's repository to check. The shell resolves each (a HEAD when the
// recorded image is still current) and records what differs through the PushRecorder, so no
// push is missed and, by the history rules, none is recorded twice.

import type { ImageStream } from "../api/index.ts";

export interface CatchUpTag {
  tag: string;
  /** The tag's newest recorded image: the registry still having it costs one HEAD. */
  recordedImage?: string;
}

/**
 * The registry tags catch-up checks for `stream`: every tag that is not a spec tag (spec tags
 * are imported from their own source by the import controller; recording the registry's image
 * there too would make the two take turns), sorted.
 */
export function catchUpTags(stream: ImageStream, registryTags: readonly string[]): CatchUpTag[] {
  const specTags = new Set((stream.spec?.tags ?? []).map((t) => t.name));
  const newest = new Map((stream.status?.tags ?? []).map((t) => [t.tag, t.items?.[0]?.image]));
  return [...new Set(registryTags)]
    .filter((tag) => !specTags.has(tag))
    .sort()
    .map((tag) => {
      const recordedImage = newest.get(tag);
      return recordedImage ? { tag, recordedImage } : { tag };
    });
}
