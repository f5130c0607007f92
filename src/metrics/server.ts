// The HTTP listeners: /metrics on the metrics address, /healthz and /readyz on the health
// address. Separate listeners, so the metrics port can stay internal while the kubelet probes
// the health port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type CheckKind, type HealthChecks, renderReport } from "./health.ts";
import type { OperatorMetrics } from "./metrics.ts";

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

export interface RunningServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

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

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = "text/plain; charset=utf-8",
): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

async function listen(
  text: string,
  address: ListenAddress,
  routes: Record<string, Handler>,
): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = routes[url.pathname];
    if (!route) return send(res, 404, "not found\n");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(res, 405, "method not allowed\n");
    }
    route(req, res, url).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => reject(new ListenError(text, err));
    server.once("error", fail);
    server.listen(address.port, address.host, () => {
      server.off("error", fail);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const urlHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return {
    host: bound.address,
    port: bound.port,
    url: `http://${urlHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Scrapers and probes keep connections alive; do not wait for their timeouts.
        server.closeIdleConnections();
      }),
  };
}

/** Serves /metrics; resolves undefined when the address is "0" (disabled); rejects with a ListenError. */
export async function startMetricsServer(
  address: string,
  metrics: OperatorMetrics,
): Promise<RunningServer | undefined> {
  const listenAddress = parseListenAddress(address);
  if (!listenAddress) return undefined;
  return listen(address, listenAddress, {
    "/metrics": async (_req, res) => {
      const { contentType, body } = await metrics.exposition();
      send(res, 200, body, contentType);
    },
  });
}

/** Serves /healthz and /readyz (add ?verbose for every check); undefined when the address is "0"; rejects with a ListenError. */
export async function startHealthServer(
  address: string,
  checks: HealthChecks,
): Promise<RunningServer | undefined> {
  const listenAddress = parseListenAddress(address);
  if (!listenAddress) return undefined;
  const probe =
    (kind: CheckKind): Handler =>
    async (_req, res, url) => {
      const report = await checks.run(kind);
      send(res, report.ok ? 200 : 500, renderReport(kind, report, url.searchParams.has("verbose")));
    };
  return listen(address, listenAddress, { "/healthz": probe("liveness"), "/readyz": probe("readiness") });
}
