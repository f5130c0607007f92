// A loopback HTTPS token realm built from src/token-server, for tests that run a real
// distribution registry with `auth.token`: the core answers, the test supplies who may do
// what. Also the trust a client needs for both the registry and the realm.

import { randomUUID } from "node:crypto";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CertificateWithKey,
  createCertificateAuthority,
  createSigningCertificate,
  issueCertificate,
} from "../../src/pki/index.ts";
import {
  createTokenSigner,
  handleTokenRequest,
  type TokenClaims,
  type TokenServerDeps,
  type TokenServerSettings,
} from "../../src/token-server/index.ts";
import type { LaunchedRegistry } from "../harness/registry.ts";

const DAY = 86_400_000;

export interface TokenRealm {
  /** `https://127.0.0.1:PORT<path>`: the registry's `auth.token.realm`. */
  url: string;
  /** The realm's TLS CA. */
  caPem: string;
  /** The signing certificate and key: the certificate is the registry's `rootcertbundle`. */
  signing: CertificateWithKey;
  stop(): Promise<void>;
}

export async function startTokenRealm(opts: {
  path: string;
  /** Read per request, so a test may fill it in after the realm starts. */
  settings: () => TokenServerSettings;
  deps: Pick<TokenServerDeps, "authenticate" | "authorize" | "streamExists">;
  onSign?: (claims: TokenClaims) => void;
}): Promise<TokenRealm> {
  const signing = await createSigningCertificate({
    commonName: "imagestream-operator token signer",
    lifetimeMs: DAY,
  });
  const signer = createTokenSigner(signing);
  const ca = await createCertificateAuthority({ commonName: "token-realm-test-ca", lifetimeMs: DAY });
  const tls = await issueCertificate(ca, {
    commonName: "127.0.0.1",
    ipAddresses: ["127.0.0.1"],
    usage: "server",
    lifetimeMs: DAY,
  });
  const server = createServer({ cert: tls.certificatePem, key: tls.privateKeyPem }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    if (url.pathname !== opts.path) {
      res.writeHead(404).end();
      return;
    }
    void handleTokenRequest(
      { method: req.method ?? "GET", query: url.searchParams, authorization: req.headers.authorization },
      opts.settings(),
      {
        ...opts.deps,
        sign: async (claims) => {
          opts.onSign?.(claims);
          return signer.sign(claims);
        },
        now: () => new Date(),
        newTokenId: () => randomUUID(),
      },
    ).then((answer) => res.writeHead(answer.status, answer.headers).end(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}${opts.path}`,
    caPem: ca.certificatePem,
    signing,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a client trusts to reach both: a PEM bundle (harness client) and a --cert-dir (skopeo). */
export async function clientTrust(
  registry: LaunchedRegistry,
  realm: TokenRealm,
): Promise<{ pem: string; dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "isop-token-trust-"));
  await copyFile(registry.caFile ?? "", join(dir, "registry-ca.crt"));
  await writeFile(join(dir, "token-ca.crt"), realm.caPem);
  return {
    pem: `${registry.caPem ?? ""}${realm.caPem}`,
    dir,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
