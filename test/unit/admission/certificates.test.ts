// The webhooks' certificates over their whole life, on a fake clock: first creation, serving
// certificate renewals, a CA rotation that never serves a certificate kube-apiserver does not
// trust yet, old CAs leaving the bundle when they expire, and the Secret round trip.
import { describe, expect, it } from "vitest";
import {
  applyCertificateStep,
  bundleContains,
  type CertificateMaterial,
  type CertificatePolicy,
  expectedBundle,
  materialFromSecret,
  NEXT_CA_SINCE_ANNOTATION,
  nextCertificateStep,
  secretWithMaterial,
  settleTime,
} from "../../../src/admission/index.ts";
import { certificateInfo, isIssuedBy, matchesPrivateKey, splitCertificates } from "../../../src/pki/index.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = new Date("2030-01-01T00:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

const policy: CertificatePolicy = {
  caLifetimeMs: 30 * DAY,
  servingLifetimeMs: 3 * DAY,
  dnsNames: ["imagestream-operator-webhook.ops.svc"],
  ipAddresses: [],
};

/** Applies steps until none is due, as the keeper does; returns the material and the steps taken. */
async function settle(
  material: CertificateMaterial,
  now: Date,
  trusted: (pem: string) => boolean = () => true,
): Promise<{ material: CertificateMaterial; steps: string[]; nextCheckAt: Date }> {
  const steps: string[] = [];
  let current = material;
  for (let i = 0; i < 10; i++) {
    const step = nextCertificateStep(current, now, policy, trusted);
    if (step.step === "none") return { material: current, steps, nextCheckAt: step.nextCheckAt };
    steps.push(step.step);
    current = await applyCertificateStep(current, step, now, policy);
  }
  throw new Error(`no fixed point after ${steps.join(", ")}`);
}

const fingerprints = (bundle: string | undefined) =>
  splitCertificates(bundle ?? "").map((pem) => certificateInfo(pem).fingerprint256);
const fp = (pem: string | undefined) => certificateInfo(pem ?? "").fingerprint256;

describe("the webhooks' certificates", () => {
  it("starts from nothing: a CA, a serving certificate it signed for the names, and a bundle of the CA", async () => {
    const { material, steps, nextCheckAt } = await settle({}, T0);
    expect(steps).toEqual(["new-ca"]);
    const { ca, serving } = material;
    if (!ca || !serving) throw new Error("incomplete material");
    expect(isIssuedBy(serving.certificatePem, ca.certificatePem)).toBe(true);
    expect(matchesPrivateKey(serving.certificatePem, serving.privateKeyPem)).toBe(true);
    expect(certificateInfo(serving.certificatePem).dnsNames).toEqual(policy.dnsNames);
    expect(certificateInfo(ca.certificatePem).isCa).toBe(true);
    expect(fingerprints(material.bundle)).toEqual([fp(ca.certificatePem)]);
    // Next look: when the serving certificate has a third of its 3 days left.
    expect(nextCheckAt.getTime()).toBeGreaterThan(at(1.9 * DAY).getTime());
    expect(nextCheckAt.getTime()).toBeLessThanOrEqual(at(2 * DAY).getTime());
  });

  it("renews the serving certificate from the same CA when a third of its lifetime is left", async () => {
    const first = (await settle({}, T0)).material;
    expect((await settle(first, at(1.5 * DAY))).steps).toEqual([]);
    const renewed = await settle(first, at(2.1 * DAY));
    expect(renewed.steps).toEqual(["new-serving"]);
    expect(renewed.material.ca).toEqual(first.ca);
    expect(renewed.material.bundle).toBe(first.bundle);
    expect(renewed.material.serving?.certificatePem).not.toBe(first.serving?.certificatePem);
  });

  it("issues a new serving certificate when the names change or the key does not match", async () => {
    const first = (await settle({}, T0)).material;
    const renamed = nextCertificateStep(
      first,
      at(HOUR),
      { ...policy, ipAddresses: ["127.0.0.1"] },
      () => true,
    );
    expect(renamed).toMatchObject({ step: "new-serving" });
    const other = (await settle({}, T0)).material;
    const mismatched = {
      ...first,
      serving: { ...first.serving!, privateKeyPem: other.serving!.privateKeyPem },
    };
    expect(nextCertificateStep(mismatched, at(HOUR), policy, () => true)).toMatchObject({
      step: "new-serving",
    });
  });

  it("rotates the CA without serving a certificate before kube-apiserver trusts its CA", async () => {
    const first = (await settle({}, T0)).material;
    const oldCa = first.ca!.certificatePem;
    // 21 days in, a third of the CA's 30 days is left: the next CA is published beside it.
    const t1 = at(21 * DAY);
    const published = await settle(first, t1, () => false);
    expect(published.steps).toEqual(["add-next-ca", "new-serving"]);
    const nextCa = published.material.nextCa!.certificatePem;
    expect(published.material.ca!.certificatePem).toBe(oldCa);
    expect(published.material.nextCaSince).toEqual(t1);
    expect(fingerprints(published.material.bundle)).toEqual([fp(nextCa), fp(oldCa)]);
    // Still served from the old CA, which the API server trusts.
    expect(isIssuedBy(published.material.serving!.certificatePem, oldCa)).toBe(true);

    // Settled but the published caBundle does not hold the next CA yet: no promotion.
    const t2 = new Date(t1.getTime() + settleTime(policy) + 1000);
    const waiting = nextCertificateStep(published.material, t2, policy, () => false);
    expect(waiting.step).toBe("none");
    // Trusted and settled: the next CA signs the serving certificate; both stay in the bundle.
    const trusted = (pem: string) => bundleContains(published.material.bundle, pem);
    const promoted = await settle(published.material, t2, trusted);
    expect(promoted.steps).toEqual(["promote-next-ca"]);
    expect(promoted.material.ca!.certificatePem).toBe(nextCa);
    expect(promoted.material.nextCa).toBeUndefined();
    expect(isIssuedBy(promoted.material.serving!.certificatePem, nextCa)).toBe(true);
    expect(fingerprints(promoted.material.bundle)).toEqual([fp(nextCa), fp(oldCa)]);

    // The old CA leaves the bundle once it expired (30 days plus its 5-minute backdate).
    const afterExpiry = await settle(promoted.material, at(30 * DAY + HOUR), trusted);
    expect(afterExpiry.steps).toContain("rebuild-bundle");
    expect(fingerprints(afterExpiry.material.bundle)).toEqual([fp(nextCa)]);
  });

  it("never signs a serving certificate valid past its CA", async () => {
    const first = (await settle({}, T0)).material;
    const caEnd = certificateInfo(first.ca!.certificatePem).notAfter.getTime();
    const renewed = await applyCertificateStep(
      first,
      { step: "new-serving", reason: "test" },
      at(29 * DAY),
      policy,
    );
    expect(certificateInfo(renewed.serving!.certificatePem).notAfter.getTime()).toBeLessThanOrEqual(caEnd);
  });

  it("starts over with a new CA when the CA is unusable, keeping older valid CAs trusted", async () => {
    const first = (await settle({}, T0)).material;
    const broken: CertificateMaterial = { ...first, ca: { ...first.ca!, certificatePem: "garbage" } };
    const fresh = await settle(broken, at(HOUR));
    expect(fresh.steps).toEqual(["new-ca"]);
    expect(fingerprints(fresh.material.bundle)).toEqual([
      fp(fresh.material.ca!.certificatePem),
      fp(first.ca!.certificatePem),
    ]);
    expect(expectedBundle(fresh.material, at(HOUR))).toBe(fresh.material.bundle);
  });

  it("round-trips through the Secret (type kubernetes.io/tls; tls.crt and tls.key are the serving pair)", async () => {
    const { material } = await settle({}, T0);
    const withNext = await applyCertificateStep(
      material,
      { step: "add-next-ca", reason: "test" },
      T0,
      policy,
    );
    const secret = secretWithMaterial(undefined, { namespace: "ops", name: "webhook-certs" }, withNext);
    expect(secret).toMatchObject({
      type: "kubernetes.io/tls",
      metadata: { namespace: "ops", name: "webhook-certs" },
    });
    expect(Buffer.from(secret.data?.["tls.crt"] ?? "", "base64").toString()).toBe(
      withNext.serving?.certificatePem,
    );
    expect(secret.metadata?.annotations?.[NEXT_CA_SINCE_ANNOTATION]).toBe(T0.toISOString());
    expect(materialFromSecret(secret)).toEqual(withNext);
    expect(materialFromSecret(undefined)).toEqual({});
    // A promoted next CA takes its annotation with it.
    const promoted = secretWithMaterial(secret, { namespace: "ops", name: "webhook-certs" }, material);
    expect(promoted.metadata?.annotations).toEqual({});
    expect(promoted.data?.["next-ca.crt"]).toBeUndefined();
  });
});
