// Benchmark of the import controller against a real local control plane and registry (loopback only).
//
//   node scripts/bench-import.ts [--streams N] [--tags M] [--shared] [--samples S]
//                                [--interval SECONDS] [--import-workers W] [--timeout SECONDS]
//
// Pushes one distinct image per reference to a plain-HTTP registry, creates N ImageStreams of M
// scheduled tags each (with --shared, the second half of the streams all point at the same M
// references), and runs the operator's import controller (only that controller) in this process
// through buildOperator. It prints:
// - cold import: time until every tag has its image in status, tags/s;
// - two re-import request cycles where nothing changed in the registry: registry requests per tag
//   by method and the controller's writes to the API server;
// - p50/p99 time from a push plus re-import request to the new digest in status;
// - a restart with a short scheduled-import interval and a steady window of scheduled checks:
//   requests per tag checked and writes (the target is none);
// - peak RSS of this process: the operator plus the driver, whose RSS before the operator starts
//   is printed as a baseline.
// Everything it starts (control plane, registry, operator, watch) is stopped on exit, on error,
// on Ctrl-C and when --timeout passes.

import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { ImageStream } from "../src/api/types.ts";
import { parseConfig } from "../src/config/index.ts";
import { IMPORT_REQUESTED_HANDLED_ANNOTATION } from "../src/imports/index.ts";
import { createLogger } from "../src/log/logger.ts";
import { createMetrics, type OperatorMetrics } from "../src/metrics/index.ts";
import { buildOperator, type Operator } from "../src/operator/index.ts";
import type { RequestEvent } from "../src/registry/index.ts";
import { type KubeConnection, loadKubeConfig } from "../src/runtime/index.ts";
import {
  type ControlPlane,
  createNamespace,
  pushImage,
  type RegistryInstance,
  startControlPlane,
  startRegistry,
} from "../test/harness/index.ts";
import {
  describeCounts as describe,
  GROUP,
  integerOptions,
  mib,
  onCleanup,
  parallel,
  percentile,
  ratio,
  requestImport,
  runBenchmark,
  stopAtTimeout,
  Tally,
  total,
  VERSION,
  WatchView,
  waitUntil,
  withSharedConnections,
} from "./bench-lib.ts";

const PLURAL = "imagestreams";
/** The registry client reuses a tag's resolution for 5 s (resultTtlMs); cycles start after that. */
const RESULT_CACHE_MS = 5_000;
/** Quiet time (no registry request, no operator write) that ends a measured phase. */
const QUIET_MS = 2_000;

// ---------------------------------------------------------------- small helpers

/** Labels an operator request to the API server, or undefined for reads and watches. */
function writeLabel(method: string, url: string): string | undefined {
  if (method === "GET") return undefined;
  const path = new URL(url).pathname;
  if (/\/imagestreams\/[^/]+\/status$/.test(path)) return `${method} imagestreams/status`;
  if (/\/imagestreams\/[^/]+$/.test(path)) return `${method} imagestreams`;
  if (/\/events(\/|$)/.test(path)) return `${method} events`;
  return `${method} ${path.split("/").slice(-2).join("/")}`;
}

/** The operator's connection, counting every request its API clients and watches send. */
function countingConnection(kc: KubeConnection, writes: Tally): KubeConnection {
  return {
    ...kc,
    dispatcher: kc.dispatcher.compose((dispatch) => (options, handler) => {
      const label = writeLabel(options.method, new URL(options.path, kc.server).toString());
      if (label) writes.add(label);
      return dispatch(options, handler);
    }),
  };
}

async function importsCounted(metrics: OperatorMetrics): Promise<number> {
  const metric = metrics.registry.getSingleMetric("imagestream_imports_total");
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** Tracks the process's RSS; `peak` since the last `reset`. */
class RssSampler {
  peak = 0;
  readonly #timer = setInterval(() => this.sample(), 100);
  constructor() {
    this.#timer.unref();
    this.sample();
  }
  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }
  reset(): number {
    this.sample();
    const peak = this.peak;
    this.peak = process.memoryUsage().rss;
    return peak;
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

// ---------------------------------------------------------------- the driver's view of the streams

/** The benchmark namespace's ImageStreams as a user watching them sees them. */
class StreamView extends WatchView<ImageStream> {
  constructor(kc: KubeConfig, namespace: string) {
    super(kc, { group: GROUP, version: VERSION, namespace, plural: PLURAL }, (s) => s);
  }

  image(stream: string, tag: string): string | undefined {
    return this.items.get(stream)?.status?.tags?.find((t) => t.tag === tag)?.items?.[0]?.image;
  }

  annotation(stream: string, key: string): string | undefined {
    return this.items.get(stream)?.metadata.annotations?.[key];
  }
}

// ---------------------------------------------------------------- benchmark

interface Layout {
  streamName: (i: number) => string;
  tagName: (j: number) => string;
  /** registry repository:tag the stream's tag imports from. */
  source: (i: number, j: number) => { repository: string; tag: string };
  /** Streams whose references no other stream uses (latency samples come from these). */
  distinctStreams: number;
}

function layoutFor(streams: number, shared: boolean): Layout {
  const distinctStreams = shared ? Math.ceil(streams / 2) : streams;
  return {
    streamName: (i) => `s${i}`,
    tagName: (j) => `t${j}`,
    source: (i, j) =>
      i < distinctStreams
        ? { repository: `bench/s${i}`, tag: `t${j}` }
        : { repository: "bench/shared", tag: `t${j}` },
    distinctStreams,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      streams: { type: "string", default: "50" },
      tags: { type: "string", default: "4" },
      shared: { type: "boolean", default: false },
      samples: { type: "string", default: "30" },
      interval: { type: "string", default: "10" },
      "import-workers": { type: "string", default: "4" },
      timeout: { type: "string", default: "900" },
    },
  });
  const {
    streams,
    tags,
    samples,
    interval: intervalS,
    "import-workers": importWorkers,
    timeout: timeoutS,
  } = integerOptions(values, ["streams", "tags", "samples", "interval", "import-workers", "timeout"], {
    interval: 10,
  });
  stopAtTimeout("bench-import", timeoutS);
  const totalTags = streams * tags;
  const layout = layoutFor(streams, values.shared);
  const rss = new RssSampler();
  onCleanup(async () => rss.stop());

  console.log(
    `import benchmark: ${streams} streams x ${tags} tags = ${totalTags} tags, ${
      values.shared
        ? `${layout.distinctStreams} streams with their own references, ${streams - layout.distinctStreams} sharing the same ${tags}`
        : "every tag its own reference"
    }; import controller only, ${importWorkers} import workers`,
  );
  console.log("starting a control plane (etcd + kube-apiserver) and a plain-HTTP registry on loopback...");
  const cpStarting = startControlPlane({ controllerManager: false, installCrds: true });
  onCleanup(async () => (await cpStarting).stop());
  const registryStarting = startRegistry("plain");
  onCleanup(async () => (await registryStarting).stop());
  const [cp, registry]: [ControlPlane, RegistryInstance] = await Promise.all([cpStarting, registryStarting]);

  const userKc = withSharedConnections(cp.kubeConfig);
  const api = userKc.makeApiClient(CustomObjectsApi);
  const namespace = await createNamespace(cp, "bench-import");

  // One distinct image per reference (a unique layer, hence a unique config and manifest).
  const references = new Map<string, { repository: string; tag: string; digest: string }>();
  for (let i = 0; i < streams; i++) {
    for (let j = 0; j < tags; j++) {
      const { repository, tag } = layout.source(i, j);
      references.set(`${repository}:${tag}`, { repository, tag, digest: "" });
    }
  }
  let started = Date.now();
  const refs = [...references.values()];
  await parallel(refs.length, 8, async (index) => {
    const ref = refs[index];
    if (!ref) return;
    ref.digest = (
      await pushImage(registry, ref.repository, ref.tag, { layerContent: `${ref.repository}:${ref.tag}` })
    ).digest;
  });
  console.log(`pushed ${refs.length} distinct images in ${Date.now() - started} ms`);
  const expected = (i: number, j: number): string => {
    const { repository, tag } = layout.source(i, j);
    return references.get(`${repository}:${tag}`)?.digest ?? "";
  };

  started = Date.now();
  await parallel(streams, 16, async (i) => {
    await api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "ImageStream",
        metadata: { name: layout.streamName(i) },
        spec: {
          tags: Array.from({ length: tags }, (_, j) => {
            const { repository, tag } = layout.source(i, j);
            return {
              name: layout.tagName(j),
              from: { kind: "DockerImage", name: `${registry.host}/${repository}:${tag}` },
              importPolicy: { insecure: true, scheduled: true },
            };
          }),
        },
      },
    });
  });
  console.log(`created ${streams} ImageStreams in ${Date.now() - started} ms`);

  const view = new StreamView(userKc, namespace);
  await view.start();
  onCleanup(async () => view.stop());

  const requests = new Tally();
  const writes = new Tally();
  const operatorKc = countingConnection(loadKubeConfig(cp.kubeconfigPath), writes);
  const log = createLogger({ level: "error", name: "bench-import" });
  let metrics = createMetrics({ defaultMetrics: false });
  const startOperator = async (
    extraArgs: string[],
  ): Promise<{ operator: Operator; stop: () => Promise<void> }> => {
    const config = parseConfig(
      [
        "--namespaces",
        namespace,
        "--controllers=import",
        "--leader-elect=false",
        `--import-workers=${importWorkers}`,
        ...extraArgs,
      ],
      {},
    );
    metrics = createMetrics({ defaultMetrics: false });
    const operator = buildOperator({
      kc: operatorKc,
      config,
      log,
      metrics,
      onRegistryRequest: (e: RequestEvent) => requests.add(`${e.method} ${e.kind}`),
    });
    // Stopped by the phase that started it, or by the cleanup on error; never twice.
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= operator.stop();
      return stopping;
    };
    onCleanup(stop);
    if (!(await operator.start())) throw new Error("the operator's caches did not sync");
    return { operator, stop };
  };
  const allImported = (): number => {
    let done = 0;
    for (let i = 0; i < streams; i++) {
      for (let j = 0; j < tags; j++)
        if (view.image(layout.streamName(i), layout.tagName(j)) === expected(i, j)) done++;
    }
    return done;
  };
  const quiet = (): boolean => Date.now() - Math.max(requests.lastAt, writes.lastAt) >= QUIET_MS;
  const rssBefore = process.memoryUsage().rss;
  rss.reset();

  // ---- 1. cold import (default 15 min schedule: no scheduled check interferes with phases 1-3)
  let running = await startOperator([]);
  let requestsAt = requests.snapshot();
  let writesAt = writes.snapshot();
  started = Date.now();
  running.operator.startControllers();
  await waitUntil("the cold import", () => allImported() === totalTags, 50);
  const coldMs = Date.now() - started;
  await waitUntil("the cold import to settle", quiet);
  const coldRequests = requests.since(requestsAt);
  const coldWrites = writes.since(writesAt);
  const coldPeak = rss.reset();
  console.log("\ncold import");
  console.log(
    `  all ${totalTags} tags imported in ${coldMs} ms: ${(totalTags / (coldMs / 1000)).toFixed(1)} tags/s`,
  );
  console.log(`  registry requests: ${describe(coldRequests, totalTags)}`);
  console.log(`  API writes by the controller: ${describe(coldWrites)}`);
  console.log(
    `  peak RSS during the phase: ${mib(coldPeak)} (before the operator started: ${mib(rssBefore)})`,
  );

  // ---- 2. re-import request cycles where nothing changed in the registry
  for (const cycle of [1, 2]) {
    await sleep(RESULT_CACHE_MS + 500);
    await waitUntil("a quiet moment", quiet);
    const value = `cycle-${cycle}-${Date.now()}`;
    requestsAt = requests.snapshot();
    writesAt = writes.snapshot();
    const modifiedBefore = view.modifiedEvents;
    started = Date.now();
    await parallel(streams, 16, (i) =>
      requestImport(api, namespace, layout.streamName(i), value).then(() => {}),
    );
    await waitUntil(`re-import cycle ${cycle}`, () => {
      for (let i = 0; i < streams; i++) {
        if (view.annotation(layout.streamName(i), IMPORT_REQUESTED_HANDLED_ANNOTATION) !== value)
          return false;
      }
      return true;
    });
    const cycleMs = Date.now() - started;
    await waitUntil(`re-import cycle ${cycle} to settle`, quiet);
    const cycleRequests = requests.since(requestsAt);
    const cycleWrites = writes.since(writesAt);
    const statusWrites = total(cycleWrites, (l) => l.includes("imagestreams/status"));
    const streamWrites = total(cycleWrites, (l) => l.endsWith(" imagestreams"));
    console.log(`\nre-import request cycle ${cycle} (nothing changed in the registry; result cache expired)`);
    console.log(
      `  ${streams} requests honoured in ${cycleMs} ms (from the first request annotation written)`,
    );
    console.log(
      `  registry requests: ${total(cycleRequests)} = ${ratio(total(cycleRequests), totalTags)} per tag: ${describe(cycleRequests, totalTags)}`,
    );
    console.log(
      `  API writes by the controller: ${describe(cycleWrites)} -> status ${statusWrites}, stream metadata ${streamWrites} (${ratio(streamWrites, streams)} per stream: the handled-request annotation)`,
    );
    console.log(
      `  ImageStream MODIFIED events seen: ${view.modifiedEvents - modifiedBefore} (${streams} of them the user's request annotations)`,
    );
  }

  // ---- 3. push + re-import request -> new digest in status
  const sampleCount = Math.min(samples, layout.distinctStreams);
  const fromRequest: number[] = [];
  const fromPush: number[] = [];
  await waitUntil("a quiet moment", quiet);
  for (let k = 0; k < sampleCount; k++) {
    const i = Math.floor((k * layout.distinctStreams) / sampleCount);
    const name = layout.streamName(i);
    const { repository, tag } = layout.source(i, 0);
    const pushStarted = Date.now();
    const pushed = await pushImage(registry, repository, tag, { layerContent: `sample ${k} ${Date.now()}` });
    const requested = Date.now();
    await requestImport(api, namespace, name, `sample-${k}-${requested}`);
    await waitUntil(
      `sample ${k}: ${name} to show ${pushed.digest}`,
      () => view.image(name, layout.tagName(0)) === pushed.digest,
      5,
    );
    const seen = Date.now();
    fromRequest.push(seen - requested);
    fromPush.push(seen - pushStarted);
  }
  fromRequest.sort((a, b) => a - b);
  fromPush.sort((a, b) => a - b);
  console.log(`\npush + re-import request -> new digest in status (${sampleCount} streams, one at a time)`);
  console.log(
    `  from the request annotation: p50 ${percentile(fromRequest, 50)} ms, p99 ${percentile(fromRequest, 99)} ms, max ${fromRequest.at(-1)} ms`,
  );
  console.log(
    `  from the start of the push:  p50 ${percentile(fromPush, 50)} ms, p99 ${percentile(fromPush, 99)} ms, max ${fromPush.at(-1)} ms`,
  );
  await waitUntil("a quiet moment", quiet);
  const warmPeak = rss.reset();
  await running.stop();

  // ---- 4. restart with a short schedule, then a steady window of scheduled checks
  // The cap on scheduled imports per minute is raised so every tag is checked in each interval.
  const perMinute = Math.max(60, Math.ceil(((totalTags * 60) / intervalS) * 2));
  running = await startOperator([
    `--scheduled-import-interval=${intervalS}s`,
    `--scheduled-imports-per-minute=${perMinute}`,
  ]);
  requestsAt = requests.snapshot();
  writesAt = writes.snapshot();
  started = Date.now();
  running.operator.startControllers();
  // After a restart the controller has no memory: a tag is due at its first phase slot at least
  // 0.9 interval after the stream's last recorded check, so all are checked within an interval or two.
  await waitUntil(
    "every tag to be checked after the restart",
    async () => (await importsCounted(metrics)) >= totalTags,
    50,
  );
  const restartMs = Date.now() - started;
  const restartChecks = await importsCounted(metrics);
  const restartRequests = requests.since(requestsAt);
  const restartWrites = writes.since(writesAt);
  console.log(
    `\nrestart with --scheduled-import-interval=${intervalS}s --scheduled-imports-per-minute=${perMinute}`,
  );
  console.log(`  ${restartChecks} tag checks in ${restartMs} ms after the controllers started`);
  console.log(
    `  registry requests: ${total(restartRequests)} = ${ratio(total(restartRequests), restartChecks)} per tag checked: ${describe(restartRequests)}`,
  );
  console.log(`  API writes by the controller: ${describe(restartWrites)}`);

  // One more interval first: tags checked in the restart round move onto their own phase slots.
  await sleep(intervalS * 1000);
  const windowMs = 2 * intervalS * 1000;
  const windowStarted = Date.now();
  const checksAt = await importsCounted(metrics);
  requestsAt = requests.snapshot();
  writesAt = writes.snapshot();
  const modifiedBefore = view.modifiedEvents;
  await waitUntil("the scheduled-check window", () => Date.now() - windowStarted >= windowMs, 200);
  const checks = (await importsCounted(metrics)) - checksAt;
  const steadyRequests = requests.since(requestsAt);
  const steadyWrites = writes.since(writesAt);
  console.log(`\nscheduled checks, steady state (${windowMs / 1000} s window, nothing changed)`);
  console.log(`  ${checks} tag checks (${ratio(checks, totalTags)} per tag)`);
  console.log(
    `  registry requests: ${total(steadyRequests)} = ${ratio(total(steadyRequests), checks)} per tag checked: ${describe(steadyRequests, checks)}`,
  );
  console.log(
    `  API writes by the controller: ${total(steadyWrites)}${steadyWrites.size > 0 ? ` (${describe(steadyWrites)})` : ""}; ImageStream MODIFIED events seen: ${view.modifiedEvents - modifiedBefore}`,
  );
  const scheduledPeak = rss.reset();
  await running.stop();

  const maxRss = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
  console.log("\nmemory (this process: the operator, plus the driver's watch of the streams)");
  console.log(
    `  peak RSS: cold import ${mib(coldPeak)}, re-import cycles and samples ${mib(warmPeak)}, scheduled checks ${mib(scheduledPeak)}; maxRSS of the process ${mib(maxRss)}, ${mib(maxRss - rssBefore)} above the RSS before the operator started (${mib(rssBefore)})`,
  );
}

await runBenchmark("bench-import", main);
