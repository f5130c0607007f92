import { describe, expect, it } from "vitest";
import {
  errorForStatus,
  errorForTransport,
  parseRetryAfter,
  RegistryError,
} from "../../../src/registry/index.ts";

const ctx = { subject: "r.io/a:1", registry: "r.io" };

describe("errorForStatus", () => {
  it.each([
    [401, "Unauthorized", 'you may not have access to the container image "r.io/a:1"'],
    [403, "Forbidden", 'access to the container image "r.io/a:1" is forbidden by registry "r.io"'],
    [404, "NotFound", 'container image "r.io/a:1" not found'],
    [429, "TooManyRequests", 'registry "r.io" is rate limiting requests'],
    [503, "ServiceUnavailable", /unavailable \(HTTP 503\)/],
    [500, "InternalError", /failed with HTTP 500/],
    [400, "BadResponse", /unexpected HTTP 400/],
  ] as const)("%i -> %s", (status, reason, message) => {
    const err = errorForStatus({ ...ctx, status });
    expect(err.reason).toBe(reason);
    expect(err.message).toMatch(message);
    expect(err.status).toBe(status);
  });

  it("carries Retry-After seconds on 429", () => {
    const err = errorForStatus({ ...ctx, status: 429, retryAfterHeader: "17" });
    expect(err.retryAfter).toBe(17);
    expect(err.message).toMatch(/retry after 17s/);
  });

  it("names a missing blob from the registry's error code", () => {
    const body = JSON.stringify({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown" }] });
    expect(errorForStatus({ ...ctx, status: 404, body }).message).toMatch(/layer or config/);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2024-01-01T00:00:00Z");
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Mon, 01 Jan 2024 00:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Sun, 31 Dec 2023 00:00:30 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe("errorForTransport", () => {
  it("maps refused connections and timeouts to ServiceUnavailable", () => {
    const refused = errorForTransport(Object.assign(new Error("x"), { code: "ECONNREFUSED" }), "r.io");
    expect(refused.reason).toBe("ServiceUnavailable");
    expect(refused.message).toBe('cannot reach registry "r.io" (ECONNREFUSED)');
    const timeout = errorForTransport(new DOMException("t", "TimeoutError"), "r.io");
    expect(timeout.message).toMatch(/did not answer in time/);
  });

  it("maps certificate failures to an error that names the fix", () => {
    const tls = errorForTransport(
      Object.assign(new Error("x"), {
        cause: Object.assign(new Error("y"), { code: "SELF_SIGNED_CERT_IN_CHAIN" }),
      }),
      "r.io",
    );
    expect(tls.reason).toBe("InternalError");
    expect(tls.message).toMatch(/CA bundle.*insecure/);
  });

  it("passes RegistryErrors through", () => {
    const e = new RegistryError("NotFound", "x");
    expect(errorForTransport(e, "r.io")).toBe(e);
  });
});
