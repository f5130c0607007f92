// The token endpoint as a decision: a GET of the realm with `service` and `scope` query
// parameters and Basic credentials (any user name, the Kubernetes bearer token as password)
// becomes a signed token listing exactly the granted actions, or a 4xx/5xx with a message.
// Authentication (TokenReview), authorization (SubjectAccessReview) and stream existence
// are injected, so the HTTP shell only copies the request in and the answer out.

import {
  type AccessCheck,
  anonymousGrant,
  describeCheck,
  type GrantedAccess,
  requiredChecks,
} from "./access.ts";
import { formatScope, parseScopes, type ResourceScope } from "./scope.ts";
import type { TokenClaims } from "./signer.ts";

export interface TokenServerSettings {
  /** `auth.token.issuer` of the registry. */
  issuer: string;
  /** `auth.token.service` of the registry; the token's audience. */
  service: string;
  /** Lifetime of issued tokens. */
  lifetimeSeconds: number;
  /** Clients without credentials may pull `<namespace>/<stream>` repositories. */
  anonymousPull: boolean;
}

/** Who the Kubernetes token belongs to (TokenReview status.user). */
export interface Identity {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface TokenServerDeps {
  /** TokenReview: the identity of a bearer token, or null when the token is not valid. */
  authenticate(token: string): Promise<Identity | null>;
  /** SubjectAccessReview of `identity` for `check`. */
  authorize(identity: Identity, check: AccessCheck): Promise<boolean>;
  streamExists(namespace: string, stream: string): Promise<boolean>;
  sign(claims: TokenClaims): Promise<string>;
  now(): Date;
  /** A unique token ID (`jti`). */
  newTokenId(): string;
}

export interface TokenRequest {
  method: string;
  query: URLSearchParams;
  /** The Authorization header, if any. Its password part is never logged. */
  authorization?: string | undefined;
}

/** What happened, for the shell's log line and metrics (no secret in it). */
export interface TokenOutcome {
  result: "issued" | "unauthenticated" | "bad-request" | "unavailable";
  subject?: string;
  granted: string[];
  denied: string[];
  malformed: string[];
}

export interface TokenResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  outcome: TokenOutcome;
}

export type BasicCredentials = { username: string; password: string };

/** `Basic base64(user:password)`; the password is everything after the first ':'. */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | "none" | "malformed" {
  if (header === undefined || header.trim() === "") return "none";
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!match?.[1]) return "malformed";
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return "malformed";
  const password = decoded.slice(colon + 1);
  if (password === "") return "malformed";
  return { username: decoded.slice(0, colon), password };
}

/** The claims of a token granting `access` to `subject`. */
export function composeClaims(
  settings: Pick<TokenServerSettings, "issuer" | "service" | "lifetimeSeconds">,
  subject: string,
  access: GrantedAccess[],
  now: Date,
  jti: string,
): TokenClaims {
  const iat = Math.floor(now.getTime() / 1000);
  return {
    iss: settings.issuer,
    sub: subject,
    aud: settings.service,
    iat,
    // distribution allows 60s of clock skew on nbf and exp; nbf = iat is enough.
    nbf: iat,
    exp: iat + settings.lifetimeSeconds,
    jti,
    access,
  };
}

/** The JSON body of a token response (both `token` and `access_token`, as clients read either). */
export function tokenResponseBody(token: string, lifetimeSeconds: number, issuedAt: Date): string {
  return JSON.stringify({
    token,
    access_token: token,
    expires_in: lifetimeSeconds,
    issued_at: issuedAt.toISOString(),
  });
}

function errorResponse(status: number, code: string, message: string, outcome: TokenOutcome): TokenResponse {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (status === 401) headers["WWW-Authenticate"] = 'Basic realm="imagestream-operator"';
  return { status, headers, body: JSON.stringify({ errors: [{ code, message }] }), outcome };
}

/** The granted part of `scope` for `identity`. */
async function grantFor(
  scope: ResourceScope,
  identity: Identity,
  deps: TokenServerDeps,
): Promise<{ granted: string[]; denied: string[] }> {
  let streamExists = true;
  if (scope.type === "repository" && scope.actions.includes("push")) {
    const slash = scope.name.indexOf("/");
    streamExists =
      slash > 0 && (await deps.streamExists(scope.name.slice(0, slash), scope.name.slice(slash + 1)));
  }
  const requirements = requiredChecks(scope, streamExists);
  const results = await Promise.all(
    requirements.map(async (r) => {
      if (!r.checks) return { action: r.action, ok: false, why: r.reason ?? "not served" };
      const answers = await Promise.all(r.checks.map((c) => deps.authorize(identity, c)));
      const missing = r.checks.filter((_, i) => !answers[i]);
      return { action: r.action, ok: missing.length === 0, why: missing.map(describeCheck).join(", ") };
    }),
  );
  return {
    granted: results.filter((r) => r.ok).map((r) => r.action),
    denied: results
      .filter((r) => !r.ok)
      .map((r) => `${formatScope({ ...scope, actions: [r.action] })} (${r.why})`),
  };
}

export async function handleTokenRequest(
  request: TokenRequest,
  settings: TokenServerSettings,
  deps: TokenServerDeps,
): Promise<TokenResponse> {
  const { scopes, malformed } = parseScopes(request.query.getAll("scope"));
  const outcome: TokenOutcome = { result: "bad-request", granted: [], denied: [], malformed };
  if (request.method !== "GET") {
    // The OAuth2 POST form (refresh tokens) is not offered; clients fall back to GET.
    return {
      ...errorResponse(405, "UNSUPPORTED", "use GET with Basic credentials", outcome),
      headers: { "Content-Type": "application/json", Allow: "GET" },
    };
  }
  const service = request.query.get("service");
  if (service !== null && service !== settings.service) {
    return errorResponse(
      400,
      "DENIED",
      `unknown service "${service}" (this token server serves "${settings.service}")`,
      outcome,
    );
  }
  const credentials = parseBasicAuthorization(request.authorization);
  if (credentials === "malformed") {
    return errorResponse(401, "UNAUTHORIZED", "credentials must be Basic <user>:<Kubernetes token>", {
      ...outcome,
      result: "unauthenticated",
    });
  }
  let identity: Identity | null = null;
  if (credentials !== "none") {
    try {
      identity = await deps.authenticate(credentials.password);
    } catch {
      return errorResponse(503, "UNAVAILABLE", "the token could not be checked (TokenReview failed); retry", {
        ...outcome,
        result: "unavailable",
      });
    }
    if (!identity) {
      return errorResponse(401, "UNAUTHORIZED", "the Kubernetes token is not valid", {
        ...outcome,
        result: "unauthenticated",
      });
    }
  }

  const access: GrantedAccess[] = [];
  for (const scope of scopes) {
    let granted: string[];
    if (identity) {
      let result: { granted: string[]; denied: string[] };
      try {
        result = await grantFor(scope, identity, deps);
      } catch {
        return errorResponse(
          503,
          "UNAVAILABLE",
          "access could not be checked (SubjectAccessReview failed); retry",
          { ...outcome, result: "unavailable", subject: identity.username },
        );
      }
      granted = result.granted;
      outcome.denied.push(...result.denied);
    } else {
      granted = settings.anonymousPull ? anonymousGrant(scope) : [];
      for (const action of scope.actions) {
        if (!granted.includes(action))
          outcome.denied.push(`${formatScope({ ...scope, actions: [action] })} (anonymous)`);
      }
    }
    if (granted.length > 0) {
      access.push({ type: scope.type, name: scope.name, actions: granted });
      outcome.granted.push(formatScope({ ...scope, actions: granted }));
    }
  }

  const now = deps.now();
  const subject = identity?.username ?? "";
  const token = await deps.sign(composeClaims(settings, subject, access, now, deps.newTokenId()));
  return {
    status: 200,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
    body: tokenResponseBody(token, settings.lifetimeSeconds, now),
    outcome: { ...outcome, result: "issued", ...(identity ? { subject } : {}) },
  };
}
