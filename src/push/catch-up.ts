// Catching up with the registry after notifications were lost (operator down, restarts):
// which repositories to read, and which tags differ from what the streams record. The shell
// lists the catalog and each repository's tags, resolves every tag as an import would
// (digest, platform selection for lists), and applies what this returns with
// applyPushedImage. A tag whose newest item already is the registry's image is left alone,
// so nothing is recorded twice; every other tag is recorded, so no push is missed.

import { type ImageStream, parseStreamRepository } from "../api/index.ts";
import type { ResolvedPush } from "./status.ts";

export interface RepositoryState {
  /** `<namespace>/<stream>` as the registry lists it. */
  repository: string;
  /** Tag -> the image it resolves to now (after platform selection for lists). */
  tags: Readonly<Record<string, string>>;
}

export interface CatchUpPlan {
  /** Tags of existing streams whose newest item is not the registry's image. */
  updates: ResolvedPush[];
  /** Tags of repositories that have no stream (yet); see docs/push.md for when to create one. */
  missingStreams: ResolvedPush[];
}

/** The catalog's repositories that stand for streams in the watched namespaces (all when empty). */
export function catchUpRepositories(catalog: readonly string[], namespaces: readonly string[]): string[] {
  const watched = new Set(namespaces);
  return catalog.filter((repository) => {
    const parsed = parseStreamRepository(repository);
    return parsed !== null && (watched.size === 0 || watched.has(parsed.namespace));
  });
}

export function planCatchUp(
  registry: readonly RepositoryState[],
  streams: readonly ImageStream[],
): CatchUpPlan {
  const byKey = new Map(streams.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const plan: CatchUpPlan = { updates: [], missingStreams: [] };
  for (const { repository, tags } of registry) {
    const parsed = parseStreamRepository(repository);
    if (!parsed) continue;
    const stream = byKey.get(repository);
    if (stream?.metadata.deletionTimestamp) continue;
    const newest = new Map((stream?.status?.tags ?? []).map((t) => [t.tag, t.items?.[0]?.image]));
    for (const tag of Object.keys(tags).sort()) {
      const digest = tags[tag];
      if (!digest || newest.get(tag) === digest) continue;
      const pushed: ResolvedPush = { namespace: parsed.namespace, stream: parsed.stream, tag, digest };
      (stream ? plan.updates : plan.missingStreams).push(pushed);
    }
  }
  return plan;
}
