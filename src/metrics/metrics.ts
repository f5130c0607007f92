// The operator's Prometheus metrics on their own prom-client Registry (never the global
// default, so tests and embedders get isolated registries). The rest of the code records
// through the typed methods here and never touches prom-client.
import { performance } from "node:perf_hooks";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export const METRIC_PREFIX = "imagestream_";

/** Seconds; covers fast cache hits up to slow registries and large reconciles. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Queue waits can be long when workers are saturated or a key is backing off. */
const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

export type ReconcileResultLabel = "success" | "requeue_after" | "error";

/** What one controller's work queue reports; the runtime's WorkQueueHooks have this shape. */
export interface QueueObserver {
  onAdd(): void;
  onRetry(): void;
  onQueueLatency(key: unknown, ms: number): void;
  onWorkDuration(key: unknown, ms: number): void;
  onProcessError(): void;
}

/** A reconcile as metrics see it: any key and context, done or asking for a requeue. */
// biome-ignore lint/suspicious/noConfusingVoidType: a reconcile that returns nothing means done.
type Reconcile<K, C> = (key: K, ctx: C) => Promise<{ requeueAfter?: number } | void>;
export type ImportResultLabel = "success" | "failure" | "unchanged";
export type TriggerWriteResultLabel = "success" | "conflict" | "failure";
/**
 * What an admission webhook answered: allowed unchanged, allowed with a patch, denied (a
 * decision such as oc tag's 403), rejected (a body that is not an AdmissionReview: 4xx), or
 * error (the handler failed: a 500 answer, or a denial with an InternalError).
 */
export type AdmissionResultLabel = "allowed" | "patched" | "denied" | "rejected" | "error";
/** Content the registry client keeps by digest: manifests (with their facts) and image configs. */
export type RegistryCacheLabel = "manifest" | "config";

export interface MetricsOptions {
  /** Node.js process and runtime metrics (process_*, nodejs_*); default true. */
  defaultMetrics?: boolean;
}

export class OperatorMetrics {
  readonly registry: Registry;
  readonly #queueDepthSources = new Map<string, () => number>();

  readonly #queueDepth: Gauge<"controller">;
  readonly #queueAdds: Counter<"controller">;
  readonly #queueRetries: Counter<"controller">;
  readonly #queueDuration: Histogram<"controller">;
  readonly #workDuration: Histogram<"controller">;
  readonly #processErrors: Counter<"controller">;
  readonly #reconciles: Counter<"controller" | "result">;
  readonly #reconcileErrors: Counter<"controller">;
  readonly #reconcileDuration: Histogram<"controller" | "result">;
  readonly #registryRequests: Counter<"registry" | "method" | "code">;
  readonly #registryRequestDuration: Histogram<"registry" | "method">;
  readonly #rateLimitWaits: Counter<"registry">;
  readonly #rateLimitWaitSeconds: Counter<"registry">;
  readonly #registryCache: Counter<"cache" | "result">;
  readonly #tagLookups: Counter<"freshness" | "result">;
  readonly #imports: Counter<"result" | "reason">;
  readonly #triggerWrites: Counter<"result">;
  readonly #httpRequests: Counter<"server" | "route" | "code">;
  readonly #registryTokens: Counter<"result">;
  readonly #pushEvents: Counter<"result" | "reason">;
  readonly #receiverRequests: Counter<"provider" | "result">;
  readonly #httpRequestDuration: Histogram<"server" | "route">;
  readonly #admissionRequests: Counter<"webhook" | "operation" | "result">;
  readonly #admissionDuration: Histogram<"webhook" | "operation">;
  readonly #leader: Gauge;

  constructor(options: MetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    const depthSources = this.#queueDepthSources;

    this.#queueDepth = new Gauge({
      name: `${METRIC_PREFIX}workqueue_depth`,
      help: "Keys waiting in the work queue, per controller.",
      labelNames: ["controller"],
      registers,
      collect() {
        // Read at scrape time: the queue owns the number, the gauge only reports it.
        for (const [controller, depth] of depthSources) this.set({ controller }, depth());
      },
    });
    this.#queueAdds = new Counter({
      name: `${METRIC_PREFIX}workqueue_adds_total`,
      help: "Keys accepted into the work queue (duplicates of waiting keys are not counted).",
      labelNames: ["controller"],
      registers,
    });
    this.#queueRetries = new Counter({
      name: `${METRIC_PREFIX}workqueue_retries_total`,
      help: "Keys scheduled again with backoff after a failed reconcile.",
      labelNames: ["controller"],
      registers,
    });
    this.#queueDuration = new Histogram({
      name: `${METRIC_PREFIX}workqueue_queue_duration_seconds`,
      help: "Time a key waited in the work queue before processing started.",
      labelNames: ["controller"],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.#workDuration = new Histogram({
      name: `${METRIC_PREFIX}workqueue_work_duration_seconds`,
      help: "Time one processing of a key took.",
      labelNames: ["controller"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#processErrors = new Counter({
      name: `${METRIC_PREFIX}workqueue_unhandled_errors_total`,
      help: "Errors that escaped the reconcile loop into the work queue (a bug if not zero).",
      labelNames: ["controller"],
      registers,
    });
    this.#reconciles = new Counter({
      name: `${METRIC_PREFIX}reconcile_total`,
      help: "Reconciles by outcome: success, requeue_after or error (retried with backoff).",
      labelNames: ["controller", "result"],
      registers,
    });
    this.#reconcileErrors = new Counter({
      name: `${METRIC_PREFIX}reconcile_errors_total`,
      help: "Reconciles that failed (each is retried with backoff).",
      labelNames: ["controller"],
      registers,
    });
    this.#reconcileDuration = new Histogram({
      name: `${METRIC_PREFIX}reconcile_duration_seconds`,
      help: "Time one reconcile took, by outcome.",
      labelNames: ["controller", "result"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#registryRequests = new Counter({
      name: `${METRIC_PREFIX}registry_requests_total`,
      help: 'HTTP requests to image registries by registry host, method and status code ("error" without a response).',
      labelNames: ["registry", "method", "code"],
      registers,
    });
    this.#registryRequestDuration = new Histogram({
      name: `${METRIC_PREFIX}registry_request_duration_seconds`,
      help: "Duration of HTTP requests to image registries.",
      labelNames: ["registry", "method"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#rateLimitWaits = new Counter({
      name: `${METRIC_PREFIX}rate_limit_waits_total`,
      help: "Requests that had to wait for a registry's rate limit.",
      labelNames: ["registry"],
      registers,
    });
    this.#rateLimitWaitSeconds = new Counter({
      name: `${METRIC_PREFIX}rate_limit_wait_seconds_total`,
      help: "Total time requests waited for a registry's rate limit.",
      labelNames: ["registry"],
      registers,
    });
    this.#registryCache = new Counter({
      name: `${METRIC_PREFIX}registry_cache_lookups_total`,
      help: "Lookups in the registry client's by-digest cache of manifests and image configs, by hit or miss.",
      labelNames: ["cache", "result"],
      registers,
    });
    this.#tagLookups = new Counter({
      name: `${METRIC_PREFIX}registry_tag_lookups_total`,
      help: "Lookups of where a tag points, by freshness (seen: must start after the operator saw a re-import request or a new spec tag; recent: one of the last 5 s will do) and result (shared with another lookup, or sent to the registry).",
      labelNames: ["freshness", "result"],
      registers,
    });
    this.#imports = new Counter({
      name: `${METRIC_PREFIX}imports_total`,
      help: "Tag imports by result (success, failure, unchanged) and condition reason of failures.",
      labelNames: ["result", "reason"],
      registers,
    });
    this.#triggerWrites = new Counter({
      name: `${METRIC_PREFIX}trigger_writes_total`,
      help: "Workload image writes by image triggers, by result (success, conflict, failure).",
      labelNames: ["result"],
      registers,
    });
    this.#httpRequests = new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: "Requests answered by the operator's HTTP servers (webhooks, registry endpoints, probes), by server, route and status code.",
      labelNames: ["server", "route", "code"],
      registers,
    });
    this.#httpRequestDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: "Time from a request's arrival to its answer, by server and route.",
      labelNames: ["server", "route"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#admissionRequests = new Counter({
      name: `${METRIC_PREFIX}admission_requests_total`,
      help: "AdmissionReviews answered by the operator's webhooks, by webhook, operation and result (allowed, patched, denied, rejected, error).",
      labelNames: ["webhook", "operation", "result"],
      registers,
    });
    this.#admissionDuration = new Histogram({
      name: `${METRIC_PREFIX}admission_request_duration_seconds`,
      help: "Time a webhook took to answer an AdmissionReview (the latency it adds to the API request), by webhook and operation.",
      labelNames: ["webhook", "operation"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#registryTokens = new Counter({
      name: `${METRIC_PREFIX}registry_token_requests_total`,
      help: "Integrated-registry token requests by result: issued, unauthenticated, bad-request, unavailable.",
      labelNames: ["result"],
      registers,
    });
    this.#pushEvents = new Counter({
      name: `${METRIC_PREFIX}registry_push_events_total`,
      help: "Integrated-registry notification events by result (recorded, unchanged, gone, no-stream, ignored, failed) and the reason an event was ignored.",
      labelNames: ["result", "reason"],
      registers,
    });
    this.#receiverRequests = new Counter({
      name: `${METRIC_PREFIX}receiver_requests_total`,
      help: 'Webhook requests to receivers by provider ("unknown" for an unknown path) and result: accepted, unavailable, or why it was refused (bad-signature, bad-token, malformed, too-large, unknown-receiver, ...).',
      labelNames: ["provider", "result"],
      registers,
    });
    this.#leader = new Gauge({
      name: `${METRIC_PREFIX}leader`,
      help: "1 while this replica holds the leader lease (or runs without leader election), else 0.",
      registers,
    });
    this.#leader.set(0);

    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  /**
   * Work queue hooks for one controller (ControllerOptions.hooks). Its series start at zero so
   * rates are defined from the first scrape.
   */
  workQueueHooks(controller: string): QueueObserver {
    const labels = { controller };
    this.#queueAdds.inc(labels, 0);
    this.#queueRetries.inc(labels, 0);
    this.#processErrors.inc(labels, 0);
    this.#reconcileErrors.inc(labels, 0);
    return {
      onAdd: () => this.#queueAdds.inc(labels),
      onRetry: () => this.#queueRetries.inc(labels),
      onQueueLatency: (_key, ms) => this.#queueDuration.observe(labels, ms / 1000),
      onWorkDuration: (_key, ms) => this.#workDuration.observe(labels, ms / 1000),
      onProcessError: () => this.#processErrors.inc(labels),
    };
  }

  /** Reports `depth()` (e.g. `() => controller.queue.depth`) at every scrape; returns an unregister function. */
  trackQueueDepth(controller: string, depth: () => number): () => void {
    this.#queueDepthSources.set(controller, depth);
    return () => {
      if (this.#queueDepthSources.get(controller) === depth) this.#queueDepthSources.delete(controller);
      this.#queueDepth.remove({ controller });
    };
  }

  reconcile(controller: string, result: ReconcileResultLabel, seconds: number): void {
    this.#reconciles.inc({ controller, result });
    if (result === "error") this.#reconcileErrors.inc({ controller });
    this.#reconcileDuration.observe({ controller, result }, seconds);
  }

  /** Wraps a reconciler so every call is counted and timed by outcome; results and errors pass through. */
  instrumentReconciler<K, C>(controller: string, reconcile: Reconcile<K, C>): Reconcile<K, C> {
    return async (key, ctx) => {
      const started = performance.now();
      const elapsed = () => (performance.now() - started) / 1000;
      try {
        const result = await reconcile(key, ctx);
        const requeued = result?.requeueAfter !== undefined && result.requeueAfter >= 0;
        this.reconcile(controller, requeued ? "requeue_after" : "success", elapsed());
        return result;
      } catch (err) {
        this.reconcile(controller, "error", elapsed());
        throw err;
      }
    };
  }

  /** One HTTP request to a registry; `status` undefined when no response arrived. */
  registryRequest(registry: string, method: string, status: number | undefined, seconds: number): void {
    const code = status === undefined ? "error" : String(status);
    this.#registryRequests.inc({ registry, method: method.toUpperCase(), code });
    this.#registryRequestDuration.observe({ registry, method: method.toUpperCase() }, seconds);
  }

  /** A request waited `seconds` for a registry's rate limit. */
  rateLimitWait(registry: string, seconds: number): void {
    this.#rateLimitWaits.inc({ registry });
    this.#rateLimitWaitSeconds.inc({ registry }, Math.max(0, seconds));
  }

  /** A lookup in the registry client's by-digest cache; a miss is followed by a registry GET. */
  registryCacheLookup(cache: RegistryCacheLabel, hit: boolean): void {
    this.#registryCache.inc({ cache, result: hit ? "hit" : "miss" });
  }

  /** A lookup of where a tag points; `shared` when another lookup answered it. */
  registryTagLookup(lookup: { fresh: boolean; shared: boolean }): void {
    this.#tagLookups.inc({
      freshness: lookup.fresh ? "seen" : "recent",
      result: lookup.shared ? "shared" : "sent",
    });
  }

  /** One tag import; `reason` is the OpenShift condition reason of a failure (NotFound, Unauthorized, ...). */
  importResult(result: ImportResultLabel, reason = ""): void {
    this.#imports.inc({ result, reason });
  }

  triggerWrite(result: TriggerWriteResultLabel): void {
    this.#triggerWrites.inc({ result });
  }

  /** One request answered by an HTTP server of the operator (feed it from the server's onRequest). */
  httpRequest(server: string, route: string, status: number, seconds: number): void {
    this.#httpRequests.inc({ server, route, code: String(status) });
    this.#httpRequestDuration.observe({ server, route }, seconds);
  }

  /** One AdmissionReview answered; `operation` is CREATE, UPDATE, ... or "" for a body that was not one. */
  admissionRequest(webhook: string, operation: string, result: AdmissionResultLabel, seconds: number): void {
    this.#admissionRequests.inc({ webhook, operation, result });
    this.#admissionDuration.observe({ webhook, operation }, seconds);
  }

  /** One token request to the integrated registry's realm. */
  registryTokenRequest(result: string): void {
    this.#registryTokens.inc({ result });
  }

  /** One event of an integrated-registry notification; `reason` says why an ignored one was. */
  registryPushEvent(result: string, reason = ""): void {
    this.#pushEvents.inc({ result, reason });
  }

  /** One webhook request to a receiver. */
  receiverRequest(provider: string, result: string): void {
    this.#receiverRequests.inc({ provider, result });
  }

  setLeader(leading: boolean): void {
    this.#leader.set(leading ? 1 : 0);
  }

  /** The exposition text and its content type, as served on /metrics. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

export function createMetrics(options: MetricsOptions = {}): OperatorMetrics {
  return new OperatorMetrics(options);
}
