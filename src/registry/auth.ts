// Authentication decisions and the bearer token cache, pure: the network flow that uses
// them is authenticator.ts.

import { BoundedCache } from "./cache.ts";
import { RegistryError } from "./errors.ts";
import { type Credentials, credentialIdentity } from "./keychain.ts";
import { DOCKER_HUB_API_HOST } from "./reference.ts";

/**
 * Token realms known to belong to the same operator as a registry whose host differs.
 * Docker Hub serves its API on registry-1.docker.io and its tokens on auth.docker.io.
 */
const KNOWN_REALM_HOSTS: Record<string, readonly string[]> = {
  [DOCKER_HUB_API_HOST]: ["auth.docker.io"],
};

export interface RealmDecisionInput {
  /** `host[:port]` the registry API was reached at (the challenge came from this origin). */
  registryHost: string;
  /** The realm URL from the registry's Bearer challenge. */
  realm: string;
  /** The call opted into plain HTTP / unverified TLS for this registry. */
  insecure: boolean;
  /** Operator-configured extra realm hostnames trusted for any registry. */
  trustedRealmHosts?: readonly string[];
}

export type RealmDecision =
  | { fetch: false; why: string }
  | { fetch: true; url: URL; sendCredentials: boolean; why: string };

function hostnameOf(host: string): string {
  return new URL(`http://${host}`).hostname;
}

/**
 * Whether to fetch a token from a realm, and whether the registry's credentials may go there.
 *
 * Credentials were matched to the registry host, so they may only go where that registry's
 * owner already receives them. The realm comes from the registry's own 401 on `/v2/` (the
 * ping never follows redirects to another origin), so it is the registry speaking; but a
 * mirror, a proxy or anyone able to alter an insecure response could name any host.
 * Therefore credentials are sent only when:
 *  - the realm's hostname is the registry's hostname (any port: same machine and owner, as
 *    with registries whose token service listens on a second port), or
 *  - the realm host is known to belong to that registry (Docker Hub: auth.docker.io), or
 *    the operator listed it in `trustedRealmHosts`;
 *  - and the realm is HTTPS, unless the call is insecure (then the registry itself already
 *    receives credentials over plain HTTP, and a same-host realm is no worse).
 * Otherwise the token is requested anonymously: public images still import, and private
 * ones fail with Unauthorized instead of leaking a password to a third party.
 */
export function decideRealm(input: RealmDecisionInput): RealmDecision {
  let url: URL;
  try {
    url = new URL(input.realm);
  } catch {
    return { fetch: false, why: `the token realm "${input.realm}" is not a URL` };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { fetch: false, why: `the token realm "${input.realm}" is not an HTTP(S) URL` };
  }
  if (url.protocol === "http:" && !input.insecure) {
    return {
      fetch: false,
      why: `the token realm "${url.origin}" uses plain HTTP and the image is not marked insecure`,
    };
  }
  if (url.username !== "" || url.password !== "") {
    return { fetch: false, why: "the token realm must not embed credentials" };
  }
  const registryHostname = hostnameOf(input.registryHost);
  const realmHostname = url.hostname;
  const known = KNOWN_REALM_HOSTS[input.registryHost] ?? [];
  const trusted =
    realmHostname === registryHostname ||
    known.includes(realmHostname) ||
    (input.trustedRealmHosts ?? []).includes(realmHostname);
  if (!trusted) {
    return {
      fetch: true,
      url,
      sendCredentials: false,
      why: `realm host "${realmHostname}" is not the registry's`,
    };
  }
  return { fetch: true, url, sendCredentials: true, why: "realm belongs to the registry" };
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64")}`;
}

export interface TokenResponse {
  token: string;
  expiresInSeconds: number;
}

/** The distribution spec's default and minimum token lifetime. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;

export function parseTokenResponse(body: string): TokenResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new RegistryError("BadResponse", "the token service answered with invalid JSON");
  }
  if (typeof parsed !== "object" || parsed === null) {
    throw new RegistryError("BadResponse", "the token service answered with a non-object");
  }
  const p = parsed as { token?: unknown; access_token?: unknown; expires_in?: unknown };
  const token =
    typeof p.token === "string" && p.token !== ""
      ? p.token
      : typeof p.access_token === "string" && p.access_token !== ""
        ? p.access_token
        : undefined;
  if (token === undefined)
    throw new RegistryError("BadResponse", "the token service answered without a token");
  const expires =
    typeof p.expires_in === "number" && Number.isFinite(p.expires_in) && p.expires_in > 0
      ? p.expires_in
      : DEFAULT_TOKEN_LIFETIME_SECONDS;
  return { token, expiresInSeconds: expires };
}

/** A token is reused until its lifetime minus a margin (a quarter, at most 30 s) has passed. */
export function tokenUsableUntil(issuedAtMs: number, expiresInSeconds: number): number {
  const lifetimeMs = expiresInSeconds * 1000;
  return issuedAtMs + lifetimeMs - Math.min(30_000, lifetimeMs / 4);
}

export function tokenCacheKey(
  registryHost: string,
  scope: string,
  credentials: Credentials | undefined,
): string {
  return `${registryHost}|${scope}|${credentialIdentity(credentials)}`;
}

/** Bearer tokens per (registry, scope, credential identity), dropped at expiry. */
export class TokenCache {
  readonly #entries: BoundedCache<string>;
  readonly #now: () => number;

  constructor(now: () => number = Date.now, maxEntries = 4096) {
    this.#now = now;
    this.#entries = new BoundedCache(maxEntries, now);
  }

  get(key: string): string | undefined {
    return this.#entries.get(key);
  }

  set(key: string, response: TokenResponse): void {
    this.#entries.set(key, response.token, tokenUsableUntil(this.#now(), response.expiresInSeconds));
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
