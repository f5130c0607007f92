// The token signing key and the trust the registry needs, as decisions over plain data.
//
// distribution reads `auth.token.rootcertbundle` once, at start-up. So the bundle holds a
// long-lived CA (10 years), and tokens are signed with a short-lived leaf (30 days) that the
// CA issues and every token carries in its `x5c` header: distribution verifies that chain
// against the bundle, so leaves rotate without touching the registry. Only the CA's own
// rotation needs the registry to read the bundle again:
//   1. a year before the CA expires, a next CA is created and published beside it;
//   2. tokens keep coming from the current CA until a probe shows the registry trusts the
//      next one (it restarted since: an upgrade, a node drain, `kubectl rollout restart`),
//      then the next CA becomes the current one; 30 days before expiry this happens anyway;
//   3. the retired CA stays in the bundle until it expires (its key is gone), so tokens other
//      replicas signed a moment before the switch still verify.

import {
  type CertificateWithKey,
  certificateInfo,
  createCertificateAuthority,
  issueCertificate,
  matchesPrivateKey,
  mergeCaBundle,
  type RenewalPolicy,
  rotationDecision,
} from "../pki/index.ts";

/** Keys of the signing Secret's data. */
export const SIGNING_SECRET_KEYS = {
  caCertificate: "ca.crt",
  caKey: "ca.key",
  certificate: "tls.crt",
  key: "tls.key",
  nextCaCertificate: "next-ca.crt",
  nextCaKey: "next-ca.key",
  retiredCaCertificate: "retired-ca.crt",
} as const;

/** Key of the published ConfigMap: the registry's `rootcertbundle`. */
export const TRUST_BUNDLE_KEY = "ca.crt";

export interface SigningMaterial {
  /** The CA that issues the current leaf; in the registry's bundle. */
  ca: CertificateWithKey;
  /** The certificate and key tokens are signed with. */
  leaf: CertificateWithKey;
  /** Published ahead of the current CA's expiry, not yet signing. */
  nextCa?: CertificateWithKey;
  /** The CA before the last promotion (certificate only), trusted until it expires. */
  retiredCaPem?: string;
}

export interface SigningPolicy {
  caLifetimeMs: number;
  leafLifetimeMs: number;
  /** When the leaf is renewed. */
  leafRenewal: RenewalPolicy;
  /** The next CA is published this long before the current one expires. */
  publishNextCaBeforeMs: number;
  /** The next CA signs from this long before the current one expires, trusted or not. */
  forcePromotionBeforeMs: number;
}

const DAY = 86_400_000;

export const DEFAULT_SIGNING_POLICY: Readonly<SigningPolicy> = Object.freeze({
  caLifetimeMs: 3650 * DAY,
  leafLifetimeMs: 30 * DAY,
  leafRenewal: { renewBeforeFraction: 1 / 3 },
  publishNextCaBeforeMs: 365 * DAY,
  forcePromotionBeforeMs: 30 * DAY,
});

export const CA_COMMON_NAME = "imagestream-operator registry token CA";
export const LEAF_COMMON_NAME = "imagestream-operator registry token signer";

/** The material stored in a Secret's (decoded) data, or why it cannot be used. */
export function readSigningMaterial(
  data: Readonly<Record<string, string>> | undefined,
): { ok: true; material: SigningMaterial } | { ok: false; problem: string } {
  const k = SIGNING_SECRET_KEYS;
  const get = (key: string) => (data?.[key]?.trim() ? data[key] : undefined);
  const caPem = get(k.caCertificate);
  const caKey = get(k.caKey);
  const leafPem = get(k.certificate);
  const leafKey = get(k.key);
  if (!caPem || !caKey || !leafPem || !leafKey) {
    const missing = [k.caCertificate, k.caKey, k.certificate, k.key].filter((key) => !get(key));
    return { ok: false, problem: `missing ${missing.join(", ")}` };
  }
  try {
    if (!matchesPrivateKey(caPem, caKey))
      return { ok: false, problem: `${k.caKey} does not match ${k.caCertificate}` };
    if (!matchesPrivateKey(leafPem, leafKey))
      return { ok: false, problem: `${k.key} does not match ${k.certificate}` };
    const material: SigningMaterial = {
      ca: { certificatePem: caPem, privateKeyPem: caKey },
      leaf: { certificatePem: leafPem, privateKeyPem: leafKey },
    };
    const nextPem = get(k.nextCaCertificate);
    const nextKey = get(k.nextCaKey);
    if (nextPem && nextKey && matchesPrivateKey(nextPem, nextKey)) {
      material.nextCa = { certificatePem: nextPem, privateKeyPem: nextKey };
    }
    const retired = get(k.retiredCaCertificate);
    if (retired) {
      certificateInfo(retired);
      material.retiredCaPem = retired;
    }
    return { ok: true, material };
  } catch (error) {
    return { ok: false, problem: `unreadable: ${(error as Error).message}` };
  }
}

/** The Secret data (strings, before base64) holding `material`. */
export function signingMaterialData(material: SigningMaterial): Record<string, string> {
  const k = SIGNING_SECRET_KEYS;
  const data: Record<string, string> = {
    [k.caCertificate]: material.ca.certificatePem,
    [k.caKey]: material.ca.privateKeyPem,
    [k.certificate]: material.leaf.certificatePem,
    [k.key]: material.leaf.privateKeyPem,
  };
  if (material.nextCa) {
    data[k.nextCaCertificate] = material.nextCa.certificatePem;
    data[k.nextCaKey] = material.nextCa.privateKeyPem;
  }
  if (material.retiredCaPem) data[k.retiredCaCertificate] = material.retiredCaPem;
  return data;
}

/**
 * What the registry's `rootcertbundle` must hold for `material` at `now`: the next CA, the
 * current one and the retired one while it is valid. Derived from the Secret only, so CAs of
 * a lost key never stay trusted.
 */
export function trustBundle(material: SigningMaterial, now: Date): string {
  return mergeCaBundle(
    [material.nextCa?.certificatePem, material.ca.certificatePem, material.retiredCaPem],
    now,
  );
}

export type SigningChange =
  | "Created"
  | "LeafRenewed"
  | "NextCaPublished"
  | "Promoted"
  | "PromotedUntrusted"
  | "RetiredCaExpired";

async function newCa(now: Date, policy: SigningPolicy): Promise<CertificateWithKey> {
  return createCertificateAuthority({ commonName: CA_COMMON_NAME, now, lifetimeMs: policy.caLifetimeMs });
}

async function newLeaf(
  ca: CertificateWithKey,
  now: Date,
  policy: SigningPolicy,
): Promise<CertificateWithKey> {
  // A leaf never outlives its CA: the chain would stop verifying first.
  const caLeft = certificateInfo(ca.certificatePem).notAfter.getTime() - now.getTime();
  return issueCertificate(ca, {
    commonName: LEAF_COMMON_NAME,
    usage: "signing",
    now,
    lifetimeMs: Math.max(60_000, Math.min(policy.leafLifetimeMs, caLeft)),
  });
}

function expiresWithin(pem: string, now: Date, ms: number): boolean {
  return certificateInfo(pem).notAfter.getTime() - now.getTime() <= ms;
}

/**
 * The material at `now`: created when there is none, the leaf renewed when due, the next CA
 * published when the current one nears its end, and promoted once `registryTrustsNext` (or
 * when the current CA is about to expire). `changes` is empty when nothing needs writing.
 */
export async function nextSigningMaterial(
  current: SigningMaterial | undefined,
  input: { now: Date; registryTrustsNext: boolean; policy?: SigningPolicy },
): Promise<{ material: SigningMaterial; changes: SigningChange[] }> {
  const { now } = input;
  const policy = input.policy ?? DEFAULT_SIGNING_POLICY;
  if (!current) {
    const ca = await newCa(now, policy);
    return { material: { ca, leaf: await newLeaf(ca, now, policy) }, changes: ["Created"] };
  }
  const changes: SigningChange[] = [];
  let material: SigningMaterial = { ...current };
  if (material.nextCa) {
    const forced = expiresWithin(material.ca.certificatePem, now, policy.forcePromotionBeforeMs);
    if (input.registryTrustsNext || forced) {
      const { nextCa, ...rest } = material;
      material = { ...rest, ca: nextCa, retiredCaPem: material.ca.certificatePem };
      material.leaf = await newLeaf(nextCa, now, policy);
      changes.push(input.registryTrustsNext ? "Promoted" : "PromotedUntrusted");
    }
  } else if (expiresWithin(material.ca.certificatePem, now, policy.publishNextCaBeforeMs)) {
    material.nextCa = await newCa(now, policy);
    changes.push("NextCaPublished");
  }
  if (material.retiredCaPem && expiresWithin(material.retiredCaPem, now, 0)) {
    const { retiredCaPem: _expired, ...rest } = material;
    material = rest;
    changes.push("RetiredCaExpired");
  }
  if (!changes.includes("Promoted") && !changes.includes("PromotedUntrusted")) {
    const due = rotationDecision(material.leaf.certificatePem, now, policy.leafRenewal, {
      issuerPem: material.ca.certificatePem,
      privateKeyPem: material.leaf.privateKeyPem,
    });
    if (due.rotate) {
      material.leaf = await newLeaf(material.ca, now, policy);
      changes.push("LeafRenewed");
    }
  }
  return { material, changes };
}

/** A throw-away leaf of the next CA, to ask the registry whether it trusts that CA yet. */
export function probeLeaf(nextCa: CertificateWithKey, now: Date): Promise<CertificateWithKey> {
  return newLeaf(nextCa, now, { ...DEFAULT_SIGNING_POLICY, leafLifetimeMs: 10 * 60_000 });
}
