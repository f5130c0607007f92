import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkImageStreamImport,
  type ImportResults,
  importAnswer,
  importAnswerDecision,
  importedStatus,
  importedStream,
  targetTag,
  validateImageStreamImport,
} from "../../../src/admission/index.ts";
import type { ImageStream, ImageStreamImport } from "../../../src/api/index.ts";
import {
  DEFAULT_IMPORT_SETTINGS,
  type ImportOutcome,
  INSECURE_REPOSITORY_ANNOTATION,
  PREFER_ARCH_ANNOTATION,
  REPOSITORY_CHECK_ANNOTATION,
  recordImportOutcomes,
} from "../../../src/imports/index.ts";
import { acceptedImportFixtures, FIXTURES_DIR, rejectedImportFixtures } from "../../fixtures/crd-fixtures.ts";
import { applyPatch, D1, D2, dockerTag, imageStream, imported, NS } from "./fixtures.ts";

const NOW = new Date("2024-05-02T12:00:00Z");
const NOW_ISO = "2024-05-02T12:00:00Z";
const settings = { ...DEFAULT_IMPORT_SETTINGS };
const FROM = "registry.example.com/team/app:1.0";

function readFixture(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, file), "utf8")) as Record<string, unknown>;
}

/** The ImageStreamImport `oc import-image NAME:TAG --from=FROM [--confirm]` POSTs. */
function ocImport(
  name: string,
  tag: string,
  from: string,
  extra: { resourceVersion?: string; import?: boolean } = {},
): ImageStreamImport {
  return {
    kind: "ImageStreamImport",
    apiVersion: "image.openshift.io/v1",
    metadata: {
      name,
      namespace: NS,
      ...(extra.resourceVersion ? { resourceVersion: extra.resourceVersion } : {}),
    },
    spec: {
      import: extra.import ?? true,
      images: [
        {
          from: { kind: "DockerImage", name: from },
          to: { name: tag },
          importPolicy: {},
          referencePolicy: { type: "" },
        },
      ],
    },
  };
}

const ok = (tag: string, digest: string, from = FROM): ImportOutcome => ({
  tag,
  ok: true,
  digest,
  pullSpec: from,
  image: {
    metadata: { name: digest },
    dockerImageReference: "",
    dockerImageMetadata: { Architecture: "amd64", Os: "linux" },
  },
});
const notFound = (tag: string, from = FROM): ImportOutcome => ({
  tag,
  ok: false,
  reason: "NotFound",
  message: `manifest unknown: ${from}`,
});

/** What kube-apiserver makes of a write: generation 1 on create, +1 when the spec changed. */
function stored(write: ReturnType<typeof importedStream>, current: ImageStream | undefined): ImageStream {
  const generation = !current
    ? 1
    : JSON.stringify(current.spec) === JSON.stringify(write.stream.spec)
      ? (current.metadata.generation ?? 1)
      : (current.metadata.generation ?? 1) + 1;
  return {
    ...write.stream,
    metadata: { ...write.stream.metadata, generation, resourceVersion: "2" },
    ...(current?.status ? { status: current.status } : {}),
  };
}

/** The whole webhook flow for one request, with the registry's results given. */
function run(isi: ImageStreamImport, current: ImageStream | undefined, results: ImportResults) {
  const check = checkImageStreamImport(isi, NS, current, settings);
  if (!check.ok) throw new Error(JSON.stringify(check.decision));
  const write = importedStream(check.isi, NS, current, results, NOW, settings);
  const written = write.write === "none" ? current : stored(write, current);
  const status = written ? importedStatus(written, write.outcomes, NOW, settings) : undefined;
  const after = written ? { ...written, ...(status ? { status } : {}) } : undefined;
  return { check, write, after, answer: importAnswer(check.isi, results, after) };
}

describe("validateImageStreamImport", () => {
  it.each(acceptedImportFixtures)("accepts %s (oc's requests)", (file) => {
    expect(validateImageStreamImport(readFixture(file))).toEqual([]);
  });

  it.each(rejectedImportFixtures)(
    "rejects $file with the API server's words ($why)",
    ({ file, messages }) => {
      const errors = validateImageStreamImport(readFixture(file)).join("\n");
      for (const message of messages) expect(errors).toContain(message);
    },
  );

  it("names every other problem before anything is imported", () => {
    const base = ocImport("app", "1.0", FROM);
    const image = base.spec.images?.[0] as unknown as Record<string, unknown>;
    const withImage = (patch: Record<string, unknown>) => ({
      ...base,
      spec: { import: true, images: [{ ...image, ...patch }] },
    });
    expect(validateImageStreamImport(withImage({ from: { kind: "DockerImage" } }))).toEqual([
      "spec.images[0].from.name: Required value",
    ]);
    expect(
      validateImageStreamImport(withImage({ from: { kind: "DockerImage", name: "UPPER/x" } }))[0],
    ).toContain('spec.images[0].from.name: Invalid value: "UPPER/x": invalid image reference');
    expect(validateImageStreamImport(withImage({ to: { name: "" } }))).toEqual([
      'spec.images[0].to.name: Invalid value: "": the name of the target tag must be specified',
    ]);
    expect(validateImageStreamImport(withImage({ importPolicy: { importMode: "Preserve" } }))).toEqual([
      'spec.images[0].importPolicy.importMode: Unsupported value: "Preserve": supported values: "Legacy", "PreserveOriginal"',
    ]);
    expect(validateImageStreamImport(withImage({ referencePolicy: { type: "Remote" } }))).toEqual([
      'spec.images[0].referencePolicy.type: Unsupported value: "Remote": supported values: "Source", "Local"',
    ]);
    expect(validateImageStreamImport({ ...base, metadata: { name: "Bad_Name" } })[0]).toContain(
      'metadata.name: Invalid value: "Bad_Name": image stream name "Bad_Name" is invalid',
    );
    expect(validateImageStreamImport({ metadata: { name: "x" } })).toEqual(["spec: Required value"]);
    expect(validateImageStreamImport("x")).toEqual(["the request is not an object"]);
  });
});

describe("targetTag", () => {
  it("is to.name, else the tag of from.name (OpenShift's default), else none", () => {
    expect(targetTag({ from: { kind: "DockerImage", name: "r/app:1" }, to: { name: "x" } })).toBe("x");
    expect(targetTag({ from: { kind: "DockerImage", name: "r:5000/app:1" } })).toBe("1");
    expect(targetTag({ from: { kind: "DockerImage", name: `r/app@${D1}` } })).toBeUndefined();
    expect(targetTag({ from: { kind: "DockerImage", name: "r:5000/app" } })).toBeUndefined();
  });
});

describe("checkImageStreamImport", () => {
  const current = imageStream("app", [
    dockerTag("1.0", FROM, { annotations: { [PREFER_ARCH_ANNOTATION]: "arm64" } }),
  ]);
  current.metadata.resourceVersion = "7";
  current.metadata.uid = "uid-7";

  it("plans one registry import per image, and who must be allowed to create the stream", () => {
    const check = checkImageStreamImport(ocImport("app", "1.0", FROM), NS, undefined, settings);
    expect(check).toMatchObject({
      ok: true,
      plan: {
        images: [{ tag: "1.0", from: FROM, insecure: false, importMode: "Legacy", causes: ["Requested"] }],
        access: { verb: "create", group: "image.openshift.io", resource: "imagestreams", namespace: NS },
      },
    });
  });

  it("an existing stream: update access on it, its insecure annotation and the tag's platform preference", () => {
    const insecure = {
      ...current,
      metadata: { ...current.metadata, annotations: { [INSECURE_REPOSITORY_ANNOTATION]: "true" } },
    };
    const check = checkImageStreamImport(
      ocImport("app", "1.0", FROM, { resourceVersion: "7" }),
      NS,
      insecure,
      settings,
    );
    expect(check).toMatchObject({
      ok: true,
      plan: {
        images: [{ tag: "1.0", insecure: true, preferArch: "arm64" }],
        access: { verb: "update", resource: "imagestreams", namespace: NS, name: "app" },
      },
    });
  });

  it("a repository import is limited like the operator's own, and a dry run asks for no access", () => {
    const isi: ImageStreamImport = {
      metadata: { name: "app" },
      spec: {
        import: false,
        repository: { from: { kind: "DockerImage", name: "r/app" }, importPolicy: { insecure: true } },
      },
    };
    const check = checkImageStreamImport(isi, NS, undefined, { repositoryTagLimit: 5 });
    expect(check).toMatchObject({
      ok: true,
      plan: { images: [], repository: { from: "r/app", insecure: true, limit: 5 } },
    });
    expect(check.ok && check.plan.access).toBeUndefined();
  });

  it("answers 409 when the stream changed since oc read it, 404 when it is gone or was recreated", () => {
    expect(
      checkImageStreamImport(ocImport("app", "1.0", FROM, { resourceVersion: "6" }), NS, current, settings),
    ).toEqual({
      ok: false,
      decision: {
        allowed: false,
        code: 409,
        reason: "Conflict",
        message:
          'Operation cannot be fulfilled on imagestreams.image.openshift.io "app": the image stream was updated from "6" to "7"',
        warnings: [],
      },
    });
    expect(
      checkImageStreamImport(ocImport("app", "1.0", FROM, { resourceVersion: "6" }), NS, undefined, settings),
    ).toMatchObject({
      ok: false,
      decision: { code: 404, reason: "NotFound", message: 'imagestreams.image.openshift.io "app" not found' },
    });
    const other = ocImport("app", "1.0", FROM);
    other.metadata.uid = "uid-old";
    expect(checkImageStreamImport(other, NS, current, settings)).toMatchObject({
      ok: false,
      decision: { code: 404 },
    });
  });

  it("answers 422 Invalid with every problem", () => {
    const check = checkImageStreamImport(
      { metadata: { name: "app" }, spec: { import: true, images: [] } },
      NS,
      undefined,
      settings,
    );
    expect(check).toMatchObject({
      ok: false,
      decision: {
        code: 422,
        reason: "Invalid",
        message:
          'ImageStreamImport.image.openshift.io "app" is invalid: spec.images: Invalid value: null: you must specify at least one image or a repository import',
      },
    });
  });
});

describe("oc import-image NAME --from=REF --confirm: a new stream", () => {
  const { write, after, answer } = run(ocImport("app", "latest", FROM), undefined, {
    images: [ok("latest", D1)],
  });

  it("creates the stream with a DockerImage spec tag carrying the request's policies and the check annotation", () => {
    expect(write.write).toBe("create");
    expect(write.stream).toEqual({
      apiVersion: "image.openshift.io/v1",
      kind: "ImageStream",
      metadata: { name: "app", namespace: NS, annotations: { [REPOSITORY_CHECK_ANNOTATION]: NOW_ISO } },
      spec: {
        tags: [
          {
            name: "latest",
            from: { kind: "DockerImage", name: FROM },
            importPolicy: {},
            referencePolicy: { type: "" },
          },
        ],
      },
    });
  });

  it("records the image in status with the import core's rules, at the stored generation", () => {
    expect(after?.status?.tags).toEqual([
      {
        tag: "latest",
        items: [
          {
            created: NOW_ISO,
            dockerImageReference: `registry.example.com/team/app@${D1}`,
            image: D1,
            generation: 1,
          },
        ],
      },
    ]);
    expect(after?.status?.tagSummary).toBe("latest");
  });

  it("answers Success with the image and the stream after the import", () => {
    expect(answer.images).toEqual([
      {
        status: { status: "Success" },
        tag: "latest",
        image: {
          metadata: { name: D1 },
          dockerImageReference: `registry.example.com/team/app@${D1}`,
          dockerImageMetadata: { Architecture: "amd64", Os: "linux" },
        },
      },
    ]);
    expect(answer.import).toBe(after);
  });

  it("stores the answer in the object through the admission patch", () => {
    const isi = ocImport("app", "latest", FROM, { resourceVersion: "7" });
    const decision = importAnswerDecision(isi, answer);
    expect(decision.allowed).toBe(true);
    if (!decision.allowed) return;
    const patched = applyPatch(isi, decision.patch);
    expect(patched.status).toEqual(answer);
    expect(patched.metadata.resourceVersion).toBeUndefined();
    expect(importAnswerDecision(ocImport("app", "latest", FROM), answer)).toMatchObject({
      patch: [{ op: "add", path: "/status" }],
    });
  });
});

describe("oc import-image NAME:TAG of an existing tag", () => {
  const existing = (): ImageStream => {
    const s = imageStream(
      "app",
      [
        dockerTag("1.0", FROM, {
          importPolicy: { importMode: "PreserveOriginal" },
          referencePolicy: { type: "Local" },
        }),
      ],
      [imported("1.0", [`registry.example.com/team/app@${D1}`, D1, "2024-05-01T10:00:00Z"])],
    );
    s.metadata = {
      ...s.metadata,
      generation: 3,
      resourceVersion: "7",
      annotations: { [REPOSITORY_CHECK_ANNOTATION]: "2024-05-01T10:00:00Z" },
    };
    // The controller has seen generation 3 already and keeps the summary fields.
    for (const item of s.status?.tags?.[0]?.items ?? []) item.generation = 3;
    s.status = recordImportOutcomes({ stream: s, outcomes: [], now: NOW, settings }).status ?? s.status;
    return s;
  };

  it("writes nothing when the registry has the same image (OpenShift: no changes, no update)", () => {
    const current = existing();
    current.spec = {
      tags: [dockerTag("1.0", FROM, { importPolicy: {}, referencePolicy: { type: "Local" } })],
    };
    const { write, after, answer } = run(ocImport("app", "1.0", FROM, { resourceVersion: "7" }), current, {
      images: [ok("1.0", D1)],
    });
    expect(write.write).toBe("none");
    expect(after).toEqual(current);
    expect(answer.images?.[0]?.status).toEqual({ status: "Success" });
  });

  it("records a new image on top of the history, resets the import policy, keeps a reference policy already set", () => {
    const current = existing();
    const { write, after } = run(ocImport("app", "1.0", FROM, { resourceVersion: "7" }), current, {
      images: [ok("1.0", D2)],
    });
    expect(write.write).toBe("update");
    expect(write.stream.spec?.tags).toEqual([
      {
        name: "1.0",
        from: { kind: "DockerImage", name: FROM },
        importPolicy: {},
        referencePolicy: { type: "Local" },
      },
    ]);
    expect(write.stream.metadata.annotations?.[REPOSITORY_CHECK_ANNOTATION]).toBe(NOW_ISO);
    // The spec changed (import policy), so the stored stream is at generation 4.
    expect(after?.status?.tags?.[0]?.items?.map((i) => [i.image, i.generation])).toEqual([
      [D2, 4],
      [D1, 3],
    ]);
  });

  it("a failed import keeps the history and records ImportSuccess=False; the answer carries reason, message and code", () => {
    const current = existing();
    const { write, after, answer } = run(ocImport("app", "1.0", FROM, { resourceVersion: "7" }), current, {
      images: [notFound("1.0")],
    });
    expect(write.stream.spec?.tags).toEqual(current.spec?.tags);
    expect(after?.status?.tags?.[0]).toMatchObject({
      tag: "1.0",
      items: [{ image: D1 }],
      conditions: [
        {
          type: "ImportSuccess",
          status: "False",
          reason: "NotFound",
          message: `manifest unknown: ${FROM}`,
          generation: 3,
        },
      ],
    });
    expect(answer.images).toEqual([
      {
        status: { status: "Failure", reason: "NotFound", message: `manifest unknown: ${FROM}`, code: 404 },
        tag: "1.0",
      },
    ]);
  });

  it("a failed import into a new tag still adds the tag (so a retry knows its source)", () => {
    const { write, after } = run(ocImport("app", "2.0", "registry.example.com/team/app:2.0"), undefined, {
      images: [notFound("2.0", "registry.example.com/team/app:2.0")],
    });
    expect(write.stream.spec?.tags?.map((t) => [t.name, t.from?.name])).toEqual([
      ["2.0", "registry.example.com/team/app:2.0"],
    ]);
    expect(after?.status?.tags?.[0]?.conditions?.[0]?.reason).toBe("NotFound");
  });
});

describe("oc import-image NAME --from=REPO --all --confirm (repository)", () => {
  const isi: ImageStreamImport = {
    metadata: { name: "app", namespace: NS },
    spec: {
      import: true,
      repository: {
        from: { kind: "DockerImage", name: "registry.example.com:5000/team/app" },
        importPolicy: { scheduled: true },
        referencePolicy: { type: "Local" },
      },
    },
  };
  const repo = "registry.example.com:5000/team/app";

  it("adds a spec tag per imported repository tag, reports the rest beyond the limit", () => {
    const { write, after, answer } = run(isi, undefined, {
      images: [],
      repository: {
        ok: true,
        tags: [
          ok("latest", D1, `${repo}:latest`),
          ok("1.0", D2, `${repo}:1.0`),
          notFound("0.9", `${repo}:0.9`),
        ],
        additionalTags: ["0.1", "0.2"],
      },
    });
    expect(write.stream.spec?.tags).toEqual([
      {
        name: "latest",
        from: { kind: "DockerImage", name: `${repo}:latest` },
        importPolicy: { scheduled: true },
        referencePolicy: { type: "Local" },
      },
      {
        name: "1.0",
        from: { kind: "DockerImage", name: `${repo}:1.0` },
        importPolicy: { scheduled: true },
        referencePolicy: { type: "Local" },
      },
    ]);
    expect(after?.status?.tags?.map((t) => [t.tag, t.items?.[0]?.dockerImageReference])).toEqual([
      ["1.0", `${repo}@${D2}`],
      ["latest", `${repo}@${D1}`],
    ]);
    expect(answer.repository).toMatchObject({
      status: { status: "Success" },
      additionalTags: ["0.1", "0.2"],
      images: [
        { status: { status: "Success" }, tag: "latest", image: { dockerImageReference: `${repo}@${D1}` } },
        { status: { status: "Success" }, tag: "1.0" },
        { status: { status: "Failure", reason: "NotFound", code: 404 }, tag: "0.9" },
      ],
    });
  });

  it("a repository that cannot be listed is a Failure of the repository, and changes no tag", () => {
    const { write, answer } = run(isi, undefined, {
      images: [],
      repository: { ok: false, reason: "Unauthorized", message: "authentication required" },
    });
    expect(write.stream.spec?.tags).toEqual([]);
    expect(answer.repository).toEqual({
      status: { status: "Failure", reason: "Unauthorized", message: "authentication required", code: 401 },
    });
  });
});

describe("images without a target tag, and dry runs", () => {
  it("a digest without `to` is imported and reported, not recorded", () => {
    const isi: ImageStreamImport = {
      metadata: { name: "app" },
      spec: {
        import: true,
        images: [{ from: { kind: "DockerImage", name: `registry.example.com/team/app@${D1}` } }],
      },
    };
    const current = imageStream("app", [], [], {});
    current.metadata.annotations = { [REPOSITORY_CHECK_ANNOTATION]: "2024-05-01T10:00:00Z" };
    const { write, answer } = run(isi, current, {
      images: [ok("", D1, `registry.example.com/team/app@${D1}`)],
    });
    expect(write.write).toBe("none");
    expect(answer.images?.[0]).toMatchObject({
      status: { status: "Success" },
      image: { metadata: { name: D1 } },
    });
    expect(answer.images?.[0]).not.toHaveProperty("tag");
  });

  it("spec.import false (--dry-run): the answer has the images and no stream", () => {
    const isi = ocImport("app", "1.0", FROM, { import: false });
    expect(importAnswer(isi, { images: [ok("1.0", D1)] })).toEqual({
      images: [expect.objectContaining({ status: { status: "Success" }, tag: "1.0" })],
    });
  });

  it("an image the shell could not import at all is a Failure, never a missing entry", () => {
    expect(importAnswer(ocImport("app", "1.0", FROM), { images: [] }).images).toEqual([
      {
        status: {
          status: "Failure",
          reason: "InternalError",
          message: "the image was not imported",
          code: 500,
        },
        tag: "1.0",
      },
    ]);
  });
});
