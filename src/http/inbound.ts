// What every inbound webhook (registry notifications, external registry receivers) shares:
// constant-time secret and HMAC checks, bounded JSON bodies, and one shape for a refusal
// (an HTTP status with a reason for metrics and a message for the debug log line).

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { isRecord } from "../api/index.ts";

export interface Rejection {
  ok: false;
  /** 400 malformed, 401 unverified, 413 too large, 415 wrong content type, 404 unknown hook. */
  status: 400 | 401 | 404 | 413 | 415;
  /** Short, bounded label for a metric (`bad-signature`, `malformed`, ...). */
  reason: string;
  /** Human message for the debug line; never contains a secret. */
  message: string;
}

export function reject(status: Rejection["status"], reason: string, message: string): Rejection {
  return { ok: false, status, reason, message };
}

/**
 * Compares a presented secret with the expected one in constant time. Both are hashed
 * first so that neither their contents nor their lengths leak through timing.
 */
export function secretsEqual(presented: string | undefined, expected: string): boolean {
  if (presented === undefined || expected === "") return false;
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** `sha256=<hex>` (GitHub's X-Hub-Signature-256) over the exact body bytes, checked in constant time. */
export function hmacSha256Matches(body: Buffer, secret: string, signature: string | undefined): boolean {
  if (!signature?.startsWith("sha256=") || secret === "") return false;
  const given = Buffer.from(signature.slice("sha256=".length), "hex");
  const expected = createHmac("sha256", secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Default bound of a webhook body; registries send a few kilobytes. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/**
 * Parses a JSON object body of at most `maxBytes` (the shell also stops reading there; a
 * body of exactly `maxBytes + 1` bytes means "more was sent").
 */
export function parseJsonObject(
  body: Buffer,
  maxBytes: number = MAX_WEBHOOK_BODY_BYTES,
): { ok: true; value: Record<string, unknown> } | Rejection {
  if (body.length > maxBytes) return reject(413, "too-large", `body exceeds ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (error) {
    return reject(400, "malformed", `body is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return reject(400, "malformed", "body is not a JSON object");
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** A header value as one string (the first of repeated headers). */
export function headerValue(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Narrowing helpers for payload fields. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
