// Where registry credentials come from. A Keychain answers "which credentials for this
// registry and repository", asynchronously and with an expiry, so that a cloud provider
// (ECR, Artifact Registry, ACR tokens) is one more implementation: see docs/development.md,
// "Adding a registry keychain". Nothing here logs: credentials never reach a log line.

import { createHash } from "node:crypto";
import { BoundedCache } from "./cache.ts";

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials as a keychain hands them out; `expiresAt` (epoch ms) for short-lived tokens. */
export interface Credential extends Credentials {
  expiresAt?: number;
}

export interface KeychainTarget {
  /** Normalized registry host as in image references (`docker.io`, `localhost:5000`). */
  registry: string;
  repository: string;
}

export interface Keychain {
  /** Credentials for the target, or undefined when this keychain has none for it. */
  resolve(target: KeychainTarget, signal?: AbortSignal): Promise<Credential | undefined>;
}

/** Fixed credentials for every target (the CLI's `--username`, tests). */
export function staticKeychain(credentials: Credentials | undefined): Keychain {
  return { resolve: async () => credentials };
}

/** Keychains asked in order; the first that has credentials for a target answers. */
export function chainKeychains(keychains: readonly (Keychain | undefined)[]): Keychain {
  const present = keychains.filter((k): k is Keychain => k !== undefined);
  if (present.length === 1) return present[0] as Keychain;
  return {
    async resolve(target, signal) {
      for (const keychain of present) {
        const found = await keychain.resolve(target, signal);
        if (found) return found;
      }
      return undefined;
    },
  };
}

export interface CachedKeychainOptions {
  now?: () => number;
  /** Credentials are asked for again this long before they expire (default 5 minutes). */
  refreshBeforeMs?: number;
  maxEntries?: number;
}

/**
 * Reuses a keychain's answers until shortly before their `expiresAt`, one fetch at a time
 * per target. Answers without an expiry (and "none") are not kept: the keychain is asked
 * again on the next call, so a keychain whose source is cheap stays live.
 */
export function cachedKeychain(keychain: Keychain, options: CachedKeychainOptions = {}): Keychain {
  const now = options.now ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  const kept = new BoundedCache<Credential>(options.maxEntries ?? 1024, now);
  const inflight = new Map<string, Promise<Credential | undefined>>();
  return {
    resolve(target, signal) {
      const key = `${target.registry}/${target.repository}`;
      const hit = kept.get(key);
      if (hit) return Promise.resolve(hit);
      const running = inflight.get(key);
      if (running) return running;
      const fetch = keychain.resolve(target, signal).then(
        (credential) => {
          inflight.delete(key);
          if (credential?.expiresAt !== undefined) {
            const lifetime = credential.expiresAt - now();
            kept.set(key, credential, credential.expiresAt - Math.min(refreshBeforeMs, lifetime / 2));
          }
          return credential;
        },
        (err: unknown) => {
          inflight.delete(key);
          throw err;
        },
      );
      inflight.set(key, fetch);
      return fetch;
    },
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
