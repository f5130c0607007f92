// The auth layer: the registry's `/v2/` ping (which scheme answers, which challenges it
// sends), bearer tokens per scope and basic auth, with the credentials a keychain gave the
// call. With credentials, a 401 is retried anonymously, as OpenShift does; a cached token
// that stops working is refreshed once first.

import { basicAuthorization, decideRealm, parseTokenResponse, TokenCache, tokenCacheKey } from "./auth.ts";
import { SharedFetches } from "./cache.ts";
import { type Challenge, parseWwwAuthenticate } from "./challenge.ts";
import { errorForTransport, RegistryError } from "./errors.ts";
import { type CallScope, type Exchange, type RequestKind, sameOrigin } from "./exchange.ts";
import type { Credentials } from "./keychain.ts";
import { apiHost } from "./reference.ts";
import type { TokenIssuer } from "./token-issuer.ts";
import type { HttpMethod, HttpResponse } from "./transport.ts";

/** A call on one repository with the credentials its keychains gave (undefined: anonymous). */
export interface AuthScope extends CallScope {
  repository: string;
  credentials: Credentials | undefined;
}

export interface Endpoint {
  /** `https://host:port` or `http://host:port` */
  origin: string;
  /** host[:port] used for requests (Docker Hub's API host for docker.io). */
  host: string;
  challenges: Challenge[];
}

export interface AuthenticatorOptions {
  exchange: Exchange;
  now: () => number;
  /** How long a registry's `/v2/` challenge is reused. */
  pingTtlMs: number;
  maxTokenBytes: number;
  /** Token realm hostnames trusted with any registry's credentials (see decideRealm). */
  trustedRealmHosts: readonly string[];
  /** Registries whose tokens this process signs itself (the integrated registry). */
  tokenIssuers?: readonly TokenIssuer[];
}

export class Authenticator {
  readonly #options: AuthenticatorOptions;
  readonly #exchange: Exchange;
  readonly #tokens: TokenCache;
  readonly #endpoints: SharedFetches<Endpoint>;
  readonly #tokenFetches: SharedFetches<string>;
  // Credentials the registry refused for a scope: skipped for a minute so that every request
  // of an import does not repeat the failing attempt before going anonymous.
  readonly #refused: SharedFetches<true>;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
    this.#exchange = options.exchange;
    const now = options.now;
    this.#tokens = new TokenCache(now);
    this.#endpoints = new SharedFetches({ ttlMs: options.pingTtlMs, now });
    this.#tokenFetches = new SharedFetches({ ttlMs: 0, now });
    this.#refused = new SharedFetches({ ttlMs: 60_000, now });
  }

  /** `GET /v2/`: which scheme answers (insecure calls: HTTPS unverified, then HTTP) and its challenges. */
  endpoint(scope: CallScope): Promise<Endpoint> {
    const host = scope.endpoint ?? apiHost(scope.registry);
    return this.#endpoints.get(`${host}|${scope.insecure}`, async () => {
      const schemes = scope.insecure ? ["https", "http"] : ["https"];
      let lastError: unknown;
      for (const scheme of schemes) {
        const origin = `${scheme}://${host}`;
        let res: HttpResponse;
        try {
          // Not following redirects: a challenge must come from the registry's own origin.
          res = await this.#exchange.send(scope, "ping", "GET", `${origin}/v2/`, {});
        } catch (err) {
          lastError = err;
          continue;
        }
        if (res.status === 401) {
          const challenges = parseWwwAuthenticate(res.headers["www-authenticate"]);
          await res.discard();
          return { origin, host, challenges };
        }
        if ((res.status >= 200 && res.status < 400) || res.status === 404) {
          await res.discard();
          return { origin, host, challenges: [] };
        }
        throw await this.#exchange.failure(scope, res, scope.registry);
      }
      throw lastError instanceof RegistryError ? lastError : errorForTransport(lastError, scope.registry);
    });
  }

  async #bearerToken(
    scope: AuthScope,
    ep: Endpoint,
    challenge: Challenge,
    credentials: Credentials | undefined,
    resourceScope: string,
  ): Promise<{ token: string; key: string }> {
    const issued = await this.#issuedToken(scope, ep, challenge, resourceScope);
    if (issued) return issued;
    const decision = decideRealm({
      registryHost: ep.host,
      realm: challenge.params.realm ?? "",
      insecure: scope.insecure,
      trustedRealmHosts: this.#options.trustedRealmHosts,
    });
    if (!decision.fetch)
      throw new RegistryError("BadResponse", `registry "${scope.registry}": ${decision.why}`);
    const sent = decision.sendCredentials ? credentials : undefined;
    const key = tokenCacheKey(ep.host, resourceScope, sent);
    const cached = this.#tokens.get(key);
    if (cached !== undefined) return { token: cached, key };
    const token = await this.#tokenFetches.get(key, async () => {
      const url = new URL(decision.url);
      if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
      url.searchParams.set("scope", resourceScope);
      const authorization = sent ? basicAuthorization(sent) : undefined;
      const { res } = await this.#exchange.follow(scope, "token", "GET", url.toString(), {}, authorization);
      if (res.status !== 200) throw await this.#exchange.failure(scope, res);
      const body = await this.#exchange.read(scope, res, this.#options.maxTokenBytes, "the token response");
      const response = parseTokenResponse(body.toString("utf8"));
      this.#tokens.set(key, response);
      return response.token;
    });
    return { token, key };
  }

  /** A token one of the issuers signs for this registry, cached like a realm's. */
  async #issuedToken(
    scope: AuthScope,
    ep: Endpoint,
    challenge: Challenge,
    resourceScope: string,
  ): Promise<{ token: string; key: string } | undefined> {
    const issuers = this.#options.tokenIssuers ?? [];
    if (issuers.length === 0) return undefined;
    const key = `${ep.host}|${resourceScope}|issued`;
    const cached = this.#tokens.get(key);
    if (cached !== undefined) return { token: cached, key };
    const token = await this.#tokenFetches.get(key, async () => {
      const target = { registry: scope.registry, scope: resourceScope, service: challenge.params.service };
      for (const issuer of issuers) {
        const response = await issuer.issue(target, scope.signal);
        if (response) {
          this.#tokens.set(key, response);
          return response.token;
        }
      }
      return "";
    });
    return token === "" ? undefined : { token, key };
  }

  /** A request for a repository resource with the registry's auth scheme. */
  async request(
    scope: AuthScope,
    kind: RequestKind,
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
  ): Promise<HttpResponse> {
    const ep = await this.endpoint(scope);
    let challenges = ep.challenges;
    const resourceScope = `repository:${scope.repository}:pull`;
    const refusedKey = tokenCacheKey(ep.host, resourceScope, scope.credentials);
    const useCredentials = scope.credentials !== undefined && this.#refused.peek(refusedKey) === undefined;
    const identities = useCredentials ? [scope.credentials, undefined] : [undefined];
    let lastUnauthorized: RegistryError | undefined;
    for (const identity of identities) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const bearer = challenges.find((c) => c.scheme === "bearer");
        const basic = challenges.find((c) => c.scheme === "basic");
        let authorization: string | undefined;
        let tokenKey: string | undefined;
        let fromCache = false;
        try {
          if (bearer) {
            fromCache = this.#tokens.get(tokenCacheKey(ep.host, resourceScope, identity)) !== undefined;
            const t = await this.#bearerToken(scope, ep, bearer, identity, resourceScope);
            authorization = `Bearer ${t.token}`;
            tokenKey = t.key;
          } else if (basic && identity) {
            authorization = basicAuthorization(identity);
          }
        } catch (err) {
          if (err instanceof RegistryError && (err.reason === "Unauthorized" || err.reason === "Forbidden")) {
            lastUnauthorized = err;
            if (identity) this.#refused.remember(refusedKey, true);
            break; // these credentials cannot get a token: try the next identity
          }
          throw err;
        }
        const { res, url: finalUrl } = await this.#exchange.follow(
          scope,
          kind,
          method,
          url,
          headers,
          authorization,
        );
        if (res.status !== 401) return res;
        const fresh = sameOrigin(finalUrl, ep.origin)
          ? parseWwwAuthenticate(res.headers["www-authenticate"])
          : [];
        lastUnauthorized = await this.#exchange.failure(scope, res);
        if (tokenKey !== undefined) this.#tokens.delete(tokenKey);
        // The ping needed no auth but the repository does: use the resource's own challenge.
        if (challenges.length === 0 && fresh.length > 0) {
          challenges = fresh;
          continue;
        }
        if (!fromCache) {
          if (identity) this.#refused.remember(refusedKey, true);
          break;
        }
      }
    }
    throw (
      lastUnauthorized ??
      new RegistryError("Unauthorized", `you may not have access to the container image "${scope.subject}"`)
    );
  }
}
