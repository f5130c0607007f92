import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hmacSha256Matches, parseJsonObject, secretsEqual } from "../../../src/http/index.ts";

describe("secretsEqual", () => {
  it("accepts exactly the expected secret", () => {
    expect(secretsEqual("Bearer s3cret", "Bearer s3cret")).toBe(true);
    expect(secretsEqual("Bearer s3cre", "Bearer s3cret")).toBe(false);
    expect(secretsEqual("Bearer s3cret ", "Bearer s3cret")).toBe(false);
    expect(secretsEqual(undefined, "Bearer s3cret")).toBe(false);
  });
  it("never accepts when no secret is configured", () => {
    expect(secretsEqual("", "")).toBe(false);
  });
});

describe("hmacSha256Matches", () => {
  const body = Buffer.from('{"action":"published"}');
  const signature = `sha256=${createHmac("sha256", "key").update(body).digest("hex")}`;
  it("checks GitHub's sha256=<hex> over the exact bytes", () => {
    expect(hmacSha256Matches(body, "key", signature)).toBe(true);
    expect(hmacSha256Matches(Buffer.from('{"action":"published" }'), "key", signature)).toBe(false);
    expect(hmacSha256Matches(body, "other", signature)).toBe(false);
    expect(hmacSha256Matches(body, "key", signature.replace("sha256=", "sha1="))).toBe(false);
    expect(hmacSha256Matches(body, "key", "sha256=zz")).toBe(false);
    expect(hmacSha256Matches(body, "key", undefined)).toBe(false);
    expect(hmacSha256Matches(body, "", signature)).toBe(false);
  });
});

describe("parseJsonObject", () => {
  it("parses objects and refuses the rest with a status and reason", () => {
    expect(parseJsonObject(Buffer.from('{"a":1}'))).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonObject(Buffer.from("[1]"))).toMatchObject({
      ok: false,
      status: 400,
      reason: "malformed",
    });
    expect(parseJsonObject(Buffer.from("{"))).toMatchObject({ ok: false, status: 400, reason: "malformed" });
    expect(parseJsonObject(Buffer.from("null"))).toMatchObject({ ok: false, status: 400 });
    expect(parseJsonObject(Buffer.alloc(11, 32), 10)).toMatchObject({
      ok: false,
      status: 413,
      reason: "too-large",
    });
  });
});
