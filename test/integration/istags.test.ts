// The ImageStreamTag controller against the real API server (with kube-controller-manager for
// garbage collection) and the shared plain registry. Stream status is written by the tests
// through the status subresource, as the import controller would, so only this controller runs.
import { CustomObjectsApi, EventsV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageStream, ImageStreamTag, NamedTagEventList, TagReference } from "../../src/api/index.ts";
import { ISTAG_FINALIZER } from "../../src/istags/index.ts";
import type { Operator } from "../../src/operator/index.ts";
import {
  createNamespace,
  eventually,
  kubectl,
  type PushedImage,
  pushImage,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { startInProcessOperator } from "./in-process-operator.ts";

const cp = useSharedControlPlane();
const plain = useSharedRegistry("plain");
const api = cp.kubeConfig.makeApiClient(CustomObjectsApi);
const group = "image.openshift.io";
const version = "v1";
let namespace: string;
let operator: Operator | undefined;
let pushed: PushedImage;

function startOperator(): Promise<Operator> {
  return startInProcessOperator(cp, ["--namespaces", namespace, "--controllers=imagestreamtag"]);
}

const getStream = async (name: string) =>
  (await api.getNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: "imagestreams",
    name,
  })) as ImageStream;
const getIstag = async (name: string) =>
  (await api.getNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: "imagestreamtags",
    name,
  })) as ImageStreamTag;
const istagOrUndefined = (name: string) => getIstag(name).catch(() => undefined);

async function createStream(
  name: string,
  tags: TagReference[],
  status?: NamedTagEventList[],
): Promise<ImageStream> {
  let stream = (await api.createNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: "imagestreams",
    body: { apiVersion: `${group}/${version}`, kind: "ImageStream", metadata: { name }, spec: { tags } },
  })) as ImageStream;
  if (status) stream = await writeStatus(stream, status);
  return stream;
}

/** Writes status tags as the import controller would (status subresource). */
async function writeStatus(stream: ImageStream, tags: NamedTagEventList[]): Promise<ImageStream> {
  return (await api.replaceNamespacedCustomObjectStatus({
    group,
    version,
    namespace,
    plural: "imagestreams",
    name: stream.metadata.name ?? "",
    body: { ...stream, status: { tags } },
  })) as ImageStream;
}

function event(image: string, reference: string, created = "2024-05-01T10:00:00Z", generation = 1) {
  return { created, dockerImageReference: reference, image, generation };
}

const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const DIGEST_X = `sha256:${"1".repeat(64)}`;

beforeAll(async () => {
  namespace = await createNamespace(cp, "istags");
  pushed = await pushImage(plain, "istags/app", "v1", {
    format: "oci",
    config: { Env: ["MODE=test"], Cmd: ["/bin/app"], Labels: { team: "istags" } },
    author: "istag-tests",
  });
  operator = await startOperator();
});

afterAll(async () => {
  await operator?.stop();
});

describe("ImageStreamTag controller", () => {
  it("keeps one ImageStreamTag per spec and status tag, with owner, image details and status", async () => {
    const reference = `${plain.host}/istags/app@${pushed.digest}`;
    const stream = await createStream(
      "app",
      [
        {
          name: "v1",
          from: { kind: "DockerImage", name: `${plain.host}/istags/app:v1` },
          importPolicy: { insecure: true },
        },
        { name: "next", annotations: { description: "spec only" } },
      ],
      [
        { tag: "v1", items: [event(pushed.digest, reference, "2024-05-01T10:00:00Z", 2)] },
        { tag: "Old_1", items: [event(DIGEST_X, `${plain.host}/istags/old@${DIGEST_X}`)] },
      ],
    );
    const v1 = await eventually(async () => {
      const istag = await getIstag("app.v1");
      // The details are written (a new generation) before the status that records it.
      const caughtUp = istag.status?.observedGeneration === istag.metadata.generation;
      return istag.image?.dockerImageLayers?.length && caughtUp ? istag : undefined;
    }, "app.v1 with image details and its status");
    expect(v1.metadata.ownerReferences).toEqual([
      {
        apiVersion: `${group}/${version}`,
        kind: "ImageStream",
        name: "app",
        uid: stream.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(v1.metadata.finalizers).toEqual([ISTAG_FINALIZER]);
    expect(v1.tag).toEqual({
      name: "v1",
      from: { kind: "DockerImage", name: `${plain.host}/istags/app:v1` },
      importPolicy: { insecure: true },
    });
    expect(v1.generation).toBe(2);
    expect(v1.lookupPolicy).toEqual({ local: false });
    expect(v1.image?.metadata?.name).toBe(pushed.digest);
    expect(v1.image?.dockerImageReference).toBe(reference);
    expect(v1.image?.dockerImageManifestMediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(v1.image?.dockerImageMetadata?.Author).toBe("istag-tests");
    expect(v1.image?.dockerImageMetadata?.Config?.Env).toContain("MODE=test");
    expect(v1.image?.dockerImageMetadata?.Config?.Labels).toEqual({ team: "istags" });
    expect(v1.image?.dockerImageLayers?.map((l) => l.name)).toEqual(pushed.layers.map((l) => l.digest));
    expect(v1.status).toEqual({
      lastUpdated: "2024-05-01T10:00:00Z",
      observedGeneration: v1.metadata.generation,
    });

    const next = await eventually(() => istagOrUndefined("app.next"), "app.next");
    expect(next.tag).toEqual({ name: "next", annotations: { description: "spec only" } });
    expect(next.image).toBeUndefined();
    // Status-only tag: no spec tag; its digest is unknown to the registry, so digest and pull spec only.
    const old = await eventually(() => istagOrUndefined("app.old-1"), "app.old-1");
    expect(old.tag ?? null).toBeNull();
    expect(old.image).toEqual({
      metadata: { name: DIGEST_X },
      dockerImageReference: `${plain.host}/istags/old@${DIGEST_X}`,
    });

    const table = await kubectl(cp, ["get", "istag", "-n", namespace]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+IMAGE REFERENCE\s+UPDATED$/);
    expect(lines.find((l) => l.startsWith("app.v1 "))).toContain(reference);
  });

  it("writes nothing when nothing changed", async () => {
    const names = ["app.v1", "app.next", "app.old-1"];
    const before = await Promise.all(names.map(async (n) => (await getIstag(n)).metadata.resourceVersion));
    // A stream change that means nothing for its ImageStreamTags still triggers a reconcile.
    await kubectl(cp, ["annotate", "is", "app", "-n", namespace, "touched=1"]);
    await new Promise((r) => setTimeout(r, 3000));
    const after = await Promise.all(names.map(async (n) => (await getIstag(n)).metadata.resourceVersion));
    expect(after).toEqual(before);
  });

  it("follows stream changes: a spec edit updates the ImageStreamTag, a removed tag deletes it", async () => {
    const stream = await getStream("app");
    const tags = (stream.spec?.tags ?? []).map((t) =>
      t.name === "next" ? { ...t, annotations: { description: "changed" } } : t,
    );
    await api.patchNamespacedCustomObject(
      {
        group,
        version,
        namespace,
        plural: "imagestreams",
        name: "app",
        body: [{ op: "replace", path: "/spec/tags", value: tags }],
      },
      jsonPatch,
    );
    await eventually(async () => {
      const next = await getIstag("app.next");
      return next.tag?.annotations?.description === "changed" ? next : undefined;
    }, "app.next updated");
    // The tag disappears from spec (it never had status): the controller deletes the object.
    const latest = await getStream("app");
    await api.patchNamespacedCustomObject(
      {
        group,
        version,
        namespace,
        plural: "imagestreams",
        name: "app",
        body: [
          {
            op: "replace",
            path: "/spec/tags",
            value: (latest.spec?.tags ?? []).filter((t) => t.name !== "next"),
          },
        ],
      },
      jsonPatch,
    );
    await eventually(
      async () => ((await istagOrUndefined("app.next")) ? undefined : true),
      "app.next deleted",
    );
  });

  it("adds a user-created ImageStreamTag's tag to the stream and adopts the object", async () => {
    const from = { kind: "DockerImage", name: `${plain.host}/istags/app:v2` };
    const created = await kubectl(
      cp,
      ["apply", "-n", namespace, "-f", "-"],
      JSON.stringify({
        apiVersion: `${group}/${version}`,
        kind: "ImageStreamTag",
        metadata: { name: "app.v2" },
        tag: { name: "v2", from },
      }),
    );
    expect(created.stderr).toBe("");
    const stream = await eventually(async () => {
      const s = await getStream("app");
      return s.spec?.tags?.some((t) => t.name === "v2") ? s : undefined;
    }, "spec tag v2");
    expect(stream.spec?.tags?.find((t) => t.name === "v2")).toEqual({ name: "v2", from });
    const adopted = await eventually(async () => {
      const istag = await getIstag("app.v2");
      return istag.metadata.finalizers?.includes(ISTAG_FINALIZER) &&
        istag.status?.observedGeneration === istag.metadata.generation
        ? istag
        : undefined;
    }, "app.v2 adopted");
    expect(adopted.metadata.ownerReferences?.[0]?.uid).toBe(stream.metadata.uid);
  });

  it("creates the stream for an ImageStreamTag of a stream that does not exist", async () => {
    const from = { kind: "DockerImage", name: `${plain.host}/istags/fresh:latest` };
    await api.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: "imagestreamtags",
      body: {
        apiVersion: `${group}/${version}`,
        kind: "ImageStreamTag",
        metadata: { name: "fresh.latest" },
        tag: { name: "latest", from },
      },
    });
    const stream = await eventually(() => getStream("fresh").catch(() => undefined), "stream fresh");
    expect(stream.spec?.tags).toEqual([{ name: "latest", from }]);
    await eventually(async () => {
      const istag = await getIstag("fresh.latest");
      return istag.metadata.ownerReferences?.[0]?.uid === stream.metadata.uid ? istag : undefined;
    }, "fresh.latest owned");
  });

  it("applies a user's edit of an owned ImageStreamTag to the stream's spec tag", async () => {
    const patched = await kubectl(cp, [
      "patch",
      "istag",
      "app.v2",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      JSON.stringify({
        tag: { from: { name: `${plain.host}/istags/app:v3` }, importPolicy: { scheduled: true } },
      }),
    ]);
    expect(patched.stderr).toBe("");
    const stream = await eventually(async () => {
      const s = await getStream("app");
      const v2 = s.spec?.tags?.find((t) => t.name === "v2");
      return v2?.from?.name.endsWith(":v3") ? s : undefined;
    }, "spec tag v2 edited");
    expect(stream.spec?.tags?.find((t) => t.name === "v2")?.importPolicy).toEqual({ scheduled: true });
    const istag = await eventually(async () => {
      const i = await getIstag("app.v2");
      return i.status?.observedGeneration === i.metadata.generation ? i : undefined;
    }, "edit recorded as synced");
    expect(istag.tag?.from?.name).toBe(`${plain.host}/istags/app:v3`);
  });

  it("kubectl delete istag removes the tag from the stream's spec and status", async () => {
    const deleted = await kubectl(cp, ["delete", "istag", "app.v1", "-n", namespace, "--timeout=30s"]);
    expect(deleted.code).toBe(0);
    const stream = await getStream("app");
    expect(stream.spec?.tags?.map((t) => t.name)).not.toContain("v1");
    expect(stream.status?.tags?.map((t) => t.tag)).not.toContain("v1");
    // It stays gone: the controller does not recreate it from a stale cache.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await istagOrUndefined("app.v1")).toBeUndefined();
  });

  it("completes a deletion made while the controller was stopped", async () => {
    await operator?.stop();
    operator = undefined;
    const deleted = await kubectl(cp, ["delete", "istag", "app.old-1", "-n", namespace, "--wait=false"]);
    expect(deleted.code).toBe(0);
    const pending = await getIstag("app.old-1");
    expect(pending.metadata.deletionTimestamp).toBeDefined();
    expect((await getStream("app")).status?.tags?.map((t) => t.tag)).toContain("Old_1");

    operator = await startOperator();
    await eventually(
      async () => ((await istagOrUndefined("app.old-1")) ? undefined : true),
      "app.old-1 gone",
    );
    expect((await getStream("app")).status?.tags?.map((t) => t.tag) ?? []).not.toContain("Old_1");
  });

  it("reports tags whose names collide and gives neither an ImageStreamTag", async () => {
    await createStream("coll", [{ name: "V1" }, { name: "v1" }, { name: "ok" }]);
    await eventually(() => istagOrUndefined("coll.ok"), "coll.ok");
    const events = cp.kubeConfig.makeApiClient(EventsV1Api);
    const warning = await eventually(async () => {
      const list = await events.listNamespacedEvent({ namespace });
      return list.items.find(
        (e) => e.regarding?.name === "coll" && e.reason === "ImageStreamTagNameCollision",
      );
    }, "a collision event");
    expect(warning.type).toBe("Warning");
    expect(warning.note).toContain("V1, v1");
    expect(await istagOrUndefined("coll.v1")).toBeUndefined();
  });

  it("deleting a stream does not hang on finalizers: its ImageStreamTags go too", async () => {
    const deleted = await kubectl(cp, [
      "delete",
      "is",
      "app",
      "-n",
      namespace,
      "--cascade=foreground",
      "--timeout=45s",
    ]);
    expect(deleted.stderr).toBe("");
    expect(deleted.code).toBe(0);
    await eventually(async () => {
      const list = (await api.listNamespacedCustomObject({
        group,
        version,
        namespace,
        plural: "imagestreamtags",
      })) as {
        items: ImageStreamTag[];
      };
      return list.items.some((i) => i.metadata.name?.startsWith("app.")) ? undefined : true;
    }, "app's ImageStreamTags gone");
    // Background deletion (kubectl's default) too.
    await kubectl(cp, ["delete", "is", "fresh", "-n", namespace, "--timeout=30s"]);
    await eventually(
      async () => ((await istagOrUndefined("fresh.latest")) ? undefined : true),
      "fresh.latest gone",
    );
  });
});
