import { describe, expect, it } from "vitest";
import {
  type AdmissionRequest,
  imageStreamTagCreateDecision,
  imageStreamTagDecision,
} from "../../../src/admission/index.ts";

/** The ImageStreamTag `oc tag ruby:2.5 ruby:tip` POSTs (Go serialization: empty image, nulls). */
const OC_ISTAG = {
  kind: "ImageStreamTag",
  apiVersion: "image.openshift.io/v1",
  metadata: { name: "ruby:tip", namespace: "team", creationTimestamp: null },
  tag: {
    name: "tip",
    annotations: null,
    from: { kind: "ImageStreamImage", name: `ruby@sha256:${"1".repeat(64)}` },
    generation: null,
    importPolicy: {},
    referencePolicy: { type: "Source" },
  },
  generation: 0,
  lookupPolicy: { local: false },
  image: { metadata: { creationTimestamp: null }, dockerImageMetadata: null, dockerImageLayers: null },
};

describe("imageStreamTagCreateDecision (oc tag's fallback)", () => {
  it("refuses a <stream>:<tag> name with 403 Forbidden naming the <stream>.<tag> form", () => {
    expect(imageStreamTagCreateDecision(OC_ISTAG)).toEqual({
      allowed: false,
      code: 403,
      reason: "Forbidden",
      message:
        'ImageStreamTag "ruby:tip": names here are <stream>.<tag> (a Kubernetes object name cannot contain ":"); ' +
        `create it as "ruby.tip" instead. oc tag edits the ImageStream's spec.tags when it receives this answer`,
      warnings: [],
    });
  });

  it("suggests the normalized name, and none when the parts are not a stream and a tag", () => {
    const named = (name: string) => ({ ...OC_ISTAG, metadata: { name } });
    const message = (name: string) => {
      const decision = imageStreamTagCreateDecision(named(name));
      return decision.allowed ? "" : decision.message;
    };
    expect(message("php.7:Stable_1")).toContain('create it as "php.7.stable-1" instead');
    expect(message("ruby:a:b")).not.toContain("create it as");
    expect(message("Ruby:tip")).not.toContain("create it as");
    expect(imageStreamTagCreateDecision(named(":")).allowed).toBe(false);
  });

  it("removes an empty image (Go clients always send one) and leaves everything else to the schema", () => {
    const dotted = { ...OC_ISTAG, metadata: { name: "ruby.tip" } };
    expect(imageStreamTagCreateDecision(dotted)).toEqual({
      allowed: true,
      patch: [{ op: "remove", path: "/image" }],
      warnings: [],
    });
    const withImage = {
      ...dotted,
      image: { metadata: { name: "sha256:x" }, dockerImageReference: "r@sha256:x" },
    };
    expect(imageStreamTagCreateDecision(withImage)).toEqual({ allowed: true, patch: [], warnings: [] });
    const { image: _image, ...noImage } = dotted;
    expect(imageStreamTagCreateDecision(noImage)).toEqual({ allowed: true, patch: [], warnings: [] });
    expect(imageStreamTagCreateDecision("garbage")).toEqual({ allowed: true, patch: [], warnings: [] });
  });
});

describe("imageStreamTagDecision", () => {
  const request = (extra: Partial<AdmissionRequest>): AdmissionRequest => ({
    uid: "u",
    kind: { group: "image.openshift.io", version: "v1", kind: "ImageStreamTag" },
    resource: { group: "image.openshift.io", version: "v1", resource: "imagestreamtags" },
    subResource: "",
    name: "",
    namespace: "team",
    operation: "CREATE",
    userInfo: { username: "alice", groups: [], extra: {} },
    object: OC_ISTAG,
    oldObject: null,
    dryRun: false,
    ...extra,
  });

  it("answers CREATE of the main resource; everything else is allowed as is", () => {
    expect(imageStreamTagDecision(request({})).allowed).toBe(false);
    expect(imageStreamTagDecision(request({ operation: "UPDATE" }))).toEqual({
      allowed: true,
      patch: [],
      warnings: [],
    });
    expect(imageStreamTagDecision(request({ subResource: "status" }))).toEqual({
      allowed: true,
      patch: [],
      warnings: [],
    });
  });
});
