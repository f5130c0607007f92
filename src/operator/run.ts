// Assembles the operator from the runtime and the domains. Two kinds of components: those every
// replica runs (the caches, kept warm so a standby takes over at once, and services answering
// from them) and the controllers, which only the leader runs.
import { hostname } from "node:os";
import { createAdmissionService, createAnswerCleanupController } from "../admission/index.ts";
import type { Config } from "../config/index.ts";
import { createImportController } from "../imports/index.ts";
import { createImageStreamTagController } from "../istags/index.ts";
import type { Logger } from "../log/index.ts";
import { createMetrics, type OperatorMetrics } from "../metrics/index.ts";
import {
  createRegistryClient,
  type RegistryClient,
  type RegistryClientOptions,
  type RequestEvent,
  type TokenIssuer,
} from "../registry/index.ts";
import {
  type ControllerHandle,
  createControllerContext,
  EventRecorder,
  eventSinkFromClient,
  type KubeConnection,
  type ReplicaService,
  SharedInformers,
} from "../runtime/index.ts";
import { createTriggerController } from "../triggers/index.ts";
import { buildHooks, integratedRegistryOf, integratedRegistryParts } from "./hooks.ts";

export interface Operator {
  readonly informers: SharedInformers;
  readonly metrics: OperatorMetrics;
  /** Run on every replica once the caches synced. */
  readonly services: readonly ReplicaService[];
  /** Run by the leader only. */
  readonly controllers: readonly ControllerHandle[];
  /**
   * Every replica: starts the caches and, once they synced, the services. Resolves false when
   * the caches did not sync (stopped first).
   */
  start(): Promise<boolean>;
  /** The leader: starts the controllers; start() must have resolved true. */
  startControllers(): void;
  /** Stops the controllers, finishing in-flight work; resolves false if the drain deadline passed. */
  stopControllers(): Promise<boolean>;
  /** Stops everything: controllers, services, caches, the registry client. */
  stop(): Promise<void>;
}

export interface OperatorDeps {
  kc: KubeConnection;
  config: Config;
  log: Logger;
  caBundle?: string;
  /** Defaults to a fresh registry without process metrics (tests run several operators). */
  metrics?: OperatorMetrics;
  /** Also told about every registry request (tests count them). */
  onRegistryRequest?: (event: RequestEvent) => void;
}

export function buildOperator(deps: OperatorDeps): Operator {
  // One connection (one pool) for every request and watch of the operator.
  const { config, log, kc } = deps;
  const informers = new SharedInformers(kc, log, config.namespaces);
  const events = new EventRecorder({
    sink: eventSinkFromClient(kc),
    logger: log,
    reportingController: "image.openshift.io/imagestream-operator",
    reportingInstance: process.env.POD_NAME ?? hostname(),
  });
  const metrics = deps.metrics ?? createMetrics({ defaultMetrics: false });
  const ctx = createControllerContext({ kc, log, config, informers, events, metrics });
  let registry: RegistryClient | undefined;
  const controllers: ControllerHandle[] = [];
  /** What every replica serves from its caches: admission webhooks, registry endpoints, receivers. */
  const services: ReplicaService[] = [];
  const admission = config.admissionAddress !== "0";
  const observe = deps.onRegistryRequest;
  const clientOptions = (tokenIssuers: readonly TokenIssuer[]): RegistryClientOptions => ({
    ...(deps.caBundle ? { caBundle: deps.caBundle } : {}),
    perRegistryRequestsPerSecond: config.registryRequestsPerSecond,
    perRegistryConcurrency: config.registryConcurrency,
    cacheSize: config.registryCacheSize,
    onCacheLookup: (cache, hit) => metrics.registryCacheLookup(cache, hit),
    onTagLookup: (lookup) => metrics.registryTagLookup(lookup),
    // Allow list: the registries users may import from (and the integrated one); block list:
    // every host and address the client may connect to (redirects and token realms included).
    hostPolicy: {
      allow:
        config.registryAllow.length > 0 && integratedHost
          ? [...config.registryAllow, integratedHost]
          : config.registryAllow,
      block: config.registryBlock,
    },
    onRequest: (e) => {
      metrics.registryRequest(
        e.registry,
        e.method,
        e.status === "error" ? undefined : e.status,
        e.durationMs / 1000,
      );
      observe?.(e);
    },
    onRateLimitWait: (host, waitedMs) => metrics.rateLimitWait(host, waitedMs / 1000),
    tokenIssuers,
    // Images named by the integrated registry's pull location are read where the operator reaches it.
    ...(integratedEndpoint ? { endpoints: [integratedEndpoint] } : {}),
  });
  const integratedEndpoint = integratedRegistryOf(config);
  const integratedHost = integratedEndpoint?.host;
  // The integrated registry's keys (its own pull tokens sign with them); probes get a client of their own.
  const integrated = integratedRegistryParts(ctx, (issuers) => createRegistryClient(clientOptions(issuers)));
  // One registry client for all: ImageStreamTags read image details by digest, which an import
  // (or a push) just cached; pushes, imports and oc import-image's webhook share each registry's
  // budget and host policy.
  if (
    admission ||
    integrated ||
    config.controllers.includes("import") ||
    config.controllers.includes("imagestreamtag")
  ) {
    registry = createRegistryClient(clientOptions(integrated ? [integrated.issuer] : []));
    if (config.controllers.includes("import")) controllers.push(createImportController(ctx, { registry }));
  }
  if (config.controllers.includes("imagestreamtag")) {
    controllers.push(createImageStreamTagController(ctx, registry ? { registry } : {}));
  }
  if (config.controllers.includes("trigger")) controllers.push(createTriggerController(ctx));
  if (admission && registry) {
    services.push(createAdmissionService(ctx, { registry }));
    controllers.push(createAnswerCleanupController(ctx));
  }
  const hooks = buildHooks(ctx, { integrated, registry });
  if (hooks.service) services.push(hooks.service);
  controllers.push(...hooks.controllers);

  let running = false;
  let servicesStarted = false;
  return {
    informers,
    metrics,
    services,
    controllers,
    async start() {
      informers.start();
      if (!(await informers.waitForSync())) return false;
      await Promise.all(services.map((s) => s.start()));
      servicesStarted = true;
      if (services.length > 0) log.info({ services: services.map((s) => s.name) }, "services started");
      return true;
    },
    startControllers() {
      if (running) return;
      running = true;
      for (const c of controllers) c.start();
      log.info({ controllers: controllers.map((c) => c.name) }, "controllers started");
    },
    async stopControllers() {
      if (!running) return true;
      running = false;
      const results = await Promise.all(controllers.map((c) => c.stop()));
      return results.every(Boolean);
    },
    async stop() {
      await this.stopControllers();
      if (servicesStarted) await Promise.all(services.map((s) => s.stop()));
      await informers.stop();
      await registry?.close();
    },
  };
}
