// The ImageStream import controller: the imperative shell around the import core. It reads
// streams and pull secrets from shared caches, asks the core what to import, resolves those
// tags through the registry client, and writes the status the core computes (nothing when
// nothing changed).
import { type AccessReview, AuthorizationCache, subjectAccessReviewFromClient } from "../access/index.ts";
import { API_VERSION, IMAGESTREAMS, type ImageStream } from "../api/index.ts";
import type { Logger } from "../log/index.ts";
import {
  type Keychain,
  pullSecretKeychain,
  type RegistryClient,
  type SecretLike,
} from "../registry/index.ts";
import {
  allOf,
  type ControllerContext,
  type ControllerHandle,
  eventTypes,
  fieldChanged,
  keyOf,
  keyString,
  type ObjectApi,
  type ObjectKey,
  objectRefOf,
  ownKey,
  type ReconcileContext,
  resourceVersionChanged,
  updateStatusWithRetry,
} from "../runtime/index.ts";
import { changeEvents } from "./change-events.ts";
import { retryFailedTagsOnNewSecrets, secretVersions } from "./credential-changes.ts";
import { failureOf } from "./failures.ts";
import { fetchTagImage, repositoryTags } from "./fetch.ts";
import {
  type ImportOutcome,
  ImportReason,
  type ImportSettings,
  type PlannedRepositoryImport,
  type PlannedTagImport,
  type StreamImportState,
  type TagChange,
} from "./model.ts";
import { pendingImportRequest, planImports, recordImportAttempts } from "./plan.ts";
import {
  type HonouredRequests,
  lookupFreshness,
  notYetShown,
  pendingTagRequests,
  RequestBatches,
  withHandledRequest,
} from "./requests.ts";
import { admitScheduledImports, scheduledImportBudget } from "./schedule.ts";
import { pullSecretInformers } from "./secret-informers.ts";
import { crossNamespaceSource, sourceStreamKeys } from "./sources.ts";
import { computeStatus } from "./status.ts";

const SOURCE_INDEX = "source-stream";
/** Streams given the same request value at most this far apart are one request (RequestBatches). */
const REQUEST_BATCH_GAP_MS = 10_000;

export interface ImportControllerOptions {
  registry: RegistryClient;
  now?: () => number;
  /** Decides whether `namespace`'s service accounts may read ImageStreams of `sourceNamespace`. */
  accessReview?: AccessReview;
  /** Reads streams and writes their status and annotations (default: the context's object API). */
  api?: ObjectApi;
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
  const secretInformers = pullSecretInformers(ctx.informers);
  const api = options.api ?? ctx.objects;
  const access = new AuthorizationCache(options.accessReview ?? subjectAccessReviewFromClient(ctx.kc));
  let budget = scheduledImportBudget(ctx.config.scheduledImportsPerMinute);
  /** Per stream (by key string): what the core remembers about its imports. */
  const memory = new Map<string, StreamImportState>();
  /** Per stream: the pull secret versions its last round saw (new ones retry failed tags at once). */
  const secretsSeen = new Map<string, readonly string[]>();
  /**
   * Per stream: the re-import and tag requests last honoured. The "handled" annotations are
   * written after status, so the cache can show the new status before them: without this a
   * request ran twice.
   */
  const honouredRequests = new Map<string, HonouredRequests>();
  /**
   * Per stream: when the controller first saw its pending re-import request. Registry lookups
   * started after that are fresh enough for it (a push made before the request is seen) and
   * are shared by every stream and tag that asked for the same reference.
   */
  const requestSeen = new Map<string, { request: string; at: number }>();
  const requestBatches = new RequestBatches(REQUEST_BATCH_GAP_MS);
  const noteRequest = (s: ImageStream): void => {
    const request = requestIdentity(s);
    if (request !== undefined && requestSeen.get(keyString(keyOf(s)))?.request !== request) {
      requestSeen.set(keyString(keyOf(s)), { request, at: requestBatches.madeAt(request, now()) });
    }
  };
  /**
   * Per stream: when the controller first saw its current spec (generation). Lookups started
   * after that are fresh enough for the tags that spec adds or changes (Initial, SpecChanged):
   * at a cold start, 30,000 new tags naming 30 references cost 30 lookups, and a push made
   * before the stream was applied is still seen. Dropped after a round without failures.
   */
  const specSeen = new Map<string, { generation: number; at: number }>();
  const noteSpec = (s: ImageStream): void => {
    const generation = s.metadata.generation;
    const key = keyString(keyOf(s));
    if (generation !== undefined && specSeen.get(key)?.generation !== generation)
      specSeen.set(key, { generation, at: now() });
  };
  /** Per tag: the manifest-list digest a Legacy import last resolved, so an unchanged list costs one HEAD. */
  const sourceDigests = new Map<string, { source: string; recorded: string }>();

  streams.addIndex(SOURCE_INDEX, (stream) => sourceStreamKeys(stream).map(keyString));
  const followersOf = (stream: ImageStream): ObjectKey[] =>
    streams.byIndex(SOURCE_INDEX, keyString(keyOf(stream))).map(keyOf);
  const namespaceSecrets = (namespace: string): SecretLike[] =>
    secretInformers.flatMap((informer) => informer.list(namespace));

  const controller = ctx
    .controller<ObjectKey>({
      name: "imagestream-import",
      concurrency: ctx.config.importWorkers,
      reconcile: (key, rctx) => reconcile(key, rctx),
    })
    // Requests and new specs are noted when the change is seen, not when it is reconciled.
    .watch(streams, {
      map: ownKey,
      predicate: resourceVersionChanged,
      observe: (s) => {
        noteRequest(s);
        noteSpec(s);
      },
    })
    // Followers (ImageStreamTag/ImageStreamImage sources) see a source's new status at once.
    .watch(streams, {
      map: followersOf,
      predicate: allOf(
        eventTypes("updated", "deleted"),
        fieldChanged((s: ImageStream) => s.status?.tags),
      ),
    });
  // New or changed pull secrets: the namespace's streams are looked at now (failed tags retry).
  for (const informer of secretInformers) {
    controller.watch(informer, {
      map: (secret) => (secret.metadata?.namespace ? streams.list(secret.metadata.namespace).map(keyOf) : []),
      predicate: eventTypes("added", "updated"),
    });
  }

  async function reconcile(objectKey: ObjectKey, rctx: ReconcileContext) {
    const key = keyString(objectKey);
    const stream = streams.get(objectKey);
    if (!stream) {
      memory.delete(key);
      secretsSeen.delete(key);
      honouredRequests.delete(key);
      requestSeen.delete(key);
      specSeen.delete(key);
      return;
    }
    const log = rctx.log;
    const startedAt = now();
    const namespace = stream.metadata.namespace ?? "";
    const secrets = namespaceSecrets(namespace);
    const seenSecrets = secretVersions(secrets);
    const remembered = retryFailedTagsOnNewSecrets(memory.get(key), secretsSeen.get(key), seenSecrets);
    // Forgotten once the cache shows them handled: 10,000 streams after a request held 1.7 MiB.
    const honoured = notYetShown(stream, honouredRequests.get(key));
    if (honoured) honouredRequests.set(key, honoured);
    else honouredRequests.delete(key);
    const plan = planImports(withHandledRequest(stream, honoured), startedAt, remembered, settings);

    // Scheduled-only imports share the cluster-wide budget: a slot now, or one reserved for later.
    const admitted = admitScheduledImports(plan.tags, remembered, budget, startedAt);
    budget = admitted.budget;
    const state = admitted.state;

    const keychain = pullSecretKeychain(namespace, secrets);
    const outcomes: ImportOutcome[] = [];
    for (const tag of admitted.tags) outcomes.push(await importTag(stream, tag, keychain, log, rctx.signal));
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
      ...(plan.tagRequest ? { tagRequest: plan.tagRequest } : {}),
      repositoryImported,
    };
    let changes: TagChange[] = [];
    let annotations: Record<string, string> | undefined;
    const written = await updateStatusWithRetry<ImageStream>({
      current: stream,
      get: () => api.get<ImageStream>(IMAGESTREAMS, objectKey),
      mutate: (fresh) => {
        const update = computeStatus({ stream: fresh, ...computeInput });
        changes = update?.changes ?? [];
        annotations = update?.annotations;
        if (!update?.status) return undefined;
        return { ...fresh, status: update.status };
      },
      replaceStatus: (obj) => api.replaceStatus(IMAGESTREAMS, obj),
    });
    // Annotations live outside status; written last so a lost write repeats the round, never skips it.
    if (annotations) await api.mergePatch(IMAGESTREAMS, objectKey, { metadata: { annotations } });
    if (plan.importRequest || plan.tagRequest) {
      honouredRequests.set(key, {
        ...honouredRequests.get(key),
        ...(plan.importRequest ? { request: plan.importRequest } : {}),
        ...(plan.tagRequest ? { tagRequest: plan.tagRequest } : {}),
      });
      requestSeen.delete(key);
    }

    if (outcomes.every((o) => o.ok)) specSeen.delete(key);
    memory.set(key, recordImportAttempts(state, stream, outcomes, startedAt, repositoryImported));
    secretsSeen.set(key, seenSecrets);
    for (const outcome of outcomes) {
      if (!outcome.ok) ctx.metrics.importResult("failure", outcome.reason);
      else if (changes.some((c) => c.tag === outcome.tag)) ctx.metrics.importResult("success");
      else ctx.metrics.importResult("unchanged");
    }
    // The tags checked, by name: enough to follow each tag's schedule in the log.
    const checked = outcomes.map((o) => o.tag);
    if (written.written || annotations) {
      log.info(
        { imported: outcomes.length, changes: changes.length, tags: checked },
        "imagestream status updated",
      );
    } else if (outcomes.length > 0) {
      log.debug({ checked: outcomes.length, tags: checked }, "imagestream unchanged");
    }
    recordEvents(stream, changes);

    const nextPlan = planImports(
      withHandledRequest(written.object, honouredRequests.get(key)),
      now(),
      memory.get(key),
      settings,
    );
    // Due tags count too (deferred, or due since the round started): the stream comes back for them.
    const next = nextPlan.nextCheckAt;
    return next === undefined ? undefined : { requeueAfter: Math.max(1000, next - now()) };
  }

  async function importTag(
    stream: ImageStream,
    planned: PlannedTagImport,
    keychain: Keychain,
    log: Logger,
    signal: AbortSignal,
  ): Promise<ImportOutcome> {
    const tagKey = `${keyString(keyOf(stream))}:${planned.tag}`;
    const recorded = stream.status?.tags?.find((t) => t.tag === planned.tag)?.items?.[0]?.image;
    const remembered = sourceDigests.get(tagKey);
    const knownDigest = remembered && remembered.recorded === recorded ? remembered.source : recorded;
    try {
      const freshAfter = lookupFreshness(planned.causes, {
        request: requestSeenAt(stream),
        spec: specSeenAt(stream),
      });
      const fetched = await fetchTagImage(options.registry, planned, {
        keychain,
        signal,
        platform: settings.platform,
        ...(recorded !== undefined ? { recordedDigest: recorded } : {}),
        ...(knownDigest !== undefined ? { knownDigest } : {}),
        ...(freshAfter !== undefined ? { freshAfter } : {}),
      });
      // A list imported as one of its platforms: its digest confirms the next import with one HEAD.
      if (fetched.listDigest !== undefined && fetched.outcome.ok)
        sourceDigests.set(tagKey, { source: fetched.listDigest, recorded: fetched.outcome.digest });
      else if (fetched.outcome.ok && fetched.outcome.image) sourceDigests.delete(tagKey);
      return fetched.outcome;
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
      const specTags = new Set((stream.spec?.tags ?? []).map((t) => t.name));
      const { chosen } = await repositoryTags(options.registry, planned, specTags, { keychain, signal });
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

  /** When the controller first saw the stream's current spec; now when it did not (a later time is safe). */
  function specSeenAt(stream: ImageStream): number {
    const seen = specSeen.get(keyString(keyOf(stream)));
    return seen !== undefined && seen.generation === stream.metadata.generation ? seen.at : now();
  }

  /** When the stream's pending requests were first seen; now when they were not (a later time is safe). */
  function requestSeenAt(stream: ImageStream): number {
    const seen = requestSeen.get(keyString(keyOf(stream)));
    return seen !== undefined && seen.request === requestIdentity(stream) ? seen.at : now();
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

  function recordEvents(stream: ImageStream, changes: readonly TagChange[]): void {
    const ref = objectRefOf(withKind(stream));
    for (const event of changeEvents(changes)) void ctx.events.record(ref, { ...event, action: "Import" });
  }

  return controller;
}

/** The pending requests of a stream as one value: a new value is a new request to be seen. */
function requestIdentity(stream: ImageStream): string | undefined {
  const request = pendingImportRequest(stream);
  const tags = pendingTagRequests(stream)?.value;
  return request === undefined && tags === undefined ? undefined : `${request ?? ""}\n${tags ?? ""}`;
}

function withKind(stream: ImageStream): ImageStream {
  return { ...stream, apiVersion: API_VERSION, kind: "ImageStream" };
}
