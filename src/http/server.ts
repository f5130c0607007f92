// The one server-side HTTP stack of the operator (node:http and node:https): listeners for the
// metrics and health probes, the admission webhooks and the registry endpoints. Routes get the
// whole body, bounded, and answer with a plain reply; a handler's failure is a 500 with one
// line, never a crash. HTTPS certificates can be replaced while serving (rotation): new
// connections get the new one, open ones finish on the old.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log/index.ts";

export interface ListenAddress {
  /** undefined: all interfaces. */
  host: string | undefined;
  port: number;
}

/**
 * Parses a listen address as the settings take it: "0" disables the listener (undefined),
 * ":8080" listens on all interfaces, "host:port" and "[::1]:port" on that host. Port 0 picks a
 * free port.
 */
export function parseListenAddress(address: string): ListenAddress | undefined {
  if (address === "0") return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || port > 65_535) throw new RangeError(`"${address}" is not host:port, :port or 0`);
  const host = match[1] ?? match[2];
  return { host: host === "" ? undefined : host, port };
}

/** A listener could not bind its address; `code` is the system error code (EADDRINUSE, ...). */
export class ListenError extends Error {
  readonly code: string | undefined;
  readonly address: string;
  constructor(address: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`cannot listen on ${address}: ${LISTEN_FAILURES[code ?? ""] ?? String(cause)}`, { cause });
    this.name = "ListenError";
    this.code = code;
    this.address = address;
  }
}

const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: "the port is already in use by another process",
  EACCES: "permission denied (ports below 1024 need privileges)",
  EADDRNOTAVAIL: "the host is not an address of this machine",
};

export interface HttpRequest {
  /** Upper case. */
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
  /** The whole body, at most the route's maxBodyBytes. */
  readonly body: Buffer;
  readonly remoteAddress: string | undefined;
  /** Aborted when the client goes away or the server stops. */
  readonly signal: AbortSignal;
}

export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; any other value as JSON. */
  body?: unknown;
}

export interface Route {
  /** Bounded label for logs and metrics, e.g. "admission-lookup". */
  name: string;
  /** Other methods get 405 with Allow. HEAD is answered like GET without a body where GET is listed. */
  methods: readonly string[];
  /** The exact pathname, or with `prefix` every pathname starting with it. */
  path: string;
  prefix?: boolean;
  /** Default DEFAULT_MAX_BODY_BYTES; a larger body gets 413 without reaching the handler. */
  maxBodyBytes?: number;
  handle(req: HttpRequest): Promise<HttpReply>;
}

export interface TlsCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

export interface RequestObservation {
  server: string;
  /** The route's name; "unknown" when no route matched. */
  route: string;
  method: string;
  status: number;
  seconds: number;
}

export interface HttpServerOptions {
  /** "metrics", "health", "admission", "registry-hooks": in logs and metrics. */
  name: string;
  /** "host:port", ":port", or "0" (disabled: startHttpServer resolves undefined). */
  address: string;
  /** Serve HTTPS with this certificate (replace it with setCertificate). */
  tls?: TlsCertificate;
  routes: readonly Route[];
  log: Logger;
  onRequest?: (event: RequestObservation) => void;
  /** A request whose headers and body take longer than this is answered 408 (default 30 s). */
  requestTimeoutMs?: number;
}

export interface RunningHttpServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. https://127.0.0.1:9443. */
  readonly url: string;
  /** Replaces the HTTPS certificate for new connections; throws on a plain HTTP server. */
  setCertificate(tls: TlsCertificate): void;
  /** Stops accepting connections; in-flight requests finish. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function matchRoute(routes: readonly Route[], path: string): Route | undefined {
  return routes.find((r) => (r.prefix ? path.startsWith(r.path) : path === r.path));
}

/** The route's methods, with HEAD wherever GET is served. */
function methodsOf(route: Route): string[] {
  return route.methods.includes("GET") && !route.methods.includes("HEAD")
    ? [...route.methods, "HEAD"]
    : [...route.methods];
}

function encode(reply: HttpReply): { body: Buffer; contentType: string | undefined } {
  const { body } = reply;
  if (body === undefined) return { body: Buffer.alloc(0), contentType: undefined };
  if (Buffer.isBuffer(body)) return { body, contentType: "application/octet-stream" };
  if (typeof body === "string") return { body: Buffer.from(body), contentType: "text/plain; charset=utf-8" };
  return { body: Buffer.from(JSON.stringify(body)), contentType: "application/json" };
}

function send(res: ServerResponse, method: string, reply: HttpReply): void {
  const { body, contentType } = encode(reply);
  const headers: Record<string, string | number> = {
    "cache-control": "no-store",
    ...(contentType ? { "content-type": contentType } : {}),
    ...reply.headers,
    "content-length": body.byteLength,
  };
  res.writeHead(reply.status, headers);
  res.end(method === "HEAD" ? undefined : body);
}

/** Reads the body up to `limit` bytes; undefined when it is larger (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on("data", (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks, total)));
    req.on("error", reject);
  });
}

/** Starts a listener; resolves undefined when the address is "0", rejects with ListenError. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer | undefined> {
  const address = parseListenAddress(options.address);
  if (!address) return undefined;
  const log = options.log.child({ server: options.name });
  const stopping = new AbortController();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = matchRoute(options.routes, url.pathname);
    const reply = await answer(route, method, url, req, res);
    if (!res.headersSent && !res.destroyed) send(res, method, reply);
    options.onRequest?.({
      server: options.name,
      route: route?.name ?? "unknown",
      method,
      status: reply.status,
      seconds: (performance.now() - started) / 1000,
    });
  };

  const answer = async (
    route: Route | undefined,
    method: string,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<HttpReply> => {
    if (!route) return { status: 404, body: "not found\n" };
    const methods = methodsOf(route);
    if (!methods.includes(method)) {
      return { status: 405, headers: { allow: methods.join(", ") }, body: "method not allowed\n" };
    }
    const limit = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    let body: Buffer | undefined;
    try {
      body = await readBody(req, limit);
    } catch {
      return { status: 400, body: "could not read the request body\n" };
    }
    if (body === undefined) return { status: 413, body: `request body exceeds ${limit} bytes\n` };
    const gone = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) gone.abort();
    });
    try {
      return await route.handle({
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        remoteAddress: req.socket.remoteAddress,
        signal: AbortSignal.any([gone.signal, stopping.signal]),
      });
    } catch (err) {
      // The message may name internals but never secrets; the stack stays in the log.
      log.error({ err, route: route.name }, "request handler failed");
      return { status: 500, body: `internal error: ${err instanceof Error ? err.message : String(err)}\n` };
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "request failed");
      res.destroy();
    });
  };
  // setSecureContext swaps the certificate for new handshakes; open connections keep theirs.
  const https = options.tls
    ? createHttpsServer({ cert: options.tls.certificatePem, key: options.tls.privateKeyPem }, listener)
    : undefined;
  const server = https ?? createHttpServer(listener);
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;

  await new Promise<void>((resolve, reject) => {
    const failed = (err: unknown): void => reject(new ListenError(options.address, err));
    server.once("error", failed);
    server.listen(address.port, address.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  server.on("error", (err) => log.error({ err }, "server error"));
  const bound = server.address() as AddressInfo;
  const urlHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  const scheme = https ? "https" : "http";
  log.info({ address: `${urlHost}:${bound.port}`, scheme }, "listening");
  return {
    host: bound.address,
    port: bound.port,
    url: `${scheme}://${urlHost}:${bound.port}`,
    setCertificate(tls) {
      if (!https) throw new Error(`server ${options.name} does not serve HTTPS`);
      https.setSecureContext({ cert: tls.certificatePem, key: tls.privateKeyPem });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        stopping.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        // Scrapers, probes and the API server keep connections alive; do not wait for their timeouts.
        server.closeIdleConnections();
      }),
  };
}
