import { load, loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { convertManifests, parseConvertArgs, UsageError } from "../../../src/cli/index.ts";

describe("convertManifests", () => {
  it("moves legacy v1 ImageStreams to image.openshift.io/v1 and strips server-set metadata", () => {
    const out = convertManifests(`
apiVersion: v1
kind: ImageStream
metadata:
  name: ruby
  namespace: ns
  uid: 1234
  resourceVersion: "99"
  generation: 3
  creationTimestamp: "2020-01-01T00:00:00Z"
  selfLink: /oapi/v1/namespaces/ns/imagestreams/ruby
  managedFields: []
  labels: {app: ruby}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: "{}"
spec:
  tags:
  - name: "2.5"
    from: {kind: DockerImage, name: ruby:2.5}
`);
    expect(load(out)).toEqual({
      apiVersion: "image.openshift.io/v1",
      kind: "ImageStream",
      metadata: { name: "ruby", namespace: "ns", labels: { app: "ruby" } },
      spec: { tags: [{ name: "2.5", from: { kind: "DockerImage", name: "ruby:2.5" } }] },
    });
  });

  it("converts List items and JSON input, renames stream:tag ImageStreamTags, leaves other kinds alone", () => {
    const list = {
      apiVersion: "v1",
      kind: "List",
      metadata: { resourceVersion: "" },
      items: [
        {
          apiVersion: "v1",
          kind: "ImageStreamTag",
          metadata: { name: "ruby:2.5" },
          tag: { from: { kind: "DockerImage", name: "r" } },
        },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", uid: "u" }, data: { a: "1" } },
      ],
    };
    const [converted] = loadAll(convertManifests(JSON.stringify(list)));
    expect(converted).toEqual({
      apiVersion: "v1",
      kind: "List",
      metadata: {},
      items: [
        {
          apiVersion: "image.openshift.io/v1",
          kind: "ImageStreamTag",
          metadata: { name: "ruby.2.5" },
          tag: { name: "2.5", from: { kind: "DockerImage", name: "r" } },
        },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "1" } },
      ],
    });
  });

  it("keeps every document of a stream and rejects invalid YAML", () => {
    const out = convertManifests(
      "apiVersion: v1\nkind: ImageStream\nmetadata: {name: a}\n---\n---\napiVersion: image.openshift.io/v1\nkind: ImageStream\nmetadata: {name: b}\n",
    );
    expect(loadAll(out).map((d) => (d as { metadata: { name: string } }).metadata.name)).toEqual(["a", "b"]);
    expect(() => convertManifests("a: [")).toThrow(UsageError);
  });
});

describe("parseConvertArgs", () => {
  it("needs -f and takes no cluster flags", () => {
    expect(parseConvertArgs(["-f", "-"])).toEqual({ filename: "-" });
    expect(() => parseConvertArgs([])).toThrow(/-f FILE/);
    expect(() => parseConvertArgs(["-f", "x", "-n", "ns"])).toThrow(UsageError);
  });
});
