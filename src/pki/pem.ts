// PEM armour (RFC 7468): encode DER with a label, decode every block of a bundle.

export interface PemBlock {
  /** `CERTIFICATE`, `PRIVATE KEY`, `PUBLIC KEY`, ... */
  label: string;
  der: Buffer;
}

export class PemError extends Error {
  override readonly name = "PemError";
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/** DER bytes as a PEM block, base64 wrapped at 64 columns, ending with a newline. */
export function encodePem(label: string, der: Uint8Array | ArrayBuffer): string {
  const base64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Every PEM block in `text`, in order; text between blocks is ignored (as openssl does). */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, label = "", body = "", endLabel] = match;
    if (label !== endLabel) throw new PemError(`PEM block "${label}" ends with "${endLabel}"`);
    const compact = body.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
      throw new PemError(`PEM block "${label}" is not valid base64`);
    }
    blocks.push({ label, der: Buffer.from(compact, "base64") });
  }
  return blocks;
}

/** The certificates of a bundle, each as its own PEM string. Throws when there is none. */
export function splitCertificates(bundle: string): string[] {
  const certs = decodePem(bundle)
    .filter((b) => b.label === "CERTIFICATE")
    .map((b) => encodePem("CERTIFICATE", b.der));
  if (certs.length === 0) throw new PemError("no CERTIFICATE block found");
  return certs;
}
