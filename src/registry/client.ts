// The registry client the controllers use: inspect a reference (one HEAD when the tag did
// not move), fetch one platform of a list, and list tags. It assembles the layers
//   transport (undici, host policy)  ->  exchange (budget, 429, redirects)
//   ->  auth (ping, bearer, basic, keychains)  ->  distribution (manifests, blobs, tags)
// and shares identical work between callers. It returns registry facts; OpenShift's Image is
// built from them by the import domain.

import { Authenticator, type AuthScope } from "./authenticator.ts";
import { BoundedCache, SharedFetches } from "./cache.ts";
import { Distribution, type TagResolution } from "./distribution.ts";
import { RegistryError } from "./errors.ts";
import { Exchange, type RequestEvent } from "./exchange.ts";
import { createHostPolicy, type HostPolicy, type HostPolicySettings } from "./host-policy.ts";
import { cachedKeychain, chainKeychains, credentialIdentity, type Keychain } from "./keychain.ts";
import {
  assertImageConfig,
  type ImageConfig,
  imageLayers,
  type Layer,
  listEntries,
  type PlatformManifest,
} from "./manifest.ts";
import {
  formatReference,
  type ImageReference,
  normalizeRegistryHost,
  parseReference,
  validateDigest,
} from "./reference.ts";
import type { TokenIssuer } from "./token-issuer.ts";
import { createUndiciTransport, guardedTransport, type Resolver, type Transport } from "./transport.ts";

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
  /** Manifests and image configs kept by digest, shared by every caller (0 disables). */
  cacheSize?: number;
  /** A lookup in the by-digest cache: a miss is followed by a GET. */
  onCacheLookup?: (cache: "manifest" | "config", hit: boolean) => void;
  /**
   * Called for every lookup of where a tag points: `fresh` when it had to start after a given
   * time (a re-import request), `shared` when another lookup answered it (no request sent).
   */
  onTagLookup?: (lookup: { fresh: boolean; shared: boolean }) => void;
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
  /** Allow and block lists (host-policy.ts), enforced on every request and connection. */
  hostPolicy?: HostPolicySettings | HostPolicy;
  /** Operator-wide keychains (cloud providers), asked after the call's own keychain. */
  keychains?: readonly Keychain[];
  /** Registries whose bearer tokens this process signs itself (the integrated registry). */
  tokenIssuers?: readonly TokenIssuer[];
  /** Registries reached at another address than their name (the integrated registry). */
  endpoints?: readonly RegistryEndpoint[];
  /** A request waited `waitedMs` for the registry's shared budget (reported from 10 ms on). */
  onRateLimitWait?: (registry: string, waitedMs: number) => void;
  /** Replaces the undici transport (unit tests); the policy's name checks still apply. */
  transport?: Transport;
  /** Replaces DNS for the undici transport (tests). */
  resolve?: Resolver;
  now?: () => number;
}

/**
 * A registry whose images are named by one host but read at another: the integrated registry's
 * pull location (what pods and status name, e.g. `localhost:5001` on kind) and the address the
 * operator reaches it at (`kind-registry:5000`), plain HTTP when `insecure`.
 */
export interface RegistryEndpoint {
  /** The registry as image references name it. */
  registry: string;
  /** `host[:port]` to connect to. */
  endpoint: string;
  /** Plain HTTP (or unverified TLS) to it, for every call. */
  insecure: boolean;
}

export interface CallOptions {
  /** The caller's credentials (a namespace's pull secrets), asked before the operator-wide keychains. */
  keychain?: Keychain | undefined;
  /** Allow plain HTTP and unverified TLS for this call (stream or tag marked insecure). */
  insecure?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface InspectOptions extends CallOptions {
  /** The digest recorded by the last import; a tag still pointing at it costs one HEAD. */
  knownDigest?: string | undefined;
  /**
   * Only a tag resolution that started at or after this time (epoch ms) answers the call, one
   * running or done, shared with every caller that asked for the same: for imports a user
   * requested at that time, which must see a push made just before. Without it, a
   * resolution of the last `resultTtlMs` answers.
   */
  freshAfter?: number | undefined;
}

/** An image manifest with its config: what the registry says about one image. */
export interface ImageFacts {
  kind: "image";
  digest: string;
  mediaType: string;
  /** Manifest size in bytes. */
  manifestSize: number;
  config: ImageConfig;
  layers: Layer[];
}

/** A manifest list or OCI index, attestation entries left out. */
export interface ListFacts {
  kind: "list";
  digest: string;
  mediaType: string;
  manifestSize: number;
  manifests: PlatformManifest[];
}

/** Content-addressed facts about a manifest, independent of how the user spelled the name. */
export type ManifestFacts = ImageFacts | ListFacts;

interface Resolved {
  /** The normalized reference that was resolved (`docker.io/library/redis:2`). */
  reference: string;
}

export interface UnchangedResult extends Resolved {
  kind: "unchanged";
  digest: string;
  mediaType: string;
  /** Manifest size in bytes (0 when the registry did not say on HEAD). */
  manifestSize: number;
}
export type ImageResult = ImageFacts & Resolved;
export type ListResult = ListFacts & Resolved;
export type InspectResult = UnchangedResult | ImageResult | ListResult;

export interface ListTagsOptions extends CallOptions {
  /** Stop after this many tags (default: the client's maxTags). */
  limit?: number;
  pageSize?: number;
}

export interface RegistryClient {
  inspect(reference: string | ImageReference, options?: InspectOptions): Promise<InspectResult>;
  /** One entry of a list, by digest (the list was `reference`). */
  fetchPlatformImage(
    reference: string | ImageReference,
    digest: string,
    options?: CallOptions,
  ): Promise<ImageResult>;
  listTags(repository: string | ImageReference, options?: ListTagsOptions): Promise<string[]>;
  close(): Promise<void>;
}

/** Everything one call needs; the credential identity keys every shared result. */
interface CallContext extends AuthScope {
  ref: ImageReference;
  identity: string;
  freshAfter: number | undefined;
}

/** How long a tag's last resolution is kept for requests and as a hint that a HEAD will do. */
const TAG_RESOLUTION_RETAIN_MS = 10 * 60_000;

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const now = options.now ?? Date.now;
  const policy =
    options.hostPolicy && "refusedRegistry" in options.hostPolicy
      ? options.hostPolicy
      : createHostPolicy(options.hostPolicy ?? {});
  const undici = options.transport
    ? undefined
    : createUndiciTransport({
        caBundle: options.caBundle,
        timeoutMs: options.requestTimeoutMs ?? 30_000,
        policy,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      });
  const transport = guardedTransport(policy, options.transport ?? (undici as { send: Transport }).send);
  const exchange = new Exchange({
    transport,
    userAgent: options.userAgent ?? "imagestream-operator",
    now,
    budget: {
      concurrency: options.perRegistryConcurrency ?? 8,
      requestsPerSecond: options.perRegistryRequestsPerSecond ?? 50,
      maxBackoffWaitMs: options.maxBackoffWaitMs ?? 10_000,
      defaultBackoffMs: options.defaultBackoffMs ?? 2_000,
      now,
    },
    onRequest: options.onRequest,
    onRateLimitWait: options.onRateLimitWait,
  });
  const auth = new Authenticator({
    exchange,
    now,
    pingTtlMs: options.pingTtlMs ?? 10 * 60_000,
    maxTokenBytes: options.maxTokenBytes ?? 256 * 1024,
    trustedRealmHosts: options.trustedRealmHosts ?? [],
    tokenIssuers: options.tokenIssuers ?? [],
  });
  const distribution = new Distribution(auth, exchange, {
    manifestBytes: options.maxManifestBytes ?? 4 * 1024 * 1024,
    configBytes: options.maxConfigBytes ?? 8 * 1024 * 1024,
    tagsPageBytes: 4 * 1024 * 1024,
  });
  const operatorKeychains = (options.keychains ?? []).map((k) => cachedKeychain(k, { now }));
  const endpoints = new Map((options.endpoints ?? []).map((e) => [normalizeRegistryHost(e.registry), e]));

  const resultTtlMs = options.resultTtlMs ?? 5_000;
  const headResolutions = new SharedFetches<TagResolution>({
    ttlMs: resultTtlMs,
    retainMs: TAG_RESOLUTION_RETAIN_MS,
    maxEntries: 4096,
    now,
  });
  // Single-flight only: results live in `content` by digest and `headResolutions` by tag.
  const tagFetches = new SharedFetches<ManifestFacts>({ ttlMs: 0, now });
  const digestFetches = new SharedFetches<ManifestFacts>({ ttlMs: 0, now });
  const configFetches = new SharedFetches<ImageConfig>({ ttlMs: 0, now });
  // Content addressed by digest never changes: kept until evicted. Keys carry the credential
  // identity, so a namespace never reads what only another namespace's credentials may see.
  const content = new BoundedCache<ManifestFacts | ImageConfig>(options.cacheSize ?? 1024, now);

  function cached<T extends ManifestFacts | ImageConfig>(
    kind: "manifest" | "config",
    key: string,
  ): T | undefined {
    const hit = content.get(key) as T | undefined;
    options.onCacheLookup?.(kind, hit !== undefined);
    return hit;
  }

  async function context(reference: string | ImageReference, call: CallOptions): Promise<CallContext> {
    const ref = typeof reference === "string" ? parseReference(reference) : reference;
    const keychain = chainKeychains([call.keychain, ...operatorKeychains]);
    const found = await keychain.resolve({ registry: ref.registry, repository: ref.repository }, call.signal);
    // An expired credential is never sent: the call goes anonymous instead.
    const credentials =
      found && (found.expiresAt === undefined || found.expiresAt > now())
        ? { username: found.username, password: found.password }
        : undefined;
    const route = endpoints.get(ref.registry);
    return {
      ref,
      registry: ref.registry,
      repository: ref.repository,
      subject: formatReference(ref),
      credentials,
      identity: credentialIdentity(credentials),
      insecure: call.insecure === true || route?.insecure === true,
      signal: call.signal,
      freshAfter: (call as InspectOptions).freshAfter,
      ...(route ? { endpoint: route.endpoint } : {}),
    };
  }

  /** GET a manifest by tag or digest and complete an image with its config blob. */
  async function getFacts(
    ctx: CallContext,
    tagOrDigest: string,
    requestedDigest?: string,
  ): Promise<ManifestFacts> {
    const { digest, mediaType, manifestSize, manifest } = await distribution.getManifest(
      ctx,
      tagOrDigest,
      requestedDigest,
    );
    let facts: ManifestFacts;
    if (manifest.kind === "list") {
      facts = { kind: "list", digest, mediaType, manifestSize, manifests: listEntries(manifest.manifests) };
    } else {
      assertImageConfig(manifest.config, ctx.subject);
      const config = await configByDigest(ctx, manifest.config.digest);
      facts = {
        kind: "image",
        digest,
        mediaType,
        manifestSize,
        config,
        layers: imageLayers(manifest.layers),
      };
    }
    content.set(digestKey(ctx, "manifest", digest), facts);
    return facts;
  }

  function digestKey(ctx: CallContext, kind: "manifest" | "config", digest: string): string {
    return `${kind}|${ctx.ref.registry}/${ctx.ref.repository}@${digest}|${ctx.identity}`;
  }

  function configByDigest(ctx: CallContext, digest: string): Promise<ImageConfig> {
    const key = digestKey(ctx, "config", digest);
    const known = cached<ImageConfig>("config", key);
    if (known) return Promise.resolve(known);
    return configFetches.get(key, async () => {
      const config = await distribution.getConfig(ctx, digest);
      content.set(key, config);
      return config;
    });
  }

  function tagKey(ctx: CallContext, tag: string): string {
    return `${ctx.ref.registry}/${ctx.ref.repository}:${tag}|${ctx.identity}|${ctx.insecure}`;
  }

  function factsByDigest(ctx: CallContext, digest: string): Promise<ManifestFacts> {
    const key = digestKey(ctx, "manifest", digest);
    const known = cached<ManifestFacts>("manifest", key);
    if (known) return Promise.resolve(known);
    return digestFetches.get(key, () => getFacts(ctx, digest, digest));
  }

  function countTagLookup(ctx: CallContext, shared: boolean): void {
    options.onTagLookup?.({ fresh: ctx.freshAfter !== undefined, shared });
  }

  async function factsByTag(ctx: CallContext, tag: string): Promise<ManifestFacts> {
    const key = tagKey(ctx, tag);
    const recent = headResolutions.peek(key, ctx.freshAfter);
    if (recent?.digest) {
      countTagLookup(ctx, true);
      return factsByDigest(ctx, recent.digest);
    }
    // Resolved before: a HEAD says where the tag points now, and that content is usually cached.
    if (headResolutions.latest(key)?.digest !== undefined) {
      const head = await headTag(ctx, tag);
      if (head.digest !== undefined) return factsByDigest(ctx, head.digest);
    }
    let sent = false;
    const facts = tagFetches.get(
      key,
      async () => {
        sent = true;
        const startedAt = now();
        const facts = await getFacts(ctx, tag);
        headResolutions.remember(
          key,
          { digest: facts.digest, mediaType: facts.mediaType, manifestSize: facts.manifestSize },
          startedAt,
        );
        return facts;
      },
      ctx.freshAfter,
    );
    countTagLookup(ctx, !sent);
    return facts;
  }

  function headTag(ctx: CallContext, tag: string): Promise<TagResolution> {
    let sent = false;
    const resolution = headResolutions.get(
      tagKey(ctx, tag),
      () => {
        sent = true;
        return distribution.headManifest(ctx, tag);
      },
      ctx.freshAfter,
    );
    countTagLookup(ctx, !sent);
    return resolution;
  }

  function resolved<T extends ManifestFacts>(ctx: CallContext, facts: T): T & Resolved {
    return { ...facts, reference: ctx.subject };
  }

  async function inspect(
    reference: string | ImageReference,
    call: InspectOptions = {},
  ): Promise<InspectResult> {
    const ctx = await context(reference, call);
    const { ref } = ctx;
    const known = call.knownDigest;
    if (ref.digest !== undefined) {
      if (known === ref.digest) {
        return { kind: "unchanged", reference: ctx.subject, digest: known, mediaType: "", manifestSize: 0 };
      }
      return resolved(ctx, await factsByDigest(ctx, ref.digest));
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
      if (head.digest !== undefined) return resolved(ctx, await factsByDigest(ctx, head.digest));
    }
    return resolved(ctx, await factsByTag(ctx, tag));
  }

  async function fetchPlatformImage(
    reference: string | ImageReference,
    digest: string,
    call: CallOptions = {},
  ): Promise<ImageResult> {
    const ctx = await context(reference, call);
    const why = validateDigest(digest);
    if (why) throw new RegistryError("InvalidReference", `invalid digest "${digest}": ${why}`);
    const childCtx = { ...ctx, subject: formatReference({ ...ctx.ref, tag: undefined, digest }) };
    const facts = await factsByDigest(childCtx, digest);
    if (facts.kind !== "image") {
      throw new RegistryError("InvalidManifest", `the list entry "${childCtx.subject}" is itself a list`);
    }
    return resolved(childCtx, facts);
  }

  async function listTags(
    repository: string | ImageReference,
    call: ListTagsOptions = {},
  ): Promise<string[]> {
    const ctx = await context(repository, call);
    ctx.subject = `${ctx.ref.registry}/${ctx.ref.repository}`;
    const cap = call.limit ?? options.maxTags ?? 10_000;
    const pageSize = Math.max(1, Math.min(call.pageSize ?? options.tagPageSize ?? 1000, cap));
    return distribution.listTags(ctx, cap, pageSize);
  }

  return {
    inspect,
    fetchPlatformImage,
    listTags,
    close: async () => {
      await undici?.close();
    },
  };
}
