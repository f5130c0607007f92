// Registries whose bearer tokens this process signs itself: the integrated registry trusts the
// operator's signing certificate, so the operator's own reads of it (re-resolving a pushed
// tag, catching up after missed notifications) carry a token it issues, instead of a round
// trip through the token realm with credentials it does not have. Asked only when the
// registry challenges for a bearer token; a registry no issuer serves goes to its realm.

import type { TokenResponse } from "./auth.ts";

export interface TokenIssuerTarget {
  /** Normalized registry host, as in image references (`127.0.0.1:5000`). */
  registry: string;
  /** The resource scope the request needs, e.g. `repository:team/app:pull`. */
  scope: string;
  /** The `service` of the registry's Bearer challenge, if it named one. */
  service: string | undefined;
}

export interface TokenIssuer {
  /** A token for `target`, or undefined when this issuer does not serve that registry. */
  issue(target: TokenIssuerTarget, signal?: AbortSignal): Promise<TokenResponse | undefined>;
}
