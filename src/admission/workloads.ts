// The kinds whose pod specs image lookup resolves: the rows of the one pod-template kind table
// (src/api/workloads.ts) with the `imageLookup` flag, and which container lists a request may
// change. The webhook's rules (chart and operator) and the plugin's image-lookup aliases come
// from this view.
import {
  IMAGE_LOOKUP_KINDS,
  type PodTemplateKind,
  podTemplateKindByAlias,
  podTemplateKindOfGvk,
} from "../api/index.ts";

export type ContainerListName = "containers" | "initContainers" | "ephemeralContainers";

export const LOOKUP_KINDS: readonly PodTemplateKind[] = IMAGE_LOOKUP_KINDS;

/** The kind of an admission request's object (`request.kind`), if image lookup covers it. */
export function lookupKindOf(gvk: {
  group: string;
  version: string;
  kind: string;
}): PodTemplateKind | undefined {
  return podTemplateKindOfGvk(LOOKUP_KINDS, gvk);
}

/** The kind a user named (`deploy`, `rc`, `Deployment`; any case), if image lookup covers it. */
export function lookupKindByAlias(alias: string): PodTemplateKind | undefined {
  return podTemplateKindByAlias(LOOKUP_KINDS, alias);
}

/**
 * The container lists a request may change: a Pod's `ephemeralcontainers` subresource changes
 * only ephemeral containers; the main resource changes containers and init containers
 * (ephemeral containers are immutable there). Other subresources (status, scale) carry no images.
 */
export function containerListsFor(kind: PodTemplateKind, subResource: string): readonly ContainerListName[] {
  if (subResource === "") return ["containers", "initContainers"];
  if (subResource === "ephemeralcontainers" && kind.kind === "Pod") return ["ephemeralContainers"];
  return [];
}
