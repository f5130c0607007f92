// Benchmark of the trigger controller against a real local control plane (loopback only).
//
//   node scripts/bench-trigger.ts [--annotated N] [--plain M] [--rounds R] [--workers W] [--timeout SECONDS]
//
// Creates N annotated Deployments following one ImageStreamTag, then runs the controller in a
// child process (so its memory is measured alone) and changes the tag R times, printing:
// - latency from the status write to each affected Deployment's patch (p50/p99/max),
// - PATCH calls per change (the target is exactly one per affected workload),
// - where the time goes: API requests per affected workload by verb and resource (the API
//   server's apiserver_request_total), CPU seconds of kube-apiserver, etcd and the controller,
//   and the controller's mean queue wait and reconcile time,
// - the controller's heap after sync and peak RSS,
// first with only the annotated Deployments, then again after adding M unannotated ones with
// large pod specs (which the metadata-only watch must keep out of memory).

import { fork } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  AppsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { parseConfig } from "../src/config/index.ts";
import { createLogger } from "../src/log/logger.ts";
import { createMetrics } from "../src/metrics/index.ts";
import {
  createControllerContext,
  EventRecorder,
  eventSinkFromClient,
  loadKubeConfig,
  SharedInformers,
} from "../src/runtime/index.ts";
import {
  createTriggerController,
  TRIGGER_ANNOTATION,
  type WorkloadClient,
  workloadClient,
} from "../src/triggers/index.ts";
import { type ControlPlane, createNamespace, startControlPlane } from "../test/harness/index.ts";
import {
  apiServerGet,
  createDeployments,
  describeCounts,
  difference,
  largeContainers,
  machineLoad,
  mib,
  parseMetrics,
  percentile,
  ratio,
  type Sample,
  sumBy,
  total,
} from "./bench-lib.ts";

/** Messages from the controller process to the driver. */
type ChildMessage =
  | {
      type: "ready";
      heapUsedAfterSync: number;
      rssAfterSync: number;
      syncMs: number;
      cachedWorkloads: number;
      cachedJsonBytes: number;
      managedFieldsJsonBytes: number;
    }
  | { type: "patches"; patches: PatchRecord[] }
  | {
      type: "stats";
      peakRss: number;
      heapUsed: number;
      /** CPU seconds (user + system) since "ready": the rounds. */
      cpuSeconds: number;
      /** The trigger controller's own metrics at stop. */
      metricsText: string;
    };

/** One PATCH the controller issued: the workload, when it returned, whether it succeeded. */
interface PatchRecord {
  name: string;
  at: number;
  ok: boolean;
}

const STREAM = "bench";
const TAG = "latest";

function digestRef(label: string): string {
  return `registry.bench:5000/bench/app@sha256:${createHash("sha256").update(label).digest("hex")}`;
}

// ---------------------------------------------------------------- controller process

/** --workers as given (empty: the operator's default --trigger-workers). */
let benchWorkers = "";

async function runController(kubeconfigPath: string, namespace: string, workers: string): Promise<void> {
  const send = (message: ChildMessage): void => {
    process.send?.(message);
  };
  // As main.ts does: one connection (one pool) for every client of the controller.
  const kc = loadKubeConfig(kubeconfigPath);
  const log = createLogger({ level: "error", name: "bench-trigger" });
  // The operator's defaults, but for --workers (--trigger-workers; empty: the default).
  const config = {
    ...parseConfig(workers ? [`--trigger-workers=${workers}`] : [], {}),
    namespaces: [namespace],
  };
  const informers = new SharedInformers(kc, log, [namespace]);
  const events = new EventRecorder({
    sink: eventSinkFromClient(kc),
    logger: log,
    reportingController: "image.openshift.io/trigger-controller",
    reportingInstance: "bench",
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const ctx = createControllerContext({ kc, log, config, informers, events, metrics });
  // Every PATCH the controller issues goes through here, so the driver can count them.
  // Sent to the driver in batches: one IPC message per PATCH cost the controller's event loop
  // about a tenth of its CPU. The time of each is taken when its PATCH returns.
  const real = workloadClient(ctx.objects);
  let unsent: PatchRecord[] = [];
  const flushPatches = (): void => {
    if (unsent.length === 0) return;
    send({ type: "patches", patches: unsent });
    unsent = [];
  };
  setInterval(flushPatches, 50).unref();
  const client: WorkloadClient = {
    get: (kind, ns, name) => real.get(kind, ns, name),
    patch: async (kind, ns, name, operations) => {
      try {
        const result = await real.patch(kind, ns, name, operations);
        unsent.push({ name, at: Date.now(), ok: true });
        return result;
      } catch (err) {
        unsent.push({ name, at: Date.now(), ok: false });
        throw err;
      }
    },
  };
  const controller = createTriggerController(ctx, { client });
  const started = Date.now();
  informers.start();
  await informers.waitForSync();
  controller.start();
  // Let the initial reconcile of every annotated workload (reads, no writes) finish: on a loaded
  // machine 1,000 reads take longer than any fixed pause, and a read left over would be counted
  // as part of the first tag change.
  const annotatedCount = informers
    .for<{ metadata?: { name?: string; annotations?: Record<string, string> } }>(
      { group: "apps", version: "v1", plural: "deployments" },
      { metadataOnly: true },
    )
    .list()
    .filter((obj) => obj.metadata?.annotations?.[TRIGGER_ANNOTATION] !== undefined).length;
  const reconciled = async (): Promise<number> =>
    total(
      sumBy(parseMetrics((await metrics.exposition()).body), "imagestream_reconcile_total", (s) =>
        s.labels.controller === "trigger" ? "t" : undefined,
      ),
    );
  while ((await reconciled()) < annotatedCount) await sleep(100);
  await sleep(3000);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const memory = process.memoryUsage();
  const cpuAtReady = process.cpuUsage();
  // What the metadata-only Deployment cache holds, and how much of it is managedFields.
  const cached = informers
    .for<{ metadata?: { name?: string; managedFields?: unknown } }>(
      { group: "apps", version: "v1", plural: "deployments" },
      { metadataOnly: true },
    )
    .list();
  flushPatches();
  send({
    type: "ready",
    heapUsedAfterSync: memory.heapUsed,
    rssAfterSync: memory.rss,
    syncMs: Date.now() - started,
    cachedWorkloads: cached.length,
    cachedJsonBytes: JSON.stringify(cached).length,
    managedFieldsJsonBytes: JSON.stringify(cached.map((obj) => obj.metadata?.managedFields ?? null)).length,
  });

  process.on("message", (message: unknown) => {
    if ((message as { type?: string }).type !== "stop") return;
    void (async () => {
      const cpu = process.cpuUsage(cpuAtReady);
      const { body: metricsText } = await metrics.exposition();
      await controller.stop();
      await informers.stop();
      gc?.();
      // maxRSS is in KiB.
      send({
        type: "stats",
        peakRss: process.resourceUsage().maxRSS * 1024,
        heapUsed: process.memoryUsage().heapUsed,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        metricsText,
      });
      process.disconnect?.();
      process.exit(0);
    })();
  });
}

// ---------------------------------------------------------------- driver

interface PhaseResult {
  label: string;
  latenciesMs: number[];
  patchesPerRound: number[];
  failedPatches: number;
  startupPatches: number;
  heapUsedAfterSync: number;
  rssAfterSync: number;
  peakRss: number;
  syncMs: number;
  cachedWorkloads: number;
  cachedJsonBytes: number;
  managedFieldsJsonBytes: number;
  /** API requests during the rounds, by "VERB resource[/subresource]". */
  requests: Map<string, number>;
  /** CPU seconds during the rounds, by process. */
  cpuSeconds: { apiserver: number; etcd: number; controller: number };
  /** The trigger controller's queue: mean wait before a reconcile starts, mean reconcile time. */
  queue: { reconciles: number; meanWaitMs: number; meanWorkMs: number };
  loadBefore: string;
  loadAfter: string;
}

/** API requests served so far, by "VERB resource[/subresource]" (the driver's few included). */
async function apiRequests(kc: KubeConfig): Promise<Map<string, number>> {
  return sumBy(parseMetrics(await apiServerGet(kc, "/metrics")), "apiserver_request_total", (s) => {
    const { verb, resource, subresource } = s.labels;
    if (!resource || verb === "WATCH") return undefined;
    return `${verb} ${resource}${subresource ? `/${subresource}` : ""}`;
  });
}

/** CPU seconds used so far by the control plane's process whose command line has `marker`. */
function processCpuSeconds(marker: string): number {
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (!cmdline.includes(marker)) continue;
    // Fields after the command's closing parenthesis; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ 100)
  }
  return Number.NaN;
}

function controlPlaneCpu(dir: string): { apiserver: number; etcd: number } {
  return {
    apiserver: processCpuSeconds(`--cert-dir=${dir}/apiserver`),
    etcd: processCpuSeconds(`--data-dir=${dir}/etcd`),
  };
}

/** Mean of a histogram of the trigger controller, in ms. */
function meanMs(samples: readonly Sample[], histogram: string): number {
  const of = (suffix: string) =>
    total(
      sumBy(samples, `${histogram}${suffix}`, (s) => (s.labels.controller === "trigger" ? "t" : undefined)),
    );
  const count = of("_count");
  return count === 0 ? Number.NaN : (of("_sum") / count) * 1000;
}

async function setTag(custom: CustomObjectsApi, namespace: string, reference: string): Promise<void> {
  await custom.patchNamespacedCustomObjectStatus(
    {
      group: "image.openshift.io",
      version: "v1",
      namespace,
      plural: "imagestreams",
      name: STREAM,
      body: {
        status: {
          tags: [
            {
              tag: TAG,
              items: [
                {
                  created: new Date().toISOString(),
                  dockerImageReference: reference,
                  image: reference.slice(reference.indexOf("@") + 1),
                  generation: 1,
                },
              ],
            },
          ],
        },
      },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

async function runPhase(
  label: string,
  cp: ControlPlane,
  namespace: string,
  custom: CustomObjectsApi,
  annotated: number,
  rounds: number,
  roundOffset: number,
  deadline: number,
): Promise<PhaseResult> {
  const child = fork(import.meta.filename, ["--child", cp.kubeconfigPath, namespace, benchWorkers], {
    execArgv: [...process.execArgv, "--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const patches: PatchRecord[] = [];
  let ready: Extract<ChildMessage, { type: "ready" }> | undefined;
  let stats: Extract<ChildMessage, { type: "stats" }> | undefined;
  child.on("message", (message: ChildMessage) => {
    if (message.type === "patches") patches.push(...message.patches);
    else if (message.type === "ready") ready = message;
    else if (message.type === "stats") stats = message;
  });
  const waitFor = async (what: string, done: () => boolean): Promise<void> => {
    while (!done()) {
      if (Date.now() > deadline) {
        child.kill();
        throw new Error(`timed out waiting for ${what}`);
      }
      if (child.exitCode !== null)
        throw new Error(`controller process exited (${child.exitCode}) before ${what}`);
      await sleep(20);
    }
  };

  await waitFor("the controller to sync", () => ready !== undefined);
  const startupPatches = patches.length;
  const loadBefore = machineLoad();
  const requestsBefore = await apiRequests(cp.kubeConfig);
  const cpuBefore = controlPlaneCpu(cp.dir);
  const latenciesMs: number[] = [];
  const patchesPerRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const before = patches.length;
    const image = digestRef(`round-${roundOffset + round}`);
    const changedAt = Date.now();
    await setTag(custom, namespace, image);
    const patchedNames = new Set<string>();
    await waitFor(`round ${round + 1} to patch ${annotated} Deployments`, () => {
      for (const patch of patches.slice(before)) if (patch.ok) patchedNames.add(patch.name);
      return patchedNames.size >= annotated;
    });
    // Give stray duplicate patches a moment to show up before counting.
    await sleep(1000);
    const roundPatches = patches.slice(before);
    const firstOk = new Map<string, number>();
    for (const patch of roundPatches)
      if (patch.ok && !firstOk.has(patch.name)) firstOk.set(patch.name, patch.at);
    latenciesMs.push(...[...firstOk.values()].map((at) => at - changedAt));
    patchesPerRound.push(roundPatches.length);
  }
  const requests = difference(await apiRequests(cp.kubeConfig), requestsBefore);
  const cpuAfter = controlPlaneCpu(cp.dir);
  const loadAfter = machineLoad();
  child.send({ type: "stop" });
  await waitFor("the controller's memory figures", () => stats !== undefined);
  const readyFigures = ready as NonNullable<typeof ready>;
  const statsFigures = stats as NonNullable<typeof stats>;
  const controllerMetrics = parseMetrics(statsFigures.metricsText);
  return {
    label,
    latenciesMs: latenciesMs.sort((a, b) => a - b),
    patchesPerRound,
    failedPatches: patches.filter((p) => !p.ok).length,
    startupPatches,
    heapUsedAfterSync: readyFigures.heapUsedAfterSync,
    rssAfterSync: readyFigures.rssAfterSync,
    peakRss: statsFigures.peakRss,
    syncMs: readyFigures.syncMs,
    cachedWorkloads: readyFigures.cachedWorkloads,
    cachedJsonBytes: readyFigures.cachedJsonBytes,
    managedFieldsJsonBytes: readyFigures.managedFieldsJsonBytes,
    requests,
    cpuSeconds: {
      apiserver: cpuAfter.apiserver - cpuBefore.apiserver,
      etcd: cpuAfter.etcd - cpuBefore.etcd,
      controller: statsFigures.cpuSeconds,
    },
    queue: {
      reconciles: total(
        sumBy(controllerMetrics, "imagestream_workqueue_work_duration_seconds_count", (s) =>
          s.labels.controller === "trigger" ? "t" : undefined,
        ),
      ),
      meanWaitMs: meanMs(controllerMetrics, "imagestream_workqueue_queue_duration_seconds"),
      meanWorkMs: meanMs(controllerMetrics, "imagestream_workqueue_work_duration_seconds"),
    },
    loadBefore,
    loadAfter,
  };
}

function report(result: PhaseResult, annotated: number, rounds: number): void {
  const { latenciesMs: l } = result;
  const affected = annotated * rounds;
  const { apiserver, etcd, controller } = result.cpuSeconds;
  console.log(`\n${result.label}`);
  console.log(
    `  latency status change -> Deployment patched (${l.length} samples): p50 ${percentile(l, 50)} ms, p99 ${percentile(l, 99)} ms, max ${l.at(-1)} ms`,
  );
  console.log(
    `  PATCH calls per change: ${result.patchesPerRound.join(", ")} for ${annotated} affected Deployments (${result.failedPatches} failed; ${result.startupPatches} at startup)`,
  );
  console.log(
    `  API requests during the ${rounds} changes (${total(result.requests)}, ${ratio(total(result.requests), affected)} per affected Deployment): ${describeCounts(result.requests)}`,
  );
  console.log(
    `  CPU during the changes: kube-apiserver ${apiserver.toFixed(1)} s, etcd ${etcd.toFixed(1)} s, controller ${controller.toFixed(1)} s (${result.loadBefore} before, ${result.loadAfter.replace("load average ", "")} after)`,
  );
  console.log(
    `  trigger queue: ${result.queue.reconciles} reconciles since start, mean wait ${result.queue.meanWaitMs.toFixed(0)} ms, mean reconcile ${result.queue.meanWorkMs.toFixed(1)} ms`,
  );
  console.log(
    `  metadata-only Deployment cache: ${result.cachedWorkloads} objects, ${mib(result.cachedJsonBytes)} as JSON, of which metadata.managedFields ${mib(result.managedFieldsJsonBytes)}`,
  );
  console.log(
    `  controller process: heap after sync ${mib(result.heapUsedAfterSync)}, RSS after sync ${mib(result.rssAfterSync)}, peak RSS ${mib(result.peakRss)} (startup + sync ${result.syncMs} ms: every annotated Deployment reconciled once, then 3 s settle)`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      annotated: { type: "string", default: "300" },
      plain: { type: "string", default: "3000" },
      rounds: { type: "string", default: "3" },
      timeout: { type: "string", default: "900" },
      workers: { type: "string", default: "" },
    },
  });
  const annotated = Number(values.annotated);
  const plain = Number(values.plain);
  const rounds = Number(values.rounds);
  const deadline = Date.now() + Number(values.timeout) * 1000;
  benchWorkers = values.workers;
  for (const [name, value] of Object.entries({ annotated, plain, rounds })) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer`);
  }

  console.log(`starting a control plane (etcd + kube-apiserver on loopback)...`);
  const cp = await startControlPlane({ controllerManager: false, installCrds: true });
  try {
    const kc = cp.kubeConfig;
    const apps = kc.makeApiClient(AppsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const namespace = await createNamespace(cp, "bench-trigger");
    await custom.createNamespacedCustomObject({
      group: "image.openshift.io",
      version: "v1",
      namespace,
      plural: "imagestreams",
      body: {
        apiVersion: "image.openshift.io/v1",
        kind: "ImageStream",
        metadata: { name: STREAM },
        spec: {},
      },
    });
    const initial = digestRef("initial");
    await setTag(custom, namespace, initial);
    const trigger = JSON.stringify([
      {
        from: { kind: "ImageStreamTag", name: `${STREAM}:${TAG}` },
        fieldPath: 'spec.template.spec.containers[?(@.name=="app")].image',
      },
    ]);
    let started = Date.now();
    // Created with the tag's current image: the controller's startup must write nothing.
    await createDeployments(apps, namespace, annotated, (i) => ({
      name: `annotated-${i}`,
      annotations: { [TRIGGER_ANNOTATION]: trigger },
      containers: [{ name: "app", image: initial }],
    }));
    console.log(`created ${annotated} annotated Deployments in ${Date.now() - started} ms`);

    const without = await runPhase(
      `${annotated} annotated Deployments only`,
      cp,
      namespace,
      custom,
      annotated,
      rounds,
      0,
      deadline,
    );
    report(without, annotated, rounds);

    started = Date.now();
    await createDeployments(apps, namespace, plain, (i) => ({
      name: `plain-${i}`,
      containers: largeContainers(i),
    }));
    console.log(
      `\ncreated ${plain} unannotated Deployments (3 containers x 40 env vars each) in ${Date.now() - started} ms`,
    );
    const withPlain = await runPhase(
      `${annotated} annotated + ${plain} unannotated Deployments`,
      cp,
      namespace,
      custom,
      annotated,
      rounds,
      rounds,
      deadline,
    );
    report(withPlain, annotated, rounds);
  } finally {
    await cp.stop();
  }
}

if (process.argv[2] === "--child") {
  const [, , , kubeconfigPath = "", namespace = "", workers = ""] = process.argv;
  await runController(kubeconfigPath, namespace, workers);
} else {
  await main();
}
