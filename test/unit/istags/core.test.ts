import { describe, expect, it } from "vitest";
import {
  type ImageStream,
  type ImageStreamTag,
  sameJson,
  type TagEvent,
  type TagReference,
} from "../../../src/api/index.ts";
import {
  buildImage,
  desiredIstagStatus,
  desiredTags,
  diffIstags,
  ISTAG_FINALIZER,
  istagStatusUpdate,
  nextSpecTags,
  planWrites,
  reusableImage,
  statusWithoutTags,
  streamChangeConcernsIstags,
  streamNameOf,
  withImageDetails,
  withoutFinalizer,
} from "../../../src/istags/index.ts";

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;

function event(image: string, created = "2024-01-01T00:00:00Z", generation = 1): TagEvent {
  return {
    created,
    dockerImageReference: image ? `reg.test/app@${image}` : "reg.test/app:ref",
    image,
    generation,
  };
}

function stream(partial: Partial<ImageStream> = {}): ImageStream {
  return {
    apiVersion: "image.openshift.io/v1",
    kind: "ImageStream",
    metadata: { name: "app", namespace: "ns", uid: "uid-1", resourceVersion: "10", generation: 3 },
    spec: { tags: [{ name: "v1", from: { kind: "DockerImage", name: "reg.test/app:v1" } }] },
    status: { tags: [{ tag: "v1", items: [event(DIGEST_A)] }] },
    ...partial,
  };
}

const owner = {
  apiVersion: "image.openshift.io/v1",
  kind: "ImageStream",
  name: "app",
  uid: "uid-1",
  controller: true,
  blockOwnerDeletion: true,
};

/** The object as the controller would have written it for `s`'s tag. */
function managed(
  s: ImageStream,
  tag: string,
  extra: Partial<ImageStreamTag["metadata"]> = {},
): ImageStreamTag {
  const want = desiredTags(s).istags.find((d) => d.tagName === tag);
  if (!want) throw new Error(`no desired istag for ${tag}`);
  return {
    ...structuredClone(want.object),
    metadata: { ...want.object.metadata, uid: `istag-${tag}`, resourceVersion: "5", generation: 2, ...extra },
    status: { observedGeneration: 2 },
  };
}

describe("desiredTags", () => {
  it("gives one ImageStreamTag per spec or status tag, owned by the stream with the finalizer", () => {
    const s = stream({
      spec: {
        lookupPolicy: { local: true },
        tags: [
          { name: "v1", from: { kind: "DockerImage", name: "reg.test/app:v1" } },
          { name: "next", from: { kind: "DockerImage", name: "reg.test/app:next" } },
        ],
      },
      status: {
        tags: [
          { tag: "v1", items: [event(DIGEST_A, "2024-02-01T00:00:00Z", 2), event(DIGEST_B)] },
          { tag: "old", items: [event(DIGEST_B)] },
        ],
      },
    });
    const desired = desiredTags(s);
    expect(desired.problems).toEqual([]);
    expect(desired.istags.map((d) => d.name)).toEqual(["app.v1", "app.next", "app.old"]);
    const v1 = desired.istags[0]?.object;
    expect(v1).toMatchObject({
      apiVersion: "image.openshift.io/v1",
      kind: "ImageStreamTag",
      metadata: { name: "app.v1", namespace: "ns", ownerReferences: [owner], finalizers: [ISTAG_FINALIZER] },
      tag: { name: "v1", from: { kind: "DockerImage", name: "reg.test/app:v1" } },
      generation: 2,
      lookupPolicy: { local: true },
      image: { metadata: { name: DIGEST_A }, dockerImageReference: `reg.test/app@${DIGEST_A}` },
    });
    // Spec-only: no image and no generation yet; status-only: tag null.
    expect(desired.istags[1]?.object.image).toBeUndefined();
    expect(desired.istags[1]?.object.generation).toBeUndefined();
    expect(desired.istags[2]?.object.tag).toBeNull();
    expect(desired.istags[2]?.object.image?.metadata?.name).toBe(DIGEST_B);
  });

  it("copies conditions from status and defaults lookupPolicy.local to false", () => {
    const condition = {
      type: "ImportSuccess" as const,
      status: "False" as const,
      reason: "NotFound",
      message: "gone",
      generation: 3,
    };
    const s = stream({ status: { tags: [{ tag: "v1", items: [], conditions: [condition] }] } });
    const [v1] = desiredTags(s).istags;
    expect(v1?.object.conditions).toEqual([condition]);
    expect(v1?.object.lookupPolicy).toEqual({ local: false });
    expect(v1?.object.image).toBeUndefined();
    expect(v1?.event).toBeUndefined();
  });

  it("normalizes tag names into object names", () => {
    const s = stream({ spec: { tags: [{ name: "Stable_1" }] }, status: {} });
    expect(desiredTags(s).istags[0]?.name).toBe("app.stable-1");
  });

  it("reports a collision and skips every tag involved, keeping the name from deletion", () => {
    const s = stream({
      spec: { tags: [{ name: "V1" }, { name: "ok" }] },
      status: { tags: [{ tag: "v1", items: [] }] },
    });
    const desired = desiredTags(s);
    expect(desired.istags.map((d) => d.name)).toEqual(["app.ok"]);
    expect(desired.problems).toHaveLength(1);
    expect(desired.problems[0]).toMatchObject({ kind: "collision", name: "app.v1", tags: ["V1", "v1"] });
    expect(desired.problems[0]?.message).toContain("V1, v1");
    expect(desired.names.has("app.v1")).toBe(true);
  });

  it("reports tags that map to no valid object name", () => {
    const s = stream({ spec: { tags: [{ name: "v1." }] }, status: {} });
    const desired = desiredTags(s);
    expect(desired.istags).toEqual([]);
    expect(desired.problems[0]).toMatchObject({ kind: "invalid", tags: ["v1."] });
  });
});

describe("images", () => {
  it("takes digest and pull spec from the event and details from an image of the same digest", () => {
    const details = {
      metadata: { name: DIGEST_A, creationTimestamp: "2023-01-01T00:00:00Z" },
      dockerImageReference: "elsewhere/app@x",
      dockerImageMetadata: { Architecture: "amd64" },
      dockerImageLayers: [{ name: DIGEST_B, size: 3, mediaType: "m" }],
    };
    expect(buildImage(event(DIGEST_A), details)).toEqual({
      ...details,
      dockerImageReference: `reg.test/app@${DIGEST_A}`,
    });
    // Details of another digest are never mixed in.
    expect(buildImage(event(DIGEST_B), details)).toEqual({
      metadata: { name: DIGEST_B },
      dockerImageReference: `reg.test/app@${DIGEST_B}`,
    });
  });

  it("gives reference tags only a pull spec and tags without events no image", () => {
    expect(buildImage(event(""), undefined)).toEqual({ dockerImageReference: "reg.test/app:ref" });
    expect(buildImage(undefined, undefined)).toBeUndefined();
  });

  it("reuses an existing image only for the same digest and only with details", () => {
    const withDetails: ImageStreamTag = {
      metadata: { name: "app.v1" },
      image: {
        metadata: { name: DIGEST_A },
        dockerImageReference: "x",
        dockerImageLayers: [{ name: "l", size: 1, mediaType: "m" }],
      },
    };
    expect(reusableImage(withDetails, DIGEST_A)).toBe(withDetails.image);
    expect(reusableImage(withDetails, DIGEST_B)).toBeUndefined();
    const bare: ImageStreamTag = {
      metadata: { name: "app.v1" },
      image: { metadata: { name: DIGEST_A }, dockerImageReference: "x" },
    };
    expect(reusableImage(bare, DIGEST_A)).toBeUndefined();
    expect(reusableImage(undefined, DIGEST_A)).toBeUndefined();
  });

  it("fills a desired object's image and drops it when there is none", () => {
    const [want] = desiredTags(stream()).istags;
    if (!want) throw new Error("missing");
    const filled = withImageDetails(want, {
      metadata: { name: DIGEST_A },
      dockerImageReference: "",
      dockerImageManifestMediaType: "application/vnd.oci.image.manifest.v1+json",
    });
    expect(filled.object.image?.dockerImageManifestMediaType).toBe(
      "application/vnd.oci.image.manifest.v1+json",
    );
    expect(want.object.image?.dockerImageManifestMediaType).toBeUndefined();
    const none = withImageDetails({ ...want, event: undefined }, undefined);
    expect(none.object.image).toBeUndefined();
  });

  it("derives the status subresource from the event and the object's generation", () => {
    expect(desiredIstagStatus(event(DIGEST_A, "2024-05-05T00:00:00Z"), 4)).toEqual({
      lastUpdated: "2024-05-05T00:00:00Z",
      observedGeneration: 4,
    });
    expect(desiredIstagStatus(undefined, 1)).toEqual({ observedGeneration: 1 });
  });
});

describe("diffIstags", () => {
  it("creates missing objects", () => {
    const s = stream();
    const plan = diffIstags(s, desiredTags(s), []);
    expect(plan.creates.map((c) => c.metadata.name)).toEqual(["app.v1"]);
    expect(plan.updates).toEqual([]);
    expect(plan.deletes).toEqual([]);
  });

  it("writes nothing when the objects match (nulls and absent fields are the same)", () => {
    const s = stream();
    const existing = managed(s, "v1");
    existing.conditions = [];
    expect(diffIstags(s, desiredTags(s), [existing])).toEqual({
      creates: [],
      updates: [],
      deletes: [],
      conflicts: [],
    });
  });

  it("updates an object whose image, tag or lookup policy changed, keeping its metadata", () => {
    const s = stream();
    const existing = managed(s, "v1", { labels: { team: "a" } });
    const next = stream({
      spec: {
        lookupPolicy: { local: true },
        tags: [{ name: "v1", from: { kind: "DockerImage", name: "reg.test/app:v2" } }],
      },
      status: { tags: [{ tag: "v1", items: [event(DIGEST_B, "2024-03-01T00:00:00Z", 4), event(DIGEST_A)] }] },
    });
    const plan = diffIstags(next, desiredTags(next), [existing]);
    expect(plan.creates).toEqual([]);
    expect(plan.updates).toHaveLength(1);
    const updated = plan.updates[0];
    expect(updated?.metadata).toMatchObject({ resourceVersion: "5", labels: { team: "a" }, uid: "istag-v1" });
    expect(updated?.tag?.from?.name).toBe("reg.test/app:v2");
    expect(updated?.generation).toBe(4);
    expect(updated?.lookupPolicy).toEqual({ local: true });
    expect(updated?.image?.metadata?.name).toBe(DIGEST_B);
  });

  it("drops fields the stream no longer gives", () => {
    const s = stream();
    const existing = managed(s, "v1");
    existing.conditions = [{ type: "ImportSuccess", status: "False", generation: 1 }];
    const next = stream({ status: { tags: [] } });
    const plan = diffIstags(next, desiredTags(next), [existing]);
    const updated = plan.updates[0];
    expect(updated).toBeDefined();
    expect(updated && "image" in updated).toBe(false);
    expect(updated && "conditions" in updated).toBe(false);
    expect(updated && "generation" in updated).toBe(false);
  });

  it("adopts a user-created object: owner reference and finalizer added", () => {
    const s = stream();
    const user: ImageStreamTag = {
      apiVersion: "image.openshift.io/v1",
      kind: "ImageStreamTag",
      metadata: { name: "app.v1", namespace: "ns", resourceVersion: "7", finalizers: ["other/keep"] },
      tag: { name: "v1", from: { kind: "DockerImage", name: "reg.test/app:v1" } },
    };
    const plan = diffIstags(s, desiredTags(s), [user]);
    expect(plan.updates[0]?.metadata.ownerReferences).toEqual([owner]);
    expect(plan.updates[0]?.metadata.finalizers).toEqual(["other/keep", ISTAG_FINALIZER]);
  });

  it("leaves objects being deleted, and objects of an older stream of the same name, alone", () => {
    const s = stream();
    const deleting = managed(s, "v1", { deletionTimestamp: "2024-01-01T00:00:00Z" });
    expect(diffIstags(s, desiredTags(s), [deleting])).toEqual({
      creates: [],
      updates: [],
      deletes: [],
      conflicts: [],
    });
    const older = managed(s, "v1", { ownerReferences: [{ ...owner, uid: "uid-0" }] });
    expect(diffIstags(s, desiredTags(s), [older])).toEqual({
      creates: [],
      updates: [],
      deletes: [],
      conflicts: [],
    });
  });

  it("reports a name held by another stream's object", () => {
    // Stream `app` tag `b.c` and stream `app.b` tag `c` both map to `app.b.c`.
    const s = stream({ spec: { tags: [{ name: "b.c" }] }, status: {} });
    const other = managed(s, "b.c", { ownerReferences: [{ ...owner, name: "app.b", uid: "uid-9" }] });
    const plan = diffIstags(s, desiredTags(s), [other]);
    expect(plan.updates).toEqual([]);
    expect(plan.conflicts).toEqual([{ name: "app.b.c", message: expect.stringContaining("app.b") }]);
  });

  it("deletes owned objects whose tag is gone, but not colliding names or others' objects", () => {
    const before = stream({ spec: { tags: [{ name: "v1" }, { name: "gone" }, { name: "V2" }] }, status: {} });
    const gone = managed(before, "gone");
    const v2 = managed(before, "V2");
    const foreign = {
      ...managed(before, "v1"),
      metadata: { name: "app.x", namespace: "ns", ownerReferences: [{ ...owner, uid: "uid-7" }] },
    };
    const after = stream({
      spec: { tags: [{ name: "v1" }, { name: "V2" }] },
      status: { tags: [{ tag: "v2", items: [] }] },
    });
    const plan = diffIstags(after, desiredTags(after), [gone, v2, foreign]);
    expect(plan.deletes.map((d) => d.metadata.name)).toEqual(["app.gone"]);
  });
});

describe("writes only when content differs", () => {
  const details = {
    metadata: { name: DIGEST_A, creationTimestamp: "2023-01-01T00:00:00Z" },
    dockerImageReference: "",
    dockerImageMetadata: { Architecture: "amd64" },
    dockerImageLayers: [{ name: DIGEST_B, size: 3, mediaType: "m" }],
  };

  /** One pass of the controller's read model over `existing`, image details from the registry or reused. */
  function pass(s: ImageStream, existing: ImageStreamTag[]) {
    const desired = desiredTags(s);
    const filled = desired.istags.map((want) => {
      const have = existing.find((e) => e.metadata.name === want.name);
      const digest = want.event?.image ?? "";
      return withImageDetails(want, reusableImage(have, digest) ?? details);
    });
    return { filled, plan: diffIstags(s, { ...desired, istags: filled }, existing) };
  }

  it("a second pass over what the first wrote writes nothing (no update, no status)", () => {
    const s = stream();
    const first = pass(s, []);
    expect(first.plan.creates).toHaveLength(1);
    // What the API server keeps of the create, then of the status write that follows it.
    const created = first.plan.creates[0] as ImageStreamTag;
    const stored: ImageStreamTag = {
      ...structuredClone(created),
      metadata: { ...created.metadata, uid: "u", resourceVersion: "20", generation: 1 },
    };
    const status = istagStatusUpdate(stored, first.filled[0]?.event);
    expect(status).toEqual({ lastUpdated: "2024-01-01T00:00:00Z", observedGeneration: 1 });
    stored.status = status;

    const second = pass(s, [stored]);
    expect(second.plan).toEqual({ creates: [], updates: [], deletes: [], conflicts: [] });
    expect(istagStatusUpdate(stored, second.filled[0]?.event)).toBeUndefined();
  });

  it("writes the status when the generation or the tag's newest event moved", () => {
    const s = stream();
    const obj = managed(s, "v1");
    obj.status = { lastUpdated: "2024-01-01T00:00:00Z", observedGeneration: 2 };
    expect(istagStatusUpdate(obj, event(DIGEST_A))).toBeUndefined();
    expect(
      istagStatusUpdate({ ...obj, metadata: { ...obj.metadata, generation: 3 } }, event(DIGEST_A)),
    ).toEqual({
      lastUpdated: "2024-01-01T00:00:00Z",
      observedGeneration: 3,
    });
    expect(istagStatusUpdate(obj, event(DIGEST_B, "2024-02-02T00:00:00Z"))).toEqual({
      lastUpdated: "2024-02-02T00:00:00Z",
      observedGeneration: 2,
    });
    expect(istagStatusUpdate({ ...obj, status: undefined }, event(DIGEST_A))).toBeDefined();
  });
});

describe("streamChangeConcernsIstags", () => {
  const before = stream({
    metadata: { name: "app", namespace: "ns", uid: "uid-1", resourceVersion: "10", generation: 3 },
  });
  const changed = (change: (s: ImageStream) => void): ImageStream => {
    const s = structuredClone(before);
    s.metadata.resourceVersion = "11";
    change(s);
    return s;
  };

  it("ignores updates of metadata alone (annotations, labels, finalizers)", () => {
    const annotated = changed((s) => {
      s.metadata.annotations = { "image.openshift.io/import-requested-handled": "2024-01-01T00:00:00Z" };
      s.metadata.labels = { team: "a" };
      s.metadata.finalizers = ["x/y"];
    });
    expect(streamChangeConcernsIstags(before, annotated)).toBe(false);
    // Status compared as JSON: key order and nulls do not count.
    const reordered = changed((s) => {
      s.status = { tags: [{ items: s.status?.tags?.[0]?.items ?? [], tag: "v1" }] };
    });
    expect(streamChangeConcernsIstags(before, reordered)).toBe(false);
  });

  it("takes spec (generation), status, identity, deletion and the insecure annotation", () => {
    expect(
      streamChangeConcernsIstags(
        before,
        changed((s) => (s.metadata.generation = 4)),
      ),
    ).toBe(true);
    expect(
      streamChangeConcernsIstags(
        before,
        changed((s) => {
          s.status = { tags: [{ tag: "v1", items: [event(DIGEST_B), event(DIGEST_A)] }] };
        }),
      ),
    ).toBe(true);
    expect(
      streamChangeConcernsIstags(
        before,
        changed((s) => (s.metadata.uid = "uid-2")),
      ),
    ).toBe(true);
    expect(
      streamChangeConcernsIstags(
        before,
        changed((s) => (s.metadata.deletionTimestamp = "2024-01-01T00:00:00Z")),
      ),
    ).toBe(true);
    expect(
      streamChangeConcernsIstags(
        before,
        changed((s) => {
          s.metadata.annotations = { "openshift.io/image.insecureRepository": "true" };
        }),
      ),
    ).toBe(true);
  });

  it("compares spec as JSON where the objects carry no generation", () => {
    const plain = structuredClone(before);
    delete plain.metadata.generation;
    const edited = structuredClone(plain);
    edited.spec = { tags: [{ name: "v2" }] };
    expect(streamChangeConcernsIstags(plain, structuredClone(plain))).toBe(false);
    expect(streamChangeConcernsIstags(plain, edited)).toBe(true);
  });
});

describe("planWrites", () => {
  const userIstag = (
    name: string,
    tag: TagReference | null,
    extra: Partial<ImageStreamTag["metadata"]> = {},
  ): ImageStreamTag => ({
    metadata: { name, namespace: "ns", uid: `u-${name}`, generation: 1, ...extra },
    tag,
  });

  it("adds a user-created object's tag to the stream, or creates the stream's tags when it is missing", () => {
    const tag = { name: "v2", from: { kind: "DockerImage" as const, name: "reg.test/app:v2" } };
    const created = userIstag("app.v2", tag);
    expect(planWrites("app", stream(), [created]).setTags).toEqual([tag]);
    expect(planWrites("app", undefined, [created]).setTags).toEqual([tag]);
  });

  it("rejects a user-created object without tag or with a tag.name of another object", () => {
    const plan = planWrites("app", stream(), [
      userIstag("app.v2", null),
      userIstag("app.v3", { name: "v4" }),
    ]);
    expect(plan.setTags).toEqual([]);
    expect(plan.rejected.map((r) => r.reason)).toEqual(["TagRequired", "TagNameMismatch"]);
  });

  it("ignores user-created objects while the stream is being deleted", () => {
    const deleting = stream({
      metadata: { ...stream().metadata, deletionTimestamp: "2024-01-01T00:00:00Z" },
    });
    expect(planWrites("app", deleting, [userIstag("app.v2", { name: "v2" })]).setTags).toEqual([]);
  });

  it("applies a user edit of an owned object (generation ahead of observedGeneration)", () => {
    const s = stream();
    const edited = managed(s, "v1", { generation: 3 });
    edited.tag = { name: "v1", from: { kind: "DockerImage", name: "reg.test/app:edited" } };
    expect(planWrites("app", s, [edited]).setTags).toEqual([edited.tag]);
    // The same difference with the generation synced is the stream's change, not the user's.
    const synced = { ...edited, metadata: { ...edited.metadata, generation: 2 } };
    expect(planWrites("app", s, [synced]).setTags).toEqual([]);
  });

  it("treats the controller's own write (generation ahead, tag equal to the spec) as no edit", () => {
    const s = stream();
    const own = managed(s, "v1", { generation: 5 });
    expect(planWrites("app", s, [own])).toEqual({ setTags: [], unsetTags: [], deletions: [], rejected: [] });
  });

  it("removes the spec tag when a user sets tag to null, and refuses renames", () => {
    const s = stream();
    const cleared = { ...managed(s, "v1", { generation: 3 }), tag: null };
    expect(planWrites("app", s, [cleared]).unsetTags).toEqual(["v1"]);
    const renamed = { ...managed(s, "v1", { generation: 3 }), tag: { name: "V1" } };
    const plan = planWrites("app", s, [renamed]);
    expect(plan.setTags).toEqual([]);
    expect(plan.rejected[0]?.reason).toBe("TagNameMismatch");
  });

  it("ignores edits of objects owned by an older stream of the same name", () => {
    const s = stream();
    const stale = managed(s, "v1", { generation: 3, ownerReferences: [{ ...owner, uid: "uid-0" }] });
    stale.tag = { name: "v1", from: { kind: "DockerImage", name: "x" } };
    expect(planWrites("app", s, [stale]).setTags).toEqual([]);
  });

  it("removes the tag of an object a user deleted", () => {
    const s = stream();
    const deleted = managed(s, "v1", { deletionTimestamp: "2024-01-01T00:00:00Z" });
    expect(planWrites("app", s, [deleted]).deletions).toEqual([{ istag: deleted, removeTag: "v1" }]);
  });

  it("only releases the finalizer when the tag is gone, the stream is gone or deleting, or another stream owned it", () => {
    const s = stream();
    const deleted = managed(s, "v1", { deletionTimestamp: "2024-01-01T00:00:00Z" });
    const withoutTag = stream({ spec: { tags: [] }, status: { tags: [] } });
    expect(planWrites("app", withoutTag, [deleted]).deletions[0]?.removeTag).toBeUndefined();
    expect(planWrites("app", undefined, [deleted]).deletions[0]?.removeTag).toBeUndefined();
    const deletingStream = stream({ metadata: { ...s.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" } });
    expect(planWrites("app", deletingStream, [deleted]).deletions[0]?.removeTag).toBeUndefined();
    const recreated = stream({ metadata: { ...s.metadata, uid: "uid-2" } });
    expect(planWrites("app", recreated, [deleted]).deletions[0]?.removeTag).toBeUndefined();
  });

  it("skips deleted objects without the finalizer", () => {
    const s = stream();
    const deleted = managed(s, "v1", { deletionTimestamp: "2024-01-01T00:00:00Z", finalizers: [] });
    expect(planWrites("app", s, [deleted]).deletions).toEqual([]);
  });

  it("removes a status-only tag when its object is deleted", () => {
    const s = stream({ spec: { tags: [] } });
    const deleted = managed(s, "v1", { deletionTimestamp: "2024-01-01T00:00:00Z" });
    expect(planWrites("app", s, [deleted]).deletions[0]?.removeTag).toBe("v1");
  });
});

describe("stream edits", () => {
  const v1 = { name: "v1", from: { kind: "DockerImage" as const, name: "a" } };
  const v2 = { name: "v2", from: { kind: "DockerImage" as const, name: "b" } };

  it("adds, replaces in place and removes spec tags; unchanged gives undefined", () => {
    expect(nextSpecTags([v1], [v2], [])).toEqual([v1, v2]);
    const v1b = { ...v1, from: { kind: "DockerImage" as const, name: "c" } };
    expect(nextSpecTags([v1, v2], [v1b], [])).toEqual([v1b, v2]);
    expect(nextSpecTags([v1, v2], [], ["v1"])).toEqual([v2]);
    expect(nextSpecTags([v1], [{ ...v1, annotations: null }], [])).toBeUndefined();
    expect(nextSpecTags(null, [], ["x"])).toBeUndefined();
    expect(nextSpecTags(null, [v1], [])).toEqual([v1]);
  });

  it("removes status tags and recomputes the summary columns", () => {
    const status = {
      dockerImageRepository: "r",
      tags: [
        { tag: "v1", items: [event(DIGEST_A, "2024-01-01T00:00:00Z")] },
        { tag: "v2", items: [event(DIGEST_B, "2024-06-01T00:00:00Z")] },
      ],
      tagSummary: "v2,v1",
      lastUpdated: "2024-06-01T00:00:00Z",
    };
    expect(statusWithoutTags(status, ["v2"])).toEqual({
      dockerImageRepository: "r",
      tags: [status.tags[0]],
      tagSummary: "v1",
      lastUpdated: "2024-01-01T00:00:00Z",
    });
    expect(statusWithoutTags(status, ["v1", "v2"])).toEqual({ dockerImageRepository: "r", tags: [] });
    expect(statusWithoutTags(status, ["v9"])).toBeUndefined();
    expect(statusWithoutTags(undefined, ["v1"])).toBeUndefined();
  });
});

describe("helpers", () => {
  it("finds an object's stream from its owner, else from its name and tag.name", () => {
    expect(streamNameOf({ metadata: { name: "php.7.1.7.1" }, tag: { name: "7.1" } })).toBe("php.7.1");
    expect(streamNameOf({ metadata: { name: "x.y", ownerReferences: [{ ...owner, name: "z" }] } })).toBe("z");
    expect(streamNameOf({ metadata: { name: "x.y" } })).toBeUndefined();
    expect(streamNameOf({ metadata: { name: "x.y" }, tag: { name: "other" } })).toBeUndefined();
  });

  it("compares JSON ignoring key order and null members", () => {
    expect(sameJson({ a: 1, b: null, c: { d: [1, { e: undefined }] } }, { c: { d: [1, {}] }, a: 1 })).toBe(
      true,
    );
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });

  it("removes only this controller's finalizer", () => {
    expect(withoutFinalizer({ metadata: { finalizers: ["a", ISTAG_FINALIZER, "b"] } })).toEqual(["a", "b"]);
  });
});
