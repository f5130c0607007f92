// A minimal Docker registry token server (the "realm" of Bearer auth): checks Basic
// credentials and issues RS256 JWTs granting the requested scopes. The registry trusts the
// signing certificate, which travels in the JWT header as `x5c`.
import { createSign, randomBytes, timingSafeEqual, X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";

export interface TokenServerOptions {
  /** TLS serving cert/key for https://127.0.0.1. */
  tlsCertPem: string;
  tlsKeyPem: string;
  /** Token signing key and its self-signed certificate (the registry's rootcertbundle). */
  signingKeyPem: string;
  signingCertPem: string;
  issuer: string;
  username: string;
  password: string;
  tokenLifetimeSeconds?: number;
}

export interface TokenServer {
  realm: string;
  /** Number of tokens issued, so tests can tell that the flow really ran. */
  issued(): number;
  stop(): Promise<void>;
}

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/** Parses a registry scope such as `repository:team/app:pull,push` (names never contain ':' here). */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first <= 0 || last === first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter((a) => a !== "");
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString("base64url");

export function signJwt(header: object, claims: object, keyPem: string): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign("RSA-SHA256").update(signingInput).sign(keyPem);
  return `${signingInput}.${base64url(signature)}`;
}

function credentialsMatch(header: string | undefined, username: string, password: string): boolean {
  if (!header?.startsWith("Basic ")) return false;
  const given = Buffer.from(header.slice("Basic ".length), "base64");
  const expected = Buffer.from(`${username}:${password}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const certDer = new X509Certificate(opts.signingCertPem).raw.toString("base64");
  const lifetime = opts.tokenLifetimeSeconds ?? 300;
  let issued = 0;
  const server: Server = createServer({ cert: opts.tlsCertPem, key: opts.tlsKeyPem }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    if (req.method !== "GET" || url.pathname !== "/token") {
      res.writeHead(404).end();
      return;
    }
    if (!credentialsMatch(req.headers.authorization, opts.username, opts.password)) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="token"', "Content-Type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "invalid credentials" }] }));
      return;
    }
    const access = url.searchParams
      .getAll("scope")
      .flatMap((s) => s.split(" "))
      .map(parseScope)
      .filter((a): a is AccessEntry => a !== undefined);
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      { typ: "JWT", alg: "RS256", x5c: [certDer] },
      {
        iss: opts.issuer,
        sub: opts.username,
        aud: url.searchParams.get("service") ?? "",
        iat: now,
        nbf: now - 30,
        exp: now + lifetime,
        jti: randomBytes(12).toString("hex"),
        access,
      },
      opts.signingKeyPem,
    );
    issued++;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: lifetime,
        issued_at: new Date(now * 1000).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    realm: `https://127.0.0.1:${port}/token`,
    issued: () => issued,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
