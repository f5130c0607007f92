import type { ImageStream, NamedTagEventList, TagEvent, TagReference } from "../../../src/api/types.ts";
import { DEFAULT_IMPORT_SETTINGS, type ImportSettings } from "../../../src/imports/index.ts";

export const D1 = `sha256:${"1".repeat(64)}`;
export const D2 = `sha256:${"2".repeat(64)}`;
export const D3 = `sha256:${"3".repeat(64)}`;
export const DA = `sha256:abc1${"0".repeat(60)}`;
export const DB = `sha256:abc2${"0".repeat(60)}`;

export const T0 = "2024-05-01T10:00:00Z";
export const NOW = new Date("2024-05-01T12:00:00Z");

export function settings(overrides: Partial<ImportSettings> = {}): ImportSettings {
  return { ...DEFAULT_IMPORT_SETTINGS, ...overrides };
}

export function dockerTag(name: string, from: string, extra: Partial<TagReference> = {}): TagReference {
  return { name, from: { kind: "DockerImage", name: from }, ...extra };
}

export function event(ref: string, image: string, generation = 1, created = T0): TagEvent {
  return { created, dockerImageReference: ref, image, generation };
}

export function stream(
  tags: TagReference[],
  statusTags: NamedTagEventList[] | null = null,
  meta: Partial<ImageStream["metadata"]> = {},
  extraSpec: Partial<NonNullable<ImageStream["spec"]>> = {},
): ImageStream {
  return {
    apiVersion: "image.openshift.io/v1",
    kind: "ImageStream",
    metadata: { name: "app", namespace: "ns", generation: 1, ...meta },
    spec: { tags, ...extraSpec },
    ...(statusTags === null ? {} : { status: { tags: statusTags } }),
  };
}

export function statusTag(stream: ImageStream, tag: string): NamedTagEventList | undefined {
  return stream.status?.tags?.find((t) => t.tag === tag);
}
