// Small string helpers over pull specs and ImageStreamTag/ImageStreamImage names. The full
// reference grammar lives in the registry client; these only split what the core needs.
import { RegistryError, validateDigest } from "../registry/index.ts";

/** Splits `name[:tag][@digest]` keeping `name` exactly as written (host, port and path included). */
export function splitPullSpec(pullSpec: string): { name: string; tag?: string; digest?: string } {
  const at = pullSpec.indexOf("@");
  const withoutDigest = at >= 0 ? pullSpec.slice(0, at) : pullSpec;
  const digest = at >= 0 ? pullSpec.slice(at + 1) : undefined;
  // A ':' after the last '/' separates the tag; one before it belongs to `host:port`.
  const colon = withoutDigest.lastIndexOf(":");
  const slash = withoutDigest.lastIndexOf("/");
  const hasTag = colon > slash;
  const name = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  const tag = hasTag ? withoutDigest.slice(colon + 1) : undefined;
  return {
    name,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/**
 * The most specific pull spec keeping the user's name, as OpenShift's MostSpecific():
 * `redis:2` + digest becomes `redis@sha256:...` (the tag is dropped, defaults are not added).
 */
export function mostSpecificPullSpec(pullSpec: string, digest: string): string {
  const why = validateDigest(digest);
  if (why) throw new RegistryError("InvalidReference", `invalid digest "${digest}": ${why}`);
  return `${splitPullSpec(pullSpec).name}@${digest}`;
}

/** `repo` + `tag` as a pull spec, dropping any tag or digest already on `repo`. */
export function joinRepositoryTag(repository: string, tag: string): string {
  return `${splitPullSpec(repository).name}:${tag}`;
}

export type ParsedSourceName = { ok: true; stream: string; id: string } | { ok: false; message: string };

/**
 * Parses `from.name` of an ImageStreamTag (`tag` or `stream:tag`) or ImageStreamImage
 * (`id` or `stream@id`) source; a bare tag or id refers to `defaultStream`.
 */
export function parseSourceName(
  kind: "ImageStreamTag" | "ImageStreamImage",
  name: string,
  defaultStream: string,
): ParsedSourceName {
  const separator = kind === "ImageStreamTag" ? ":" : "@";
  const parts = name.split(separator);
  const invalid = {
    ok: false as const,
    message:
      kind === "ImageStreamTag"
        ? `invalid from.name "${name}": it must be of the form <tag> or <stream>:<tag>`
        : `invalid from.name "${name}": it must be of the form <id> or <stream>@<id>`,
  };
  if (parts.length === 1 && parts[0]) return { ok: true, stream: defaultStream, id: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { ok: true, stream: parts[0], id: parts[1] };
  return invalid;
}

/** OpenShift's DigestOrImageMatch: `id` is a prefix of the image name or of its hex part. */
export function digestOrImageMatch(image: string, id: string): boolean {
  if (id === "" || image === "") return false;
  const colon = image.indexOf(":");
  if (colon > 0 && image.slice(colon + 1).startsWith(id)) return true;
  return image.startsWith(id);
}

/**
 * A pull spec of the local registry's repository of one stream (`<host>/<ns>/<name>@...` or
 * `:tag`), moved to another stream's repository; any other pull spec is returned as is. OpenShift
 * does this when a tag copies an image from another stream, so that pulls go through the tag's
 * own stream (and its pull permissions) rather than the source's; `reference: true` opts out.
 */
export function rehomeLocalPullSpec(
  pullSpec: string,
  localRegistryHost: string,
  from: { namespace: string; name: string },
  to: { namespace: string; name: string },
): string {
  const prefix = `${localRegistryHost}/${from.namespace}/${from.name}`;
  const rest = pullSpec.slice(prefix.length);
  if (!pullSpec.startsWith(prefix) || !(rest.startsWith("@") || rest.startsWith(":"))) return pullSpec;
  return `${localRegistryHost}/${to.namespace}/${to.name}${rest}`;
}
