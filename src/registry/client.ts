// The registry client the import controller uses: inspect a reference (one HEAD when the
// tag did not move), fetch one platform of a list, and list tags. Requests go through the
// shared per-registry budget, identical work is shared, and credentials stay on the
// registry's origin.

import type { DockerImageMetadata, Image, ImageLayer, ImageManifest } from "../api/types.ts";
import {
  basicAuthorization,
  decideRealm,
  parseTokenResponse,
  sameOrigin,
  TokenCache,
  tokenCacheKey,
} from "./auth.ts";
import { type Challenge, parseNextLink, parseWwwAuthenticate } from "./challenge.ts";
import { type CredentialLookup, type Credentials, credentialIdentity } from "./credentials.ts";
import { errorForStatus, errorForTransport, parseRetryAfter, RegistryError } from "./errors.ts";
import { type BudgetOptions, LruCache, RegistryBudget, SharedFetches } from "./limiter.ts";
import {
  assertImageConfig,
  digestOf,
  imageLayers,
  imageMetadata,
  listEntries,
  MANIFEST_ACCEPT,
  parseManifest,
  verifiedDigest,
} from "./manifest.ts";
import {
  apiHost,
  formatReference,
  type ImageReference,
  mostSpecificPullSpec,
  parseReference,
  validateDigest,
} from "./reference.ts";
import {
  createUndiciTransport,
  type HttpMethod,
  type HttpResponse,
  headerValue,
  type Transport,
} from "./transport.ts";

export type RequestKind = "ping" | "token" | "manifest" | "blob" | "tags";

/** One HTTP exchange, for metrics. `status` is "error" when no response arrived. */
export interface RequestEvent {
  registry: string;
  method: HttpMethod;
  kind: RequestKind;
  status: number | "error";
  durationMs: number;
}

export interface RegistryClientOptions {
  /** Extra trusted CA certificates (PEM) for private registries, controller-wide. */
  caBundle?: string | string[];
  requestTimeoutMs?: number;
  userAgent?: string;
  maxManifestBytes?: number;
  maxConfigBytes?: number;
  maxTokenBytes?: number;
  /** How long a tag's resolution is reused by other callers (0 disables; single-flight stays). */
  resultTtlMs?: number;
  /** How long a registry's `/v2/` challenge is reused. */
  pingTtlMs?: number;
  perRegistryConcurrency?: number;
  perRegistryRequestsPerSecond?: number;
  /** Longest 429 backoff a call waits out before failing with TooManyRequests. */
  maxBackoffWaitMs?: number;
  defaultBackoffMs?: number;
  /** Token realm hostnames trusted with any registry's credentials (see decideRealm). */
  trustedRealmHosts?: string[];
  maxTags?: number;
  tagPageSize?: number;
  onRequest?: (event: RequestEvent) => void;
  /**
   * Checked for the host of every request, redirects and token realms included: a message
   * refuses it. Registries choose where they redirect, so this is where a block list holds.
   */
  blockedHost?: (host: string) => string | undefined;
  /** A request waited `waitedMs` for the registry's shared budget (reported from 10 ms on). */
  onRateLimitWait?: (registry: string, waitedMs: number) => void;
  /** Replaces the undici transport (unit tests). */
  transport?: Transport;
  now?: () => number;
}

export interface CallOptions {
  /** Credentials for the image's registry, or a lookup by registry host and repository. */
  credentials?: Credentials | CredentialLookup | undefined;
  /** Allow plain HTTP and unverified TLS for this call (stream or tag marked insecure). */
  insecure?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface InspectOptions extends CallOptions {
  /** The digest recorded by the last import; a tag still pointing at it costs one HEAD. */
  knownDigest?: string | undefined;
  /**
   * Resolve the tag at the registry now, not from another caller's answer of the last few
   * seconds: for imports a user asked for, which must see a push made just before.
   */
  fresh?: boolean | undefined;
}

interface ResultBase {
  /** The normalized reference that was resolved (`docker.io/library/redis:2`). */
  reference: string;
  digest: string;
  mediaType: string;
  /** Manifest size in bytes (0 when the registry did not say on HEAD). */
  manifestSize: number;
}

export interface UnchangedResult extends ResultBase {
  kind: "unchanged";
}

export interface ImageResult extends ResultBase {
  kind: "image";
  image: Image;
}

export interface ListResult extends ResultBase {
  kind: "list";
  /** Entries of the list (attestations left out); pass one to fetchPlatformImage. */
  manifests: ImageManifest[];
  /** The list itself as an Image (PreserveOriginal): name = list digest, dockerImageManifests. */
  image: Image;
}

export type InspectResult = UnchangedResult | ImageResult | ListResult;

export interface ListTagsOptions extends CallOptions {
  /** Stop after this many tags (default: the client's maxTags). */
  limit?: number;
  pageSize?: number;
}

export interface RegistryClient {
  inspect(reference: string | ImageReference, options?: InspectOptions): Promise<InspectResult>;
  fetchPlatformImage(
    reference: string | ImageReference,
    digest: string,
    options?: CallOptions,
  ): Promise<ImageResult>;
  listTags(repository: string | ImageReference, options?: ListTagsOptions): Promise<string[]>;
  close(): Promise<void>;
}

/** Content-addressed manifest details, independent of how the user spelled the name. */
export type ManifestDetails =
  | {
      kind: "image";
      digest: string;
      mediaType: string;
      manifestSize: number;
      metadata: DockerImageMetadata;
      layers: ImageLayer[];
    }
  | { kind: "list"; digest: string; mediaType: string; manifestSize: number; manifests: ImageManifest[] };

/** Maps manifest details into OpenShift's Image, pinned by digest under the user's name. */
export function toImage(details: ManifestDetails, userRef: ImageReference): Image {
  const metadata: NonNullable<Image["metadata"]> = { name: details.digest };
  const image: Image = {
    metadata,
    dockerImageReference: mostSpecificPullSpec(userRef, details.digest),
    dockerImageManifestMediaType: details.mediaType,
  };
  if (details.kind === "image") {
    if (details.metadata.Created) metadata.creationTimestamp = details.metadata.Created;
    image.dockerImageMetadata = details.metadata;
    image.dockerImageMetadataVersion = "1.0";
    image.dockerImageLayers = details.layers;
  } else {
    image.dockerImageManifests = details.manifests;
  }
  return image;
}

interface TagResolution {
  digest: string | undefined;
  mediaType: string;
  manifestSize: number;
}

interface Endpoint {
  /** `https://host:port` or `http://host:port` */
  origin: string;
  /** host[:port] used for requests (Docker Hub's API host for docker.io). */
  host: string;
  challenges: Challenge[];
}

/** Everything one call needs; the credential identity keys every shared result. */
interface CallContext {
  ref: ImageReference;
  subject: string;
  credentials: Credentials | undefined;
  identity: string;
  insecure: boolean;
  signal: AbortSignal | undefined;
  fresh: boolean;
}

const MAX_REDIRECTS = 5;
const RATE_LIMIT_WAIT_REPORT_MS = 10;
const ERROR_BODY_LIMIT = 64 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const now = options.now ?? Date.now;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const undiciTransport = options.transport
    ? undefined
    : createUndiciTransport({ caBundle: options.caBundle, timeoutMs });
  const transport: Transport = options.transport ?? (undiciTransport as { send: Transport }).send;
  const userAgent = options.userAgent ?? "imagestream-operator";
  const limits = {
    manifest: options.maxManifestBytes ?? 4 * 1024 * 1024,
    config: options.maxConfigBytes ?? 8 * 1024 * 1024,
    token: options.maxTokenBytes ?? 256 * 1024,
    tagsPage: 4 * 1024 * 1024,
  };
  const budgetOptions: BudgetOptions = {
    concurrency: options.perRegistryConcurrency ?? 8,
    requestsPerSecond: options.perRegistryRequestsPerSecond ?? 50,
    maxBackoffWaitMs: options.maxBackoffWaitMs ?? 10_000,
    defaultBackoffMs: options.defaultBackoffMs ?? 2_000,
    now,
  };
  const resultTtlMs = options.resultTtlMs ?? 5_000;

  const budgets = new Map<string, RegistryBudget>();
  const tokens = new TokenCache(now);
  const endpoints = new SharedFetches<Endpoint>({ ttlMs: options.pingTtlMs ?? 10 * 60_000, now });
  const tokenFetches = new SharedFetches<string>({ ttlMs: 0, now });
  const headResolutions = new SharedFetches<TagResolution>({ ttlMs: resultTtlMs, now });
  const tagFetches = new SharedFetches<ManifestDetails>({ ttlMs: resultTtlMs, now });
  const digestFetches = new SharedFetches<ManifestDetails>({ ttlMs: 0, now });
  const byDigest = new LruCache<ManifestDetails>(1024);
  // Credentials the registry refused for a scope: skipped for a minute so that every request
  // of an import does not repeat the failing attempt before going anonymous.
  const refused = new SharedFetches<true>({ ttlMs: 60_000, now });

  function budgetFor(registry: string): RegistryBudget {
    let budget = budgets.get(registry);
    if (!budget) {
      budget = new RegistryBudget(budgetOptions);
      budgets.set(registry, budget);
    }
    return budget;
  }

  function context(reference: string | ImageReference, call: CallOptions): CallContext {
    const ref = typeof reference === "string" ? parseReference(reference) : reference;
    const credentials =
      typeof call.credentials === "function"
        ? call.credentials(ref.registry, ref.repository)
        : call.credentials;
    return {
      ref,
      subject: formatReference(ref),
      credentials,
      identity: credentialIdentity(credentials),
      insecure: call.insecure === true,
      signal: call.signal,
      fresh: (call as InspectOptions).fresh === true,
    };
  }

  /** One HTTP exchange under the registry's budget, reported to the observer. */
  async function exchange(
    ctx: CallContext,
    kind: RequestKind,
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
  ): Promise<HttpResponse> {
    const blocked = options.blockedHost?.(new URL(url).host);
    if (blocked) throw new RegistryError("Forbidden", blocked);
    const budget = budgetFor(ctx.ref.registry);
    for (let attempt = 0; ; attempt++) {
      const started = now();
      let res: HttpResponse;
      try {
        res = await budget.run(() => {
          // Time spent queued behind the registry's concurrency, rate or 429 budget.
          const waitedMs = now() - started;
          if (waitedMs >= RATE_LIMIT_WAIT_REPORT_MS) options.onRateLimitWait?.(ctx.ref.registry, waitedMs);
          return transport({
            url,
            method,
            headers: { "user-agent": userAgent, ...headers },
            unverifiedTls: ctx.insecure,
            signal: ctx.signal,
          });
        }, ctx.ref.registry);
      } catch (err) {
        if (err instanceof RegistryError) throw err;
        options.onRequest?.({
          registry: ctx.ref.registry,
          method,
          kind,
          status: "error",
          durationMs: now() - started,
        });
        throw errorForTransport(err, ctx.ref.registry);
      }
      options.onRequest?.({
        registry: ctx.ref.registry,
        method,
        kind,
        status: res.status,
        durationMs: now() - started,
      });
      if (res.status !== 429) {
        budget.succeeded();
        return res;
      }
      const retryAfter = parseRetryAfter(headerValue(res.headers, "retry-after"), now());
      const waited = budget.rateLimited(retryAfter);
      // Short backoffs are waited out once (the paused queue holds the retry); longer ones
      // fail so the controller requeues the work at the time the registry asked for.
      if (attempt > 0 || waited * 1000 > budgetOptions.maxBackoffWaitMs) return res;
      await res.discard();
    }
  }

  /**
   * Follows redirects by hand: Authorization goes only to the origin it was meant for (blob
   * storage redirects get none), and HTTPS never downgrades to HTTP unless the call is insecure.
   */
  async function fetchFollowing(
    ctx: CallContext,
    kind: RequestKind,
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
    authorization: string | undefined,
  ): Promise<{ res: HttpResponse; url: string }> {
    const origin = new URL(url);
    let current = origin;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const hopHeaders = { ...headers };
      if (authorization !== undefined && sameOrigin(current, origin))
        hopHeaders.authorization = authorization;
      const res = await exchange(ctx, kind, method, current.toString(), hopHeaders);
      const location = headerValue(res.headers, "location");
      if (!REDIRECT_STATUSES.has(res.status) || location === undefined)
        return { res, url: current.toString() };
      await res.discard();
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new RegistryError("BadResponse", `registry "${ctx.ref.registry}" redirected to an invalid URL`);
      }
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        throw new RegistryError("BadResponse", `registry "${ctx.ref.registry}" redirected to a non-HTTP URL`);
      }
      if (next.protocol === "http:" && current.protocol === "https:" && !ctx.insecure) {
        throw new RegistryError(
          "BadResponse",
          `registry "${ctx.ref.registry}" redirected from HTTPS to plain HTTP; mark the image stream insecure to allow it`,
        );
      }
      current = next;
    }
    throw new RegistryError(
      "BadResponse",
      `registry "${ctx.ref.registry}" redirected more than ${MAX_REDIRECTS} times`,
    );
  }

  async function failure(ctx: CallContext, res: HttpResponse, subject = ctx.subject): Promise<RegistryError> {
    let body = "";
    try {
      body = (await res.read(ERROR_BODY_LIMIT)).toString("utf8");
    } catch {
      // The body only adds detail; the status decides the error.
    }
    return errorForStatus({
      subject,
      registry: ctx.ref.registry,
      status: res.status,
      retryAfterHeader: headerValue(res.headers, "retry-after"),
      body,
      nowMs: now(),
    });
  }

  /** `GET /v2/`: which scheme answers (insecure calls: HTTPS unverified, then HTTP) and its challenges. */
  function endpoint(ctx: CallContext): Promise<Endpoint> {
    const host = apiHost(ctx.ref.registry);
    return endpoints.get(`${host}|${ctx.insecure}`, async () => {
      const schemes = ctx.insecure ? ["https", "http"] : ["https"];
      let lastError: unknown;
      for (const scheme of schemes) {
        const origin = `${scheme}://${host}`;
        let res: HttpResponse;
        try {
          // Not following redirects: a challenge must come from the registry's own origin.
          res = await exchange(ctx, "ping", "GET", `${origin}/v2/`, {});
        } catch (err) {
          lastError = err;
          continue;
        }
        if (res.status === 401) {
          const challenges = parseWwwAuthenticate(res.headers["www-authenticate"]);
          await res.discard();
          return { origin, host, challenges };
        }
        if ((res.status >= 200 && res.status < 400) || res.status === 404) {
          await res.discard();
          return { origin, host, challenges: [] };
        }
        throw await failure(ctx, res, ctx.ref.registry);
      }
      throw lastError instanceof RegistryError ? lastError : errorForTransport(lastError, ctx.ref.registry);
    });
  }

  async function bearerToken(
    ctx: CallContext,
    ep: Endpoint,
    challenge: Challenge,
    credentials: Credentials | undefined,
    scope: string,
  ): Promise<{ token: string; key: string }> {
    const realm = challenge.params.realm ?? "";
    const decision = decideRealm({
      registryHost: ep.host,
      realm,
      insecure: ctx.insecure,
      trustedRealmHosts: options.trustedRealmHosts ?? [],
    });
    if (!decision.fetch)
      throw new RegistryError("BadResponse", `registry "${ctx.ref.registry}": ${decision.why}`);
    const sent = decision.sendCredentials ? credentials : undefined;
    const key = tokenCacheKey(ep.host, scope, sent);
    const cached = tokens.get(key);
    if (cached !== undefined) return { token: cached, key };
    const token = await tokenFetches.get(key, async () => {
      const url = new URL(decision.url);
      if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
      url.searchParams.set("scope", scope);
      const authorization = sent ? basicAuthorization(sent) : undefined;
      const { res } = await fetchFollowing(ctx, "token", "GET", url.toString(), {}, authorization);
      if (res.status !== 200) throw await failure(ctx, res);
      const response = parseTokenResponse((await res.read(limits.token)).toString("utf8"));
      tokens.set(key, response);
      return response.token;
    });
    return { token, key };
  }

  /**
   * A request for a repository resource with the registry's auth scheme. With credentials,
   * a 401 (on the token or the resource) is retried anonymously, as OpenShift does; a cached
   * token that stops working is refreshed once first.
   */
  async function authorized(
    ctx: CallContext,
    kind: RequestKind,
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
  ): Promise<HttpResponse> {
    const ep = await endpoint(ctx);
    let challenges = ep.challenges;
    const scope = `repository:${ctx.ref.repository}:pull`;
    const refusedKey = tokenCacheKey(ep.host, scope, ctx.credentials);
    const useCredentials = ctx.credentials !== undefined && refused.peek(refusedKey) === undefined;
    const identities = useCredentials ? [ctx.credentials, undefined] : [undefined];
    let lastUnauthorized: RegistryError | undefined;
    for (const identity of identities) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const bearer = challenges.find((c) => c.scheme === "bearer");
        const basic = challenges.find((c) => c.scheme === "basic");
        let authorization: string | undefined;
        let tokenKey: string | undefined;
        let fromCache = false;
        try {
          if (bearer) {
            const key = tokenCacheKey(ep.host, scope, identity);
            fromCache = tokens.get(key) !== undefined;
            const t = await bearerToken(ctx, ep, bearer, identity, scope);
            authorization = `Bearer ${t.token}`;
            tokenKey = t.key;
          } else if (basic && identity) {
            authorization = basicAuthorization(identity);
          }
        } catch (err) {
          if (err instanceof RegistryError && (err.reason === "Unauthorized" || err.reason === "Forbidden")) {
            lastUnauthorized = err;
            if (identity) refused.remember(refusedKey, true);
            break; // these credentials cannot get a token: try the next identity
          }
          throw err;
        }
        const { res, url: finalUrl } = await fetchFollowing(ctx, kind, method, url, headers, authorization);
        if (res.status !== 401) return res;
        const fresh = sameOrigin(finalUrl, ep.origin)
          ? parseWwwAuthenticate(res.headers["www-authenticate"])
          : [];
        lastUnauthorized = await failure(ctx, res);
        if (tokenKey !== undefined) tokens.delete(tokenKey);
        // The ping needed no auth but the repository does: use the resource's own challenge.
        if (challenges.length === 0 && fresh.length > 0) {
          challenges = fresh;
          continue;
        }
        if (!fromCache) {
          if (identity) refused.remember(refusedKey, true);
          break;
        }
      }
    }
    throw (
      lastUnauthorized ??
      new RegistryError("Unauthorized", `you may not have access to the container image "${ctx.subject}"`)
    );
  }

  function manifestUrl(ep: Endpoint, ref: ImageReference, tagOrDigest: string): string {
    return `${ep.origin}/v2/${ref.repository}/manifests/${tagOrDigest}`;
  }

  /** Reads a body within `limit`; `what` names it in errors (the transport cannot say what it read). */
  async function readOrFail(
    ctx: CallContext,
    res: HttpResponse,
    limit: number,
    what: string,
  ): Promise<Buffer> {
    try {
      return await res.read(limit);
    } catch (err) {
      if (err instanceof RegistryError) {
        throw new RegistryError(err.reason, `reading ${what}: ${err.message}`, { cause: err });
      }
      throw errorForTransport(err, ctx.ref.registry);
    }
  }

  async function fetchConfig(ctx: CallContext, ep: Endpoint, digest: string): Promise<Buffer> {
    const url = `${ep.origin}/v2/${ctx.ref.repository}/blobs/${digest}`;
    const res = await authorized(ctx, "blob", "GET", url, {});
    if (res.status !== 200) throw await failure(ctx, res);
    const bytes = await readOrFail(ctx, res, limits.config, `the config blob of "${ctx.subject}"`);
    if (digestOf(bytes, digest) !== digest) {
      throw new RegistryError(
        "BadResponse",
        `the config blob of "${ctx.subject}" does not match its digest ${digest}`,
      );
    }
    return bytes;
  }

  /** GET a manifest by tag or digest, verify it, and complete it with its config blob. */
  async function getManifest(
    ctx: CallContext,
    tagOrDigest: string,
    requestedDigest?: string,
  ): Promise<ManifestDetails> {
    const ep = await endpoint(ctx);
    const res = await authorized(ctx, "manifest", "GET", manifestUrl(ep, ctx.ref, tagOrDigest), {
      accept: MANIFEST_ACCEPT,
    });
    if (res.status !== 200) throw await failure(ctx, res);
    const bytes = await readOrFail(ctx, res, limits.manifest, `the manifest of "${ctx.subject}"`);
    const digest = verifiedDigest(
      bytes,
      headerValue(res.headers, "docker-content-digest"),
      requestedDigest,
      ctx.subject,
    );
    const parsed = parseManifest(bytes, headerValue(res.headers, "content-type"), ctx.subject);
    let details: ManifestDetails;
    if (parsed.kind === "list") {
      details = {
        kind: "list",
        digest,
        mediaType: parsed.mediaType,
        manifestSize: bytes.byteLength,
        manifests: listEntries(parsed.manifests),
      };
    } else {
      assertImageConfig(parsed.config, ctx.subject);
      const layers = imageLayers(parsed.layers);
      const config = await fetchConfig(ctx, ep, parsed.config.digest);
      details = {
        kind: "image",
        digest,
        mediaType: parsed.mediaType,
        manifestSize: bytes.byteLength,
        metadata: imageMetadata(config, layers, ctx.subject),
        layers,
      };
    }
    byDigest.set(digestKey(ctx, digest), details);
    return details;
  }

  function digestKey(ctx: CallContext, digest: string): string {
    return `${ctx.ref.registry}/${ctx.ref.repository}@${digest}|${ctx.identity}`;
  }

  function tagKey(ctx: CallContext, tag: string): string {
    return `${ctx.ref.registry}/${ctx.ref.repository}:${tag}|${ctx.identity}|${ctx.insecure}`;
  }

  function detailsByDigest(ctx: CallContext, digest: string): Promise<ManifestDetails> {
    const key = digestKey(ctx, digest);
    const known = byDigest.get(key);
    if (known) return Promise.resolve(known);
    return digestFetches.get(key, () => getManifest(ctx, digest, digest));
  }

  function detailsByTag(ctx: CallContext, tag: string): Promise<ManifestDetails> {
    const key = tagKey(ctx, tag);
    const recent = ctx.fresh ? undefined : headResolutions.peek(key);
    if (recent?.digest) return detailsByDigest(ctx, recent.digest);
    return tagFetches.get(
      key,
      async () => {
        const details = await getManifest(ctx, tag);
        headResolutions.remember(key, {
          digest: details.digest,
          mediaType: details.mediaType,
          manifestSize: details.manifestSize,
        });
        return details;
      },
      ctx.fresh,
    );
  }

  function headTag(ctx: CallContext, tag: string): Promise<TagResolution> {
    return headResolutions.get(
      tagKey(ctx, tag),
      async () => {
        const ep = await endpoint(ctx);
        const res = await authorized(ctx, "manifest", "HEAD", manifestUrl(ep, ctx.ref, tag), {
          accept: MANIFEST_ACCEPT,
        });
        if (res.status !== 200) throw await failure(ctx, res);
        await res.discard();
        const digest = headerValue(res.headers, "docker-content-digest");
        const size = Number(headerValue(res.headers, "content-length") ?? "0");
        return {
          digest: digest !== undefined && validateDigest(digest) === undefined ? digest : undefined,
          mediaType: headerValue(res.headers, "content-type")?.split(";")[0]?.trim() ?? "",
          manifestSize: Number.isSafeInteger(size) ? size : 0,
        };
      },
      ctx.fresh,
    );
  }

  function result(ctx: CallContext, details: ManifestDetails): ImageResult | ListResult {
    const base = {
      reference: ctx.subject,
      digest: details.digest,
      mediaType: details.mediaType,
      manifestSize: details.manifestSize,
    };
    const image = toImage(details, ctx.ref);
    return details.kind === "image"
      ? { ...base, kind: "image", image }
      : { ...base, kind: "list", manifests: details.manifests, image };
  }

  async function inspect(
    reference: string | ImageReference,
    call: InspectOptions = {},
  ): Promise<InspectResult> {
    const ctx = context(reference, call);
    const { ref } = ctx;
    const known = call.knownDigest;
    if (ref.digest !== undefined) {
      if (known === ref.digest) {
        return { kind: "unchanged", reference: ctx.subject, digest: known, mediaType: "", manifestSize: 0 };
      }
      return result(ctx, await detailsByDigest(ctx, ref.digest));
    }
    const tag = ref.tag ?? "latest";
    if (known !== undefined) {
      const head = await headTag(ctx, tag);
      if (head.digest === known) {
        return {
          kind: "unchanged",
          reference: ctx.subject,
          digest: known,
          mediaType: head.mediaType,
          manifestSize: head.manifestSize,
        };
      }
      // Fetch what the HEAD saw, by digest, so a tag moving in between cannot mix answers.
      if (head.digest !== undefined) return result(ctx, await detailsByDigest(ctx, head.digest));
    }
    return result(ctx, await detailsByTag(ctx, tag));
  }

  async function fetchPlatformImage(
    reference: string | ImageReference,
    digest: string,
    call: CallOptions = {},
  ): Promise<ImageResult> {
    const ctx = context(reference, call);
    const why = validateDigest(digest);
    if (why) throw new RegistryError("InvalidReference", `invalid digest "${digest}": ${why}`);
    const childCtx = { ...ctx, subject: formatReference({ ...ctx.ref, tag: undefined, digest }) };
    const details = await detailsByDigest(childCtx, digest);
    if (details.kind !== "image") {
      throw new RegistryError("InvalidManifest", `the list entry "${childCtx.subject}" is itself a list`);
    }
    const out = result(childCtx, details);
    return out as ImageResult;
  }

  async function listTags(
    repository: string | ImageReference,
    call: ListTagsOptions = {},
  ): Promise<string[]> {
    const ctx = context(repository, call);
    ctx.subject = `${ctx.ref.registry}/${ctx.ref.repository}`;
    const cap = call.limit ?? options.maxTags ?? 10_000;
    const pageSize = Math.max(1, Math.min(call.pageSize ?? options.tagPageSize ?? 1000, cap));
    const ep = await endpoint(ctx);
    const tags: string[] = [];
    const seen = new Set<string>();
    let url: string | undefined = `${ep.origin}/v2/${ctx.ref.repository}/tags/list?n=${pageSize}`;
    const visited = new Set<string>();
    while (url !== undefined && tags.length < cap) {
      if (visited.has(url)) break;
      visited.add(url);
      const res = await authorized(ctx, "tags", "GET", url, {});
      if (res.status !== 200) throw await failure(ctx, res);
      const body = await readOrFail(ctx, res, limits.tagsPage, `the tag list of "${ctx.subject}"`);
      let page: unknown;
      try {
        page = JSON.parse(body.toString("utf8"));
      } catch {
        throw new RegistryError("BadResponse", `the tag list of "${ctx.subject}" is not valid JSON`);
      }
      const pageTags = (page as { tags?: unknown } | null)?.tags;
      if (pageTags !== null && pageTags !== undefined && !Array.isArray(pageTags)) {
        throw new RegistryError("BadResponse", `the tag list of "${ctx.subject}" is malformed`);
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

  return {
    inspect,
    fetchPlatformImage,
    listTags,
    close: async () => {
      await undiciTransport?.close();
    },
  };
}
