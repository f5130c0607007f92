// The client's request flow against a fake transport: which requests it sends, with which
// headers, and how it reacts to the answers. Real registries are in test/integration.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { toImage } from "../../../src/imports/index.ts";
import {
  createRegistryClient,
  type HttpRequest,
  type HttpResponse,
  type Keychain,
  type KeychainTarget,
  MediaTypes,
  type RegistryClientOptions,
  RegistryError,
  type RequestEvent,
  staticKeychain,
} from "../../../src/registry/index.ts";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}
type Handler = (req: HttpRequest, url: URL) => Reply | undefined;

function fakeTransport(handler: Handler) {
  const requests: HttpRequest[] = [];
  const transport = async (req: HttpRequest): Promise<HttpResponse> => {
    requests.push(req);
    const reply = handler(req, new URL(req.url)) ?? {
      status: 404,
      body: '{"errors":[{"code":"NAME_UNKNOWN"}]}',
    };
    const body = Buffer.from(reply.body ?? "");
    const headers: Record<string, string> = { "content-length": String(body.length), ...reply.headers };
    return {
      status: reply.status,
      headers,
      read: async (limit) => {
        if (body.length > limit) throw new Error("limit");
        return req.method === "HEAD" ? Buffer.alloc(0) : body;
      },
      discard: async () => {},
    };
  };
  return { transport, requests };
}

const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["sh"] } }));
const configDigest = sha(config);
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: configDigest, size: 5 }],
  }),
);
const manifestDigest = sha(manifest);

/** An open registry at r.test serving repo `app` with tag `1`. */
function openRegistry(extra?: Handler): Handler {
  return (req, url) => {
    const hit = extra?.(req, url);
    if (hit) return hit;
    if (url.pathname === "/v2/") return { status: 200 };
    if (url.pathname === "/v2/app/manifests/1" || url.pathname === `/v2/app/manifests/${manifestDigest}`) {
      return {
        status: 200,
        headers: { "content-type": MediaTypes.ociManifest, "docker-content-digest": manifestDigest },
        body: manifest,
      };
    }
    if (url.pathname === `/v2/app/blobs/${configDigest}`) return { status: 200, body: config };
    return undefined;
  };
}

function client(handler: Handler, options: RegistryClientOptions = {}) {
  const fake = fakeTransport(handler);
  const events: RequestEvent[] = [];
  const c = createRegistryClient({ transport: fake.transport, onRequest: (e) => events.push(e), ...options });
  const paths = () => fake.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`);
  return { c, requests: fake.requests, events, paths };
}

describe("inspect", () => {
  it("imports an image with one manifest GET and one config GET", async () => {
    const { c, paths } = client(openRegistry());
    const result = await c.inspect("r.test/app:1");
    expect(result.kind).toBe("image");
    if (result.kind !== "image") return;
    expect(result.digest).toBe(manifestDigest);
    const image = toImage(result, "r.test/app:1");
    expect(image.dockerImageReference).toBe(`r.test/app@${manifestDigest}`);
    expect(image.dockerImageMetadata).toMatchObject({
      Architecture: "amd64",
      Os: "linux",
      Config: { Cmd: ["sh"] },
    });
    expect(paths()).toEqual(["GET /v2/", "GET /v2/app/manifests/1", `GET /v2/app/blobs/${configDigest}`]);
  });

  it("costs one HEAD when the tag still points at the known digest", async () => {
    const { c, paths, events } = client(openRegistry(), { resultTtlMs: 0 });
    await c.inspect("r.test/app:1"); // warms the ping cache
    const before = paths().length;
    const result = await c.inspect("r.test/app:1", { knownDigest: manifestDigest });
    expect(result).toMatchObject({ kind: "unchanged", digest: manifestDigest });
    expect(paths().slice(before)).toEqual(["HEAD /v2/app/manifests/1"]);
    expect(events.at(-1)).toMatchObject({
      registry: "r.test",
      method: "HEAD",
      kind: "manifest",
      status: 200,
    });
  });

  it("costs nothing for a digest reference already known", async () => {
    const { c, requests } = client(openRegistry());
    const result = await c.inspect(`r.test/app@${manifestDigest}`, { knownDigest: manifestDigest });
    expect(result.kind).toBe("unchanged");
    expect(requests).toHaveLength(0);
  });

  it("shares concurrent and recent identical requests", async () => {
    const { c, paths } = client(openRegistry(), { resultTtlMs: 5000 });
    const results = await Promise.all(Array.from({ length: 5 }, () => c.inspect("r.test/app:1")));
    expect(new Set(results.map((r) => r.digest)).size).toBe(1);
    await c.inspect("r.test/app:1");
    await c.inspect("r.test/app:1", { knownDigest: manifestDigest });
    expect(paths().filter((p) => p.includes("/manifests/"))).toHaveLength(1);
    expect(paths().filter((p) => p.includes("/blobs/"))).toHaveLength(1);
  });

  it("does not share results between different credentials", async () => {
    const { c, paths } = client(openRegistry(), { resultTtlMs: 5000 });
    await c.inspect("r.test/app:1");
    await c.inspect("r.test/app:1", { keychain: staticKeychain({ username: "u", password: "p" }) });
    expect(paths().filter((p) => p.includes("/manifests/"))).toHaveLength(2);
  });

  it("rejects a manifest whose Docker-Content-Digest does not match", async () => {
    const { c } = client(
      openRegistry((_req, url) =>
        url.pathname === "/v2/app/manifests/1"
          ? {
              status: 200,
              headers: { "content-type": MediaTypes.ociManifest, "docker-content-digest": configDigest },
              body: manifest,
            }
          : undefined,
      ),
    );
    await expect(c.inspect("r.test/app:1")).rejects.toMatchObject({
      reason: "BadResponse",
      message: /does not match/,
    });
  });

  it("maps 404 to NotFound in OpenShift's words", async () => {
    const { c } = client(openRegistry());
    await expect(c.inspect("r.test/app:missing")).rejects.toMatchObject({
      reason: "NotFound",
      message: 'container image "r.test/app:missing" not found',
    });
  });

  it("waits out a short 429 and retries", async () => {
    let limited = false;
    const { c, paths } = client(
      openRegistry((_req, url) => {
        if (url.pathname === "/v2/app/manifests/1" && !limited) {
          limited = true;
          return { status: 429, headers: { "retry-after": "0" } };
        }
        return undefined;
      }),
    );
    await expect(c.inspect("r.test/app:1")).resolves.toMatchObject({ kind: "image" });
    expect(paths().filter((p) => p === "GET /v2/app/manifests/1")).toHaveLength(2);
  });

  it("fails with TooManyRequests and the wait when Retry-After is long", async () => {
    const { c } = client(
      openRegistry((_req, url) =>
        url.pathname === "/v2/app/manifests/1"
          ? { status: 429, headers: { "retry-after": "120" } }
          : undefined,
      ),
    );
    await expect(c.inspect("r.test/app:1")).rejects.toMatchObject({
      reason: "TooManyRequests",
      retryAfter: 120,
    });
    // Every caller of that registry now fails fast instead of hammering it.
    await expect(c.inspect("r.test/app:other")).rejects.toMatchObject({ reason: "TooManyRequests" });
  });

  it("enforces the manifest size limit", async () => {
    const { c } = client(openRegistry(), { maxManifestBytes: 10 });
    await expect(c.inspect("r.test/app:1")).rejects.toThrow();
  });
});

describe("auth", () => {
  const creds = { username: "u", password: "p" };
  const basic = `Basic ${Buffer.from("u:p").toString("base64")}`;

  it("sends Basic credentials, but not on a redirect to another origin", async () => {
    const { c, requests } = client((req, url) => {
      if (url.host === "storage.test") return { status: 200, body: config };
      if (req.headers.authorization !== basic) {
        return { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } };
      }
      if (url.pathname === `/v2/app/blobs/${configDigest}`) {
        return { status: 307, headers: { location: `https://storage.test/blob?sig=1` } };
      }
      return openRegistry()(req, url);
    });
    await expect(c.inspect("r.test/app:1", { keychain: staticKeychain(creds) })).resolves.toMatchObject({
      kind: "image",
    });
    const storage = requests.find((r) => r.url.startsWith("https://storage.test/"));
    expect(storage?.headers.authorization).toBeUndefined();
    const blob = requests.find((r) => r.url.includes("/blobs/"));
    expect(blob?.headers.authorization).toBe(basic);
  });

  it("never sends a request to a blocked host, even when a registry redirects there", async () => {
    const { c, requests } = client(
      openRegistry((_req, url) =>
        url.pathname === `/v2/app/blobs/${configDigest}`
          ? { status: 307, headers: { location: "https://169.254.169.254/latest/meta-data" } }
          : undefined,
      ),
      { hostPolicy: { block: ["169.254.169.254"] } },
    );
    const err = await c.inspect("r.test/app:1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({
      reason: "Forbidden",
      message: "registry host 169.254.169.254 is blocked by the operator's registry policy",
    });
    expect(requests.some((r) => r.url.includes("169.254.169.254"))).toBe(false);
  });

  it("refuses an HTTPS to HTTP redirect unless insecure", async () => {
    const { c } = client(
      openRegistry((_req, url) =>
        url.pathname === `/v2/app/blobs/${configDigest}`
          ? { status: 302, headers: { location: "http://storage.test/b" } }
          : undefined,
      ),
    );
    await expect(c.inspect("r.test/app:1")).rejects.toThrow(/redirected from HTTPS to plain HTTP/);
  });

  function tokenRegistry(realm: string, acceptsCredentials: boolean): Handler {
    return (req, url) => {
      if (url.pathname === "/token") {
        if (req.headers.authorization !== undefined && !acceptsCredentials) return { status: 401 };
        const who = req.headers.authorization === basic ? "user" : "anon";
        return {
          status: 200,
          body: JSON.stringify({ access_token: `${who}-${url.searchParams.get("scope")}` }),
        };
      }
      const auth = req.headers.authorization ?? "";
      if (!auth.startsWith("Bearer ")) {
        return { status: 401, headers: { "www-authenticate": `Bearer realm="${realm}",service="svc"` } };
      }
      return openRegistry()(req, url);
    };
  }

  it("fetches a token with credentials from a same-host realm and caches it per scope", async () => {
    const { c, requests } = client(tokenRegistry("https://r.test:8443/token", true));
    await c.inspect("r.test/app:1", { keychain: staticKeychain(creds) });
    await c.inspect(`r.test/app@${manifestDigest}`, { keychain: staticKeychain(creds) });
    const tokenRequests = requests.filter((r) => r.url.includes("/token"));
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]?.headers.authorization).toBe(basic);
    expect(new URL(tokenRequests[0]?.url ?? "").searchParams.get("scope")).toBe("repository:app:pull");
    expect(requests.find((r) => r.url.includes("/manifests/"))?.headers.authorization).toBe(
      "Bearer user-repository:app:pull",
    );
  });

  it("never sends credentials to a realm on another host", async () => {
    const { c, requests } = client(tokenRegistry("https://tokens.elsewhere.test/token", true));
    await c.inspect("r.test/app:1", { keychain: staticKeychain(creds) });
    const tokenRequest = requests.find((r) => r.url.includes("/token"));
    expect(tokenRequest?.headers.authorization).toBeUndefined();
  });

  it("retries anonymously when the credentials are refused", async () => {
    const { c, requests } = client(tokenRegistry("https://r.test/token", false));
    await expect(c.inspect("r.test/app:1", { keychain: staticKeychain(creds) })).resolves.toMatchObject({
      kind: "image",
    });
    const tokenRequests = requests.filter((r) => r.url.includes("/token"));
    expect(tokenRequests.map((r) => r.headers.authorization)).toEqual([basic, undefined]);
  });

  it("reports Unauthorized when nothing works", async () => {
    const { c } = client(() => ({ status: 401, headers: { "www-authenticate": 'Basic realm="r"' } }));
    await expect(c.inspect("r.test/app:1", { keychain: staticKeychain(creds) })).rejects.toMatchObject({
      reason: "Unauthorized",
      message: 'you may not have access to the container image "r.test/app:1"',
    });
  });
});

describe("listTags", () => {
  const all = ["a", "b", "c", "d", "e"];
  const pages: Handler = (_req, url) => {
    if (url.pathname === "/v2/") return { status: 200 };
    if (url.pathname !== "/v2/app/tags/list") return undefined;
    const n = Number(url.searchParams.get("n"));
    const last = url.searchParams.get("last");
    const start = last ? all.indexOf(last) + 1 : 0;
    const tags = all.slice(start, start + n);
    const headers: Record<string, string> =
      start + n < all.length ? { link: `</v2/app/tags/list?n=${n}&last=${tags.at(-1)}>; rel="next"` } : {};
    return { status: 200, headers, body: JSON.stringify({ name: "app", tags }) };
  };

  it("follows Link pagination", async () => {
    const { c, paths } = client(pages);
    expect(await c.listTags("r.test/app", { pageSize: 2 })).toEqual(all);
    expect(paths().filter((p) => p.includes("tags"))).toHaveLength(3);
  });

  it("stops at the cap", async () => {
    const { c, paths } = client(pages);
    expect(await c.listTags("r.test/app", { pageSize: 2, limit: 3 })).toEqual(["a", "b", "c"]);
    expect(paths().filter((p) => p.includes("tags"))).toHaveLength(2);
  });
});

describe("rate-limit waits", () => {
  it("reports time a request spent queued behind the registry's shared budget", async () => {
    const waits: { registry: string; waitedMs: number }[] = [];
    const fake = fakeTransport(openRegistry());
    // Each exchange takes 30 ms; with one request at a time per registry, a second caller queues.
    const slow = async (req: HttpRequest) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return fake.transport(req);
    };
    const c = createRegistryClient({
      transport: slow,
      perRegistryConcurrency: 1,
      resultTtlMs: 0,
      onRateLimitWait: (registry, waitedMs) => waits.push({ registry, waitedMs }),
    });
    // Two lookups that share nothing (by tag, by digest) queue behind each other.
    await Promise.all([c.inspect("r.test/app:1"), c.inspect(`r.test/app@${manifestDigest}`)]);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((w) => w.registry === "r.test" && w.waitedMs >= 10)).toBe(true);
  });

  it("reports nothing when requests do not queue", async () => {
    const waits: number[] = [];
    const { c } = client(openRegistry(), { now: () => 0, onRateLimitWait: (_r, ms) => waits.push(ms) });
    await c.inspect("r.test/app:1");
    expect(waits).toEqual([]);
  });
});

describe("keychains", () => {
  /** A registry that accepts Basic auth only with the password `valid` currently holds. */
  function rotatingRegistry(valid: { password: string }): Handler {
    return (req, url) => {
      const expected = `Basic ${Buffer.from(`aws:${valid.password}`).toString("base64")}`;
      if (req.headers.authorization !== expected) {
        return { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } };
      }
      return openRegistry()(req, url);
    };
  }

  it("asks an operator keychain once per token lifetime and refreshes an expiring token", async () => {
    let clock = 1_000_000;
    const valid = { password: "token-1" };
    const asked: KeychainTarget[] = [];
    // What a cloud keychain does: fetch a short-lived token, say when it expires.
    const cloud: Keychain = {
      resolve: async (target) => {
        asked.push(target);
        return { username: "aws", password: `token-${asked.length}`, expiresAt: clock + 60 * 60_000 };
      },
    };
    const { c, requests } = client(rotatingRegistry(valid), {
      keychains: [cloud],
      now: () => clock,
      resultTtlMs: 0,
    });
    await expect(c.inspect("r.test/app:1")).resolves.toMatchObject({ kind: "image" });
    await expect(c.inspect("r.test/app:1", { knownDigest: manifestDigest })).resolves.toMatchObject({
      kind: "unchanged",
    });
    expect(asked).toEqual([{ registry: "r.test", repository: "app" }]);

    // The provider rotates the token; the old one stops working when it expires.
    clock += 60 * 60_000;
    valid.password = "token-2";
    await expect(c.inspect("r.test/app:1", { knownDigest: manifestDigest })).resolves.toMatchObject({
      kind: "unchanged",
    });
    expect(asked).toHaveLength(2);
    const last = requests.at(-1);
    expect(last?.headers.authorization).toBe(`Basic ${Buffer.from("aws:token-2").toString("base64")}`);
  });

  it("asks the call's keychain (the namespace's pull secrets) before the operator's", async () => {
    const asked: string[] = [];
    const named = (name: string, answer: boolean): Keychain => ({
      resolve: async () => {
        asked.push(name);
        return answer ? { username: "aws", password: name } : undefined;
      },
    });
    const valid = { password: "pull-secret" };
    const { c } = client(rotatingRegistry(valid), { keychains: [named("cloud", true)] });
    await expect(c.inspect("r.test/app:1", { keychain: named("pull-secret", true) })).resolves.toMatchObject({
      kind: "image",
    });
    expect(asked).toEqual(["pull-secret"]);
    valid.password = "cloud";
    await expect(c.inspect("r.test/app:2", { keychain: named("none", false) })).rejects.toMatchObject({
      reason: "NotFound",
    });
    expect(asked).toEqual(["pull-secret", "none", "cloud"]);
  });

  it("never sends a credential past its expiry", async () => {
    const clock = 5_000;
    const { c, requests } = client(openRegistry(), {
      now: () => clock,
      keychains: [{ resolve: async () => ({ username: "u", password: "old", expiresAt: clock - 1 }) }],
    });
    await c.inspect("r.test/app:1");
    expect(requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });
});

describe("token issuers (registries whose tokens this process signs)", () => {
  /** A token-auth registry at r.test whose realm must never be asked: only `Bearer signed:<scope>` works. */
  function signedOnlyRegistry(): Handler {
    return (req, url) => {
      if (url.hostname === "realm.test") return { status: 500, body: "the realm was asked" };
      const challenge = { "www-authenticate": 'Bearer realm="https://realm.test/token",service="svc"' };
      if (!req.headers.authorization?.startsWith("Bearer signed:"))
        return { status: 401, headers: challenge };
      return openRegistry()(req, url);
    };
  }

  it("uses the issuer's token for its registry, once per lifetime, and never the realm", async () => {
    const issued: unknown[] = [];
    const { c, requests } = client(signedOnlyRegistry(), {
      resultTtlMs: 0,
      tokenIssuers: [
        {
          issue: async (target) => {
            if (target.registry !== "r.test") return undefined;
            issued.push(target);
            return { token: `signed:${target.scope}`, expiresInSeconds: 300 };
          },
        },
      ],
    });
    await expect(c.inspect("r.test/app:1")).resolves.toMatchObject({ kind: "image" });
    await expect(c.inspect("r.test/app:1", { knownDigest: manifestDigest })).resolves.toMatchObject({
      kind: "unchanged",
    });
    expect(issued).toEqual([{ registry: "r.test", scope: "repository:app:pull", service: "svc" }]);
    expect(requests.some((r) => new URL(r.url).hostname === "realm.test")).toBe(false);
    expect(requests.at(-1)?.headers.authorization).toBe("Bearer signed:repository:app:pull");
  });

  it("goes to the realm for a registry no issuer serves", async () => {
    const { c, requests } = client(signedOnlyRegistry(), {
      tokenIssuers: [{ issue: async () => undefined }],
    });
    await expect(c.inspect("r.test/app:1")).rejects.toBeInstanceOf(RegistryError);
    expect(requests.some((r) => new URL(r.url).hostname === "realm.test")).toBe(true);
  });
});

describe("endpoints (a registry read at another address than its name)", () => {
  it("sends every request for the name to the endpoint, plain HTTP allowed, and names the image as written", async () => {
    const { c, requests } = client(
      (req, url) => (url.host === "r.test:5000" ? openRegistry()(req, url) : undefined),
      {
        endpoints: [{ registry: "localhost:5001", endpoint: "r.test:5000", insecure: true }],
      },
    );
    const result = await c.inspect("localhost:5001/app:1");
    expect(result).toMatchObject({
      kind: "image",
      digest: manifestDigest,
      reference: "localhost:5001/app:1",
    });
    expect(new Set(requests.map((r) => new URL(r.url).host))).toEqual(new Set(["r.test:5000"]));
  });
});

describe("sharing between controllers and streams", () => {
  /** A registry at r.test with one image per name; `tags` says where each tag of `app` points. */
  function imagesRegistry(names: string[]) {
    const images = new Map<string, { manifest: Buffer; config: Buffer }>();
    const digests: Record<string, string> = {};
    for (const name of names) {
      const cfg = Buffer.from(
        JSON.stringify({ architecture: "amd64", os: "linux", config: { Env: [name] } }),
      );
      const man = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaTypes.ociManifest,
          config: { mediaType: MediaTypes.ociConfig, digest: sha(cfg), size: cfg.length },
          layers: [],
        }),
      );
      images.set(sha(man), { manifest: man, config: cfg });
      digests[name] = sha(man);
    }
    const tags: Record<string, string> = Object.fromEntries(names.map((n) => [n, digests[n] as string]));
    const handler: Handler = (_req, url) => {
      if (url.pathname === "/v2/") return { status: 200 };
      const m = /^\/v2\/app\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
      if (!m) return undefined;
      if (m[1] === "blobs") {
        const found = [...images.values()].find((i) => sha(i.config) === m[2]);
        return found ? { status: 200, body: found.config } : undefined;
      }
      const digest = tags[m[2] ?? ""] ?? m[2] ?? "";
      const image = images.get(digest);
      if (!image) return undefined;
      return {
        status: 200,
        headers: { "content-type": MediaTypes.ociManifest, "docker-content-digest": digest },
        body: image.manifest,
      };
    };
    return { handler, digests, tags };
  }

  const count = (paths: string[], prefix: string) => paths.filter((p) => p.startsWith(prefix)).length;

  it("costs one manifest and one config per distinct reference in a cold import, across result windows", async () => {
    let clock = 0;
    const names = ["a", "b", "c"];
    const registry = imagesRegistry(names);
    const lookups: string[] = [];
    const { c, paths } = client(registry.handler, {
      now: () => clock,
      onCacheLookup: (cache, hit) => lookups.push(`${cache} ${hit ? "hit" : "miss"}`),
    });
    // 300 streams naming 3 references, imported over 30 s: six result windows of 5 s.
    for (let window = 0; window < 6; window++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => c.inspect(`r.test/app:${names[i % 3]}`)));
      clock += 6_000;
    }
    const p = paths();
    expect(count(p, "GET /v2/app/manifests/")).toBe(3);
    expect(count(p, "GET /v2/app/blobs/")).toBe(3);
    // Later windows check where the tag points with one HEAD per reference, nothing more.
    expect(count(p, "HEAD /v2/app/manifests/")).toBe(3 * 5);
    expect(lookups.filter((l) => l === "config miss")).toHaveLength(3);
    expect(lookups.filter((l) => l === "manifest hit").length).toBeGreaterThan(100);
  });

  it("answers a re-import request on many streams with one HEAD per reference, and sees a push made before it", async () => {
    let clock = 1_000;
    const registry = imagesRegistry(["a", "b", "moved"]);
    const { c, paths } = client(registry.handler, { now: () => clock });
    // Imported earlier: every tag known.
    await c.inspect("r.test/app:a");
    await c.inspect("r.test/app:b");
    clock += 1_000;
    // A push moves tag `a` to another image, a moment before the user's request.
    registry.tags.a = registry.digests.moved as string;
    clock += 1;
    const requestSeenAt = clock;
    const before = paths().length;
    // 1000 streams naming 2 references, all with the request; the first wave runs at once.
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const tag = i % 2 === 0 ? "a" : "b";
        return c.inspect(`r.test/app:${tag}`, {
          knownDigest: registry.digests[tag],
          freshAfter: requestSeenAt,
        });
      }),
    );
    expect(results.filter((r) => r.kind === "unchanged")).toHaveLength(500);
    expect(new Set(results.filter((r) => r.kind === "image").map((r) => r.digest))).toEqual(
      new Set([registry.digests.moved]),
    );
    // Streams reconciled much later (past the 5 s result window) still share those lookups.
    clock += 60_000;
    await c.inspect("r.test/app:b", { knownDigest: registry.digests.b, freshAfter: requestSeenAt });
    const sent = paths().slice(before);
    expect(count(sent, "HEAD /v2/app/manifests/")).toBe(2);
    expect(count(sent, "GET /v2/app/manifests/")).toBe(1); // the moved image, by digest
  });

  it("keeps a lookup made before the request from answering it", async () => {
    let clock = 0;
    const registry = imagesRegistry(["a", "moved"]);
    const { c } = client(registry.handler, { now: () => clock });
    await c.inspect("r.test/app:a", { knownDigest: "sha256:0" }); // a HEAD at 0, kept 5 s
    registry.tags.a = registry.digests.moved as string;
    clock = 1_000;
    // Without a request the recent answer holds; the request at 1000 needs a newer lookup.
    expect(await c.inspect("r.test/app:a", { knownDigest: registry.digests.a })).toMatchObject({
      kind: "unchanged",
    });
    expect(
      await c.inspect("r.test/app:a", { knownDigest: registry.digests.a, freshAfter: clock }),
    ).toMatchObject({ kind: "image", digest: registry.digests.moved });
  });

  it("counts tag lookups by freshness and by whether a request was sent", async () => {
    let clock = 0;
    const registry = imagesRegistry(["a"]);
    const lookups: string[] = [];
    const { c, paths } = client(registry.handler, {
      now: () => clock,
      onTagLookup: ({ fresh, shared }) =>
        lookups.push(`${fresh ? "seen" : "recent"} ${shared ? "shared" : "sent"}`),
    });
    await c.inspect("r.test/app:a"); // the first lookup: a GET
    await c.inspect("r.test/app:a", { knownDigest: registry.digests.a }); // within 5 s: shared
    clock = 1_000;
    await c.inspect("r.test/app:a", { knownDigest: registry.digests.a, freshAfter: 1_000 }); // a HEAD
    await c.inspect("r.test/app:a", { knownDigest: registry.digests.a, freshAfter: 1_000 }); // shared
    expect(lookups).toEqual(["recent sent", "recent shared", "seen sent", "seen shared"]);
    expect(count(paths(), "HEAD /v2/app/manifests/")).toBe(1);
  });

  it("bounds the by-digest cache and counts hits and misses", async () => {
    const registry = imagesRegistry(["a", "b"]);
    const a = `r.test/app@${registry.digests.a}`;
    const b = `r.test/app@${registry.digests.b}`;
    const small = client(registry.handler, { cacheSize: 2 }); // a's manifest and config fill it
    const lookups: string[] = [];
    const counted = client(registry.handler, {
      cacheSize: 4,
      onCacheLookup: (cache, hit) => lookups.push(`${cache} ${hit ? "hit" : "miss"}`),
    });
    for (const { c } of [small, counted]) {
      await c.inspect(a);
      await c.inspect(b);
      await c.inspect(a);
    }
    expect(count(small.paths(), "GET /v2/app/manifests/")).toBe(3);
    expect(count(counted.paths(), "GET /v2/app/manifests/")).toBe(2);
    expect(lookups).toEqual(["manifest miss", "config miss", "manifest miss", "config miss", "manifest hit"]);
  });
});
