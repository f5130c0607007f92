import { describe, expect, it } from "vitest";
import { Compactor } from "../../../src/runtime/compact.ts";

const istag = (name: string, digest: string) => ({
  apiVersion: "image.openshift.io/v1",
  kind: "ImageStreamTag",
  metadata: {
    namespace: "team",
    name,
    uid: `uid-${name}`,
    resourceVersion: "7",
    managedFields: [{ manager: "imagestream-operator", operation: "Update" }],
  },
  tag: { name: "latest", from: { kind: "DockerImage", name: "registry.local/app:latest" } },
  image: {
    metadata: { name: digest },
    dockerImageReference: `registry.local/app@${digest}`,
    dockerImageLayers: [
      { name: "sha256:layer", size: 10, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" },
    ],
  },
});

describe("Compactor", () => {
  it("keeps every value but managedFields", () => {
    const original = istag("app:latest", "sha256:a");
    const compacted = new Compactor().compact(structuredClone(original), ["image", "tag"]);
    const { managedFields: _gone, ...metadata } = original.metadata;
    expect(compacted).toEqual({ ...original, metadata });
    expect("managedFields" in compacted.metadata).toBe(false);
  });

  it("keeps one frozen copy of a shared field per distinct content", () => {
    const compactor = new Compactor();
    const a = compactor.compact(istag("a:latest", "sha256:a"), ["image", "tag"]);
    const b = compactor.compact(istag("b:latest", "sha256:a"), ["image", "tag"]);
    const c = compactor.compact(istag("c:latest", "sha256:c"), ["image", "tag"]);
    expect(b.image).toBe(a.image);
    expect(b.tag).toBe(a.tag);
    expect(c.image).not.toBe(a.image);
    expect(c.image.dockerImageReference).toBe("registry.local/app@sha256:c");
    expect(Object.isFrozen(a.image)).toBe(true);
    expect(Object.isFrozen(a.image.dockerImageLayers[0])).toBe(true);
    expect(() => {
      (a.image as { dockerImageReference: string }).dockerImageReference = "changed";
    }).toThrow(TypeError);
    // fields not declared shared stay the object's own
    expect(b.metadata).not.toBe(a.metadata);
    expect(Object.isFrozen(a.metadata)).toBe(false);
  });

  it("shares metadata fields named metadata.<key>", () => {
    const compactor = new Compactor();
    const owned = (name: string) => ({
      ...istag(name, "sha256:a"),
      metadata: {
        ...istag(name, "sha256:a").metadata,
        finalizers: ["example.io/cleanup"],
        ownerReferences: [{ uid: "u1" }],
      },
    });
    const fields = ["metadata.finalizers", "metadata.ownerReferences"];
    const a = compactor.compact(owned("a:latest"), fields);
    const b = compactor.compact(owned("b:latest"), fields);
    expect(b.metadata.finalizers).toBe(a.metadata.finalizers);
    expect(b.metadata.ownerReferences).toBe(a.metadata.ownerReferences);
    expect(Object.isFrozen(a.metadata.finalizers)).toBe(true);
    expect(b.metadata.name).toBe("b:latest");
  });

  it("shares each element of a list at a path such as spec.tags[] or status.tags[].items[]", () => {
    const compactor = new Compactor();
    const stream = (name: string, created: string) => ({
      metadata: { namespace: "team", name },
      spec: { tags: [{ name: "latest", from: { kind: "DockerImage", name: "r.local/app:latest" } }] },
      status: {
        tags: [
          {
            tag: "latest",
            items: [
              { image: "sha256:a", created },
              { image: "sha256:b", created: "t0" },
            ],
          },
        ],
      },
    });
    const fields = Object.freeze(["spec.tags[]", "status.tags[].items[]"]);
    const a = compactor.compact(stream("a", "t1"), fields);
    const b = compactor.compact(stream("b", "t2"), fields);
    expect(b.spec.tags[0]).toBe(a.spec.tags[0]);
    expect(Object.isFrozen(a.spec.tags[0]?.from)).toBe(true);
    expect(Object.isFrozen(a.spec.tags)).toBe(false);
    expect(b.status.tags[0]?.items[0]).not.toBe(a.status.tags[0]?.items[0]);
    expect(b.status.tags[0]?.items[1]).toBe(a.status.tags[0]?.items[1]);
    expect(b.status.tags[0]).not.toBe(a.status.tags[0]);
    expect(b).toEqual(stream("b", "t2"));
  });

  it("forgets shared values no longer seen, so its tables stay bounded", () => {
    const compactor = new Compactor({ shared: 1 });
    const first = compactor.compact(istag("a:latest", "sha256:a"), ["image"]).image;
    compactor.compact(istag("b:latest", "sha256:b"), ["image"]);
    compactor.compact(istag("c:latest", "sha256:c"), ["image"]);
    const again = compactor.compact(istag("d:latest", "sha256:a"), ["image"]).image;
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });

  it("leaves what is not an object alone", () => {
    const compactor = new Compactor();
    expect(compactor.compact("text")).toBe("text");
    expect(compactor.compact(null)).toBe(null);
  });
});
