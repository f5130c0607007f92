// The webhooks' CA and serving certificate, kept in one Secret, and how they rotate without a
// dropped request: a step-by-step decision over what the Secret holds (pure, time a parameter)
// and the step applied (new keys and certificates from src/pki). The keeper (keeper.ts) reads
// the Secret, applies steps until none is due, writes the Secret with optimistic concurrency and
// publishes the bundle.
//
// CA rotation, as src/pki/rotation.ts describes it: when a third of the CA's lifetime is left, a
// next CA is created and published in the bundle beside the current one; only once kube-apiserver
// trusts the bundle holding it (and a settling time has passed, for every API server's informer)
// does it sign a new serving certificate; the old CA stays in the bundle until it expires.
import {
  type CertificateWithKey,
  certificateInfo,
  createCertificateAuthority,
  issueCertificate,
  mergeCaBundle,
  rotationDecision,
  splitCertificates,
} from "../pki/index.ts";

/** What the Secret holds, decoded; any part may be missing or unreadable. */
export interface CertificateMaterial {
  /** The CA that signs the serving certificate. */
  ca?: CertificateWithKey;
  /** A CA already in the bundle that will sign the next serving certificate (CA rotation). */
  nextCa?: CertificateWithKey;
  /** When the next CA was put in the bundle. */
  nextCaSince?: Date;
  serving?: CertificateWithKey;
  /** Every CA clients must trust, PEM: published as the webhooks' caBundle. */
  bundle?: string;
}

export interface CertificatePolicy {
  caLifetimeMs: number;
  servingLifetimeMs: number;
  /** The names kube-apiserver calls (a Service's DNS names, or the URL's host). */
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  /** How long a next CA sits in the published bundle before it signs (default: 1% of the CA lifetime, 5 s to 10 min). */
  settleMs?: number;
}

export type CertificateStep =
  /** The CA is missing, unreadable, expired or not valid yet: a new CA and serving certificate. */
  | { step: "new-ca"; reason: string }
  /** The CA is expiring: create the next CA and publish it beside the current one. */
  | { step: "add-next-ca"; reason: string }
  /** The next CA is trusted: it becomes the CA and signs a new serving certificate. */
  | { step: "promote-next-ca"; reason: string }
  /** The serving certificate is missing, expiring, for other names or from another CA. */
  | { step: "new-serving"; reason: string }
  /** The bundle is not what it must be (a CA expired, or it lacks the current ones). */
  | { step: "rebuild-bundle"; reason: string }
  | { step: "none"; nextCheckAt: Date };

export function settleTime(policy: CertificatePolicy): number {
  return policy.settleMs ?? Math.min(Math.max(policy.caLifetimeMs / 100, 5_000), 10 * 60_000);
}

function usable(material: CertificateWithKey | undefined, now: Date) {
  return rotationDecision(material?.certificatePem, now, undefined, {
    ...(material ? { privateKeyPem: material.privateKeyPem } : {}),
  });
}

/** The bundle the material should publish at `now`: next CA, CA, then older CAs still valid. */
export function expectedBundle(material: CertificateMaterial, now: Date): string {
  return mergeCaBundle([material.nextCa?.certificatePem, material.ca?.certificatePem, material.bundle], now);
}

/** Whether a bundle holds a CA (by fingerprint). */
export function bundleContains(bundle: string | undefined, certificatePem: string): boolean {
  if (!bundle?.trim()) return false;
  try {
    const wanted = certificateInfo(certificatePem).fingerprint256;
    return splitCertificates(bundle).some((pem) => certificateInfo(pem).fingerprint256 === wanted);
  } catch {
    return false;
  }
}

/**
 * The next step for `material` at `now`. `trusted(pem)` says whether kube-apiserver already
 * trusts a CA (the published caBundle holds it): a next CA is promoted only then.
 */
export function nextCertificateStep(
  material: CertificateMaterial,
  now: Date,
  policy: CertificatePolicy,
  trusted: (caPem: string) => boolean,
): CertificateStep {
  const ca = usable(material.ca, now);
  if (ca.rotate && ca.reason !== "Expiring") return { step: "new-ca", reason: `CA: ${ca.message}` };
  const caInfo = material.ca ? certificateInfo(material.ca.certificatePem) : undefined;
  const next = material.nextCa ? usable(material.nextCa, now) : undefined;
  const nextUsable = next !== undefined && !next.rotate;
  const checks: Date[] = [];

  if (material.nextCa && nextUsable) {
    const settledAt = new Date((material.nextCaSince?.getTime() ?? now.getTime()) + settleTime(policy));
    if (now >= settledAt && trusted(material.nextCa.certificatePem)) {
      return { step: "promote-next-ca", reason: "the next CA is in the published bundle" };
    }
    // Not trusted yet: look again soon (the keeper publishes the bundle in between).
    checks.push(now >= settledAt ? new Date(now.getTime() + 5_000) : settledAt);
  } else if (ca.rotate) {
    return { step: "add-next-ca", reason: `CA: ${ca.message}` };
  } else {
    checks.push(ca.renewAt);
  }

  const serving = rotationDecision(material.serving?.certificatePem, now, undefined, {
    ...(material.ca ? { issuerPem: material.ca.certificatePem } : {}),
    dnsNames: policy.dnsNames,
    ipAddresses: policy.ipAddresses,
    ...(material.serving ? { privateKeyPem: material.serving.privateKeyPem } : {}),
  });
  if (serving.rotate) return { step: "new-serving", reason: `serving certificate: ${serving.message}` };
  checks.push(serving.renewAt);

  const bundle = expectedBundle(material, now);
  if (bundle !== (material.bundle ?? "")) {
    return { step: "rebuild-bundle", reason: "the bundle lacks a current CA or holds an expired one" };
  }
  // An old CA leaving the bundle when it expires.
  for (const pem of bundle ? splitCertificates(bundle) : []) checks.push(certificateInfo(pem).notAfter);
  if (caInfo) checks.push(caInfo.notAfter);
  const nextCheckAt = new Date(Math.min(...checks.map((d) => d.getTime())));
  return { step: "none", nextCheckAt };
}

/**
 * Backdating covers an API server whose clock is a little behind; it is part of the validity the
 * renewal fraction applies to, so it stays small next to short lifetimes (5 minutes at most).
 */
function backdate(lifetimeMs: number): number {
  return Math.min(5 * 60_000, Math.floor(lifetimeMs / 10));
}

function newCa(now: Date, policy: CertificatePolicy): Promise<CertificateWithKey> {
  return createCertificateAuthority({
    commonName: `imagestream-operator-webhook-ca@${Math.floor(now.getTime() / 1000)}`,
    organization: "imagestream-operator",
    now,
    lifetimeMs: policy.caLifetimeMs,
    backdateMs: backdate(policy.caLifetimeMs),
  });
}

function newServing(
  ca: CertificateWithKey,
  now: Date,
  policy: CertificatePolicy,
): Promise<CertificateWithKey> {
  // Never valid past its CA: clients would reject it from then on.
  const caLeft = certificateInfo(ca.certificatePem).notAfter.getTime() - now.getTime();
  const lifetimeMs = Math.max(1000, Math.min(policy.servingLifetimeMs, caLeft));
  return issueCertificate(ca, {
    commonName: policy.dnsNames[0] ?? policy.ipAddresses[0] ?? "imagestream-operator-webhook",
    dnsNames: [...policy.dnsNames],
    ipAddresses: [...policy.ipAddresses],
    usage: "server",
    now,
    lifetimeMs,
    backdateMs: backdate(lifetimeMs),
  });
}

/** The material after `step` (new keys and certificates where the step needs them). */
export async function applyCertificateStep(
  material: CertificateMaterial,
  step: Exclude<CertificateStep, { step: "none" }>,
  now: Date,
  policy: CertificatePolicy,
): Promise<CertificateMaterial> {
  switch (step.step) {
    case "new-ca": {
      const ca = await newCa(now, policy);
      const serving = await newServing(ca, now, policy);
      // Older CAs still valid stay trusted: replicas may serve certificates they signed for a while.
      const next: CertificateMaterial = { ca, serving, bundle: material.bundle ?? "" };
      return { ...next, bundle: expectedBundle(next, now) };
    }
    case "add-next-ca": {
      const next: CertificateMaterial = { ...material, nextCa: await newCa(now, policy), nextCaSince: now };
      return { ...next, bundle: expectedBundle(next, now) };
    }
    case "promote-next-ca": {
      const ca = material.nextCa;
      if (!ca) throw new Error("promote-next-ca without a next CA");
      const { nextCa: _next, nextCaSince: _since, ...rest } = material;
      const next: CertificateMaterial = { ...rest, ca, serving: await newServing(ca, now, policy) };
      return { ...next, bundle: expectedBundle(next, now) };
    }
    case "new-serving": {
      const ca = material.ca;
      if (!ca) throw new Error("new-serving without a CA");
      return { ...material, serving: await newServing(ca, now, policy) };
    }
    case "rebuild-bundle":
      return { ...material, bundle: expectedBundle(material, now) };
  }
}

// ---------------------------------------------------------------- the Secret's layout

/** Annotation on the Secret: when its next CA was published (RFC 3339). */
export const NEXT_CA_SINCE_ANNOTATION = "admission.image.openshift.io/next-ca-published";

const KEYS = {
  servingCert: "tls.crt",
  servingKey: "tls.key",
  caCert: "ca.crt",
  caKey: "ca.key",
  nextCaCert: "next-ca.crt",
  nextCaKey: "next-ca.key",
  bundle: "ca-bundle.crt",
} as const;

export interface CertificateSecret {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  type?: string;
  data?: Record<string, string>;
}

function pair(data: Record<string, string>, cert: string, key: string): CertificateWithKey | undefined {
  const certificatePem = decode(data[cert]);
  const privateKeyPem = decode(data[key]);
  return certificatePem && privateKeyPem ? { certificatePem, privateKeyPem } : undefined;
}

function decode(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  return Buffer.from(value, "base64").toString("utf8");
}

function encode(value: string): string {
  return Buffer.from(value, "utf8").toString("base64");
}

/** The material a Secret holds (an empty material for a missing Secret). */
export function materialFromSecret(secret: CertificateSecret | undefined): CertificateMaterial {
  const data = secret?.data ?? {};
  const material: CertificateMaterial = {};
  const ca = pair(data, KEYS.caCert, KEYS.caKey);
  const nextCa = pair(data, KEYS.nextCaCert, KEYS.nextCaKey);
  const serving = pair(data, KEYS.servingCert, KEYS.servingKey);
  const bundle = decode(data[KEYS.bundle]);
  if (ca) material.ca = ca;
  if (nextCa) {
    material.nextCa = nextCa;
    const since = Date.parse(secret?.metadata?.annotations?.[NEXT_CA_SINCE_ANNOTATION] ?? "");
    if (Number.isFinite(since)) material.nextCaSince = new Date(since);
  }
  if (serving) material.serving = serving;
  if (bundle) material.bundle = bundle;
  return material;
}

/** The Secret holding `material` (type kubernetes.io/tls: tls.crt and tls.key are the serving pair). */
export function secretWithMaterial(
  base: CertificateSecret | undefined,
  key: { namespace: string; name: string },
  material: CertificateMaterial,
): CertificateSecret {
  const annotations = { ...(base?.metadata?.annotations ?? {}) };
  delete annotations[NEXT_CA_SINCE_ANNOTATION];
  if (material.nextCa && material.nextCaSince)
    annotations[NEXT_CA_SINCE_ANNOTATION] = material.nextCaSince.toISOString();
  const data: Record<string, string> = {};
  if (material.serving) {
    data[KEYS.servingCert] = encode(material.serving.certificatePem);
    data[KEYS.servingKey] = encode(material.serving.privateKeyPem);
  }
  if (material.ca) {
    data[KEYS.caCert] = encode(material.ca.certificatePem);
    data[KEYS.caKey] = encode(material.ca.privateKeyPem);
  }
  if (material.nextCa) {
    data[KEYS.nextCaCert] = encode(material.nextCa.certificatePem);
    data[KEYS.nextCaKey] = encode(material.nextCa.privateKeyPem);
  }
  if (material.bundle) data[KEYS.bundle] = encode(material.bundle);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      ...(base?.metadata ?? {}),
      name: key.name,
      namespace: key.namespace,
      annotations,
      labels: { ...(base?.metadata?.labels ?? {}), "app.kubernetes.io/managed-by": "imagestream-operator" },
    },
    // The type of a stored Secret cannot change.
    type: base?.type ?? "kubernetes.io/tls",
    data,
  };
}
