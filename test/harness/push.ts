// Pushes real images (gzipped tar layer, config blob, manifest or index) through the
// distribution API, with a minimal client that handles Basic and Bearer token auth.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { Agent, request } from "undici";
import type { RegistryConnection } from "./registry.ts";

export type ImageFormat = "docker" | "oci";

export interface ImageConfigFields {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
  User?: string;
  WorkingDir?: string;
}

export interface PushImageOptions {
  format?: ImageFormat;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: ImageConfigFields;
  author?: string;
  /** RFC 3339; defaults to now (second precision), so each push makes a new digest. */
  created?: string;
  /** Content of the single file in the layer; defaults to `<repository>:<tag>`. */
  layerContent?: string;
}

export interface PushedLayer {
  digest: string;
  size: number;
  mediaType: string;
}

export interface PushedImage {
  digest: string;
  mediaType: string;
  configDigest: string;
  layers: PushedLayer[];
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface PushedIndex {
  digest: string;
  mediaType: string;
  manifests: { digest: string; platform: Platform }[];
}

export const MEDIA_TYPES = {
  docker: {
    manifest: "application/vnd.docker.distribution.manifest.v2+json",
    list: "application/vnd.docker.distribution.manifest.list.v2+json",
    config: "application/vnd.docker.container.image.v1+json",
    layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  },
  oci: {
    manifest: "application/vnd.oci.image.manifest.v1+json",
    list: "application/vnd.oci.image.index.v1+json",
    config: "application/vnd.oci.image.config.v1+json",
    layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  },
} as const;

export const sha256Digest = (data: Buffer | string): string =>
  `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** One-file ustar archive (deterministic: mtime 0, root owner). */
export function tarFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (value: string, offset: number, length: number): void => {
    header.write(value.slice(0, length), offset, length, "ascii");
  };
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, "0")}\0`;
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(content.length, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put("        ", 148, 8); // checksum is computed with its own field as spaces
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put("root", 265, 32);
  put("root", 297, 32);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const header = (res: HttpResult, name: string): string | undefined => {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

/** Parses `Bearer realm="...",service="...",scope="..."` (quoted values may hold commas). */
export function parseChallenge(value: string): { scheme: string; params: Record<string, string> } {
  const space = value.indexOf(" ");
  const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const match of value.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) {
    if (match[1] !== undefined && match[2] !== undefined) params[match[1]] = match[2];
  }
  return { scheme, params };
}

/** Minimal registry client for test setup: one Agent, credentials from the instance. */
export class RegistryClient {
  readonly registry: RegistryConnection;
  private readonly dispatcher: Agent;
  private readonly authByScope = new Map<string, string>();

  constructor(registry: RegistryConnection) {
    this.registry = registry;
    this.dispatcher = new Agent(registry.caPem ? { connect: { ca: registry.caPem } } : {});
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async send(
    method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE",
    url: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<HttpResult> {
    const res = await request(url, { method, headers, body, dispatcher: this.dispatcher });
    const data = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body: data };
  }

  private basicAuth(): string | undefined {
    const { username, password } = this.registry;
    if (username === undefined || password === undefined) return undefined;
    return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  }

  private async authorize(challengeHeader: string): Promise<string> {
    const { scheme, params } = parseChallenge(challengeHeader);
    const basic = this.basicAuth();
    if (scheme === "basic") {
      if (!basic) throw new Error(`${this.registry.host} wants Basic credentials and none are configured`);
      return basic;
    }
    if (scheme !== "bearer" || !params.realm) throw new Error(`unsupported challenge: ${challengeHeader}`);
    const tokenUrl = new URL(params.realm);
    if (params.service) tokenUrl.searchParams.set("service", params.service);
    if (params.scope) tokenUrl.searchParams.set("scope", params.scope);
    const res = await this.send("GET", tokenUrl.toString(), basic ? { Authorization: basic } : {});
    if (res.status !== 200) throw new Error(`token request to ${tokenUrl} failed: ${res.status} ${res.body}`);
    const parsed = JSON.parse(res.body.toString("utf8")) as { token?: string; access_token?: string };
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw new Error(`token server ${tokenUrl} returned no token`);
    return `Bearer ${token}`;
  }

  /**
   * Sends a request to `pathOrUrl` (relative to the registry); on 401 answers the challenge
   * once and remembers the Authorization for `scopeKey`.
   */
  async request(
    method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE",
    pathOrUrl: string,
    opts: { headers?: Record<string, string>; body?: Buffer; scopeKey: string },
  ): Promise<HttpResult> {
    const url = new URL(pathOrUrl, this.registry.url).toString();
    const cached = this.authByScope.get(opts.scopeKey);
    const headers = { ...opts.headers, ...(cached ? { Authorization: cached } : {}) };
    const first = await this.send(method, url, headers, opts.body);
    const challenge = header(first, "www-authenticate");
    if (first.status !== 401 || !challenge) return first;
    const authorization = await this.authorize(challenge);
    this.authByScope.set(opts.scopeKey, authorization);
    return await this.send(method, url, { ...opts.headers, Authorization: authorization }, opts.body);
  }

  async pushBlob(repository: string, data: Buffer): Promise<string> {
    const digest = sha256Digest(data);
    const scopeKey = `${repository}:push`;
    const existing = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, { scopeKey });
    if (existing.status === 200) return digest;
    const started = await this.request("POST", `/v2/${repository}/blobs/uploads/`, { scopeKey });
    const location = header(started, "location");
    if (started.status !== 202 || !location) {
      throw new Error(`starting blob upload to ${repository} failed: ${started.status} ${started.body}`);
    }
    const uploadUrl = new URL(location, this.registry.url);
    uploadUrl.searchParams.set("digest", digest);
    const done = await this.request("PUT", uploadUrl.toString(), {
      scopeKey,
      body: data,
      headers: { "Content-Type": "application/octet-stream", "Content-Length": String(data.length) },
    });
    if (done.status !== 201)
      throw new Error(`blob upload to ${repository} failed: ${done.status} ${done.body}`);
    return digest;
  }

  /** PUTs exactly `bytes`; returns their digest after checking the registry agrees. */
  async pushManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<string> {
    const digest = sha256Digest(bytes);
    const res = await this.request("PUT", `/v2/${repository}/manifests/${reference}`, {
      scopeKey: `${repository}:push`,
      body: bytes,
      headers: { "Content-Type": mediaType },
    });
    if (res.status !== 201) {
      throw new Error(`manifest PUT ${repository}:${reference} failed: ${res.status} ${res.body}`);
    }
    const echoed = header(res, "docker-content-digest");
    if (echoed && echoed !== digest) throw new Error(`registry computed ${echoed}, expected ${digest}`);
    return digest;
  }

  async deleteManifest(repository: string, digest: string): Promise<void> {
    const res = await this.request("DELETE", `/v2/${repository}/manifests/${digest}`, {
      scopeKey: `${repository}:delete`,
    });
    if (res.status !== 202) throw new Error(`manifest DELETE ${repository}@${digest} failed: ${res.status}`);
  }
}

function secondPrecisionNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Pushes a one-layer image with an existing client: its tokens are reused (a client that logged
 * in keeps pushing while its tokens last, e.g. while the token server is down).
 */
export async function pushImageWith(
  client: RegistryClient,
  repository: string,
  reference: string | undefined,
  opts: PushImageOptions,
  defaultLayerContent: string,
): Promise<PushedImage & { size: number }> {
  const format = opts.format ?? "docker";
  const types = MEDIA_TYPES[format];
  const tar = tarFile("imagestream-harness.txt", Buffer.from(opts.layerContent ?? defaultLayerContent));
  const layer = gzipSync(tar);
  const created = opts.created ?? secondPrecisionNow();
  const config: Record<string, unknown> = {
    architecture: opts.architecture ?? "amd64",
    os: opts.os ?? "linux",
    ...(opts.variant ? { variant: opts.variant } : {}),
    created,
    ...(opts.author ? { author: opts.author } : {}),
    config: opts.config ?? {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: ["/bin/sh"],
    },
    rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] },
    history: [{ created, created_by: "imagestream test harness" }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const [configDigest, layerDigest] = await Promise.all([
    client.pushBlob(repository, configBytes),
    client.pushBlob(repository, layer),
  ]);
  const layers: PushedLayer[] = [{ digest: layerDigest, size: layer.length, mediaType: types.layer }];
  const manifest = {
    schemaVersion: 2,
    mediaType: types.manifest,
    config: { mediaType: types.config, size: configBytes.length, digest: configDigest },
    layers,
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  const digest = await client.pushManifest(
    repository,
    reference ?? sha256Digest(bytes),
    types.manifest,
    bytes,
  );
  return { digest, mediaType: types.manifest, configDigest, layers, size: bytes.length };
}

/** Pushes a one-layer image as `<repository>:<tag>`; the digest is that of the exact manifest bytes. */
export async function pushImage(
  registry: RegistryConnection,
  repository: string,
  tag: string,
  opts: PushImageOptions = {},
): Promise<PushedImage> {
  const client = new RegistryClient(registry);
  try {
    const { size: _size, ...image } = await pushImageWith(
      client,
      repository,
      tag,
      opts,
      `${repository}:${tag}`,
    );
    return image;
  } finally {
    await client.close();
  }
}

/** Pushes one image per platform (by digest) and a manifest list / OCI index tagged `tag`. */
export async function pushIndex(
  registry: RegistryConnection,
  repository: string,
  tag: string,
  platforms: Platform[],
  opts: { format?: ImageFormat } = {},
): Promise<PushedIndex> {
  const format = opts.format ?? "docker";
  const types = MEDIA_TYPES[format];
  const client = new RegistryClient(registry);
  try {
    const entries = [];
    for (const platform of platforms) {
      const image = await pushImageWith(
        client,
        repository,
        undefined,
        { format, architecture: platform.architecture, os: platform.os, variant: platform.variant },
        `${repository}:${tag} ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ""}`,
      );
      const entryPlatform: Platform = { architecture: platform.architecture, os: platform.os };
      if (platform.variant) entryPlatform.variant = platform.variant;
      entries.push({
        mediaType: image.mediaType,
        size: image.size,
        digest: image.digest,
        platform: entryPlatform,
      });
    }
    const bytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: types.list, manifests: entries }, null, 3),
    );
    const digest = await client.pushManifest(repository, tag, types.list, bytes);
    return {
      digest,
      mediaType: types.list,
      manifests: entries.map((e) => ({ digest: e.digest, platform: e.platform })),
    };
  } finally {
    await client.close();
  }
}

/** Deletes a manifest by digest (the registry has deletes enabled), e.g. to test NotFound. */
export async function deleteManifest(
  registry: RegistryConnection,
  repository: string,
  digest: string,
): Promise<void> {
  const client = new RegistryClient(registry);
  try {
    await client.deleteManifest(repository, digest);
  } finally {
    await client.close();
  }
}
