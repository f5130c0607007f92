import { describe, expect, it } from "vitest";
import {
  type ParsedTriggers,
  parseStreamTagName,
  parseTriggers,
  parseWorkloadTriggers,
  type WorkloadKind,
} from "../../../src/triggers/index.ts";
import { workload } from "./fixtures.ts";

const WEB = 'spec.template.spec.containers[?(@.name=="web")].image';

function parse(value: unknown, kind: WorkloadKind = "Deployment", namespace = "team"): ParsedTriggers {
  return parseTriggers(typeof value === "string" ? value : JSON.stringify(value), namespace, kind);
}

function entry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { from: { kind: "ImageStreamTag", name: "app:latest" }, fieldPath: WEB, ...overrides };
}

function onlyProblem(result: ParsedTriggers): string {
  expect(result.problems).toHaveLength(1);
  return result.problems[0]?.message ?? "";
}

describe("parseTriggers valid input", () => {
  it("parses the example of OpenShift's docs verbatim", () => {
    const result = parse(
      `[{"from":{"kind":"ImageStreamTag","name":"example:latest"},"fieldPath":"spec.template.spec.containers[?(@.name='web')].image"}]`,
    );
    expect(result.problems).toEqual([]);
    expect(result.triggers).toEqual([
      {
        index: 0,
        from: { kind: "ImageStreamTag", namespace: "team", stream: "example", tag: "latest" },
        fieldPath: "spec.template.spec.containers[?(@.name='web')].image",
        target: {
          kind: "Deployment",
          podSpecPath: ["spec", "template", "spec"],
          containerList: "containers",
          selector: { type: "name", name: "web" },
        },
        paused: false,
      },
    ]);
  });

  it("defaults the namespace to the object's namespace", () => {
    expect(parse([entry()], "Deployment", "shop").triggers[0]?.from.namespace).toBe("shop");
    expect(
      parse([entry({ from: { kind: "ImageStreamTag", name: "app:1", namespace: "" } })], "Deployment", "shop")
        .triggers[0]?.from.namespace,
    ).toBe("shop");
  });

  it("keeps an explicit namespace", () => {
    const result = parse([entry({ from: { kind: "ImageStreamTag", name: "app:1", namespace: "images" } })]);
    expect(result.triggers[0]?.from).toEqual({
      kind: "ImageStreamTag",
      namespace: "images",
      stream: "app",
      tag: "1",
    });
  });

  it("ignores unknown fields and from.apiVersion, as Go's decoder does", () => {
    const result = parse([
      entry({
        from: { kind: "ImageStreamTag", name: "app:1", apiVersion: "image.openshift.io/v1" },
        extra: 1,
      }),
    ]);
    expect(result.problems).toEqual([]);
    expect(result.triggers).toHaveLength(1);
  });

  it("accepts stream and tag names at the edges of the grammar", () => {
    const result = parse([
      entry({ from: { kind: "ImageStreamTag", name: "my.app-2_x:V1.2_rc-1" } }),
      entry({
        from: { kind: "ImageStreamTag", name: "a:_" },
        fieldPath: "spec.template.spec.containers[1].image",
      }),
    ]);
    expect(result.problems).toEqual([]);
    expect(result.triggers.map((t) => [t.from.stream, t.from.tag])).toEqual([
      ["my.app-2_x", "V1.2_rc-1"],
      ["a", "_"],
    ]);
  });

  it("accepts an empty array and a blank annotation as no triggers", () => {
    expect(parse([])).toEqual({ triggers: [], problems: [] });
    expect(parse("")).toEqual({ triggers: [], problems: [] });
    expect(parse("   ")).toEqual({ triggers: [], problems: [] });
  });

  it("parses each kind's path", () => {
    expect(parse([entry({ fieldPath: "spec.containers[0].image" })], "Pod").triggers).toHaveLength(1);
    expect(
      parse([entry({ fieldPath: "spec.jobTemplate.spec.template.spec.initContainers[0].image" })], "CronJob")
        .triggers,
    ).toHaveLength(1);
  });
});

describe("parseTriggers paused forms", () => {
  for (const [value, paused] of [
    [true, true],
    [false, false],
    ["true", true],
    ["false", false],
    [undefined, false],
    [null, false],
  ] as const) {
    it(`paused ${JSON.stringify(value)} is ${paused}`, () => {
      const result = parse([entry(value === undefined ? {} : { paused: value })]);
      expect(result.problems).toEqual([]);
      expect(result.triggers[0]?.paused).toBe(paused);
    });
  }

  for (const [value, described] of [
    ["yes", 'string "yes"'],
    ["True", 'string "True"'],
    [1, "number 1"],
    [0, "number 0"],
    [{}, "an object"],
  ] as const) {
    it(`rejects paused ${JSON.stringify(value)}`, () => {
      const result = parse([entry({ paused: value })]);
      expect(result.triggers).toEqual([]);
      expect(onlyProblem(result)).toBe(
        `triggers[0]: paused must be true, false, "true" or "false", got ${described}`,
      );
      expect(result.problems[0]?.reason).toBe("InvalidTrigger");
    });
  }
});

describe("parseTriggers malformed annotation", () => {
  it("reports bad JSON with the parser's detail", () => {
    const result = parse("[{");
    expect(result.triggers).toEqual([]);
    expect(result.problems[0]?.reason).toBe("InvalidTriggerAnnotation");
    expect(onlyProblem(result)).toMatch(/^annotation image\.openshift\.io\/triggers is not valid JSON: .+/);
  });

  for (const [value, described] of [
    [{ from: {} }, "an object"],
    ["text", 'string "text"'],
    [42, "number 42"],
    [null, "null"],
    [true, "boolean true"],
  ] as const) {
    it(`reports a non-array annotation: ${described}`, () => {
      const result = parse(JSON.stringify(value));
      expect(result.problems[0]?.reason).toBe("InvalidTriggerAnnotation");
      expect(onlyProblem(result)).toBe(
        `annotation image.openshift.io/triggers must be a JSON array of triggers, got ${described}`,
      );
    });
  }

  it("reports an entry that is not an object", () => {
    const result = parse(["app:latest", [], null]);
    expect(result.problems.map((p) => p.message)).toEqual([
      'triggers[0] must be an object, got string "app:latest"',
      "triggers[1] must be an object, got an array",
      "triggers[2] must be an object, got null",
    ]);
    expect(result.problems.map((p) => p.triggerIndex)).toEqual([0, 1, 2]);
  });
});

describe("parseTriggers malformed entries", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "missing from",
      { from: undefined },
      'from is required: {"kind":"ImageStreamTag","name":"<stream>:<tag>"}',
    ],
    ["from not an object", { from: "app:latest" }, 'from must be an object, got string "app:latest"'],
    ["missing from.kind", { from: { name: "app:1" } }, 'from.kind is required and must be "ImageStreamTag"'],
    [
      "unknown from.kind",
      { from: { kind: "DockerImage", name: "app:1" } },
      'from.kind "DockerImage" is not supported; it must be "ImageStreamTag"',
    ],
    [
      "ImageStreamImage kind",
      { from: { kind: "ImageStreamImage", name: "app@sha256:abc" } },
      'from.kind "ImageStreamImage" is not supported; it must be "ImageStreamTag"; from.name "app@sha256:abc" names an image by digest; a trigger needs an ImageStreamTag "<stream>:<tag>"',
    ],
    [
      "missing from.name",
      { from: { kind: "ImageStreamTag" } },
      'from.name is required and must be "<stream>:<tag>"',
    ],
    [
      "from.name not a string",
      { from: { kind: "ImageStreamTag", name: 7 } },
      'from.name must be a string "<stream>:<tag>", got number 7',
    ],
    [
      "from.name without tag",
      { from: { kind: "ImageStreamTag", name: "app" } },
      'from.name "app" must be "<stream>:<tag>" with exactly one ":"',
    ],
    [
      "from.name with two colons",
      { from: { kind: "ImageStreamTag", name: "registry:5000/app:1" } },
      'from.name "registry:5000/app:1" must be "<stream>:<tag>" with exactly one ":"',
    ],
    [
      "invalid stream name",
      { from: { kind: "ImageStreamTag", name: "My_App:1" } },
      'from.name "My_App:1": stream name "My_App" is invalid',
    ],
    [
      "empty stream name",
      { from: { kind: "ImageStreamTag", name: ":1" } },
      'from.name ":1": stream name "" is invalid (lower-case letters and digits separated by ".", "_" or "-")',
    ],
    [
      "invalid tag",
      { from: { kind: "ImageStreamTag", name: "app:-rc" } },
      'from.name "app:-rc": tag "-rc" is invalid',
    ],
    [
      "empty tag",
      { from: { kind: "ImageStreamTag", name: "app:" } },
      'from.name "app:": tag "" is invalid (letters, digits, "_", "." and "-", not starting with "." or "-", at most 128 characters)',
    ],
    [
      "tag too long",
      { from: { kind: "ImageStreamTag", name: `app:${"a".repeat(129)}` } },
      `from.name "app:${"a".repeat(129)}": tag "${"a".repeat(129)}" is invalid`,
    ],
    [
      "namespace not a string",
      { from: { kind: "ImageStreamTag", name: "app:1", namespace: 3 } },
      "from.namespace must be a string, got number 3",
    ],
    [
      "invalid namespace",
      { from: { kind: "ImageStreamTag", name: "app:1", namespace: "Team_A" } },
      'from.namespace "Team_A" is not a valid namespace name',
    ],
    ["missing fieldPath", { fieldPath: undefined }, "fieldPath is required"],
    [
      "bad fieldPath",
      { fieldPath: "spec.template.spec.containers[0].command" },
      'fieldPath "spec.template.spec.containers[0].command" must end with ".image"',
    ],
  ];

  for (const [title, overrides, message] of cases) {
    it(`reports ${title}`, () => {
      const result = parse([entry(overrides)]);
      expect(result.triggers).toEqual([]);
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]?.reason).toBe("InvalidTrigger");
      expect(result.problems[0]?.triggerIndex).toBe(0);
      expect(result.problems[0]?.message).toContain(`triggers[0]: ${message}`);
    });
  }

  it("collects every error of one entry into one problem", () => {
    const result = parse([
      { from: { kind: "Image", name: "x" }, fieldPath: "spec.containers[0].image", paused: 2 },
    ]);
    expect(onlyProblem(result)).toBe(
      'triggers[0]: from.kind "Image" is not supported; it must be "ImageStreamTag"; from.name "x" must be "<stream>:<tag>" with exactly one ":"; fieldPath "spec.containers[0].image" uses the pod spec path "spec" of Pod; a Deployment\'s pod spec is at "spec.template.spec"; paused must be true, false, "true" or "false", got number 2',
    );
  });

  it("rejects a wrong-kind path on a CronJob with a precise message", () => {
    const result = parse([entry()], "CronJob");
    expect(onlyProblem(result)).toContain(`a CronJob's pod spec is at "spec.jobTemplate.spec.template.spec"`);
  });
});

describe("parseTriggers keeps good entries beside bad ones", () => {
  it("skips the bad entry only", () => {
    const result = parse([
      entry({ from: { kind: "DockerImage", name: "nginx:1" } }),
      entry({ fieldPath: "spec.template.spec.containers[1].image" }),
      "garbage",
      entry({ fieldPath: "spec.template.spec.initContainers[0].image", paused: "true" }),
    ]);
    expect(result.triggers.map((t) => [t.index, t.fieldPath, t.paused])).toEqual([
      [1, "spec.template.spec.containers[1].image", false],
      [3, "spec.template.spec.initContainers[0].image", true],
    ]);
    expect(result.problems.map((p) => p.triggerIndex)).toEqual([0, 2]);
  });
});

describe("parseTriggers duplicate fieldPath", () => {
  it("drops every entry sharing a fieldPath and reports them once", () => {
    const result = parse([
      entry({ from: { kind: "ImageStreamTag", name: "a:1" } }),
      entry({ fieldPath: "spec.template.spec.containers[1].image" }),
      entry({ from: { kind: "ImageStreamTag", name: "b:1" } }),
    ]);
    expect(result.triggers.map((t) => t.index)).toEqual([1]);
    expect(result.problems).toEqual([
      {
        reason: "DuplicateTriggerFieldPath",
        message: `triggers[0] and triggers[2] have the same fieldPath "${WEB.replaceAll('"', '\\"')}"; all of them are ignored`,
        triggerIndex: 0,
      },
    ]);
  });

  it("treats quote styles and '=' versus '==' as the same fieldPath", () => {
    const result = parse([
      entry({ fieldPath: "spec.template.spec.containers[?(@.name='web')].image" }),
      entry({ fieldPath: 'spec.template.spec.containers[?(@.name=="web")].image' }),
      entry({ fieldPath: "spec.template.spec.containers[?(@.name=='web')].image" }),
    ]);
    expect(result.triggers).toEqual([]);
    expect(onlyProblem(result)).toMatch(
      /^triggers\[0\], triggers\[1\] and triggers\[2\] have the same fieldPath/,
    );
  });

  it("does not confuse containers and initContainers of the same name", () => {
    const result = parse([
      entry(),
      entry({ fieldPath: 'spec.template.spec.initContainers[?(@.name=="web")].image' }),
    ]);
    expect(result.problems).toEqual([]);
    expect(result.triggers).toHaveLength(2);
  });
});

describe("parseStreamTagName", () => {
  it("splits a valid name", () => {
    expect(parseStreamTagName("ruby:2.5")).toEqual({ stream: "ruby", tag: "2.5" });
  });
});

describe("parseWorkloadTriggers", () => {
  it("has no triggers and no problems without the annotation", () => {
    expect(parseWorkloadTriggers(workload("Deployment"), "Deployment")).toEqual({
      triggers: [],
      problems: [],
    });
    expect(parseWorkloadTriggers({ metadata: { annotations: null } }, "Pod")).toEqual({
      triggers: [],
      problems: [],
    });
    expect(parseWorkloadTriggers({}, "Pod")).toEqual({ triggers: [], problems: [] });
  });

  it("uses the object's own namespace as the default", () => {
    const object = workload("StatefulSet", { namespace: "db", annotation: [entry()] });
    expect(parseWorkloadTriggers(object, "StatefulSet").triggers[0]?.from.namespace).toBe("db");
  });
});
