// Where an ImageStreamTag's image details (metadata, layers, media type, list entries) come
// from. The stream's status holds only digest and pull spec, so the controller asks the
// registry by digest (`<repository>@<digest>`): content-addressed, so the registry client
// caches it for good and, shared with the import controller, usually answers from memory.
import type { Image, ImageStream } from "../api/index.ts";
import type { SharedInformer } from "../operator/index.ts";
import {
  type CredentialLookup,
  credentialLookup,
  DOCKER_CONFIG_SECRET_KEYS,
  type DockerConfigEntry,
  formatReference,
  parseDockerConfig,
  parseReference,
  type RegistryClient,
} from "../registry/index.ts";

export const INSECURE_REPOSITORY_ANNOTATION = "openshift.io/image.insecureRepository";
const EXCLUDE_SECRET_ANNOTATION = "openshift.io/image.excludeSecret";

export interface ImageDetailsRequest {
  namespace: string;
  /** The status event's pull spec (normally `<repository>@<digest>`). */
  dockerImageReference: string;
  digest: string;
  /** Plain HTTP / unverified TLS allowed (the stream or tag is marked insecure). */
  insecure: boolean;
  signal?: AbortSignal;
}

/** Resolves an image's details by digest; throws when they cannot be had. */
export type ImageDetailsSource = (request: ImageDetailsRequest) => Promise<Image>;

export interface SecretLike {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> | null };
  type?: string;
  data?: Record<string, string> | null;
}

/**
 * Pull credentials of a namespace, as the import controller reads them: every dockerconfigjson
 * and dockercfg Secret not annotated openshift.io/image.excludeSecret, in name order.
 */
export function namespaceCredentials(namespace: string, secrets: readonly SecretLike[]): CredentialLookup {
  const entries: DockerConfigEntry[] = [];
  const sorted = secrets
    .filter((s) => s.metadata?.namespace === namespace)
    .filter((s) => s.metadata?.annotations?.[EXCLUDE_SECRET_ANNOTATION] !== "true")
    .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  for (const secret of sorted) {
    const kind = DOCKER_CONFIG_SECRET_KEYS[secret.type ?? ""];
    const payload = kind && secret.data?.[kind.key];
    if (!kind || !payload) continue;
    try {
      entries.push(...parseDockerConfig(Buffer.from(payload, "base64").toString("utf8"), kind.format));
    } catch {
      // A malformed pull secret is skipped; the others still apply.
    }
  }
  return credentialLookup(entries);
}

/** `host` matches `pattern`: exact (with port), host without port matching any port, or `*.domain`. */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === h) return true;
  const hostOnly = h.replace(/:\d+$/, "");
  if (!/:\d+$/.test(p) && p === hostOnly) return true;
  return p.startsWith("*.") && hostOnly.endsWith(p.slice(1));
}

/**
 * The operator's registry allow/block policy (the same rule as the import controller's): the
 * block list wins, an empty allow list allows every host not blocked.
 */
export function refusedRegistryHost(
  host: string,
  allow: readonly string[],
  block: readonly string[],
): string | undefined {
  if (block.some((p) => hostMatches(p, host)))
    return `registry host ${host} is blocked by the registry policy`;
  if (allow.length > 0 && !allow.some((p) => hostMatches(p, host))) {
    return `registry host ${host} is not in the list of allowed registries`;
  }
  return undefined;
}

/**
 * Whether fetching a tag's image may use plain HTTP or unverified TLS: the stream's
 * insecureRepository annotation or the tag's importPolicy.insecure; for a tag following a tag
 * of another stream (ImageStreamTag/ImageStreamImage), that source's own setting, one level deep.
 */
export function insecureFor(
  stream: ImageStream,
  tagName: string,
  lookup: (namespace: string, name: string) => ImageStream | undefined,
  depth = 0,
): boolean {
  if (stream.metadata.annotations?.[INSECURE_REPOSITORY_ANNOTATION] === "true") return true;
  const tag = stream.spec?.tags?.find((t) => t.name === tagName);
  if (tag?.importPolicy?.insecure === true) return true;
  const from = tag?.from;
  if (depth > 0 || !from || (from.kind !== "ImageStreamTag" && from.kind !== "ImageStreamImage"))
    return false;
  const separator = from.kind === "ImageStreamTag" ? ":" : "@";
  const at = from.name.indexOf(separator);
  const sourceName = at > 0 ? from.name.slice(0, at) : (stream.metadata.name ?? "");
  const sourceTag =
    from.kind === "ImageStreamTag" ? (at >= 0 ? from.name.slice(at + 1) : from.name) : undefined;
  const source = lookup(from.namespace || stream.metadata.namespace || "", sourceName);
  if (!source) return false;
  if (sourceTag === undefined)
    return source.metadata.annotations?.[INSECURE_REPOSITORY_ANNOTATION] === "true";
  return insecureFor(source, sourceTag, lookup, depth + 1);
}

export interface RegistryImageDetailsOptions {
  registry: RegistryClient;
  secrets: readonly SharedInformer<SecretLike>[];
  registryAllow: readonly string[];
  registryBlock: readonly string[];
}

/** Image details from the registry, by digest, with the namespace's pull secrets. */
export function registryImageDetails(options: RegistryImageDetailsOptions): ImageDetailsSource {
  return async (request) => {
    const ref = parseReference(request.dockerImageReference);
    const refused = refusedRegistryHost(ref.registry, options.registryAllow, options.registryBlock);
    if (refused) throw new Error(refused);
    const byDigest = formatReference({ ...ref, tag: undefined, digest: request.digest });
    const secrets = options.secrets.flatMap((informer) => informer.list(request.namespace));
    const result = await options.registry.inspect(byDigest, {
      credentials: namespaceCredentials(request.namespace, secrets),
      insecure: request.insecure,
      signal: request.signal,
    });
    if (result.kind === "unchanged") throw new Error(`the registry gave no details for ${byDigest}`);
    return result.image;
  };
}
