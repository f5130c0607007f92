// Records a tag of the integrated registry in its stream: the shell shared by notifications
// (any replica) and catch-up (the leader). The registry is the source of truth: the tag is
// resolved there again before anything is written, so a late or repeated event finds the
// tag's current image and changes nothing. The status is written with optimistic concurrency
// (a conflict re-reads and re-applies), so replicas and the import controller never lose each
// other's writes, and the history rules make a second recording of one image a no-op.

import { setTimeout } from "node:timers/promises";
import { API_VERSION, IMAGESTREAMS, type ImageStream, importModeOf } from "../api/index.ts";
import {
  type ImportSettings,
  imageManifests,
  selectFromManifestList,
  type TagChange,
  tagPlatformPreferences,
} from "../imports/index.ts";
import { isRegistryError, MediaTypes, type RegistryClient } from "../registry/index.ts";
import {
  type EventRecorder,
  isConflict,
  isNotFound,
  type ObjectApi,
  objectRefOf,
  updateStatusWithRetry,
} from "../runtime/index.ts";
import { applyPushedImage, type ResolvedPush, streamForPush } from "./status.ts";

const LIST_TYPES: ReadonlySet<string> = new Set([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);

export interface IntegratedRegistry {
  /**
   * The registry's name in image references: its pull location (the registry client reads it
   * where the operator reaches it).
   */
  host: string;
  /** Plain HTTP (or unverified TLS) to it. */
  insecure: boolean;
}

export interface PushRecorderOptions {
  objects: ObjectApi;
  /** The stream cache (a read saved when it is current; the write is guarded anyway). */
  cachedStream: (namespace: string, name: string) => ImageStream | undefined;
  registry: RegistryClient;
  integrated: IntegratedRegistry;
  /** `localRegistryHost` is the pull location recorded in status (required). */
  settings: ImportSettings;
  events: EventRecorder;
  now?: () => Date;
}

/** What happened to one tag. */
export type RecordResult =
  /** The stream got the image as the tag's newest item (created when `created`). */
  | { result: "recorded"; digest: string; created: boolean }
  | { result: "unchanged"; digest: string }
  /** The tag is not in the registry (any more): nothing to record. */
  | { result: "gone" }
  /** No stream and `createStream` was false (catch-up never recreates a deleted stream). */
  | { result: "no-stream" };

export interface RecordRequest {
  namespace: string;
  stream: string;
  tag: string;
  /** The digest the last recording has: the registry still pointing there costs one HEAD. */
  knownDigest?: string;
  /**
   * The manifest a push event named. distribution notifies before it links the tag, so a
   * lookup right after the event may still see the tag's previous manifest (or none): the tag
   * is looked up again, briefly, until it shows this one; what it shows then is recorded.
   */
  pushedDigest?: string;
  /** Create the stream when it does not exist (a push event; catch-up never does). */
  createStream: boolean;
  signal?: AbortSignal;
}

/** Waits between lookups while a pushed tag does not show the pushed manifest yet (1.5 s in all). */
const TAG_LINK_WAITS_MS = [25, 50, 100, 200, 400, 800];
const UNREADABLE = Symbol("tag link unreadable");
type Resolved = { manifest: string; image: string };

export class PushRecorder {
  readonly #options: PushRecorderOptions;
  readonly #now: () => Date;

  constructor(options: PushRecorderOptions) {
    if (!options.settings.localRegistryHost) {
      throw new Error("recording pushes needs the integrated registry's pull location (--local-registry)");
    }
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * The tag as the registry has it now: the manifest it points at and the image an import of
   * it records (for a list in Legacy mode, the platform's manifest); undefined when the tag is
   * not in the registry.
   */
  async resolve(request: RecordRequest): Promise<Resolved | undefined> {
    const { registry, integrated, settings } = this.#options;
    const repository = `${integrated.host}/${request.namespace}/${request.stream}`;
    const call = { insecure: integrated.insecure, signal: request.signal };
    const known = request.pushedDigest ?? request.knownDigest;
    try {
      // Only a lookup made from now on answers: the event says the tag just moved.
      const result = await registry.inspect(`${repository}:${request.tag}`, {
        ...call,
        ...(known ? { knownDigest: known } : {}),
        freshAfter: Date.now(),
      });
      // A HEAD that found the known digest: an image is that digest, a list must be read.
      const facts =
        result.kind === "unchanged" && LIST_TYPES.has(result.mediaType)
          ? await registry.inspect(`${repository}@${result.digest}`, call)
          : result;
      if (facts.kind !== "list") return { manifest: facts.digest, image: facts.digest };
      const specTag = this.#options
        .cachedStream(request.namespace, request.stream)
        ?.spec?.tags?.find((t) => t.name === request.tag);
      const selection = selectFromManifestList(
        { digest: facts.digest, entries: imageManifests(facts.manifests) },
        importModeOf(specTag?.importPolicy),
        {
          ...(specTag ? tagPlatformPreferences(specTag) : {}),
          ...(settings.platform ? { platform: settings.platform } : {}),
        },
      );
      return selection.ok ? { manifest: facts.digest, image: selection.digest } : undefined;
    } catch (err) {
      if (isRegistryError(err) && err.reason === "NotFound") return undefined;
      throw err;
    }
  }

  /** Resolves the tag in the registry and records it; throws on failures worth retrying. */
  async record(request: RecordRequest): Promise<RecordResult> {
    let resolved = await this.#resolveWhileLinking(request);
    for (const wait of request.pushedDigest ? TAG_LINK_WAITS_MS : []) {
      if (resolved !== UNREADABLE && resolved?.manifest === request.pushedDigest) break;
      await setTimeout(wait, undefined, request.signal ? { signal: request.signal } : {});
      resolved = await this.#resolveWhileLinking(request);
    }
    if (resolved === UNREADABLE) resolved = await this.resolve(request);
    if (resolved === undefined) return { result: "gone" };
    const { namespace, stream, tag } = request;
    return this.write({ namespace, stream, tag, digest: resolved.image }, request.createStream);
  }

  /**
   * resolve(), except that right after a push event an HTTP 500 counts as "not linked yet":
   * distribution writes the tag's link file after it notifies, and a HEAD that reads the file
   * half-written fails with 500 ("invalid checksum digest format"); waiting for the registry to
   * send the event again would cost its backoff.
   */
  async #resolveWhileLinking(request: RecordRequest): Promise<Resolved | undefined | typeof UNREADABLE> {
    try {
      return await this.resolve(request);
    } catch (err) {
      if (request.pushedDigest && isRegistryError(err) && err.status === 500) return UNREADABLE;
      throw err;
    }
  }

  /** Writes `pushed` as the tag's newest image (creating the stream when allowed and missing). */
  async write(pushed: ResolvedPush, createStream: boolean): Promise<RecordResult> {
    const { objects } = this.#options;
    const key = { namespace: pushed.namespace, name: pushed.stream };
    let stream = this.#options.cachedStream(pushed.namespace, pushed.stream);
    let created = false;
    if (!stream) {
      try {
        stream = await objects.get<ImageStream>(IMAGESTREAMS, key);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        if (!createStream) return { result: "no-stream" };
        try {
          stream = await objects.create<ImageStream>(
            IMAGESTREAMS,
            streamForPush(pushed.namespace, pushed.stream),
          );
          created = true;
        } catch (createErr) {
          // Another replica (or the user) created it a moment ago: record into theirs.
          if (!isConflict(createErr)) throw createErr;
          stream = await objects.get<ImageStream>(IMAGESTREAMS, key);
        }
      }
    }
    if (stream.metadata.deletionTimestamp) return { result: "no-stream" };
    let changes: TagChange[] = [];
    const written = await updateStatusWithRetry<ImageStream>({
      current: stream,
      get: () => objects.get<ImageStream>(IMAGESTREAMS, key),
      mutate: (fresh) => {
        if (fresh.metadata.deletionTimestamp) return undefined;
        const update = applyPushedImage({
          stream: fresh,
          pushed,
          now: this.#now(),
          settings: this.#options.settings,
        });
        if (update.kind !== "update") return undefined;
        changes = update.changes;
        return { ...fresh, status: update.status };
      },
      replaceStatus: (object) => objects.replaceStatus(IMAGESTREAMS, object),
    });
    if (!written.written)
      return created
        ? { result: "recorded", digest: pushed.digest, created }
        : { result: "unchanged", digest: pushed.digest };
    for (const change of changes) {
      if (change.kind !== "Updated") continue;
      void this.#options.events.record(
        objectRefOf({ ...written.object, apiVersion: API_VERSION, kind: "ImageStream" }),
        {
          type: "Normal",
          reason: "Pushed",
          action: "Push",
          note: `tag ${change.tag} now points to ${change.dockerImageReference}`,
        },
      );
    }
    return { result: "recorded", digest: pushed.digest, created };
  }
}
