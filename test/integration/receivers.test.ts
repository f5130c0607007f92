// Receivers on real components: Receiver objects and their Secrets in the real API server, the
// operator in process serving the hooks listener, a real distribution registry standing in for
// each provider's registry (the Receivers name it as their registry), and every provider's
// documented payload (test/fixtures/receivers) POSTed with its verification: exactly the tags
// each names are imported; a bad signature gets 401 and imports nothing.

import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageStream, Receiver } from "../../src/api/index.ts";
import type { Operator } from "../../src/operator/index.ts";
import type { RequestEvent } from "../../src/registry/index.ts";
import {
  createNamespace,
  eventually,
  freePort,
  pushImage,
  type RegistryInstance,
  startRegistry,
  useSharedControlPlane,
} from "../harness/index.ts";
import { startInProcessOperator } from "./in-process-operator.ts";
import { streamsOf } from "./streams.ts";

const cp = useSharedControlPlane();
const streams = streamsOf(cp);
const FIXTURES = join(import.meta.dirname, "..", "fixtures", "receivers");
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const TOKEN = randomBytes(24).toString("hex");
const RECEIVERS = { group: "imagestream-operator.io", version: "v1alpha1", plural: "receivers" } as const;

/** Per provider: the stream it should update, its tags and sources (repository:tag), and which are named. */
const CASES = {
  dockerhub: {
    stream: "hub",
    tags: { web: "acme/web:1.4.2", control: "acme/web:1.4.3" },
    named: ["web"],
    payload: "dockerhub.json",
    headers: (): Record<string, string> => ({}),
  },
  harbor: {
    stream: "harbor",
    tags: { api: "library/api:2.0.1" },
    named: ["api"],
    payload: "harbor.json",
    headers: (): Record<string, string> => ({ authorization: TOKEN }),
  },
  quay: {
    stream: "quay",
    tags: { latest: "acme/worker:latest", v3: "acme/worker:v3", control: "acme/worker:v4" },
    named: ["latest", "v3"],
    payload: "quay.json",
    headers: (): Record<string, string> => ({}),
  },
  github: {
    stream: "github",
    tags: { main: "acme-org/api:main", control: "acme-org/api:other" },
    named: ["main"],
    payload: "github-registry-package.json",
    headers: (body: Buffer): Record<string, string> => ({
      "x-github-event": "registry_package",
      "x-hub-signature-256": `sha256=${createHmac("sha256", TOKEN).update(body).digest("hex")}`,
    }),
  },
  gitlab: {
    stream: "gitlab",
    tags: { shop: "acme/shop:1", worker: "acme/shop/worker:2", control: "acme/other:1" },
    named: ["shop", "worker"],
    payload: "gitlab-pipeline.json",
    headers: (): Record<string, string> => ({ "x-gitlab-event": "Pipeline Hook", "x-gitlab-token": TOKEN }),
  },
  distribution: {
    stream: "dist",
    tags: { v1: "team/app:v1" },
    named: ["v1"],
    payload: "distribution.json",
    headers: (): Record<string, string> => ({
      authorization: `Bearer ${TOKEN}`,
      "content-type": "application/vnd.docker.distribution.events.v1+json",
    }),
  },
  generic: {
    stream: "generic",
    tags: { app: "team/app:v2", worker: "team/worker:v2", control: "team/worker:v3" },
    named: ["app", "worker"],
    payload: "generic.json",
    headers: (): Record<string, string> => ({}),
  },
} as const;
type Provider = keyof typeof CASES;

describe("receivers: each provider's payload imports exactly the tags it names", () => {
  let registry: RegistryInstance;
  let operator: Operator;
  let namespace: string;
  let hooksUrl: string;
  const contacted: RequestEvent[] = [];
  const first: Record<string, string> = {};
  const second: Record<string, string> = {};
  const objects = cp.kubeConfig.makeApiClient(CustomObjectsApi);

  const receiverOf = async (name: string): Promise<Receiver> =>
    (await objects.getNamespacedCustomObject({ ...RECEIVERS, namespace, name })) as Receiver;
  const post = (path: string, body: Buffer, headers: Record<string, string>) =>
    request(`${hooksUrl}${path}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    }).then(async (res) => ({ status: res.statusCode, body: await res.body.text() }));
  const newest = async (stream: string, tag: string) =>
    (await streams.get(namespace, stream)).status?.tags?.find((t) => t.tag === tag)?.items?.[0]?.image;

  beforeAll(async () => {
    registry = await startRegistry("plain");
    namespace = await createNamespace(cp, "receivers");
    const port = await freePort();
    hooksUrl = `http://127.0.0.1:${port}`;
    operator = await startInProcessOperator(cp, [`--hooks-address=127.0.0.1:${port}`], {
      onRegistryRequest: (e) => contacted.push(e),
    });
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: "hooks" },
        type: "imagestream-operator.io/receiver-token",
        stringData: { token: TOKEN },
      },
    });
    // Every source image in the provider's stand-in registry, then the streams importing them.
    const sources = [...new Set(Object.values(CASES).flatMap((c) => Object.values(c.tags)))];
    for (const source of sources) {
      const [repository = "", tag = ""] = source.split(":");
      first[source] = (await pushImage(registry, repository, tag, { layerContent: `${source} 1` })).digest;
    }
    for (const [provider, c] of Object.entries(CASES)) {
      await streams.create(
        namespace,
        c.stream,
        {
          tags: Object.entries(c.tags).map(([name, source]) => ({
            name,
            from: { kind: "DockerImage", name: `${registry.host}/${source}` },
          })),
        },
        { "openshift.io/image.insecureRepository": "true" },
      );
      await objects.createNamespacedCustomObject({
        ...RECEIVERS,
        namespace,
        body: {
          apiVersion: "imagestream-operator.io/v1alpha1",
          kind: "Receiver",
          metadata: { name: provider },
          spec: { provider, secretRef: { name: "hooks" }, registry: registry.host },
        },
      });
    }
    for (const c of Object.values(CASES)) {
      for (const [tag, source] of Object.entries(c.tags)) {
        await eventually(
          async () => ((await newest(c.stream, tag)) === first[source] ? true : undefined),
          `${c.stream}:${tag}`,
        );
      }
    }
    // New images under every tag, named or not: only the named ones may be imported.
    for (const source of sources) {
      const [repository = "", tag = ""] = source.split(":");
      second[source] = (await pushImage(registry, repository, tag, { layerContent: `${source} 2` })).digest;
    }
  }, 180_000);

  afterAll(async () => {
    await operator?.stop();
    await registry?.stop();
  });

  it("reports each Receiver's URL and readiness in its status", async () => {
    const ready = await eventually(async () => {
      const r = await receiverOf("dockerhub");
      return r.status?.conditions?.[0]?.status === "True" ? r : undefined;
    }, "a Ready receiver");
    expect(ready.status?.url).toMatch(/^\/hook\/[0-9a-f]{64}$/);
    expect(ready.status?.conditions?.[0]).toMatchObject({ type: "Ready", reason: "Ready" });
  });

  it("refuses a bad signature, an unknown path, a malformed and an oversized payload, importing nothing", async () => {
    const github = await eventually(async () => (await receiverOf("github")).status?.url, "github's URL");
    const body = fixture("github-registry-package.json");
    const bad = await post(github, body, {
      "x-github-event": "registry_package",
      "x-hub-signature-256": "sha256=00",
    });
    expect(bad.status).toBe(401);
    expect((await post("/hook/0000", body, {})).status).toBe(404);
    const generic = await eventually(async () => (await receiverOf("generic")).status?.url, "generic's URL");
    expect((await post(generic, Buffer.from("{not json"), {})).status).toBe(400);
    expect((await post(generic, Buffer.alloc(2 * 1024 * 1024, 0x20), {})).status).toBe(413);
    const stream: ImageStream = await streams.get(namespace, "github");
    expect(stream.metadata.annotations?.["image.openshift.io/import-requested-tags"]).toBeUndefined();
    const metrics = (await operator.metrics.exposition()).body;
    expect(metrics).toContain(
      'imagestream_receiver_requests_total{provider="github",result="bad-signature"} 1',
    );
    expect(metrics).toContain(
      'imagestream_receiver_requests_total{provider="unknown",result="unknown-receiver"} 1',
    );
  });

  it("refuses a wrong token from the providers that send one (Harbor, GitLab, distribution) with 401, importing nothing", async () => {
    const wrong = randomBytes(24).toString("hex");
    const forged: Record<string, Record<string, string>> = {
      harbor: { authorization: wrong },
      gitlab: { "x-gitlab-event": "Pipeline Hook", "x-gitlab-token": wrong },
      distribution: {
        authorization: `Bearer ${wrong}`,
        "content-type": "application/vnd.docker.distribution.events.v1+json",
      },
    };
    for (const [provider, headers] of Object.entries(forged)) {
      const c = CASES[provider as Provider];
      const url = await eventually(async () => (await receiverOf(provider)).status?.url, `${provider}'s URL`);
      const answer = await post(url, fixture(c.payload), headers);
      expect(answer.status, provider).toBe(401);
      // And without any token at all.
      const bare = await post(url, fixture(c.payload), { "x-gitlab-event": "Pipeline Hook" });
      expect(bare.status, provider).toBe(401);
    }
    await new Promise((r) => setTimeout(r, 1500));
    for (const provider of Object.keys(forged)) {
      const c = CASES[provider as Provider];
      const stream: ImageStream = await streams.get(namespace, c.stream);
      expect(
        stream.metadata.annotations?.["image.openshift.io/import-requested-tags"],
        provider,
      ).toBeUndefined();
      for (const [tag, source] of Object.entries(c.tags)) {
        expect(await newest(c.stream, tag), `${provider} ${tag}`).toBe(first[source]);
      }
    }
    const metrics = (await operator.metrics.exposition()).body;
    for (const provider of Object.keys(forged)) {
      expect(metrics).toMatch(
        new RegExp(
          `imagestream_receiver_requests_total\\{provider="${provider}",result="bad-token"\\} [1-9]`,
        ),
      );
    }
  });

  it.each(Object.keys(CASES) as Provider[])("%s", async (provider) => {
    const c = CASES[provider];
    const url = await eventually(async () => (await receiverOf(provider)).status?.url, `${provider}'s URL`);
    const body = fixture(c.payload);
    const answer = await post(url, body, c.headers(body));
    expect(answer.status).toBe(202);
    for (const tag of c.named) {
      const source = c.tags[tag as keyof typeof c.tags] as string;
      await eventually(
        async () => ((await newest(c.stream, tag)) === second[source] ? true : undefined),
        `${c.stream}:${tag} at the pushed image`,
      );
    }
    // The tags the payload does not name keep their image (nothing else was imported).
    for (const [tag, source] of Object.entries(c.tags)) {
      if (!(c.named as readonly string[]).includes(tag))
        expect(await newest(c.stream, tag)).toBe(first[source]);
    }
  });

  it("an event naming a registry no stream imports from contacts nothing (no SSRF)", async () => {
    // A generic receiver that keeps the hosts payloads name.
    await objects.createNamespacedCustomObject({
      ...RECEIVERS,
      namespace,
      body: {
        apiVersion: "imagestream-operator.io/v1alpha1",
        kind: "Receiver",
        metadata: { name: "open" },
        spec: { provider: "generic", secretRef: { name: "hooks" } },
      },
    });
    const url = await eventually(async () => (await receiverOf("open")).status?.url, "open's URL");
    const before = contacted.length;
    const body = Buffer.from(
      JSON.stringify({ images: ["169.254.169.254/latest/meta-data:x", "attacker.example/acme/web:1.4.2"] }),
    );
    const answer = await post(url, body, {});
    expect(answer.status).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({ accepted: 2, streams: 0 });
    await new Promise((r) => setTimeout(r, 1000));
    const hosts = contacted.slice(before).map((e) => e.registry);
    expect(hosts.filter((h) => h === "169.254.169.254" || h === "attacker.example")).toEqual([]);
  });
});
