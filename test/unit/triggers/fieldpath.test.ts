import { describe, expect, it } from "vitest";
import {
  canonicalFieldPath,
  type FieldPathTarget,
  parseFieldPath,
  WORKLOAD_KINDS,
  type WorkloadKind,
} from "../../../src/triggers/index.ts";

function target(fieldPath: unknown, kind: WorkloadKind = "Deployment"): FieldPathTarget {
  const result = parseFieldPath(fieldPath, kind);
  if (!result.ok) throw new Error(`expected ${String(fieldPath)} to parse: ${result.message}`);
  return result.target;
}

function failure(fieldPath: unknown, kind: WorkloadKind = "Deployment"): string {
  const result = parseFieldPath(fieldPath, kind);
  if (result.ok) throw new Error(`expected ${String(fieldPath)} to be rejected`);
  return result.message;
}

describe("parseFieldPath selectors", () => {
  it("accepts an index selector", () => {
    expect(target("spec.template.spec.containers[0].image")).toEqual({
      kind: "Deployment",
      podSpecPath: ["spec", "template", "spec"],
      containerList: "containers",
      selector: { type: "index", index: 0 },
    });
    expect(target("spec.template.spec.containers[12].image").selector).toEqual({ type: "index", index: 12 });
  });

  it("accepts a double-quoted name selector (OpenShift's form)", () => {
    expect(target('spec.template.spec.containers[?(@.name=="web")].image').selector).toEqual({
      type: "name",
      name: "web",
    });
  });

  it("accepts the docs' form: single quotes and a single '='", () => {
    expect(target("spec.template.spec.containers[?(@.name='web')].image").selector).toEqual({
      type: "name",
      name: "web",
    });
  });

  it("accepts single quotes with '==' and double quotes with '='", () => {
    expect(target("spec.template.spec.containers[?(@.name=='web')].image").selector).toEqual({
      type: "name",
      name: "web",
    });
    expect(target('spec.template.spec.containers[?(@.name="web")].image').selector).toEqual({
      type: "name",
      name: "web",
    });
  });

  it("tolerates whitespace around == as kubectl JSONPath does", () => {
    expect(target('spec.template.spec.containers[?(@.name == "web-1")].image').selector).toEqual({
      type: "name",
      name: "web-1",
    });
  });

  it("accepts init containers with both selector kinds", () => {
    expect(target("spec.template.spec.initContainers[1].image")).toMatchObject({
      containerList: "initContainers",
      selector: { type: "index", index: 1 },
    });
    expect(target("spec.template.spec.initContainers[?(@.name='migrate')].image")).toMatchObject({
      containerList: "initContainers",
      selector: { type: "name", name: "migrate" },
    });
  });
});

describe("parseFieldPath pod spec path per kind", () => {
  const expected: Record<WorkloadKind, string> = {
    Deployment: "spec.template.spec",
    StatefulSet: "spec.template.spec",
    DaemonSet: "spec.template.spec",
    ReplicaSet: "spec.template.spec",
    Job: "spec.template.spec",
    CronJob: "spec.jobTemplate.spec.template.spec",
    Pod: "spec",
  };

  for (const [kind, podSpec] of Object.entries(expected) as [WorkloadKind, string][]) {
    it(`${kind} uses ${podSpec}`, () => {
      const parsed = target(`${podSpec}.containers[?(@.name=="web")].image`, kind);
      expect(parsed.kind).toBe(kind);
      expect(parsed.podSpecPath).toEqual(podSpec.split("."));
    });
  }

  it("covers every kind of the table", () => {
    expect(WORKLOAD_KINDS.map((info) => info.kind).sort()).toEqual(Object.keys(expected).sort());
  });

  it("rejects a Pod path on a Deployment, naming both paths", () => {
    expect(failure("spec.containers[0].image", "Deployment")).toBe(
      `fieldPath "spec.containers[0].image" uses the pod spec path "spec" of Pod; a Deployment's pod spec is at "spec.template.spec"`,
    );
  });

  it("rejects a Deployment path on a CronJob", () => {
    expect(failure("spec.template.spec.containers[0].image", "CronJob")).toBe(
      `fieldPath "spec.template.spec.containers[0].image" uses the pod spec path "spec.template.spec" of Deployment, StatefulSet, DaemonSet, ReplicaSet, Job; a CronJob's pod spec is at "spec.jobTemplate.spec.template.spec"`,
    );
  });

  it("rejects a CronJob path on a Pod", () => {
    expect(failure("spec.jobTemplate.spec.template.spec.containers[0].image", "Pod")).toContain(
      `uses the pod spec path "spec.jobTemplate.spec.template.spec" of CronJob; a Pod's pod spec is at "spec"`,
    );
  });

  it("rejects a Deployment path on a Pod", () => {
    expect(failure("spec.template.spec.containers[0].image", "Pod")).toContain(
      `a Pod's pod spec is at "spec"`,
    );
  });

  it("rejects an unknown prefix", () => {
    expect(failure("spec.template.containers[0].image")).toBe(
      `fieldPath "spec.template.containers[0].image" must start with "spec.template.spec." for a Deployment (got "spec.template")`,
    );
    expect(failure("containers[0].image")).toBe(
      `fieldPath "containers[0].image" must start with "spec.template.spec." for a Deployment (got "")`,
    );
  });
});

describe("parseFieldPath malformed input", () => {
  it("requires a fieldPath", () => {
    expect(failure(undefined)).toBe("fieldPath is required");
    expect(failure("")).toBe("fieldPath is required");
    expect(failure(null)).toBe("fieldPath is required");
  });

  it("requires a string", () => {
    expect(failure(3)).toBe("fieldPath must be a string, got number 3");
    expect(failure({ path: "x" })).toBe("fieldPath must be a string, got an object");
  });

  it("rejects paths that select no container", () => {
    expect(failure("spec.template.spec.ephemeralContainers[0].image")).toMatch(
      /^fieldPath "spec.template.spec.ephemeralContainers\[0\].image" does not select a container image; for a Deployment it must be "spec.template.spec.containers\[<index>\].image"/,
    );
    expect(failure("spec.template.spec.containers.image")).toContain("does not select a container image");
  });

  it("requires .image after the selector", () => {
    expect(failure("spec.template.spec.containers[0]")).toBe(
      `fieldPath "spec.template.spec.containers[0]" must end with ".image" right after the container selector (got ""); only container images can be triggered`,
    );
    expect(failure("spec.template.spec.containers[0].env")).toContain(`(got ".env")`);
    expect(failure("spec.template.spec.containers[0].image.tag")).toContain(`(got ".image.tag")`);
    expect(failure("spec.template.spec.containers[0]image")).toContain(`(got "image")`);
  });

  it("rejects an unterminated selector", () => {
    expect(failure('spec.template.spec.containers[?(@.name=="web").image')).toBe(
      `fieldPath "spec.template.spec.containers[?(@.name==\\"web\\").image" has an unterminated container selector (missing "]")`,
    );
  });

  it("rejects a negative index", () => {
    expect(failure("spec.template.spec.containers[-1].image")).toBe(
      `fieldPath "spec.template.spec.containers[-1].image": container index -1 must be a non-negative integer`,
    );
  });

  it("rejects an index beyond the safe integers", () => {
    expect(failure("spec.template.spec.containers[99999999999999999999].image")).toContain(
      "container index 99999999999999999999 is too large",
    );
  });

  it("rejects selector forms outside the grammar", () => {
    for (const selector of [
      "@.name=test",
      "?(@.name==web)",
      "?(@.name==='web')",
      "?(@.name!='web')",
      `?(@.name=="web')`,
      "?(@.image=='nginx')",
      "*",
      "",
      "?(@.name='web'",
    ]) {
      expect(failure(`spec.template.spec.containers[${selector}].image`)).toContain(
        `container selector "[${selector}]" must be an index like [0] or a name selector like [?(@.name=="web")]`,
      );
    }
  });

  it("rejects a name that cannot be a container name", () => {
    expect(failure('spec.template.spec.containers[?(@.name=="Web_1")].image')).toContain(
      `container name "Web_1" in the selector is not a valid container name`,
    );
    expect(failure("spec.template.spec.containers[?(@.name=='')].image")).toContain(`container name ""`);
  });
});

describe("canonicalFieldPath", () => {
  it("spells both quote styles and whitespace variants the same way", () => {
    const a = canonicalFieldPath(target("spec.template.spec.containers[?(@.name='web')].image"));
    const b = canonicalFieldPath(target('spec.template.spec.containers[?(@.name == "web")].image'));
    expect(a).toBe('spec.template.spec.containers[?(@.name=="web")].image');
    expect(b).toBe(a);
  });

  it("keeps index, list and pod spec path", () => {
    expect(canonicalFieldPath(target("spec.initContainers[3].image", "Pod"))).toBe(
      "spec.initContainers[3].image",
    );
  });
});
