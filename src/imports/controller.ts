// The ImageStream import controller: the imperative shell around the import core. It reads
// streams and pull secrets from shared caches, asks the core what to import, resolves those
// tags through the registry client, and writes the status the core computes (nothing when
// nothing changed).
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { type AccessReview, AuthorizationCache, subjectAccessReviewFromClient } from "../access/index.ts";
import { API_VERSION, GROUP, IMAGESTREAMS, sameJson, VERSION } from "../api/index.ts";
import type { ImageStream, TagReference } from "../api/types.ts";
import type { Logger } from "../log/index.ts";
import {
  DOCKER_CONFIG_SECRET_KEYS,
  isRegistryError,
  type Keychain,
  parseReference,
  pullSecretKeychain,
  type RegistryClient,
  type SecretLike,
} from "../registry/index.ts";
import {
  type ControllerContext,
  type ControllerHandle,
  objectRefOf,
  type ReconcileContext,
  updateStatusWithRetry,
} from "../runtime/index.ts";
import { imageManifests, toImage } from "./image.ts";
import {
  IMPORT_REQUESTED_HANDLED_ANNOTATION,
  type ImportOutcome,
  ImportReason,
  type ImportSettings,
  type PlannedRepositoryImport,
  type PlannedTagImport,
  type StreamImportState,
  type TagChange,
} from "./model.ts";
import { pendingImportRequest, planImports, recordImportAttempts } from "./plan.ts";
import { selectFromManifestList } from "./platform.ts";
import { parseSourceName } from "./references.ts";
import { sourceStreamKeys } from "./sources.ts";
import { computeStatus } from "./status.ts";
import { selectRepositoryTags } from "./tag-order.ts";

const SECRETS = { group: "", version: "v1", plural: "secrets" } as const;
const SOURCE_INDEX = "source-stream";

export interface ImportControllerOptions {
  registry: RegistryClient;
  now?: () => number;
  /** Decides whether `namespace`'s service accounts may read ImageStreams of `sourceNamespace`. */
  accessReview?: AccessReview;
}

/** A cluster-wide budget of scheduled imports per minute, spread evenly (one every 60/N s). */
class ScheduledImportBudget {
  readonly #spacingMs: number;
  #nextFree = 0;
  constructor(perMinute: number) {
    this.#spacingMs = 60_000 / perMinute;
  }
  /** Takes a slot at `now`, or returns how long to wait for one. */
  take(now: number): number {
    if (this.#nextFree <= now) {
      this.#nextFree = Math.max(this.#nextFree, now - this.#spacingMs) + this.#spacingMs;
      return 0;
    }
    return this.#nextFree - now;
  }
}

export function importSettingsFrom(config: ControllerContext["config"]): ImportSettings {
  return {
    historyLimit: config.historyLimit,
    repositoryTagLimit: config.bulkImportLimit,
    scheduleIntervalMs: config.scheduledImportIntervalMs,
    backoffBaseMs: 10_000,
    backoffMaxMs: 10 * 60_000,
    platform: config.defaultPlatform,
    ...(config.localRegistry
      ? {
          localRegistryHost: config.localRegistry,
          publicRegistryHost: config.publicRegistry ?? config.localRegistry,
        }
      : {}),
  };
}

export function createImportController(
  ctx: ControllerContext,
  options: ImportControllerOptions,
): ControllerHandle {
  const now = options.now ?? Date.now;
  const settings = importSettingsFrom(ctx.config);
  const streams = ctx.informers.for<ImageStream>(IMAGESTREAMS);
  const secretInformers = Object.keys(DOCKER_CONFIG_SECRET_KEYS).map((type) =>
    ctx.informers.for<SecretLike>(SECRETS, { fieldSelector: `type=${type}` }),
  );
  const api = ctx.kc.makeApiClient(CustomObjectsApi);
  const access = new AuthorizationCache(options.accessReview ?? subjectAccessReviewFromClient(ctx.kc));
  const budget = new ScheduledImportBudget(ctx.config.scheduledImportsPerMinute);
  const memory = new Map<string, StreamImportState>();
  /**
   * Per stream: the re-import request last honoured. The "handled" annotation is written after
   * status, so the cache can show the new status before it: without this the request ran twice.
   */
  const honouredRequests = new Map<string, string>();
  /**
   * Per stream: when the controller first saw its pending re-import request. Registry lookups
   * started after that are fresh enough for it (a push made before the request is seen) and
   * are shared by every stream and tag that asked for the same reference.
   */
  const requestSeen = new Map<string, { request: string; at: number }>();
  const noteRequest = (s: ImageStream): void => {
    const request = pendingImportRequest(s);
    if (request !== undefined && requestSeen.get(keyOf(s))?.request !== request) {
      requestSeen.set(keyOf(s), { request, at: now() });
    }
  };
  /** Per tag: the manifest-list digest a Legacy import last resolved, so an unchanged list costs one HEAD. */
  const sourceDigests = new Map<string, { source: string; recorded: string }>();

  const controller = ctx.controller({
    name: "imagestream-import",
    concurrency: ctx.config.importWorkers,
    reconcile: (key, rctx) => reconcile(key, rctx),
  });

  streams.addIndex(SOURCE_INDEX, sourceStreamKeys);
  streams.addHandlers({
    onAdd: (s) => {
      noteRequest(s);
      controller.enqueue(keyOf(s));
    },
    onUpdate: (oldStream, s) => {
      if (oldStream.metadata.resourceVersion === s.metadata.resourceVersion) return;
      noteRequest(s);
      controller.enqueue(keyOf(s));
      // Followers (ImageStreamTag/ImageStreamImage sources) see a source's new status at once.
      if (!sameJson(oldStream.status?.tags, s.status?.tags)) {
        for (const follower of streams.byIndex(SOURCE_INDEX, keyOf(s))) controller.enqueue(keyOf(follower));
      }
    },
    onDelete: (s) => {
      memory.delete(keyOf(s));
      honouredRequests.delete(keyOf(s));
      requestSeen.delete(keyOf(s));
      for (const follower of streams.byIndex(SOURCE_INDEX, keyOf(s))) controller.enqueue(keyOf(follower));
    },
  });
  // New or changed pull secrets: failed tags of that namespace are retried now, not after backoff.
  const secretChanged = (secret: SecretLike): void => {
    const namespace = secret.metadata?.namespace;
    if (!namespace) return;
    for (const stream of streams.list(namespace)) {
      const state = memory.get(keyOf(stream));
      if (state) {
        // Deleting the memory is not enough: without it the core counts the backoff from when
        // it first saw the stream. An attempt "long ago" with no failures is due at once.
        for (const [tag, tagState] of Object.entries(state.tags)) {
          if (tagState.consecutiveFailures > 0) state.tags[tag] = { lastAttempt: 0, consecutiveFailures: 0 };
        }
      }
      controller.enqueue(keyOf(stream));
    }
  };
  for (const informer of secretInformers) {
    informer.addHandlers({ onAdd: secretChanged, onUpdate: (_old, s) => secretChanged(s) });
  }

  async function reconcile(key: string, rctx: ReconcileContext) {
    const stream = streams.get(key);
    if (!stream) {
      memory.delete(key);
      honouredRequests.delete(key);
      requestSeen.delete(key);
      return;
    }
    const log = rctx.log;
    const startedAt = now();
    const state = memory.get(key);
    const plan = planImports(
      withHandledRequest(stream, honouredRequests.get(key)),
      startedAt,
      state,
      settings,
    );

    // Scheduled-only imports share the cluster-wide budget; other causes are user intent.
    let deferredUntil: number | undefined;
    const tags = plan.tags.filter((t) => {
      if (t.causes.some((c) => c !== "Scheduled")) return true;
      const wait = budget.take(startedAt);
      if (wait === 0) return true;
      deferredUntil = Math.min(deferredUntil ?? Number.POSITIVE_INFINITY, startedAt + wait);
      return false;
    });

    const namespace = stream.metadata.namespace ?? "";
    const keychain = pullSecretKeychain(
      namespace,
      secretInformers.flatMap((inf) => inf.list(namespace)),
    );
    const outcomes: ImportOutcome[] = [];
    for (const tag of tags) outcomes.push(await importTag(stream, tag, keychain, log, rctx.signal));
    let repositoryImported = false;
    if (plan.repository) {
      outcomes.push(...(await importRepository(stream, plan.repository, keychain, log, rctx.signal)));
      repositoryImported = true;
    }
    outcomes.push(...(await crossNamespaceDenials(stream)));

    const sourceStreams = sourceStreamKeys(stream)
      .map((k) => streams.get(k))
      .filter((s): s is ImageStream => s !== undefined);
    const computeInput = {
      outcomes,
      now: new Date(startedAt),
      settings,
      sourceStreams,
      ...(plan.importRequest ? { importRequest: plan.importRequest } : {}),
      repositoryImported,
    };
    let changes: TagChange[] = [];
    let annotations: Record<string, string> | undefined;
    const written = await updateStatusWithRetry<ImageStream>({
      current: stream,
      get: () => getStream(api, stream),
      mutate: (fresh) => {
        const update = computeStatus({ stream: fresh, ...computeInput });
        changes = update?.changes ?? [];
        annotations = update?.annotations;
        if (!update?.status) return undefined;
        return { ...fresh, status: update.status };
      },
      replaceStatus: (obj) => replaceStatus(api, obj),
    });
    // Annotations live outside status; written last so a lost write repeats the round, never skips it.
    if (annotations) await patchAnnotations(api, stream, annotations);
    if (plan.importRequest) {
      honouredRequests.set(key, plan.importRequest);
      requestSeen.delete(key);
    }

    memory.set(key, recordImportAttempts(state, stream, outcomes, startedAt, repositoryImported));
    for (const outcome of outcomes) {
      if (!outcome.ok) ctx.metrics.importResult("failure", outcome.reason);
      else if (changes.some((c) => c.tag === outcome.tag)) ctx.metrics.importResult("success");
      else ctx.metrics.importResult("unchanged");
    }
    if (written.written || annotations) {
      log.info({ imported: outcomes.length, changes: changes.length }, "imagestream status updated");
    } else if (outcomes.length > 0) {
      log.debug({ checked: outcomes.length }, "imagestream unchanged");
    }
    for (const change of changes) recordEvent(stream, change);

    const nextPlan = planImports(
      withHandledRequest(written.object, honouredRequests.get(key)),
      now(),
      memory.get(key),
      settings,
    );
    const next = Math.min(
      nextPlan.nextCheckAt ?? Number.POSITIVE_INFINITY,
      deferredUntil ?? Number.POSITIVE_INFINITY,
    );
    return Number.isFinite(next) ? { requeueAfter: Math.max(1000, next - now()) } : undefined;
  }

  async function importTag(
    stream: ImageStream,
    planned: PlannedTagImport,
    keychain: Keychain,
    log: Logger,
    signal: AbortSignal,
  ): Promise<ImportOutcome> {
    const tagKey = `${keyOf(stream)}:${planned.tag}`;
    const recorded = stream.status?.tags?.find((t) => t.tag === planned.tag)?.items?.[0]?.image;
    const remembered = sourceDigests.get(tagKey);
    const knownDigest = remembered && remembered.recorded === recorded ? remembered.source : recorded;
    try {
      // The registry client refuses hosts of the operator's host policy (Forbidden).
      const ref = parseReference(planned.from);
      const call = { keychain, insecure: planned.insecure, signal };
      // A user's request must see a push made a moment ago: only lookups that started after
      // the controller saw the request answer it (docs/imports.md, "Re-import on demand").
      const freshAfter = planned.causes.includes("Requested") ? requestSeenAt(stream) : undefined;
      const result = await options.registry.inspect(ref, { ...call, knownDigest, freshAfter });
      if (result.kind === "unchanged") {
        return { tag: planned.tag, ok: true, digest: recorded ?? result.digest, pullSpec: planned.from };
      }
      // The digest recorded is the one resolved: a single image, or a list kept whole.
      const recordAsIs = (): ImportOutcome => {
        sourceDigests.delete(tagKey);
        return {
          tag: planned.tag,
          ok: true,
          digest: result.digest,
          pullSpec: planned.from,
          image: toImage(result, planned.from),
        };
      };
      if (result.kind === "image") return recordAsIs();
      const selection = selectFromManifestList(
        { digest: result.digest, entries: imageManifests(result.manifests) },
        planned.importMode,
        {
          ...(planned.preferArch ? { preferArch: planned.preferArch } : {}),
          ...(planned.preferOs ? { preferOs: planned.preferOs } : {}),
          platform: settings.platform ?? { os: "linux", architecture: "amd64" },
        },
      );
      if (!selection.ok)
        return { tag: planned.tag, ok: false, reason: selection.reason, message: selection.message };
      if (planned.importMode === "PreserveOriginal") return recordAsIs();
      const child = await options.registry.fetchPlatformImage(ref, selection.digest, call);
      sourceDigests.set(tagKey, { source: result.digest, recorded: child.digest });
      return {
        tag: planned.tag,
        ok: true,
        digest: child.digest,
        pullSpec: planned.from,
        image: toImage(child, planned.from),
      };
    } catch (err) {
      if (signal.aborted) throw err;
      const failure = failureOf(err);
      log.warn(
        { tag: planned.tag, from: planned.from, reason: failure.reason, err: failure.message },
        "import failed",
      );
      return { tag: planned.tag, ok: false, ...failure };
    }
  }

  async function importRepository(
    stream: ImageStream,
    planned: PlannedRepositoryImport,
    keychain: Keychain,
    log: Logger,
    signal: AbortSignal,
  ): Promise<ImportOutcome[]> {
    try {
      const ref = parseReference(planned.from);
      const specTags = new Set((stream.spec?.tags ?? []).map((t) => t.name));
      const all = await options.registry.listTags(ref, { keychain, insecure: planned.insecure, signal });
      const chosen = selectRepositoryTags(all, planned.limit, specTags);
      const outcomes: ImportOutcome[] = [];
      for (const tag of chosen) {
        const from = `${planned.from}:${tag}`;
        outcomes.push(
          await importTag(
            stream,
            { tag, from, insecure: planned.insecure, importMode: "Legacy", causes: planned.causes },
            keychain,
            log,
            signal,
          ),
        );
      }
      return outcomes;
    } catch (err) {
      if (signal.aborted) throw err;
      // A whole-repository failure has no tag to carry a condition: it is reported as an Event.
      const failure = failureOf(err);
      ctx.events.record(objectRefOf(withKind(stream)), {
        type: "Warning",
        reason: "ImportFailed",
        action: "Import",
        note: `importing repository ${planned.from} failed: ${failure.message}`,
      });
      return [];
    }
  }

  /** When the stream's pending request was first seen; now when it was not (a later time is safe). */
  function requestSeenAt(stream: ImageStream): number {
    const seen = requestSeen.get(keyOf(stream));
    return seen !== undefined && seen.request === pendingImportRequest(stream) ? seen.at : now();
  }

  /** Forbidden outcomes for tags that follow streams of namespaces this one may not read. */
  async function crossNamespaceDenials(stream: ImageStream): Promise<ImportOutcome[]> {
    const namespace = stream.metadata.namespace ?? "";
    const outcomes: ImportOutcome[] = [];
    for (const tag of stream.spec?.tags ?? []) {
      const source = crossNamespaceSource(tag, namespace, stream.metadata.name ?? "");
      if (!source) continue;
      if (await access.allowed(namespace, source)) continue;
      outcomes.push({
        tag: tag.name,
        ok: false,
        reason: ImportReason.Forbidden,
        message: `service accounts of namespace ${namespace} may not get imagestreams in namespace ${source}`,
      });
    }
    return outcomes;
  }

  function recordEvent(stream: ImageStream, change: TagChange): void {
    const ref = objectRefOf(withKind(stream));
    if (change.kind === "Updated") {
      void ctx.events.record(ref, {
        type: "Normal",
        reason: "Imported",
        action: "Import",
        note: `tag ${change.tag} now points to ${change.dockerImageReference}`,
      });
    } else {
      void ctx.events.record(ref, {
        type: "Warning",
        reason: "ImportFailed",
        action: "Import",
        note: `tag ${change.tag}: ${change.reason}: ${change.message}`,
      });
    }
  }

  return {
    name: controller.name,
    start: () => {
      controller.start();
      for (const stream of streams.list()) controller.enqueue(keyOf(stream));
    },
    stop: () => controller.stop(),
  };
}

function keyOf(stream: { metadata?: { namespace?: string; name?: string } }): string {
  return `${stream.metadata?.namespace ?? ""}/${stream.metadata?.name ?? ""}`;
}

/** The stream as the planner should see it: `honoured` recorded as handled even if the cache lags. */
function withHandledRequest(stream: ImageStream, honoured: string | undefined): ImageStream {
  const annotations = stream.metadata.annotations ?? {};
  if (honoured === undefined || annotations[IMPORT_REQUESTED_HANDLED_ANNOTATION] === honoured) return stream;
  return {
    ...stream,
    metadata: {
      ...stream.metadata,
      annotations: { ...annotations, [IMPORT_REQUESTED_HANDLED_ANNOTATION]: honoured },
    },
  };
}

function withKind(stream: ImageStream): ImageStream {
  return { ...stream, apiVersion: API_VERSION, kind: "ImageStream" };
}

function crossNamespaceSource(tag: TagReference, namespace: string, streamName: string): string | undefined {
  const from = tag.from;
  if (!from || (from.kind !== "ImageStreamTag" && from.kind !== "ImageStreamImage")) return undefined;
  if (!from.namespace || from.namespace === namespace) return undefined;
  return parseSourceName(from.kind, from.name, streamName).ok ? from.namespace : undefined;
}

function failureOf(err: unknown): { reason: string; message: string } {
  if (isRegistryError(err)) {
    const reason =
      err.reason === "BadResponse" ||
      err.reason === "InvalidManifest" ||
      err.reason === "Unsupported" ||
      err.reason === "InvalidReference"
        ? ImportReason.Invalid
        : err.reason;
    return { reason, message: err.message };
  }
  return { reason: ImportReason.InternalError, message: err instanceof Error ? err.message : String(err) };
}

async function getStream(api: CustomObjectsApi, stream: ImageStream): Promise<ImageStream> {
  return (await api.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: IMAGESTREAMS.plural,
    namespace: stream.metadata.namespace ?? "",
    name: stream.metadata.name ?? "",
  })) as ImageStream;
}

async function replaceStatus(api: CustomObjectsApi, stream: ImageStream): Promise<ImageStream> {
  return (await api.replaceNamespacedCustomObjectStatus({
    group: GROUP,
    version: VERSION,
    plural: IMAGESTREAMS.plural,
    namespace: stream.metadata.namespace ?? "",
    name: stream.metadata.name ?? "",
    body: stream,
  })) as ImageStream;
}

async function patchAnnotations(
  api: CustomObjectsApi,
  stream: ImageStream,
  annotations: Record<string, string>,
): Promise<void> {
  await api.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      plural: IMAGESTREAMS.plural,
      namespace: stream.metadata.namespace ?? "",
      name: stream.metadata.name ?? "",
      body: { metadata: { annotations } },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}
