import { describe, expect, it } from "vitest";
import {
  type AdmissionRequest,
  LOOKUP_KINDS,
  lookupDecision,
  lookupKindByAlias,
  lookupKindOf,
  parseLookupName,
  resolveImageLookups,
} from "../../../src/admission/index.ts";
import { type ImageStream, type PodTemplateKind, RESOLVE_NAMES_ANNOTATION } from "../../../src/api/index.ts";
import { applyPatch, D1, D2, D3, dockerTag, imageStream, imported, NS, workload } from "./fixtures.ts";

const RUBY_25 = `registry.example.com/ruby@${D1}`;
const RUBY_33 = `registry.example.com/ruby@${D2}`;

/** ruby: lookup on, 2.5 and 3.3 imported (2.5 has an older image D3 too), latest follows 3.3, 2.6 not imported. */
function ruby(extra: Partial<{ lookup: boolean }> = {}): ImageStream {
  return imageStream(
    "ruby",
    [
      dockerTag("2.5", "registry.example.com/ruby:2.5"),
      dockerTag("3.3", "registry.example.com/ruby:3.3"),
      { name: "latest", from: { kind: "ImageStreamTag", name: "3.3" } },
      dockerTag("2.6", "registry.example.com/ruby:2.6"),
    ],
    [
      imported(
        "2.5",
        [RUBY_25, D1, "2024-05-01T10:00:00Z"],
        [`registry.example.com/ruby@${D3}`, D3, "2024-04-01T10:00:00Z"],
      ),
      imported("3.3", [RUBY_33, D2]),
      imported("latest", [RUBY_33, D2]),
    ],
    { lookup: extra.lookup ?? true },
  );
}

function streams(...list: ImageStream[]): (name: string) => ImageStream | undefined {
  return (name) => list.find((s) => s.metadata.name === name);
}

function kind(name: string): PodTemplateKind {
  const found = LOOKUP_KINDS.find((k) => k.kind === name);
  if (!found) throw new Error(`no kind ${name}`);
  return found;
}

function lookup(
  object: Record<string, unknown>,
  opts: {
    kind?: string;
    operation?: "CREATE" | "UPDATE";
    subResource?: string;
    list?: ImageStream[];
    localRegistryHost?: string;
  } = {},
) {
  return resolveImageLookups({
    kind: kind(opts.kind ?? String(object.kind)),
    operation: opts.operation ?? "CREATE",
    subResource: opts.subResource ?? "",
    namespace: NS,
    object,
    stream: streams(...(opts.list ?? [ruby()])),
    settings: opts.localRegistryHost ? { localRegistryHost: opts.localRegistryHost } : {},
  });
}

/** The value of the first patch operation. */
function firstValue(result: { patch: ReturnType<typeof lookup>["patch"] }): unknown {
  const op = result.patch[0];
  return op && "value" in op ? op.value : undefined;
}

/** The container images of the object after the lookup's patch. */
function imagesAfter(
  object: Record<string, unknown>,
  result: ReturnType<typeof lookup>,
  path: string[],
): unknown {
  let current: unknown = applyPatch(object, result.patch);
  for (const key of path) current = (current as Record<string, unknown>)[key];
  return (current as Array<{ image: string }>).map((c) => c.image);
}

describe("parseLookupName", () => {
  it("reads single-component names: stream, stream:tag, stream@digest (a digest wins over a tag)", () => {
    expect(parseLookupName("ruby")).toEqual({ stream: "ruby", tag: "latest" });
    expect(parseLookupName("ruby:2.5")).toEqual({ stream: "ruby", tag: "2.5" });
    expect(parseLookupName("my.app-x:V1_rc")).toEqual({ stream: "my.app-x", tag: "V1_rc" });
    expect(parseLookupName(`ruby@${D1}`)).toEqual({ stream: "ruby", digest: D1 });
    expect(parseLookupName(`ruby:2.5@${D1}`)).toEqual({ stream: "ruby", digest: D1 });
  });

  it("is not a lookup name with a registry host, a path, or an invalid reference or stream name", () => {
    for (const image of [
      "docker.io/ruby:2.5",
      "library/ruby:2.5",
      "localhost:5000/ruby",
      `registry.example.com/team/ruby@${D1}`,
      "Ruby:2.5",
      "ruby:bad/tag",
      "ruby:",
      " ruby:2.5",
      "",
      "ruby@sha256:abc",
      "web--app:1",
      "my_app:1",
    ]) {
      expect(parseLookupName(image), image).toBeUndefined();
    }
  });
});

describe("resolveImageLookups: what resolves", () => {
  it.each(LOOKUP_KINDS.map((k) => k.kind))(
    "%s: ruby:2.5 becomes the tag's newest digest pull spec",
    (name) => {
      const object = workload(name, "ruby:2.5");
      const result = lookup(object);
      const spec = kind(name).podSpecPath;
      expect(result.patch).toEqual([
        { op: "replace", path: `/${spec.join("/")}/containers/0/image`, value: RUBY_25 },
      ]);
      expect(imagesAfter(object, result, [...spec, "containers"])).toEqual([RUBY_25]);
      expect(result.warnings).toEqual([]);
      expect(result.resolved).toEqual([
        { containerList: "containers", index: 0, container: "web", from: "ruby:2.5", to: RUBY_25 },
      ]);
    },
  );

  it("a bare stream name means its latest tag (an alias here, resolved through the alias's own history)", () => {
    const result = lookup(workload("Deployment", "ruby"));
    expect(firstValue(result)).toBe(RUBY_33);
  });

  it("stream@digest resolves to that image of the stream's history, also an older one", () => {
    expect(firstValue(lookup(workload("Pod", `ruby@${D3}`)))).toBe(`registry.example.com/ruby@${D3}`);
    expect(firstValue(lookup(workload("Pod", `ruby:2.5@${D2}`)))).toBe(RUBY_33);
  });

  it("resolves init containers and every matching container, leaving the others as written", () => {
    const object = workload("Deployment", "ruby:2.5");
    const spec = (object.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    spec.containers = [
      { name: "web", image: "ruby:2.5" },
      { name: "sidecar", image: "docker.io/library/busybox:1" },
      { name: "worker", image: "ruby:3.3" },
      { name: "nameless" },
    ];
    spec.initContainers = [{ name: "setup", image: "ruby" }];
    const result = lookup(object);
    const path = ["spec", "template", "spec"];
    expect(imagesAfter(object, result, [...path, "containers"])).toEqual([
      RUBY_25,
      "docker.io/library/busybox:1",
      RUBY_33,
      undefined,
    ]);
    expect(imagesAfter(object, result, [...path, "initContainers"])).toEqual([RUBY_33]);
  });

  it("ephemeral containers only through the Pod's ephemeralcontainers subresource", () => {
    const object = workload("Pod", "ruby:2.5");
    (object.spec as Record<string, unknown>).ephemeralContainers = [{ name: "debug", image: "ruby:3.3" }];
    const main = lookup(object, { operation: "UPDATE" });
    expect(main.patch.map((p) => p.path)).toEqual(["/spec/containers/0/image"]);
    const sub = lookup(object, { operation: "UPDATE", subResource: "ephemeralcontainers" });
    expect(sub.patch).toEqual([{ op: "replace", path: "/spec/ephemeralContainers/0/image", value: RUBY_33 }]);
    expect(lookup(object, { operation: "UPDATE", subResource: "status" }).patch).toEqual([]);
  });

  it("honours referencePolicy Local like the trigger controller: through the local registry when one is configured", () => {
    const local = imageStream(
      "ruby",
      [dockerTag("2.5", "registry.example.com/ruby:2.5", { referencePolicy: { type: "Local" } })],
      [imported("2.5", [RUBY_25, D1])],
      { lookup: true },
    );
    expect(
      firstValue(lookup(workload("Pod", "ruby:2.5"), { list: [local], localRegistryHost: "reg.local:5000" })),
    ).toBe(`reg.local:5000/${NS}/ruby@${D1}`);
    expect(
      firstValue(
        lookup(workload("Pod", `ruby@${D1}`), { list: [local], localRegistryHost: "reg.local:5000" }),
      ),
    ).toBe(`reg.local:5000/${NS}/ruby@${D1}`);
    expect(firstValue(lookup(workload("Pod", "ruby:2.5"), { list: [local] }))).toBe(RUBY_25);
    // referencePolicy {type: ""} (OpenShift's catalog) is Source.
    const empty = imageStream(
      "ruby",
      [dockerTag("2.5", "x", { referencePolicy: { type: "" } })],
      [imported("2.5", [RUBY_25, D1])],
      { lookup: true },
    );
    expect(
      firstValue(lookup(workload("Pod", "ruby:2.5"), { list: [empty], localRegistryHost: "reg.local:5000" })),
    ).toBe(RUBY_25);
  });

  it("a reference tag resolves to the pull spec it records", () => {
    const ref = imageStream(
      "tools",
      [{ name: "v1", from: { kind: "DockerImage", name: "quay.example.com/tools:v1" }, reference: true }],
      [imported("v1", ["quay.example.com/tools:v1", ""])],
      { lookup: true },
    );
    expect(firstValue(lookup(workload("Pod", "tools:v1"), { list: [ref] }))).toBe(
      "quay.example.com/tools:v1",
    );
  });
});

describe("resolveImageLookups: when", () => {
  it("a stream without lookupPolicy.local is left alone, without a warning", () => {
    for (const off of [ruby({ lookup: false }), imageStream("ruby", [], [imported("2.5", [RUBY_25, D1])])]) {
      expect(lookup(workload("Deployment", "ruby:2.5"), { list: [off] })).toEqual({
        patch: [],
        warnings: [],
        resolved: [],
      });
    }
  });

  it('resolve-names "*" on the pod template or on the object resolves every stream of the namespace', () => {
    const off = ruby({ lookup: false });
    const onTemplate = workload("Deployment", "ruby:2.5", {
      templateAnnotations: { [RESOLVE_NAMES_ANNOTATION]: "*" },
    });
    expect(firstValue(lookup(onTemplate, { list: [off] }))).toBe(RUBY_25);
    const onObject = workload("Deployment", "ruby:2.5", { annotations: { [RESOLVE_NAMES_ANNOTATION]: "*" } });
    expect(firstValue(lookup(onObject, { list: [off] }))).toBe(RUBY_25);
    const pod = workload("Pod", "ruby:2.5", { annotations: { [RESOLVE_NAMES_ANNOTATION]: "*" } });
    expect(firstValue(lookup(pod, { list: [off] }))).toBe(RUBY_25);
    const cron = workload("CronJob", "ruby:2.5", {
      templateAnnotations: { [RESOLVE_NAMES_ANNOTATION]: "*" },
    });
    expect(lookup(cron, { list: [off] }).patch[0]?.path).toBe(
      "/spec/jobTemplate/spec/template/spec/containers/0/image",
    );
    const other = workload("Deployment", "ruby:2.5", {
      templateAnnotations: { [RESOLVE_NAMES_ANNOTATION]: "ruby" },
    });
    expect(lookup(other, { list: [off] }).patch).toEqual([]);
  });

  it("names of streams that do not exist in the namespace, and other registries' images, pass unchanged", () => {
    for (const image of ["python:3.12", "docker.io/library/ruby:2.5", "team/ruby:2.5", RUBY_25]) {
      expect(lookup(workload("Deployment", image))).toEqual({ patch: [], warnings: [], resolved: [] });
    }
  });

  it("skips objects a controller owns (their owner's template was resolved) and Job updates (immutable template)", () => {
    const owned = workload("Pod", "ruby:2.5");
    (owned.metadata as Record<string, unknown>).ownerReferences = [
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "app-1", uid: "u", controller: true },
    ];
    expect(lookup(owned).patch).toEqual([]);
    const notController = workload("Pod", "ruby:2.5");
    (notController.metadata as Record<string, unknown>).ownerReferences = [
      { apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "u" },
    ];
    expect(lookup(notController).patch).toHaveLength(1);
    expect(lookup(workload("Job", "ruby:2.5"), { operation: "UPDATE" }).patch).toEqual([]);
    expect(lookup(workload("Job", "ruby:2.5"), { operation: "CREATE" }).patch).toHaveLength(1);
    expect(lookup(workload("Deployment", "ruby:2.5"), { operation: "UPDATE" }).patch).toHaveLength(1);
  });

  it("survives objects of any shape", () => {
    for (const object of [
      { kind: "Deployment" },
      { kind: "Deployment", spec: null },
      { kind: "Deployment", spec: { template: { spec: { containers: "x" } } } },
      { kind: "Deployment", spec: { template: { spec: { containers: [null, 3, { image: 5 }] } } } },
    ]) {
      expect(lookup(object)).toEqual({ patch: [], warnings: [], resolved: [] });
    }
  });
});

describe("resolveImageLookups: warnings for what cannot resolve yet", () => {
  it("a tag that exists but has no image yet passes unchanged, naming stream and tag", () => {
    const result = lookup(workload("Deployment", "ruby:2.6"));
    expect(result.patch).toEqual([]);
    expect(result.warnings).toEqual([
      'container "web": image "ruby:2.6" left as written: tag ruby:2.6 has no image yet (not imported)',
    ]);
  });

  it("a tag whose import failed says why", () => {
    const failing = ruby();
    failing.status?.tags?.push({
      tag: "2.6",
      items: null,
      conditions: [
        {
          type: "ImportSuccess",
          status: "False",
          reason: "NotFound",
          message: "manifest unknown",
          generation: 1,
        },
      ],
    });
    expect(lookup(workload("Pod", "ruby:2.6"), { list: [failing] }).warnings).toEqual([
      'container "web": image "ruby:2.6" left as written: tag ruby:2.6 has no image yet: its import failed (NotFound: manifest unknown)',
    ]);
  });

  it("a tag the stream does not have, and a digest not in its history", () => {
    expect(lookup(workload("Pod", "ruby:9")).warnings).toEqual([
      'container "web": image "ruby:9" left as written: image stream ruby has no tag 9',
    ]);
    const unknown = `sha256:${"9".repeat(64)}`;
    expect(lookup(workload("Pod", `ruby@${unknown}`)).warnings).toEqual([
      `container "web": image "ruby@${unknown}" left as written: the image is not in the history of image stream ruby`,
    ]);
  });

  it("names the container kind: init container", () => {
    const object = workload("Pod", "ruby:2.5");
    (object.spec as Record<string, unknown>).initContainers = [{ name: "setup", image: "ruby:2.6" }];
    expect(lookup(object).warnings).toEqual([
      'init container "setup": image "ruby:2.6" left as written: tag ruby:2.6 has no image yet (not imported)',
    ]);
  });
});

describe("resolveImageLookups: containers owned by triggers", () => {
  const trigger = (from: string, paused = false) =>
    JSON.stringify([
      {
        from: { kind: "ImageStreamTag", name: from },
        fieldPath: 'spec.template.spec.containers[?(@.name=="web")].image',
        paused,
      },
    ]);

  it("resolves a triggered container, and warns when its name is not the trigger's tag", () => {
    const object = workload("Deployment", "ruby:2.5", {
      annotations: { "image.openshift.io/triggers": trigger("ruby:3.3") },
    });
    const result = lookup(object);
    expect(firstValue(result)).toBe(RUBY_25);
    expect(result.warnings).toEqual([
      `container "web": image "ruby:2.5" was resolved, but the container belongs to the trigger on ${NS}/ruby:3.3, which sets that tag's image`,
    ]);
  });

  it("says nothing when the name is the trigger's own tag, or the trigger is paused", () => {
    const same = workload("Deployment", "ruby:3.3", {
      annotations: { "image.openshift.io/triggers": trigger("ruby:3.3") },
    });
    expect(lookup(same).warnings).toEqual([]);
    const bare = workload("Deployment", "ruby", {
      annotations: { "image.openshift.io/triggers": trigger("ruby:latest") },
    });
    expect(lookup(bare).warnings).toEqual([]);
    const paused = workload("Deployment", "ruby:2.5", {
      annotations: { "image.openshift.io/triggers": trigger("ruby:3.3", true) },
    });
    expect(lookup(paused).warnings).toEqual([]);
  });
});

describe("lookupDecision", () => {
  const request = (object: unknown, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
    uid: "u1",
    kind: { group: "apps", version: "v1", kind: "Deployment" },
    resource: { group: "apps", version: "v1", resource: "deployments" },
    subResource: "",
    name: "app",
    namespace: NS,
    operation: "CREATE",
    userInfo: { username: "alice", groups: [], extra: {} },
    object,
    oldObject: null,
    dryRun: false,
    ...extra,
  });

  it("allows with the lookup's patch and warnings", () => {
    const decision = lookupDecision(request(workload("Deployment", "ruby:2.5")), streams(ruby()), {});
    expect(decision).toEqual({
      allowed: true,
      patch: [{ op: "replace", path: "/spec/template/spec/containers/0/image", value: RUBY_25 }],
      warnings: [],
    });
  });

  it("allows unchanged what it does not cover: other kinds and versions, DELETE", () => {
    const object = workload("Deployment", "ruby:2.5");
    for (const extra of [
      { kind: { group: "apps", version: "v1beta1", kind: "Deployment" } },
      { kind: { group: "", version: "v1", kind: "ConfigMap" } },
      { operation: "DELETE" as const },
    ]) {
      expect(lookupDecision(request(object, extra), streams(ruby()), {})).toEqual({
        allowed: true,
        patch: [],
        warnings: [],
      });
    }
  });

  it("covers the eight pod-template kinds of the issue, by group, version and kind, and by alias", () => {
    expect(LOOKUP_KINDS.map((k) => k.kind).sort()).toEqual([
      "CronJob",
      "DaemonSet",
      "Deployment",
      "Job",
      "Pod",
      "ReplicaSet",
      "ReplicationController",
      "StatefulSet",
    ]);
    expect(lookupKindByAlias("rc")?.kind).toBe("ReplicationController");
    expect(lookupKindByAlias("Deployments")?.kind).toBe("Deployment");
    expect(lookupKindByAlias("service")).toBeUndefined();
    expect(lookupKindOf({ group: "apps", version: "v1beta1", kind: "Deployment" })).toBeUndefined();
    expect(lookupKindOf({ group: "", version: "v1", kind: "ReplicationController" })?.podSpecPath).toEqual([
      "spec",
      "template",
      "spec",
    ]);
    expect(lookupKindOf({ group: "batch", version: "v1", kind: "CronJob" })?.templateMetadataPath).toEqual([
      "spec",
      "jobTemplate",
      "spec",
      "template",
      "metadata",
    ]);
    expect(lookupKindOf({ group: "", version: "v1", kind: "Pod" })?.templateMetadataPath).toBeUndefined();
  });
});
