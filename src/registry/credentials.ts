// Registry credentials from `kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg`
// Secret payloads, matched by registry host like the kubelet's keyring does.
// Nothing here logs: credentials must never reach a log line.

import { createHash } from "node:crypto";
import { normalizeRegistryHost } from "./reference.ts";

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials for a registry host (normalized, e.g. `docker.io`, `localhost:5000`), if any. */
export type CredentialLookup = (registryHost: string, repository?: string) => Credentials | undefined;

export interface DockerConfigEntry {
  /** Normalized host (may start with `*.`), with port when the key had one. */
  host: string;
  /** Repository path prefix the key was scoped to (`host/team`), or "". */
  pathPrefix: string;
  credentials: Credentials;
}

export type DockerConfigFormat = "dockerconfigjson" | "dockercfg";

/** Secret types and the data key that holds their payload. */
export const DOCKER_CONFIG_SECRET_KEYS: Record<string, { format: DockerConfigFormat; key: string }> = {
  "kubernetes.io/dockerconfigjson": { format: "dockerconfigjson", key: ".dockerconfigjson" },
  "kubernetes.io/dockercfg": { format: "dockercfg", key: ".dockercfg" },
};

/** Parses a registry key (`https://index.docker.io/v1/`, `quay.io`, `host:5000/team`). */
export function parseRegistryKey(key: string): { host: string; pathPrefix: string } | undefined {
  let text = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  text = text.replace(/\/+$/, "");
  const slash = text.indexOf("/");
  const host = slash < 0 ? text : text.slice(0, slash);
  let path = slash < 0 ? "" : text.slice(slash + 1);
  if (host === "") return undefined;
  const normalized = normalizeRegistryHost(host);
  // Docker Hub's legacy key carries the API version as a path (`/v1/`), not a repository.
  if (/^v[12]$/.test(path)) path = "";
  return { host: normalized, pathPrefix: path };
}

function entryCredentials(value: unknown): Credentials | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as { auth?: unknown; username?: unknown; password?: unknown };
  if (typeof v.username === "string" && typeof v.password === "string" && v.username !== "") {
    return { username: v.username, password: v.password };
  }
  if (typeof v.auth === "string" && v.auth !== "") {
    const decoded = Buffer.from(v.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) return undefined;
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

/**
 * Parses the decoded payload of a docker config Secret. `dockerconfigjson` is
 * `{"auths": {key: entry}}`; legacy `dockercfg` is `{key: entry}`. Entries without usable
 * credentials are skipped; malformed JSON throws (without echoing the payload).
 */
export function parseDockerConfig(payload: string, format: DockerConfigFormat): DockerConfigEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new Error(`the ${format} payload is not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null)
    throw new Error(`the ${format} payload is not an object`);
  const auths = format === "dockerconfigjson" ? (parsed as { auths?: unknown }).auths : parsed;
  if (typeof auths !== "object" || auths === null) return [];
  const entries: DockerConfigEntry[] = [];
  for (const [key, value] of Object.entries(auths)) {
    const target = parseRegistryKey(key);
    const credentials = entryCredentials(value);
    if (target && credentials) entries.push({ ...target, credentials });
  }
  return entries;
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  // `*.example.com` matches exactly one more label, with the same port, like the kubelet.
  if (pattern.startsWith("*.")) {
    const suffix = pattern.slice(1);
    if (!host.endsWith(suffix)) return false;
    const label = host.slice(0, host.length - suffix.length);
    return label !== "" && !label.includes(".");
  }
  return false;
}

function pathMatches(prefix: string, repository: string | undefined): boolean {
  if (prefix === "") return true;
  if (repository === undefined) return false;
  return repository === prefix || repository.startsWith(`${prefix}/`);
}

/**
 * A lookup over entries in candidate order (Secrets in the order the caller lists them).
 * The most specific match wins: exact host over wildcard, longer path prefix over shorter;
 * among equals, the first listed.
 */
export function credentialLookup(entries: readonly DockerConfigEntry[]): CredentialLookup {
  return (registryHost, repository) => {
    const host = normalizeRegistryHost(registryHost);
    let best: DockerConfigEntry | undefined;
    let bestScore = -1;
    for (const entry of entries) {
      if (!hostMatches(entry.host, host) || !pathMatches(entry.pathPrefix, repository)) continue;
      const score = (entry.host.startsWith("*.") ? 0 : 1_000_000) + entry.pathPrefix.length;
      if (score > bestScore) {
        best = entry;
        bestScore = score;
      }
    }
    return best?.credentials;
  };
}

/**
 * A stable, non-reversible identity for cache keys: two callers with the same credentials
 * share tokens and results; the password never appears in a key.
 */
export function credentialIdentity(credentials: Credentials | undefined): string {
  if (!credentials) return "anonymous";
  const hash = createHash("sha256").update(credentials.username).update("\0").update(credentials.password);
  return `cred:${hash.digest("hex").slice(0, 24)}`;
}
