// The import rules that used to live in the controller (the scheduled-import budget is in
// schedule.test.ts): the retry of failed tags when pull secrets change, failure reasons, honoured requests and sources.
import { describe, expect, it } from "vitest";
import {
  crossNamespaceSource,
  failureOf,
  IMPORT_REQUESTED_HANDLED_ANNOTATION,
  IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION,
  retryFailedTagsOnNewSecrets,
  type StreamImportState,
  secretVersions,
  sourceStreamKeys,
  withHandledRequest,
} from "../../../src/imports/index.ts";
import { RegistryError } from "../../../src/registry/index.ts";
import { D1, dockerTag, stream } from "./fixtures.ts";

describe("retryFailedTagsOnNewSecrets", () => {
  const state: StreamImportState = {
    since: 1,
    tags: {
      failing: { lastAttempt: 500, consecutiveFailures: 3 },
      fine: { lastAttempt: 600, consecutiveFailures: 0 },
    },
  };
  const seen = secretVersions([{ metadata: { name: "pull", resourceVersion: "7" } }]);

  it("forgets the backoff of failed tags when a secret appears or changes", () => {
    const added = secretVersions([
      { metadata: { name: "pull", resourceVersion: "7" } },
      { metadata: { name: "new", resourceVersion: "9" } },
    ]);
    const changed = secretVersions([{ metadata: { name: "pull", resourceVersion: "8" } }]);
    for (const current of [added, changed]) {
      expect(retryFailedTagsOnNewSecrets(state, seen, current)).toEqual({
        since: 1,
        tags: {
          failing: { lastAttempt: 0, consecutiveFailures: 0 },
          fine: { lastAttempt: 600, consecutiveFailures: 0 },
        },
      });
    }
    // The memory passed in is left as it was.
    expect(state.tags.failing?.consecutiveFailures).toBe(3);
  });

  it("changes nothing for the same secrets, a deletion, or without an earlier look", () => {
    expect(retryFailedTagsOnNewSecrets(state, seen, seen)).toBe(state);
    expect(retryFailedTagsOnNewSecrets(state, seen, [])).toBe(state);
    expect(retryFailedTagsOnNewSecrets(state, undefined, seen)).toBe(state);
    expect(retryFailedTagsOnNewSecrets(undefined, seen, [])).toBeUndefined();
  });

  it("names secret versions by name and resourceVersion, in a stable order", () => {
    expect(
      secretVersions([
        { metadata: { name: "b", resourceVersion: "2" } },
        { metadata: { name: "a", resourceVersion: "5" } },
      ]),
    ).toEqual(["a@5", "b@2"]);
  });
});

describe("failureOf", () => {
  it("keeps registry reasons, and calls answers the operator cannot use Invalid", () => {
    expect(failureOf(new RegistryError("NotFound", "manifest unknown"))).toEqual({
      reason: "NotFound",
      message: "manifest unknown",
    });
    for (const reason of ["BadResponse", "InvalidManifest", "Unsupported", "InvalidReference"] as const) {
      expect(failureOf(new RegistryError(reason, "odd")).reason).toBe("Invalid");
    }
  });

  it("reports anything else as an InternalError with its message", () => {
    expect(failureOf(new Error("socket hang up"))).toEqual({
      reason: "InternalError",
      message: "socket hang up",
    });
    expect(failureOf("plain")).toEqual({ reason: "InternalError", message: "plain" });
  });
});

describe("withHandledRequest", () => {
  it("records the honoured request when the cache does not show it yet", () => {
    const s = stream([dockerTag("a", "redis:2")]);
    const seen = withHandledRequest(s, { request: "r1" });
    expect(seen.metadata.annotations?.[IMPORT_REQUESTED_HANDLED_ANNOTATION]).toBe("r1");
    expect(s.metadata.annotations).toBeUndefined();
    expect(withHandledRequest(seen, { request: "r1" })).toBe(seen);
    expect(withHandledRequest(s, undefined)).toBe(s);
  });

  it("records an honoured tag request the same way", () => {
    const s = stream([dockerTag("a", "redis:2")]);
    const seen = withHandledRequest(s, { tagRequest: '{"a":"1"}' });
    expect(seen.metadata.annotations?.[IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION]).toBe('{"a":"1"}');
    expect(withHandledRequest(seen, { tagRequest: '{"a":"1"}' })).toBe(seen);
  });
});

describe("sources", () => {
  const follower = stream(
    [
      { name: "a", from: { kind: "ImageStreamTag", name: "base:1", namespace: "shared" } },
      { name: "b", from: { kind: "ImageStreamImage", name: `base@${D1}`, namespace: "shared" } },
      { name: "c", from: { kind: "ImageStreamTag", name: "a" } },
      { name: "d", from: { kind: "ImageStreamTag", name: "bad:tag:x", namespace: "other" } },
      dockerTag("e", "redis:2"),
    ],
    null,
  );

  it("lists each followed stream once, as typed keys", () => {
    expect(sourceStreamKeys(follower)).toEqual([
      { namespace: "shared", name: "base" },
      { namespace: "ns", name: "app" },
    ]);
  });

  it("names the other namespace a tag reads from, when there is one", () => {
    const tags = follower.spec?.tags ?? [];
    expect(tags.map((t) => crossNamespaceSource(t, "ns", "app"))).toEqual([
      "shared",
      "shared",
      undefined,
      undefined,
      undefined,
    ]);
  });
});
