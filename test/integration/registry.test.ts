// The registry client against the harness's real registries (CNCF distribution): plain HTTP,
// TLS with a private CA, htpasswd basic auth and bearer tokens from a token server.
import { afterAll, describe, expect, it } from "vitest";
import { toImage } from "../../src/imports/index.ts";
import {
  createRegistryClient,
  dockerConfigKeychain,
  MediaTypes,
  parseDockerConfig,
  type RegistryClient,
  type RegistryClientOptions,
  type RequestEvent,
  staticKeychain,
} from "../../src/registry/index.ts";
import { dockerConfigJson, pushImage, pushIndex, useSharedRegistry } from "../harness/index.ts";

const plain = useSharedRegistry("plain");
const tls = useSharedRegistry("tls");
const basic = useSharedRegistry("basic");
const token = useSharedRegistry("token");
const caBundle = [tls.caPem, basic.caPem, token.caPem].filter((pem): pem is string => pem !== undefined);

const clients: RegistryClient[] = [];
function newClient(options: RegistryClientOptions = {}): { client: RegistryClient; events: RequestEvent[] } {
  const events: RequestEvent[] = [];
  const client = createRegistryClient({
    caBundle,
    requestTimeoutMs: 10_000,
    onRequest: (e) => events.push(e),
    ...options,
  });
  clients.push(client);
  return { client, events };
}
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

const unique = (name: string) => `regclient/${name}-${Math.random().toString(36).slice(2, 8)}`;

describe("single images", () => {
  it("imports a Docker schema 2 image over plain HTTP when marked insecure", async () => {
    const repo = unique("docker");
    const pushed = await pushImage(plain, repo, "v1", {
      format: "docker",
      author: "harness",
      config: {
        Env: ["A=1"],
        Cmd: ["run"],
        Labels: { team: "x" },
        ExposedPorts: { "8080/tcp": {} },
        User: "1001",
        WorkingDir: "/w",
      },
    });
    const { client } = newClient();
    const result = await client.inspect(`${plain.host}/${repo}:v1`, { insecure: true });
    expect(result.kind).toBe("image");
    if (result.kind !== "image") return;
    expect(result.digest).toBe(pushed.digest);
    expect(result.mediaType).toBe(MediaTypes.dockerManifest);
    const image = toImage(result, `${plain.host}/${repo}:v1`);
    expect(image).toMatchObject({
      metadata: { name: pushed.digest },
      dockerImageReference: `${plain.host}/${repo}@${pushed.digest}`,
      dockerImageManifestMediaType: MediaTypes.dockerManifest,
      dockerImageMetadata: {
        Architecture: "amd64",
        Os: "linux",
        Author: "harness",
        Config: {
          Env: ["A=1"],
          Cmd: ["run"],
          Labels: { team: "x" },
          ExposedPorts: { "8080/tcp": {} },
          User: "1001",
          WorkingDir: "/w",
        },
      },
    });
    expect(image.dockerImageLayers).toEqual(
      pushed.layers.map((l) => ({ name: l.digest, size: l.size, mediaType: l.mediaType })),
    );
  });

  it("refuses plain HTTP when the image is not marked insecure", async () => {
    const repo = unique("refused");
    await pushImage(plain, repo, "v1");
    const { client } = newClient();
    await expect(client.inspect(`${plain.host}/${repo}:v1`)).rejects.toMatchObject({
      name: "RegistryError",
      message: /TLS/,
    });
  });

  it("imports an OCI image over TLS with the configured CA", async () => {
    const repo = unique("oci");
    const pushed = await pushImage(tls, repo, "v1", { format: "oci", architecture: "arm64", variant: "v8" });
    const { client } = newClient();
    const result = await client.inspect(`${tls.host}/${repo}:v1`);
    expect(result).toMatchObject({ kind: "image", digest: pushed.digest, mediaType: MediaTypes.ociManifest });
    if (result.kind === "image") {
      expect(toImage(result, `${tls.host}/${repo}:v1`).dockerImageMetadata).toMatchObject({
        Architecture: "arm64",
        Variant: "v8",
        Os: "linux",
      });
    }
  });

  it("fails TLS without the CA, and accepts unverified TLS only when insecure", async () => {
    const repo = unique("noca");
    const pushed = await pushImage(tls, repo, "v1");
    const { client } = newClient({ caBundle: [] });
    await expect(client.inspect(`${tls.host}/${repo}:v1`)).rejects.toMatchObject({
      reason: "InternalError",
      message: /TLS connection to registry .* failed/,
    });
    await expect(client.inspect(`${tls.host}/${repo}:v1`, { insecure: true })).resolves.toMatchObject({
      digest: pushed.digest,
    });
  });

  it("reports an unknown tag as NotFound", async () => {
    const repo = unique("missing");
    await pushImage(tls, repo, "v1");
    const { client } = newClient();
    await expect(client.inspect(`${tls.host}/${repo}:nope`)).rejects.toMatchObject({
      reason: "NotFound",
      message: `container image "${tls.host}/${repo}:nope" not found`,
    });
  });
});

describe("manifest lists", () => {
  it("exposes an OCI index's entries and fetches one platform", async () => {
    const repo = unique("index");
    const pushed = await pushIndex(
      tls,
      repo,
      "multi",
      [
        { architecture: "amd64", os: "linux" },
        { architecture: "arm64", os: "linux", variant: "v8" },
      ],
      { format: "oci" },
    );
    const { client } = newClient();
    const result = await client.inspect(`${tls.host}/${repo}:multi`);
    expect(result.kind).toBe("list");
    if (result.kind !== "list") return;
    expect(result.digest).toBe(pushed.digest);
    expect(result.mediaType).toBe(MediaTypes.ociIndex);
    const manifests = toImage(result, `${tls.host}/${repo}:multi`).dockerImageManifests ?? [];
    expect(manifests.map((m) => [m.digest, m.architecture, m.os, m.variant])).toEqual(
      pushed.manifests.map((m) => [m.digest, m.platform.architecture, m.platform.os, m.platform.variant]),
    );
    expect(result.manifests.map((m) => m.digest)).toEqual(manifests.map((m) => m.digest));

    const arm = pushed.manifests[1]?.digest ?? "";
    const child = await client.fetchPlatformImage(`${tls.host}/${repo}:multi`, arm);
    expect(child).toMatchObject({ kind: "image", digest: arm });
    const childImage = toImage(child, `${tls.host}/${repo}:multi`);
    expect(childImage.dockerImageReference).toBe(`${tls.host}/${repo}@${arm}`);
    expect(childImage.dockerImageMetadata).toMatchObject({ Architecture: "arm64", Variant: "v8" });
  });

  it("reads a Docker manifest list", async () => {
    const repo = unique("list");
    const pushed = await pushIndex(plain, repo, "multi", [{ architecture: "amd64", os: "linux" }], {
      format: "docker",
    });
    const { client } = newClient();
    const result = await client.inspect(`${plain.host}/${repo}:multi`, { insecure: true });
    expect(result).toMatchObject({
      kind: "list",
      digest: pushed.digest,
      mediaType: MediaTypes.dockerManifestList,
    });
  });
});

describe("efficiency", () => {
  it("checks an unchanged tag with one HEAD and sees a re-push", async () => {
    const repo = unique("head");
    const first = await pushImage(tls, repo, "v1", { layerContent: "one" });
    const { client, events } = newClient({ resultTtlMs: 0 });
    const ref = `${tls.host}/${repo}:v1`;
    await client.inspect(ref);

    const before = events.length;
    const unchanged = await client.inspect(ref, { knownDigest: first.digest });
    expect(unchanged).toMatchObject({ kind: "unchanged", digest: first.digest });
    expect(events.slice(before).map((e) => `${e.method} ${e.kind} ${e.status}`)).toEqual([
      "HEAD manifest 200",
    ]);

    const second = await pushImage(tls, repo, "v1", { layerContent: "two" });
    expect(second.digest).not.toBe(first.digest);
    const changed = await client.inspect(ref, { knownDigest: first.digest });
    expect(changed).toMatchObject({ kind: "image", digest: second.digest });
  });

  it("fetches a reference requested by many streams at once only once", async () => {
    const repo = unique("shared");
    await pushImage(tls, repo, "v1");
    const { client, events } = newClient();
    await Promise.all(Array.from({ length: 10 }, () => client.inspect(`${tls.host}/${repo}:v1`)));
    expect(events.filter((e) => e.kind === "manifest")).toHaveLength(1);
    expect(events.filter((e) => e.kind === "blob")).toHaveLength(1);
  });
});

describe("authentication", () => {
  it("basic auth: Unauthorized without credentials, success with a dockerconfigjson Secret's", async () => {
    const repo = unique("basic");
    const pushed = await pushImage(basic, repo, "v1");
    const { client } = newClient();
    const ref = `${basic.host}/${repo}:v1`;
    await expect(client.inspect(ref)).rejects.toMatchObject({
      reason: "Unauthorized",
      message: `you may not have access to the container image "${ref}"`,
    });
    const keychain = dockerConfigKeychain(parseDockerConfig(dockerConfigJson(basic), "dockerconfigjson"));
    await expect(client.inspect(ref, { keychain })).resolves.toMatchObject({ digest: pushed.digest });
    await expect(
      client.inspect(ref, {
        keychain: staticKeychain({ username: basic.username ?? "", password: "wrong" }),
      }),
    ).rejects.toMatchObject({ reason: "Unauthorized" });
  });

  it("bearer tokens: fetched with credentials from the token server and reused", async () => {
    const repo = unique("token");
    const pushed = await pushImage(token, repo, "v1");
    const { client, events } = newClient({ resultTtlMs: 0 });
    const ref = `${token.host}/${repo}:v1`;
    await expect(client.inspect(ref)).rejects.toMatchObject({ reason: "Unauthorized" });
    const keychain = staticKeychain({ username: token.username ?? "", password: token.password ?? "" });
    await expect(client.inspect(ref, { keychain })).resolves.toMatchObject({ digest: pushed.digest });
    const tokensBefore = events.filter((e) => e.kind === "token" && e.status === 200).length;
    await expect(client.inspect(ref, { keychain, knownDigest: pushed.digest })).resolves.toMatchObject({
      kind: "unchanged",
    });
    expect(events.filter((e) => e.kind === "token" && e.status === 200)).toHaveLength(tokensBefore);
  });
});

describe("tags", () => {
  it("lists every tag once, up to a cap", async () => {
    const repo = unique("tags");
    const names = ["a1", "b2", "c3", "d4", "e5"];
    for (const tag of names) await pushImage(plain, repo, tag);
    const { client, events } = newClient();
    const tags = await client.listTags(`${plain.host}/${repo}`, { insecure: true, pageSize: 2 });
    // The registry's order is its own; every tag must come exactly once. distribution 2.8
    // ignores `n` for tags and answers in one page (Link pagination is unit-tested); a
    // registry that honours it is followed page by page.
    expect([...tags].sort()).toEqual(names);
    const pages = events.filter((e) => e.kind === "tags").length;
    expect(pages === 1 || pages === 3).toBe(true);
    const capped = await client.listTags(`${plain.host}/${repo}`, { insecure: true, pageSize: 2, limit: 3 });
    expect(capped).toHaveLength(3);
    expect(new Set(capped).size).toBe(3);
    expect(capped.every((t) => names.includes(t))).toBe(true);
  });
});

describe("host policy on resolved addresses", () => {
  // Names that no DNS knows, resolved by the test: the client connects to what the resolver
  // answered, after checking it, and never to an address the policy refuses.
  const resolve = async (hostname: string) => {
    if (hostname === "registry.test") return [{ address: "127.0.0.1", family: 4 }];
    if (hostname === "metadata.test") return [{ address: "::ffff:169.254.169.254", family: 6 }];
    throw Object.assign(new Error(`unknown host ${hostname}`), { code: "ENOTFOUND" });
  };

  it("connects to the checked address of a name", async () => {
    const repo = unique("resolved");
    const pushed = await pushImage(plain, repo, "v1");
    const port = plain.host.split(":").at(-1);
    const { client } = newClient({ resolve });
    await expect(
      client.inspect(`registry.test:${port}/${repo}:v1`, { insecure: true }),
    ).resolves.toMatchObject({
      digest: pushed.digest,
    });
  });

  it("refuses a name that resolves to a blocked address before connecting", async () => {
    const { client, events } = newClient({ resolve });
    await expect(client.inspect("metadata.test/latest/meta-data:v1")).rejects.toMatchObject({
      reason: "Forbidden",
      message:
        "registry host metadata.test resolves to ::ffff:a9fe:a9fe = 169.254.169.254, which is blocked by the operator's registry policy",
    });
    expect(events).toEqual([]);
  });
});
