import { describe, expect, it } from "vitest";
import type { ImageStream } from "../../../src/api/index.ts";
import {
  CommandError,
  IMPORT_REQUESTED,
  IMPORT_REQUESTED_HANDLED,
  type ImportImageOptions,
  importResult,
  parseImportImageArgs,
  planImportImage,
  UsageError,
} from "../../../src/cli/index.ts";

function options(argv: string[]): ImportImageOptions {
  const parsed = parseImportImageArgs(argv);
  if (parsed === "help") throw new Error("unexpected help");
  return parsed;
}

const existing: ImageStream = {
  apiVersion: "image.openshift.io/v1",
  kind: "ImageStream",
  metadata: { name: "app", namespace: "ns", resourceVersion: "7" },
  spec: {
    tags: [
      { name: "v1", from: { kind: "DockerImage", name: "reg.example/app:v1" }, annotations: { a: "b" } },
    ],
  },
};

describe("parseImportImageArgs", () => {
  it("defaults the tag to latest and the wait to 30s", () => {
    const opts = options(["app", "--from=reg.example/app:1", "--confirm", "-n", "ns"]);
    expect(opts).toMatchObject({
      stream: "app",
      tag: "latest",
      from: "reg.example/app:1",
      confirm: true,
      waitMs: 30_000,
      namespace: "ns",
    });
  });
  it("parses the reference policy and rejects bad input with usage errors", () => {
    expect(options(["app:v1", "--reference-policy=local"]).referencePolicy).toBe("Local");
    expect(() => options(["app:v1", "--reference-policy=remote"])).toThrow(UsageError);
    expect(() => options(["app:v1", "--bogus"])).toThrow(UsageError);
    expect(() => options([])).toThrow(UsageError);
    expect(() => options(["ns/app:v1"])).toThrow(/-n/);
    expect(parseImportImageArgs(["--help"])).toBe("help");
  });
});

describe("planImportImage", () => {
  it("refuses a missing stream without --confirm, creates it with --confirm", () => {
    expect(() => planImportImage(undefined, options(["app:v1", "--from=x/y:1"]), "r1", "ns")).toThrow(
      CommandError,
    );
    const write = planImportImage(
      undefined,
      options(["app:v1", "--from=x/y:1", "--confirm", "--scheduled"]),
      "r1",
      "ns",
    );
    expect(write).toEqual({
      kind: "create",
      body: {
        apiVersion: "image.openshift.io/v1",
        kind: "ImageStream",
        metadata: { name: "app", namespace: "ns", annotations: { [IMPORT_REQUESTED]: "r1" } },
        spec: {
          tags: [
            { name: "v1", from: { kind: "DockerImage", name: "x/y:1" }, importPolicy: { scheduled: true } },
          ],
        },
      },
    });
  });

  it("only requests an import when the existing tag is unchanged", () => {
    expect(planImportImage(existing, options(["app:v1"]), "r2", "ns")).toEqual({
      kind: "patch",
      body: { metadata: { annotations: { [IMPORT_REQUESTED]: "r2" } } },
    });
  });

  it("requires --confirm to change a tag's source, then rewrites spec.tags guarded by resourceVersion", () => {
    expect(() => planImportImage(existing, options(["app:v1", "--from=other/app:v1"]), "r", "ns")).toThrow(
      /--confirm/,
    );
    expect(() => planImportImage(existing, options(["app:v2"]), "r", "ns")).toThrow(/does not exist/);
    const write = planImportImage(
      existing,
      options(["app:v1", "--from=other/app:v1", "--confirm", "--insecure"]),
      "r",
      "ns",
    );
    expect(write).toEqual({
      kind: "patch",
      body: {
        metadata: { annotations: { [IMPORT_REQUESTED]: "r" }, resourceVersion: "7" },
        spec: {
          tags: [
            {
              name: "v1",
              from: { kind: "DockerImage", name: "other/app:v1" },
              annotations: { a: "b" },
              importPolicy: { insecure: true },
            },
          ],
        },
      },
    });
  });

  it("refuses to import a tag that follows another stream unless given a new --from", () => {
    const alias: ImageStream = {
      ...existing,
      spec: { tags: [{ name: "v1", from: { kind: "ImageStreamTag", name: "base:v1" } }] },
    };
    expect(() => planImportImage(alias, options(["app:v1"]), "r", "ns")).toThrow(/only DockerImage tags/);
  });
});

describe("importResult", () => {
  const withStatus = (
    handled: string | undefined,
    status: NonNullable<ImageStream["status"]>,
  ): ImageStream => ({
    ...existing,
    metadata: { ...existing.metadata, annotations: handled ? { [IMPORT_REQUESTED_HANDLED]: handled } : {} },
    status,
  });
  const item = {
    created: "2026-01-01T00:00:00Z",
    dockerImageReference: "reg/app@sha256:ab",
    image: "sha256:ab",
    generation: 2,
  };

  it("is pending until the controller handled this request", () => {
    expect(importResult(withStatus("old", { tags: [{ tag: "v1", items: [item] }] }), "v1", "new")).toEqual({
      state: "pending",
    });
  });
  it("reports the newest pull spec, or the ImportSuccess=False condition", () => {
    expect(importResult(withStatus("r", { tags: [{ tag: "v1", items: [item] }] }), "v1", "r")).toEqual({
      state: "succeeded",
      dockerImageReference: "reg/app@sha256:ab",
    });
    const failed = withStatus("r", {
      tags: [
        {
          tag: "v1",
          items: [item],
          conditions: [
            {
              type: "ImportSuccess",
              status: "False",
              reason: "NotFound",
              message: "manifest unknown",
              generation: 2,
            },
          ],
        },
      ],
    });
    expect(importResult(failed, "v1", "r")).toEqual({
      state: "failed",
      reason: "NotFound",
      message: "manifest unknown",
    });
  });
});
