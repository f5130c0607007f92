// Benchmark of push-driven imports against real local components (loopback only): a control
// plane (kube-controller-manager included, for the rollout), the integrated registry as the chart configures it (Debian's distribution 2.8 with
// notifications and token auth), and the operator as its own process (src/main.ts), as users
// run it.
//
//   node scripts/bench-push.ts [--pushes N] [--streams S] [--concurrency C] [--timeout SECONDS]
//
// 1. Push latency: N pushes of <ns>/app:dev, one after the other, with a ServiceAccount token;
//    for each, the time from the end of the push (the manifest PUT answered) until a watch sees
//    the stream's newest item at the pushed digest, until it sees the Deployment that follows
//    app:dev patched to it, and until it sees the ReplicaSet kube-controller-manager creates for
//    that template (the rollout starting; no kubelet runs here, so no Pod gets ready). p50, p99
//    and max of each.
// 2. Receiver throughput: S streams each importing one tag of a registry, one generic Receiver;
//    a new image under every tag, then one event per stream POSTed (C at a time): the events
//    per second the receiver accepts (202), and until every stream has imported the new image.

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type V1Deployment,
  type V1ReplicaSet,
  Watch,
} from "@kubernetes/client-node";
import { request } from "undici";
import type { ImageStream, Receiver } from "../src/api/index.ts";
import {
  chartRegistry,
  createNamespace,
  freePort,
  pushImageWith,
  RegistryClient,
  type RegistryConnection,
  startControlPlane,
} from "../test/harness/index.ts";
import { launchConfiguredRegistry, launchRegistry } from "../test/harness/registry.ts";
import { integratedRegistryFlags } from "../test/integration/integrated-registry.ts";
import { cleanUp, latencySummary, machineLoad, onCleanup, parallel } from "./bench-lib.ts";

const ROOT = join(import.meta.dirname, "..");
const STREAMS = { group: "image.openshift.io", version: "v1", plural: "imagestreams" } as const;
const RECEIVERS = { group: "imagestream-operator.io", version: "v1alpha1", plural: "receivers" } as const;

let deadline = Number.POSITIVE_INFINITY;
async function waitUntil(what: string, done: () => boolean | Promise<boolean>, pollMs = 10): Promise<void> {
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`--timeout passed while waiting for ${what}`);
    await sleep(pollMs);
  }
}

/**
 * One image under bench/app:t-0 ... t-<count-1>: t-0 alone first, so that the parallel pushes
 * find its blobs in place (concurrent uploads of one blob make distribution refuse manifests).
 */
async function pushEverywhere(
  client: RegistryClient,
  count: number,
  content: string,
  created: string,
): Promise<string> {
  const push = async (i: number) =>
    (await pushImageWith(client, "bench/app", `t-${i}`, { layerContent: content, created }, content)).digest;
  const digest = await push(0);
  await parallel(count - 1, 8, async (i) => {
    await push(i + 1);
  });
  return digest;
}

/**
 * When a watch first saw each value `read` derives from an object (e.g. a digest). A watch that
 * ends (the API server closed one within seconds of the operator's start in the first runs) is
 * started again; the objects it then lists as ADDED only count for values not seen before.
 */
class FirstSeen<T> {
  readonly at = new Map<string, number>();
  restarts = 0;
  readonly #kc: KubeConfig;
  readonly #path: string;
  readonly #read: (obj: T) => string[];
  #abort: AbortController | undefined;
  #stopped = false;
  constructor(kc: KubeConfig, path: string, read: (obj: T) => string[]) {
    this.#kc = kc;
    this.#path = path;
    this.#read = read;
  }
  async start(): Promise<void> {
    this.#abort = await new Watch(this.#kc).watch(
      this.#path,
      {},
      (_phase: string, obj: T) => {
        const now = performance.now();
        for (const value of this.#read(obj)) if (!this.at.has(value)) this.at.set(value, now);
      },
      () => {
        if (this.#stopped) return;
        this.restarts++;
        setTimeout(() => void this.start().catch(() => {}), 50);
      },
    );
  }
  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pushes: { type: "string", default: "60" },
      streams: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "16" },
      timeout: { type: "string", default: "900" },
    },
  });
  const pushes = Number(values.pushes);
  const streamCount = Number(values.streams);
  const concurrency = Number(values.concurrency);
  deadline = Date.now() + Number(values.timeout) * 1000;
  console.log(`machine: ${machineLoad()}`);
  console.log("starting a control plane (etcd + kube-apiserver + kube-controller-manager on loopback)...");
  const cp = await startControlPlane({ controllerManager: true, installCrds: true });
  onCleanup(async () => cp.stop());
  const work = await mkdtemp(join(tmpdir(), "isop-bench-push-"));
  onCleanup(() => rm(work, { recursive: true, force: true }));
  const kc = cp.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const objects = kc.makeApiClient(KubernetesObjectApi);

  // The chart's registry sections and roles, the operator as its own process.
  const hooksPort = await freePort();
  const hooksUrl = `http://127.0.0.1:${hooksPort}`;
  const registryPort = await freePort();
  const chart = chartRegistry(`bench-${randomUUID().slice(0, 6)}`, hooksUrl);
  for (const role of chart.roles) await objects.create(role as unknown as KubernetesObject);
  const builderRole =
    chart.roles
      .map((r) => (r.metadata as { name?: string } | undefined)?.name ?? "")
      .find((name) => name.endsWith("-image-builder")) ?? "";
  const ops = await createNamespace(cp, "bench-ops");
  const tokenFile = join(work, "notifications-token");
  await writeFile(tokenFile, chart.notificationToken);
  const operator = spawn(
    process.execPath,
    [
      join(ROOT, "src", "main.ts"),
      `--kubeconfig=${cp.kubeconfigPath}`,
      ...integratedRegistryFlags({ chart, hooksPort, registryPort, opsNamespace: ops, tokenFile }),
      "--metrics-address=0",
      "--health-address=0",
      "--leader-elect=false",
      `--log-level=${process.env.BENCH_OPERATOR_LOG_LEVEL ?? "warn"}`,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  onCleanup(() => stopProcess(operator));
  let bundle = "";
  await waitUntil(
    "the operator's rootcertbundle",
    async () => {
      const cm = await core
        .readNamespacedConfigMap({ namespace: ops, name: "registry-token-ca" })
        .catch(() => undefined);
      bundle = cm?.data?.["ca.crt"] ?? "";
      return bundle !== "";
    },
    200,
  );
  const integrated = await launchConfiguredRegistry({
    variant: "plain",
    port: registryPort,
    configure: async (file) => chart.sections(hooksUrl, await file("token-ca.crt", bundle)),
  });
  onCleanup(() => integrated.stop());

  // ---- 1. push latency
  const ns = await createNamespace(cp, "bench-push");
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "ci" } } });
  await objects.create({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "ci", namespace: ns },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: builderRole },
    subjects: [{ kind: "ServiceAccount", name: "ci", namespace: ns }],
  } as KubernetesObject);
  const token =
    (
      await core.createNamespacedServiceAccountToken({
        namespace: ns,
        name: "ci",
        body: { spec: { audiences: [] } },
      })
    ).status?.token ?? "";
  const trigger = JSON.stringify([
    {
      from: { kind: "ImageStreamTag", name: "app:dev" },
      fieldPath: 'spec.template.spec.containers[?(@.name=="app")].image',
    },
  ]);
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: "app", annotations: { "image.openshift.io/triggers": trigger } },
      spec: {
        selector: { matchLabels: { app: "app" } },
        template: {
          metadata: { labels: { app: "app" } },
          spec: { containers: [{ name: "app", image: "app:dev" }] },
        },
      },
    },
  });
  const streamSeen = new FirstSeen<ImageStream>(
    kc,
    `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreams`,
    (s) => (s.status?.tags ?? []).filter((t) => t.tag === "dev").map((t) => t.items?.[0]?.image ?? ""),
  );
  const deploySeen = new FirstSeen<V1Deployment>(kc, `/apis/apps/v1/namespaces/${ns}/deployments`, (d) =>
    (d.spec?.template.spec?.containers ?? []).map((c) => c.image?.split("@")[1] ?? ""),
  );
  const rolloutSeen = new FirstSeen<V1ReplicaSet>(kc, `/apis/apps/v1/namespaces/${ns}/replicasets`, (r) =>
    (r.spec?.template?.spec?.containers ?? []).map((c) => c.image?.split("@")[1] ?? ""),
  );
  await Promise.all([streamSeen.start(), deploySeen.start(), rolloutSeen.start()]);
  const as: RegistryConnection = {
    variant: "plain",
    host: integrated.host,
    url: integrated.url,
    username: "ci",
    password: token,
  };
  const client = new RegistryClient(as);
  const toStatus: number[] = [];
  const toDeployment: number[] = [];
  const toReplicaSet: number[] = [];
  const warmup = 3;
  console.log(`\npush latency: ${warmup} warm-up pushes, then ${pushes} measured, one at a time`);
  for (let i = 0; i < warmup + pushes; i++) {
    const pushed = await pushImageWith(client, `${ns}/app`, "dev", { layerContent: `app ${i}` }, "app");
    const done = performance.now();
    await waitUntil(
      `push ${i} (${pushed.digest}) in the stream (seen: ${streamSeen.at.has(pushed.digest)}) and the Deployment (seen: ${deploySeen.at.has(pushed.digest)})`,
      () =>
        streamSeen.at.has(pushed.digest) &&
        deploySeen.at.has(pushed.digest) &&
        rolloutSeen.at.has(pushed.digest),
      2,
    );
    if (i < warmup) continue;
    toStatus.push((streamSeen.at.get(pushed.digest) ?? done) - done);
    toDeployment.push((deploySeen.at.get(pushed.digest) ?? done) - done);
    toReplicaSet.push((rolloutSeen.at.get(pushed.digest) ?? done) - done);
  }
  await client.close();
  streamSeen.stop();
  deploySeen.stop();
  rolloutSeen.stop();
  if (streamSeen.restarts + deploySeen.restarts + rolloutSeen.restarts > 0)
    console.log(
      `  (watches restarted: streams ${streamSeen.restarts}, Deployments ${deploySeen.restarts}, ReplicaSets ${rolloutSeen.restarts})`,
    );
  console.log(`  push -> stream status      ${latencySummary(toStatus)}`);
  console.log(`  push -> Deployment patched ${latencySummary(toDeployment)}`);
  console.log(`  push -> new ReplicaSet     ${latencySummary(toReplicaSet)}`);
  console.log(`  machine: ${machineLoad()}`);

  // ---- 2. receiver throughput
  const source = await launchRegistry("plain");
  onCleanup(() => source.stop());
  const rns = await createNamespace(cp, "bench-receiver");
  console.log(`\nreceiver: ${streamCount} streams importing ${source.host}/bench/app:t-<i>`);
  const seed = new RegistryClient(source);
  let started = performance.now();
  const first = await pushEverywhere(seed, streamCount, "v1", "2026-01-01T00:00:00Z");
  await parallel(streamCount, 16, async (i) => {
    await custom.createNamespacedCustomObject({
      ...STREAMS,
      namespace: rns,
      body: {
        apiVersion: "image.openshift.io/v1",
        kind: "ImageStream",
        metadata: { name: `s-${i}`, annotations: { "openshift.io/image.insecureRepository": "true" } },
        spec: {
          tags: [{ name: "v", from: { kind: "DockerImage", name: `${source.host}/bench/app:t-${i}` } }],
        },
      },
    });
  });
  const latest = new Map<string, string>();
  const view = new FirstSeen<ImageStream>(
    kc,
    `/apis/image.openshift.io/v1/namespaces/${rns}/imagestreams`,
    (s) => {
      const image = s.status?.tags?.[0]?.items?.[0]?.image;
      if (image) latest.set(s.metadata.name ?? "", image);
      return [];
    },
  );
  await view.start();
  const all = (digest: string) =>
    [...Array(streamCount).keys()].every((i) => latest.get(`s-${i}`) === digest);
  await waitUntil("the first import of every stream", () => all(first), 100);
  console.log(
    `  pushed and imported the first image everywhere in ${Math.round(performance.now() - started)} ms`,
  );

  await core.createNamespacedSecret({
    namespace: rns,
    body: {
      metadata: { name: "hook" },
      type: "imagestream-operator.io/receiver-token",
      stringData: { token: randomUUID() },
    },
  });
  await custom.createNamespacedCustomObject({
    ...RECEIVERS,
    namespace: rns,
    body: {
      apiVersion: "imagestream-operator.io/v1alpha1",
      kind: "Receiver",
      metadata: { name: "ci" },
      spec: { provider: "generic", secretRef: { name: "hook" } },
    },
  });
  let url = "";
  await waitUntil(
    "the Receiver's URL",
    async () => {
      url =
        ((await custom.getNamespacedCustomObject({ ...RECEIVERS, namespace: rns, name: "ci" })) as Receiver)
          .status?.url ?? "";
      return url !== "";
    },
    100,
  );
  const second = await pushEverywhere(seed, streamCount, "v2", "2026-01-02T00:00:00Z");
  await seed.close();

  console.log(`machine: ${machineLoad()}`);
  started = performance.now();
  let refused = 0;
  await parallel(streamCount, concurrency, async (i) => {
    const res = await request(`${hooksUrl}${url}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ image: `${source.host}/bench/app:t-${i}` }),
    });
    await res.body.dump();
    if (res.statusCode !== 202) refused++;
  });
  const acceptedMs = performance.now() - started;
  await waitUntil("every stream's import of the new image", () => all(second), 50);
  const importedMs = performance.now() - started;
  view.stop();
  const rate = (ms: number) => ((streamCount / ms) * 1000).toFixed(0);
  console.log(
    `  ${streamCount} events (${concurrency} at a time): accepted in ${Math.round(acceptedMs)} ms = ${rate(acceptedMs)} events/s` +
      `${refused ? ` (${refused} refused!)` : ""}; every stream imported the new image after ${Math.round(importedMs)} ms = ${rate(importedMs)} events/s end to end`,
  );
  console.log(`machine: ${machineLoad()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

main()
  .then(() => cleanUp())
  .then(
    () => process.exit(0),
    async (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      await cleanUp();
      process.exit(1);
    },
  );
