// The probe and scrape listeners: /metrics on the metrics address, /healthz and /readyz on the
// health address. Separate listeners, so the metrics port can stay internal while the kubelet
// probes the health port. Both are routes on the project's one HTTP server stack (src/http).
import { type Route, type RunningHttpServer, startHttpServer } from "../http/index.ts";
import type { Logger } from "../log/index.ts";
import { type CheckKind, type HealthChecks, renderReport } from "./health.ts";
import type { OperatorMetrics } from "./metrics.ts";

/** Serves /metrics; resolves undefined when the address is "0" (disabled); rejects with a ListenError. */
export function startMetricsServer(
  address: string,
  metrics: OperatorMetrics,
  log: Logger,
): Promise<RunningHttpServer | undefined> {
  const route: Route = {
    name: "metrics",
    methods: ["GET"],
    path: "/metrics",
    handle: async () => {
      const { contentType, body } = await metrics.exposition();
      return { status: 200, headers: { "content-type": contentType }, body };
    },
  };
  return startHttpServer({ name: "metrics", address, routes: [route], log });
}

/** Serves /healthz and /readyz (add ?verbose for every check); undefined when the address is "0"; rejects with a ListenError. */
export function startHealthServer(
  address: string,
  checks: HealthChecks,
  log: Logger,
): Promise<RunningHttpServer | undefined> {
  const probe = (name: string, path: string, kind: CheckKind): Route => ({
    name,
    methods: ["GET"],
    path,
    handle: async (req) => {
      const report = await checks.run(kind);
      return { status: report.ok ? 200 : 500, body: renderReport(kind, report, req.query.has("verbose")) };
    },
  });
  return startHttpServer({
    name: "health",
    address,
    routes: [probe("healthz", "/healthz", "liveness"), probe("readyz", "/readyz", "readiness")],
    log,
  });
}
