// When to replace a certificate, as pure decisions over PEM and a time: renew well before
// expiry (a fraction of the lifetime, like cert-manager's default of the last third), or at
// once when it is missing, unreadable, expired, not yet valid, from another issuer, for
// other names or for another key. CA rotation without dropping requests is a sequence
// the caller runs over these primitives:
//   1. create the new CA; publish mergeCaBundle([newCa, oldBundle]) wherever clients read
//      the bundle (webhook caBundle, registry rootcertbundle), so both CAs are trusted;
//   2. once that bundle is in place, issue the leaf from the new CA and serve it;
//   3. drop the old CA from the bundle when it expires (mergeCaBundle does) or when no
//      leaf it issued is served any more.

import { createPrivateKey, X509Certificate } from "node:crypto";
import { type CertificateInfo, canonicalIp, certificateInfo, type Validity } from "./certificates.ts";
import { splitCertificates } from "./pem.ts";

export interface RenewalPolicy {
  /** Renew when less than this fraction of the lifetime remains (0 < f < 1). */
  renewBeforeFraction: number;
  /** Renew at least this long before expiry, whatever the fraction gives. */
  renewBeforeMs?: number;
}

export const DEFAULT_RENEWAL_POLICY: Readonly<RenewalPolicy> = Object.freeze({ renewBeforeFraction: 1 / 3 });

export type RotationReason =
  | "Missing"
  | "Unreadable"
  | "Expired"
  | "NotYetValid"
  | "Expiring"
  | "IssuerChanged"
  | "NamesChanged"
  | "KeyMismatch";

export type RotationDecision =
  | { rotate: false; renewAt: Date }
  | { rotate: true; reason: RotationReason; message: string };

/** What the certificate must still match, beyond being valid. */
export interface RotationExpectations {
  /** The CA that must have issued it (the current one). */
  issuerPem?: string;
  /** Exact SAN sets (order does not matter). */
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  /** The private key served with it. */
  privateKeyPem?: string;
}

/** The time at which a certificate with this validity should be replaced. */
export function renewalTime(validity: Validity, policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY): Date {
  const start = validity.notBefore.getTime();
  const end = validity.notAfter.getTime();
  const fraction = Math.min(Math.max(policy.renewBeforeFraction, 0), 1);
  const before = Math.max((end - start) * fraction, policy.renewBeforeMs ?? 0);
  return new Date(Math.max(start, end - before));
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

/** Does `certPem` need replacing at `now`? */
export function rotationDecision(
  certPem: string | undefined,
  now: Date,
  policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY,
  expect: RotationExpectations = {},
): RotationDecision {
  if (!certPem?.trim()) return { rotate: true, reason: "Missing", message: "no certificate" };
  let info: CertificateInfo;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    info = certificateInfo(certPem);
  } catch (error) {
    return {
      rotate: true,
      reason: "Unreadable",
      message: `certificate cannot be parsed: ${(error as Error).message}`,
    };
  }
  const t = now.getTime();
  if (t >= info.notAfter.getTime()) {
    return { rotate: true, reason: "Expired", message: `expired at ${info.notAfter.toISOString()}` };
  }
  if (t < info.notBefore.getTime()) {
    return {
      rotate: true,
      reason: "NotYetValid",
      message: `not valid before ${info.notBefore.toISOString()}`,
    };
  }
  if (expect.issuerPem !== undefined) {
    const issuer = new X509Certificate(expect.issuerPem);
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      return {
        rotate: true,
        reason: "IssuerChanged",
        message: `not issued by ${issuer.subject.replace(/\n/g, ", ")}`,
      };
    }
  }
  if (
    (expect.dnsNames !== undefined && !sameSet(expect.dnsNames, info.dnsNames)) ||
    (expect.ipAddresses !== undefined && !sameSet(expect.ipAddresses.map(canonicalIp), info.ipAddresses))
  ) {
    return {
      rotate: true,
      reason: "NamesChanged",
      message: `names ${[...info.dnsNames, ...info.ipAddresses].join(", ")} differ from ${[
        ...(expect.dnsNames ?? info.dnsNames),
        ...(expect.ipAddresses ?? info.ipAddresses),
      ].join(", ")}`,
    };
  }
  if (expect.privateKeyPem !== undefined) {
    let matches = false;
    try {
      matches = cert.checkPrivateKey(createPrivateKey(expect.privateKeyPem));
    } catch {
      matches = false;
    }
    if (!matches)
      return {
        rotate: true,
        reason: "KeyMismatch",
        message: "the private key does not match the certificate",
      };
  }
  const renewAt = renewalTime(info, policy);
  if (t >= renewAt.getTime()) {
    return {
      rotate: true,
      reason: "Expiring",
      message: `expires at ${info.notAfter.toISOString()}, renewal was due at ${renewAt.toISOString()}`,
    };
  }
  return { rotate: false, renewAt };
}

/**
 * One CA bundle from several (newest first): every certificate once (by fingerprint), in
 * first-seen order, without those expired at `now`. Empty or missing inputs are skipped.
 */
export function mergeCaBundle(bundles: readonly (string | undefined)[], now: Date): string {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const bundle of bundles) {
    if (!bundle?.trim()) continue;
    for (const pem of splitCertificates(bundle)) {
      const info = certificateInfo(pem);
      if (seen.has(info.fingerprint256) || info.notAfter.getTime() <= now.getTime()) continue;
      seen.add(info.fingerprint256);
      kept.push(pem);
    }
  }
  return kept.join("");
}
