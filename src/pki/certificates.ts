// X.509 certificates: a self-signed CA, leaves signed by a CA (serving, client, token
// signing), and the facts callers check (validity, names, issuer). Generation uses
// @peculiar/x509 (Node has no X.509 generation API); parsing uses node:crypto.

// @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs the Reflect
// metadata polyfill loaded first.
import "reflect-metadata";
import { createPrivateKey, createPublicKey, randomBytes, type webcrypto, X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { generateKeyPair, type KeyAlgorithm, type KeyPair, keyAlgorithmOf } from "./keys.ts";

/** A certificate with its private key, both PEM. */
export interface CertificateWithKey {
  certificatePem: string;
  privateKeyPem: string;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateInfo extends Validity {
  subject: string;
  issuer: string;
  /** Upper-case hex, as node:crypto and openssl print it. */
  serialNumber: string;
  isCa: boolean;
  dnsNames: string[];
  ipAddresses: string[];
  /** SHA-256 fingerprint, `AB:CD:...`. */
  fingerprint256: string;
}

/** What a leaf is for: the key usages and extended key usages it gets. */
export type CertificateUsage = "server" | "client" | "server-and-client" | "signing";

export interface ValidityOptions {
  /** Issue time (defaults to the clock). */
  now?: Date;
  /** Lifetime from `now`. */
  lifetimeMs: number;
  /** `notBefore` is this much before `now`, for clocks slightly behind (default 5 minutes). */
  backdateMs?: number;
}

export interface CaOptions extends ValidityOptions {
  commonName: string;
  organization?: string;
  /** Key of the CA; a new one (of `algorithm`, default ECDSA P-256) when omitted. */
  key?: KeyPair;
  algorithm?: KeyAlgorithm;
}

export interface LeafOptions extends ValidityOptions {
  commonName: string;
  /** Subject organizations; Kubernetes reads them as groups of a client certificate. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: CertificateUsage;
  key?: KeyPair;
  algorithm?: KeyAlgorithm;
}

const DEFAULT_BACKDATE_MS = 5 * 60_000;

function validityOf(opts: ValidityOptions): Validity {
  const now = opts.now ?? new Date();
  // X.509 times have second precision.
  const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
  return {
    notBefore: seconds(now.getTime() - (opts.backdateMs ?? DEFAULT_BACKDATE_MS)),
    notAfter: seconds(now.getTime() + opts.lifetimeMs),
  };
}

/** 128-bit positive serial (RFC 5280 allows up to 20 octets; the top bit stays clear). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes.toString("hex");
}

function signingAlgorithm(algorithm: KeyAlgorithm): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return algorithm === "ECDSA-P256"
    ? { name: "ECDSA", hash: "SHA-256" }
    : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
}

function webCryptoAlgorithm(
  algorithm: KeyAlgorithm,
): webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams {
  return algorithm === "ECDSA-P256"
    ? { name: "ECDSA", namedCurve: "P-256" }
    : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
}

async function cryptoKeys(key: KeyPair): Promise<webcrypto.CryptoKeyPair> {
  const algorithm = webCryptoAlgorithm(key.algorithm);
  const [privateKey, publicKey] = await Promise.all([
    createPrivateKey(key.privateKeyPem).toCryptoKey(algorithm, false, ["sign"]),
    createPublicKey(key.publicKeyPem).toCryptoKey(algorithm, true, ["verify"]),
  ]);
  return { privateKey, publicKey };
}

function subjectName(commonName: string, organizations: readonly string[] = []): x509.JsonName {
  const name: x509.JsonName = organizations.map((o) => ({ O: [o] }));
  name.push({ CN: [commonName] });
  return name;
}

/** A self-signed CA (basicConstraints CA:TRUE, pathlen 0; keyCertSign, cRLSign). */
export async function createCertificateAuthority(opts: CaOptions): Promise<CertificateWithKey> {
  const key = opts.key ?? (await generateKeyPair(opts.algorithm));
  const keys = await cryptoKeys(key);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subjectName(opts.commonName, opts.organization ? [opts.organization] : []),
    ...validityOf(opts),
    keys,
    signingAlgorithm: signingAlgorithm(key.algorithm),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificatePem: cert.toString("pem"), privateKeyPem: key.privateKeyPem };
}

function usageExtensions(usage: CertificateUsage, algorithm: KeyAlgorithm): x509.Extension[] {
  let flags = x509.KeyUsageFlags.digitalSignature;
  // RSA key exchange in TLS 1.2 encrypts with the key; ECDSA keys never do.
  if (usage !== "signing" && algorithm !== "ECDSA-P256") flags |= x509.KeyUsageFlags.keyEncipherment;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(flags, true),
  ];
  const purposes: Record<CertificateUsage, string[]> = {
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    "server-and-client": [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    signing: [],
  };
  if (purposes[usage].length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(purposes[usage]));
  return extensions;
}

function subjectAltNames(opts: Pick<LeafOptions, "dnsNames" | "ipAddresses">): x509.Extension[] {
  const names: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  return names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [];
}

/** A leaf certificate signed by `ca`; serving certificates carry their names as SANs. */
export async function issueCertificate(
  ca: CertificateWithKey,
  opts: LeafOptions,
): Promise<CertificateWithKey> {
  const key = opts.key ?? (await generateKeyPair(opts.algorithm));
  const caAlgorithm = keyAlgorithmOf(ca.privateKeyPem);
  const caCert = new x509.X509Certificate(ca.certificatePem);
  const [leafKeys, caKey] = await Promise.all([
    cryptoKeys(key),
    createPrivateKey(ca.privateKeyPem).toCryptoKey(webCryptoAlgorithm(caAlgorithm), false, ["sign"]),
  ]);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subjectName(opts.commonName, opts.organizations),
    issuer: caCert.subject,
    ...validityOf(opts),
    publicKey: leafKeys.publicKey,
    signingKey: caKey,
    signingAlgorithm: signingAlgorithm(caAlgorithm),
    extensions: [
      ...usageExtensions(opts.usage, key.algorithm),
      ...subjectAltNames(opts),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certificatePem: cert.toString("pem"), privateKeyPem: key.privateKeyPem };
}

/**
 * A self-signed, non-CA certificate for signing (a registry token signer: distribution
 * trusts exactly the certificates of its `rootcertbundle`).
 */
export async function createSigningCertificate(
  opts: Omit<LeafOptions, "usage" | "dnsNames" | "ipAddresses" | "organizations">,
): Promise<CertificateWithKey> {
  const key = opts.key ?? (await generateKeyPair(opts.algorithm));
  const keys = await cryptoKeys(key);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subjectName(opts.commonName),
    ...validityOf(opts),
    keys,
    signingAlgorithm: signingAlgorithm(key.algorithm),
    extensions: [
      ...usageExtensions("signing", key.algorithm),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificatePem: cert.toString("pem"), privateKeyPem: key.privateKeyPem };
}

/** An IP address in its shortest form (`::1`, not `0:0:0:0:0:0:0:1` as node:crypto prints it). */
export function canonicalIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

function parseSubjectAltName(value: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const part of (value ?? "").split(/,\s*/)) {
    if (part.startsWith("DNS:")) dnsNames.push(part.slice(4));
    else if (part.startsWith("IP Address:")) ipAddresses.push(canonicalIp(part.slice(11)));
  }
  return { dnsNames, ipAddresses };
}

/** The facts of a certificate PEM (the first certificate of a bundle). */
export function certificateInfo(pem: string): CertificateInfo {
  const cert = new X509Certificate(pem);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    isCa: cert.ca,
    ...parseSubjectAltName(cert.subjectAltName),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprint256: cert.fingerprint256,
  };
}

/** True when `certPem` is signed by `caPem`'s key and names it as issuer. */
export function isIssuedBy(certPem: string, caPem: string): boolean {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** True when the certificate's public key is the one of `privateKeyPem`. */
export function matchesPrivateKey(certPem: string, privateKeyPem: string): boolean {
  return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(privateKeyPem));
}
