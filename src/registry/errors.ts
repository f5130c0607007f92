// Registry failures with OpenShift's condition reasons, so the import controller can copy
// `reason` and `message` into an `ImportSuccess=False` condition unchanged.

export type RegistryErrorReason =
  | "NotFound"
  | "Unauthorized"
  | "Forbidden"
  | "TooManyRequests"
  | "ServiceUnavailable"
  | "InternalError"
  | "BadResponse"
  | "InvalidManifest"
  | "Unsupported"
  | "InvalidReference";

export interface RegistryErrorOptions {
  cause?: unknown;
  /** Seconds to wait before retrying (from `Retry-After`, 429 and 503). */
  retryAfter?: number;
  /** HTTP status that produced the error, when there was one. */
  status?: number;
}

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  readonly reason: RegistryErrorReason;
  readonly retryAfter: number | undefined;
  readonly status: number | undefined;

  constructor(reason: RegistryErrorReason, message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.retryAfter = options.retryAfter;
    this.status = options.status;
  }
}

export function isRegistryError(value: unknown): value is RegistryError {
  return value instanceof RegistryError;
}

/** `Retry-After` is either delta-seconds or an HTTP date; returns whole seconds >= 0. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/** The `errors[].code` values of a distribution error body, e.g. MANIFEST_UNKNOWN, DENIED. */
export function registryErrorCodes(body: string): string[] {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== "object" || parsed === null) return [];
    const errors = (parsed as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    return errors.flatMap((e: unknown) =>
      typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
        ? [(e as { code: string }).code]
        : [],
    );
  } catch {
    return [];
  }
}

export interface StatusContext {
  /** What was asked for, as shown to users: an image reference or a registry host. */
  subject: string;
  registry: string;
  status: number;
  retryAfterHeader?: string | undefined;
  body?: string;
  nowMs?: number;
}

/** Maps an unexpected HTTP status to an error with OpenShift's reason and message style. */
export function errorForStatus(ctx: StatusContext): RegistryError {
  const { status, subject, registry } = ctx;
  const codes = ctx.body ? registryErrorCodes(ctx.body) : [];
  const retryAfter = parseRetryAfter(ctx.retryAfterHeader, ctx.nowMs ?? Date.now());
  const base = { status, ...(retryAfter === undefined ? {} : { retryAfter }) };
  if (status === 401) {
    return new RegistryError(
      "Unauthorized",
      `you may not have access to the container image "${subject}"`,
      base,
    );
  }
  if (status === 403) {
    return new RegistryError(
      "Forbidden",
      `access to the container image "${subject}" is forbidden by registry "${registry}"`,
      base,
    );
  }
  if (status === 404) {
    const what = codes.includes("BLOB_UNKNOWN") ? "a layer or config of container image" : "container image";
    return new RegistryError("NotFound", `${what} "${subject}" not found`, base);
  }
  if (status === 429 || codes.includes("TOOMANYREQUESTS")) {
    const wait = retryAfter === undefined ? "" : `; retry after ${retryAfter}s`;
    return new RegistryError(
      "TooManyRequests",
      `registry "${registry}" is rate limiting requests${wait}`,
      base,
    );
  }
  if (status === 503 || status === 502 || status === 504) {
    return new RegistryError(
      "ServiceUnavailable",
      `registry "${registry}" is unavailable (HTTP ${status}) while importing "${subject}"`,
      base,
    );
  }
  if (status >= 500) {
    return new RegistryError(
      "InternalError",
      `registry "${registry}" failed with HTTP ${status} while importing "${subject}"`,
      base,
    );
  }
  return new RegistryError(
    "BadResponse",
    `unexpected HTTP ${status} from registry "${registry}" for "${subject}"`,
    base,
  );
}

const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code !== "UND_ERR_SOCKET") return code;
    if ((e as { name?: unknown }).name === "TimeoutError") return "ETIMEDOUT";
  }
  return undefined;
}

/** True for TLS handshake and certificate failures (not retried; a setting must change). */
export function isTlsFailure(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && (TLS_CODES.has(code) || code.startsWith("ERR_SSL_") || code.includes("CERT"));
}

/** Maps a transport failure (refused, reset, timeout, TLS) to a RegistryError. */
export function errorForTransport(err: unknown, registry: string): RegistryError {
  if (err instanceof RegistryError) return err;
  const code = errorCode(err) ?? "unknown error";
  if (isTlsFailure(err)) {
    return new RegistryError(
      "InternalError",
      `TLS connection to registry "${registry}" failed (${code}): trust its CA in the controller's CA bundle, or mark the image stream insecure`,
      { cause: err },
    );
  }
  const timedOut = code === "ETIMEDOUT" || code.includes("TIMEOUT");
  return new RegistryError(
    "ServiceUnavailable",
    timedOut
      ? `registry "${registry}" did not answer in time`
      : `cannot reach registry "${registry}" (${code})`,
    { cause: err },
  );
}
