// What the trigger controller remembers of a triggered workload between reads: the names and
// images of its pod spec's containers, and the object version they were read at. Planning
// reads nothing else of the spec, so while the cached metadata says the spec has not changed
// since, a tag change is planned and patched without a GET of the whole object. The patch's
// `test` of each container name still guards against a projection that is stale after all.

import { isRecord } from "../api/index.ts";
import { type WorkloadKind, workloadKindInfo } from "./kinds.ts";
import type { ContainerList, WorkloadObject } from "./types.ts";
import type { WorkloadResource } from "./workload-client.ts";
import type { WorkloadMetadata } from "./workload-watch.ts";

const CONTAINER_LISTS: readonly ContainerList[] = ["containers", "initContainers"];

export interface WorkloadProjection {
  readonly uid: string | undefined;
  readonly generation: number | undefined;
  readonly resourceVersion: string | undefined;
  /** The pod spec at the kind's path with, per container, only `name` and `image` (positions kept). */
  readonly spec: unknown;
}

/** Keeps only what planning reads: container names and images, at their positions in each list. */
export function projectWorkload(workload: WorkloadResource, kind: WorkloadKind): WorkloadProjection {
  const path = workloadKindInfo(kind).podSpecPath;
  let podSpec: unknown = workload;
  for (const key of path) podSpec = isRecord(podSpec) ? podSpec[key] : undefined;
  let projected: unknown;
  if (isRecord(podSpec)) {
    const lists: Record<string, unknown> = {};
    for (const list of CONTAINER_LISTS) {
      const containers = podSpec[list];
      if (!Array.isArray(containers)) continue;
      lists[list] = containers.map((container) =>
        isRecord(container) ? { name: container.name, image: container.image } : null,
      );
    }
    projected = lists;
  }
  // Rebuild the path above the pod spec ("spec.template.spec" for a Deployment), inside out.
  for (const key of [...path].reverse())
    projected = projected === undefined ? undefined : { [key]: projected };
  const metadata = workload.metadata;
  return {
    uid: metadata?.uid,
    generation: metadata?.generation,
    resourceVersion: metadata?.resourceVersion,
    spec: isRecord(projected) ? projected.spec : undefined,
  };
}

/**
 * Whether the projection still describes the spec of the cached object: the same object (uid)
 * and a spec at least as new (the generation moves with every spec change, and a projection
 * taken from our own patch's answer may be ahead of the cache). Kinds without a generation
 * need the very same resourceVersion.
 */
export function projectionIsCurrent(projection: WorkloadProjection, cached: WorkloadMetadata): boolean {
  const metadata = cached.metadata;
  if (metadata?.uid === undefined || projection.uid !== metadata.uid) return false;
  if (metadata.generation !== undefined && projection.generation !== undefined) {
    return projection.generation >= metadata.generation;
  }
  return metadata.resourceVersion !== undefined && projection.resourceVersion === metadata.resourceVersion;
}

/** The workload to plan with: the cached metadata (annotations, ownership) and the projected spec. */
export function projectedWorkload(
  projection: WorkloadProjection,
  cached: WorkloadMetadata,
): WorkloadResource {
  return {
    ...(cached.apiVersion === undefined ? {} : { apiVersion: cached.apiVersion }),
    ...(cached.kind === undefined ? {} : { kind: cached.kind }),
    metadata: cached.metadata as WorkloadObject["metadata"],
    spec: projection.spec,
  };
}
