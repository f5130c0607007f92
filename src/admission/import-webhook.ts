// The shell of oc import-image's webhook: one ImageStreamImport CREATE answered as OpenShift's
// API server answers it, around the core of imagestreamimport.ts. The stream is read fresh (oc
// sends the resourceVersion its GET returned), the requesting user is authorized with a
// SubjectAccessReview, images are fetched with the operator's one registry client (host policy,
// per-registry budget, the namespace's pull secrets) within a deadline below the webhook's
// timeout, the stream is written unless this is a dry run, and the answer goes into the object.
import { randomBytes } from "node:crypto";
import type { ResourceAccess, UserAccessReview } from "../access/index.ts";
import { IMAGESTREAMS, type ImageStream, type ImageStreamImport } from "../api/index.ts";
import {
  failureOf,
  fetchTagImage,
  type ImportOutcome,
  type ImportSettings,
  type PlannedRepositoryImport,
  type PlannedTagImport,
  repositoryTags,
} from "../imports/index.ts";
import type { Logger } from "../log/index.ts";
import {
  type Keychain,
  pullSecretKeychain,
  type RegistryClient,
  type SecretLike,
} from "../registry/index.ts";
import { isConflict, isNotFound, type ObjectApi, updateStatusWithRetry } from "../runtime/index.ts";
import {
  checkImageStreamImport,
  type ImportResults,
  importAnswer,
  importAnswerDecision,
  importedStatus,
  importedStream,
  type RepositoryOutcome,
} from "./imagestreamimport.ts";
import { type AdmissionDecision, type AdmissionRequest, allow, deny, type JsonPatchOp } from "./review.ts";

export interface ImportWebhookDeps {
  objects: ObjectApi;
  registry: RegistryClient;
  /** The pull secrets of a namespace (from the shared caches). */
  secrets: (namespace: string) => SecretLike[];
  access: UserAccessReview;
  settings: ImportSettings;
  /** What the registries get in all; what is not imported by then is a Failure in the answer. */
  timeoutMs: number;
  now?: () => number;
  /** Told about every image import (metrics). */
  onOutcome?: (outcome: ImportOutcome) => void;
}

/** Stored answers get a name of their own, so a second import of the same stream never meets the first's (409). */
export function answerName(stream: string, suffix: string): string {
  return `${stream.slice(0, 253 - suffix.length - 1)}-${suffix}`;
}

function forbidden(request: AdmissionRequest, access: ResourceAccess): AdmissionDecision {
  const user = request.userInfo.username || "system:anonymous";
  const what = access.name
    ? `imagestreams.image.openshift.io "${access.name}"`
    : "imagestreams.image.openshift.io";
  return deny(
    403,
    "Forbidden",
    `${what} is forbidden: User "${user}" cannot ${access.verb} resource "imagestreams" in API group "image.openshift.io" in the namespace "${access.namespace}"`,
  );
}

async function readStream(
  objects: ObjectApi,
  namespace: string,
  name: string,
): Promise<ImageStream | undefined> {
  try {
    return await objects.get<ImageStream>(IMAGESTREAMS, { namespace, name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function answerImageStreamImport(
  request: AdmissionRequest,
  deps: ImportWebhookDeps,
  signal: AbortSignal,
  log: Logger,
): Promise<AdmissionDecision> {
  if (request.operation !== "CREATE" || request.subResource !== "") return allow();
  const now = deps.now ?? Date.now;
  const namespace = request.namespace;
  const metadata = (request.object as { metadata?: { name?: unknown } } | null)?.metadata;
  const name = typeof metadata?.name === "string" ? metadata.name : "";
  const current = name ? await readStream(deps.objects, namespace, name) : undefined;
  const check = checkImageStreamImport(request.object, namespace, current, deps.settings);
  if (!check.ok) return check.decision;
  const { isi, plan } = check;
  if (plan.access && !(await deps.access(request.userInfo, plan.access)))
    return forbidden(request, plan.access);

  const startedAt = now();
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(deps.timeoutMs)]);
  const keychain = pullSecretKeychain(namespace, deps.secrets(namespace));
  const results = await fetchAll(plan.images, plan.repository, { ...deps, keychain, deadline, startedAt });
  for (const outcome of [...results.images, ...(results.repository?.ok ? results.repository.tags : [])])
    deps.onOutcome?.(outcome);

  let imported: ImageStream | undefined;
  if (isi.spec.import === true) {
    const at = new Date(now());
    const written = await writeStream(isi, namespace, current, results, at, deps, request.dryRun);
    if (!written.ok) return written.decision;
    imported = written.stream;
  }
  const answer = importAnswer(isi, results, imported);
  const decision = importAnswerDecision(isi, answer);
  if (!decision.allowed) return decision;
  const stored = answerName(name, randomBytes(3).toString("hex"));
  const rename: JsonPatchOp = { op: "replace", path: "/metadata/name", value: stored };
  log.info(
    {
      namespace,
      name,
      answer: stored,
      images: results.images.length,
      failed: results.images.filter((o) => !o.ok).length,
      repository: results.repository
        ? results.repository.ok
          ? results.repository.tags.length
          : "failed"
        : undefined,
      dryRun: request.dryRun || isi.spec.import !== true,
      ms: now() - startedAt,
    },
    "image stream import answered",
  );
  return allow([...decision.patch, rename], decision.warnings);
}

interface FetchContext extends ImportWebhookDeps {
  keychain: Keychain;
  deadline: AbortSignal;
  startedAt: number;
}

async function fetchOne(planned: PlannedTagImport, ctx: FetchContext): Promise<ImportOutcome> {
  try {
    const fetched = await fetchTagImage(ctx.registry, planned, {
      keychain: ctx.keychain,
      signal: ctx.deadline,
      platform: ctx.settings.platform,
      // oc import-image right after a push sees the push.
      freshAfter: ctx.startedAt,
    });
    return fetched.outcome;
  } catch (err) {
    return { tag: planned.tag, ok: false, ...failure(err, ctx) };
  }
}

function failure(err: unknown, ctx: FetchContext): { reason: string; message: string } {
  if (ctx.deadline.aborted) {
    return {
      reason: "Timeout",
      message: `not imported within ${Math.round(ctx.timeoutMs / 1000)}s (the registry is slow or unreachable)`,
    };
  }
  return failureOf(err);
}

async function fetchAll(
  images: readonly PlannedTagImport[],
  repository: PlannedRepositoryImport | undefined,
  ctx: FetchContext,
): Promise<ImportResults> {
  const repositoryOutcome = async (): Promise<RepositoryOutcome | undefined> => {
    if (!repository) return undefined;
    try {
      const tags = await repositoryTags(ctx.registry, repository, new Set(), {
        keychain: ctx.keychain,
        signal: ctx.deadline,
      });
      const outcomes = await Promise.all(
        tags.chosen.map((tag) =>
          fetchOne(
            {
              tag,
              from: `${repository.from}:${tag}`,
              insecure: repository.insecure,
              importMode: "Legacy",
              causes: repository.causes,
            },
            ctx,
          ),
        ),
      );
      return { ok: true, tags: outcomes, additionalTags: tags.beyondLimit };
    } catch (err) {
      return { ok: false, ...failure(err, ctx) };
    }
  };
  const [imageOutcomes, repositoryResult] = await Promise.all([
    Promise.all(images.map((planned) => fetchOne(planned, ctx))),
    repositoryOutcome(),
  ]);
  return { images: imageOutcomes, ...(repositoryResult ? { repository: repositoryResult } : {}) };
}

type Written = { ok: true; stream: ImageStream } | { ok: false; decision: AdmissionDecision };

function conflict(name: string, message: string): Written {
  return {
    ok: false,
    decision: deny(
      409,
      "Conflict",
      `Operation cannot be fulfilled on imagestreams.image.openshift.io "${name}": ${message}`,
    ),
  };
}

/** Creates or updates the stream (spec, then status at the stored generation); a dry run computes it only. */
async function writeStream(
  isi: ImageStreamImport,
  namespace: string,
  current: ImageStream | undefined,
  results: ImportResults,
  now: Date,
  deps: ImportWebhookDeps,
  dryRun: boolean,
): Promise<Written> {
  const name = isi.metadata.name ?? "";
  const write = importedStream(isi, namespace, current, results, now, deps.settings);
  let stored: ImageStream;
  if (dryRun || write.write === "none") {
    // What the API server would store: the spec written, the generation moved when it changed.
    const generation = (current?.metadata.generation ?? 0) + (write.write === "none" ? 0 : 1);
    stored = {
      ...write.stream,
      metadata: {
        ...(current?.metadata ?? {}),
        ...write.stream.metadata,
        generation: Math.max(generation, 1),
      },
      ...(current?.status ? { status: current.status } : {}),
    };
    if (write.write === "none" && current) stored = current;
    const status = importedStatus(stored, write.outcomes, now, deps.settings);
    return { ok: true, stream: status ? { ...stored, status } : stored };
  }
  try {
    // A merge patch guarded by the stream's resourceVersion (spec.tags is replaced whole).
    stored =
      write.write === "create"
        ? await deps.objects.create(IMAGESTREAMS, write.stream)
        : await deps.objects.mergePatch<ImageStream>(
            IMAGESTREAMS,
            { namespace, name },
            {
              metadata: {
                resourceVersion: current?.metadata.resourceVersion,
                annotations: write.stream.metadata.annotations ?? {},
              },
              spec: write.stream.spec ?? {},
            },
          );
  } catch (err) {
    if (isConflict(err))
      return conflict(name, "the image stream was changed while the image was imported; try again");
    throw err;
  }
  const updated = await updateStatusWithRetry<ImageStream>({
    current: stored,
    get: () => deps.objects.get<ImageStream>(IMAGESTREAMS, { namespace, name }),
    mutate: (fresh) => {
      const status = importedStatus(fresh, write.outcomes, now, deps.settings);
      return status ? { ...fresh, status } : undefined;
    },
    replaceStatus: (obj) => deps.objects.replaceStatus(IMAGESTREAMS, obj),
  });
  return { ok: true, stream: updated.object };
}
