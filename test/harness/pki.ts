// Certificates for the harness, made with the openssl CLI: one private CA per directory,
// serving certs for 127.0.0.1/localhost and client certs for Kubernetes identities.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runChecked } from "./process.ts";

export interface CertificateAuthority {
  certFile: string;
  keyFile: string;
}

export interface KeyPair {
  certFile: string;
  keyFile: string;
}

const DAYS = "30";
// EC keys: generated in milliseconds, accepted by Go TLS, kube-apiserver and skopeo.
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export async function createCa(dir: string, commonName: string): Promise<CertificateAuthority> {
  const certFile = join(dir, "ca.crt");
  const keyFile = join(dir, "ca.key");
  await runChecked("openssl", [
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    DAYS,
    "-subj",
    `/CN=${commonName}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
  ]);
  return { certFile, keyFile };
}

async function issue(
  ca: CertificateAuthority,
  dir: string,
  name: string,
  subject: string,
  extensions: string[],
): Promise<KeyPair> {
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, `${extensions.join("\n")}\n`);
  await runChecked("openssl", ["req", ...EC_KEY, "-keyout", keyFile, "-out", csrFile, "-subj", subject]);
  await runChecked("openssl", [
    "x509",
    "-req",
    "-in",
    csrFile,
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    // A random serial: -CAcreateserial races when several certs are issued in parallel.
    "-set_serial",
    `0x${randomBytes(16).toString("hex")}`,
    "-days",
    DAYS,
    "-out",
    certFile,
    "-extfile",
    extFile,
  ]);
  return { certFile, keyFile };
}

/** Serving cert valid for https://127.0.0.1 and https://localhost. */
export function issueServingCert(ca: CertificateAuthority, dir: string, name: string): Promise<KeyPair> {
  return issue(ca, dir, name, `/CN=${name}`, [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ]);
}

/** Client cert; Kubernetes reads CN as the user name and each O as a group. */
export function issueClientCert(
  ca: CertificateAuthority,
  dir: string,
  name: string,
  user: string,
  groups: string[] = [],
): Promise<KeyPair> {
  const subject = `${groups.map((g) => `/O=${g}`).join("")}/CN=${user}`;
  return issue(ca, dir, name, subject, [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=clientAuth",
  ]);
}

/** RSA key pair (private key PEM + public key PEM), e.g. for service-account tokens. */
export async function createRsaKeyPair(
  dir: string,
  name: string,
): Promise<{ keyFile: string; pubFile: string }> {
  const keyFile = join(dir, `${name}.key`);
  const pubFile = join(dir, `${name}.pub`);
  await runChecked("openssl", [
    "genpkey",
    "-algorithm",
    "RSA",
    "-pkeyopt",
    "rsa_keygen_bits:2048",
    "-out",
    keyFile,
  ]);
  await runChecked("openssl", ["pkey", "-in", keyFile, "-pubout", "-out", pubFile]);
  return { keyFile, pubFile };
}

/** Self-signed RSA certificate (token signing: the registry trusts exactly this cert). */
export async function createSelfSignedRsaCert(
  dir: string,
  name: string,
  commonName: string,
): Promise<KeyPair> {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  await runChecked("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    DAYS,
    "-subj",
    `/CN=${commonName}`,
  ]);
  return { certFile, keyFile };
}
