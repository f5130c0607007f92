// Prometheus metrics and the /metrics, /healthz and /readyz endpoints.
export {
  type CheckKind,
  type CheckOutcome,
  checkWhen,
  type HealthCheck,
  HealthChecks,
  type HealthChecksOptions,
  type HealthReport,
  renderReport,
} from "./health.ts";
export {
  createMetrics,
  type ImportResultLabel,
  METRIC_PREFIX,
  type MetricsOptions,
  OperatorMetrics,
  type QueueObserver,
  type ReconcileResultLabel,
  type TriggerWriteResultLabel,
} from "./metrics.ts";
export { startHealthServer, startMetricsServer } from "./server.ts";
