import { describe, expect, it } from "vitest";
import {
  buildPatch,
  evaluateWorkload,
  type FieldPathTarget,
  type ImageChange,
  parseFieldPath,
  parseWorkloadTriggers,
  planTriggerUpdates,
  resolveContainer,
  type WorkloadKind,
  type WorkloadObject,
} from "../../../src/triggers/index.ts";
import { applyPatch, lookup, PatchTestFailed, workload } from "./fixtures.ts";

const DIGEST_A = "registry.example/team/app@sha256:aaaa";
const DIGEST_B = "registry.example/team/app@sha256:bbbb";

function target(fieldPath: string, kind: WorkloadKind = "Deployment"): FieldPathTarget {
  const result = parseFieldPath(fieldPath, kind);
  if (!result.ok) throw new Error(result.message);
  return result.target;
}

function trigger(
  name: string,
  fieldPath: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { from: { kind: "ImageStreamTag", name, ...extra }, fieldPath };
}

function plan(object: WorkloadObject, kind: WorkloadKind, table: Record<string, string>) {
  const { triggers, problems } = parseWorkloadTriggers(object, kind);
  expect(problems).toEqual([]);
  return planTriggerUpdates(object, triggers, lookup(table));
}

const TWO_CONTAINERS = [
  { name: "web", image: "nginx:1" },
  { name: "sidecar", image: "envoy:1" },
];

describe("resolveContainer", () => {
  const object = workload("Deployment", {
    containers: TWO_CONTAINERS,
    initContainers: [{ name: "migrate", image: "flyway:9" }],
  });

  it("finds a container by name", () => {
    expect(
      resolveContainer(object, target('spec.template.spec.containers[?(@.name=="sidecar")].image')),
    ).toEqual({
      ok: true,
      container: {
        containerPath: "/spec/template/spec/containers/1",
        containerList: "containers",
        index: 1,
        name: "sidecar",
        image: "envoy:1",
      },
    });
  });

  it("finds a container by index", () => {
    const result = resolveContainer(object, target("spec.template.spec.containers[0].image"));
    expect(result).toMatchObject({ ok: true, container: { index: 0, name: "web", image: "nginx:1" } });
  });

  it("finds an init container", () => {
    const result = resolveContainer(
      object,
      target("spec.template.spec.initContainers[?(@.name=='migrate')].image"),
    );
    expect(result).toMatchObject({
      ok: true,
      container: {
        containerPath: "/spec/template/spec/initContainers/0",
        name: "migrate",
        image: "flyway:9",
      },
    });
  });

  it("does not look for init containers among containers", () => {
    const result = resolveContainer(
      object,
      target('spec.template.spec.containers[?(@.name=="migrate")].image'),
    );
    expect(result).toEqual({
      ok: false,
      message: 'container "migrate" not found in spec.template.spec.containers (it has "web", "sidecar")',
    });
  });

  it("reports a missing name", () => {
    expect(resolveContainer(object, target('spec.template.spec.containers[?(@.name=="api")].image'))).toEqual(
      {
        ok: false,
        message: 'container "api" not found in spec.template.spec.containers (it has "web", "sidecar")',
      },
    );
  });

  it("reports an index out of range", () => {
    expect(resolveContainer(object, target("spec.template.spec.containers[2].image"))).toEqual({
      ok: false,
      message: "container index 2 is out of range: spec.template.spec.containers has 2 containers",
    });
    expect(resolveContainer(object, target("spec.template.spec.initContainers[1].image"))).toEqual({
      ok: false,
      message: "container index 1 is out of range: spec.template.spec.initContainers has 1 container",
    });
  });

  it("reports an absent init container list", () => {
    const plain = workload("Deployment");
    expect(
      resolveContainer(plain, target('spec.template.spec.initContainers[?(@.name=="x")].image')),
    ).toEqual({
      ok: false,
      message: 'container "x" not found in spec.template.spec.initContainers (it has none)',
    });
  });

  it("reports an object without a pod spec", () => {
    expect(
      resolveContainer(
        { metadata: {}, spec: { replicas: 1 } },
        target("spec.template.spec.containers[0].image"),
      ),
    ).toEqual({
      ok: false,
      message: "the object has no pod spec at spec.template.spec",
    });
    expect(resolveContainer({ spec: "nonsense" }, target("spec.containers[0].image", "Pod"))).toEqual({
      ok: false,
      message: "the object has no pod spec at spec",
    });
  });

  it("reports a container entry without a name", () => {
    const odd: WorkloadObject = { spec: { containers: [{ image: "x" }] } };
    expect(resolveContainer(odd, target("spec.containers[0].image", "Pod"))).toEqual({
      ok: false,
      message: "spec.containers[0] is not a container with a name",
    });
  });

  it("returns an undefined image when the container has none", () => {
    const bare = workload("Pod", { containers: [{ name: "web" }] });
    expect(resolveContainer(bare, target("spec.containers[0].image", "Pod"))).toMatchObject({
      ok: true,
      container: { containerPath: "/spec/containers/0", image: undefined },
    });
  });

  it("uses each kind's pod spec path", () => {
    const cron = workload("CronJob", { containers: [{ name: "job", image: "busybox" }] });
    expect(
      resolveContainer(cron, target("spec.jobTemplate.spec.template.spec.containers[0].image", "CronJob")),
    ).toMatchObject({
      ok: true,
      container: { containerPath: "/spec/jobTemplate/spec/template/spec/containers/0", name: "job" },
    });
  });
});

describe("planTriggerUpdates", () => {
  it("changes the selected container to the tag's newest image", () => {
    const object = workload("Deployment", {
      containers: TWO_CONTAINERS,
      annotation: [trigger("app:latest", 'spec.template.spec.containers[?(@.name=="sidecar")].image')],
    });
    const result = plan(object, "Deployment", { "team/app:latest": DIGEST_A });
    expect(result.problems).toEqual([]);
    expect(result.changes).toHaveLength(1);
    expect(result.changes[0]).toMatchObject({
      containerPath: "/spec/template/spec/containers/1",
      containerList: "containers",
      index: 1,
      name: "sidecar",
      oldImage: "envoy:1",
      newImage: DIGEST_A,
      trigger: { index: 0, from: { namespace: "team", stream: "app", tag: "latest" } },
    });
  });

  it("makes no change when the image is already right", () => {
    const object = workload("Deployment", {
      containers: [{ name: "web", image: DIGEST_A }],
      annotation: [trigger("app:latest", "spec.template.spec.containers[0].image")],
    });
    expect(plan(object, "Deployment", { "team/app:latest": DIGEST_A })).toEqual({
      changes: [],
      problems: [],
    });
  });

  it("treats a missing stream or tag as no change and no problem", () => {
    const object = workload("Deployment", {
      annotation: [trigger("app:latest", "spec.template.spec.containers[0].image")],
    });
    expect(plan(object, "Deployment", {})).toEqual({ changes: [], problems: [] });
    expect(plan(object, "Deployment", { "team/app:other": DIGEST_A })).toEqual({ changes: [], problems: [] });
    // A tag whose newest event has no pull spec yet is the same as a missing one.
    expect(plan(object, "Deployment", { "team/app:latest": "" })).toEqual({ changes: [], problems: [] });
  });

  it("looks the tag up in the defaulted or explicit namespace", () => {
    const calls: string[] = [];
    const object = workload("Deployment", {
      containers: TWO_CONTAINERS,
      annotation: [
        trigger("app:1", "spec.template.spec.containers[0].image"),
        trigger("base:2", "spec.template.spec.containers[1].image", { namespace: "shared" }),
      ],
    });
    const { triggers } = parseWorkloadTriggers(object, "Deployment");
    const result = planTriggerUpdates(object, triggers, (namespace, stream, tag) => {
      calls.push(`${namespace}/${stream}:${tag}`);
      return { dockerImageReference: `${stream}@sha256:1` };
    });
    expect(calls).toEqual(["team/app:1", "shared/base:2"]);
    expect(result.changes.map((c) => c.newImage)).toEqual(["app@sha256:1", "base@sha256:1"]);
  });

  it("skips paused triggers without resolving them", () => {
    const object = workload("Deployment", {
      annotation: [
        trigger("app:1", "spec.template.spec.containers[0].image"),
        { ...trigger("app:1", 'spec.template.spec.containers[?(@.name=="gone")].image'), paused: "true" },
      ],
    });
    for (const paused of [true, "true"]) {
      const annotated = workload("Deployment", {
        annotation: [{ ...trigger("app:1", "spec.template.spec.containers[0].image"), paused }],
      });
      expect(plan(annotated, "Deployment", { "team/app:1": DIGEST_A })).toEqual({
        changes: [],
        problems: [],
      });
    }
    const result = plan(object, "Deployment", { "team/app:1": DIGEST_A });
    expect(result.problems).toEqual([]);
    expect(result.changes.map((c) => c.trigger.index)).toEqual([0]);
  });

  it("fires when paused is false in either form", () => {
    for (const paused of [false, "false"]) {
      const object = workload("Deployment", {
        annotation: [{ ...trigger("app:1", "spec.template.spec.containers[0].image"), paused }],
      });
      expect(plan(object, "Deployment", { "team/app:1": DIGEST_A }).changes).toHaveLength(1);
    }
  });

  it("reports a missing container even while the tag does not exist, and keeps other triggers", () => {
    const object = workload("Deployment", {
      annotation: [
        trigger("app:1", 'spec.template.spec.containers[?(@.name=="api")].image'),
        trigger("app:1", "spec.template.spec.containers[0].image"),
      ],
    });
    const missingTag = plan(object, "Deployment", {});
    expect(missingTag.problems).toEqual([
      {
        reason: "TriggerContainerNotFound",
        message:
          'triggers[0] (fieldPath "spec.template.spec.containers[?(@.name==\\"api\\")].image"): container "api" not found in spec.template.spec.containers (it has "web")',
        triggerIndex: 0,
      },
    ]);
    const withTag = plan(object, "Deployment", { "team/app:1": DIGEST_A });
    expect(withTag.problems).toHaveLength(1);
    expect(withTag.changes.map((c) => c.name)).toEqual(["web"]);
  });

  it("reports triggers that select the same container by index and by name, and skips them", () => {
    const object = workload("Deployment", {
      containers: TWO_CONTAINERS,
      annotation: [
        trigger("app:1", "spec.template.spec.containers[0].image"),
        trigger("other:1", 'spec.template.spec.containers[?(@.name=="web")].image'),
        trigger("side:1", "spec.template.spec.containers[1].image"),
      ],
    });
    const result = plan(object, "Deployment", {
      "team/app:1": DIGEST_A,
      "team/other:1": DIGEST_B,
      "team/side:1": DIGEST_B,
    });
    expect(result.problems).toEqual([
      {
        reason: "ConflictingTriggers",
        message:
          'triggers[0] and triggers[1] all select container "web" (containers[0]); all of them are ignored',
        triggerIndex: 0,
      },
    ]);
    expect(result.changes.map((c) => c.name)).toEqual(["sidecar"]);
  });

  it("changes several containers, init containers included, in annotation order", () => {
    const object = workload("StatefulSet", {
      containers: TWO_CONTAINERS,
      initContainers: [{ name: "migrate", image: "flyway:9" }],
      annotation: [
        trigger("app:1", "spec.template.spec.containers[1].image"),
        trigger("db:1", "spec.template.spec.initContainers[?(@.name='migrate')].image"),
        trigger("app:1", "spec.template.spec.containers[0].image"),
      ],
    });
    const result = plan(object, "StatefulSet", { "team/app:1": DIGEST_A, "team/db:1": DIGEST_B });
    expect(result.changes.map((c) => [c.containerPath, c.oldImage, c.newImage])).toEqual([
      ["/spec/template/spec/containers/1", "envoy:1", DIGEST_A],
      ["/spec/template/spec/initContainers/0", "flyway:9", DIGEST_B],
      ["/spec/template/spec/containers/0", "nginx:1", DIGEST_A],
    ]);
  });

  for (const kind of ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "CronJob", "Pod"] as const) {
    it(`writes a ${kind}`, () => {
      const podSpec =
        { CronJob: "spec.jobTemplate.spec.template.spec", Pod: "spec" }[kind as string] ??
        "spec.template.spec";
      const object = workload(kind, {
        annotation: [trigger("app:1", `${podSpec}.containers[?(@.name=="web")].image`)],
      });
      const result = plan(object, kind, { "team/app:1": DIGEST_A });
      expect(result.problems).toEqual([]);
      expect(result.changes.map((c) => c.containerPath)).toEqual([
        `/${podSpec.replaceAll(".", "/")}/containers/0`,
      ]);
    });
  }

  it("does not write a Job, whose pod template is immutable, and says so", () => {
    const object = workload("Job", {
      name: "batch",
      annotation: [trigger("app:1", 'spec.template.spec.containers[?(@.name=="web")].image')],
    });
    const result = plan(object, "Job", { "team/app:1": DIGEST_A });
    expect(result.changes).toEqual([]);
    expect(result.problems).toEqual([
      {
        reason: "PodTemplateImmutable",
        message: `triggers[0]: ImageStreamTag team/app:1 has image ${DIGEST_A} for container "web", but a Job's pod template cannot be changed after creation; recreate the Job to use it`,
        triggerIndex: 0,
      },
    ]);
  });

  it("reports nothing for a Job whose image is already right", () => {
    const object = workload("Job", {
      containers: [{ name: "web", image: DIGEST_A }],
      annotation: [trigger("app:1", "spec.template.spec.containers[0].image")],
    });
    expect(plan(object, "Job", { "team/app:1": DIGEST_A })).toEqual({ changes: [], problems: [] });
  });

  it("does not mutate the workload", () => {
    const object = workload("Deployment", {
      annotation: [trigger("app:1", "spec.template.spec.containers[0].image")],
    });
    const before = structuredClone(object);
    plan(object, "Deployment", { "team/app:1": DIGEST_A });
    expect(object).toEqual(before);
  });
});

describe("buildPatch", () => {
  function changesFor(
    object: WorkloadObject,
    kind: WorkloadKind,
    table: Record<string, string>,
  ): ImageChange[] {
    return plan(object, kind, table).changes;
  }

  it("is empty without changes", () => {
    expect(buildPatch([])).toEqual([]);
  });

  it("tests the container name, then replaces only the image", () => {
    const object = workload("Deployment", {
      containers: TWO_CONTAINERS,
      annotation: [trigger("app:1", "spec.template.spec.containers[1].image")],
    });
    expect(buildPatch(changesFor(object, "Deployment", { "team/app:1": DIGEST_A }))).toEqual([
      { op: "test", path: "/spec/template/spec/containers/1/name", value: "sidecar" },
      { op: "replace", path: "/spec/template/spec/containers/1/image", value: DIGEST_A },
    ]);
  });

  it("guards and sets every changed container, init containers and CronJob paths included", () => {
    const object = workload("CronJob", {
      containers: [{ name: "job", image: "busybox" }],
      initContainers: [{ name: "prep", image: "alpine" }],
      annotation: [
        trigger("app:1", "spec.jobTemplate.spec.template.spec.containers[0].image"),
        trigger("prep:1", "spec.jobTemplate.spec.template.spec.initContainers[?(@.name=='prep')].image"),
      ],
    });
    expect(
      buildPatch(changesFor(object, "CronJob", { "team/app:1": DIGEST_A, "team/prep:1": DIGEST_B })),
    ).toEqual([
      { op: "test", path: "/spec/jobTemplate/spec/template/spec/containers/0/name", value: "job" },
      { op: "replace", path: "/spec/jobTemplate/spec/template/spec/containers/0/image", value: DIGEST_A },
      { op: "test", path: "/spec/jobTemplate/spec/template/spec/initContainers/0/name", value: "prep" },
      { op: "replace", path: "/spec/jobTemplate/spec/template/spec/initContainers/0/image", value: DIGEST_B },
    ]);
  });

  it("adds the image when the container has none (replace would fail)", () => {
    const object = workload("Pod", {
      containers: [{ name: "web" }],
      annotation: [trigger("app:1", "spec.containers[0].image")],
    });
    const patch = buildPatch(changesFor(object, "Pod", { "team/app:1": DIGEST_A }));
    expect(patch[1]).toEqual({ op: "add", path: "/spec/containers/0/image", value: DIGEST_A });
    expect(applyPatch(object, patch)).toMatchObject({
      spec: { containers: [{ name: "web", image: DIGEST_A }] },
    });
  });

  it("applied to the object, changes only the selected image", () => {
    const object = workload("Deployment", {
      containers: TWO_CONTAINERS,
      initContainers: [{ name: "migrate", image: "flyway:9" }],
      annotation: [trigger("app:1", 'spec.template.spec.containers[?(@.name=="sidecar")].image')],
    });
    const patched = applyPatch(
      object,
      buildPatch(changesFor(object, "Deployment", { "team/app:1": DIGEST_A })),
    );
    const expected = structuredClone(object) as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    const sidecar = expected.spec.template.spec.containers[1];
    if (sidecar === undefined) throw new Error("fixture lost its sidecar");
    sidecar.image = DIGEST_A;
    expect(patched).toEqual(expected);
  });

  it("fails its test instead of hitting another container when the list was reordered", () => {
    const object = workload("Deployment", {
      containers: TWO_CONTAINERS,
      annotation: [trigger("app:1", "spec.template.spec.containers[1].image")],
    });
    const patch = buildPatch(changesFor(object, "Deployment", { "team/app:1": DIGEST_A }));
    const reordered = workload("Deployment", { containers: [TWO_CONTAINERS[1]!, TWO_CONTAINERS[0]!] });
    expect(() => applyPatch(reordered, patch)).toThrow(PatchTestFailed);
  });

  it("still applies when someone else changed the image meanwhile (the old image is not tested)", () => {
    const object = workload("Deployment", {
      annotation: [trigger("app:1", "spec.template.spec.containers[0].image")],
    });
    const patch = buildPatch(changesFor(object, "Deployment", { "team/app:1": DIGEST_B }));
    const edited = workload("Deployment", { containers: [{ name: "web", image: "nginx:2" }] });
    expect(applyPatch(edited, patch)).toMatchObject({
      spec: { template: { spec: { containers: [{ image: DIGEST_B }] } } },
    });
  });
});

describe("evaluateWorkload", () => {
  it("combines annotation problems, plan problems, changes and patch", () => {
    const object = workload("Deployment", {
      annotation: [
        {
          from: { kind: "DockerImage", name: "nginx:1" },
          fieldPath: "spec.template.spec.containers[0].image",
        },
        trigger("app:1", 'spec.template.spec.containers[?(@.name=="api")].image'),
        trigger("app:1", 'spec.template.spec.containers[?(@.name=="web")].image'),
      ],
    });
    const result = evaluateWorkload(object, "Deployment", lookup({ "team/app:1": DIGEST_A }));
    expect(result.triggers.map((t) => t.index)).toEqual([1, 2]);
    expect(result.problems.map((p) => [p.reason, p.triggerIndex])).toEqual([
      ["InvalidTrigger", 0],
      ["TriggerContainerNotFound", 1],
    ]);
    expect(result.changes.map((c) => c.name)).toEqual(["web"]);
    expect(result.patch).toEqual([
      { op: "test", path: "/spec/template/spec/containers/0/name", value: "web" },
      { op: "replace", path: "/spec/template/spec/containers/0/image", value: DIGEST_A },
    ]);
  });

  it("does nothing for a workload without the annotation", () => {
    expect(evaluateWorkload(workload("Pod"), "Pod", lookup({}))).toEqual({
      triggers: [],
      changes: [],
      patch: [],
      problems: [],
    });
  });

  it("reports invalid JSON without throwing", () => {
    const result = evaluateWorkload(
      workload("Deployment", { annotation: "[{not json" }),
      "Deployment",
      lookup({}),
    );
    expect(result.patch).toEqual([]);
    expect(result.problems.map((p) => p.reason)).toEqual(["InvalidTriggerAnnotation"]);
  });
});
