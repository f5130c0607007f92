// The one place that does HTTP: undici with one Agent per TLS setting, a timeout on every
// request, bounded body reads, and no automatic redirects (exchange.ts follows them itself so
// that Authorization never leaves the registry's origin). The host policy holds here, for
// every request: on the registry's name and the URL's host before sending, and on every
// address a name resolves to before connecting, to the address that was checked.

import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { rootCertificates } from "node:tls";
import { RegistryError } from "./errors.ts";
import type { HostPolicy } from "./host-policy.ts";
import {
  Agent,
  type BuildOptions,
  buildConnector,
  type Connector,
  type ResponseData,
  requestUrl,
} from "./undici.ts";

export type HttpMethod = "GET" | "HEAD";

export interface HttpRequest {
  /** The registry the request is made for, as the user named it (the allow list applies to it). */
  registry: string;
  url: string;
  method: HttpMethod;
  headers: Record<string, string>;
  /** Skip certificate verification: only for calls marked insecure. */
  unverifiedTls: boolean;
  signal?: AbortSignal | undefined;
}

export type HeaderValue = string | string[] | undefined;

export interface HttpResponse {
  status: number;
  headers: Record<string, HeaderValue>;
  /** Reads the whole body, failing with BadResponse once it exceeds `limitBytes`. */
  read(limitBytes: number): Promise<Buffer>;
  /** Releases the connection without reading the body. */
  discard(): Promise<void>;
}

/** Sends one HTTP request; rejects only on transport failures (refused, TLS, timeout). */
export type Transport = (req: HttpRequest) => Promise<HttpResponse>;

export interface UndiciTransportOptions {
  /** Extra trusted CA certificates (PEM), added to the system roots. */
  caBundle?: string | string[] | undefined;
  timeoutMs: number;
  /** Checked on every address before connecting. */
  policy: HostPolicy;
  /** Resolves a host name to all its addresses (tests replace DNS). */
  resolve?: Resolver;
}

/** Every address of a host name, as `dns.lookup(name, {all: true})` gives them. */
export type Resolver = (hostname: string, family: number | undefined) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname, family) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, ...(family ? { family } : {}) }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    );
  });

/** A connection the host policy refused; carried through undici to `send`. */
export class HostRefusedError extends Error {
  override readonly name = "HostRefusedError";
  readonly code = "EHOSTREFUSED";
}

/**
 * A `lookup` for net.connect that resolves a name, refuses it when any address is blocked
 * (a name with one blocked address is not trusted with the others), and hands the checked
 * addresses to the connection, so DNS cannot answer differently between check and connect.
 */
export function checkedLookup(policy: HostPolicy, port: number, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options.family === 4 || options.family === 6 ? options.family : undefined).then(
      (addresses) => {
        const host = port === 80 || port === 443 ? hostname : `${hostname}:${port}`;
        for (const a of addresses) {
          const why = policy.refusedAddress(a.address, port, host);
          if (why) return callback(new HostRefusedError(why), "", 0);
        }
        if (addresses.length === 0) {
          return callback(
            Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }),
            "",
            0,
          );
        }
        if (options.all)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        const first = addresses[0] as LookupAddress;
        return callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, "", 0),
    );
  };
}

/** undici's connector with the address check: names through checkedLookup, IP literals here. */
function guardedConnector(tls: BuildOptions, policy: HostPolicy, resolve: Resolver): Connector {
  const byPort = new Map<number, Connector>();
  return (opts, callback) => {
    const port = Number(opts.port) || (opts.protocol === "https:" ? 443 : 80);
    if (isIP(opts.hostname) !== 0) {
      const why = policy.refusedAddress(opts.hostname, port, opts.host ?? opts.hostname);
      if (why) return callback(new HostRefusedError(why), null);
    }
    let connect = byPort.get(port);
    if (!connect) {
      connect = buildConnector({ ...tls, lookup: checkedLookup(policy, port, resolve) });
      byPort.set(port, connect);
    }
    return connect(opts, callback);
  };
}

function refusal(err: unknown): HostRefusedError | undefined {
  for (let e: unknown = err; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    if (e instanceof HostRefusedError) return e;
  }
  return undefined;
}

/**
 * The name checks of the host policy in front of any transport: the allow list on the
 * registry the request is for, the block list on the URL's host (redirect targets and token
 * realms included). Refused requests fail with Forbidden and are never sent.
 */
export function guardedTransport(policy: HostPolicy, inner: Transport): Transport {
  return async (req) => {
    const url = new URL(req.url);
    const why =
      policy.refusedRegistry(req.registry) ??
      policy.refusedHost(url.host, url.protocol === "https:" ? 443 : 80);
    if (why) throw new RegistryError("Forbidden", why);
    return inner(req);
  };
}

export function headerValue(headers: Record<string, HeaderValue>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function tooLarge(limitBytes: number): RegistryError {
  return new RegistryError("BadResponse", `the registry's response exceeds the limit of ${limitBytes} bytes`);
}

/** Collects an async byte stream, stopping as soon as it passes the limit. */
export async function readBounded(
  chunks: AsyncIterable<Uint8Array>,
  limitBytes: number,
  contentLength: string | undefined,
  abort: () => void,
): Promise<Buffer> {
  if (contentLength !== undefined && Number(contentLength) > limitBytes) {
    abort();
    throw tooLarge(limitBytes);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > limitBytes) {
      abort();
      throw tooLarge(limitBytes);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts, total);
}

export interface UndiciTransport {
  send: Transport;
  close(): Promise<void>;
}

export function createUndiciTransport(options: UndiciTransportOptions): UndiciTransport {
  const extraCas = options.caBundle === undefined ? [] : [options.caBundle].flat();
  const timeouts = { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs };
  // Node's `ca` replaces the default roots, so the system roots are passed along with the bundle.
  const resolve = options.resolve ?? systemResolver;
  const verified = new Agent({
    ...timeouts,
    connect: guardedConnector(
      extraCas.length > 0 ? { ca: [...rootCertificates, ...extraCas] } : {},
      options.policy,
      resolve,
    ),
  });
  const unverified = new Agent({
    ...timeouts,
    connect: guardedConnector({ rejectUnauthorized: false }, options.policy, resolve),
  });

  const send: Transport = async (req) => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
    let res: ResponseData;
    try {
      res = await requestUrl(req.unverifiedTls ? unverified : verified, new URL(req.url), {
        method: req.method,
        headers: req.headers,
        signal,
      });
    } catch (err) {
      const refused = refusal(err);
      if (refused) throw new RegistryError("Forbidden", refused.message, { cause: err });
      throw err;
    }
    const headers = res.headers as Record<string, HeaderValue>;
    return {
      status: res.statusCode,
      headers,
      read: (limitBytes) =>
        readBounded(res.body, limitBytes, headerValue(headers, "content-length"), () => res.body.destroy()),
      discard: async () => {
        try {
          await res.body.dump({ limit: 64 * 1024 });
        } catch {
          res.body.destroy();
        }
      },
    };
  };

  return {
    send,
    close: async () => {
      await Promise.all([verified.close(), unverified.close()]);
    },
  };
}
