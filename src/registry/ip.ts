// IP addresses as the host policy compares them: every spelling reduced to one number.
// IPv4 text goes through the WHATWG URL parser, the parser undici itself connects with, so
// `127.1`, `2130706433`, `0x7f000001` and `0177.0.0.1` are the address they reach. IPv6
// addresses that carry an IPv4 address (mapped, compatible, translated, NAT64, 6to4) also
// answer to that IPv4 address.

export type Ip = { family: 4; value: number } | { family: 6; value: bigint };

/** An address range: `address/prefix` (a single address has the full prefix). */
export interface Cidr {
  family: 4 | 6;
  /** The first address of the range. */
  base: bigint;
  prefix: number;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function stripBrackets(text: string): string {
  return text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
}

function parseDottedQuad(text: string): number | undefined {
  const m = DOTTED_QUAD.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

/** Canonical IPv6 text (from the URL parser or a resolver) to a 128-bit number. */
function parseIpv6(text: string): bigint | undefined {
  let head = text;
  let v4Tail: number | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    v4Tail = parseDottedQuad(text.slice(lastColon + 1));
    if (v4Tail === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(halves[0] ?? "");
  const right = halves.length === 2 ? groups(halves[1] ?? "") : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  let value = 0n;
  for (const group of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  if (v4Tail !== undefined) value = (value & ~0xffffffffn) | BigInt(v4Tail);
  return value;
}

/**
 * Parses an IP address in any spelling a URL or a resolver may carry (brackets and an IPv6
 * zone are ignored). Returns undefined for anything that is not an address (a name).
 */
export function parseIp(input: string): Ip | undefined {
  const text = stripBrackets(input.trim()).replace(/%.*$/, "");
  if (text === "") return undefined;
  if (text.includes(":")) {
    let canonical: string;
    try {
      canonical = stripBrackets(new URL(`http://[${text}]/`).hostname);
    } catch {
      return undefined;
    }
    const value = parseIpv6(canonical);
    return value === undefined ? undefined : { family: 6, value };
  }
  let hostname: string;
  try {
    hostname = new URL(`http://${text}/`).hostname;
  } catch {
    return undefined;
  }
  const value = parseDottedQuad(hostname);
  return value === undefined ? undefined : { family: 4, value };
}

const V4_MAPPED = 0xffffn << 32n; // ::ffff:0:0/96
const V4_TRANSLATED = 0xffffn << 48n; // ::ffff:0:0:0/96 (SIIT)
const NAT64 = 0x64ff9bn << 96n; // 64:ff9b::/96
const SIXTO4 = 0x2002n << 112n; // 2002::/16
const LOW32 = 0xffffffffn;

/**
 * The IPv4 address an IPv6 address stands for or routes to, if any: IPv4-mapped
 * (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, not `::` or `::1`), SIIT-translated,
 * NAT64's well-known prefix and 6to4.
 */
export function embeddedIpv4(value: bigint): number | undefined {
  const high96 = value >> 32n;
  if (high96 === V4_MAPPED >> 32n || high96 === V4_TRANSLATED >> 32n || high96 === NAT64 >> 32n) {
    return Number(value & LOW32);
  }
  if (high96 === 0n && value > 1n) return Number(value & LOW32);
  if (value >> 112n === SIXTO4 >> 112n) return Number((value >> 80n) & LOW32);
  return undefined;
}

/** The same address in canonical text: `127.0.0.1`, `fd00:ec2::254`. */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    const n = ip.value;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((ip.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return stripBrackets(new URL(`http://[${groups.join(":")}]/`).hostname);
}

/** Parses `address` or `address/prefix`; an IPv4-mapped IPv6 range becomes the IPv4 range. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(address);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const raw = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(raw) || Number(raw) > bits) return undefined;
    prefix = Number(raw);
  }
  if (ip.family === 6 && prefix >= 96 && ip.value >> 32n === V4_MAPPED >> 32n) {
    return cidrOf(4, ip.value & LOW32, prefix - 96);
  }
  return cidrOf(ip.family, ip.family === 4 ? BigInt(ip.value) : ip.value, prefix);
}

function cidrOf(family: 4 | 6, value: bigint, prefix: number): Cidr {
  const bits = BigInt(family === 4 ? 32 : 128);
  const hostBits = bits - BigInt(prefix);
  return { family, base: (value >> hostBits) << hostBits, prefix };
}

function inRange(cidr: Cidr, family: 4 | 6, value: bigint): boolean {
  if (cidr.family !== family) return false;
  const hostBits = BigInt((family === 4 ? 32 : 128) - cidr.prefix);
  return value >> hostBits === cidr.base >> hostBits;
}

/** True when the address, or the IPv4 address it carries, lies in the range. */
export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  if (ip.family === 4) return inRange(cidr, 4, BigInt(ip.value));
  if (inRange(cidr, 6, ip.value)) return true;
  const v4 = embeddedIpv4(ip.value);
  return v4 !== undefined && inRange(cidr, 4, BigInt(v4));
}
