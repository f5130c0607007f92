// The distribution API calls on top of the auth layer: manifests by tag or digest (HEAD and
// GET, verified against their digest), config blobs and the tag list with Link pagination.
// Each returns registry facts; sharing and caching are the client's.

import type { Authenticator, AuthScope } from "./authenticator.ts";
import { parseNextLink } from "./challenge.ts";
import { RegistryError } from "./errors.ts";
import { type Exchange, sameOrigin } from "./exchange.ts";
import {
  digestOf,
  type ImageConfig,
  MANIFEST_ACCEPT,
  type ParsedManifest,
  parseImageConfig,
  parseManifest,
  verifiedDigest,
} from "./manifest.ts";
import { validateDigest } from "./reference.ts";
import { headerValue } from "./transport.ts";

export interface DistributionLimits {
  manifestBytes: number;
  configBytes: number;
  tagsPageBytes: number;
}

/** What a HEAD of a tag says; `digest` is undefined when the registry sent none (or a bad one). */
export interface TagResolution {
  digest: string | undefined;
  mediaType: string;
  manifestSize: number;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  manifestSize: number;
  manifest: ParsedManifest;
}

export class Distribution {
  readonly #auth: Authenticator;
  readonly #exchange: Exchange;
  readonly #limits: DistributionLimits;

  constructor(auth: Authenticator, exchange: Exchange, limits: DistributionLimits) {
    this.#auth = auth;
    this.#exchange = exchange;
    this.#limits = limits;
  }

  async #url(scope: AuthScope, path: string): Promise<string> {
    const ep = await this.#auth.endpoint(scope);
    return `${ep.origin}/v2/${scope.repository}/${path}`;
  }

  async headManifest(scope: AuthScope, tag: string): Promise<TagResolution> {
    const url = await this.#url(scope, `manifests/${tag}`);
    const res = await this.#auth.request(scope, "manifest", "HEAD", url, { accept: MANIFEST_ACCEPT });
    if (res.status !== 200) throw await this.#exchange.failure(scope, res);
    await res.discard();
    const digest = headerValue(res.headers, "docker-content-digest");
    const size = Number(headerValue(res.headers, "content-length") ?? "0");
    return {
      digest: digest !== undefined && validateDigest(digest) === undefined ? digest : undefined,
      mediaType: headerValue(res.headers, "content-type")?.split(";")[0]?.trim() ?? "",
      manifestSize: Number.isSafeInteger(size) ? size : 0,
    };
  }

  /** GET a manifest by tag or digest and verify its digest (`requestedDigest` when by digest). */
  async getManifest(
    scope: AuthScope,
    tagOrDigest: string,
    requestedDigest?: string,
  ): Promise<FetchedManifest> {
    const url = await this.#url(scope, `manifests/${tagOrDigest}`);
    const res = await this.#auth.request(scope, "manifest", "GET", url, { accept: MANIFEST_ACCEPT });
    if (res.status !== 200) throw await this.#exchange.failure(scope, res);
    const bytes = await this.#exchange.read(
      scope,
      res,
      this.#limits.manifestBytes,
      `the manifest of "${scope.subject}"`,
    );
    const digest = verifiedDigest(
      bytes,
      headerValue(res.headers, "docker-content-digest"),
      requestedDigest,
      scope.subject,
    );
    const manifest = parseManifest(bytes, headerValue(res.headers, "content-type"), scope.subject);
    return { digest, mediaType: manifest.mediaType, manifestSize: bytes.byteLength, manifest };
  }

  /** GET an image config blob, verified against its digest. */
  async getConfig(scope: AuthScope, digest: string): Promise<ImageConfig> {
    const url = await this.#url(scope, `blobs/${digest}`);
    const res = await this.#auth.request(scope, "blob", "GET", url, {});
    if (res.status !== 200) throw await this.#exchange.failure(scope, res);
    const what = `the config blob of "${scope.subject}"`;
    const bytes = await this.#exchange.read(scope, res, this.#limits.configBytes, what);
    if (digestOf(bytes, digest) !== digest) {
      throw new RegistryError("BadResponse", `${what} does not match its digest ${digest}`);
    }
    return parseImageConfig(bytes, scope.subject);
  }

  /** Every tag once, in the registry's order, up to `cap`; pagination stays on the registry. */
  async listTags(scope: AuthScope, cap: number, pageSize: number): Promise<string[]> {
    const ep = await this.#auth.endpoint(scope);
    const tags: string[] = [];
    const seen = new Set<string>();
    const visited = new Set<string>();
    let url: string | undefined = `${ep.origin}/v2/${scope.repository}/tags/list?n=${pageSize}`;
    while (url !== undefined && tags.length < cap) {
      if (visited.has(url)) break;
      visited.add(url);
      const res = await this.#auth.request(scope, "tags", "GET", url, {});
      if (res.status !== 200) throw await this.#exchange.failure(scope, res);
      const what = `the tag list of "${scope.subject}"`;
      const body = await this.#exchange.read(scope, res, this.#limits.tagsPageBytes, what);
      let page: unknown;
      try {
        page = JSON.parse(body.toString("utf8"));
      } catch {
        throw new RegistryError("BadResponse", `${what} is not valid JSON`);
      }
      const pageTags = (page as { tags?: unknown } | null)?.tags;
      if (pageTags !== null && pageTags !== undefined && !Array.isArray(pageTags)) {
        throw new RegistryError("BadResponse", `${what} is malformed`);
      }
      let added = 0;
      for (const tag of pageTags ?? []) {
        if (typeof tag !== "string" || seen.has(tag)) continue;
        seen.add(tag);
        tags.push(tag);
        added++;
        if (tags.length >= cap) break;
      }
      const next = parseNextLink(res.headers.link, url);
      // Pagination must stay on the registry: a Link to another origin is not followed.
      url = next !== undefined && sameOrigin(next, ep.origin) && added > 0 ? next : undefined;
    }
    return tags;
  }
}
