// The one place that does HTTP: undici with one Agent per TLS setting, a timeout on every
// request, bounded body reads, and no automatic redirects (client.ts follows them itself so
// that Authorization never leaves the registry's origin).

import { rootCertificates } from "node:tls";
import { Agent, request } from "undici";
import { RegistryError } from "./errors.ts";

export type HttpMethod = "GET" | "HEAD";

export interface HttpRequest {
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
  const verified = new Agent({
    ...timeouts,
    connect: extraCas.length > 0 ? { ca: [...rootCertificates, ...extraCas] } : {},
  });
  const unverified = new Agent({ ...timeouts, connect: { rejectUnauthorized: false } });

  const send: Transport = async (req) => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      dispatcher: req.unverifiedTls ? unverified : verified,
      signal,
    });
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
