// Entry point: `node src/main.ts` in development, `node dist/main.js` in the container image.
import { readFileSync } from "node:fs";
import { ConfigError, helpText, parseConfig, SETTINGS } from "./config/index.ts";
import { ListenError } from "./http/index.ts";
import { LeaderElector, leaseStoreFromClient } from "./leader/index.ts";
import { createLogger } from "./log/index.ts";
import { createMetrics, HealthChecks, startHealthServer, startMetricsServer } from "./metrics/index.ts";
import { buildOperator } from "./operator/index.ts";
import { loadKubeConfig } from "./runtime/index.ts";

/**
 * An informer restarts a silent watch after 3 minutes and backs off at most 30 s, so one
 * without progress for 10 minutes is stuck in a call that never returns: restart the process.
 */
const INFORMER_STALL_LIMIT_MS = 10 * 60_000;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(helpText());
    return 0;
  }
  let config: ReturnType<typeof parseConfig>;
  let caBundle: string | undefined;
  try {
    const configFile = configFilePath(argv, process.env);
    config = parseConfig(
      withoutConfigFlag(argv),
      process.env,
      configFile ? readSetting("--config", configFile) : undefined,
    );
    caBundle = config.caBundle ? readSetting("--ca-bundle", config.caBundle) : undefined;
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : String(err));
    return 2;
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  let kc: ReturnType<typeof loadKubeConfig>;
  try {
    kc = loadKubeConfig(config.kubeconfig);
  } catch (err) {
    console.error(`invalid setting --kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  log.info(
    {
      server: kc.server,
      namespaces: config.namespaces.length ? config.namespaces : "all",
      controllers: config.controllers,
    },
    "starting imagestream-operator",
  );
  const metrics = createMetrics();
  const operator = buildOperator({ kc, config, log, metrics, ...(caBundle ? { caBundle } : {}) });
  const health = new HealthChecks();
  health.addReadiness("informers-synced", () => operator.informers.hasSynced() || "caches not synced yet");
  // A replica receives webhook traffic only once it serves (the Service routes to ready pods).
  for (const service of operator.services) {
    const ready = service.ready?.bind(service);
    if (ready)
      health.addReadiness(service.name, () =>
        operator.informers.hasSynced() ? ready() : "caches not synced yet",
      );
  }
  health.addLiveness("informers-progressing", () => {
    const worst = operator.informers.mostStalled();
    if (!worst || worst.stalledMs < INFORMER_STALL_LIMIT_MS) return true;
    return `informer ${worst.name} made no progress for ${Math.round(worst.stalledMs / 1000)}s`;
  });
  let servers: Awaited<ReturnType<typeof startMetricsServer>>[];
  try {
    servers = await Promise.all([
      listening("metrics-address", startMetricsServer(config.metricsAddress, metrics, log)),
      listening("health-address", startHealthServer(config.healthAddress, health, log)),
    ]);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : String(err));
    return 2;
  }

  const stopped = terminationSignal(log);
  let synced: boolean;
  try {
    // The services every replica runs (the hooks listener, the admission webhooks) bind their ports here.
    const flagOf = (address: string): string =>
      address === config.admissionAddress ? "admission-address" : "hooks-address";
    synced = await Promise.race([listening(flagOf, operator.start()), stopped.then(() => false)]);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : String(err));
    await operator.stop();
    await Promise.all(servers.map((s) => s?.close()));
    return err instanceof ConfigError ? 2 : 1;
  }
  let elector: LeaderElector | undefined;
  const lost = Promise.withResolvers<void>();
  if (synced && config.leaderElect) {
    elector = new LeaderElector({
      store: leaseStoreFromClient(kc, config.leaderElectionNamespace, config.leaderElectionName),
      leaseDurationMs: config.leaseDurationMs,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
      logger: log,
      callbacks: {
        onStartedLeading: () => {
          metrics.setLeader(true);
          operator.startControllers();
        },
        onStoppedLeading: async () => {
          metrics.setLeader(false);
          await operator.stopControllers();
          // Outside a shutdown this means the lease was lost: exit, restart as a fresh standby.
          lost.resolve();
        },
        onNewLeader: (identity) => log.info({ leader: identity }, "leader observed"),
      },
    });
    void elector.run();
  } else if (synced) {
    metrics.setLeader(true);
    operator.startControllers();
  }

  const leaseLost = await Promise.race([stopped.then(() => false), lost.promise.then(() => true)]);
  if (leaseLost) log.error("lost the leader lease; exiting so a standby can take over");
  // Controllers drain for drainDeadlineMs(shutdownTimeoutMs), then abort: what is left of the
  // timeout releases the lease and stops the caches and servers.
  const deadline = new Promise<boolean>((resolve) =>
    setTimeout(() => resolve(false), config.shutdownTimeoutMs).unref(),
  );
  const finished = await Promise.race([
    (async () => {
      // The elector stops the controllers (finishing in-flight work) before releasing the lease.
      await elector?.stop();
      await operator.stop();
      await Promise.all(servers.map((s) => s?.close()));
      return true;
    })(),
    deadline,
  ]);
  if (!finished)
    log.warn({ deadlineMs: config.shutdownTimeoutMs }, "shutdown deadline passed with work in flight");
  log.info("stopped");
  return leaseLost ? 1 : 0;
}

/** Resolves on SIGTERM or SIGINT: stop taking work, finish what is in flight. */
function terminationSignal(log: ReturnType<typeof createLogger>): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, "shutting down: finishing in-flight work");
      resolve();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
}

/** A port that cannot be bound is a setting to change: the error names it. */
/** A listen failure as a ConfigError naming the setting; `flag` may pick it by the address that failed. */
async function listening<T>(
  flagOrPick: string | ((address: string) => string),
  server: Promise<T>,
): Promise<T> {
  try {
    return await server;
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    const flag = typeof flagOrPick === "string" ? flagOrPick : flagOrPick(err.address);
    const env = SETTINGS.find((s) => s.flag === flag)?.env;
    throw new ConfigError(`--${flag}${env ? ` (${env})` : ""}`, err.message);
  }
}

function configFilePath(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg.startsWith("--config=")) return arg.slice("--config=".length);
    if (arg === "--config") return argv[i + 1];
  }
  return env.IMAGESTREAM_CONFIG || undefined;
}

function withoutConfigFlag(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg.startsWith("--config=")) continue;
    if (arg === "--config") {
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

function readSetting(setting: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(setting, `cannot read ${path}: ${(err as Error).message}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
