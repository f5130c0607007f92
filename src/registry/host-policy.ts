// Which hosts the registry client may talk to, with one meaning of a host pattern for every
// list that names hosts (allow list, block list, pull-secret keys):
//   host           that host on any port
//   host:port      that host on that port only
//   *.domain       exactly one label before domain (a.domain, not a.b.domain), as the
//                  kubelet, Docker and TLS certificates read `*`
//   address        an IP address in any spelling (`127.1`, `[::ffff:127.0.0.1]`), optionally
//                  with a port; IPv6 addresses that carry an IPv4 address answer to it too
//   address/bits   an address range (block and allow lists)
// The allow list names the registries users may import from; the block list names every host
// the client may never connect to, checked on the name and again on each resolved address.

import { type Cidr, cidrContains, embeddedIpv4, formatIp, type Ip, parseCidr, parseIp } from "./ip.ts";

export type HostPattern =
  | { kind: "name"; name: string; wildcard: boolean; port?: number }
  | { kind: "address"; range: Cidr; port?: number };

/**
 * Blocked unless configured otherwise: link-local ranges (where cloud metadata services
 * live) and the metadata addresses and names of the major clouds. Loopback stays reachable.
 */
export const DEFAULT_BLOCKED_HOSTS: readonly string[] = [
  "169.254.0.0/16",
  "fe80::/10",
  "fd00:ec2::254",
  "100.100.100.200",
  "metadata.google.internal",
];

/** Never a registry: Linux connects `0.0.0.0` and `::` to the local machine. */
const UNSPECIFIED: readonly Cidr[] = [parseCidr("0.0.0.0/8"), parseCidr("::/128")].filter(
  (c): c is Cidr => c !== undefined,
);

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

export class HostPatternError extends Error {
  override readonly name = "HostPatternError";
}

/** `host[:port]` split, brackets kept off IPv6 addresses; a bare IPv6 address has no port. */
export function splitHostPort(host: string): { hostname: string; port?: number } {
  const text = host.trim();
  let hostname = text;
  let port: string | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    hostname = end < 0 ? text : text.slice(0, end + 1);
    const rest = end < 0 ? "" : text.slice(end + 1);
    if (rest.startsWith(":")) port = rest.slice(1);
    else if (rest !== "") return { hostname: text };
  } else if (text.indexOf(":") === text.lastIndexOf(":") && text.includes(":")) {
    hostname = text.slice(0, text.indexOf(":"));
    port = text.slice(text.indexOf(":") + 1);
  }
  if (port === undefined) return { hostname };
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return { hostname: text };
  return { hostname, port: Number(port) };
}

/** A host name as DNS compares it: lower case, punycode, no trailing dot. */
export function canonicalName(hostname: string): string | undefined {
  try {
    const name = new URL(`http://${hostname}/`).hostname.replace(/\.$/, "");
    return name.split(".").every((label) => LABEL.test(label)) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Parses one list entry; throws HostPatternError naming what is wrong. */
export function parseHostPattern(entry: string): HostPattern {
  const bad = (why: string) =>
    new HostPatternError(
      `"${entry}" is not a host, host:port, *.domain, address or address/bits pattern: ${why}`,
    );
  const text = entry.trim();
  if (text === "" || /[/@?#\s]/.test(text.replace(/\/\d{1,3}$/, "")) || text.includes("://")) {
    throw bad("it must not contain a scheme, path or spaces");
  }
  if (/\/\d{1,3}$/.test(text)) {
    const range = parseCidr(text.replace(/^\[([^\]]*)\]/, "$1"));
    if (!range) throw bad("invalid address range");
    return { kind: "address", range };
  }
  const { hostname, port } = splitHostPort(text);
  const withPort = <T extends object>(p: T): T & { port?: number } =>
    port === undefined ? p : { ...p, port };
  const ip = parseIp(hostname);
  if (ip) return withPort({ kind: "address", range: parseCidr(formatIp(ip)) as Cidr });
  const wildcard = hostname.startsWith("*.");
  const name = canonicalName(wildcard ? hostname.slice(2) : hostname);
  if (name === undefined || name.includes("*")) throw bad("invalid host name");
  return withPort({ kind: "name", name, wildcard });
}

interface ParsedHost {
  text: string;
  name?: string;
  ip?: Ip;
  port?: number;
}

function parseHost(host: string, defaultPort?: number): ParsedHost | undefined {
  const { hostname, port } = splitHostPort(host);
  const effectivePort = port ?? defaultPort;
  const base: ParsedHost = { text: host, ...(effectivePort === undefined ? {} : { port: effectivePort }) };
  const ip = parseIp(hostname);
  if (ip) return { ...base, ip };
  const name = canonicalName(hostname);
  return name === undefined ? undefined : { ...base, name };
}

function portMatches(pattern: HostPattern, port: number | undefined): boolean {
  return pattern.port === undefined || pattern.port === port;
}

function matchesParsed(pattern: HostPattern, host: ParsedHost): boolean {
  if (!portMatches(pattern, host.port)) return false;
  if (pattern.kind === "address") return host.ip !== undefined && cidrContains(pattern.range, host.ip);
  if (host.name === undefined) return false;
  if (!pattern.wildcard) return host.name === pattern.name;
  const suffix = `.${pattern.name}`;
  if (!host.name.endsWith(suffix)) return false;
  const label = host.name.slice(0, -suffix.length);
  return label !== "" && !label.includes(".");
}

/** Whether `host` (`name`, `name:port`, an address) is one the pattern names. */
export function hostMatches(pattern: HostPattern, host: string): boolean {
  const parsed = parseHost(host);
  return parsed !== undefined && matchesParsed(pattern, parsed);
}

export interface HostPolicySettings {
  /** Registries users may import from; empty allows every registry not blocked. */
  allow?: readonly string[];
  /** Hosts the client never connects to (DEFAULT_BLOCKED_HOSTS when not given). */
  block?: readonly string[];
}

export interface HostPolicy {
  /** Why imports may not use `registry` (as the user wrote it): block list first, then allow list. */
  refusedRegistry(registry: string): string | undefined;
  /** Why no request may go to `host` (a URL's host; `defaultPort` from its scheme), by name or address. */
  refusedHost(host: string, defaultPort?: number): string | undefined;
  /** Why no connection may go to `address`, one of the addresses `host` resolved to. */
  refusedAddress(address: string, port: number, host: string): string | undefined;
}

/** An address as messages show it: `127.0.0.1`, `::ffff:7f00:1 = 127.0.0.1`. */
function describeIp(ip: Ip): string {
  const v4 = ip.family === 6 ? embeddedIpv4(ip.value) : undefined;
  return v4 === undefined ? formatIp(ip) : `${formatIp(ip)} = ${formatIp({ family: 4, value: v4 })}`;
}

function blockedMessage(host: string): string {
  return `registry host ${host} is blocked by the operator's registry policy`;
}

export function createHostPolicy(settings: HostPolicySettings = {}): HostPolicy {
  const allow = (settings.allow ?? []).map(parseHostPattern);
  const block = (settings.block ?? DEFAULT_BLOCKED_HOSTS).map(parseHostPattern);

  function refusedAddressOf(ip: Ip, port: number | undefined): boolean {
    const parsed: ParsedHost = { text: "", ip, ...(port === undefined ? {} : { port }) };
    return (
      UNSPECIFIED.some((range) => cidrContains(range, ip)) || block.some((p) => matchesParsed(p, parsed))
    );
  }

  function refusedHost(host: string, defaultPort?: number): string | undefined {
    const parsed = parseHost(host, defaultPort);
    // A host the URL parser cannot read is never connected to: refuse rather than guess.
    if (!parsed) return `registry host ${host} is not a valid host name`;
    if (parsed.ip) {
      if (!refusedAddressOf(parsed.ip, parsed.port)) return undefined;
      const written = splitHostPort(host).hostname.replace(/^\[|\]$/g, "");
      const canonical = describeIp(parsed.ip);
      return blockedMessage(written === canonical ? host : `${host} (${canonical})`);
    }
    return block.some((p) => matchesParsed(p, parsed)) ? blockedMessage(host) : undefined;
  }

  return {
    refusedRegistry(registry) {
      const blocked = refusedHost(registry);
      if (blocked) return blocked;
      if (allow.length > 0 && !allow.some((p) => hostMatches(p, registry))) {
        return `registry host ${registry} is not in the operator's list of allowed registries`;
      }
      return undefined;
    },
    refusedHost,
    refusedAddress(address, port, host) {
      const ip = parseIp(address);
      if (ip && !refusedAddressOf(ip, port)) return undefined;
      const shown = ip ? describeIp(ip) : address;
      return `registry host ${host} resolves to ${shown}, which is blocked by the operator's registry policy`;
    },
  };
}
