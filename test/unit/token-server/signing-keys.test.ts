// The signing material's life: created, the leaf renewed from the same CA, the next CA
// published a year ahead and promoted once the registry trusts it (or just before expiry),
// the retired CA trusted until it expires. Verified with node:crypto, as distribution does:
// the leaf must chain to a certificate of the bundle.
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { certificateInfo, isIssuedBy, splitCertificates } from "../../../src/pki/index.ts";
import {
  createTokenSigner,
  DEFAULT_SIGNING_POLICY,
  nextSigningMaterial,
  readSigningMaterial,
  type SigningMaterial,
  signingMaterialData,
  trustBundle,
} from "../../../src/token-server/index.ts";

const DAY = 86_400_000;
const start = new Date("2030-01-01T00:00:00Z");
const at = (days: number) => new Date(start.getTime() + days * DAY);

function chainsToBundle(material: SigningMaterial, now: Date): boolean {
  const bundle = splitCertificates(trustBundle(material, now));
  return bundle.some((ca) => isIssuedBy(material.leaf.certificatePem, ca));
}

describe("nextSigningMaterial", () => {
  it("creates a 10-year CA and a 30-day leaf it issued, which signs tokens", async () => {
    const { material, changes } = await nextSigningMaterial(undefined, {
      now: start,
      registryTrustsNext: false,
    });
    expect(changes).toEqual(["Created"]);
    const ca = certificateInfo(material.ca.certificatePem);
    const leaf = certificateInfo(material.leaf.certificatePem);
    expect(ca.isCa).toBe(true);
    expect(leaf.isCa).toBe(false);
    expect(Math.round((ca.notAfter.getTime() - start.getTime()) / DAY)).toBe(3650);
    expect(Math.round((leaf.notAfter.getTime() - start.getTime()) / DAY)).toBe(30);
    expect(chainsToBundle(material, start)).toBe(true);
    expect(createTokenSigner(material.leaf).algorithm).toBe("ES256");
  });

  it("changes nothing while the leaf is fresh, renews it from the same CA when two thirds are used", async () => {
    const { material } = await nextSigningMaterial(undefined, { now: start, registryTrustsNext: false });
    expect((await nextSigningMaterial(material, { now: at(19), registryTrustsNext: false })).changes).toEqual(
      [],
    );
    const renewed = await nextSigningMaterial(material, { now: at(21), registryTrustsNext: false });
    expect(renewed.changes).toEqual(["LeafRenewed"]);
    expect(renewed.material.ca).toEqual(material.ca);
    expect(renewed.material.leaf.certificatePem).not.toBe(material.leaf.certificatePem);
    // The bundle did not change: the registry needs no restart for a new leaf.
    expect(trustBundle(renewed.material, at(21))).toBe(trustBundle(material, start));
    expect(chainsToBundle(renewed.material, at(21))).toBe(true);
  });

  it("publishes the next CA a year ahead, keeps signing with the current one until the registry trusts it", async () => {
    const { material } = await nextSigningMaterial(undefined, { now: start, registryTrustsNext: false });
    const late = at(3650 - 364);
    const published = await nextSigningMaterial(material, { now: late, registryTrustsNext: false });
    expect(published.changes).toContain("NextCaPublished");
    const next = published.material.nextCa;
    expect(next).toBeDefined();
    const bundle = splitCertificates(trustBundle(published.material, late));
    expect(bundle).toHaveLength(2);
    expect(isIssuedBy(published.material.leaf.certificatePem, published.material.ca.certificatePem)).toBe(
      true,
    );

    // Not trusted yet: nothing about the CA moves.
    const waiting = await nextSigningMaterial(published.material, {
      now: at(3650 - 300),
      registryTrustsNext: false,
    });
    expect(waiting.material.ca).toEqual(published.material.ca);
    expect(waiting.material.nextCa).toEqual(next);

    // Trusted: the next CA issues the leaf; the old one is retired but still trusted.
    const promoted = await nextSigningMaterial(waiting.material, {
      now: at(3650 - 299),
      registryTrustsNext: true,
    });
    expect(promoted.changes).toEqual(["Promoted"]);
    expect(promoted.material.ca).toEqual(next);
    expect(promoted.material.nextCa).toBeUndefined();
    expect(promoted.material.retiredCaPem).toBe(material.ca.certificatePem);
    expect(isIssuedBy(promoted.material.leaf.certificatePem, next?.certificatePem ?? "")).toBe(true);
    expect(splitCertificates(trustBundle(promoted.material, at(3650 - 299)))).toHaveLength(2);

    // Once the retired CA expires it leaves the bundle.
    const after = await nextSigningMaterial(promoted.material, { now: at(3651), registryTrustsNext: false });
    expect(after.changes).toContain("RetiredCaExpired");
    expect(splitCertificates(trustBundle(after.material, at(3651)))).toHaveLength(1);
  });

  it("promotes the next CA 30 days before the current one expires even when the registry never reloaded", async () => {
    const { material } = await nextSigningMaterial(undefined, { now: start, registryTrustsNext: false });
    const published = await nextSigningMaterial(material, { now: at(3650 - 364), registryTrustsNext: false });
    const forced = await nextSigningMaterial(published.material, {
      now: at(3650 - 29),
      registryTrustsNext: false,
    });
    expect(forced.changes).toEqual(["PromotedUntrusted"]);
  });

  it("never issues a leaf that outlives its CA", async () => {
    const policy = {
      ...DEFAULT_SIGNING_POLICY,
      caLifetimeMs: 20 * DAY,
      publishNextCaBeforeMs: 0,
      forcePromotionBeforeMs: 0,
    };
    const { material } = await nextSigningMaterial(undefined, {
      now: start,
      registryTrustsNext: false,
      policy,
    });
    expect(certificateInfo(material.leaf.certificatePem).notAfter.getTime()).toBeLessThanOrEqual(
      certificateInfo(material.ca.certificatePem).notAfter.getTime(),
    );
  });
});

describe("the signing Secret's data", () => {
  it("round-trips, and reports what is missing or does not match", async () => {
    const { material } = await nextSigningMaterial(undefined, { now: start, registryTrustsNext: false });
    const data = signingMaterialData(material);
    expect(Object.keys(data).sort()).toEqual(["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    expect(readSigningMaterial(data)).toEqual({ ok: true, material });
    expect(readSigningMaterial(undefined)).toEqual({
      ok: false,
      problem: "missing ca.crt, ca.key, tls.crt, tls.key",
    });
    expect(readSigningMaterial({ ...data, "tls.key": data["ca.key"] ?? "" })).toEqual({
      ok: false,
      problem: "tls.key does not match tls.crt",
    });
    const unreadable = readSigningMaterial({
      ...data,
      "tls.crt": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    });
    expect(unreadable.ok).toBe(false);
    expect(new X509Certificate(material.leaf.certificatePem).ca).toBe(false);
  });
});
