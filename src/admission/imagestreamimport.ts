// oc import-image's ImageStreamImport, answered as OpenShift's API server answers it
// (openshift-apiserver's imagestreamimport REST): validate and default the request, check it
// against the current stream (resourceVersion, uid), say what to fetch from registries, and
// turn the registry outcomes into the stream to write and the object's `status`. The history,
// condition and summary rules are the import core's (recordImportOutcomes); registry calls,
// authorization and writes are the webhook shell's.

import type { ResourceAccess } from "../access/index.ts";
import {
  API_VERSION,
  GROUP,
  type Image,
  type ImageImportSpec,
  type ImageImportStatus,
  type ImageStream,
  type ImageStreamImport,
  type ImageStreamImportStatus,
  type ImportResultStatus,
  importModeOf,
  isRecord,
  type RepositoryImportSpec,
  sameJson,
  type TagImportPolicy,
  type TagReference,
  type TagReferencePolicy,
  validateStreamName,
  validateTagName,
} from "../api/index.ts";
import {
  formatTime,
  type ImportOutcome,
  type ImportSettings,
  INSECURE_REPOSITORY_ANNOTATION,
  joinRepositoryTag,
  mostSpecificPullSpec,
  type PlannedRepositoryImport,
  type PlannedTagImport,
  REPOSITORY_CHECK_ANNOTATION,
  recordImportOutcomes,
  splitPullSpec,
  tagPlatformPreferences,
} from "../imports/index.ts";
import { parseReference } from "../registry/index.ts";
import { type AdmissionDecision, allow, deny, type JsonPatchOp } from "./review.ts";

// ---------------------------------------------------------------- validation and defaults

const IMPORT_MODES = new Set(["", "Legacy", "PreserveOriginal"]);
const REFERENCE_POLICY_TYPES = new Set(["", "Source", "Local"]);

function referenceProblem(name: string): string | undefined {
  try {
    parseReference(name);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function validatePolicies(entry: Record<string, unknown>, path: string, errors: string[]): void {
  const importPolicy = entry.importPolicy;
  if (importPolicy !== undefined && importPolicy !== null) {
    if (!isRecord(importPolicy)) errors.push(`${path}.importPolicy: Invalid value: must be an object`);
    else if (importPolicy.importMode !== undefined && !IMPORT_MODES.has(String(importPolicy.importMode))) {
      errors.push(
        `${path}.importPolicy.importMode: Unsupported value: ${JSON.stringify(importPolicy.importMode)}: supported values: "Legacy", "PreserveOriginal"`,
      );
    }
  }
  const referencePolicy = entry.referencePolicy;
  if (referencePolicy !== undefined && referencePolicy !== null) {
    if (!isRecord(referencePolicy)) errors.push(`${path}.referencePolicy: Invalid value: must be an object`);
    else if (
      referencePolicy.type !== undefined &&
      !REFERENCE_POLICY_TYPES.has(String(referencePolicy.type))
    ) {
      errors.push(
        `${path}.referencePolicy.type: Unsupported value: ${JSON.stringify(referencePolicy.type)}: supported values: "Source", "Local"`,
      );
    }
  }
}

/** The `from` of an image or repository import: a DockerImage with a name, or what is wrong. */
function validateFrom(entry: Record<string, unknown>, path: string, errors: string[]): string | undefined {
  const from = entry.from;
  if (!isRecord(from)) {
    errors.push(`${path}.from: Required value`);
    return undefined;
  }
  if (from.kind !== "DockerImage") {
    errors.push(
      `${path}.from.kind: Unsupported value: ${JSON.stringify(from.kind ?? "")}: supported values: "DockerImage"`,
    );
  }
  if (typeof from.name !== "string" || from.name === "") {
    errors.push(`${path}.from.name: Required value`);
    return undefined;
  }
  const problem = referenceProblem(from.name);
  if (problem) {
    errors.push(`${path}.from.name: Invalid value: ${JSON.stringify(from.name)}: ${problem}`);
    return undefined;
  }
  return from.name;
}

/**
 * OpenShift's ValidateImageStreamImport, with the schema's enums: the webhook runs before the
 * API server validates the object, and must not import anything for a request the schema would
 * refuse. Messages in the API server's `field: Kind of problem: detail` form.
 */
export function validateImageStreamImport(object: unknown): string[] {
  const errors: string[] = [];
  if (!isRecord(object)) return ["the request is not an object"];
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const name = typeof metadata.name === "string" ? metadata.name : "";
  if (name === "") errors.push("metadata.name: Required value: the name of the image stream to import into");
  else {
    const problem = validateStreamName(name);
    if (problem) errors.push(`metadata.name: Invalid value: ${JSON.stringify(name)}: ${problem}`);
  }
  const spec = object.spec;
  if (!isRecord(spec)) return [...errors, "spec: Required value"];
  if (spec.import !== undefined && typeof spec.import !== "boolean") {
    errors.push(`spec.import: Invalid value: ${JSON.stringify(spec.import)}: must be true or false`);
  }
  const images = spec.images ?? [];
  if (!Array.isArray(images)) errors.push("spec.images: Invalid value: must be a list");
  else {
    images.forEach((image, i) => {
      const path = `spec.images[${i}]`;
      if (!isRecord(image)) {
        errors.push(`${path}: Invalid value: must be an object`);
        return;
      }
      validateFrom(image, path, errors);
      if (image.to !== undefined && image.to !== null) {
        const to = isRecord(image.to) ? image.to.name : undefined;
        if (typeof to !== "string" || to === "") {
          errors.push(`${path}.to.name: Invalid value: "": the name of the target tag must be specified`);
        } else {
          const problem = validateTagName(to);
          if (problem) errors.push(`${path}.to.name: Invalid value: ${JSON.stringify(to)}: ${problem}`);
        }
      }
      validatePolicies(image, path, errors);
    });
  }
  const repository = spec.repository;
  if (repository !== undefined && repository !== null) {
    if (!isRecord(repository)) errors.push("spec.repository: Invalid value: must be an object");
    else {
      const from = validateFrom(repository, "spec.repository", errors);
      const parts = from === undefined ? undefined : splitPullSpec(from);
      if (parts && (parts.tag !== undefined || parts.digest !== undefined)) {
        errors.push(
          `spec.repository.from.name: Invalid value: ${JSON.stringify(from)}: ${JSON.stringify(from)} must name a repository without a tag or digest`,
        );
      }
      validatePolicies(repository, "spec.repository", errors);
    }
  }
  const hasImages = Array.isArray(images) && images.length > 0;
  if (!hasImages && !isRecord(repository)) {
    errors.push(
      "spec.images: Invalid value: null: you must specify at least one image or a repository import",
    );
  }
  return errors;
}

/** The tag an image import records: `to.name`, else the tag of `from.name` (OpenShift's default), else none. */
export function targetTag(image: ImageImportSpec): string | undefined {
  if (image.to?.name) return image.to.name;
  return splitPullSpec(image.from.name).tag;
}

// ---------------------------------------------------------------- the request against the stream

export interface ImportRequestPlan {
  /** One per spec.images entry, in order; `tag` is the target tag ("" when the image is only reported). */
  images: PlannedTagImport[];
  repository?: PlannedRepositoryImport;
  /** What the requesting user must be allowed to do (SubjectAccessReview) when spec.import is true. */
  access?: ResourceAccess;
}

export type ImportRequestCheck =
  | { ok: true; isi: ImageStreamImport; plan: ImportRequestPlan }
  | { ok: false; decision: AdmissionDecision };

function invalid(name: string, errors: string[]): AdmissionDecision {
  const detail = errors.length === 1 ? errors[0] : `[${errors.join(", ")}]`;
  return deny(422, "Invalid", `ImageStreamImport.image.openshift.io "${name}" is invalid: ${detail}`);
}

/**
 * Checks an ImageStreamImport against the stream of its name in its namespace (`current`,
 * undefined when there is none) as OpenShift does: a request carrying the stream's
 * resourceVersion or uid needs that very stream (409 Conflict when it changed since, 404 when it
 * is gone or was recreated); a request without them may create the stream. Then: what to fetch.
 */
export function checkImageStreamImport(
  object: unknown,
  namespace: string,
  current: ImageStream | undefined,
  settings: Pick<ImportSettings, "repositoryTagLimit">,
): ImportRequestCheck {
  const errors = validateImageStreamImport(object);
  const meta = isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : "";
  if (errors.length > 0) return { ok: false, decision: invalid(name, errors) };
  const isi = object as ImageStreamImport;
  const resourceVersion = isi.metadata.resourceVersion ?? "";
  const uid = isi.metadata.uid ?? "";
  const notFound = deny(404, "NotFound", `imagestreams.image.openshift.io "${name}" not found`);
  if (!current) {
    if (resourceVersion !== "" || uid !== "") return { ok: false, decision: notFound };
  } else {
    if (resourceVersion !== "" && resourceVersion !== current.metadata.resourceVersion) {
      return {
        ok: false,
        decision: deny(
          409,
          "Conflict",
          `Operation cannot be fulfilled on imagestreams.image.openshift.io "${name}": the image stream was updated from "${resourceVersion}" to "${current.metadata.resourceVersion ?? ""}"`,
        ),
      };
    }
    if (uid !== "" && uid !== current.metadata.uid) return { ok: false, decision: notFound };
  }

  const streamInsecure = current?.metadata.annotations?.[INSECURE_REPOSITORY_ANNOTATION] === "true";
  const existingTag = (tag: string) => current?.spec?.tags?.find((t) => t.name === tag);
  const images = (isi.spec.images ?? []).map((image): PlannedTagImport => {
    const tag = targetTag(image) ?? "";
    const tagRef = tag ? existingTag(tag) : undefined;
    return {
      tag,
      from: image.from.name,
      insecure: streamInsecure || image.importPolicy?.insecure === true,
      importMode: importModeOf(image.importPolicy),
      ...(tagRef ? tagPlatformPreferences(tagRef) : {}),
      causes: ["Requested"],
    };
  });
  const plan: ImportRequestPlan = { images };
  const repository = isi.spec.repository;
  if (repository) {
    plan.repository = {
      from: repository.from.name,
      insecure: streamInsecure || repository.importPolicy?.insecure === true,
      limit: settings.repositoryTagLimit,
      causes: ["Requested"],
    };
  }
  if (isi.spec.import === true) {
    plan.access = {
      verb: current ? "update" : "create",
      group: GROUP,
      resource: "imagestreams",
      namespace,
      ...(current ? { name } : {}),
    };
  }
  return { ok: true, isi, plan };
}

// ---------------------------------------------------------------- outcomes into the stream and the answer

export type RepositoryOutcome =
  | { ok: true; tags: ImportOutcome[]; additionalTags: string[] }
  | { ok: false; reason: string; message: string };

export interface ImportResults {
  /** One per spec.images entry, in order (as planned). */
  images: ImportOutcome[];
  repository?: RepositoryOutcome;
}

/** The spec tag OpenShift's ensureSpecTag leaves: a DockerImage source with the import's policies; a reference policy already set stays. */
function ensuredTag(
  existing: TagReference | undefined,
  tag: string,
  from: string,
  importPolicy: TagImportPolicy | undefined,
  referencePolicy: TagReferencePolicy | undefined,
): TagReference {
  const next: TagReference = existing ? structuredClone(existing) : { name: tag };
  next.from = { kind: "DockerImage", name: from };
  if (importPolicy !== undefined) next.importPolicy = structuredClone(importPolicy);
  else delete next.importPolicy;
  if (!existing?.referencePolicy?.type && referencePolicy !== undefined)
    next.referencePolicy = structuredClone(referencePolicy);
  return next;
}

interface TagWrite {
  tag: string;
  from: string;
  outcome: ImportOutcome;
  importPolicy: TagImportPolicy | undefined;
  referencePolicy: TagReferencePolicy | undefined;
  /** Failures of repository tags leave the spec alone; failures of images create a missing tag. */
  createOnFailure: boolean;
}

function tagWrites(isi: ImageStreamImport, results: ImportResults): TagWrite[] {
  const writes: TagWrite[] = [];
  const repository: RepositoryImportSpec | null | undefined = isi.spec.repository;
  if (repository && results.repository?.ok) {
    for (const outcome of results.repository.tags) {
      writes.push({
        tag: outcome.tag,
        from: joinRepositoryTag(repository.from.name, outcome.tag),
        outcome,
        importPolicy: repository.importPolicy,
        referencePolicy: repository.referencePolicy,
        createOnFailure: false,
      });
    }
  }
  (isi.spec.images ?? []).forEach((image, i) => {
    const tag = targetTag(image);
    const outcome = results.images[i];
    if (!tag || !outcome) return;
    writes.push({
      tag,
      from: image.from.name,
      outcome: { ...outcome, tag },
      importPolicy: image.importPolicy,
      referencePolicy: image.referencePolicy,
      createOnFailure: true,
    });
  });
  return writes;
}

export interface StreamWrite {
  /** The stream to create or to update (metadata and spec; status is written afterwards). */
  stream: ImageStream;
  write: "create" | "update" | "none";
  /** The outcomes to record in status, keyed by the tags they belong to (see importedStatus). */
  outcomes: ImportOutcome[];
}

/**
 * The stream after an import with spec.import true, as OpenShift's REST leaves it: each imported
 * tag (repository tags, then images with a target tag) gets a DockerImage spec tag of its
 * source with the import's policies (its from replaced only when the import brings a different
 * image), a failed image import adds a missing spec tag, and the repository-check annotation
 * records the time. `write` is "none" when the import changes nothing (spec, status, annotation).
 */
export function importedStream(
  isi: ImageStreamImport,
  namespace: string,
  current: ImageStream | undefined,
  results: ImportResults,
  now: Date,
  settings: ImportSettings,
): StreamWrite {
  const base: ImageStream = current
    ? structuredClone(current)
    : {
        apiVersion: API_VERSION,
        kind: "ImageStream",
        metadata: { name: isi.metadata.name ?? "", namespace },
      };
  const tags = [...(base.spec?.tags ?? [])];
  const writes = tagWrites(isi, results);
  for (const write of writes) {
    const at = tags.findIndex((t) => t.name === write.tag);
    const existing = at >= 0 ? tags[at] : undefined;
    let next: TagReference | undefined;
    if (write.outcome.ok) {
      const latest = current?.status?.tags?.find((t) => t.tag === write.tag)?.items?.[0];
      const event = mostSpecificPullSpec(write.outcome.pullSpec ?? write.from, write.outcome.digest);
      const differentImage =
        !latest || latest.dockerImageReference !== event || latest.image !== write.outcome.digest;
      next =
        existing && !differentImage
          ? {
              ...existing,
              ...(write.importPolicy !== undefined
                ? { importPolicy: structuredClone(write.importPolicy) }
                : {}),
            }
          : ensuredTag(existing, write.tag, write.from, write.importPolicy, write.referencePolicy);
    } else if (!existing && write.createOnFailure) {
      next = ensuredTag(undefined, write.tag, write.from, write.importPolicy, write.referencePolicy);
    }
    if (!next) continue;
    if (at >= 0) tags[at] = next;
    else tags.push(next);
  }
  const specChanged = !current || !sameJson(current.spec?.tags ?? [], tags);
  const annotations = { ...(base.metadata.annotations ?? {}) };
  const checked = annotations[REPOSITORY_CHECK_ANNOTATION] !== undefined;
  const outcomes = writes.map((w) => w.outcome);
  // As OpenShift: an import that changes nothing (same images, spec, annotation) writes nothing.
  const statusChanges =
    current !== undefined &&
    recordImportOutcomes({ stream: { ...current, spec: { ...current.spec, tags } }, outcomes, now, settings })
      .status !== undefined;
  const write = !current ? "create" : specChanged || !checked || statusChanges ? "update" : "none";
  if (write !== "none") annotations[REPOSITORY_CHECK_ANNOTATION] = formatTime(now);
  const stream: ImageStream = {
    ...base,
    metadata: { ...base.metadata, annotations },
    spec: { ...base.spec, tags },
  };
  delete stream.status;
  return { stream, write, outcomes };
}

/**
 * The status to write to the stored stream (as it is after the spec write, so events carry its
 * new generation) for the import's outcomes, by the import core's rules; undefined when it
 * already says so.
 */
export function importedStatus(
  stored: ImageStream,
  outcomes: readonly ImportOutcome[],
  now: Date,
  settings: ImportSettings,
): ImageStream["status"] | undefined {
  return recordImportOutcomes({ stream: stored, outcomes, now, settings }).status;
}

const REASON_CODES: Record<string, number> = {
  NotFound: 404,
  Unauthorized: 401,
  Forbidden: 403,
  Conflict: 409,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

function resultStatus(
  outcome: { ok: true } | { ok: false; reason: string; message: string },
): ImportResultStatus {
  if (outcome.ok) return { status: "Success" };
  return {
    status: "Failure",
    reason: outcome.reason,
    message: outcome.message,
    code: REASON_CODES[outcome.reason] ?? 500,
  };
}

function imageOf(outcome: ImportOutcome, from: string): Image | undefined {
  if (!outcome.ok) return undefined;
  const details: Image = outcome.image ? structuredClone(outcome.image) : { dockerImageReference: "" };
  return {
    ...details,
    metadata: { ...(details.metadata ?? {}), name: outcome.digest },
    dockerImageReference: mostSpecificPullSpec(outcome.pullSpec ?? from, outcome.digest),
  };
}

function importStatus(outcome: ImportOutcome, from: string, tag: string | undefined): ImageImportStatus {
  const image = imageOf(outcome, from);
  return { status: resultStatus(outcome), ...(tag ? { tag } : {}), ...(image ? { image } : {}) };
}

/**
 * OpenShift's answer in the ImageStreamImport's status: per image (in spec order) Success with
 * the image or Failure with reason, message and code; the repository's result and the tags
 * beyond the limit; the stream after the import when spec.import is true (`imported`).
 */
export function importAnswer(
  isi: ImageStreamImport,
  results: ImportResults,
  imported?: ImageStream,
): ImageStreamImportStatus {
  const status: ImageStreamImportStatus = {};
  if (imported) status.import = imported;
  const repository = isi.spec.repository;
  if (repository && results.repository) {
    const outcome = results.repository;
    status.repository = outcome.ok
      ? {
          status: { status: "Success" },
          images: outcome.tags.map((t) =>
            importStatus(t, joinRepositoryTag(repository.from.name, t.tag), t.tag),
          ),
          ...(outcome.additionalTags.length > 0 ? { additionalTags: [...outcome.additionalTags] } : {}),
        }
      : { status: resultStatus(outcome) };
  }
  const images = isi.spec.images ?? [];
  if (images.length > 0) {
    status.images = images.map((image, i) => {
      const outcome = results.images[i] ?? {
        tag: "",
        ok: false as const,
        reason: "InternalError",
        message: "the image was not imported",
      };
      return importStatus(outcome, image.from.name, targetTag(image));
    });
  }
  return status;
}

/** The admission decision that stores the answer: status filled in, the stream's resourceVersion taken out (a create may not carry one). */
export function importAnswerDecision(
  isi: ImageStreamImport,
  status: ImageStreamImportStatus,
): AdmissionDecision {
  const patch: JsonPatchOp[] = [{ op: "add", path: "/status", value: status }];
  if (isi.metadata.resourceVersion) patch.push({ op: "remove", path: "/metadata/resourceVersion" });
  return allow(patch);
}
