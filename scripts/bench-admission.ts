// Benchmark of the admission webhooks: what image lookup adds to every Deployment create it sees,
// against a real local control plane (loopback only).
//
//   node scripts/bench-admission.ts [--creates N] [--rounds R] [--warmup W]
//
// Starts its own control plane (etcd + kube-apiserver with the CRDs, no controller manager, so
// a create is only a create), an ImageStream `ruby` with lookupPolicy.local and an imported tag
// 2.5 (its status written directly: no registry is involved), and times N sequential Deployment
// creates (POST round trip, client side) in each of these phases, R rounds interleaved:
//   - no webhook:      no MutatingWebhookConfiguration at all (the baseline);
//   - lookup:          the operator's webhooks registered, `image: ruby:2.5`, resolved to the digest;
//   - no lookup:       registered, `image: nginx:1.27` (a short name without a stream: the webhook
//                      is called and changes nothing);
//   - not called:      registered, `image: registry.example.com/team/app:1` (the webhook's match
//                      conditions keep kube-apiserver from calling it);
//   - not selected:    registered, `image: ruby:2.5` in a namespace the webhooks do not select
//                      (interleaved with the three above: a baseline measured at the same time).
// The operator runs as a child process (`node src/main.ts`, webhooks only), as in a Pod; its own
// handling time comes from its imagestream_admission_request_duration_seconds histogram.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { AdmissionregistrationV1Api } from "@kubernetes/client-node";
import { IMAGESTREAMS, type ImageStream, podTemplateKind } from "../src/api/index.ts";
import { objectApi } from "../src/runtime/index.ts";
import { createNamespace, freePort, startControlPlane } from "../test/harness/index.ts";
import { cleanUp, onCleanup, percentile } from "./bench-lib.ts";

const ROOT = join(import.meta.dirname, "..");
const DIGEST = `sha256:${"5".repeat(64)}`;
const RESOLVED = `registry.bench:5000/bench/ruby@${DIGEST}`;

interface Phase {
  name: string;
  namespace: string;
  image: string;
  webhook: boolean;
  /** What the stored Deployment's image must be (checked on the first create). */
  stored: string;
  samples: number[];
  /** The operator's handling time (seconds) and calls, from its metrics. */
  served: { seconds: number; calls: number };
}

function deployment(namespace: string, name: string, image: string) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "web", image }] } },
    },
  };
}

async function lookupServed(metricsUrl: string): Promise<{ seconds: number; calls: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const value = (series: string) =>
    Number(
      text
        .split("\n")
        .find((l) => l.startsWith(`${series}{webhook="image-lookup",operation="CREATE"}`))
        ?.split(" ")
        .pop() ?? 0,
    );
  return {
    seconds: value("imagestream_admission_request_duration_seconds_sum"),
    calls: value("imagestream_admission_request_duration_seconds_count"),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      creates: { type: "string", default: "300" },
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: "20" },
    },
  });
  const creates = Number(values.creates);
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  const perRound = Math.ceil(creates / rounds);

  const started = Date.now();
  const cp = await startControlPlane({ installCrds: true });
  onCleanup(() => cp.stop());
  const ns = await createNamespace(cp, "bench");
  const unselected = await createNamespace(cp, "bench-unselected");
  const operatorNs = await createNamespace(cp, "bench-operator");
  const objects = objectApi(cp.connection, { fieldManager: "bench-admission" });
  const created = await objects.create<ImageStream>(IMAGESTREAMS, {
    apiVersion: "image.openshift.io/v1",
    kind: "ImageStream",
    metadata: { name: "ruby", namespace: ns },
    spec: {
      lookupPolicy: { local: true },
      tags: [{ name: "2.5", from: { kind: "DockerImage", name: "registry.bench:5000/bench/ruby:2.5" } }],
    },
  });
  await objects.replaceStatus(IMAGESTREAMS, {
    ...created,
    status: {
      dockerImageRepository: "registry.bench:5000/bench/ruby",
      tags: [
        {
          tag: "2.5",
          items: [
            {
              created: new Date().toISOString(),
              dockerImageReference: RESOLVED,
              image: DIGEST,
              generation: 1,
            },
          ],
        },
      ],
    },
  });
  console.log(`control plane and stream ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const phases: Phase[] = [
    { name: "no webhook (baseline)", namespace: ns, image: "ruby:2.5", webhook: false, stored: "ruby:2.5" },
    {
      name: "webhook, lookup (ruby:2.5 resolved)",
      namespace: ns,
      image: "ruby:2.5",
      webhook: true,
      stored: RESOLVED,
    },
    {
      name: "webhook, no lookup (nginx:1.27, called)",
      namespace: ns,
      image: "nginx:1.27",
      webhook: true,
      stored: "nginx:1.27",
    },
    {
      name: "webhook, not called (registry host)",
      namespace: ns,
      image: "registry.example.com/team/app:1",
      webhook: true,
      stored: "registry.example.com/team/app:1",
    },
    {
      name: "webhook, namespace not selected",
      namespace: unselected,
      image: "ruby:2.5",
      webhook: true,
      stored: "ruby:2.5",
    },
  ].map((p) => ({ ...p, samples: [], served: { seconds: 0, calls: 0 } }));

  let counter = 0;
  const createOne = async (phase: Phase, record: boolean): Promise<void> => {
    const name = `d-${++counter}`;
    const t0 = performance.now();
    const stored = (await objects.create(
      podTemplateKind("Deployment"),
      deployment(phase.namespace, name, phase.image),
    )) as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    const ms = performance.now() - t0;
    const image = stored.spec.template.spec.containers[0]?.image;
    if (image !== phase.stored)
      throw new Error(`${phase.name}: stored image ${image}, expected ${phase.stored}`);
    if (record) phase.samples.push(ms);
  };

  // The baseline first, before any webhook configuration exists.
  const baseline = phases[0] as Phase;
  for (let i = 0; i < warmup; i++) await createOne(baseline, false);
  for (let i = 0; i < creates; i++) await createOne(baseline, true);

  // The operator, webhooks only, as a child process.
  const port = await freePort();
  const metricsPort = await freePort();
  const configuration = "bench-admission";
  const operator: ChildProcess = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      join(ROOT, "src", "main.ts"),
      `--kubeconfig=${cp.kubeconfigPath}`,
      "--controllers=",
      `--namespaces=${ns}`,
      `--admission-address=127.0.0.1:${port}`,
      `--admission-url=https://127.0.0.1:${port}`,
      `--admission-certificate-secret=${operatorNs}/webhook-certs`,
      `--admission-webhook-configuration=${configuration}`,
      `--metrics-address=127.0.0.1:${metricsPort}`,
      "--health-address=0",
      "--log-level=warn",
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  onCleanup(async () => {
    operator.kill("SIGTERM");
    await new Promise((resolve) =>
      operator.exitCode === null ? operator.once("exit", resolve) : resolve(null),
    );
  });
  const admission = cp.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  for (let i = 0; ; i++) {
    const registered = await admission
      .readMutatingWebhookConfiguration({ name: configuration })
      .then((c) => c.webhooks?.every((w) => w.clientConfig.caBundle))
      .catch(() => false);
    if (registered) break;
    if (i > 600) throw new Error("the operator did not register its webhooks within 60 s");
    await sleep(100);
  }
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  for (const phase of phases.slice(1)) for (let i = 0; i < warmup; i++) await createOne(phase, false);
  for (let round = 0; round < rounds; round++) {
    for (const phase of phases.slice(1)) {
      const before = await lookupServed(metricsUrl);
      for (let i = 0; i < perRound; i++) await createOne(phase, true);
      const after = await lookupServed(metricsUrl);
      phase.served.seconds += after.seconds - before.seconds;
      phase.served.calls += after.calls - before.calls;
    }
  }

  const base = percentile(
    [...baseline.samples].sort((a, b) => a - b),
    50,
  );
  console.log(`\nDeployment create, POST round trip (${creates} creates per phase, sequential):`);
  for (const phase of phases) {
    const sorted = [...phase.samples].sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    const p50 = percentile(sorted, 50);
    const served =
      phase.served.calls > 0
        ? `; webhook called ${phase.served.calls} times, answering in ${((phase.served.seconds / phase.served.calls) * 1000).toFixed(2)} ms on average`
        : phase.webhook
          ? "; webhook not called"
          : "";
    console.log(
      `  ${phase.name.padEnd(42)} p50 ${p50.toFixed(2)} ms  p99 ${percentile(sorted, 99).toFixed(2)} ms  mean ${mean.toFixed(2)} ms  (p50 ${p50 - base >= 0 ? "+" : ""}${(p50 - base).toFixed(2)} ms vs baseline)${served}`,
    );
  }
}

main()
  .then(() => cleanUp())
  .then(
    () => process.exit(0),
    async (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      await cleanUp();
      process.exit(1);
    },
  );
