import { describe, expect, it } from "vitest";
import type { ImageStream } from "../../../src/api/types.ts";
import {
  type ComputeStatusInput,
  computeStatus,
  formatTime,
  IMPORT_REQUESTED_HANDLED_ANNOTATION,
  type ImportOutcome,
  REPOSITORY_CHECK_ANNOTATION,
  recordImportOutcomes,
  resolveImageId,
  resolveTagPullSpec,
} from "../../../src/imports/index.ts";
import { D1, D2, D3, DA, DB, dockerTag, event, NOW, settings, statusTag, stream, T0 } from "./fixtures.ts";

const NOW_ISO = "2024-05-01T12:00:00Z";
const CHECKED = { [REPOSITORY_CHECK_ANNOTATION]: T0 };

function compute(s: ImageStream, outcomes: ImportOutcome[] = [], extra: Partial<ComputeStatusInput> = {}) {
  return computeStatus({ stream: s, outcomes, now: NOW, settings: settings(), ...extra });
}

/** The stream as the controller would see it after writing the update. */
function apply(s: ImageStream, update: ReturnType<typeof computeStatus>): ImageStream {
  if (!update) return s;
  return {
    ...s,
    metadata: {
      ...s.metadata,
      annotations: { ...(s.metadata.annotations ?? {}), ...(update.annotations ?? {}) },
    },
    ...(update.status ? { status: update.status } : {}),
  };
}

/** A stream whose status already carries the derived summary fields. */
function settled(s: ImageStream): ImageStream {
  return apply(s, compute(s));
}

describe("computeStatus: DockerImage imports", () => {
  it("records the first import with the most specific pull spec and sets the check annotation", () => {
    const s = stream([dockerTag("2", "redis:2")]);
    const update = compute(s, [{ tag: "2", ok: true, digest: D1 }]);
    expect(update?.status?.tags).toEqual([
      {
        tag: "2",
        items: [{ created: NOW_ISO, dockerImageReference: `redis@${D1}`, image: D1, generation: 1 }],
      },
    ]);
    expect(update?.status).toMatchObject({ tagSummary: "2", lastUpdated: NOW_ISO });
    expect(update?.annotations).toEqual({ [REPOSITORY_CHECK_ANNOTATION]: NOW_ISO });
    expect(update?.changes).toEqual([
      { tag: "2", kind: "Updated", image: D1, dockerImageReference: `redis@${D1}` },
    ]);
  });

  it("uses the outcome's pull spec when given", () => {
    const s = stream([dockerTag("a", "redis:2")]);
    const update = compute(s, [{ tag: "a", ok: true, digest: D1, pullSpec: "docker.io/library/redis:2" }]);
    expect(statusTag(apply(s, update), "a")?.items?.[0]?.dockerImageReference).toBe(
      `docker.io/library/redis@${D1}`,
    );
  });

  it("writes nothing when an import changed nothing", () => {
    const s = stream([dockerTag("a", "redis:2")], null, { annotations: CHECKED });
    const once = apply(s, compute(s, [{ tag: "a", ok: true, digest: D1 }]));
    expect(compute(once, [{ tag: "a", ok: true, digest: D1 }])).toBeUndefined();
    expect(compute(once, [])).toBeUndefined();
  });

  it("prepends a new digest and bounds the history", () => {
    let s = stream([dockerTag("a", "redis:2")], null, { annotations: CHECKED });
    for (const digest of [D1, D2, D3]) {
      s = apply(
        s,
        computeStatus({
          stream: s,
          outcomes: [{ tag: "a", ok: true, digest }],
          now: NOW,
          settings: settings({ historyLimit: 2 }),
        }),
      );
    }
    expect(statusTag(s, "a")?.items?.map((i) => i.image)).toEqual([D3, D2]);
  });

  it("only bumps the generation after a spec change with the same digest", () => {
    const s = stream([dockerTag("a", "redis:2")], [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)] }], {
      generation: 2,
      annotations: CHECKED,
    });
    const update = compute(s, [{ tag: "a", ok: true, digest: D1 }]);
    expect(update?.status?.tags?.[0]?.items).toEqual([event(`redis@${D1}`, D1, 2)]);
  });

  it("records a failure as a condition, keeps history, and does not rewrite it when repeated", () => {
    const s = stream([dockerTag("a", "redis:2")], [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)] }], {
      annotations: CHECKED,
    });
    const failure: ImportOutcome = { tag: "a", ok: false, reason: "NotFound", message: 'tag "2" not found' };
    const update = compute(s, [failure]);
    const entry = update?.status?.tags?.[0];
    expect(entry?.items).toEqual([event(`redis@${D1}`, D1, 1)]);
    expect(entry?.conditions).toEqual([
      {
        type: "ImportSuccess",
        status: "False",
        reason: "NotFound",
        message: 'tag "2" not found',
        generation: 1,
        lastTransitionTime: NOW_ISO,
      },
    ]);
    expect(update?.changes).toEqual([
      { tag: "a", kind: "Failed", reason: "NotFound", message: 'tag "2" not found' },
    ]);
    const failed = apply(s, update);
    expect(compute(failed, [failure], { now: new Date("2024-05-01T13:00:00Z") })).toBeUndefined();
  });

  it("creates a status tag for a failure of a never-imported tag", () => {
    const update = compute(stream([dockerTag("a", "nope:1")]), [
      { tag: "a", ok: false, reason: "Unauthorized", message: "m" },
    ]);
    expect(update?.status?.tags?.[0]).toMatchObject({ tag: "a", items: null });
    expect(update?.status?.tagSummary).toBeUndefined();
  });

  it("clears the failure on a later success even if the digest did not change", () => {
    const s = stream(
      [dockerTag("a", "redis:2")],
      [
        {
          tag: "a",
          items: [event(`redis@${D1}`, D1, 1)],
          conditions: [{ type: "ImportSuccess", status: "False", reason: "X", message: "m", generation: 1 }],
        },
      ],
      { annotations: CHECKED },
    );
    const update = compute(s, [{ tag: "a", ok: true, digest: D1 }]);
    expect(update?.status?.tags?.[0]).toEqual({ tag: "a", items: [event(`redis@${D1}`, D1, 1)] });
    expect(update?.changes).toEqual([]);
  });

  it("ignores outcomes for tags removed from spec and keeps their status", () => {
    const s = settled(stream([], [{ tag: "gone", items: [event("x", D1)] }], { annotations: CHECKED }));
    expect(statusTag(s, "gone")?.items).toEqual([event("x", D1)]);
    expect(compute(s, [{ tag: "gone", ok: true, digest: D2 }])).toBeUndefined();
    expect(compute(s, [])).toBeUndefined();
  });

  it("ignores success outcomes for tags that are not importable any more", () => {
    const s = settled(
      stream(
        [dockerTag("a", "redis:2", { reference: true })],
        [{ tag: "a", items: [event("redis:2", "", 1)] }],
        {
          annotations: CHECKED,
        },
      ),
    );
    expect(compute(s, [{ tag: "a", ok: true, digest: D1 }])?.status).toBeUndefined();
  });

  it("does not mutate the stream", () => {
    const s = stream([dockerTag("a", "redis:2")], [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)] }]);
    const snapshot = structuredClone(s);
    compute(s, [{ tag: "a", ok: true, digest: D2 }]);
    expect(s).toEqual(snapshot);
  });
});

describe("computeStatus: no spurious writes", () => {
  it("treats null/absent/empty items, conditions and tag order alike", () => {
    const s = stream(
      [dockerTag("b", "x"), dockerTag("a", "y")],
      [
        { tag: "b", items: [event(`x@${D1}`, D1)], conditions: [] },
        { tag: "a", items: [event(`y@${D2}`, D2)] },
      ],
      { annotations: CHECKED },
    );
    s.status!.tagSummary = "a,b";
    s.status!.lastUpdated = T0;
    expect(compute(s, [{ tag: "a", ok: true, digest: D2 }])).toBeUndefined();
  });

  it("writes the summary fields once when an older status lacks them", () => {
    const s = stream([], [{ tag: "a", items: [event("x", D1)] }], { annotations: CHECKED });
    expect(compute(s)?.status).toMatchObject({ tagSummary: "a", lastUpdated: T0 });
    expect(compute(settled(s))).toBeUndefined();
  });

  it("handles an empty stream", () => {
    expect(compute({ metadata: { name: "e", namespace: "ns", annotations: null } })).toBeUndefined();
  });
});

describe("computeStatus: annotations", () => {
  it("records the honoured request even when nothing else changed", () => {
    const s = settled(
      stream([dockerTag("a", "redis:2")], [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)] }], {
        annotations: CHECKED,
      }),
    );
    const update = compute(s, [{ tag: "a", ok: true, digest: D1 }], { importRequest: "r1" });
    expect(update).toEqual({
      annotations: { [IMPORT_REQUESTED_HANDLED_ANNOTATION]: "r1", [REPOSITORY_CHECK_ANNOTATION]: NOW_ISO },
      changes: [],
    });
    expect(
      compute(apply(s, update), [{ tag: "a", ok: true, digest: D1 }], { importRequest: "r1" }),
    ).toBeUndefined();
  });

  it("sets the repository check on a first round even if nothing was found", () => {
    const s = stream([], null, {}, { dockerImageRepository: "localhost:5000/empty" });
    const update = compute(s, [], { repositoryImported: true });
    expect(update?.annotations).toEqual({ [REPOSITORY_CHECK_ANNOTATION]: NOW_ISO });
    expect(compute(apply(s, update), [], { repositoryImported: true })).toBeUndefined();
  });

  it("does not touch the check annotation for changes without an import", () => {
    const s = stream([dockerTag("r", "redis:2", { reference: true })], null, { annotations: CHECKED });
    expect(compute(s)?.annotations).toBeUndefined();
  });
});

describe("computeStatus: reference tags", () => {
  it("records from.name with an empty image and imports nothing", () => {
    const s = stream([dockerTag("r", "registry.example/a/b:1", { reference: true })], null, {
      annotations: CHECKED,
    });
    const update = compute(s);
    expect(update?.status?.tags).toEqual([
      { tag: "r", items: [event("registry.example/a/b:1", "", 1, NOW_ISO)] },
    ]);
    expect(compute(apply(s, update))).toBeUndefined();
    const changed = apply(s, update);
    changed.spec!.tags![0]!.from!.name = "registry.example/a/b:2";
    changed.metadata.generation = 2;
    expect(
      statusTag(apply(changed, compute(changed)), "r")?.items?.map((i) => i.dockerImageReference),
    ).toEqual(["registry.example/a/b:2"]);
  });
});

describe("computeStatus: tracking tags (ImageStreamTag)", () => {
  const alias = (name: string, from: string, namespace?: string) => ({
    name,
    from: { kind: "ImageStreamTag" as const, name: from, ...(namespace ? { namespace } : {}) },
  });

  it("follows a source tag in the same stream, as `tag` or `stream:tag`, and through chains", () => {
    const s = stream(
      [dockerTag("src", "redis:2"), alias("a", "src"), alias("b", "app:a"), alias("c", "b")],
      null,
      {
        annotations: CHECKED,
      },
    );
    const first = apply(s, compute(s, [{ tag: "src", ok: true, digest: D1 }]));
    for (const tag of ["a", "b", "c"]) {
      expect(statusTag(first, tag)?.items).toEqual([event(`redis@${D1}`, D1, 1, NOW_ISO)]);
    }
    const update = compute(first, [{ tag: "src", ok: true, digest: D2 }]);
    const second = apply(first, update);
    for (const tag of ["a", "b", "c"]) {
      expect(statusTag(second, tag)?.items?.map((i) => i.image)).toEqual([D2, D1]);
    }
    expect(update?.changes.map((c) => c.tag).sort()).toEqual(["a", "b", "c", "src"]);
    expect(compute(second, [{ tag: "src", ok: true, digest: D2 }])).toBeUndefined();
  });

  it("is silent while the source has no history", () => {
    const s = stream([alias("a", "missing")], null, { annotations: CHECKED });
    expect(compute(s)).toBeUndefined();
  });

  it("reports a cycle and any tag leading into it", () => {
    const s = stream([alias("a", "b"), alias("b", "a"), alias("c", "a")], null, { annotations: CHECKED });
    const tags = compute(s)?.status?.tags ?? [];
    expect(tags.map((t) => [t.tag, t.conditions?.[0]?.reason, t.conditions?.[0]?.message])).toEqual([
      ["a", "Invalid", "reference tag is circular: a -> b -> a"],
      ["b", "Invalid", "reference tag is circular: b -> a -> b"],
      ["c", "Invalid", "reference tag is circular: c -> a -> b -> a"],
    ]);
  });

  it("reports malformed names", () => {
    const tags = compute(stream([alias("a", "x:y:z")]))?.status?.tags;
    expect(tags?.[0]?.conditions?.[0]).toMatchObject({ reason: "Invalid" });
  });

  it("follows other streams and namespaces given as sources, NotFound otherwise", () => {
    const other: ImageStream = {
      metadata: { name: "base", namespace: "shared" },
      status: { tags: [{ tag: "1", items: [event(`quay.io/b@${D3}`, D3, 4, T0)] }] },
    };
    const s = stream([alias("x", "base:1", "shared"), alias("y", "base:1")], null, { annotations: CHECKED });
    const update = compute(s, [], { sourceStreams: [other] });
    expect(statusTag(apply(s, update), "x")?.items).toEqual([event(`quay.io/b@${D3}`, D3, 1, T0)]);
    expect(statusTag(apply(s, update), "y")?.conditions?.[0]).toMatchObject({
      reason: "NotFound",
      message: 'imagestreams.image.openshift.io "base" not found',
    });
  });

  it("lets an explicit failure outcome (e.g. Forbidden) override resolution, and clears it once allowed", () => {
    const other: ImageStream = {
      metadata: { name: "base", namespace: "shared" },
      status: { tags: [{ tag: "1", items: [event(`quay.io/b@${D3}`, D3)] }] },
    };
    const s = stream([alias("x", "base:1", "shared")], null, { annotations: CHECKED });
    const denied = apply(
      s,
      compute(s, [{ tag: "x", ok: false, reason: "Forbidden", message: "not allowed" }], {
        sourceStreams: [other],
      }),
    );
    expect(statusTag(denied, "x")).toMatchObject({ items: null, conditions: [{ reason: "Forbidden" }] });
    const allowed = statusTag(apply(denied, compute(denied, [], { sourceStreams: [other] })), "x");
    expect(allowed?.conditions).toBeUndefined();
    expect(allowed?.items?.[0]?.image).toBe(D3);
  });
});

describe("computeStatus: ImageStreamImage pins", () => {
  const pin = (name: string, from: string) => ({
    name,
    from: { kind: "ImageStreamImage" as const, name: from },
  });
  const history = [
    { tag: "v1", items: [event(`r@${DA}`, DA, 1, "2024-01-01T00:00:00Z")] },
    { tag: "v2", items: [event(`r@${DB}`, DB, 1, "2024-02-01T00:00:00Z"), event(`r@${D1}`, D1, 1)] },
  ];

  it("resolves a full digest or a unique prefix against the stream's history", () => {
    const s = stream([pin("p", `app@${D1}`), pin("q", "abc2")], history, { annotations: CHECKED });
    const tags = apply(s, compute(s));
    expect(statusTag(tags, "p")?.items).toEqual([event(`r@${D1}`, D1, 1, NOW_ISO)]);
    expect(statusTag(tags, "q")?.items?.[0]?.image).toBe(DB);
  });

  it("fails on an ambiguous prefix (Conflict) and on an unknown image (NotFound)", () => {
    const s = stream([pin("amb", "app@sha256:abc"), pin("nf", "app@sha256:ffff")], history, {
      annotations: CHECKED,
    });
    const tags = apply(s, compute(s));
    expect(statusTag(tags, "amb")?.conditions?.[0]).toMatchObject({
      reason: "Conflict",
      message: `multiple images match the prefix "sha256:abc": ${DA}, ${DB}`,
    });
    expect(statusTag(tags, "nf")?.conditions?.[0]).toMatchObject({
      reason: "NotFound",
      message: 'imagestreamimage.image.openshift.io "sha256:ffff" not found',
    });
  });

  it("resolves against another stream", () => {
    const other: ImageStream = { metadata: { name: "lib", namespace: "ns" }, status: { tags: history } };
    const s = stream([pin("p", "lib@abc1")], null, { annotations: CHECKED });
    expect(statusTag(apply(s, compute(s, [], { sourceStreams: [other] })), "p")?.items?.[0]?.image).toBe(DA);
    expect(statusTag(apply(s, compute(s)), "p")?.conditions?.[0]?.reason).toBe("NotFound");
  });

  it("resolveImageId picks the newest event for the image", () => {
    const result = resolveImageId(
      [
        { tag: "a", items: [event("old", D1, 1, "2024-01-01T00:00:00Z")] },
        { tag: "b", items: [event("new", D1, 1, "2024-03-01T00:00:00Z")] },
        { tag: "c", items: null },
      ],
      D1,
    );
    expect(result).toMatchObject({ ok: true, tag: "b", event: { dockerImageReference: "new" } });
  });
});

describe("computeStatus: images copied from another stream's local-registry repository", () => {
  const LOCAL = "reg.local:5000";
  const source: ImageStream = {
    metadata: { name: "base", namespace: "shared" },
    status: {
      tags: [
        { tag: "1", items: [event(`${LOCAL}/shared/base@${D1}`, D1)] },
        { tag: "ext", items: [event(`quay.io/b@${D2}`, D2)] },
      ],
    },
  };
  const pin = (name: string, from: string, reference = false) => ({
    name,
    from: { kind: "ImageStreamImage" as const, name: from, namespace: "shared" },
    ...(reference ? { reference: true } : {}),
  });
  const alias = (name: string, from: string, reference = false) => ({
    name,
    from: { kind: "ImageStreamTag" as const, name: from, namespace: "shared" },
    ...(reference ? { reference: true } : {}),
  });

  it("pulls them from this stream's own repository, as OpenShift rewrites them (oc tag without --reference)", () => {
    const s = stream([pin("pinned", `base@${D1}`), alias("tracking", "base:1")], null, {
      annotations: CHECKED,
    });
    const tags = apply(
      s,
      compute(s, [], { sourceStreams: [source], settings: settings({ localRegistryHost: LOCAL }) }),
    );
    expect(statusTag(tags, "pinned")?.items?.[0]?.dockerImageReference).toBe(`${LOCAL}/ns/app@${D1}`);
    expect(statusTag(tags, "tracking")?.items?.[0]?.dockerImageReference).toBe(`${LOCAL}/ns/app@${D1}`);
  });

  it("keeps the source's pull spec for reference tags (oc tag --reference), other registries, and without a local registry", () => {
    const s = stream(
      [pin("ref", `base@${D1}`, true), alias("ref-alias", "base:1", true), alias("external", "base:ext")],
      null,
      { annotations: CHECKED },
    );
    const local = apply(
      s,
      compute(s, [], { sourceStreams: [source], settings: settings({ localRegistryHost: LOCAL }) }),
    );
    expect(statusTag(local, "ref")?.items?.[0]?.dockerImageReference).toBe(`${LOCAL}/shared/base@${D1}`);
    expect(statusTag(local, "ref-alias")?.items?.[0]?.dockerImageReference).toBe(
      `${LOCAL}/shared/base@${D1}`,
    );
    expect(statusTag(local, "external")?.items?.[0]?.dockerImageReference).toBe(`quay.io/b@${D2}`);
    const none = apply(s, compute(s, [], { sourceStreams: [source] }));
    expect(statusTag(none, "external")?.items?.[0]?.dockerImageReference).toBe(`quay.io/b@${D2}`);
  });
});

describe("computeStatus: spec.dockerImageRepository", () => {
  it("records repository tags not in spec; a spec tag of the same name wins", () => {
    const s = stream(
      [dockerTag("latest", "other/img:latest")],
      null,
      {},
      { dockerImageRepository: "localhost:5000/lib/app" },
    );
    const update = compute(
      s,
      [
        { tag: "latest", ok: true, digest: D1 },
        { tag: "1.0", ok: true, digest: D2 },
        { tag: "2.0", ok: false, reason: "NotFound", message: "m" },
      ],
      { repositoryImported: true },
    );
    const next = apply(s, update);
    expect(statusTag(next, "latest")?.items?.[0]?.dockerImageReference).toBe(`other/img@${D1}`);
    expect(statusTag(next, "1.0")?.items?.[0]?.dockerImageReference).toBe(`localhost:5000/lib/app@${D2}`);
    expect(statusTag(next, "2.0")?.conditions?.[0]?.reason).toBe("NotFound");
    expect(next.status?.dockerImageRepository).toBe("localhost:5000/lib/app");
    expect(next.status?.tagSummary).toBe("1.0,latest"); // same time: by name
  });
});

describe("computeStatus: stream-level fields", () => {
  it("uses the local registry host when configured, and the public host", () => {
    const s = stream([dockerTag("a", "x")], null, {}, { dockerImageRepository: "quay.io/x" });
    const status = compute(s, [{ tag: "a", ok: true, digest: D1 }], {
      settings: settings({
        localRegistryHost: "registry.local:5000",
        publicRegistryHost: "registry.example.com",
      }),
    })?.status;
    expect(status).toMatchObject({
      dockerImageRepository: "registry.local:5000/ns/app",
      publicDockerImageRepository: "registry.example.com/ns/app",
    });
  });

  it("drops a stale status.dockerImageRepository when spec.dockerImageRepository is removed", () => {
    const s = stream([], [], { annotations: CHECKED });
    s.status!.dockerImageRepository = "quay.io/old";
    expect(compute(s)?.status).not.toHaveProperty("dockerImageRepository");
  });

  it("derives lastUpdated from the newest items[0]", () => {
    const s = stream(
      [],
      [
        {
          tag: "a",
          items: [event("x", D1, 1, "2024-01-01T00:00:00Z"), event("x", D2, 1, "2025-01-01T00:00:00Z")],
        },
        { tag: "b", items: [event("y", D1, 1, "2024-03-01T00:00:00Z")] },
      ],
      { annotations: CHECKED },
    );
    expect(compute(s)?.status).toMatchObject({ lastUpdated: "2024-03-01T00:00:00Z", tagSummary: "b,a" });
  });

  it("formats times as RFC3339 seconds", () => {
    expect(formatTime(new Date("2024-05-01T12:00:00.789Z"))).toBe("2024-05-01T12:00:00Z");
  });
});

describe("resolveTagPullSpec (referencePolicy)", () => {
  const s = stream([
    dockerTag("l", "redis:2", { referencePolicy: { type: "Local" } }),
    dockerTag("s", "redis:2"),
  ]);
  const ev = event(`redis@${D1}`, D1);

  it("pulls through the local registry for Local when one is configured", () => {
    expect(resolveTagPullSpec(s, "l", ev, { localRegistryHost: "reg:5000" })).toBe(`reg:5000/ns/app@${D1}`);
  });

  it("reads an empty or missing type as Source, as OpenShift defaults it", () => {
    const catalog = stream([
      dockerTag("empty", "redis:2", { referencePolicy: { type: "" } }),
      dockerTag("none", "redis:2", { referencePolicy: {} }),
    ]);
    for (const tag of ["empty", "none"]) {
      expect(resolveTagPullSpec(catalog, tag, ev, { localRegistryHost: "reg:5000" })).toBe(`redis@${D1}`);
    }
  });

  it("behaves as Source without a local registry, for Source tags, and without a digest", () => {
    expect(resolveTagPullSpec(s, "l", ev, {})).toBe(`redis@${D1}`);
    expect(resolveTagPullSpec(s, "s", ev, { localRegistryHost: "reg:5000" })).toBe(`redis@${D1}`);
    expect(resolveTagPullSpec(s, "l", event("redis:2", ""), { localRegistryHost: "reg:5000" })).toBe(
      "redis:2",
    );
  });
});

describe("recordImportOutcomes (imports made outside the controller)", () => {
  const alias = { name: "latest", from: { kind: "ImageStreamTag" as const, name: "1" } };

  it("applies the outcomes with the history and condition rules, and leaves every other tag as it is", () => {
    const s = stream([dockerTag("1", "redis:1"), dockerTag("2", "redis:2"), alias], [statusTag1()], {
      generation: 2,
    });
    const { status, changes } = recordImportOutcomes({
      stream: s,
      outcomes: [
        { tag: "1", ok: true, digest: D2, pullSpec: "redis:1" },
        { tag: "2", ok: false, reason: "NotFound", message: "manifest unknown" },
      ],
      now: NOW,
      settings: settings(),
    });
    const tags = new Map(status?.tags?.map((t) => [t.tag, t]));
    expect(tags.get("1")?.items).toEqual([event(`redis@${D2}`, D2, 2, NOW_ISO), event(`redis@${D1}`, D1, 1)]);
    expect(tags.get("2")?.conditions?.[0]).toMatchObject({ reason: "NotFound", generation: 2 });
    // The alias follows "1" only after the controller's next round.
    expect(tags.has("latest")).toBe(false);
    expect(status?.tagSummary).toBe("1");
    expect(changes.map((c) => [c.tag, c.kind])).toEqual([
      ["1", "Updated"],
      ["2", "Failed"],
    ]);
  });

  it("returns no status when the outcomes change nothing", () => {
    const s = settled(stream([dockerTag("1", "redis:1")], [statusTag1()]));
    const { status } = recordImportOutcomes({
      stream: s,
      outcomes: [{ tag: "1", ok: true, digest: D1, pullSpec: "redis:1" }],
      now: NOW,
      settings: settings(),
    });
    expect(status).toBeUndefined();
  });

  function statusTag1() {
    return { tag: "1", items: [event(`redis@${D1}`, D1, 1)] };
  }
});
