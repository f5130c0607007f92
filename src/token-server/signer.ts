// Signs registry tokens with jose (JWS compact form). The header carries both ways
// distribution 2.8 finds the verification key: `x5c` (the signing certificate, verified
// against `rootcertbundle`) and `kid` (the libtrust key ID of that certificate's key, looked
// up among the bundle's keys). The key never leaves the operator.

import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import { SignJWT } from "jose";
import type { GrantedAccess } from "./access.ts";

/** The claims distribution reads (registry/auth/token ClaimSet). */
export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: GrantedAccess[];
}

export interface TokenSigner {
  /** ES256 (ECDSA P-256 key) or RS256 (RSA key). */
  readonly algorithm: "ES256" | "RS256";
  /** libtrust key ID of the signing key. */
  readonly keyId: string;
  sign(claims: TokenClaims): Promise<string>;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * libtrust's key ID (docker/libtrust keyIDFromCryptoKey): SHA-256 of the DER SubjectPublicKeyInfo,
 * truncated to 240 bits, base32 in 12 groups of 4 separated by ':'.
 */
export function libtrustKeyId(publicKey: KeyObject | string): string {
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  const der = key.export({ type: "spki", format: "der" });
  const encoded = base32(createHash("sha256").update(der).digest().subarray(0, 30));
  return encoded.match(/.{4}/g)?.join(":") ?? encoded;
}

export function createTokenSigner(signing: { certificatePem: string; privateKeyPem: string }): TokenSigner {
  const certificate = new X509Certificate(signing.certificatePem);
  const privateKey = createPrivateKey(signing.privateKeyPem);
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error("the token signing key does not belong to the signing certificate");
  }
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  let algorithm: "ES256" | "RS256";
  if (type === "ec" && curve === "prime256v1") algorithm = "ES256";
  else if (type === "rsa") algorithm = "RS256";
  else throw new Error(`token signing key must be ECDSA P-256 or RSA, not ${type} ${curve ?? ""}`.trim());
  const keyId = libtrustKeyId(certificate.publicKey);
  const x5c = [certificate.raw.toString("base64")];
  return {
    algorithm,
    keyId,
    sign: (claims) =>
      new SignJWT({ ...claims })
        .setProtectedHeader({ alg: algorithm, typ: "JWT", kid: keyId, x5c })
        .sign(privateKey),
  };
}
