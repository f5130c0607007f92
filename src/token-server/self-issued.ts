// The operator's own tokens for the integrated registry. It reads the registry itself (the tag
// a notification names, the tags catch-up compares) and holds the signing key the registry
// trusts, so it signs a pull token for exactly the repository it reads instead of asking its
// own realm. Nothing but pull is ever issued this way, and never to anyone else.

import { randomUUID } from "node:crypto";
import { RegistryError, type TokenIssuer } from "../registry/index.ts";
import { parseScopes } from "./scope.ts";
import type { TokenSigner } from "./signer.ts";
import { composeClaims, type TokenServerSettings } from "./token.ts";

/** The subject of the operator's own tokens (in the registry's access log). */
export const OPERATOR_SUBJECT = "system:imagestream-operator";

export function selfTokenIssuer(options: {
  /** Normalized host of the integrated registry, as image references name it. */
  registry: string;
  settings: Pick<TokenServerSettings, "issuer" | "service" | "lifetimeSeconds">;
  signer: () => TokenSigner | undefined;
  now?: () => Date;
}): TokenIssuer {
  const now = options.now ?? (() => new Date());
  return {
    async issue(target) {
      if (target.registry !== options.registry) return undefined;
      const signer = options.signer();
      if (!signer)
        throw new RegistryError("ServiceUnavailable", "the registry token signing keys are not loaded yet");
      const access = parseScopes([target.scope])
        .scopes.filter((s) => s.type === "repository" && s.actions.includes("pull"))
        .map((s) => ({ type: s.type, name: s.name, actions: ["pull"] }));
      const issuedAt = now();
      const claims = composeClaims(options.settings, OPERATOR_SUBJECT, access, issuedAt, randomUUID());
      return { token: await signer.sign(claims), expiresInSeconds: options.settings.lifetimeSeconds };
    },
  };
}
