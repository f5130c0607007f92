// Where an ImageStreamTag's image details (metadata, layers, media type, list entries) come
// from. The stream's status holds only digest and pull spec, so the controller asks the
// registry by digest (`<repository>@<digest>`): content-addressed, so the registry client
// caches it for good and, shared with the import controller, usually answers from memory.
// The registry client enforces the operator's host policy.
import type { Image, ImageStream } from "../api/index.ts";
import { INSECURE_REPOSITORY_ANNOTATION, toImage } from "../imports/index.ts";
import {
  formatReference,
  parseReference,
  pullSecretKeychain,
  type RegistryClient,
  type SecretLike,
} from "../registry/index.ts";
import type { SharedInformer } from "../runtime/index.ts";

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
}

/** Image details from the registry, by digest, with the namespace's pull secrets. */
export function registryImageDetails(options: RegistryImageDetailsOptions): ImageDetailsSource {
  return async (request) => {
    const ref = parseReference(request.dockerImageReference);
    const byDigest = formatReference({ ...ref, tag: undefined, digest: request.digest });
    const secrets = options.secrets.flatMap((informer) => informer.list(request.namespace));
    const result = await options.registry.inspect(byDigest, {
      keychain: pullSecretKeychain(request.namespace, secrets),
      insecure: request.insecure,
      signal: request.signal,
    });
    if (result.kind === "unchanged") throw new Error(`the registry gave no details for ${byDigest}`);
    return toImage(result, byDigest);
  };
}
