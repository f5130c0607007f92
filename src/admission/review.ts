// admission.k8s.io/v1 AdmissionReview, in and out: parsing a request body into a checked
// AdmissionRequest (or a 4xx problem that names what is wrong), and encoding a decision as the
// AdmissionReview response kube-apiserver expects. Pure: the HTTP server is a shell around this.
import { isRecord } from "../api/index.ts";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";
const ADMISSION_KIND = "AdmissionReview";

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
const OPERATIONS: ReadonlySet<string> = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

/** The requesting user, as kube-apiserver authenticated it (used for SubjectAccessReviews). */
export interface AdmissionUser {
  username: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  /** "" for the main resource. */
  subResource: string;
  /** May be empty on CREATE (generateName). */
  name: string;
  /** "" for cluster-scoped objects. */
  namespace: string;
  operation: AdmissionOperation;
  userInfo: AdmissionUser;
  /** The object as sent (CREATE, UPDATE); JSON data, not yet checked. */
  object: unknown;
  /** The stored object (UPDATE, DELETE). */
  oldObject: unknown;
  dryRun: boolean;
}

/** Why a request body is not an AdmissionReview this server can answer: an HTTP 4xx. */
export interface ReviewProblem {
  status: 400 | 413 | 415;
  message: string;
}

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; problem: ReviewProblem };

/** Request bodies kube-apiserver sends are a few hundred kB at most; anything much larger is not one. */
export const MAX_REVIEW_BYTES = 4 * 1024 * 1024;

/** A 413 for a body of `bytes`, or undefined when it may be an AdmissionReview (the shell stops reading at the limit). */
export function bodySizeProblem(bytes: number): ReviewProblem | undefined {
  if (bytes <= MAX_REVIEW_BYTES) return undefined;
  return {
    status: 413,
    message: `request body is larger than ${MAX_REVIEW_BYTES} bytes: not an AdmissionReview`,
  };
}

/** A problem with the request's Content-Type, or undefined when it is JSON. */
export function contentTypeProblem(contentType: string | undefined): ReviewProblem | undefined {
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (mediaType === "application/json") return undefined;
  return {
    status: 415,
    message: `unsupported Content-Type ${JSON.stringify(contentType ?? "")}: an AdmissionReview is sent as application/json`,
  };
}

function bad(message: string): ParsedReview {
  return { ok: false, problem: { status: 400, message } };
}

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === "string" ? value : undefined;
}

function gvFields(value: unknown, path: string, last: string): [string, string, string] | string {
  if (!isRecord(value)) return `${path} must be an object with group, version and ${last}`;
  const fields: string[] = [];
  for (const key of ["group", "version", last]) {
    const field = value[key] ?? (key === "group" ? "" : undefined);
    if (typeof field !== "string") return `${path}.${key} must be a string`;
    fields.push(field);
  }
  const [group = "", version = "", name = ""] = fields;
  if (!version || !name) return `${path}.version and ${path}.${last} must not be empty`;
  return [group, version, name];
}

function groupVersionKind(value: unknown): GroupVersionKind | string {
  const fields = gvFields(value, "request.kind", "kind");
  return typeof fields === "string" ? fields : { group: fields[0], version: fields[1], kind: fields[2] };
}

function groupVersionResource(value: unknown): GroupVersionResource | string {
  const fields = gvFields(value, "request.resource", "resource");
  return typeof fields === "string" ? fields : { group: fields[0], version: fields[1], resource: fields[2] };
}

function userInfo(value: unknown): AdmissionUser | string {
  if (value === undefined) return { username: "", groups: [], extra: {} };
  if (!isRecord(value)) return "request.userInfo must be an object";
  const username = value.username ?? "";
  if (typeof username !== "string") return "request.userInfo.username must be a string";
  const groups = value.groups ?? [];
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === "string")) {
    return "request.userInfo.groups must be a list of strings";
  }
  const extra: Record<string, string[]> = {};
  if (value.extra !== undefined) {
    if (!isRecord(value.extra)) return "request.userInfo.extra must be an object";
    for (const [key, values] of Object.entries(value.extra)) {
      if (!Array.isArray(values) || !values.every((v) => typeof v === "string")) {
        return `request.userInfo.extra[${JSON.stringify(key)}] must be a list of strings`;
      }
      extra[key] = values;
    }
  }
  const uid = typeof value.uid === "string" && value.uid !== "" ? value.uid : undefined;
  return { username, ...(uid ? { uid } : {}), groups, extra };
}

/**
 * Parses an AdmissionReview request body. Every problem is a 400 naming the field (kube-apiserver
 * never sends such bodies; a 400 with a message beats a crash for whatever else does).
 */
export function parseAdmissionReview(body: string): ParsedReview {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    return bad(`request body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(data)) return bad("request body must be a JSON object (an AdmissionReview)");
  if (data.apiVersion !== ADMISSION_API_VERSION) {
    return bad(
      `unsupported apiVersion ${JSON.stringify(data.apiVersion ?? null)}: this webhook speaks ${ADMISSION_API_VERSION} ` +
        `(list only "v1" in the webhook's admissionReviewVersions)`,
    );
  }
  if (data.kind !== ADMISSION_KIND) {
    return bad(`unsupported kind ${JSON.stringify(data.kind ?? null)}: expected ${ADMISSION_KIND}`);
  }
  const request = data.request;
  if (!isRecord(request)) return bad("AdmissionReview has no request");
  const uid = stringField(request, "uid");
  if (!uid) return bad("request.uid is missing: it must be echoed in the response");
  const operation = stringField(request, "operation");
  if (!operation || !OPERATIONS.has(operation)) {
    return bad(
      `request.operation ${JSON.stringify(request.operation ?? null)} is not CREATE, UPDATE, DELETE or CONNECT`,
    );
  }
  const kind = groupVersionKind(request.kind);
  if (typeof kind === "string") return bad(kind);
  const resource = groupVersionResource(request.resource);
  if (typeof resource === "string") return bad(resource);
  const user = userInfo(request.userInfo);
  if (typeof user === "string") return bad(user);
  for (const key of ["subResource", "name", "namespace"] as const) {
    if (request[key] !== undefined && typeof request[key] !== "string")
      return bad(`request.${key} must be a string`);
  }
  if (request.dryRun !== undefined && typeof request.dryRun !== "boolean")
    return bad("request.dryRun must be a boolean");
  if ((operation === "CREATE" || operation === "UPDATE") && !isRecord(request.object)) {
    return bad(`request.object must be an object for ${operation}`);
  }
  return {
    ok: true,
    request: {
      uid,
      kind,
      resource,
      subResource: stringField(request, "subResource") ?? "",
      name: stringField(request, "name") ?? "",
      namespace: stringField(request, "namespace") ?? "",
      operation: operation as AdmissionOperation,
      userInfo: user,
      object: request.object ?? null,
      oldObject: request.oldObject ?? null,
      dryRun: request.dryRun === true,
    },
  };
}

// ---------------------------------------------------------------- decisions and responses

/** One RFC 6902 operation; `value` is any JSON value. */
export type JsonPatchOp =
  | { op: "add" | "replace" | "test"; path: string; value: unknown }
  | { op: "remove"; path: string };

export type AdmissionDecision =
  | { allowed: true; patch: JsonPatchOp[]; warnings: string[] }
  | {
      allowed: false;
      /** HTTP-like code the client receives (kube-apiserver turns anything below 400 into 403). */
      code: number;
      /** A Kubernetes StatusReason (Forbidden, Invalid, Conflict, NotFound, ...): clients branch on it. */
      reason: string;
      message: string;
      warnings: string[];
    };

export function allow(patch: JsonPatchOp[] = [], warnings: string[] = []): AdmissionDecision {
  return { allowed: true, patch, warnings };
}

export function deny(
  code: number,
  reason: string,
  message: string,
  warnings: string[] = [],
): AdmissionDecision {
  return { allowed: false, code, reason, message, warnings };
}

/**
 * kube-apiserver relays warnings as HTTP Warning headers and truncates long ones (to 256
 * characters once a response carries more than 4 KiB of them); a warning is one line.
 */
export const MAX_WARNING_LENGTH = 256;

export function normalizeWarning(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > MAX_WARNING_LENGTH ? `${line.slice(0, MAX_WARNING_LENGTH - 1)}…` : line;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: "JSONPatch";
  /** Base64 of the JSON Patch document. */
  patch?: string;
  warnings?: string[];
  status?: { status: "Failure"; code: number; reason: string; message: string };
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: typeof ADMISSION_KIND;
  response: AdmissionResponse;
}

/** The AdmissionReview answering request `uid` with `decision`. */
export function reviewResponse(uid: string, decision: AdmissionDecision): AdmissionReviewResponse {
  const warnings = [...new Set(decision.warnings.map(normalizeWarning).filter((w) => w !== ""))];
  const response: AdmissionResponse = { uid, allowed: decision.allowed };
  if (decision.allowed) {
    if (decision.patch.length > 0) {
      response.patchType = "JSONPatch";
      response.patch = Buffer.from(JSON.stringify(decision.patch), "utf8").toString("base64");
    }
  } else {
    response.status = {
      status: "Failure",
      code: decision.code,
      reason: decision.reason,
      message: decision.message,
    };
  }
  if (warnings.length > 0) response.warnings = warnings;
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response };
}
