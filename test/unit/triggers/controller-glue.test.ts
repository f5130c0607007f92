import { describe, expect, it } from "vitest";
import {
  AuthorizationCache,
  isControlledByOwner,
  type Problem,
  parseWorkloadQueueKey,
  ReportedProblems,
  serviceAccountsAccessReview,
  TRIGGER_ANNOTATION,
  type WorkloadMetadata,
  wantsReconcile,
  workloadChanged,
  workloadIndexKeys,
  workloadQueueKey,
} from "../../../src/triggers/index.ts";

const TRIGGER = JSON.stringify([
  {
    from: { kind: "ImageStreamTag", name: "app:latest" },
    fieldPath: "spec.template.spec.containers[0].image",
  },
  {
    from: { kind: "ImageStreamTag", name: "tools:v1", namespace: "shared" },
    fieldPath: 'spec.template.spec.initContainers[?(@.name=="init")].image',
  },
  {
    from: { kind: "ImageStreamTag", name: "paused:x" },
    fieldPath: "spec.template.spec.containers[1].image",
    paused: true,
  },
]);

function meta(overrides: Partial<NonNullable<WorkloadMetadata["metadata"]>> = {}): WorkloadMetadata {
  return {
    metadata: {
      name: "web",
      namespace: "team",
      uid: "uid-1",
      resourceVersion: "10",
      generation: 1,
      annotations: { [TRIGGER_ANNOTATION]: TRIGGER },
      ...overrides,
    },
  };
}

const plain = meta({ annotations: { other: "x" } });
const controlled = meta({ ownerReferences: [{ controller: true, kind: "Deployment", name: "web" }] });

describe("queue keys", () => {
  it("round-trips kind, namespace and name", () => {
    const key = workloadQueueKey("StatefulSet", "team", "db");
    expect(key).toBe("team/StatefulSet/db");
    expect(parseWorkloadQueueKey(key)).toEqual({ kind: "StatefulSet", namespace: "team", name: "db" });
  });

  it.each(["team/db", "team/Secret/db", "/Deployment/db", "team/Deployment/", "a/Deployment/b/c", ""])(
    "rejects %j",
    (key) => {
      expect(parseWorkloadQueueKey(key)).toBeUndefined();
    },
  );
});

describe("which workloads the controller acts on", () => {
  it("acts on annotated workloads without a controlling owner", () => {
    expect(wantsReconcile(meta())).toBe(true);
    expect(wantsReconcile(plain)).toBe(false);
    expect(wantsReconcile({})).toBe(false);
  });

  it("leaves objects managed by another controller alone (a Deployment's ReplicaSets)", () => {
    expect(isControlledByOwner(controlled)).toBe(true);
    expect(wantsReconcile(controlled)).toBe(false);
    // A non-controller owner reference (e.g. garbage collection only) does not count.
    const owned = meta({ ownerReferences: [{ controller: false, kind: "Thing", name: "x" }] });
    expect(wantsReconcile(owned)).toBe(true);
  });
});

describe("workloadChanged", () => {
  it("ignores status-only updates (same generation)", () => {
    expect(workloadChanged(meta(), meta({ resourceVersion: "11" }))).toBe(false);
  });

  it("reacts to spec edits (generation), annotation edits and annotation removal", () => {
    expect(workloadChanged(meta(), meta({ generation: 2 }))).toBe(true);
    expect(workloadChanged(meta(), meta({ annotations: { [TRIGGER_ANNOTATION]: "[]" } }))).toBe(true);
    expect(workloadChanged(meta(), plain)).toBe(true);
    expect(workloadChanged(plain, meta())).toBe(true);
  });

  it("ignores every change of workloads without triggers", () => {
    expect(workloadChanged(plain, { metadata: { ...plain.metadata, generation: 5 } })).toBe(false);
  });

  it("reacts to gaining or losing a controlling owner", () => {
    expect(workloadChanged(meta(), controlled)).toBe(true);
    expect(
      workloadChanged(
        controlled,
        meta({ generation: 2, ownerReferences: controlled.metadata?.ownerReferences ?? null }),
      ),
    ).toBe(false);
  });

  it("falls back to resourceVersion for objects without a generation", () => {
    const pod = meta({ generation: undefined });
    expect(workloadChanged(pod, meta({ generation: undefined, resourceVersion: "11" }))).toBe(true);
    expect(workloadChanged(pod, meta({ generation: undefined }))).toBe(false);
  });
});

describe("workloadIndexKeys", () => {
  it("indexes the tags of active triggers, with the default namespace filled in", () => {
    expect(workloadIndexKeys(meta(), "Deployment")).toEqual(["shared/tools:v1", "team/app:latest"]);
  });

  it("indexes nothing for unannotated, controlled or malformed workloads", () => {
    expect(workloadIndexKeys(plain, "Deployment")).toEqual([]);
    expect(workloadIndexKeys(controlled, "Deployment")).toEqual([]);
    expect(
      workloadIndexKeys(meta({ annotations: { [TRIGGER_ANNOTATION]: "{not json" } }), "Deployment"),
    ).toEqual([]);
  });
});

describe("ReportedProblems", () => {
  const a: Problem = { reason: "InvalidTrigger", message: "triggers[0]: bad" };
  const b: Problem = { reason: "TriggerContainerNotFound", message: "container web not found" };

  it("reports each problem once per workload until it goes away", () => {
    const reported = new ReportedProblems();
    expect(reported.update("uid-1", [a])).toEqual([a]);
    expect(reported.update("uid-1", [a])).toEqual([]);
    expect(reported.update("uid-1", [a, b])).toEqual([b]);
    // Another workload with the same problem is reported on its own.
    expect(reported.update("uid-2", [a])).toEqual([a]);
    // Fixed, then back: reported again.
    expect(reported.update("uid-1", [])).toEqual([]);
    expect(reported.update("uid-1", [a])).toEqual([a]);
  });

  it("forgets workloads without problems or deleted ones", () => {
    const reported = new ReportedProblems();
    reported.update("uid-1", [a]);
    reported.update("uid-2", [b]);
    reported.update("uid-1", []);
    reported.forget("uid-2");
    expect(reported.size).toBe(0);
    expect(reported.update("uid-2", [b])).toEqual([b]);
  });
});

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
