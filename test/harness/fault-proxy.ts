// A fault-injecting reverse proxy (in the spirit of toxiproxy) in front of a REAL registry:
// requests are forwarded unchanged to the registry, and faults switched on at run time
// change what the client sees: connections refused, 429s, a wrong Docker-Content-Digest,
// oversized manifests. The proxy itself speaks plain HTTP on 127.0.0.1.
import { createHash } from "node:crypto";
import {
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { RegistryConnection } from "./registry.ts";

/** The standing behaviour of the proxy; a pending `tooManyRequests` budget applies on top of it. */
export type FaultMode = "passthrough" | "down" | "corruptDigest" | "oversized";

/** One request the proxy received, and what it did with it. */
export interface ProxiedRequest {
  method: string;
  path: string;
  /** Epoch ms when the request arrived at the proxy. */
  at: number;
  /** Status returned to the client (502 when the registry could not be reached). */
  status: number;
  /** True when the request reached the registry (a 429 injected by the proxy does not). */
  forwarded: boolean;
  /** The fault applied to this request, if any. */
  fault?: "tooManyRequests" | "corruptDigest" | "oversized";
}

export interface FaultProxy {
  /** 127.0.0.1:PORT (or the listen address given), to use as the registry host in image references. */
  readonly host: string;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly mode: FaultMode;
  /** Requests forwarded to the registry so far. */
  readonly forwarded: number;
  /** Every request received while listening, oldest first. */
  readonly requests: readonly ProxiedRequest[];
  /** Forward everything unchanged (listening again if the proxy was down). */
  passthrough(): Promise<void>;
  /** Refuse connections: stop listening (the port is kept for `passthrough`) and drop open connections. */
  down(): Promise<void>;
  /** Answer the next `count` requests with 429 and `Retry-After: retryAfterSeconds` instead of forwarding them. */
  tooManyRequests(count: number, retryAfterSeconds: number): Promise<void>;
  /** Rewrite the Docker-Content-Digest header of manifest responses to a digest that does not match. */
  corruptDigest(): Promise<void>;
  /** Append `extraBytes` of JSON whitespace to manifest bodies (HEAD reports the grown length too). */
  oversized(extraBytes?: number): Promise<void>;
  stop(): Promise<void>;
}

const MANIFEST_PATH = /^\/v2\/.+\/manifests\/[^/]+$/;
/** Above the registry client's default 4 MiB manifest limit. */
const DEFAULT_OVERSIZE_BYTES = 5 * 1024 * 1024;
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** A well-formed sha256 digest that differs from `digest`. */
export function wrongDigest(digest: string): string {
  return `sha256:${createHash("sha256").update(`not ${digest}`).digest("hex")}`;
}

/**
 * Starts a proxy on a free loopback port in front of `upstream` (any harness registry);
 * `listenAddress` picks another loopback address (127.0.0.2, ...) for host policy tests.
 */
export async function startFaultProxy(
  upstream: RegistryConnection,
  listenAddress = "127.0.0.1",
): Promise<FaultProxy> {
  const target = new URL(upstream.url);
  const tls = target.protocol === "https:";
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, ...(upstream.caPem ? { ca: upstream.caPem } : {}) })
    : new HttpAgent({ keepAlive: true });
  const send = tls ? httpsRequest : httpRequest;

  let mode: FaultMode = "passthrough";
  let pending429 = 0;
  let retryAfterSeconds = 0;
  let oversizeBytes = DEFAULT_OVERSIZE_BYTES;
  let forwarded = 0;
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => handle(req, res));
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const entry: ProxiedRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      at: Date.now(),
      status: 0,
      forwarded: false,
    };
    requests.push(entry);
    res.on("error", () => {}); // the client may hang up on an oversized body
    if (mode === "down") {
      req.socket.destroy();
      return;
    }
    if (pending429 > 0) {
      pending429--;
      entry.status = 429;
      entry.fault = "tooManyRequests";
      req.resume();
      const body = JSON.stringify({ errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] });
      res.writeHead(429, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "retry-after": String(retryAfterSeconds),
      });
      res.end(body);
      return;
    }
    forward(req, res, entry);
  }

  function forward(req: IncomingMessage, res: ServerResponse, entry: ProxiedRequest): void {
    forwarded++;
    entry.forwarded = true;
    const upstreamReq = send(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        // Host stays the proxy's: the registry builds Location and Link URLs from it.
        headers: endToEnd(req.headers),
      },
      (upstreamRes) => respond(req, res, entry, upstreamRes),
    );
    upstreamReq.on("error", () => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("registry unreachable");
    });
    res.on("close", () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
  }

  function respond(
    req: IncomingMessage,
    res: ServerResponse,
    entry: ProxiedRequest,
    upstreamRes: IncomingMessage,
  ): void {
    const status = upstreamRes.statusCode ?? 502;
    const headers = endToEnd(upstreamRes.headers);
    entry.status = status;
    const isManifest = MANIFEST_PATH.test(new URL(req.url ?? "/", "http://proxy").pathname);
    const claimed = headers["docker-content-digest"];
    if (isManifest && mode === "corruptDigest" && typeof claimed === "string") {
      headers["docker-content-digest"] = wrongDigest(claimed);
      entry.fault = "corruptDigest";
    }
    if (isManifest && mode === "oversized" && status === 200) {
      entry.fault = "oversized";
      if (req.method === "HEAD") {
        headers["content-length"] = String(Number(headers["content-length"] ?? 0) + oversizeBytes);
        res.writeHead(status, headers);
        res.end();
        upstreamRes.resume();
        return;
      }
      const chunks: Buffer[] = [];
      upstreamRes.on("data", (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.on("end", () => {
        // Trailing whitespace keeps the JSON valid: only the size is wrong.
        const body = Buffer.concat([...chunks, Buffer.alloc(oversizeBytes, " ")]);
        headers["content-length"] = String(body.byteLength);
        res.writeHead(status, headers);
        res.end(body);
      });
      return;
    }
    res.writeHead(status, headers);
    upstreamRes.pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, listenAddress, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;

  async function listen(): Promise<void> {
    if (server.listening || stopped) return;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, listenAddress, () => {
        server.off("error", reject);
        resolve();
      });
    });
  }

  async function close(): Promise<void> {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  async function switchTo(next: FaultMode): Promise<void> {
    mode = next;
    if (next === "down") await close();
    else await listen();
  }

  return {
    host: `${listenAddress}:${port}`,
    url: `http://${listenAddress}:${port}`,
    get mode() {
      return mode;
    },
    get forwarded() {
      return forwarded;
    },
    requests,
    passthrough: () => switchTo("passthrough"),
    down: () => switchTo("down"),
    async tooManyRequests(count, seconds) {
      pending429 = count;
      retryAfterSeconds = seconds;
      if (mode === "down") await switchTo("passthrough");
    },
    corruptDigest: () => switchTo("corruptDigest"),
    async oversized(extraBytes = DEFAULT_OVERSIZE_BYTES) {
      oversizeBytes = extraBytes;
      await switchTo("oversized");
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await close();
      agent.destroy();
    },
  };
}
