// From verified image events to import requests: only stream tags in the receiver's
// namespaces whose source names exactly the event's reference are imported, each for
// exactly that tag; requests are grouped per distinct reference, so a burst costs at most
// one registry request per reference. The event's host and repository are only compared
// with what streams name: an event never adds a host or repository to contact (no SSRF).

import type { ImageStream } from "../api/index.ts";
import { sameJson } from "../api/index.ts";
import { isImportable } from "../imports/index.ts";
import { type ImageReference, parseReference } from "../registry/index.ts";
import type { ImageEvent } from "./model.ts";

export type ImportTarget =
  /** A spec tag imported from a DockerImage source. */
  | { kind: "tag"; namespace: string; stream: string; tag: string }
  /** A tag of `spec.dockerImageRepository` (every tag when `tag` is absent). */
  | { kind: "repository"; namespace: string; stream: string; tag?: string };

export interface ImportRequestGroup {
  /** Normalized `registry/repository[:tag]`: what one registry request resolves. */
  reference: string;
  targets: ImportTarget[];
}

function safeParse(name: string): ImageReference | undefined {
  try {
    return parseReference(name);
  } catch {
    return undefined;
  }
}

function repositoryMatches(event: ImageEvent, ref: ImageReference): boolean {
  if (ref.registry !== event.registry) return false;
  if (ref.repository === event.repository) return true;
  return event.includeSubRepositories === true && ref.repository.startsWith(`${event.repository}/`);
}

function add(groups: Map<string, ImportRequestGroup>, reference: string, target: ImportTarget): void {
  const group = groups.get(reference) ?? { reference, targets: [] };
  if (!group.targets.some((t) => sameJson(t, target))) group.targets.push(target);
  groups.set(reference, group);
}

/** The import requests `events` cause among `streams`, restricted to `namespaces`. */
export function importRequests(
  events: readonly ImageEvent[],
  streams: readonly ImageStream[],
  namespaces: readonly string[],
): ImportRequestGroup[] {
  const allowed = new Set(namespaces);
  const groups = new Map<string, ImportRequestGroup>();
  for (const stream of streams) {
    const namespace = stream.metadata.namespace ?? "";
    const name = stream.metadata.name ?? "";
    if (!allowed.has(namespace) || stream.metadata.deletionTimestamp) continue;
    for (const tagRef of stream.spec?.tags ?? []) {
      if (!isImportable(tagRef) || !tagRef.from) continue;
      const ref = safeParse(tagRef.from.name);
      // A digest-pinned source never changes: no event can make it import.
      if (!ref || ref.digest !== undefined || ref.tag === undefined) continue;
      for (const event of events) {
        if (!repositoryMatches(event, ref) || (event.tag !== undefined && event.tag !== ref.tag)) continue;
        add(groups, `${ref.registry}/${ref.repository}:${ref.tag}`, {
          kind: "tag",
          namespace,
          stream: name,
          tag: tagRef.name,
        });
      }
    }
    const repository = stream.spec?.dockerImageRepository?.trim();
    const repoRef = repository ? safeParse(repository) : undefined;
    if (!repoRef || repoRef.digest !== undefined) continue;
    for (const event of events) {
      if (!repositoryMatches(event, repoRef)) continue;
      const base = `${repoRef.registry}/${repoRef.repository}`;
      if (event.tag === undefined) add(groups, base, { kind: "repository", namespace, stream: name });
      else
        add(groups, `${base}:${event.tag}`, { kind: "repository", namespace, stream: name, tag: event.tag });
    }
  }
  return [...groups.values()];
}

/** Pending requests plus new ones, still one group per reference (a burst coalesces). */
export function mergeImportRequests(
  pending: readonly ImportRequestGroup[],
  next: readonly ImportRequestGroup[],
): ImportRequestGroup[] {
  const groups = new Map<string, ImportRequestGroup>();
  for (const group of [...pending, ...next]) {
    for (const target of group.targets) add(groups, group.reference, target);
  }
  return [...groups.values()];
}
