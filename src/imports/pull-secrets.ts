// Registry credentials of a namespace from its pull secrets (design.md: every
// dockerconfigjson and dockercfg Secret is a candidate unless excluded by annotation).
import {
  type CredentialLookup,
  credentialLookup,
  DOCKER_CONFIG_SECRET_KEYS,
  type DockerConfigEntry,
  parseDockerConfig,
} from "../registry/index.ts";

const EXCLUDE_SECRET_ANNOTATION = "openshift.io/image.excludeSecret";

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
