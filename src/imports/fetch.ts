// The registry side of one import, shared by every caller that imports (the import controller,
// the ImageStreamImport webhook): resolve a tag's source to the image to record (a single image,
// a platform chosen from a manifest list, or the list kept whole), and list a repository's tags
// to import. Failures are thrown as the registry client throws them; callers turn them into
// outcomes with failureOf, so an abort (drain or webhook deadline) stays distinguishable.
import type { Keychain, RegistryClient } from "../registry/index.ts";
import { parseReference } from "../registry/index.ts";
import { imageManifests, toImage } from "./image.ts";
import type { ImportOutcome, PlannedRepositoryImport, PlannedTagImport, Platform } from "./model.ts";
import { selectFromManifestList } from "./platform.ts";
import { selectRepositoryTags } from "./tag-order.ts";

export interface TagFetchOptions {
  keychain: Keychain;
  signal: AbortSignal;
  /** Picked from manifest lists in Legacy mode when the tag states no preference (default linux/amd64). */
  platform?: Platform | undefined;
  /** The digest recorded for the tag; an unchanged registry answer keeps it. */
  recordedDigest?: string;
  /** A digest the caller knows for this source: the registry confirms it with one HEAD. */
  knownDigest?: string;
  /** Only registry lookups started after this time (epoch ms) may answer (a user's request). */
  freshAfter?: number;
}

export interface TagFetchResult {
  outcome: ImportOutcome;
  /** The manifest list resolved when a platform was chosen from it (a Legacy import of a list). */
  listDigest?: string;
}

const LINUX_AMD64: Platform = { os: "linux", architecture: "amd64" };

/**
 * `work`, or its signal's abort reason as soon as the signal aborts: undici does not interrupt a
 * connection attempt (a registry that accepts but never completes TLS holds a request for its
 * connect timeout), and a deadline must hold all the same. The work itself ends on its own timeout.
 */
function beforeAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** Resolves `planned.from` and returns the image to record for `planned.tag`. */
export async function fetchTagImage(
  registry: RegistryClient,
  planned: PlannedTagImport,
  options: TagFetchOptions,
): Promise<TagFetchResult> {
  // The registry client refuses hosts of the operator's host policy (Forbidden).
  const ref = parseReference(planned.from);
  const call = { keychain: options.keychain, insecure: planned.insecure, signal: options.signal };
  const result = await beforeAbort(
    registry.inspect(ref, {
      ...call,
      ...(options.knownDigest !== undefined ? { knownDigest: options.knownDigest } : {}),
      ...(options.freshAfter !== undefined ? { freshAfter: options.freshAfter } : {}),
    }),
    options.signal,
  );
  const { tag, from } = planned;
  if (result.kind === "unchanged") {
    return { outcome: { tag, ok: true, digest: options.recordedDigest ?? result.digest, pullSpec: from } };
  }
  // The digest recorded is the one resolved: a single image, or a list kept whole.
  const asResolved: TagFetchResult = {
    outcome: { tag, ok: true, digest: result.digest, pullSpec: from, image: toImage(result, from) },
  };
  if (result.kind === "image") return asResolved;
  const selection = selectFromManifestList(
    { digest: result.digest, entries: imageManifests(result.manifests) },
    planned.importMode,
    {
      ...(planned.preferArch ? { preferArch: planned.preferArch } : {}),
      ...(planned.preferOs ? { preferOs: planned.preferOs } : {}),
      platform: options.platform ?? LINUX_AMD64,
    },
  );
  if (!selection.ok)
    return { outcome: { tag, ok: false, reason: selection.reason, message: selection.message } };
  if (planned.importMode === "PreserveOriginal") return asResolved;
  const child = await beforeAbort(registry.fetchPlatformImage(ref, selection.digest, call), options.signal);
  return {
    outcome: { tag, ok: true, digest: child.digest, pullSpec: from, image: toImage(child, from) },
    listDigest: result.digest,
  };
}

export interface RepositoryTags {
  /** The tags to import, in the import core's priority order, at most the limit. */
  chosen: string[];
  /** Tags the repository has beyond the limit (OpenShift's `additionalTags`). */
  beyondLimit: string[];
}

/** Lists `planned.from`'s tags and chooses those to import (`exclude`: tags the caller keeps). */
export async function repositoryTags(
  registry: RegistryClient,
  planned: PlannedRepositoryImport,
  exclude: ReadonlySet<string>,
  options: { keychain: Keychain; signal: AbortSignal },
): Promise<RepositoryTags> {
  const ref = parseReference(planned.from);
  const all = await beforeAbort(
    registry.listTags(ref, { ...options, insecure: planned.insecure }),
    options.signal,
  );
  const chosen = selectRepositoryTags(all, planned.limit, exclude);
  const unlimited = selectRepositoryTags(all, -1, exclude);
  const picked = new Set(chosen);
  return { chosen, beyondLimit: unlimited.filter((t) => !picked.has(t)) };
}
