// The ImageStream and ImageStreamTag CRDs against a real kube-apiserver: they are established,
// accept the OpenShift doc examples and exports, reject each invalid class with a readable
// message, print oc's columns and explain their fields.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { imageStreamCrd, imageStreamImportCrd, imageStreamTagCrd } from "../../src/api/index.ts";
import {
  acceptedFixtures,
  acceptedImportFixtures,
  FIXTURES_DIR,
  rejectedFixtures,
  rejectedImportFixtures,
} from "../fixtures/crd-fixtures.ts";
import { type ControlPlane, createNamespace, kubectl, useSharedControlPlane } from "../harness/index.ts";

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function record(value: unknown, what: string): Json {
  if (!isRecord(value)) throw new Error(`${what} is not an object`);
  return value;
}

/** Reads a fixture (YAML or JSON) as plain data; YAML 1.2 core schema, so timestamps stay strings. */
function readFixture(file: string): Json {
  return record(load(readFileSync(join(FIXTURES_DIR, file), "utf8")), file);
}

/**
 * kubectl's client-side apply drops null-valued fields before sending (null means "remove" in
 * its patches), so a read-back is compared with the fixture minus its nulls.
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/** The fields a user owns: everything but metadata, status and the type fields. */
function userFields(obj: Json): Json {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

function resourceOf(kind: unknown): string {
  if (kind === "ImageStream") return "imagestreams.image.openshift.io";
  if (kind === "ImageStreamTag") return "imagestreamtags.image.openshift.io";
  if (kind === "ImageStreamImport") return "imagestreamimports.image.openshift.io";
  throw new Error(`unexpected kind ${String(kind)}`);
}

async function getJson(cp: ControlPlane, args: string[]): Promise<Json> {
  const got = await kubectl(cp, ["get", ...args, "-o", "json"]);
  expect(got.stderr).toBe("");
  return record(JSON.parse(got.stdout), "kubectl get output");
}

describe("image.openshift.io CRDs", () => {
  let cp: ControlPlane;
  let ns: string;

  beforeAll(async () => {
    cp = useSharedControlPlane();
    ns = await createNamespace(cp, "crds");
  });

  it("are installed and established with oc's names", async () => {
    for (const model of [imageStreamCrd, imageStreamTagCrd, imageStreamImportCrd]) {
      const crd = await getJson(cp, ["crd", `${model.plural}.image.openshift.io`]);
      const status = record(crd.status, "crd status");
      const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isRecord) : [];
      expect(conditions.find((c) => c.type === "Established")?.status).toBe("True");
      const names = record(status.acceptedNames, "acceptedNames");
      expect(names.shortNames ?? []).toEqual(model.shortNames);
      expect(names.kind).toBe(model.kind);
    }
  });

  describe("accept OpenShift manifests unchanged and read them back intact", () => {
    it.each(acceptedFixtures)("%s", async (file) => {
      const manifest = readFixture(file);
      const metadata = record(manifest.metadata, "metadata");
      // Fixtures keep the namespace of the docs; each test owns its own.
      const applied = { ...manifest, metadata: { ...metadata, namespace: ns } };
      const name = String(metadata.name);
      const resource = resourceOf(manifest.kind);

      const result = await kubectl(cp, ["apply", "-f", "-"], JSON.stringify(applied));
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      try {
        const stored = await getJson(cp, [resource, name, "-n", ns]);
        expect(userFields(stored)).toEqual(withoutNulls(userFields(manifest)));
        const storedMeta = record(stored.metadata, "stored metadata");
        const storedAnnotations = isRecord(storedMeta.annotations) ? storedMeta.annotations : {};
        expect(storedAnnotations).toMatchObject(isRecord(metadata.annotations) ? metadata.annotations : {});
        if (isRecord(metadata.labels)) expect(storedMeta.labels).toEqual(metadata.labels);
        // Status belongs to the operator: a create through the main resource does not set it.
        expect(stored.status).toBeUndefined();
      } finally {
        await kubectl(cp, ["delete", resource, name, "-n", ns, "--wait=true"]);
      }
    });

    // OpenShift's catalog streams and oc's own request bodies carry `referencePolicy: {type: ""}`,
    // `importPolicy: {}` (or `importMode: ""`) and `generation: null`: OpenShift defaults them.
    it.each([
      "imagestreams/valid/catalog-ruby.json",
      "imagestreams/valid/catalog-httpd.json",
      "imagestreams/valid/oc-tag-fallback-new-stream.json",
    ])("creates %s with its empty values and nulls kept as sent", async (file) => {
      const manifest = readFixture(file);
      const metadata = record(manifest.metadata, "metadata");
      const name = `created-${String(metadata.name)}`;
      const created = { ...manifest, metadata: { ...metadata, name, namespace: ns } };
      const result = await kubectl(cp, ["create", "-f", "-"], JSON.stringify(created));
      expect(result.stderr).toBe("");
      const stored = await getJson(cp, ["is", name, "-n", ns]);
      expect(stored.spec).toEqual(manifest.spec);
    });

    it("keeps explicit nulls of an export (kubectl create sends them as they are)", async () => {
      const manifest = readFixture("imagestreams/valid/is-export-full.yaml");
      const metadata = record(manifest.metadata, "metadata");
      const created = { ...manifest, metadata: { ...metadata, name: "web-nulls", namespace: ns } };
      const result = await kubectl(cp, ["create", "-f", "-"], JSON.stringify(created));
      expect(result.stderr).toBe("");
      const stored = await getJson(cp, ["is", "web-nulls", "-n", ns]);
      expect(stored.spec).toEqual(manifest.spec);
      const tags = record(stored.spec, "spec").tags;
      expect(Array.isArray(tags) && isRecord(tags[0]) ? tags[0].annotations : "missing").toBeNull();
    });
  });

  describe("reject invalid manifests with a readable message", () => {
    it.each(rejectedFixtures)("$file ($why)", async ({ file, messages }) => {
      const manifest = readFixture(file);
      const metadata = record(manifest.metadata, "metadata");
      const applied = { ...manifest, metadata: { ...metadata, namespace: ns } };
      const result = await kubectl(cp, ["apply", "-f", "-"], JSON.stringify(applied));
      expect(result.code).not.toBe(0);
      for (const message of messages) expect(result.stderr).toContain(message);
    });
  });

  describe("imagestreamimports", () => {
    // Created with `kubectl create` (a POST, as oc sends it); the answer in status must survive
    // the create, since the operator's webhook writes it there before the object is stored.
    it.each(acceptedImportFixtures)("accepts %s and keeps its status", async (file) => {
      const manifest = readFixture(file);
      const metadata = record(manifest.metadata, "metadata");
      const name = String(metadata.name);
      const created = { ...manifest, metadata: { ...metadata, namespace: ns } };
      const result = await kubectl(cp, ["create", "-f", "-"], JSON.stringify(created));
      expect(result.stderr).toBe("");
      try {
        const stored = await getJson(cp, ["imagestreamimports.image.openshift.io", name, "-n", ns]);
        expect(stored.spec).toEqual(manifest.spec);
        expect(stored.status ?? {}).toEqual(manifest.status ?? {});
      } finally {
        await kubectl(cp, ["delete", "imagestreamimports.image.openshift.io", name, "-n", ns]);
      }
    });

    it.each(rejectedImportFixtures)("rejects $file ($why)", async ({ file, messages }) => {
      const manifest = readFixture(file);
      const metadata = record(manifest.metadata, "metadata");
      const created = { ...manifest, metadata: { ...metadata, namespace: ns } };
      const result = await kubectl(cp, ["create", "-f", "-"], JSON.stringify(created));
      expect(result.code).not.toBe(0);
      for (const message of messages) expect(result.stderr).toContain(message);
    });
  });

  describe("printer columns", () => {
    const fiveMinutesAgo = () => new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d+Z$/, "Z");

    it("kubectl get is shows NAME, IMAGE REPOSITORY, TAGS, UPDATED", async () => {
      const stream = {
        apiVersion: "image.openshift.io/v1",
        kind: "ImageStream",
        metadata: { name: "columns", namespace: ns },
        spec: {
          tags: [{ name: "latest", from: { kind: "DockerImage", name: "docker.io/library/redis:7" } }],
        },
      };
      expect((await kubectl(cp, ["apply", "-f", "-"], JSON.stringify(stream))).code).toBe(0);
      const status = {
        status: {
          dockerImageRepository: "registry.local:5000/team/columns",
          tags: [
            {
              tag: "latest",
              items: [
                {
                  created: fiveMinutesAgo(),
                  dockerImageReference: "docker.io/library/redis@sha256:aa",
                  image: "sha256:aa",
                  generation: 1,
                },
              ],
            },
          ],
          tagSummary: "latest,7,6 + 2 more...",
          lastUpdated: fiveMinutesAgo(),
        },
      };
      const patched = await kubectl(cp, [
        "patch",
        "is",
        "columns",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify(status),
      ]);
      expect(patched.stderr).toBe("");

      const table = await kubectl(cp, ["get", "is", "columns", "-n", ns]);
      const [header, row] = table.stdout.trimEnd().split("\n");
      expect(header?.split(/\s{2,}/)).toEqual(["NAME", "IMAGE REPOSITORY", "TAGS", "UPDATED"]);
      expect(row?.split(/\s{2,}/)).toEqual([
        "columns",
        "registry.local:5000/team/columns",
        "latest,7,6 + 2 more...",
        expect.stringMatching(/^[56]m\d*s?$/),
      ]);
    });

    it("kubectl get istag shows NAME, IMAGE REFERENCE, UPDATED", async () => {
      const istag = {
        apiVersion: "image.openshift.io/v1",
        kind: "ImageStreamTag",
        metadata: { name: "columns.latest", namespace: ns },
        tag: { name: "latest", from: { kind: "DockerImage", name: "docker.io/library/redis:7" } },
        image: { metadata: { name: "sha256:aa" }, dockerImageReference: "docker.io/library/redis@sha256:aa" },
      };
      expect((await kubectl(cp, ["apply", "-f", "-"], JSON.stringify(istag))).code).toBe(0);
      const patched = await kubectl(cp, [
        "patch",
        "istag",
        "columns.latest",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({ status: { lastUpdated: fiveMinutesAgo(), observedGeneration: 1 } }),
      ]);
      expect(patched.stderr).toBe("");

      const table = await kubectl(cp, ["get", "istag", "columns.latest", "-n", ns]);
      const [header, row] = table.stdout.trimEnd().split("\n");
      expect(header?.split(/\s{2,}/)).toEqual(["NAME", "IMAGE REFERENCE", "UPDATED"]);
      expect(row?.split(/\s{2,}/)).toEqual([
        "columns.latest",
        "docker.io/library/redis@sha256:aa",
        expect.stringMatching(/^[56]m\d*s?$/),
      ]);
    });

    it("the status subresource validates what the operator writes", async () => {
      const bad = { status: { tags: [{ tag: "latest", items: [{ created: "2024-01-01T00:00:00Z" }] }] } };
      const patched = await kubectl(cp, [
        "patch",
        "is",
        "columns",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify(bad),
      ]);
      expect(patched.code).not.toBe(0);
      expect(patched.stderr).toContain("status.tags[0].items[0].dockerImageReference: Required value");
    });
  });

  it("kubectl explain is.spec.tags.importPolicy describes the fields", async () => {
    const explained = await kubectl(cp, ["explain", "is.spec.tags.importPolicy"]);
    expect(explained.code).toBe(0);
    // kubectl wraps descriptions at its terminal width.
    const text = explained.stdout.replace(/\s+/g, " ");
    expect(text).toContain("How and when the tag's image is imported from its registry");
    expect(text).toContain("importMode <string> enum: Legacy, PreserveOriginal");
    expect(text).toContain("PreserveOriginal keeps the list's own digest");
    expect(text).toContain("scheduled <boolean> Re-import the tag periodically");
    expect(text).toContain("insecure <boolean> Allow plain HTTP and TLS without certificate verification");
  });
});
