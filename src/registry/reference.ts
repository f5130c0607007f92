// Image references, following the grammar of distribution's `reference` package:
//   [domain[:port]/]path[:tag][@algorithm:hex]
// A first component is a registry host only when it contains "." or ":" or is "localhost"
// (or is a bracketed IPv6 address); otherwise the image lives on Docker Hub.

import { RegistryError } from "./errors.ts";

export const DOCKER_HUB = "docker.io";
/** The host that actually serves Docker Hub's distribution API. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";
const DOCKER_HUB_ALIASES = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "registry.hub.docker.com",
]);
const DEFAULT_TAG = "latest";

export interface ImageReference {
  /** Normalized registry host (`docker.io` for Docker Hub), lower-case, with port if given. */
  registry: string;
  /** Repository path, with `library/` added for official Docker Hub images. */
  repository: string;
  /** Tag; `latest` when neither tag nor digest was written. */
  tag?: string;
  digest?: string;
  /** The name exactly as the user wrote it (no tag, no digest): kept in pull specs. */
  writtenName: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[0-9a-fA-F:.]+\]$/;
const PORT = /^[0-9]{1,5}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };
const MAX_NAME_LENGTH = 255;

function invalid(input: string, why: string): RegistryError {
  return new RegistryError("InvalidReference", `invalid image reference "${input}": ${why}`);
}

/** Validates `algorithm:hex`; only sha256 and sha512 can be verified, so only they are accepted. */
export function validateDigest(digest: string): string | undefined {
  const colon = digest.indexOf(":");
  if (colon < 0) return "a digest has the form sha256:<64 hex characters>";
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) return `unsupported digest algorithm "${algorithm}" (sha256 or sha512)`;
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return `a ${algorithm} digest has ${length} lower-case hex characters`;
  }
  return undefined;
}

function isRegistryHost(component: string): boolean {
  return (
    component.includes(".") ||
    component.includes(":") ||
    component === "localhost" ||
    component.startsWith("[")
  );
}

function validateHost(input: string, host: string): void {
  let hostname = host;
  let port: string | undefined;
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    hostname = host.slice(0, end + 1);
    const rest = host.slice(end + 1);
    if (end < 0 || !IPV6_HOST.test(hostname)) throw invalid(input, `invalid registry host "${host}"`);
    if (rest !== "") {
      if (!rest.startsWith(":")) throw invalid(input, `invalid registry host "${host}"`);
      port = rest.slice(1);
    }
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) {
      hostname = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (!hostname.split(".").every((label) => DOMAIN_COMPONENT.test(label))) {
      throw invalid(input, `invalid registry host "${host}"`);
    }
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535)) {
    throw invalid(input, `invalid port in registry host "${host}"`);
  }
}

/** Maps the Docker Hub aliases to `docker.io` and lower-cases the host. */
export function normalizeRegistryHost(host: string): string {
  const lower = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/** The host to send distribution API requests to (Docker Hub's API is not on docker.io). */
export function apiHost(registry: string): string {
  return normalizeRegistryHost(registry) === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}

/** Parses and normalizes an image reference; throws RegistryError("InvalidReference"). */
export function parseReference(input: string): ImageReference {
  const text = input.trim();
  if (text === "") throw invalid(input, "it is empty");
  if (/\s/.test(text)) throw invalid(input, "it contains whitespace");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw invalid(input, "it must not contain a URL scheme");

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const why = validateDigest(digest);
    if (why) throw invalid(input, why);
  }

  // A tag follows the last ":" that comes after the last "/" (a ":" before it is a port).
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const tagColon = rest.lastIndexOf(":");
  if (tagColon > lastSlash) {
    tag = rest.slice(tagColon + 1);
    rest = rest.slice(0, tagColon);
    if (!TAG.test(tag)) {
      throw invalid(
        input,
        `invalid tag "${tag}" (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`,
      );
    }
  }
  const writtenName = rest;
  if (writtenName === "") throw invalid(input, "the repository name is missing");

  const components = writtenName.split("/");
  let registry = DOCKER_HUB;
  const first = components[0] ?? "";
  if (components.length > 1 && isRegistryHost(first)) {
    validateHost(input, first);
    registry = normalizeRegistryHost(first);
    components.shift();
  }
  for (const component of components) {
    if (component === "") throw invalid(input, "the repository name has an empty path component");
    if (component !== component.toLowerCase()) throw invalid(input, "the repository name must be lower-case");
    if (!PATH_COMPONENT.test(component))
      throw invalid(input, `invalid repository path component "${component}"`);
  }
  if (registry === DOCKER_HUB && components.length === 1) components.unshift("library");
  const repository = components.join("/");
  if (writtenName.length > MAX_NAME_LENGTH)
    throw invalid(input, `the name is longer than ${MAX_NAME_LENGTH} characters`);

  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  const ref: ImageReference = { registry, repository, writtenName };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** Fully qualified form: `docker.io/library/busybox:latest`, `host:5000/a/b@sha256:...`. */
export function formatReference(
  ref: Pick<ImageReference, "registry" | "repository" | "tag" | "digest">,
): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}
