// The one error type for Kubernetes API errors, and the one way of reading a status code out of
// whatever a Kubernetes call threw: client-node's ApiException (`code`, a Status `body`), its
// Watch (`statusCode`), a bare Status object (a watch ERROR event), or this runtime's own.
import { isRecord } from "../api/index.ts";

/** An error response from the API server, with its HTTP status and Status reason. */
export class KubeApiError extends Error {
  readonly statusCode: number;
  /** The Status reason, e.g. "NotFound", "Conflict", "Invalid", "Expired". */
  readonly reason: string | undefined;

  constructor(statusCode: number, message: string, reason?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KubeApiError";
    this.statusCode = statusCode;
    this.reason = reason;
  }

  /** The API error `err` carries, as a KubeApiError (keeping `err` as the cause); undefined when none. */
  static from(err: unknown): KubeApiError | undefined {
    if (err instanceof KubeApiError) return err;
    if (!isRecord(err) && !(err instanceof Error)) return undefined;
    const record = err as Record<string, unknown>;
    const body = statusBody(record.body);
    const statusCode =
      [record.code, record.statusCode, record.status, body?.code].find(isHttpStatus) ?? undefined;
    if (statusCode === undefined) return undefined;
    const serverMessage =
      typeof body?.message === "string"
        ? body.message
        : typeof record.body === "string" && record.body !== "" && body === undefined
          ? record.body
          : typeof record.message === "string" && record.kind === "Status"
            ? record.message
            : undefined;
    const reason =
      typeof body?.reason === "string"
        ? body.reason
        : typeof record.reason === "string" && record.kind === "Status"
          ? record.reason
          : undefined;
    return new KubeApiError(statusCode, serverMessage ?? `HTTP ${statusCode}`, reason, { cause: err });
  }
}

function isHttpStatus(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 100 && value < 600;
}

/** A Status object from an error body (an object, or JSON text), or undefined. */
function statusBody(body: unknown): Record<string, unknown> | undefined {
  if (isRecord(body)) return body;
  if (typeof body !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A KubeApiError from a Kubernetes Status body (or its absence). */
export function errorFromStatus(statusCode: number, body: unknown): KubeApiError {
  const message = isRecord(body) && typeof body.message === "string" ? body.message : `HTTP ${statusCode}`;
  const reason = isRecord(body) && typeof body.reason === "string" ? body.reason : undefined;
  return new KubeApiError(statusCode, message, reason);
}

/** The HTTP status of the API error `err` carries; undefined when there is none. */
export function httpStatusOf(err: unknown): number | undefined {
  return KubeApiError.from(err)?.statusCode;
}

export const isNotFound = (err: unknown): boolean => httpStatusOf(err) === 404;
export const isConflict = (err: unknown): boolean => httpStatusOf(err) === 409;
export const isGone = (err: unknown): boolean => httpStatusOf(err) === 410;
/** 422: the object (or a JSON Patch `test`) was refused by validation. */
export const isInvalid = (err: unknown): boolean => httpStatusOf(err) === 422;
