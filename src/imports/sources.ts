import type { ImageStream, TagReference } from "../api/index.ts";
import type { ObjectKey } from "../runtime/index.ts";
import { parseSourceName } from "./references.ts";

/**
 * Every other stream this stream's spec tags follow or pin (ImageStreamTag and ImageStreamImage
 * sources), for the informer index that re-reconciles followers when a source stream changes.
 */
export function sourceStreamKeys(stream: ImageStream): ObjectKey[] {
  const namespace = stream.metadata.namespace ?? "";
  const keys = new Map<string, ObjectKey>();
  for (const tag of stream.spec?.tags ?? []) {
    const from = tag.from;
    if (!from || (from.kind !== "ImageStreamTag" && from.kind !== "ImageStreamImage")) continue;
    const parsed = parseSourceName(from.kind, from.name, stream.metadata.name ?? "");
    if (!parsed.ok) continue;
    const key = { namespace: from.namespace || namespace, name: parsed.stream };
    keys.set(`${key.namespace}/${key.name}`, key);
  }
  return [...keys.values()];
}

/**
 * The namespace of another stream a tag follows or pins (ImageStreamTag/ImageStreamImage with a
 * `from.namespace` of its own); undefined for same-namespace and unparseable sources. Reading it
 * needs authorization (SubjectAccessReview).
 */
export function crossNamespaceSource(
  tag: TagReference,
  namespace: string,
  streamName: string,
): string | undefined {
  const from = tag.from;
  if (!from || (from.kind !== "ImageStreamTag" && from.kind !== "ImageStreamImage")) return undefined;
  if (!from.namespace || from.namespace === namespace) return undefined;
  return parseSourceName(from.kind, from.name, streamName).ok ? from.namespace : undefined;
}
