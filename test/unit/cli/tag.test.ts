import { describe, expect, it } from "vitest";
import type { ImageStream } from "../../../src/api/index.ts";
import {
  CommandError,
  classifySource,
  destinationTag,
  parseTagArgs,
  sourceReference,
  tagsPatch,
  UsageError,
  withoutTag,
  withTag,
} from "../../../src/cli/index.ts";

const source: ImageStream = {
  metadata: { name: "base", namespace: "ns", resourceVersion: "4" },
  spec: { tags: [{ name: "v1", from: { kind: "DockerImage", name: "reg/base:v1" } }, { name: "v2" }] },
  status: {
    dockerImageRepository: "",
    tags: [
      {
        tag: "v1",
        items: [
          { created: "t", dockerImageReference: "reg/base@sha256:aa", image: "sha256:aa", generation: 1 },
        ],
      },
    ],
  },
};

describe("classifySource", () => {
  it("tells registry images, stream images and stream tags apart like oc tag", () => {
    expect(classifySource("docker.io/library/nginx:1")).toEqual({
      kind: "DockerImage",
      name: "docker.io/library/nginx:1",
    });
    expect(classifySource("127.0.0.1:5000/app:v1")).toMatchObject({ kind: "DockerImage" });
    expect(classifySource("base@sha256:abc")).toEqual({
      kind: "ImageStreamImage",
      namespace: undefined,
      stream: "base",
      digest: "sha256:abc",
    });
    expect(classifySource("other/base:v1")).toEqual({
      kind: "ImageStreamTag",
      namespace: "other",
      stream: "base",
      tag: "v1",
    });
    expect(classifySource("nginx:1", "DockerImage")).toEqual({ kind: "DockerImage", name: "nginx:1" });
    expect(() => classifySource("base@nodigest")).toThrow(UsageError);
  });
});

describe("parseTagArgs", () => {
  it("parses a tag and a delete command", () => {
    expect(parseTagArgs(["base:v1", "app:prod", "other/app:prod", "--alias"])).toMatchObject({
      mode: "tag",
      alias: true,
      destinations: [
        { namespace: undefined, stream: "app", tag: "prod" },
        { namespace: "other", stream: "app", tag: "prod" },
      ],
    });
    expect(parseTagArgs(["-d", "app:prod"])).toMatchObject({
      mode: "delete",
      destinations: [{ stream: "app", tag: "prod" }],
    });
  });
  it("rejects flag combinations oc rejects", () => {
    expect(() => parseTagArgs(["docker.io/a/b:1", "app:x", "--alias"])).toThrow(/--alias/);
    expect(() => parseTagArgs(["base:v1", "app:x", "--scheduled"])).toThrow(/--scheduled/);
    expect(() => parseTagArgs(["base:v1"])).toThrow(UsageError);
    expect(() => parseTagArgs(["base:v1", "app:x", "--source=git"])).toThrow(/--source/);
    expect(() => parseTagArgs(["--delete", "app:x", "--alias"])).toThrow(UsageError);
  });
});

describe("sourceReference", () => {
  const istag = classifySource("base:v1");
  it("pins an ImageStreamTag source to its current image without --alias", () => {
    expect(sourceReference(istag, false, "ns", "ns", source)).toEqual({
      kind: "ImageStreamImage",
      name: "base@sha256:aa",
    });
  });
  it("tracks the source tag with --alias, naming the namespace only across namespaces", () => {
    expect(sourceReference(istag, true, "ns", "ns", undefined)).toEqual({
      kind: "ImageStreamTag",
      name: "base:v1",
    });
    expect(sourceReference(istag, true, "ns", "prod", undefined)).toEqual({
      kind: "ImageStreamTag",
      name: "base:v1",
      namespace: "ns",
    });
  });
  it("refuses to pin a tag that has no image yet", () => {
    expect(() => sourceReference(classifySource("base:v2"), false, "ns", "ns", source)).toThrow(CommandError);
  });
});

describe("spec.tags editing", () => {
  it("replaces a tag in place keeping its annotations, appends a new one", () => {
    const current = {
      name: "v1",
      annotations: { x: "y" },
      from: { kind: "DockerImage" as const, name: "old" },
      generation: 3,
    };
    const tag = destinationTag(
      "v1",
      current,
      { kind: "DockerImage", name: "new" },
      { alias: false, reference: true, scheduled: false, insecure: true },
    );
    expect(tag).toEqual({
      name: "v1",
      from: { kind: "DockerImage", name: "new" },
      annotations: { x: "y" },
      reference: true,
      importPolicy: { insecure: true },
    });
    expect(withTag([current, { name: "v2" }], tag)).toEqual([tag, { name: "v2" }]);
    expect(withTag([{ name: "v2" }], tag)).toEqual([{ name: "v2" }, tag]);
  });
  it("deletes a tag, and says so when the spec has none", () => {
    expect(tagsPatch(source, withoutTag(source, "v1"))).toEqual({
      metadata: { resourceVersion: "4" },
      spec: { tags: [{ name: "v2" }] },
    });
    expect(() => withoutTag(source, "v9")).toThrow(/no tag "v9"/);
  });
});
