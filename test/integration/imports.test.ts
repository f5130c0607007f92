// The import controller against the real API server and real registries.
import { CoreV1Api, EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageStream } from "../../src/api/types.ts";
import type { Operator } from "../../src/operator/index.ts";
import type { RequestEvent } from "../../src/registry/index.ts";
import {
  createNamespace,
  dockerConfigJson,
  eventually,
  pushImage,
  pushIndex,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { startInProcessOperator } from "./in-process-operator.ts";
import { streamsOf } from "./streams.ts";

const cp = useSharedControlPlane();
const plain = useSharedRegistry("plain");
const tls = useSharedRegistry("tls");
const basic = useSharedRegistry("basic");
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
const requests: RequestEvent[] = [];
let namespace: string;
let operator: Operator;

const streams = streamsOf(cp);
const getStream = (name: string) => streams.get(namespace, name);
const createStream = (body: {
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: ImageStream["spec"];
}) => streams.create(namespace, body.metadata.name, body.spec, body.metadata.annotations);

function tagStatus(stream: ImageStream, tag: string) {
  return stream.status?.tags?.find((t) => t.tag === tag);
}

async function importedDigest(name: string, tag: string, expected?: string): Promise<ImageStream> {
  return eventually(
    async () => {
      const s = await getStream(name);
      const image = tagStatus(s, tag)?.items?.[0]?.image;
      return image && (!expected || image === expected) ? s : undefined;
    },
    `${name}:${tag} imported${expected ? ` as ${expected}` : ""}`,
  );
}

beforeAll(async () => {
  namespace = await createNamespace(cp, "imports");
  operator = await startInProcessOperator(
    cp,
    ["--namespaces", namespace, "--controllers=import", "--scheduled-import-interval=10s"],
    { ...(tls.caPem ? { caBundle: tls.caPem } : {}), onRegistryRequest: (e) => requests.push(e) },
  );
});

afterAll(async () => {
  await operator?.stop();
});

describe("import controller", () => {
  it("imports a Docker schema 2 image from an insecure plain-HTTP registry with metadata", async () => {
    const pushed = await pushImage(plain, "imports/app", "v1", {
      format: "docker",
      config: { Env: ["A=1"], Cmd: ["/bin/app"], Labels: { team: "x" }, ExposedPorts: { "8080/tcp": {} } },
      author: "tests",
    });
    await createStream({
      metadata: { name: "app" },
      spec: {
        tags: [
          {
            name: "v1",
            from: { kind: "DockerImage", name: `${plain.host}/imports/app:v1` },
            importPolicy: { insecure: true },
          },
        ],
      },
    });
    const stream = await importedDigest("app", "v1", pushed.digest);
    const item = tagStatus(stream, "v1")?.items?.[0];
    expect(item?.dockerImageReference).toBe(`${plain.host}/imports/app@${pushed.digest}`);
    expect(item?.generation).toBe(stream.metadata.generation);
    // The annotation is written after the status (a lost write repeats the round), so it may
    // show a moment later than the digest.
    const checked = await eventually(async () => {
      const s = await getStream("app");
      return s.metadata.annotations?.["openshift.io/image.dockerRepositoryCheck"];
    }, "the dockerRepositoryCheck annotation");
    expect(checked).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(stream.status?.tagSummary).toContain("v1");
  });

  it("refuses plain HTTP for a tag that is not marked insecure", async () => {
    await pushImage(plain, "imports/secure", "v1");
    await createStream({
      metadata: { name: "secure" },
      spec: {
        tags: [{ name: "v1", from: { kind: "DockerImage", name: `${plain.host}/imports/secure:v1` } }],
      },
    });
    const condition = await eventually(
      async () => tagStatus(await getStream("secure"), "v1")?.conditions?.[0],
      "a condition",
    );
    expect(condition).toMatchObject({ type: "ImportSuccess", status: "False" });
    expect(tagStatus(await getStream("secure"), "v1")?.items ?? []).toHaveLength(0);
  });

  it("imports an OCI image over TLS trusted through the controller's CA bundle", async () => {
    const pushed = await pushImage(tls, "imports/oci", "1.0", { format: "oci" });
    await createStream({
      metadata: { name: "oci" },
      spec: { tags: [{ name: "1.0", from: { kind: "DockerImage", name: `${tls.host}/imports/oci:1.0` } }] },
    });
    const stream = await importedDigest("oci", "1.0", pushed.digest);
    expect(tagStatus(stream, "1.0")?.items?.[0]?.dockerImageReference).toBe(
      `${tls.host}/imports/oci@${pushed.digest}`,
    );
  });

  it("picks linux/amd64 from an index in Legacy mode and keeps the index in PreserveOriginal", async () => {
    const index = await pushIndex(
      plain,
      "imports/multi",
      "latest",
      [
        { os: "linux", architecture: "arm64", variant: "v8" },
        { os: "linux", architecture: "amd64" },
      ],
      { format: "oci" },
    );
    const amd64 = index.manifests.find((m) => m.platform.architecture === "amd64")?.digest;
    const arm64 = index.manifests.find((m) => m.platform.architecture === "arm64")?.digest;
    const from = { kind: "DockerImage" as const, name: `${plain.host}/imports/multi:latest` };
    await createStream({
      metadata: { name: "multi" },
      spec: {
        tags: [
          { name: "legacy", from, importPolicy: { insecure: true } },
          {
            name: "arm",
            from,
            importPolicy: { insecure: true },
            annotations: { "importer.image.openshift.io/prefer-arch": "arm64" },
          },
          { name: "all", from, importPolicy: { insecure: true, importMode: "PreserveOriginal" } },
        ],
      },
    });
    await importedDigest("multi", "legacy", amd64);
    await importedDigest("multi", "arm", arm64);
    const stream = await importedDigest("multi", "all", index.digest);
    expect(tagStatus(stream, "all")?.items?.[0]?.dockerImageReference).toBe(
      `${plain.host}/imports/multi@${index.digest}`,
    );
  });

  it("adds a second history item on a re-import request after a new push, once per request", async () => {
    const first = await pushImage(plain, "imports/hist", "v1", { layerContent: "one" });
    await createStream({
      metadata: { name: "hist" },
      spec: {
        tags: [
          {
            name: "v1",
            from: { kind: "DockerImage", name: `${plain.host}/imports/hist:v1` },
            importPolicy: { insecure: true },
          },
        ],
      },
    });
    await importedDigest("hist", "v1", first.digest);
    const second = await pushImage(plain, "imports/hist", "v1", { layerContent: "two" });
    expect(second.digest).not.toBe(first.digest);
    const request = await streams.requestImport(namespace, "hist");
    const stream = await importedDigest("hist", "v1", second.digest);
    expect(tagStatus(stream, "v1")?.items?.map((i) => i.image)).toEqual([second.digest, first.digest]);
    const handled = await eventually(async () => {
      const s = await getStream("hist");
      return s.metadata.annotations?.["image.openshift.io/import-requested-handled"] === request
        ? s
        : undefined;
    }, "the request to be recorded as handled");
    // The honoured request is not run again: nothing changes afterwards.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await getStream("hist")).metadata.resourceVersion).toBe(handled.metadata.resourceVersion);
  });

  it("imports a new stream's tag as pushed before the stream was applied, not from another stream's lookup", async () => {
    const spec: ImageStream["spec"] = {
      tags: [
        {
          name: "v1",
          from: { kind: "DockerImage", name: `${plain.host}/imports/fresh:v1` },
          importPolicy: { insecure: true },
        },
      ],
    };
    const first = await pushImage(plain, "imports/fresh", "v1", { layerContent: "one" });
    await createStream({ metadata: { name: "fresh-a" }, spec });
    await importedDigest("fresh-a", "v1", first.digest);
    // Within the 5 s in which scheduled checks share fresh-a's lookup.
    const second = await pushImage(plain, "imports/fresh", "v1", { layerContent: "two" });
    await createStream({ metadata: { name: "fresh-b" }, spec });
    const b = await importedDigest("fresh-b", "v1");
    expect(tagStatus(b, "v1")?.items?.map((i) => i.image)).toEqual([second.digest]);
  });

  it("checks an unchanged scheduled tag with one HEAD and writes nothing", async () => {
    const pushed = await pushImage(plain, "imports/sched", "v1");
    await createStream({
      metadata: { name: "sched" },
      spec: {
        tags: [
          {
            name: "v1",
            from: { kind: "DockerImage", name: `${plain.host}/imports/sched:v1` },
            importPolicy: { insecure: true, scheduled: true },
          },
        ],
      },
    });
    const imported = await importedDigest("sched", "v1", pushed.digest);
    const settled = await eventually(
      async () => {
        const s = await getStream("sched");
        return s.metadata.resourceVersion === imported.metadata.resourceVersion ? s : undefined;
      },
      "the stream to settle",
      5000,
    ).catch(() => getStream("sched"));
    const before = requests.length;
    // The scheduled interval is 10 s: wait for at least one scheduled check.
    await eventually(
      async () =>
        requests.slice(before).some((r) => r.method === "HEAD" && r.kind === "manifest") ? true : undefined,
      "a scheduled HEAD",
      25_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const manifestGets = requests.slice(before).filter((r) => r.kind !== "ping" && r.method === "GET");
    expect(manifestGets).toEqual([]);
    expect((await getStream("sched")).metadata.resourceVersion).toBe(settled.metadata.resourceVersion);
  });

  it("sets ImportSuccess=False with NotFound, keeps history, and records a Warning event", async () => {
    await createStream({
      metadata: { name: "missing" },
      spec: {
        tags: [
          {
            name: "v1",
            from: { kind: "DockerImage", name: `${plain.host}/imports/nothing:v1` },
            importPolicy: { insecure: true },
          },
        ],
      },
    });
    const condition = await eventually(
      async () => tagStatus(await getStream("missing"), "v1")?.conditions?.[0],
      "a condition",
    );
    expect(condition).toMatchObject({ type: "ImportSuccess", status: "False", reason: "NotFound" });
    expect(condition.message).toContain("imports/nothing");
    const events = cp.kubeConfig.makeApiClient(EventsV1Api);
    const warning = await eventually(async () => {
      const list = await events.listNamespacedEvent({ namespace });
      return list.items.find((e) => e.regarding?.name === "missing" && e.type === "Warning");
    }, "a Warning event");
    expect(warning.reason).toBe("ImportFailed");
  });

  it("uses a dockerconfigjson Secret of the namespace for basic auth", async () => {
    const pushed = await pushImage(basic, "imports/private", "v1");
    await createStream({
      metadata: { name: "private" },
      spec: {
        tags: [
          {
            name: "v1",
            from: { kind: "DockerImage", name: `${basic.host}/imports/private:v1` },
            importPolicy: { insecure: true },
          },
        ],
      },
    });
    const condition = await eventually(
      async () => tagStatus(await getStream("private"), "v1")?.conditions?.[0],
      "an Unauthorized condition",
    );
    expect(condition.reason).toBe("Unauthorized");
    // A new pull secret takes effect without a restart.
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: "pull" },
        type: "kubernetes.io/dockerconfigjson",
        stringData: { ".dockerconfigjson": dockerConfigJson(basic) },
      },
    });
    const stream = await importedDigest("private", "v1", pushed.digest);
    expect(tagStatus(stream, "v1")?.conditions ?? []).toEqual([]);
  });
});
