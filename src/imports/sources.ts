import type { ImageStream } from "../api/types.ts";
import { parseSourceName } from "./references.ts";

/**
 * `namespace/name` of every other stream this stream's spec tags follow or pin
 * (ImageStreamTag and ImageStreamImage sources), for the informer index that re-reconciles
 * followers when a source stream changes.
 */
export function sourceStreamKeys(stream: ImageStream): string[] {
  const namespace = stream.metadata.namespace ?? "";
  const keys = new Set<string>();
  for (const tag of stream.spec?.tags ?? []) {
    const from = tag.from;
    if (!from || (from.kind !== "ImageStreamTag" && from.kind !== "ImageStreamImage")) continue;
    const parsed = parseSourceName(from.kind, from.name, stream.metadata.name ?? "");
    if (!parsed.ok) continue;
    keys.add(`${from.namespace || namespace}/${parsed.stream}`);
  }
  return [...keys];
}
