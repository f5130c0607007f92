import { describe, expect, it } from "vitest";
import { generateTypes, toCrd, toOpenApiSchema } from "../../../src/api/codegen.ts";
import {
  crdModels,
  imageStreamCrd,
  imageStreamImportCrd,
  imageStreamTagCrd,
  type SchemaNode,
} from "../../../src/api/schema.ts";

function keysDeep(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysDeep(v, found);
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      found.add(k);
      keysDeep(v, found);
    }
  }
  return found;
}

describe("toOpenApiSchema", () => {
  it("strips the TypeScript-only keys at every depth", () => {
    const node: SchemaNode = {
      type: "object",
      tsName: "Outer",
      tsRequired: ["a"],
      properties: {
        a: {
          type: "array",
          items: { type: "object", tsName: "Inner", properties: { b: { type: "string" } } },
        },
        m: { type: "object", additionalProperties: { type: "object", tsType: "Record<string, never>" } },
      },
    };
    expect(toOpenApiSchema(node)).toEqual({
      type: "object",
      properties: {
        a: { type: "array", items: { type: "object", properties: { b: { type: "string" } } } },
        m: { type: "object", additionalProperties: { type: "object" } },
      },
    });
  });
});

describe("toCrd", () => {
  const groups: Record<string, [string, string]> = {
    ImageStream: ["image.openshift.io", "v1"],
    ImageStreamTag: ["image.openshift.io", "v1"],
    ImageStreamImport: ["image.openshift.io", "v1"],
    Receiver: ["imagestream-operator.io", "v1alpha1"],
  };
  it.each(crdModels)("$kind is a namespaced CRD of its group and version, without TS keys", (model) => {
    const crd = toCrd(model);
    const keys = keysDeep(crd);
    for (const tsKey of ["tsName", "tsType", "tsRequired"]) expect(keys.has(tsKey)).toBe(false);
    const [group, version] = groups[model.kind] ?? ["(a kind this test does not know)", ""];
    expect(crd).toMatchObject({
      metadata: { name: `${model.plural}.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { kind: model.kind },
        versions: [{ name: version, served: true, storage: true }],
      },
    });
  });

  it("gives ImageStream and ImageStreamTag a status subresource and oc's short names", () => {
    for (const model of [imageStreamCrd, imageStreamTagCrd]) {
      expect(toCrd(model)).toMatchObject({
        spec: {
          names: { shortNames: model.shortNames },
          versions: [{ subresources: { status: {} } }],
        },
      });
    }
  });

  it("gives ImageStreamImport no status subresource (the webhook's answer must survive the create) and no short name", () => {
    const crd = toCrd(imageStreamImportCrd) as { spec: { names: object; versions: object[] } };
    expect(crd.spec.versions[0]).not.toHaveProperty("subresources");
    expect(crd.spec.names).not.toHaveProperty("shortNames");
  });

  it("gives oc's printer columns", () => {
    const columns = (model: typeof imageStreamCrd) => model.printerColumns.map((c) => c.name.toUpperCase());
    expect(columns(imageStreamCrd)).toEqual(["IMAGE REPOSITORY", "TAGS", "UPDATED"]);
    expect(columns(imageStreamTagCrd)).toEqual(["IMAGE REFERENCE", "UPDATED"]);
  });

  it("describes every property so kubectl explain is useful", () => {
    const undocumented: string[] = [];
    const walk = (node: SchemaNode, path: string) => {
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        const childPath = `${path}.${name}`;
        if (!child.description) undocumented.push(childPath);
        if (child.items) walk(child.items, childPath);
        walk(child, childPath);
      }
    };
    for (const model of crdModels) walk(model.schema, model.kind);
    // Root metadata is the API server's ObjectMeta; kubectl explain documents it itself.
    expect(undocumented.filter((p) => !/^\w+\.metadata(\.name)?$/.test(p))).toEqual([]);
  });
});

describe("generateTypes", () => {
  const source = generateTypes(crdModels);

  it("declares each named type once, with literal unions for enums", () => {
    expect(source.match(/export interface TagReference \{/g)).toHaveLength(1);
    expect(source).toContain(
      'export type TagSourceKind = "DockerImage" | "ImageStreamTag" | "ImageStreamImage";',
    );
    expect(source).toContain('export type ImportMode = "Legacy" | "PreserveOriginal" | "";');
    expect(source).toContain('export type TagReferencePolicyType = "Source" | "Local" | "";');
    expect(source).toContain('status: "True" | "False" | "Unknown";');
  });

  it("marks nullable fields and required fields as the schema says", () => {
    expect(source).toContain("tags?: TagReference[] | null;");
    expect(source).toContain("items: TagEvent[] | null;");
    expect(source).toContain("annotations?: Record<string, string> | null;");
    expect(source).toContain("tag?: TagReference | null;");
    expect(source).toContain("metadata: ObjectMeta;");
  });
});
