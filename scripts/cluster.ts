// Local development cluster: the integration-test control plane (etcd, kube-apiserver,
// kube-controller-manager, CRDs), a plain registry, and the integrated registry (a
// distribution registry configured as the chart configures it: notifications to the
// operator's hooks listener, the operator as its token server), as background processes that
// outlive this script. State lives in .dev/ (gitignored).
//
//   node scripts/cluster.ts up       # start (or report that it already runs)
//   node scripts/cluster.ts status   # what runs
//   node scripts/cluster.ts down     # stop everything and remove .dev/ state
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CoreV1Api, type KubernetesObject, KubernetesObjectApi } from "@kubernetes/client-node";
import { createLogger } from "../src/log/index.ts";
import { FIELD_MANAGER, objectApi } from "../src/runtime/index.ts";
import { TokenSigningKeys } from "../src/token-server/index.ts";
import { chartRegistry } from "../test/harness/chart-registry.ts";
import { type ControlPlane, launchControlPlane, REPO_ROOT } from "../test/harness/control-plane.ts";
import { freePort, type ProcessInfo, pidRuns, stopPid } from "../test/harness/process.ts";
import { type LaunchedRegistry, launchConfiguredRegistry, launchRegistry } from "../test/harness/registry.ts";

const DEV_DIR = join(REPO_ROOT, ".dev");
const STATE_FILE = join(DEV_DIR, "state.json");
const KUBECONFIG_FILE = join(DEV_DIR, "kubeconfig");
const ENV_FILE = join(DEV_DIR, "env");
/** Settings for `npm start` against this cluster (the --config format: YAML keyed by flag name). */
const OPERATOR_CONFIG_FILE = join(DEV_DIR, "operator.yaml");
const CLUSTER_DIR = join(DEV_DIR, "cluster");
const REGISTRY_DIR = join(DEV_DIR, "registry");
const INTEGRATED_DIR = join(DEV_DIR, "integrated-registry");
/**
 * Where `npm start` keeps what a Pod of the chart keeps in its release namespace: the integrated
 * registry's signing key and certificates, the webhooks' serving certificate.
 */
const OPERATOR_NAMESPACE = "imagestream-operator";
/** The chart's release name here: the roles are imagestream-operator-image-puller/pusher/builder. */
const RELEASE = "imagestream-operator";

interface ClusterState {
  startedAt: string;
  server: string;
  registry: string;
  /** host:port of the integrated registry (token auth, notifications to the operator). */
  integratedRegistry?: string;
  /** The operator's hooks listener it notifies and sends clients to for tokens. */
  hooks?: string;
  kubeconfig: string;
  processes: ProcessInfo[];
}

function isClusterState(value: unknown): value is ClusterState {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<ClusterState>;
  return typeof v.server === "string" && typeof v.registry === "string" && Array.isArray(v.processes);
}

async function readState(): Promise<ClusterState | undefined> {
  if (!existsSync(STATE_FILE)) return undefined;
  try {
    const parsed: unknown = JSON.parse(await readFile(STATE_FILE, "utf8"));
    return isClusterState(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const alive = (p: ProcessInfo): boolean => pidRuns(p.pid, p.command);

function describe(state: ClusterState): string {
  return [
    `  API server  ${state.server}`,
    `  registry    ${state.registry} (plain HTTP)`,
    ...(state.integratedRegistry
      ? [
          `  integrated  ${state.integratedRegistry} (the integrated registry: log in with a Kubernetes token once the operator runs)`,
          `  hooks       ${state.hooks} (the operator's token realm and notification endpoint, with npm start)`,
        ]
      : []),
    `  processes   ${state.processes.map((p) => `${p.name}[${p.pid}]${alive(p) ? "" : " (dead)"}`).join(", ")}`,
    `  logs        ${join(".dev", "cluster")}/*.log, ${join(".dev", "registry", "registry.log")}, ${join(".dev", "integrated-registry", "registry.log")}`,
    "  use it:     set -a; . .dev/env; set +a   (exports KUBECONFIG, REGISTRY and INTEGRATED_REGISTRY)",
    "  operator:   npm start   (reads .dev/operator.yaml, written for this cluster)",
  ].join("\n");
}

async function removeState(): Promise<void> {
  await Promise.all(
    [
      STATE_FILE,
      KUBECONFIG_FILE,
      ENV_FILE,
      OPERATOR_CONFIG_FILE,
      CLUSTER_DIR,
      REGISTRY_DIR,
      INTEGRATED_DIR,
    ].map((p) => rm(p, { recursive: true, force: true })),
  );
  // .dev/ may hold other tools' files; remove it only when nothing else is left.
  if (existsSync(DEV_DIR) && (await readdir(DEV_DIR)).length === 0) await rmdir(DEV_DIR);
}

async function down(): Promise<void> {
  const state = await readState();
  if (!state) {
    console.log("cluster: not running (no .dev/state.json)");
  } else {
    // Reverse start order: controllers and registry before the API server, etcd last.
    for (const proc of [...state.processes].reverse()) await stopPid(proc.pid, proc.command);
    console.log(`cluster: stopped ${state.processes.map((p) => `${p.name}[${p.pid}]`).join(", ")}`);
  }
  await removeState();
}

async function up(): Promise<void> {
  const existing = await readState();
  if (existing?.processes.every(alive)) {
    console.log(`cluster: already up (started ${existing.startedAt})\n${describe(existing)}`);
    return;
  }
  if (existing) {
    console.log("cluster: found a partly dead cluster; cleaning it up first");
    await down();
  }
  await removeState();
  const started = Date.now();
  const controlPlane = await launchControlPlane({
    controllerManager: true,
    installCrds: true,
    dir: CLUSTER_DIR,
    detached: true,
  });
  let registry: LaunchedRegistry;
  let integrated: IntegratedRegistry;
  try {
    registry = await launchRegistry("plain", { dir: REGISTRY_DIR, detached: true });
    integrated = await startIntegratedRegistry(controlPlane);
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  await copyFile(controlPlane.kubeconfigPath, KUBECONFIG_FILE);
  await writeFile(
    ENV_FILE,
    `REGISTRY=${registry.host}\nINTEGRATED_REGISTRY=${integrated.registry.host}\nKUBECONFIG=${KUBECONFIG_FILE}\n`,
  );
  // The operator runs outside the cluster: kube-apiserver calls its webhooks on loopback through
  // the url of the configuration the operator writes; its certificates live in a Secret of its
  // own namespace, which (like kube-system) never calls the webhooks.
  const admissionPort = await freePort();
  await writeFile(
    OPERATOR_CONFIG_FILE,
    operatorSettings({
      kubeconfig: KUBECONFIG_FILE,
      ...integrated.settings,
      "admission-address": `127.0.0.1:${admissionPort}`,
      "admission-url": `https://127.0.0.1:${admissionPort}`,
      "admission-certificate-secret": `${OPERATOR_NAMESPACE}/imagestream-operator-webhook-certs`,
    }),
  );
  const state: ClusterState = {
    startedAt: new Date().toISOString(),
    server: controlPlane.server,
    registry: registry.host,
    integratedRegistry: integrated.registry.host,
    hooks: integrated.hooksUrl,
    kubeconfig: KUBECONFIG_FILE,
    processes: [...controlPlane.processes, ...registry.processes, ...integrated.registry.processes].map(
      ({ name, pid, command, logFile }) => ({ name, pid, command, logFile }),
    ),
  };
  await writeFile(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  console.log(`cluster: up in ${((Date.now() - started) / 1000).toFixed(1)} s\n${describe(state)}`);
}

interface IntegratedRegistry {
  registry: LaunchedRegistry;
  hooksUrl: string;
  /** The operator's settings for it, keyed by flag name. */
  settings: Record<string, string>;
}

/**
 * The integrated registry of docs/push.md, with the sections the chart renders. distribution
 * reads its rootcertbundle at start-up, so the signing keys are made first, by the code the
 * operator runs (the operator then finds them in the Secret), and the roles are applied.
 */
async function startIntegratedRegistry(
  cp: Pick<ControlPlane, "kubeConfig" | "connection">,
): Promise<IntegratedRegistry> {
  const kc = cp.kubeConfig;
  const hooksUrl = `http://127.0.0.1:${await freePort()}`;
  const chart = chartRegistry(RELEASE, hooksUrl);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } });
  const objects = kc.makeApiClient(KubernetesObjectApi);
  for (const role of chart.roles) await objects.create(role as unknown as KubernetesObject);
  const keys = new TokenSigningKeys({
    objects: objectApi(cp.connection, { fieldManager: FIELD_MANAGER }),
    secret: { namespace: OPERATOR_NAMESPACE, name: "registry-token-key" },
    configMap: { namespace: OPERATOR_NAMESPACE, name: "registry-token-ca" },
    log: createLogger({ level: "warn" }),
  });
  await keys.sync();
  const bundle = keys.trustBundle ?? "";
  await mkdir(INTEGRATED_DIR, { recursive: true });
  const tokenFile = join(INTEGRATED_DIR, "notifications-token");
  await writeFile(tokenFile, chart.notificationToken, { mode: 0o600 });
  const registry = await launchConfiguredRegistry({
    variant: "plain",
    dir: INTEGRATED_DIR,
    detached: true,
    name: "registry-integrated",
    configure: async (file) => chart.sections(hooksUrl, await file("token-ca.crt", bundle)),
  });
  return {
    registry,
    hooksUrl,
    settings: {
      "hooks-address": new URL(hooksUrl).host,
      "integrated-registry-url": registry.url,
      "registry-token-issuer": chart.token.issuer,
      "registry-token-service": chart.token.service,
      "registry-token-signing-secret": `${OPERATOR_NAMESPACE}/registry-token-key`,
      "registry-token-ca-configmap": `${OPERATOR_NAMESPACE}/registry-token-ca`,
      "registry-notifications-token-file": tokenFile,
    },
  };
}

/**
 * `.dev/operator.yaml`: what `npm start` needs to run against this cluster with no extra step
 * (scripts/start.sh passes it as --config when present; flags and environment variables win).
 */
function operatorSettings(settings: Record<string, string>): string {
  const lines = Object.entries(settings).map(([flag, value]) => `${flag}: ${JSON.stringify(value)}`);
  return `# Written by npm run cluster:up for npm start; removed by npm run cluster:down.\n${lines.join("\n")}\n`;
}

async function status(): Promise<void> {
  const state = await readState();
  if (!state) {
    console.log("cluster: not running");
    process.exitCode = 1;
    return;
  }
  const allAlive = state.processes.every(alive);
  console.log(`cluster: ${allAlive ? "up" : "partly dead (run down, then up)"}\n${describe(state)}`);
  if (!allAlive) process.exitCode = 1;
}

const commands: Record<string, () => Promise<void>> = { up, down, status };
const command = commands[process.argv[2] ?? ""];
if (!command) {
  console.error("usage: node scripts/cluster.ts up|down|status");
  process.exit(2);
}
try {
  await command();
  // Detached children are unref'd; exit now rather than wait for idle sockets to close.
  process.exit(process.exitCode ?? 0);
} catch (error) {
  console.error(`cluster: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
