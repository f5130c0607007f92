// The registry's token realm as an HTTP route: the request goes to the core
// (handleTokenRequest) with TokenReview of the presented Kubernetes token and
// SubjectAccessReviews as its user; the answer comes back as is. Any replica answers: the
// decision needs only the API server and the signing key every replica holds.

import type { TokenAuthenticator, UserAccessReview } from "../access/index.ts";
import { headerValue, type Route } from "../http/index.ts";
import type { Logger } from "../log/index.ts";
import type { TokenSigner } from "./signer.ts";
import { handleTokenRequest, type Identity, type TokenOutcome, type TokenServerSettings } from "./token.ts";

export const TOKEN_PATH = "/registry/token";

export interface TokenEndpointOptions {
  settings: TokenServerSettings;
  /** The current signer; undefined until the signing keys are loaded (503 meanwhile). */
  signer: () => TokenSigner | undefined;
  authenticate: TokenAuthenticator;
  authorize: UserAccessReview;
  /** From the cache: a push to a stream that does not exist also needs `create imagestreams`. */
  streamExists: (namespace: string, name: string) => boolean;
  log: Logger;
  onOutcome?: (outcome: TokenOutcome) => void;
  newTokenId: () => string;
}

export function tokenRoute(options: TokenEndpointOptions): Route {
  const { log } = options;
  return {
    name: "registry-token",
    methods: ["GET"],
    path: TOKEN_PATH,
    maxBodyBytes: 0,
    async handle(req) {
      const signer = options.signer();
      if (!signer) {
        return {
          status: 503,
          headers: { "retry-after": "5" },
          body: {
            errors: [{ code: "UNAVAILABLE", message: "the token signing keys are not loaded yet; retry" }],
          },
        };
      }
      const answer = await handleTokenRequest(
        { method: req.method, query: req.query, authorization: headerValue(req.headers, "authorization") },
        options.settings,
        {
          authenticate: async (token) => {
            const user = await options.authenticate(token);
            if (!user) return null;
            const identity: Identity = { username: user.username, groups: [...user.groups] };
            if (user.uid) identity.uid = user.uid;
            if (Object.keys(user.extra).length > 0) {
              identity.extra = Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]]));
            }
            return identity;
          },
          authorize: (identity, check) =>
            options.authorize({ ...identity, extra: identity.extra ?? {} }, check),
          streamExists: async (namespace, name) => options.streamExists(namespace, name),
          sign: (claims) => signer.sign(claims),
          now: () => new Date(),
          newTokenId: options.newTokenId,
        },
      );
      const { outcome } = answer;
      options.onOutcome?.(outcome);
      // Never the token or the password: who, what was granted, what was not and why. A user
      // refused something is told so at info (their push then fails with the registry's 401).
      const refusedUser = outcome.subject !== undefined && outcome.denied.length > 0;
      log[refusedUser ? "info" : "debug"](
        {
          result: outcome.result,
          subject: outcome.subject ?? "anonymous",
          granted: outcome.granted,
          denied: outcome.denied,
          ...(outcome.malformed.length > 0 ? { malformed: outcome.malformed } : {}),
        },
        refusedUser ? "registry token request partly refused" : "registry token request",
      );
      const headers = Object.fromEntries(
        Object.entries(answer.headers).map(([k, v]) => [k.toLowerCase(), v]),
      );
      return { status: answer.status, headers, body: answer.body };
    },
  };
}
