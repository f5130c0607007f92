// Does the registry trust a CA yet? distribution reads its rootcertbundle only at start-up, so
// the only reliable answer is the registry's own: a token signed by a throw-away leaf of that
// CA either opens a repository (404, it does not exist) or is refused (401).

import type { CertificateWithKey } from "../pki/index.ts";
import { isRegistryError, type RegistryClient, type TokenIssuer } from "../registry/index.ts";
import { selfTokenIssuer } from "./self-issued.ts";
import { createTokenSigner } from "./signer.ts";
import { probeLeaf } from "./signing-keys.ts";
import type { TokenServerSettings } from "./token.ts";

/** A repository nobody pushes to: the probe only needs the registry to accept the token. */
const PROBE_REPOSITORY = "imagestream-operator/token-trust-probe";

export async function registryTrustsCa(
  ca: CertificateWithKey,
  options: {
    /** Normalized host of the integrated registry. */
    registry: string;
    insecure: boolean;
    settings: Pick<TokenServerSettings, "issuer" | "service" | "lifetimeSeconds">;
    /** A registry client of its own (its token cache must not mix with the operator's). */
    createClient: (tokenIssuers: readonly TokenIssuer[]) => RegistryClient;
  },
): Promise<boolean> {
  const signer = createTokenSigner(await probeLeaf(ca, new Date()));
  const client = options.createClient([
    selfTokenIssuer({ registry: options.registry, settings: options.settings, signer: () => signer }),
  ]);
  try {
    await client.listTags(`${options.registry}/${PROBE_REPOSITORY}`, {
      insecure: options.insecure,
      limit: 1,
    });
    return true;
  } catch (err) {
    if (isRegistryError(err) && err.reason === "NotFound") return true;
    if (isRegistryError(err) && (err.reason === "Unauthorized" || err.reason === "Forbidden")) return false;
    throw err;
  } finally {
    await client.close();
  }
}
