import { describe, expect, it } from "vitest";
import { keyFields, keyString } from "../../../src/runtime/index.ts";
import {
  isControlledByOwner,
  type Problem,
  ReportedProblems,
  TRIGGER_ANNOTATION,
  type WorkloadMetadata,
  wantsReconcile,
  workloadChanged,
  workloadEventMatters,
  workloadIndexKeys,
  workloadKey,
} from "../../../src/triggers/index.ts";
import { TRIGGER_INPUTS } from "../../../src/triggers/workload-watch.ts";

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
  it("carry kind, namespace and name as fields, and one canonical string for the queue", () => {
    const key = workloadKey("StatefulSet", meta({ name: "db" }));
    expect(key).toEqual({ kind: "StatefulSet", namespace: "team", name: "db" });
    expect(key && keyString(key)).toBe("StatefulSet:team/db");
    expect(key && keyFields(key)).toEqual({
      key: "StatefulSet:team/db",
      kind: "StatefulSet",
      namespace: "team",
      name: "db",
    });
  });

  it("are not made for objects without a namespace or name", () => {
    expect(workloadKey("Deployment", { metadata: { name: "web" } })).toBeUndefined();
    expect(workloadKey("Deployment", { metadata: { namespace: "team" } })).toBeUndefined();
  });
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

describe("workloadEventMatters", () => {
  it("takes new triggered workloads, updates that matter and deletes of triggered ones", () => {
    expect(workloadEventMatters({ type: "added", object: meta() })).toBe(true);
    expect(workloadEventMatters({ type: "added", object: plain })).toBe(false);
    expect(workloadEventMatters({ type: "added", object: controlled })).toBe(false);
    expect(workloadEventMatters({ type: "updated", old: meta(), object: meta({ generation: 2 }) })).toBe(
      true,
    );
    expect(
      workloadEventMatters({ type: "updated", old: meta(), object: meta({ resourceVersion: "11" }) }),
    ).toBe(false);
    expect(workloadEventMatters({ type: "deleted", object: meta() })).toBe(true);
    expect(workloadEventMatters({ type: "deleted", object: plain })).toBe(false);
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

  it("reports again for a workload created anew under the same name", () => {
    const reported = new ReportedProblems();
    expect(reported.update("Deployment:team/web", [a], "uid-1")).toEqual([a]);
    expect(reported.update("Deployment:team/web", [a], "uid-1")).toEqual([]);
    expect(reported.update("Deployment:team/web", [a], "uid-2")).toEqual([a]);
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

describe("TRIGGER_INPUTS, what the workload caches keep", () => {
  const busy: WorkloadMetadata = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      ...meta().metadata,
      annotations: { [TRIGGER_ANNOTATION]: TRIGGER, "deployment.kubernetes.io/revision": "3" },
      ownerReferences: [
        { kind: "Other", name: "x" },
        { controller: true, kind: "Deployment", name: "web" },
      ],
      labels: { app: "web", "pod-template-hash": "abc" },
      creationTimestamp: "2026-12-01T00:00:00Z",
    } as WorkloadMetadata["metadata"],
  };

  it("keeps names, versions, the trigger annotation and the controller reference, nothing else", () => {
    expect(TRIGGER_INPUTS.keep(busy)).toEqual({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "web",
        namespace: "team",
        uid: "uid-1",
        resourceVersion: "10",
        generation: 1,
        annotations: { [TRIGGER_ANNOTATION]: TRIGGER },
        ownerReferences: [{ controller: true, kind: "Deployment", name: "web" }],
      },
    });
    expect(TRIGGER_INPUTS.keep(plain)).toEqual({
      metadata: { name: "web", namespace: "team", uid: "uid-1", resourceVersion: "10", generation: 1 },
    });
  });

  it("gives every decision of the controller's glue the same answer as the whole object", () => {
    const kept = (w: WorkloadMetadata) => TRIGGER_INPUTS.keep(w) as WorkloadMetadata;
    const fixtures = [busy, meta(), plain, controlled, meta({ generation: 2 }), meta({ annotations: null })];
    for (const w of fixtures) {
      expect(wantsReconcile(kept(w))).toBe(wantsReconcile(w));
      expect(isControlledByOwner(kept(w))).toBe(isControlledByOwner(w));
      expect(workloadIndexKeys(kept(w), "Deployment")).toEqual(workloadIndexKeys(w, "Deployment"));
      expect(workloadKey("Deployment", kept(w))).toEqual(workloadKey("Deployment", w));
      for (const other of fixtures)
        expect(workloadChanged(kept(w), kept(other))).toBe(workloadChanged(w, other));
    }
  });
});
