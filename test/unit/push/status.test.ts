import { describe, expect, it } from "vitest";
import type { ImageStream, NamedTagEventList } from "../../../src/api/index.ts";
import { applyPushedImage, catchUpTags } from "../../../src/push/index.ts";
import { D1, D2, D3, event, NOW, settings, stream } from "../imports/fixtures.ts";

const REGISTRY = "image-registry.ops.svc:5000";
const PUBLIC = "localhost:5001";
const opts = settings({ localRegistryHost: REGISTRY, publicRegistryHost: PUBLIC, historyLimit: 3 });
const ref = (digest: string) => `${REGISTRY}/ns/app@${digest}`;
const LATER = new Date(NOW.getTime() + 60_000);

/** Records `digest` as ns/app:dev pushed at `now`. */
function pushDev(current: ImageStream | undefined, digest: string, now = NOW) {
  return applyPushedImage({
    stream: current,
    pushed: { namespace: "ns", stream: "app", tag: "dev", digest },
    now,
    settings: opts,
  });
}

describe("applyPushedImage", () => {
  it("creates a missing stream with the tag as its only status tag, no spec tag", () => {
    const update = pushDev(undefined, D1);
    expect(update.kind).toBe("create");
    if (update.kind !== "create") return;
    expect(update.stream).toEqual({
      apiVersion: "image.openshift.io/v1",
      kind: "ImageStream",
      metadata: { namespace: "ns", name: "app" },
      spec: { lookupPolicy: { local: false } },
    });
    expect(update.status).toEqual({
      dockerImageRepository: `${REGISTRY}/ns/app`,
      publicDockerImageRepository: `${PUBLIC}/ns/app`,
      tags: [
        {
          tag: "dev",
          items: [
            { created: "2024-05-01T12:00:00Z", dockerImageReference: ref(D1), image: D1, generation: 1 },
          ],
        },
      ],
      tagSummary: expect.any(String),
      lastUpdated: "2024-05-01T12:00:00Z",
    });
    expect(update.changes).toEqual([
      { tag: "dev", kind: "Updated", image: D1, dockerImageReference: ref(D1) },
    ]);
  });

  it("prepends a new push as newest and keeps the history bounded", () => {
    let current = stream([], [{ tag: "dev", items: [event(ref(D2), D2, 1), event(ref(D3), D3, 1)] }]);
    const update = pushDev(current, D1);
    if (update.kind !== "update") throw new Error(update.kind);
    current = { ...current, status: update.status };
    expect(current.status?.tags?.[0]?.items?.map((i) => i.image)).toEqual([D1, D2, D3]);
    const again = pushDev(current, D2, LATER);
    if (again.kind !== "update") throw new Error(again.kind);
    // Re-pushing an older image makes it newest again (history limit 3).
    expect(again.status.tags?.[0]?.items?.map((i) => i.image)).toEqual([D2, D1, D2]);
  });

  it("a repeated push, or a late event re-resolved to the current image, changes nothing", () => {
    const current = stream(
      [],
      [{ tag: "dev", items: [event(ref(D1), D1, 1, "2024-05-01T11:00:00Z"), event(ref(D2), D2, 1)] }],
      {},
      {},
    );
    const settled = pushDev(current, D1);
    // The first write fills the repository fields; after that the same push is a no-op.
    if (settled.kind !== "update") throw new Error(settled.kind);
    expect(settled.changes).toEqual([]);
    const written: ImageStream = { ...current, status: settled.status };
    expect(pushDev(written, D1, LATER)).toEqual({ kind: "unchanged" });
    expect(written.status?.tags?.[0]?.items?.[0]?.created).toBe("2024-05-01T11:00:00Z");
  });

  it("keeps other tags and conditions of other tags; clears the pushed tag's conditions", () => {
    const failed: NamedTagEventList = {
      tag: "dev",
      items: null,
      conditions: [
        {
          type: "ImportSuccess",
          status: "False",
          lastTransitionTime: "2024-05-01T10:00:00Z",
          reason: "NotFound",
          message: "x",
          generation: 1,
        },
      ],
    };
    const current = stream([], [failed, { tag: "prod", items: [event(ref(D3), D3)] }]);
    const update = pushDev(current, D1);
    if (update.kind !== "update") throw new Error(update.kind);
    expect(update.status.tags?.map((t) => [t.tag, t.items?.[0]?.image, t.conditions])).toEqual([
      ["dev", D1, undefined],
      ["prod", D3, undefined],
    ]);
  });

  it("a tracking tag following the pushed tag follows it in the same write", () => {
    const current = stream([{ name: "latest", from: { kind: "ImageStreamTag", name: "dev" } }], null);
    const update = pushDev(current, D1);
    if (update.kind !== "update") throw new Error(update.kind);
    expect(update.status.tags?.map((t) => [t.tag, t.items?.[0]?.image])).toEqual([
      ["dev", D1],
      ["latest", D1],
    ]);
    expect(update.changes.map((c) => c.tag).sort()).toEqual(["dev", "latest"]);
  });

  it("needs the integrated registry's host", () => {
    expect(() =>
      applyPushedImage({
        stream: undefined,
        pushed: { namespace: "ns", stream: "app", tag: "dev", digest: D1 },
        now: NOW,
        settings: settings(),
      }),
    ).toThrow(/localRegistryHost/);
  });
});

describe("catch-up", () => {
  it("checks every registry tag that is not a spec tag, with the image each has recorded", () => {
    const app = stream(
      [{ name: "stable", from: { kind: "DockerImage", name: "quay.io/org/app:stable" } }],
      [
        { tag: "dev", items: [event(ref(D1), D1), event(ref(D2), D2)] },
        { tag: "stable", items: [event(`quay.io/org/app@${D3}`, D3)] },
      ],
    );
    expect(catchUpTags(app, ["prod", "dev", "stable", "dev"])).toEqual([
      { tag: "dev", recordedImage: D1 },
      { tag: "prod" },
    ]);
  });

  it("recording what the registry has, then checking again, changes nothing: no push missed, none twice", () => {
    let app = stream([], [{ tag: "dev", items: [event(ref(D2), D2)] }]);
    const registry: Record<string, string> = { dev: D1, prod: D3 };
    for (const { tag } of catchUpTags(app, Object.keys(registry))) {
      const pushed = { namespace: "ns", stream: "app", tag, digest: registry[tag] ?? "" };
      const update = applyPushedImage({ stream: app, pushed, now: NOW, settings: opts });
      if (update.kind === "update") app = { ...app, status: update.status };
    }
    expect(app.status?.tags?.map((t) => [t.tag, t.items?.map((i) => i.image)])).toEqual([
      ["dev", [D1, D2]],
      ["prod", [D3]],
    ]);
    for (const { tag, recordedImage } of catchUpTags(app, Object.keys(registry))) {
      expect(recordedImage).toBe(registry[tag]);
      const pushed = { namespace: "ns", stream: "app", tag, digest: registry[tag] ?? "" };
      expect(applyPushedImage({ stream: app, pushed, now: LATER, settings: opts })).toEqual({
        kind: "unchanged",
      });
    }
  });
});
