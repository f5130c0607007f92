import { describe, expect, it } from "vitest";
import {
  AuthorizationCache,
  serviceAccountsAccessReview,
  userAccessReview,
} from "../../../src/access/index.ts";

describe("serviceAccountsAccessReview", () => {
  it("asks whether the namespace's service accounts may get imagestreams in the source namespace", () => {
    expect(serviceAccountsAccessReview("team", "shared")).toEqual({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: "system:serviceaccount:team:default",
        groups: ["system:serviceaccounts", "system:serviceaccounts:team"],
        resourceAttributes: {
          namespace: "shared",
          verb: "get",
          group: "image.openshift.io",
          resource: "imagestreams",
        },
      },
    });
  });
});

describe("userAccessReview", () => {
  it("asks as the requesting user, with uid, groups and extra as authenticated", () => {
    const user = {
      username: "alice",
      uid: "u-1",
      groups: ["dev", "system:authenticated"],
      extra: { scopes: ["s"] },
    };
    expect(
      userAccessReview(user, {
        verb: "update",
        group: "image.openshift.io",
        resource: "imagestreams",
        namespace: "team",
        name: "ruby",
      }),
    ).toEqual({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: "alice",
        uid: "u-1",
        groups: ["dev", "system:authenticated"],
        extra: { scopes: ["s"] },
        resourceAttributes: {
          namespace: "team",
          verb: "update",
          group: "image.openshift.io",
          resource: "imagestreams",
          name: "ruby",
        },
      },
    });
  });

  it("leaves out what the user does not have", () => {
    const review = userAccessReview(
      { username: "bob", groups: [], extra: {} },
      { verb: "create", group: "image.openshift.io", resource: "imagestreams", namespace: "team" },
    );
    expect(review.spec).toEqual({
      user: "bob",
      groups: [],
      resourceAttributes: {
        namespace: "team",
        verb: "create",
        group: "image.openshift.io",
        resource: "imagestreams",
      },
    });
  });
});

describe("AuthorizationCache", () => {
  function setup(answers: Record<string, boolean | Error>) {
    let now = 1_000;
    const calls: string[] = [];
    const cache = new AuthorizationCache(
      async (workloadNamespace, sourceNamespace) => {
        const key = `${workloadNamespace}->${sourceNamespace}`;
        calls.push(key);
        const answer = answers[key];
        if (answer instanceof Error) throw answer;
        return answer ?? false;
      },
      { ttlMs: 60_000, now: () => now },
    );
    return { cache, calls, advance: (ms: number) => (now += ms) };
  }

  it("allows the same namespace without asking", async () => {
    const { cache, calls } = setup({});
    await expect(cache.allowed("team", "team")).resolves.toBe(true);
    expect(calls).toEqual([]);
  });

  it("reuses decisions until they expire, per namespace pair", async () => {
    const { cache, calls, advance } = setup({ "team->shared": true, "other->shared": false });
    await expect(cache.allowed("team", "shared")).resolves.toBe(true);
    await expect(cache.allowed("other", "shared")).resolves.toBe(false);
    advance(59_000);
    await expect(cache.allowed("team", "shared")).resolves.toBe(true);
    await expect(cache.allowed("other", "shared")).resolves.toBe(false);
    expect(calls).toEqual(["team->shared", "other->shared"]);
    advance(2_000);
    await cache.allowed("team", "shared");
    expect(calls).toEqual(["team->shared", "other->shared", "team->shared"]);
  });

  it("shares one review between concurrent callers", async () => {
    const { cache, calls } = setup({ "team->shared": true });
    const results = await Promise.all([cache.allowed("team", "shared"), cache.allowed("team", "shared")]);
    expect(results).toEqual([true, true]);
    expect(calls).toHaveLength(1);
  });

  it("does not cache failures", async () => {
    const { cache, calls } = setup({ "team->shared": new Error("forbidden") });
    await expect(cache.allowed("team", "shared")).rejects.toThrow("forbidden");
    await expect(cache.allowed("team", "shared")).rejects.toThrow("forbidden");
    expect(calls).toHaveLength(2);
  });
});
