// The container projection the controller plans from between reads: it must plan exactly as
// the full object would, and say when it can no longer be trusted.
import { describe, expect, it } from "vitest";
import {
  evaluateWorkload,
  projectedWorkload,
  projectionIsCurrent,
  projectWorkload,
  WORKLOAD_KINDS,
  type WorkloadKind,
  type WorkloadMetadata,
  type WorkloadResource,
  workloadKindInfo,
} from "../../../src/triggers/index.ts";
import { lookup, workload } from "./fixtures.ts";

const DIGEST = "registry.example/team/app@sha256:aaaa";

function full(kind: WorkloadKind, annotation: unknown): WorkloadResource {
  const base = workload(kind, {
    annotation,
    containers: [
      { name: "web", image: "nginx:1" },
      { name: "sidecar", image: "busybox:1" },
    ],
    initContainers: [{ name: "setup" }],
  });
  return { ...base, metadata: { ...base.metadata, uid: "u1", generation: 3, resourceVersion: "10" } };
}

function metadataOf(object: WorkloadResource): WorkloadMetadata {
  return { apiVersion: object.apiVersion, kind: object.kind, metadata: { ...object.metadata } };
}

const triggers = (kind: WorkloadKind) => {
  const spec = workloadKindInfo(kind).podSpecFieldPath;
  return [
    {
      from: { kind: "ImageStreamTag", name: "app:latest" },
      fieldPath: `${spec}.containers[?(@.name=="sidecar")].image`,
    },
    { from: { kind: "ImageStreamTag", name: "app:latest" }, fieldPath: `${spec}.initContainers[0].image` },
    {
      from: { kind: "ImageStreamTag", name: "app:latest" },
      fieldPath: `${spec}.containers[?(@.name=="gone")].image`,
    },
  ];
};

describe("projectWorkload", () => {
  it("keeps only container names and images, at their positions, under the kind's pod spec path", () => {
    const object = full("Deployment", triggers("Deployment"));
    const withExtras = structuredClone(object) as { spec: { template: { spec: Record<string, unknown> } } };
    withExtras.spec.template.spec.volumes = [{ name: "data" }];
    (withExtras.spec.template.spec.containers as Record<string, unknown>[])[0] = {
      name: "web",
      image: "nginx:1",
      env: [{ name: "A", value: "x".repeat(1000) }],
    };
    (withExtras.spec.template.spec.containers as unknown[]).push("not a container");
    const projection = projectWorkload(withExtras as WorkloadResource, "Deployment");
    expect(projection).toEqual({
      uid: "u1",
      generation: 3,
      resourceVersion: "10",
      spec: {
        template: {
          spec: {
            containers: [{ name: "web", image: "nginx:1" }, { name: "sidecar", image: "busybox:1" }, null],
            initContainers: [{ name: "setup", image: undefined }],
          },
        },
      },
    });
  });

  it("plans every kind exactly as the full object does: changes, patch and problems", () => {
    for (const { kind } of WORKLOAD_KINDS) {
      const object = full(kind, triggers(kind));
      const planned = evaluateWorkload(
        projectedWorkload(projectWorkload(object, kind), metadataOf(object)),
        kind,
        lookup({ "team/app:latest": DIGEST }),
      );
      expect(planned, kind).toEqual(evaluateWorkload(object, kind, lookup({ "team/app:latest": DIGEST })));
      expect(
        planned.problems.map((p) => p.reason),
        kind,
      ).toContain("TriggerContainerNotFound");
    }
  });

  it("reports a missing pod spec as the full object would", () => {
    const object: WorkloadResource = { ...full("Deployment", triggers("Deployment")), spec: { replicas: 1 } };
    const planned = evaluateWorkload(
      projectedWorkload(projectWorkload(object, "Deployment"), metadataOf(object)),
      "Deployment",
      lookup({}),
    );
    expect(planned).toEqual(evaluateWorkload(object, "Deployment", lookup({})));
  });

  it("plans with the cached annotations, so a trigger edited since the read applies", () => {
    const object = full("Deployment", triggers("Deployment"));
    const projection = projectWorkload(object, "Deployment");
    const cached = metadataOf(full("Deployment", [triggers("Deployment")[0]]));
    const planned = evaluateWorkload(
      projectedWorkload(projection, cached),
      "Deployment",
      lookup({ "team/app:latest": DIGEST }),
    );
    expect(planned.problems).toEqual([]);
    expect(planned.changes.map((c) => c.name)).toEqual(["sidecar"]);
  });
});

describe("projectionIsCurrent", () => {
  const projection = projectWorkload(full("Deployment", []), "Deployment");
  const cached = (metadata: Record<string, unknown>): WorkloadMetadata => ({
    metadata: { name: "app", ...metadata },
  });

  it("holds while the generation has not moved past the projection's", () => {
    expect(projectionIsCurrent(projection, cached({ uid: "u1", generation: 3, resourceVersion: "11" }))).toBe(
      true,
    );
    // Our own patch's answer can be ahead of the cache.
    expect(projectionIsCurrent(projection, cached({ uid: "u1", generation: 2, resourceVersion: "9" }))).toBe(
      true,
    );
    expect(projectionIsCurrent(projection, cached({ uid: "u1", generation: 4, resourceVersion: "12" }))).toBe(
      false,
    );
  });

  it("does not hold for another object of the same name", () => {
    expect(projectionIsCurrent(projection, cached({ uid: "u2", generation: 3 }))).toBe(false);
    expect(projectionIsCurrent(projection, cached({ generation: 3 }))).toBe(false);
  });

  it("needs the same resourceVersion where there is no generation", () => {
    const noGeneration = { ...projection, generation: undefined };
    expect(projectionIsCurrent(noGeneration, cached({ uid: "u1", resourceVersion: "10" }))).toBe(true);
    expect(projectionIsCurrent(noGeneration, cached({ uid: "u1", resourceVersion: "11" }))).toBe(false);
    expect(projectionIsCurrent(projection, cached({ uid: "u1", resourceVersion: "10" }))).toBe(true);
    expect(projectionIsCurrent(projection, cached({ uid: "u1", resourceVersion: "11" }))).toBe(false);
  });
});
