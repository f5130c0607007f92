import { execFileSync } from "node:child_process";
import { createPublicKey, createSign, createVerify, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  certificateInfo,
  createCertificateAuthority,
  createSigningCertificate,
  decodePem,
  encodePem,
  generateKeyPair,
  isIssuedBy,
  issueCertificate,
  keyAlgorithmOf,
  matchesPrivateKey,
  mergeCaBundle,
  PemError,
  publicKeyOf,
  renewalTime,
  rotationDecision,
  splitCertificates,
} from "../../../src/pki/index.ts";

const DAY = 86_400_000;
const NOW = new Date("2030-01-10T12:00:00Z");

describe("key pairs", () => {
  it("generates ECDSA P-256 by default and RSA on request", async () => {
    const ec = await generateKeyPair();
    expect(ec.algorithm).toBe("ECDSA-P256");
    expect(ec.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(ec.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(keyAlgorithmOf(ec.privateKeyPem)).toBe("ECDSA-P256");
    expect(publicKeyOf(ec.privateKeyPem)).toBe(ec.publicKeyPem);
    const rsa = await generateKeyPair("RSA-2048");
    expect(keyAlgorithmOf(rsa.publicKeyPem)).toBe("RSA-2048");
    expect(createPublicKey(rsa.publicKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it("names an unsupported key", () => {
    const p384 = execFileSync("openssl", [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-384",
    ]).toString();
    expect(() => keyAlgorithmOf(p384)).toThrow(/unsupported key type ec secp384r1/);
  });
});

describe("PEM", () => {
  it("round-trips DER and wraps at 64 columns", () => {
    const der = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
    const pem = encodePem("CERTIFICATE", der);
    expect(pem.split("\n").every((l) => l.length <= 64)).toBe(true);
    expect(decodePem(`junk before\n${pem}between\n${pem}`)).toEqual([
      { label: "CERTIFICATE", der },
      { label: "CERTIFICATE", der },
    ]);
  });

  it("rejects mismatched labels, bad base64 and bundles without certificates", () => {
    expect(() => decodePem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----")).toThrow(PemError);
    expect(() => decodePem("-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----")).toThrow(/base64/);
    expect(() => splitCertificates("no pem here")).toThrow(/no CERTIFICATE/);
  });
});

describe("certificates", () => {
  it("creates a self-signed CA that node:crypto reads as a CA", async () => {
    const ca = await createCertificateAuthority({
      commonName: "webhook-ca",
      lifetimeMs: 365 * DAY,
      now: NOW,
    });
    const cert = new X509Certificate(ca.certificatePem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe("CN=webhook-ca");
    expect(cert.issuer).toBe("CN=webhook-ca");
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.keyUsage).toBeUndefined(); // node only exposes extended key usages; the CA has none
    expect(new Date(cert.validFrom).getTime()).toBe(NOW.getTime() - 5 * 60_000);
    expect(new Date(cert.validTo).getTime()).toBe(NOW.getTime() + 365 * DAY);
    expect(matchesPrivateKey(ca.certificatePem, ca.privateKeyPem)).toBe(true);
  });

  it("issues a serving leaf with DNS and IP SANs, signed by the CA", async () => {
    const ca = await createCertificateAuthority({
      commonName: "webhook-ca",
      lifetimeMs: 365 * DAY,
      now: NOW,
    });
    const leaf = await issueCertificate(ca, {
      commonName: "imagestream-operator.ops.svc",
      dnsNames: ["imagestream-operator.ops.svc", "imagestream-operator.ops.svc.cluster.local"],
      ipAddresses: ["127.0.0.1", "::1"],
      usage: "server",
      lifetimeMs: 30 * DAY,
      now: NOW,
      backdateMs: 0,
    });
    const cert = new X509Certificate(leaf.certificatePem);
    const caCert = new X509Certificate(ca.certificatePem);
    expect(cert.ca).toBe(false);
    expect(cert.issuer).toBe("CN=webhook-ca");
    expect(cert.subject).toBe("CN=imagestream-operator.ops.svc");
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(cert.checkHost("imagestream-operator.ops.svc.cluster.local")).toBeDefined();
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("elsewhere.example")).toBeUndefined();
    const info = certificateInfo(leaf.certificatePem);
    expect(info.dnsNames).toEqual([
      "imagestream-operator.ops.svc",
      "imagestream-operator.ops.svc.cluster.local",
    ]);
    expect(info.ipAddresses).toEqual(["127.0.0.1", "::1"]);
    expect(info.notBefore).toEqual(NOW);
    expect(info.notAfter).toEqual(new Date(NOW.getTime() + 30 * DAY));
    expect(info.serialNumber).not.toBe(certificateInfo(ca.certificatePem).serialNumber);
    expect(isIssuedBy(leaf.certificatePem, ca.certificatePem)).toBe(true);
    expect(matchesPrivateKey(leaf.certificatePem, leaf.privateKeyPem)).toBe(true);
    expect(matchesPrivateKey(leaf.certificatePem, ca.privateKeyPem)).toBe(false);
  });

  it("issues client certificates with organizations (Kubernetes groups) from an RSA CA", async () => {
    const ca = await createCertificateAuthority({
      commonName: "rsa-ca",
      algorithm: "RSA-2048",
      lifetimeMs: DAY,
    });
    const leaf = await issueCertificate(ca, {
      commonName: "alice",
      organizations: ["dev", "ops"],
      usage: "client",
      lifetimeMs: DAY,
    });
    const cert = new X509Certificate(leaf.certificatePem);
    expect(cert.subject.split("\n")).toEqual(["O=dev", "O=ops", "CN=alice"]);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(cert.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
    expect(cert.subjectAltName).toBeUndefined();
  });

  it("does not accept a leaf as issued by another CA", async () => {
    const a = await createCertificateAuthority({ commonName: "same-name", lifetimeMs: DAY });
    const b = await createCertificateAuthority({ commonName: "same-name", lifetimeMs: DAY });
    const leaf = await issueCertificate(a, {
      commonName: "x",
      usage: "server",
      dnsNames: ["x"],
      lifetimeMs: DAY,
    });
    expect(isIssuedBy(leaf.certificatePem, a.certificatePem)).toBe(true);
    expect(isIssuedBy(leaf.certificatePem, b.certificatePem)).toBe(false);
  });

  it("creates a self-signed signing certificate whose key verifies signatures", async () => {
    const signer = await createSigningCertificate({ commonName: "token-signer", lifetimeMs: DAY });
    const cert = new X509Certificate(signer.certificatePem);
    expect(cert.ca).toBe(false);
    expect(cert.verify(cert.publicKey)).toBe(true);
    const signature = createSign("SHA256").update("payload").sign(signer.privateKeyPem);
    expect(createVerify("SHA256").update("payload").verify(cert.publicKey, signature)).toBe(true);
  });

  it("is accepted by the openssl CLI: chain, SANs, usages", async () => {
    const ca = await createCertificateAuthority({ commonName: "openssl-ca", lifetimeMs: DAY });
    const leaf = await issueCertificate(ca, {
      commonName: "svc",
      dnsNames: ["svc.ns.svc"],
      ipAddresses: ["10.0.0.1"],
      usage: "server",
      lifetimeMs: DAY,
    });
    const dir = mkdtempSync(join(tmpdir(), "isop-pki-"));
    try {
      writeFileSync(join(dir, "ca.pem"), ca.certificatePem);
      writeFileSync(join(dir, "leaf.pem"), leaf.certificatePem);
      writeFileSync(join(dir, "leaf.key"), leaf.privateKeyPem);
      const verify = execFileSync("openssl", [
        "verify",
        "-purpose",
        "sslserver",
        "-CAfile",
        join(dir, "ca.pem"),
        join(dir, "leaf.pem"),
      ]).toString();
      expect(verify.trim()).toBe(`${join(dir, "leaf.pem")}: OK`);
      const text = execFileSync("openssl", [
        "x509",
        "-in",
        join(dir, "leaf.pem"),
        "-noout",
        "-text",
      ]).toString();
      expect(text).toMatch(/DNS:svc\.ns\.svc, IP Address:10\.0\.0\.1/);
      expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
      expect(text).toMatch(/TLS Web Server Authentication/);
      expect(text).toMatch(/CA:FALSE/);
      const caText = execFileSync("openssl", [
        "x509",
        "-in",
        join(dir, "ca.pem"),
        "-noout",
        "-text",
      ]).toString();
      expect(caText).toMatch(/CA:TRUE, pathlen:0/);
      expect(caText).toMatch(/Certificate Sign, CRL Sign/);
      // The key openssl reads is the certificate's key.
      const keyPub = execFileSync("openssl", ["pkey", "-in", join(dir, "leaf.key"), "-pubout"]).toString();
      const certPub = execFileSync("openssl", [
        "x509",
        "-in",
        join(dir, "leaf.pem"),
        "-noout",
        "-pubkey",
      ]).toString();
      expect(keyPub).toBe(certPub);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("rotation decisions", () => {
  it("renews when the last third of the lifetime starts, or earlier with renewBeforeMs", () => {
    const validity = { notBefore: new Date(0), notAfter: new Date(90 * DAY) };
    expect(renewalTime(validity)).toEqual(new Date(60 * DAY));
    expect(renewalTime(validity, { renewBeforeFraction: 1 / 3, renewBeforeMs: 45 * DAY })).toEqual(
      new Date(45 * DAY),
    );
    expect(renewalTime(validity, { renewBeforeFraction: 0, renewBeforeMs: 200 * DAY })).toEqual(new Date(0));
  });

  it("keeps a fresh certificate until its renewal time, then rotates it", async () => {
    const ca = await createCertificateAuthority({
      commonName: "ca",
      lifetimeMs: 90 * DAY,
      now: NOW,
      backdateMs: 0,
    });
    const keep = rotationDecision(ca.certificatePem, new Date(NOW.getTime() + DAY));
    expect(keep).toEqual({ rotate: false, renewAt: new Date(NOW.getTime() + 60 * DAY) });
    expect(rotationDecision(ca.certificatePem, new Date(NOW.getTime() + 60 * DAY))).toMatchObject({
      rotate: true,
      reason: "Expiring",
    });
    expect(rotationDecision(ca.certificatePem, new Date(NOW.getTime() + 90 * DAY))).toMatchObject({
      rotate: true,
      reason: "Expired",
    });
    expect(rotationDecision(ca.certificatePem, new Date(NOW.getTime() - 1000))).toMatchObject({
      rotate: true,
      reason: "NotYetValid",
    });
  });

  it("rotates missing, unreadable, re-issued, renamed and re-keyed certificates", async () => {
    const ca = await createCertificateAuthority({ commonName: "ca", lifetimeMs: 90 * DAY, now: NOW });
    const newCa = await createCertificateAuthority({ commonName: "ca", lifetimeMs: 90 * DAY, now: NOW });
    const leaf = await issueCertificate(ca, {
      commonName: "svc",
      dnsNames: ["a.svc", "b.svc"],
      usage: "server",
      lifetimeMs: 30 * DAY,
      now: NOW,
    });
    const at = new Date(NOW.getTime() + DAY);
    const policy = { renewBeforeFraction: 1 / 3 };
    expect(rotationDecision(undefined, at)).toMatchObject({ rotate: true, reason: "Missing" });
    expect(rotationDecision("garbage", at)).toMatchObject({ rotate: true, reason: "Unreadable" });
    const matching = {
      issuerPem: ca.certificatePem,
      dnsNames: ["b.svc", "a.svc"],
      ipAddresses: [],
      privateKeyPem: leaf.privateKeyPem,
    };
    expect(rotationDecision(leaf.certificatePem, at, policy, matching)).toMatchObject({ rotate: false });
    expect(
      rotationDecision(leaf.certificatePem, at, policy, { ...matching, issuerPem: newCa.certificatePem }),
    ).toMatchObject({ rotate: true, reason: "IssuerChanged" });
    expect(
      rotationDecision(leaf.certificatePem, at, policy, { ...matching, dnsNames: ["a.svc", "c.svc"] }),
    ).toMatchObject({ rotate: true, reason: "NamesChanged" });
    expect(
      rotationDecision(leaf.certificatePem, at, policy, { ...matching, ipAddresses: ["10.0.0.1"] }),
    ).toMatchObject({ rotate: true, reason: "NamesChanged" });
    const v6 = await issueCertificate(ca, {
      commonName: "v6",
      ipAddresses: ["::1"],
      usage: "server",
      lifetimeMs: 30 * DAY,
      now: NOW,
    });
    expect(
      rotationDecision(v6.certificatePem, at, policy, { ipAddresses: ["0:0:0:0:0:0:0:1"] }),
    ).toMatchObject({
      rotate: false,
    });
    expect(
      rotationDecision(leaf.certificatePem, at, policy, { ...matching, privateKeyPem: ca.privateKeyPem }),
    ).toMatchObject({ rotate: true, reason: "KeyMismatch" });
  });

  it("merges CA bundles: new first, old kept until it expires, duplicates once", async () => {
    const old = await createCertificateAuthority({ commonName: "old", lifetimeMs: 10 * DAY, now: NOW });
    const next = await createCertificateAuthority({ commonName: "new", lifetimeMs: 90 * DAY, now: NOW });
    const during = mergeCaBundle([next.certificatePem, old.certificatePem + next.certificatePem], NOW);
    expect(splitCertificates(during).map((c) => certificateInfo(c).subject)).toEqual(["CN=new", "CN=old"]);
    const after = mergeCaBundle([next.certificatePem, during], new Date(NOW.getTime() + 11 * DAY));
    expect(splitCertificates(after).map((c) => certificateInfo(c).subject)).toEqual(["CN=new"]);
    expect(mergeCaBundle([undefined, ""], NOW)).toBe("");
  });
});
