import { describe, expect, it } from "vitest";
import type { ImageStream, TagEvent } from "../../../src/api/types.ts";
import {
  changedTags,
  isWorkloadKind,
  newestTagImage,
  tagKeysForStream,
  tagLookupFromStreams,
  triggerKey,
  triggerKeys,
  WORKLOAD_KINDS,
  workloadKindInfo,
} from "../../../src/triggers/index.ts";
import { workload } from "./fixtures.ts";

function event(dockerImageReference: string, generation = 1): TagEvent {
  return { created: "2024-01-01T00:00:00Z", dockerImageReference, image: "sha256:x", generation };
}

function stream(tags: Record<string, TagEvent[] | null>): ImageStream {
  return {
    metadata: { name: "app", namespace: "team" },
    status: { tags: Object.entries(tags).map(([tag, items]) => ({ tag, items })) },
  };
}

describe("triggerKeys", () => {
  it("indexes each active trigger by namespace/stream:tag, sorted and unique", () => {
    const object = workload("Deployment", {
      namespace: "shop",
      containers: [
        { name: "web", image: "a" },
        { name: "side", image: "b" },
        { name: "log", image: "c" },
      ],
      annotation: [
        {
          from: { kind: "ImageStreamTag", name: "web:latest" },
          fieldPath: "spec.template.spec.containers[0].image",
        },
        {
          from: { kind: "ImageStreamTag", name: "base:1", namespace: "images" },
          fieldPath: "spec.template.spec.containers[1].image",
        },
        {
          from: { kind: "ImageStreamTag", name: "web:latest" },
          fieldPath: "spec.template.spec.containers[2].image",
        },
      ],
    });
    expect(triggerKeys(object, "Deployment")).toEqual(["images/base:1", "shop/web:latest"]);
  });

  it("works on metadata-only objects", () => {
    const metadataOnly = {
      metadata: {
        namespace: "shop",
        annotations: {
          "image.openshift.io/triggers": JSON.stringify([
            { from: { kind: "ImageStreamTag", name: "web:1" }, fieldPath: "spec.containers[0].image" },
          ]),
        },
      },
    };
    expect(triggerKeys(metadataOnly, "Pod")).toEqual(["shop/web:1"]);
  });

  it("leaves out paused and malformed triggers", () => {
    const object = workload("Deployment", {
      annotation: [
        {
          from: { kind: "ImageStreamTag", name: "a:1" },
          fieldPath: "spec.template.spec.containers[0].image",
          paused: true,
        },
        { from: { kind: "DockerImage", name: "b:1" }, fieldPath: "spec.template.spec.containers[1].image" },
        { from: { kind: "ImageStreamTag", name: "c:1" }, fieldPath: "spec.containers[0].image" },
      ],
    });
    expect(triggerKeys(object, "Deployment")).toEqual([]);
  });

  it("is empty without the annotation or with invalid JSON", () => {
    expect(triggerKeys(workload("Deployment"), "Deployment")).toEqual([]);
    expect(triggerKeys(workload("Deployment", { annotation: "{" }), "Deployment")).toEqual([]);
  });
});

describe("tag keys", () => {
  it("builds the same key as triggerKeys for a stream's tags", () => {
    expect(triggerKey("team", "app", "v1.2")).toBe("team/app:v1.2");
    expect(tagKeysForStream("team", "app", ["latest", "v1", "latest"])).toEqual([
      "team/app:latest",
      "team/app:v1",
    ]);
    expect(tagKeysForStream("team", "app", new Set<string>())).toEqual([]);
  });
});

describe("newestTagImage and tagLookupFromStreams", () => {
  const app = stream({
    latest: [event("r/app@sha256:2"), event("r/app@sha256:1")],
    empty: [],
    nil: null,
    blank: [event("")],
  });

  it("returns the newest item's pull spec", () => {
    expect(newestTagImage(app, "latest")).toEqual({ dockerImageReference: "r/app@sha256:2" });
  });

  it("returns undefined for a missing stream, tag, history or pull spec", () => {
    expect(newestTagImage(undefined, "latest")).toBeUndefined();
    expect(newestTagImage(app, "missing")).toBeUndefined();
    expect(newestTagImage(app, "empty")).toBeUndefined();
    expect(newestTagImage(app, "nil")).toBeUndefined();
    expect(newestTagImage(app, "blank")).toBeUndefined();
    expect(newestTagImage({ metadata: {} }, "latest")).toBeUndefined();
  });

  it("pulls through the local registry for referencePolicy Local, only when one is configured", () => {
    const local: ImageStream = {
      ...app,
      spec: { tags: [{ name: "latest", referencePolicy: { type: "Local" } }] },
    };
    expect(newestTagImage(local, "latest", "registry.cluster:5000")).toEqual({
      dockerImageReference: "registry.cluster:5000/team/app@sha256:x",
    });
    expect(newestTagImage(local, "latest")).toEqual({ dockerImageReference: "r/app@sha256:2" });
    expect(newestTagImage(app, "latest", "registry.cluster:5000")).toEqual({
      dockerImageReference: "r/app@sha256:2",
    });
  });

  it("looks streams up by namespace and name", () => {
    const seen: string[] = [];
    const lookupTag = tagLookupFromStreams((namespace, name) => {
      seen.push(`${namespace}/${name}`);
      return namespace === "team" && name === "app" ? app : undefined;
    });
    expect(lookupTag("team", "app", "latest")).toEqual({ dockerImageReference: "r/app@sha256:2" });
    expect(lookupTag("other", "app", "latest")).toBeUndefined();
    expect(seen).toEqual(["team/app", "other/app"]);
  });
});

describe("changedTags", () => {
  it("lists tags whose newest image appeared, changed or went away", () => {
    const before = stream({ same: [event("s@1")], moved: [event("m@1")], gone: [event("g@1")] });
    const after = stream({
      same: [event("s@1")],
      moved: [event("m@2"), event("m@1")],
      added: [event("a@1")],
    });
    expect(changedTags(before, after)).toEqual(["added", "gone", "moved"]);
  });

  it("ignores changes that keep every newest image (generation, conditions, older history)", () => {
    const before = stream({ latest: [event("l@2", 1), event("l@1")] });
    const after: ImageStream = {
      metadata: { name: "app", namespace: "team" },
      status: {
        tags: [
          {
            tag: "latest",
            items: [event("l@2", 2)],
            conditions: [{ type: "ImportSuccess", status: "False", generation: 2 }],
          },
        ],
      },
    };
    expect(changedTags(before, after)).toEqual([]);
  });

  it("handles creation and deletion of the stream", () => {
    const app = stream({ b: [event("b@1")], a: [event("a@1")], none: [] });
    expect(changedTags(undefined, app)).toEqual(["a", "b"]);
    expect(changedTags(app, undefined)).toEqual(["a", "b"]);
    expect(changedTags(undefined, undefined)).toEqual([]);
  });
});

describe("workload kinds table", () => {
  it("has the API coordinates of every supported kind", () => {
    expect(
      WORKLOAD_KINDS.map((k) => [
        k.kind,
        k.apiVersion,
        k.group,
        k.version,
        k.plural,
        k.podSpecFieldPath,
        k.podTemplateImmutable,
      ]),
    ).toEqual([
      ["Deployment", "apps/v1", "apps", "v1", "deployments", "spec.template.spec", false],
      ["StatefulSet", "apps/v1", "apps", "v1", "statefulsets", "spec.template.spec", false],
      ["DaemonSet", "apps/v1", "apps", "v1", "daemonsets", "spec.template.spec", false],
      ["ReplicaSet", "apps/v1", "apps", "v1", "replicasets", "spec.template.spec", false],
      ["CronJob", "batch/v1", "batch", "v1", "cronjobs", "spec.jobTemplate.spec.template.spec", false],
      ["Job", "batch/v1", "batch", "v1", "jobs", "spec.template.spec", true],
      ["Pod", "v1", "", "v1", "pods", "spec", false],
    ]);
  });

  it("looks kinds up and rejects others", () => {
    expect(workloadKindInfo("CronJob").podSpecPath).toEqual([
      "spec",
      "jobTemplate",
      "spec",
      "template",
      "spec",
    ]);
    expect(workloadKindInfo("ReplicationController")).toBeUndefined();
    expect(isWorkloadKind("Pod")).toBe(true);
    expect(isWorkloadKind("DeploymentConfig")).toBe(false);
    expect(isWorkloadKind(3)).toBe(false);
  });
});
