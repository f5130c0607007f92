// Scale benchmark (issue 12) against real components on loopback: etcd, kube-apiserver and
// kube-controller-manager, a registry (CNCF distribution) behind a counting proxy, and the
// operator as its own process (`node src/main.ts` with flags), as a user runs it.
//
//   node scripts/bench-scale.ts [--streams 10000] [--tags 3] [--references 30] [--plain 5000]
//       [--triggered 0] [--interval 300] [--intervals 3] [--per-minute N] [--import-workers 4]
//       [--operator-dir DIR] [--compiled] [--memory-limit MIB] [--node-flags=FLAGS] [--env K=V]... [--out DIR]
//       [--heap-snapshot] [--timeout 14400]
//   npm run bench:scale -- --help    prints this text
//
// Pushes R distinct images, creates S ImageStreams of T scheduled tags naming them (tag j of
// stream i names reference (i*T + j) mod R), P Deployments without triggers and D with a trigger
// on `s<i>:t0`, lets the controller manager settle, then starts the operator and measures:
// - start-up: process start to /readyz (caches synced);
// - cold import: until every tag's newest status item is its reference's digest;
// - ImageStreamTags materialized: until every ImageStreamTag shows that digest (and triggered
//   Deployments patched, with --triggered);
// - re-import request on all streams: until every stream shows the request as handled;
// - steady scheduled checks: after one more interval, a window of --intervals intervals.
// For each phase: registry requests by kind as the registry sees them (the proxy in front of
// it), API writes by resource from the kube-apiserver's own apiserver_request_total (every
// client: the benchmark's own writes and the controller manager's are named where they occur),
// reconciles, CPU seconds and memory of the operator (VmRSS/VmHWM from /proc, V8 heap from its
// /metrics). The steady window also gives the distribution of scheduled checks per tag, from the
// operator's debug lines that name the tags checked.
// With --heap-snapshot (needs --out) the operator writes a heap snapshot (SIGUSR2) at the end;
// `node scripts/heap-summary.ts FILE` summarizes it. --operator-dir runs another checkout's
// operator (e.g. the code before a change) under the same benchmark; --node-flags passes flags
// to its node (`--node-flags=--max-semi-space-size=2`, with `=`: the value starts with a dash);
// --env adds a variable to its environment (repeatable, e.g. `--env MALLOC_ARENA_MAX=2` as the
// container image sets it).
// --compiled builds the operator (`tsc -p tsconfig.build.json`) and runs `dist/main.js`, as the
// container image does. --memory-limit runs it in a memory cgroup with that limit, as a pod with
// `resources.limits.memory` runs (needs root and a writable cgroup v1 or v2 memory controller):
// Node sizes V8's heap from the limit, and going over it gets the operator OOM-killed, which the
// benchmark reports.
// Everything it starts (control plane, registry, proxy, operator, watches) is stopped on exit,
// on error, on Ctrl-C and when --timeout passes.

import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { AppsV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { ImageStream, ImageStreamTag } from "../src/api/types.ts";
import { IMPORT_REQUESTED_HANDLED_ANNOTATION } from "../src/imports/index.ts";
import { TRIGGER_ANNOTATION } from "../src/triggers/index.ts";
import {
  createNamespace,
  freePort,
  type ManagedProcess,
  makeTempDir,
  pushImage,
  spawnLogged,
  startControlPlane,
  startFaultProxy,
  startRegistry,
} from "../test/harness/index.ts";
import { run } from "../test/harness/process.ts";
import {
  apiServerGet,
  createDeployments,
  describeCounts,
  difference,
  GROUP,
  integerOptions,
  largeContainers,
  mib,
  onCleanup,
  parallel,
  parseMetrics,
  percentile,
  requestImport,
  runBenchmark,
  type Sample,
  stopAtTimeout,
  sumBy,
  total,
  usageOf,
  VERSION,
  WatchView,
  waitUntil,
} from "./bench-lib.ts";

const ROOT = resolve(import.meta.dirname, "..");
const WRITE_VERBS = new Set(["POST", "PUT", "PATCH", "DELETE", "APPLY"]);
/** The API server's own writes (its identity Lease, the kubernetes Service's Endpoints): left out of every count. */
const API_SERVER_OWN = (label: string): boolean =>
  label.endsWith(" coordination.k8s.io/leases") || label.endsWith(" endpoints");
const QUIET_MS = 5_000;
const CREATE_WORKERS = 32;

// ---------------------------------------------------------------- what the phases count

/** Registry request kinds as the registry sees them. */
function requestKind(method: string, url: string): string {
  const path = url.split("?")[0] ?? "";
  if (path === "/v2/" || path === "/v2") return `${method} /v2/ (ping)`;
  if (/\/manifests\/sha256:/.test(path)) return `${method} manifest by digest`;
  if (/\/manifests\//.test(path)) return `${method} manifest by tag`;
  if (/\/blobs\//.test(path)) return `${method} blob`;
  if (/\/tags\/list$/.test(path)) return `${method} tags/list`;
  return `${method} other`;
}

/** "VERB group/resource/subresource" for the API server's write requests. */
function apiWriteLabel(s: Sample): string | undefined {
  const { verb = "", group = "", resource = "", subresource = "" } = s.labels;
  if (!WRITE_VERBS.has(verb)) return undefined;
  return `${verb} ${group ? `${group}/` : ""}${resource}${subresource ? `/${subresource}` : ""}`;
}

interface Snapshot {
  at: number;
  apiWrites: Map<string, number>;
  operator: Sample[];
}

interface PhaseFigures {
  name: string;
  ms: number;
  registry: Map<string, number>;
  apiWrites: Map<string, number>;
  reconciles: Map<string, number>;
  clientRequests: number;
  /** The operator's tag lookups by `freshness result` (seen sent, recent shared, ...). */
  tagLookups: Map<string, number>;
  cpuSeconds: number;
  rssMax: number;
  rssMean: number;
  heapMax: number;
  heapMean: number;
}

/** The operator process seen from outside: RSS from /proc, heap and counters from its /metrics. */
class OperatorProbe {
  readonly rss: { at: number; bytes: number }[] = [];
  readonly heap: { at: number; used: number }[] = [];
  readonly #pid: number;
  readonly metricsUrl: string;
  readonly healthUrl: string;
  #timers: NodeJS.Timeout[] = [];

  constructor(pid: number, metricsUrl: string, healthUrl: string) {
    this.#pid = pid;
    this.metricsUrl = metricsUrl;
    this.healthUrl = healthUrl;
  }

  start(): void {
    this.#timers.push(
      setInterval(() => {
        const rss = this.status("VmRSS");
        if (rss > 0) this.rss.push({ at: Date.now(), bytes: rss });
      }, 500),
      setInterval(() => {
        void this.metrics()
          .then((samples) => {
            const used = sumBy(samples, "nodejs_heap_size_used_bytes").get("nodejs_heap_size_used_bytes");
            if (used !== undefined) this.heap.push({ at: Date.now(), used });
          })
          .catch(() => {});
      }, 5_000),
    );
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
  }

  /** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM), 0 when the process is gone. */
  status(field: string): number {
    try {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
        readFileSync(`/proc/${this.#pid}/status`, "utf8"),
      );
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  }

  async metrics(): Promise<Sample[]> {
    const res = await fetch(`${this.metricsUrl}/metrics`);
    return parseMetrics(await res.text());
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.healthUrl}/readyz`);
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** max and mean of a series within [from, to). */
  static window(series: readonly { at: number; value: number }[], from: number, to: number) {
    const inside = series.filter((s) => s.at >= from && s.at < to).map((s) => s.value);
    if (inside.length === 0) return { max: Number.NaN, mean: Number.NaN };
    return { max: Math.max(...inside), mean: inside.reduce((a, b) => a + b, 0) / inside.length };
  }
}

// ---------------------------------------------------------------- benchmark

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      streams: { type: "string", default: "10000" },
      tags: { type: "string", default: "3" },
      references: { type: "string", default: "30" },
      plain: { type: "string", default: "5000" },
      triggered: { type: "string", default: "0" },
      interval: { type: "string", default: "300" },
      intervals: { type: "string", default: "3" },
      "per-minute": { type: "string", default: "0" },
      "import-workers": { type: "string", default: "4" },
      "operator-dir": { type: "string", default: ROOT },
      "node-flags": { type: "string", default: "" },
      env: { type: "string", multiple: true, default: [] },
      compiled: { type: "boolean", default: false },
      "memory-limit": { type: "string", default: "0" },
      out: { type: "string" },
      "heap-snapshot": { type: "boolean", default: false },
      timeout: { type: "string", default: "14400" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usageOf(import.meta.url));
    return;
  }
  const o = integerOptions(
    values,
    [
      "streams",
      "tags",
      "references",
      "plain",
      "triggered",
      "interval",
      "intervals",
      "per-minute",
      "import-workers",
      "timeout",
      "memory-limit",
    ],
    { plain: 0, triggered: 0, "per-minute": 0, interval: 10, "memory-limit": 0 },
  );
  stopAtTimeout("bench-scale", o.timeout);
  const operatorDir = resolve(values["operator-dir"]);
  if (!existsSync(join(operatorDir, "src/main.ts")))
    throw new Error(`--operator-dir: no src/main.ts in ${operatorDir}`);
  const operatorEnv: Record<string, string> = {};
  for (const pair of values.env) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`--env takes NAME=VALUE, got ${JSON.stringify(pair)}`);
    operatorEnv[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (values["heap-snapshot"] && !values.out)
    throw new Error("--heap-snapshot needs --out DIR to keep the snapshot");
  const totalTags = o.streams * o.tags;
  // The scheduled-import cap must cover every tag once per interval; twice that leaves headroom.
  const perMinute = o["per-minute"] || Math.max(60, Math.ceil(((totalTags * 60) / o.interval) * 2));
  const outDir = values.out ? resolve(values.out) : await makeTempDir("bench-scale");
  mkdirSync(outDir, { recursive: true });

  console.log(
    `scale benchmark: ${o.streams} ImageStreams x ${o.tags} scheduled tags = ${totalTags} tags naming ${o.references} references, ${o.plain} Deployments without triggers, ${o.triggered} with; interval ${o.interval} s, ${perMinute} scheduled imports per minute, ${o["import-workers"]} import workers; operator from ${operatorDir}${values.compiled ? " (compiled, dist/main.js)" : " (src/main.ts)"}${values["node-flags"] ? ` with node ${values["node-flags"]}` : ""}${values.env.length > 0 ? `, environment ${values.env.join(" ")}` : ""}${o["memory-limit"] > 0 ? ` in a memory cgroup limited to ${o["memory-limit"]} MiB` : ""}`,
  );
  console.log(
    "starting a control plane (etcd, kube-apiserver, kube-controller-manager) and a plain-HTTP registry behind a counting proxy on loopback...",
  );
  let started = Date.now();
  const cpStarting = startControlPlane({
    controllerManager: true,
    installCrds: true,
    // Its default 20 requests/s would take minutes to create thousands of ReplicaSets.
    controllerManagerArgs: ["--kube-api-qps=300", "--kube-api-burst=600"],
  });
  onCleanup(async () => (await cpStarting).stop());
  const registryStarting = startRegistry("plain");
  onCleanup(async () => (await registryStarting).stop());
  const [cp, registry] = await Promise.all([cpStarting, registryStarting]);
  const proxy = await startFaultProxy(registry);
  onCleanup(() => proxy.stop());
  console.log(`  ready in ${Date.now() - started} ms`);

  const kc = cp.kubeConfig;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const namespace = await createNamespace(cp, "bench-scale");
  const apiWrites = async (): Promise<Map<string, number>> =>
    sumBy(parseMetrics(await apiServerGet(kc, "/metrics")), "apiserver_request_total", (s) => {
      const label = apiWriteLabel(s);
      return label && !API_SERVER_OWN(label) ? label : undefined;
    });

  // ---- the objects
  started = Date.now();
  const digests: string[] = [];
  const reference = (k: number): { repository: string; tag: string } => ({
    repository: `bench/ref-${k}`,
    tag: "v1",
  });
  await parallel(o.references, 8, async (k) => {
    const { repository, tag } = reference(k);
    digests[k] = (await pushImage(registry, repository, tag, { layerContent: `reference ${k}` })).digest;
  });
  const refOf = (i: number, j: number): number => (i * o.tags + j) % o.references;
  const expected = (i: number, j: number): string => digests[refOf(i, j)] ?? "";
  console.log(`pushed ${o.references} distinct images in ${Date.now() - started} ms`);

  started = Date.now();
  await parallel(o.streams, CREATE_WORKERS, async (i) => {
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: "imagestreams",
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "ImageStream",
        metadata: { name: `s${i}` },
        spec: {
          tags: Array.from({ length: o.tags }, (_, j) => {
            const { repository, tag } = reference(refOf(i, j));
            return {
              name: `t${j}`,
              from: { kind: "DockerImage", name: `${proxy.host}/${repository}:${tag}` },
              importPolicy: { insecure: true, scheduled: true },
            };
          }),
        },
      },
    });
  });
  console.log(`created ${o.streams} ImageStreams in ${Date.now() - started} ms`);
  started = Date.now();
  await createDeployments(
    apps,
    namespace,
    o.plain,
    (i) => ({ name: `plain-${i}`, containers: largeContainers(i) }),
    CREATE_WORKERS,
  );
  const triggeredSource = (i: number): { stream: number; ref: number } => ({
    stream: i % o.streams,
    ref: refOf(i % o.streams, 0),
  });
  await createDeployments(
    apps,
    namespace,
    o.triggered,
    (i) => {
      const { stream, ref } = triggeredSource(i);
      const { repository, tag } = reference(ref);
      return {
        name: `triggered-${i}`,
        labels: { "bench-scale": "triggered" },
        annotations: {
          [TRIGGER_ANNOTATION]: JSON.stringify([
            {
              from: { kind: "ImageStreamTag", name: `s${stream}:t0` },
              fieldPath: 'spec.template.spec.containers[?(@.name=="app")].image',
            },
          ]),
        },
        containers: [{ name: "app", image: `${proxy.host}/${repository}:${tag}` }, ...largeContainers(i)],
      };
    },
    CREATE_WORKERS,
  );
  console.log(
    `created ${o.plain} Deployments without triggers and ${o.triggered} with (3-4 containers, ~10 kB of pod spec each) in ${Date.now() - started} ms`,
  );

  // The controller manager creates a ReplicaSet per Deployment; its writes must not land in a phase.
  started = Date.now();
  const quietWrites = async (
    what: string,
    extra: () => Promise<boolean> = async () => true,
  ): Promise<void> => {
    let last = total(await apiWrites());
    let since = Date.now();
    await waitUntil(
      what,
      async () => {
        const now = total(await apiWrites());
        if (now !== last) {
          last = now;
          since = Date.now();
        }
        return Date.now() - since >= QUIET_MS && (await extra());
      },
      2000,
    );
  };
  await quietWrites("the controller manager to settle");
  console.log(`controller manager settled in ${Date.now() - started} ms`);

  // ---- the driver's view: what a user watching the streams and ImageStreamTags sees
  const streamView = new WatchView<ImageStream>(
    kc,
    { group: GROUP, version: VERSION, namespace, plural: "imagestreams" },
    (s) => ({
      metadata: {
        name: s.metadata.name,
        annotations: {
          [IMPORT_REQUESTED_HANDLED_ANNOTATION]:
            s.metadata.annotations?.[IMPORT_REQUESTED_HANDLED_ANNOTATION] ?? "",
        },
      },
      status: {
        tags: (s.status?.tags ?? []).map((t) => ({ tag: t.tag, items: (t.items ?? []).slice(0, 1) })),
      },
    }),
  );
  await streamView.start();
  onCleanup(async () => streamView.stop());
  const istagView = new WatchView<ImageStreamTag, string | undefined>(
    kc,
    { group: GROUP, version: VERSION, namespace, plural: "imagestreamtags" },
    (istag) => istag.image?.metadata?.name,
  );
  await istagView.start();
  onCleanup(async () => istagView.stop());
  const imported = (): number => {
    let done = 0;
    for (let i = 0; i < o.streams; i++) {
      const tags = streamView.items.get(`s${i}`)?.status?.tags ?? [];
      for (let j = 0; j < o.tags; j++) {
        if (tags.find((t) => t.tag === `t${j}`)?.items?.[0]?.image === expected(i, j)) done++;
      }
    }
    return done;
  };
  const materialized = (): number => {
    let done = 0;
    for (let i = 0; i < o.streams; i++) {
      for (let j = 0; j < o.tags; j++) if (istagView.items.get(`s${i}.t${j}`) === expected(i, j)) done++;
    }
    return done;
  };
  const triggeredPatched = async (): Promise<number> => {
    if (o.triggered === 0) return 0;
    const list = await apps.listNamespacedDeployment({ namespace, labelSelector: "bench-scale=triggered" });
    let done = 0;
    for (const d of list.items) {
      const i = Number(d.metadata?.name?.slice("triggered-".length));
      const image = d.spec?.template.spec?.containers.find((c) => c.name === "app")?.image ?? "";
      if (image.endsWith(`@${digests[triggeredSource(i).ref]}`)) done++;
    }
    return done;
  };

  // ---- the operator, as its own process
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const logFile = join(outDir, "operator.log");
  const entry = values.compiled ? await compiledEntry(operatorDir) : join(operatorDir, "src/main.ts");
  const cgroup = o["memory-limit"] > 0 ? createMemoryCgroup(o["memory-limit"]) : undefined;
  if (cgroup) onCleanup(async () => cgroup.remove());
  const nodeArgs = [
    "--disable-warning=ExperimentalWarning",
    `--diagnostic-dir=${outDir}`,
    "--heapsnapshot-signal=SIGUSR2",
    ...values["node-flags"].split(/\s+/).filter(Boolean),
  ];
  const spawnedAt = Date.now();
  const operator: ManagedProcess = spawnLogged({
    name: "operator",
    // In a cgroup: the shell joins it, then execs node (same pid), so V8 sizes itself from the limit.
    command: cgroup ? "/bin/sh" : process.execPath,
    args: [
      ...(cgroup ? ["-c", 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, process.execPath] : []),
      ...nodeArgs,
      entry,
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--namespaces=${namespace}`,
      `--metrics-address=127.0.0.1:${metricsPort}`,
      `--health-address=127.0.0.1:${healthPort}`,
      `--scheduled-import-interval=${o.interval}s`,
      `--scheduled-imports-per-minute=${perMinute}`,
      `--import-workers=${o["import-workers"]}`,
      // The debug lines name the tags each round checked: the per-tag distribution below.
      "--log-level=debug",
    ],
    logFile,
    cwd: operatorDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, POD_NAME: "bench-scale", ...operatorEnv },
  });
  onCleanup(() => operator.stop());
  const probe = new OperatorProbe(
    operator.pid,
    `http://127.0.0.1:${metricsPort}`,
    `http://127.0.0.1:${healthPort}`,
  );
  probe.start();
  onCleanup(async () => probe.stop());
  const alive = (): void => {
    if (!operator.exited()) return;
    const killed =
      cgroup && cgroup.oomKills() > 0 ? ` (OOM-killed at its ${o["memory-limit"]} MiB limit)` : "";
    throw new Error(`the operator exited${killed}; see ${logFile}`);
  };

  const snapshot = async (): Promise<Snapshot> => ({
    at: Date.now(),
    apiWrites: await apiWrites(),
    operator: await probe.metrics(),
  });
  const phase = (name: string, from: Snapshot, to: Snapshot): PhaseFigures => {
    const registryCounts = new Map<string, number>();
    for (const r of proxy.requests) {
      if (r.at < from.at || r.at >= to.at) continue;
      const kind = requestKind(r.method, r.path);
      registryCounts.set(kind, (registryCounts.get(kind) ?? 0) + 1);
    }
    const counter = (name: string, label?: (s: Sample) => string | undefined) =>
      difference(sumBy(to.operator, name, label), sumBy(from.operator, name, label));
    const rss = OperatorProbe.window(
      probe.rss.map((s) => ({ at: s.at, value: s.bytes })),
      from.at,
      to.at,
    );
    const heap = OperatorProbe.window(
      probe.heap.map((s) => ({ at: s.at, value: s.used })),
      from.at,
      to.at,
    );
    return {
      name,
      ms: to.at - from.at,
      registry: registryCounts,
      apiWrites: difference(to.apiWrites, from.apiWrites),
      reconciles: counter("imagestream_reconcile_total", (s) => s.labels.controller),
      clientRequests: total(counter("imagestream_registry_requests_total")),
      tagLookups: counter(
        "imagestream_registry_tag_lookups_total",
        (s) => `${s.labels.freshness} ${s.labels.result}`,
      ),
      cpuSeconds: total(counter("process_cpu_seconds_total")),
      rssMax: rss.max,
      rssMean: rss.mean,
      heapMax: heap.max,
      heapMean: heap.mean,
    };
  };
  const phases: PhaseFigures[] = [];
  const report = (figures: PhaseFigures, note = ""): void => {
    phases.push(figures);
    console.log(`\n${figures.name}: ${(figures.ms / 1000).toFixed(1)} s${note}`);
    console.log(
      `  registry requests (registry side): ${total(figures.registry)}: ${describeCounts(figures.registry)}`,
    );
    console.log(
      `  registry requests (operator's own counter): ${figures.clientRequests}; tag lookups: ${describeCounts(figures.tagLookups) || "none"}`,
    );
    console.log(
      `  API writes (kube-apiserver, all clients): ${total(figures.apiWrites)}: ${describeCounts(figures.apiWrites)}`,
    );
    console.log(`  reconciles: ${describeCounts(figures.reconciles)}`);
    console.log(
      `  operator: CPU ${figures.cpuSeconds.toFixed(1)} s, RSS max ${mib(figures.rssMax)} (mean ${mib(figures.rssMean)}), V8 heap used max ${mib(figures.heapMax)} (mean ${mib(figures.heapMean)})`,
    );
  };

  // ---- 1. start-up: process start to caches synced
  await waitUntil(
    "the operator's /readyz",
    async () => {
      alive();
      return probe.ready();
    },
    100,
  );
  const readyAt = Date.now();
  const startupMs = readyAt - spawnedAt;
  let mark = await snapshot();
  const atReady = mark;
  console.log(
    `\nstart-up: /readyz answered 200 ${startupMs} ms after the process started (RSS ${mib(probe.status("VmRSS"))})`,
  );

  // ---- 2. cold import
  await waitUntil(
    "the cold import",
    () => {
      alive();
      return imported() === totalTags;
    },
    500,
  );
  let next = await snapshot();
  report(phase(`cold import of ${totalTags} tags`, mark, next), " (from /readyz)");
  const coldMs = next.at - readyAt;
  mark = next;

  // ---- 3. ImageStreamTags materialized (and triggered Deployments patched)
  let patchedAt: number | undefined;
  await waitUntil(
    "the ImageStreamTags",
    async () => {
      alive();
      if (o.triggered > 0 && patchedAt === undefined && (await triggeredPatched()) === o.triggered)
        patchedAt = Date.now();
      return materialized() === totalTags && (o.triggered === 0 || patchedAt !== undefined);
    },
    1000,
  );
  next = await snapshot();
  const istagMs = next.at - readyAt;
  report(
    phase(`ImageStreamTags materialized (${totalTags})`, mark, next),
    ` after the cold import; ${(istagMs / 1000).toFixed(1)} s from /readyz${patchedAt ? `; ${o.triggered} triggered Deployments patched ${((patchedAt - readyAt) / 1000).toFixed(1)} s from /readyz` : ""}`,
  );
  const sinceReady = phase("everything from /readyz", atReady, next);

  // ---- 4. re-import request on every stream (nothing changed in the registry)
  await quietWrites("a quiet moment", async () => {
    const depth = sumBy(await probe.metrics(), "imagestream_workqueue_depth");
    return total(depth) === 0;
  });
  mark = await snapshot();
  const value = `bench-${Date.now()}`;
  await parallel(o.streams, CREATE_WORKERS, (i) =>
    requestImport(custom, namespace, `s${i}`, value).then(() => {}),
  );
  const requestedMs = Date.now() - mark.at;
  await waitUntil(
    "every re-import request to be handled",
    () => {
      alive();
      for (let i = 0; i < o.streams; i++) {
        if (
          streamView.items.get(`s${i}`)?.metadata.annotations?.[IMPORT_REQUESTED_HANDLED_ANNOTATION] !== value
        )
          return false;
      }
      return true;
    },
    500,
  );
  next = await snapshot();
  const reimport = phase(`re-import request on all ${o.streams} streams`, mark, next);
  report(
    reimport,
    ` (the benchmark's ${o.streams} request PATCHes took ${(requestedMs / 1000).toFixed(1)} s of it and are among the API writes; scheduled checks continue meanwhile)`,
  );

  // ---- 5. steady scheduled checks: one interval to settle (the request reset every tag's schedule), then the window
  console.log(`\nwaiting one interval (${o.interval} s) for the schedule to settle after the request...`);
  const settleFrom = next.at;
  await waitUntil(
    "the settling interval",
    () => {
      alive();
      return Date.now() - settleFrom >= o.interval * 1000;
    },
    1000,
  );
  mark = await snapshot();
  const windowMs = o.intervals * o.interval * 1000;
  const windowFrom = mark.at;
  await waitUntil(
    "the steady window",
    () => {
      alive();
      return Date.now() - windowFrom >= windowMs;
    },
    1000,
  );
  next = await snapshot();
  const steady = phase(`steady scheduled checks (${o.intervals} intervals of ${o.interval} s)`, mark, next);
  report(steady);
  const vmHwm = probe.status("VmHWM");
  const memoryLine = await memoryBreakdown(probe);
  console.log(`\nmemory at the end of the steady window: ${memoryLine}`);

  // ---- the schedule: checks per tag in the window, from the operator's log
  const checks = await checksFromLog(logFile, mark.at, next.at);
  const perTag: number[] = [];
  const gaps: number[] = [];
  const intervalMs = o.interval * 1000;
  let skipped = 0; // tags with two checks more than 1.1 intervals apart: an interval without a check
  let crowded = 0; // tags with two checks less than 0.9 intervals apart: more than their share
  for (let i = 0; i < o.streams; i++) {
    for (let j = 0; j < o.tags; j++) {
      const times = checks.get(`${namespace}/s${i}/t${j}`) ?? [];
      perTag.push(times.length);
      const own: number[] = [];
      for (let k = 1; k < times.length; k++) own.push((times[k] ?? 0) - (times[k - 1] ?? 0));
      if (own.some((g) => g > 1.1 * intervalMs)) skipped++;
      if (own.some((g) => g < 0.9 * intervalMs)) crowded++;
      gaps.push(...own);
    }
  }
  perTag.sort((a, b) => a - b);
  gaps.sort((a, b) => a - b);
  const histogram = new Map<number, number>();
  for (const n of perTag) histogram.set(n, (histogram.get(n) ?? 0) + 1);
  const never = histogram.get(0) ?? 0;
  const scheduleLine = `min ${perTag[0]} / median ${percentile(perTag, 50)} / max ${perTag.at(-1)} per tag (expected ${o.intervals}); ${never} of ${totalTags} tags never checked, ${skipped} went more than 1.1 intervals without a check, ${crowded} were checked twice within 0.9 intervals`;
  console.log(`\nscheduled checks per tag in the steady window (${o.intervals} intervals)`);
  console.log(`  ${scheduleLine}`);
  console.log(
    `  distribution: ${[...histogram]
      .sort(([a], [b]) => a - b)
      .map(([n, count]) => `${n} checks: ${count} tags`)
      .join(", ")}`,
  );
  if (gaps.length > 0) {
    const inIntervals = (ms: number | undefined): string =>
      ((ms ?? Number.NaN) / (o.interval * 1000)).toFixed(2);
    console.log(
      `  time between two checks of a tag, in intervals: min ${inIntervals(gaps[0])}, p50 ${inIntervals(percentile(gaps, 50))}, max ${inIntervals(gaps.at(-1))}`,
    );
  }

  // ---- heap snapshot (after the figures: writing one needs as much memory again)
  if (values["heap-snapshot"]) {
    const before = new Set(readdirSync(outDir));
    console.log("\nwriting a heap snapshot of the operator (SIGUSR2)...");
    process.kill(operator.pid, "SIGUSR2");
    let file: string | undefined;
    let size = 0;
    // The process writes the snapshot on its main thread: it answers /readyz again once done.
    await waitUntil(
      "the heap snapshot",
      async () => {
        alive();
        file ??= readdirSync(outDir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
        if (!file || !(await probe.ready())) return false;
        const now = statSync(join(outDir, file)).size;
        const done = now > 0 && now === size;
        size = now;
        return done;
      },
      3000,
    );
    console.log(
      `  ${join(outDir, file ?? "")} (${mib(size)}); summarize with: node scripts/heap-summary.ts <file>`,
    );
  }

  started = Date.now();
  probe.stop();
  await operator.stop();
  const stopMs = Date.now() - started;

  // ---- the table
  const row = (figure: string, measured: string): string => `| ${figure} | ${measured} |`;
  const registryTotal = (f: PhaseFigures): string => `${total(f.registry)} (${describeCounts(f.registry)})`;
  const writes = (f: PhaseFigures): string => `${total(f.apiWrites)} (${describeCounts(f.apiWrites)})`;
  const steadyHeap = steady.heapMean;
  console.log(
    [
      "",
      `summary: ${o.streams} streams x ${o.tags} tags (${o.references} references), ${o.plain} plain + ${o.triggered} triggered Deployments, interval ${o.interval} s, ${perMinute}/min`,
      "",
      "| figure | measured |",
      "|---|---|",
      row("start-up to caches synced (/readyz)", `${(startupMs / 1000).toFixed(1)} s`),
      row(`cold import of the ${totalTags} tags`, `${(coldMs / 1000).toFixed(1)} s`),
      row("registry requests during the cold import", registryTotal(phases[0] as PhaseFigures)),
      row(
        "ImageStreamTags materialized",
        `${(istagMs / 1000).toFixed(1)} s from /readyz; reconciles from /readyz: ${describeCounts(sinceReady.reconciles)}`,
      ),
      row("API writes from /readyz to ImageStreamTags materialized", writes(sinceReady)),
      row(
        "operator RSS peak / steady (V8 heap used, steady)",
        `${mib(vmHwm)} (VmHWM) / ${mib(steady.rssMean)} mean, ${mib(steady.rssMax)} max (${mib(steadyHeap)})`,
      ),
      ...(cgroup
        ? [
            row(
              `memory cgroup (limit ${o["memory-limit"]} MiB): peak charged / OOM kills`,
              `${mib(cgroup.peakBytes())} / ${cgroup.oomKills()}`,
            ),
          ]
        : []),
      row(
        `re-import request on all ${o.streams} streams`,
        `${(reimport.ms / 1000).toFixed(1)} s, ${registryTotal(reimport)}; of these, sent for the request: ${reimport.tagLookups.get("seen sent") ?? 0} (${reimport.tagLookups.get("seen shared") ?? 0} request lookups shared; the rest are scheduled checks)`,
      ),
      row("API writes during the re-import request", writes(reimport)),
      row(`steady window (${o.intervals} x ${o.interval} s): registry requests`, registryTotal(steady)),
      row("steady window: API writes", writes(steady)),
      row("steady window: operator CPU", `${steady.cpuSeconds.toFixed(1)} s`),
      row("memory at the end of the steady window", memoryLine),
      row("scheduled checks per tag in the steady window", scheduleLine),
      row("shutdown (SIGTERM to exit)", `${(stopMs / 1000).toFixed(1)} s`),
    ].join("\n"),
  );
}

/** VmRSS split into anonymous and file-backed pages, and the V8 heap by space, as the operator reports it. */
async function memoryBreakdown(probe: OperatorProbe): Promise<string> {
  const samples = await probe.metrics();
  const one = (name: string): number => total(sumBy(samples, name));
  const spaces = sumBy(samples, "nodejs_heap_space_size_used_bytes", (s) => s.labels.space);
  const bySpace = [...spaces]
    .filter(([, bytes]) => bytes >= 1024 * 1024)
    .sort((a, b) => b[1] - a[1])
    .map(([space, bytes]) => `${space} ${mib(bytes)}`)
    .join(", ");
  return [
    `VmRSS ${mib(probe.status("VmRSS"))} = anonymous ${mib(probe.status("RssAnon"))} + file-backed ${mib(probe.status("RssFile"))}`,
    `V8 heap used ${mib(one("nodejs_heap_size_used_bytes"))} of ${mib(one("nodejs_heap_size_total_bytes"))} committed (${bySpace})`,
    `external (Buffers, WASM) ${mib(one("nodejs_external_memory_bytes"))}`,
  ].join("; ");
}

/** Per `namespace/stream/tag`: times of the import rounds that checked it, from the operator's log lines naming the tags. */
async function checksFromLog(file: string, from: number, to: number): Promise<Map<string, number[]>> {
  const checks = new Map<string, number[]>();
  const lines = createInterface({
    input: createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (!line.includes('"imagestream unchanged"') && !line.includes('"imagestream status updated"')) continue;
    let entry: { time?: string; namespace?: string; name?: string; tags?: string[] };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const at = Date.parse(entry.time ?? "");
    if (!(at >= from && at < to)) continue;
    for (const tag of entry.tags ?? []) {
      const key = `${entry.namespace}/${entry.name}/${tag}`;
      const times = checks.get(key) ?? [];
      times.push(at);
      checks.set(key, times);
    }
  }
  return checks;
}

await runBenchmark("bench-scale", main);

/** Builds `dir`'s operator as the container image does and returns its entry point. */
async function compiledEntry(dir: string): Promise<string> {
  const tsc = join(dir, "node_modules/typescript/bin/tsc");
  if (!existsSync(tsc)) throw new Error(`--compiled: no ${tsc} (run npm ci in ${dir})`);
  const build = await run(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: dir });
  if (build.code !== 0) throw new Error(`--compiled: the build failed: ${build.stdout}${build.stderr}`);
  const entry = join(dir, "dist/main.js");
  if (!existsSync(entry)) throw new Error(`--compiled: the build made no ${entry}`);
  return entry;
}

interface MemoryCgroup {
  /** Writing a pid here moves that process into the cgroup. */
  procsFile: string;
  /** Highest memory use charged to the cgroup, in bytes. */
  peakBytes(): number;
  /** Times the kernel OOM-killed a process of the cgroup. */
  oomKills(): number;
  remove(): void;
}

/** A memory cgroup limited to `mib` MiB, as a pod's `resources.limits.memory` (v2 or v1). */
function createMemoryCgroup(mib: number): MemoryCgroup {
  const name = `imagestream-bench-${process.pid}`;
  const read = (file: string): string => (existsSync(file) ? readFileSync(file, "utf8") : "");
  const field = (text: string, key: string): number =>
    Number(text.match(new RegExp(`^${key} (\\d+)$`, "m"))?.[1] ?? 0);
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  const dir = v2 ? join("/sys/fs/cgroup", name) : join("/sys/fs/cgroup/memory", name);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, v2 ? "memory.max" : "memory.limit_in_bytes"), String(mib * 1024 * 1024));
    // no swap to hide behind: going over the limit is an OOM kill, as in most clusters
    if (v2) writeFileSync(join(dir, "memory.swap.max"), "0");
  } catch (err) {
    throw new Error(
      `--memory-limit: cannot create the memory cgroup ${dir} (needs root and a writable cgroup memory controller): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return {
    procsFile: join(dir, "cgroup.procs"),
    peakBytes: () => Number(read(join(dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes")).trim() || 0),
    oomKills: () => field(read(join(dir, v2 ? "memory.events" : "memory.oom_control")), "oom_kill"),
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // still has a process (already reported by the operator's own cleanup)
      }
    },
  };
}
