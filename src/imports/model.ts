// Plain-data shapes of the import core. They are independent of the registry client: the
// controller translates whatever the client returns into these before calling the core.

import type { EffectiveImportMode, Image } from "../api/index.ts";

/** Annotation a user (or the CLI) sets to request a re-import of every importable tag. Any new value is a new request. */
export const IMPORT_REQUESTED_ANNOTATION = "image.openshift.io/import-requested";
/** Annotation where the controller records the request value it honoured, so each request runs once. */
export const IMPORT_REQUESTED_HANDLED_ANNOTATION = "image.openshift.io/import-requested-handled";
/**
 * Tags to import now, as `{"<tag>": "<request id>"}` JSON (a new id is a new request; `*` is every
 * tag of `spec.dockerImageRepository`): what receivers write for the leader's import controller.
 */
export const IMPORT_REQUESTED_TAGS_ANNOTATION = "image.openshift.io/import-requested-tags";
/** The tag requests the controller honoured (the request annotation's value it imported). */
export const IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION = "image.openshift.io/import-requested-tags-handled";
/** In a tag request: every tag of `spec.dockerImageRepository`. */
export const EVERY_REPOSITORY_TAG = "*";
/** OpenShift's annotation: time of the last repository check (RFC3339). Removing it forces a full import. */
export const REPOSITORY_CHECK_ANNOTATION = "openshift.io/image.dockerRepositoryCheck";
/** OpenShift's stream annotation that marks every tag of the stream as insecure. */
export const INSECURE_REPOSITORY_ANNOTATION = "openshift.io/image.insecureRepository";
export const PREFER_ARCH_ANNOTATION = "importer.image.openshift.io/prefer-arch";
export const PREFER_OS_ANNOTATION = "importer.image.openshift.io/prefer-os";

/** Condition reasons in OpenShift's style (they are Kubernetes StatusReason values). */
export const ImportReason = {
  NotFound: "NotFound",
  Unauthorized: "Unauthorized",
  Forbidden: "Forbidden",
  TooManyRequests: "TooManyRequests",
  ServiceUnavailable: "ServiceUnavailable",
  InternalError: "InternalError",
  Invalid: "Invalid",
  Conflict: "Conflict",
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImportSettings {
  /** Maximum `items` kept per status tag (OpenShift keeps them until pruned). */
  historyLimit: number;
  /** Tags imported from `spec.dockerImageRepository`; -1 means unlimited. */
  repositoryTagLimit: number;
  /** Interval of scheduled imports. */
  scheduleIntervalMs: number;
  /** First retry delay after a failed import; doubles per consecutive failure. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Registry host (`host[:port]`) that serves `<host>/<namespace>/<name>`, if the cluster has one. */
  localRegistryHost?: string;
  /** Public host of that registry, for `status.publicDockerImageRepository`. */
  publicRegistryHost?: string;
  /** Platform picked from manifest lists in Legacy mode when the tag states no preference. */
  platform?: Platform;
}

export const DEFAULT_IMPORT_SETTINGS: Readonly<ImportSettings> = Object.freeze({
  historyLimit: 25,
  repositoryTagLimit: 50,
  scheduleIntervalMs: 15 * 60_000,
  backoffBaseMs: 10_000,
  backoffMaxMs: 10 * 60_000,
});

/** A resolved import: `digest` is the manifest digest to record (already chosen for lists). */
export interface ImportSucceeded {
  tag: string;
  ok: true;
  digest: string;
  /** The reference that was resolved, as written by the user (`redis:2`); defaults to the tag's source. */
  pullSpec?: string;
  image?: Image;
}

export interface ImportFailed {
  tag: string;
  ok: false;
  /** OpenShift-style reason, see `ImportReason`. */
  reason: string;
  message: string;
}

export type ImportOutcome = ImportSucceeded | ImportFailed;

/** Controller memory about one tag (lost on restart; the core falls back to status). */
export interface TagImportState {
  /** Epoch ms of the last import attempt, successful or not. */
  lastAttempt: number;
  consecutiveFailures: number;
}

/** Controller memory about one stream. */
export interface StreamImportState {
  /** Epoch ms when this memory started (controller start); spreads checks of tags it knows nothing about. */
  since: number;
  tags: Record<string, TagImportState>;
  /** `metadata.generation` at the last `spec.dockerImageRepository` import. */
  repositoryGeneration?: number;
  /**
   * Scheduled tags that were due while the cluster-wide budget was taken: the budget slot each
   * holds (epoch ms). The tag is due again at that slot, and its import then takes no other slot.
   */
  reservedSlots?: Record<string, number>;
}

export type ImportCause = "Initial" | "SpecChanged" | "Requested" | "Scheduled" | "Retry";

export interface PlannedTagImport {
  tag: string;
  /** The source pull spec (`from.name`). */
  from: string;
  insecure: boolean;
  importMode: EffectiveImportMode;
  /** Platform preferences from the tag's annotations (Legacy mode). */
  preferArch?: string;
  preferOs?: string;
  causes: ImportCause[];
}

export interface PlannedRepositoryImport {
  from: string;
  insecure: boolean;
  /** Maximum tags to import; -1 unlimited. */
  limit: number;
  causes: ImportCause[];
}

export interface ImportPlan {
  tags: PlannedTagImport[];
  repository?: PlannedRepositoryImport;
  /** The re-import request honoured by this round; pass it to `computeStatus`. */
  importRequest?: string;
  /** The tag request honoured by this round (the annotation's value); pass it to `computeStatus`. */
  tagRequest?: string;
  /**
   * When the stream must be looked at again (epoch ms): the earliest time a tag is due, due tags
   * included, so a time at or before `now` means work is pending now. Undefined only when no tag
   * will ever be due without a change to the stream (nothing scheduled, failing or planned).
   */
  nextCheckAt?: number;
}

/** What changed for one tag in `computeStatus`, for Events and metrics. */
export type TagChange =
  | { tag: string; kind: "Updated"; image: string; dockerImageReference: string }
  | { tag: string; kind: "Failed"; reason: string; message: string };
