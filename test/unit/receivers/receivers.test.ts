import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ImageStream, TagReference } from "../../../src/api/index.ts";
import {
  type ImageEvent,
  importRequests,
  mergeImportRequests,
  type Receiver,
  type ReceiverProvider,
  receive,
  receiverPath,
} from "../../../src/receivers/index.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/receivers/${name}`, import.meta.url));
const TOKEN = "4f1c2b0e9d8a7f6e5d4c3b2a19080706";

function receiver(provider: ReceiverProvider, extra: Partial<Receiver> = {}): Receiver {
  return { namespace: "team", name: "hook", provider, token: TOKEN, namespaces: ["team"], ...extra };
}
const json = { "content-type": "application/json" };

describe("receiverPath", () => {
  it("derives an unguessable path from token, name and namespace", () => {
    const path = receiverPath(receiver("dockerhub"));
    expect(path).toMatch(/^\/hook\/[0-9a-f]{64}$/);
    expect(receiverPath(receiver("dockerhub", { name: "other" }))).not.toBe(path);
    expect(receiverPath(receiver("dockerhub", { token: "x" }))).not.toBe(path);
  });
});

describe("receive: each provider's documented payload", () => {
  it("Docker Hub: repo_name and push_data.tag (the secret path is the verification)", () => {
    expect(receive(receiver("dockerhub"), { headers: json, body: fixture("dockerhub.json") })).toEqual({
      ok: true,
      status: 202,
      events: [{ registry: "docker.io", repository: "acme/web", tag: "1.4.2" }],
      ignored: [],
    });
    // Streams that import from a mirror of Docker Hub: the receiver names the mirror's host.
    expect(
      receive(receiver("dockerhub", { registry: "mirror.acme.io" }), {
        headers: json,
        body: fixture("dockerhub.json"),
      }),
    ).toMatchObject({ events: [{ registry: "mirror.acme.io", repository: "acme/web", tag: "1.4.2" }] });
  });

  it("Harbor: PUSH_ARTIFACT resources, verified by the Authorization header it is configured with", () => {
    const body = fixture("harbor.json");
    expect(receive(receiver("harbor"), { headers: { ...json, authorization: TOKEN }, body })).toMatchObject({
      ok: true,
      events: [{ registry: "harbor.example.com", repository: "library/api", tag: "2.0.1" }],
    });
    expect(receive(receiver("harbor"), { headers: json, body })).toMatchObject({
      status: 401,
      reason: "bad-token",
    });
    // A self-hosted Harbor reporting an internal host: the receiver's registry is what streams use.
    expect(
      receive(receiver("harbor", { registry: "registry.acme.io" }), {
        headers: { authorization: TOKEN },
        body,
      }),
    ).toMatchObject({ events: [{ registry: "registry.acme.io", repository: "library/api", tag: "2.0.1" }] });
    const other = Buffer.from(JSON.stringify({ type: "DELETE_ARTIFACT", event_data: {} }));
    expect(receive(receiver("harbor"), { headers: { authorization: TOKEN }, body: other })).toMatchObject({
      ok: true,
      events: [],
      ignored: ['Harbor event type "DELETE_ARTIFACT"'],
    });
  });

  it("Quay: repository_push with every updated tag", () => {
    expect(receive(receiver("quay"), { headers: json, body: fixture("quay.json") })).toMatchObject({
      ok: true,
      events: [
        { registry: "quay.io", repository: "acme/worker", tag: "latest" },
        { registry: "quay.io", repository: "acme/worker", tag: "v3" },
      ],
    });
  });

  it("GitHub Container Registry: registry_package published, verified by X-Hub-Signature-256", () => {
    const body = fixture("github-registry-package.json");
    const signature = `sha256=${createHmac("sha256", TOKEN).update(body).digest("hex")}`;
    const headers = { ...json, "x-github-event": "registry_package", "x-hub-signature-256": signature };
    expect(receive(receiver("github"), { headers, body })).toMatchObject({
      ok: true,
      events: [{ registry: "ghcr.io", repository: "acme-org/api", tag: "main" }],
    });
    expect(
      receive(receiver("github"), { headers: { ...headers, "x-hub-signature-256": "sha256=00" }, body }),
    ).toMatchObject({
      status: 401,
      reason: "bad-signature",
    });
    const tampered = Buffer.from(body.toString().replace('"main"', '"evil"'));
    expect(receive(receiver("github"), { headers, body: tampered })).toMatchObject({ status: 401 });
    const ping = Buffer.from('{"zen":"Keep it logically awesome."}');
    const pingSig = `sha256=${createHmac("sha256", TOKEN).update(ping).digest("hex")}`;
    expect(
      receive(receiver("github"), {
        headers: { "x-github-event": "ping", "x-hub-signature-256": pingSig },
        body: ping,
      }),
    ).toMatchObject({ ok: true, events: [], ignored: ["GitHub ping"] });
  });

  it("GitLab: a successful Pipeline Hook re-checks the project's repositories, verified by X-Gitlab-Token", () => {
    const body = fixture("gitlab-pipeline.json");
    const headers = { ...json, "x-gitlab-event": "Pipeline Hook", "x-gitlab-token": TOKEN };
    expect(receive(receiver("gitlab"), { headers, body })).toMatchObject({
      ok: true,
      events: [{ registry: "registry.gitlab.com", repository: "acme/shop", includeSubRepositories: true }],
    });
    expect(
      receive(receiver("gitlab"), { headers: { ...headers, "x-gitlab-token": "nope" }, body }),
    ).toMatchObject({
      status: 401,
    });
    const running = Buffer.from(body.toString().replace('"status": "success"', '"status": "running"'));
    expect(receive(receiver("gitlab"), { headers, body: running })).toMatchObject({ ok: true, events: [] });
  });

  it("distribution: notification envelope with a Bearer token header; host from the request or the receiver", () => {
    const body = fixture("distribution.json");
    const headers = {
      "content-type": "application/vnd.docker.distribution.events.v1+json",
      authorization: `Bearer ${TOKEN}`,
    };
    const result = receive(receiver("distribution"), { headers, body });
    expect(result).toMatchObject({
      ok: true,
      events: [{ registry: "registry.example.com", repository: "team/app", tag: "v1" }],
    });
    if (result.ok) expect(result.ignored).toHaveLength(2);
    expect(
      receive(receiver("distribution", { registry: "mirror.acme.io:5000" }), { headers, body }),
    ).toMatchObject({
      events: [{ registry: "mirror.acme.io:5000", repository: "team/app", tag: "v1" }],
    });
    expect(
      receive(receiver("distribution"), { headers: { ...headers, authorization: TOKEN }, body }),
    ).toMatchObject({
      status: 401,
    });
  });

  it("generic: image or images references", () => {
    expect(receive(receiver("generic"), { headers: json, body: fixture("generic.json") })).toMatchObject({
      events: [
        { registry: "registry.example.com", repository: "team/app", tag: "v2" },
        { registry: "registry.example.com", repository: "team/worker", tag: "v2" },
      ],
    });
    const single = Buffer.from('{"image":"redis:7"}');
    expect(receive(receiver("generic"), { headers: json, body: single })).toMatchObject({
      events: [{ registry: "docker.io", repository: "library/redis", tag: "7" }],
    });
  });
});

describe("receive: refusals", () => {
  it("unknown path, oversized, malformed and provider-invalid payloads get a 4xx with a reason", () => {
    expect(receive(undefined, { headers: json, body: Buffer.from("{}") })).toMatchObject({ status: 404 });
    expect(receive(receiver("generic"), { headers: json, body: Buffer.alloc(2048, 32) }, 1024)).toMatchObject(
      {
        status: 413,
        reason: "too-large",
      },
    );
    expect(receive(receiver("generic"), { headers: json, body: Buffer.from("not json") })).toMatchObject({
      status: 400,
      reason: "malformed",
    });
    expect(
      receive(receiver("dockerhub"), { headers: json, body: Buffer.from('{"push_data":{}}') }),
    ).toMatchObject({
      status: 400,
    });
    expect(
      receive(receiver("generic"), { headers: json, body: Buffer.from('{"image":"Not A Ref"}') }),
    ).toMatchObject({
      status: 400,
    });
    const many = Buffer.from(
      JSON.stringify({ images: Array.from({ length: 101 }, (_, i) => `r.io/a/b:${i}`) }),
    );
    expect(receive(receiver("generic"), { headers: json, body: many })).toMatchObject({ status: 413 });
    expect(
      receive(receiver("quay"), { headers: json, body: Buffer.from('{"docker_url":"quay.io/a/b"}') }),
    ).toMatchObject({
      status: 400,
    });
  });

  it("a digest-only generic reference names no tag", () => {
    const body = Buffer.from(JSON.stringify({ image: `r.io/a/b@sha256:${"a".repeat(64)}` }));
    expect(receive(receiver("generic"), { headers: json, body })).toMatchObject({ status: 400 });
  });
});

describe("importRequests", () => {
  const dockerTag = (name: string, from: string, extra: Partial<TagReference> = {}): TagReference => ({
    name,
    from: { kind: "DockerImage", name: from },
    ...extra,
  });
  const stream = (namespace: string, name: string, tags: TagReference[], repo?: string): ImageStream => ({
    apiVersion: "image.openshift.io/v1",
    kind: "ImageStream",
    metadata: { namespace, name },
    spec: { tags, ...(repo ? { dockerImageRepository: repo } : {}) },
  });
  const streams = [
    stream("team", "web", [
      dockerTag("prod", "acme/web:1.4.2"),
      dockerTag("also", "docker.io/acme/web:1.4.2"),
      dockerTag("other", "acme/web:1.4.1"),
      dockerTag("pinned", `acme/web@sha256:${"b".repeat(64)}`),
      dockerTag("ref", "acme/web:1.4.2", { reference: true }),
      { name: "alias", from: { kind: "ImageStreamTag", name: "prod" } },
    ]),
    stream("elsewhere", "web", [dockerTag("prod", "acme/web:1.4.2")]),
    stream("team", "mirror", [], "quay.io/acme/worker"),
    stream("team", "shop", [
      dockerTag("main", "registry.gitlab.com/acme/shop:main"),
      dockerTag("worker", "registry.gitlab.com/acme/shop/worker:main"),
      dockerTag("unrelated", "registry.gitlab.com/acme/shopping:main"),
    ]),
  ];
  const hub: ImageEvent = { registry: "docker.io", repository: "acme/web", tag: "1.4.2" };

  it("every stream tag naming exactly the reference, in allowed namespaces, gets a request for that tag", () => {
    expect(importRequests([hub], streams, ["team"])).toEqual([
      {
        reference: "docker.io/acme/web:1.4.2",
        targets: [
          { kind: "tag", namespace: "team", stream: "web", tag: "prod" },
          { kind: "tag", namespace: "team", stream: "web", tag: "also" },
        ],
      },
    ]);
    expect(importRequests([hub], streams, ["team", "elsewhere"])[0]?.targets).toHaveLength(3);
  });

  it("an event naming no stream's source causes nothing: no host or repository is added (no SSRF)", () => {
    const events: ImageEvent[] = [
      { registry: "169.254.169.254", repository: "latest/meta-data", tag: "x" },
      { registry: "docker.io", repository: "acme/web", tag: "9.9.9" },
      { registry: "evil.example", repository: "acme/web", tag: "1.4.2" },
    ];
    expect(importRequests(events, streams, ["team", "elsewhere"])).toEqual([]);
  });

  it("repository imports get the tag; repository-wide events reach every tag below the project", () => {
    expect(
      importRequests([{ registry: "quay.io", repository: "acme/worker", tag: "v3" }], streams, ["team"]),
    ).toEqual([
      {
        reference: "quay.io/acme/worker:v3",
        targets: [{ kind: "repository", namespace: "team", stream: "mirror", tag: "v3" }],
      },
    ]);
    const pipeline: ImageEvent = {
      registry: "registry.gitlab.com",
      repository: "acme/shop",
      includeSubRepositories: true,
    };
    expect(importRequests([pipeline], streams, ["team"]).map((g) => g.reference)).toEqual([
      "registry.gitlab.com/acme/shop:main",
      "registry.gitlab.com/acme/shop/worker:main",
    ]);
  });

  it("a burst coalesces to one group per distinct reference", () => {
    const first = importRequests([hub], streams, ["team"]);
    const second = importRequests(
      [hub, { registry: "docker.io", repository: "acme/web", tag: "1.4.1" }],
      streams,
      ["team"],
    );
    const merged = mergeImportRequests(first, second);
    expect(merged.map((g) => [g.reference, g.targets.length])).toEqual([
      ["docker.io/acme/web:1.4.2", 2],
      ["docker.io/acme/web:1.4.1", 1],
    ]);
  });
});
