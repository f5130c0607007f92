// What the benchmark scripts (bench-import, bench-trigger, bench-scale, bench-admission, bench-push) share: figures and
// counts, cleanup of everything a run started (on exit, on error, on Ctrl-C and at --timeout),
// bulk creation of objects, a watched view of a collection, and Prometheus text scraping.

import { readFileSync } from "node:fs";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { cpus, loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type AppsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  type RequestContext,
  setHeaderOptions,
  type V1Container,
  Watch,
} from "@kubernetes/client-node";
import { IMPORT_REQUESTED_ANNOTATION } from "../src/imports/index.ts";

export const GROUP = "image.openshift.io";
export const VERSION = "v1";

// ---------------------------------------------------------------- figures

/** The p-th percentile (nearest rank) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** `p50 X ms, p99 Y ms, max Z ms (n samples)` of millisecond samples. */
export function latencySummary(samples: readonly number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const ms = (v: number) => `${Math.round(v)} ms`;
  return `p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? Number.NaN)} (${sorted.length} samples)`;
}

/** The 1/5/15-minute load averages against the core count: the machine is shared. */
export function machineLoad(): string {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  return `load average ${one.toFixed(2)} / ${five.toFixed(2)} / ${fifteen.toFixed(2)} on ${cpus().length} cores`;
}

export function ratio(count: number, per: number): string {
  return per === 0 ? "n/a" : (count / per).toFixed(2);
}

/** Counts by label; phases take snapshots and report differences. */
export class Tally {
  readonly counts = new Map<string, number>();
  lastAt = 0;
  add(label: string, by = 1): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + by);
    this.lastAt = Date.now();
  }
  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }
  since(snapshot: Map<string, number>): Map<string, number> {
    return difference(this.counts, snapshot);
  }
}

/** `after - before` per label, labels whose count grew only. */
export function difference(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const diff = new Map<string, number>();
  for (const [label, count] of after) {
    const delta = count - (before.get(label) ?? 0);
    if (delta > 0) diff.set(label, delta);
  }
  return diff;
}

export function total(counts: Map<string, number>, filter: (label: string) => boolean = () => true): number {
  let sum = 0;
  for (const [label, count] of counts) if (filter(label)) sum += count;
  return sum;
}

/** "label n, label m" sorted by label; with `perTag`, each count also per tag. */
export function describeCounts(counts: Map<string, number>, perTag?: number): string {
  if (counts.size === 0) return "none";
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, count]) => `${label} ${count}${perTag ? ` (${ratio(count, perTag)}/tag)` : ""}`)
    .join(", ");
}

// ---------------------------------------------------------------- cleanup and time limit

const cleanups: (() => Promise<void>)[] = [];
let cleaningUp: Promise<void> | undefined;
let deadline = Number.POSITIVE_INFINITY;

/** Registers a cleanup step; steps run in reverse order of registration. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop();
      try {
        await fn?.();
      } catch (err) {
        console.error(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaningUp;
}

// Any script importing this file stops what it registered on Ctrl-C and SIGTERM.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping everything this benchmark started...`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/**
 * `timeoutS` stops everything registered with onCleanup: waits fail at the deadline
 * (waitUntil); a hard timer a minute later catches anything else that hangs.
 */
export function stopAtTimeout(name: string, timeoutS: number): void {
  deadline = Date.now() + timeoutS * 1000;
  setTimeout(
    () => {
      console.error(`${name}: --timeout ${timeoutS} s passed: stopping everything this benchmark started...`);
      void cleanUp().finally(() => process.exit(1));
    },
    (timeoutS + 60) * 1000,
  ).unref();
}

export async function waitUntil(
  what: string,
  done: () => boolean | Promise<boolean>,
  pollMs = 25,
): Promise<void> {
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`--timeout passed while waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** Runs `main`, reports a failure with its stack, and always cleans up. */
export async function runBenchmark(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    console.error(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  } finally {
    await cleanUp();
  }
}

/** The script's leading `//` comment (its usage and what it measures), for `--help`. */
export function usageOf(scriptUrl: string): string {
  const lines: string[] = [];
  for (const line of readFileSync(new URL(scriptUrl), "utf8").split("\n")) {
    if (!line.startsWith("//")) break;
    lines.push(line.replace(/^\/\/ ?/, ""));
  }
  return lines.join("\n");
}

/** Parses numeric options; each must be an integer of at least `min` (default 1). */
export function integerOptions<K extends string>(
  values: Record<K, string | boolean | undefined>,
  names: readonly K[],
  min: Partial<Record<K, number>> = {},
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const name of names) {
    const value = Number(values[name]);
    const least = min[name] ?? 1;
    if (!Number.isInteger(value) || value < least) {
      throw new Error(`--${name} must be an integer of at least ${least}, got ${String(values[name])}`);
    }
    out[name] = value;
  }
  return out;
}

// ---------------------------------------------------------------- bulk work

/** Runs `work(0..count-1)` with at most `workers` at once. */
export async function parallel(
  count: number,
  workers: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** Sets the re-import request annotation on a stream, as `kubectl imagestream import-image` does. */
export function requestImport(
  api: CustomObjectsApi,
  namespace: string,
  name: string,
  value: string,
): Promise<unknown> {
  return api.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace,
      plural: "imagestreams",
      name,
      body: { metadata: { annotations: { [IMPORT_REQUESTED_ANNOTATION]: value } } },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

/** About 10 kB of pod spec (3 containers x 40 env vars): what a metadata-only watch keeps out of memory. */
export function largeContainers(index: number): V1Container[] {
  return [0, 1, 2].map((c) => ({
    name: `c${c}`,
    image: `registry.bench:5000/plain/app-${index}:v1`,
    args: ["--serve", "--port", String(8000 + c)],
    env: Array.from({ length: 40 }, (_, i) => ({
      name: `SETTING_${i}`,
      value: `value-${index}-${c}-${i}-${"x".repeat(40)}`,
    })),
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
  }));
}

export interface DeploymentShape {
  name: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  containers: V1Container[];
}

/** Creates `count` Deployments with 0 replicas (no kubelet runs Pods here), 16 at a time. */
export async function createDeployments(
  apps: AppsV1Api,
  namespace: string,
  count: number,
  make: (index: number) => DeploymentShape,
  workers = 16,
): Promise<void> {
  await parallel(count, workers, async (index) => {
    const { name, annotations, labels, containers } = make(index);
    const selector = { app: name };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name, ...(annotations ? { annotations } : {}), ...(labels ? { labels } : {}) },
        spec: {
          replicas: 0,
          selector: { matchLabels: selector },
          template: { metadata: { labels: selector }, spec: { containers } },
        },
      },
    });
  });
}

// ---------------------------------------------------------------- a watched collection

/**
 * The latest state of every object of a collection, as a user watching it sees it: a paginated
 * list, then a watch (started over if it ends). `project` keeps only what the benchmark reads,
 * so a view of 30,000 objects stays small.
 */
export interface Collection {
  group: string;
  version: string;
  namespace: string;
  plural: string;
}

export class WatchView<T extends { metadata?: { name?: string } }, P = T> {
  readonly items = new Map<string, P>();
  modifiedEvents = 0;
  #abort: AbortController | undefined;
  #stopped = false;
  readonly #kc: KubeConfig;
  readonly #collection: Collection;
  readonly #project: (obj: T) => P;

  constructor(kc: KubeConfig, collection: Collection, project: (obj: T) => P) {
    this.#kc = kc;
    this.#collection = collection;
    this.#project = project;
  }

  async start(): Promise<void> {
    const api = this.#kc.makeApiClient(CustomObjectsApi);
    const { group, version, namespace, plural } = this.#collection;
    let resourceVersion = "";
    let continueToken: string | undefined;
    const listed = new Map<string, P>();
    do {
      const page = (await api.listNamespacedCustomObject({
        ...this.#collection,
        limit: 500,
        ...(continueToken ? { _continue: continueToken } : {}),
      })) as { items: T[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const obj of page.items) listed.set(obj.metadata?.name ?? "", this.#project(obj));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    this.items.clear();
    for (const [name, item] of listed) this.items.set(name, item);
    this.#abort = await new Watch(this.#kc).watch(
      `/apis/${group}/${version}/namespaces/${namespace}/${plural}`,
      { resourceVersion },
      (phase: string, obj: T) => {
        const name = obj.metadata?.name ?? "";
        if (phase === "DELETED") this.items.delete(name);
        else if (phase === "ADDED" || phase === "MODIFIED") {
          if (phase === "MODIFIED") this.modifiedEvents++;
          this.items.set(name, this.#project(obj));
        }
      },
      () => {
        // Server-side watch timeouts are far longer than a run; start over if one ends anyway.
        if (!this.#stopped) setTimeout(() => void this.start().catch(() => {}), 200);
      },
    );
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }
}

// ---------------------------------------------------------------- Prometheus text format

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of a Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] ?? ""] = (l[2] ?? "").replace(/\\(.)/g, "$1");
    }
    samples.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sum of `name`'s samples, grouped by `label(sample)` (samples it maps to undefined are left out). */
export function sumBy(
  samples: readonly Sample[],
  name: string,
  label: (s: Sample) => string | undefined = () => name,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name) continue;
    const key = label(s);
    if (key !== undefined) out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

/**
 * A client-node KubeConfig whose API clients share one connection pool, for the drivers' own
 * requests: client-node 2.0.1 builds a new undici Agent, hence a new TLS connection, for every
 * request. The first Agent is kept and reused (its TLS settings come from the kubeconfig).
 */
export function withSharedConnections(kc: KubeConfig): KubeConfig {
  const wrapped = Object.create(kc) as KubeConfig;
  let shared: Dispatcher | undefined;
  wrapped.applySecurityAuthentication = async (ctx: RequestContext): Promise<void> => {
    await kc.applySecurityAuthentication(ctx);
    const created = ctx.getDispatcher();
    if (created === undefined) return;
    if (shared === undefined) {
      shared = created;
    } else {
      ctx.setDispatcher(shared);
      void created.close().catch(() => {});
    }
  };
  return wrapped;
}

/** GET of a path on the API server with the kubeconfig's credentials (e.g. /metrics). */
export async function apiServerGet(kc: KubeConfig, path: string): Promise<string> {
  const server = new URL(kc.getCurrentCluster()?.server ?? "");
  const options: RequestOptions = {
    hostname: server.hostname,
    port: server.port,
    path,
    method: "GET",
  };
  await kc.applyToHTTPSOptions(options);
  return await new Promise((resolve, reject) => {
    const req = httpsRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if ((res.statusCode ?? 0) >= 300)
          reject(new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 200)}`));
        else resolve(body);
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
