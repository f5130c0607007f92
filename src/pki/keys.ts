// Key pairs as PEM (PKCS#8 private key, SPKI public key). Node generates them; the
// certificate code converts them to WebCrypto keys where @peculiar/x509 needs those.

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateNodeKeyPair,
  type KeyObject,
} from "node:crypto";

/** ECDSA P-256 is the default: fast to generate, small, accepted by Go TLS and distribution's libtrust. */
export type KeyAlgorithm = "ECDSA-P256" | "RSA-2048" | "RSA-3072";

export interface KeyPair {
  algorithm: KeyAlgorithm;
  /** PKCS#8 `PRIVATE KEY` PEM. */
  privateKeyPem: string;
  /** SPKI `PUBLIC KEY` PEM. */
  publicKeyPem: string;
}

export async function generateKeyPair(algorithm: KeyAlgorithm = "ECDSA-P256"): Promise<KeyPair> {
  const encoding = {
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  } as const;
  const { privateKey, publicKey } = await new Promise<{ privateKey: string; publicKey: string }>(
    (resolve, reject) => {
      const done = (error: Error | null, publicKey: string, privateKey: string) =>
        error ? reject(error) : resolve({ privateKey, publicKey });
      if (algorithm === "ECDSA-P256")
        generateNodeKeyPair("ec", { namedCurve: "prime256v1", ...encoding }, done);
      else
        generateNodeKeyPair(
          "rsa",
          { modulusLength: algorithm === "RSA-2048" ? 2048 : 3072, ...encoding },
          done,
        );
    },
  );
  return { algorithm, privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** The algorithm of a private or public key (PEM), or an error naming what it is instead. */
export function keyAlgorithmOf(keyPem: string | KeyObject): KeyAlgorithm {
  const key =
    typeof keyPem === "string"
      ? keyPem.includes("PRIVATE KEY")
        ? createPrivateKey(keyPem)
        : createPublicKey(keyPem)
      : keyPem;
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "ec" && details?.namedCurve === "prime256v1") return "ECDSA-P256";
  if (key.asymmetricKeyType === "rsa" && details?.modulusLength === 2048) return "RSA-2048";
  if (key.asymmetricKeyType === "rsa" && details?.modulusLength === 3072) return "RSA-3072";
  const what =
    key.asymmetricKeyType === "ec"
      ? `ec ${details?.namedCurve}`
      : `${key.asymmetricKeyType} ${details?.modulusLength ?? ""}`;
  throw new Error(`unsupported key type ${what.trim()} (ECDSA P-256 or RSA 2048/3072)`);
}

/** The SPKI public key PEM of a private key PEM. */
export function publicKeyOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: "spki", format: "pem" }).toString();
}
