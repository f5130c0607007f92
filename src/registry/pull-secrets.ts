// The pull-secret keychain: registry credentials from `kubernetes.io/dockerconfigjson` and
// `kubernetes.io/dockercfg` Secrets of a namespace (design.md: every such Secret is a
// candidate unless annotated openshift.io/image.excludeSecret), matched by registry host
// with the host policy's one meaning of a pattern (host-policy.ts) and by path prefix.
// Nothing here logs: credentials must never reach a log line.

import { type HostPattern, hostMatches, parseHostPattern } from "./host-policy.ts";
import type { Credentials, Keychain } from "./keychain.ts";
import { normalizeRegistryHost } from "./reference.ts";

const EXCLUDE_SECRET_ANNOTATION = "openshift.io/image.excludeSecret";

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

function pathMatches(prefix: string, repository: string | undefined): boolean {
  if (prefix === "") return true;
  if (repository === undefined) return false;
  return repository === prefix || repository.startsWith(`${prefix}/`);
}

/**
 * A keychain over entries in candidate order (Secrets in the order the caller lists them).
 * The most specific match wins: exact host over wildcard, longer path prefix over shorter;
 * among equals, the first listed.
 */
export function dockerConfigKeychain(entries: readonly DockerConfigEntry[]): Keychain {
  const patterns: { entry: DockerConfigEntry; pattern: HostPattern | undefined }[] = entries.map((entry) => {
    try {
      return { entry, pattern: parseHostPattern(entry.host) };
    } catch {
      return { entry, pattern: undefined }; // a key no host can match
    }
  });
  return {
    resolve: async ({ registry, repository }) => {
      const host = normalizeRegistryHost(registry);
      let best: Credentials | undefined;
      let bestScore = -1;
      for (const { entry, pattern } of patterns) {
        if (!pattern || !hostMatches(pattern, host) || !pathMatches(entry.pathPrefix, repository)) continue;
        const score = (entry.host.startsWith("*.") ? 0 : 1_000_000) + entry.pathPrefix.length;
        if (score > bestScore) {
          best = entry.credentials;
          bestScore = score;
        }
      }
      return best;
    },
  };
}

export interface SecretLike {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> | null };
  type?: string;
  data?: Record<string, string> | null;
}

/**
 * The keychain of a namespace's pull secrets: every dockerconfigjson and dockercfg Secret of
 * `namespace` not annotated openshift.io/image.excludeSecret, in name order. A malformed
 * Secret is skipped; the others still apply.
 */
export function pullSecretKeychain(namespace: string, secrets: readonly SecretLike[]): Keychain {
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
      // skipped: see above
    }
  }
  return dockerConfigKeychain(entries);
}
