// High availability (issue 5 section 2): two operator processes with leader election against
// the real control plane. One leads and does the work while the other stays ready but idle;
// when the leader is SIGKILLed the standby takes over within the lease duration plus its
// polling slack, and across the handover no import or trigger is done twice or lost.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { AppsV1Api, CoordinationV1Api, EventsV1Api, type EventsV1Event } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ImageStream } from "../../src/api/types.ts";
import {
  createNamespace,
  eventually,
  kubectl,
  type PushedImage,
  pushImage,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { killAllOperatorProcesses, type OperatorProcess, startOperatorProcess } from "./operator-process.ts";
import { streamsOf } from "./streams.ts";

// Short timings within client-go's rules: lease > renew deadline > 1.2 * retry period.
const LEASE_MS = 4_000;
const RENEW_MS = 3_000;
const RETRY_MS = 1_000;
/** A candidate waits retry * (1 + 1.2 jitter) between attempts, as client-go does. */
const MAX_RETRY_WAIT_MS = RETRY_MS * 2.2;
/**
 * Worst case from the kill to the takeover: the standby first sees the last renewal up to one
 * jittered retry after it was written, waits the lease duration from then, and notices the
 * expiry at its next jittered attempt; plus slack for process scheduling on 2 busy cores.
 */
const TAKEOVER_BOUND_MS = LEASE_MS + 2 * MAX_RETRY_WAIT_MS + 2_000;
const LEASE_NAME = "imagestream-operator";
const INITIAL_IMAGE = "placeholder.invalid/web:initial";

const cp = useSharedControlPlane();
const plain = useSharedRegistry("plain");
const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
const leases = cp.kubeConfig.makeApiClient(CoordinationV1Api);
const eventsApi = cp.kubeConfig.makeApiClient(EventsV1Api);
const repository = `ha-${randomBytes(3).toString("hex")}/app`;

let namespace = "";
let replicas: OperatorProcess[] = [];
let leader: OperatorProcess;
let standby: OperatorProcess;
let firstImage: PushedImage;
let firstReference = "";

const streams = streamsOf(cp);
const getStream = (): Promise<ImageStream> => streams.get(namespace, "app");

function history(stream: ImageStream) {
  return stream.status?.tags?.find((t) => t.tag === "v1")?.items ?? [];
}

async function holderIdentity(): Promise<string | undefined> {
  const lease = await leases.readNamespacedLease({ name: LEASE_NAME, namespace });
  return lease.spec?.holderIdentity || undefined;
}

async function deploymentImage(): Promise<string | undefined> {
  const deployment = await apps.readNamespacedDeployment({ name: "web", namespace });
  return deployment.spec?.template.spec?.containers[0]?.image;
}

/** The container image of every ReplicaSet of the Deployment, sorted. */
async function replicaSetImages(): Promise<string[]> {
  const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector: "app=web" });
  return list.items.map((rs) => rs.spec?.template?.spec?.containers[0]?.image ?? "").sort();
}

/** The stream's Imported Events; a repeat aggregated into an Event's series counts as more. */
async function importedEvents(): Promise<{ events: EventsV1Event[]; occurrences: number }> {
  const list = await eventsApi.listNamespacedEvent({ namespace });
  const events = list.items.filter(
    (e) => e.reason === "Imported" && e.regarding?.kind === "ImageStream" && e.regarding.name === "app",
  );
  const occurrences = events.reduce((sum, e) => sum + (e.series?.count ?? 1), 0);
  return { events, occurrences };
}

function tails(): string {
  return replicas.map((r) => r.tail()).join("\n");
}

function startReplica(name: string): Promise<OperatorProcess> {
  return startOperatorProcess(name, [
    `--kubeconfig=${cp.kubeconfigPath}`,
    `--namespaces=${namespace}`,
    "--leader-elect=true",
    `--leader-election-namespace=${namespace}`,
    `--leader-election-name=${LEASE_NAME}`,
    `--lease-duration=${LEASE_MS / 1000}s`,
    `--renew-deadline=${RENEW_MS / 1000}s`,
    `--retry-period=${RETRY_MS / 1000}s`,
  ]);
}

beforeAll(async () => {
  namespace = await createNamespace(cp, "ha");
  firstImage = await pushImage(plain, repository, "v1");
  replicas = [await startReplica("ha-a"), await startReplica("ha-b")];
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    console.error(`operator output:\n${tails()}`);
  });
});

afterAll(async () => {
  await killAllOperatorProcesses();
  if (namespace) await kubectl(cp, ["delete", "namespace", namespace, "--wait=false"]);
});

describe("two operator processes with leader election", () => {
  it("both become ready; exactly one holds the Lease and reports itself leader", async () => {
    for (const replica of replicas) {
      await eventually(
        async () => ((await replica.readyz()) === 200 ? true : undefined),
        `${replica.name} /readyz 200`,
      );
    }
    const holder = await eventually(holderIdentity, "a holder of the Lease");
    const [a, b] = replicas as [OperatorProcess, OperatorProcess];
    // Both identities are logged once their caches synced and they campaign.
    await eventually(async () => (a.identity && b.identity ? true : undefined), "both replicas campaigning");
    expect(a.identity).not.toBe(b.identity);
    const lead = replicas.find((r) => r.identity === holder);
    if (!lead) throw new Error(`the Lease holder ${holder} is neither replica`);
    leader = lead;
    standby = lead === a ? b : a;
    // The gauge is set right after the lease is written; give it a moment, then it must agree.
    await eventually(
      async () => ((await leader.leaderGauge()) === 1 ? true : undefined),
      `${leader.name} imagestream_leader 1`,
    );
    expect(await standby.leaderGauge()).toBe(0);
    // Still one leader, and the same one, a few renewals later.
    await sleep(2 * RETRY_MS);
    expect(await holderIdentity()).toBe(leader.identity);
    expect([await leader.leaderGauge(), await standby.leaderGauge()]).toEqual([1, 0]);
    expect(await standby.readyz()).toBe(200);
  });

  it("the leader imports the stream and rolls out the triggered Deployment", async () => {
    await streams.create(namespace, "app", {
      tags: [
        {
          name: "v1",
          from: { kind: "DockerImage", name: `${plain.host}/${repository}:v1` },
          importPolicy: { insecure: true },
        },
      ],
    });
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: {
          name: "web",
          annotations: {
            "image.openshift.io/triggers": JSON.stringify([
              {
                from: { kind: "ImageStreamTag", name: "app:v1" },
                fieldPath: 'spec.template.spec.containers[?(@.name=="web")].image',
              },
            ]),
          },
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: INITIAL_IMAGE }] },
          },
        },
      },
    });

    const stream = await eventually(async () => {
      const s = await getStream();
      return history(s)[0]?.image === firstImage.digest ? s : undefined;
    }, `app:v1 imported as ${firstImage.digest}`);
    firstReference = history(stream)[0]?.dockerImageReference ?? "";
    expect(firstReference).toContain(firstImage.digest);
    await eventually(
      async () => ((await deploymentImage()) === firstReference ? true : undefined),
      "the Deployment's image set by the trigger",
    );
    await eventually(
      async () => ((await replicaSetImages()).includes(firstReference) ? true : undefined),
      "a ReplicaSet of the triggered template",
    );
    // The Event is written after the status; wait for it so the kill cannot lose it.
    const { events } = await eventually(async () => {
      const imported = await importedEvents();
      return imported.occurrences === 1 ? imported : undefined;
    }, "the Imported Event");
    expect(events[0]?.reportingInstance).toBe(leader.name);
    expect(await standby.leaderGauge()).toBe(0);
  });

  it("the standby takes over when the leader is SIGKILLed", async () => {
    const killedAt = Date.now();
    leader.kill("SIGKILL");
    expect((await leader.exit(5_000)).signal).toBe("SIGKILL");
    await eventually(
      async () => ((await standby.leaderGauge()) === 1 ? true : undefined),
      `${standby.name} taking over`,
      TAKEOVER_BOUND_MS + 10_000,
    );
    const takeoverMs = Date.now() - killedAt;
    console.log(
      `HA takeover after SIGKILL: ${takeoverMs} ms (lease ${LEASE_MS} ms, renew ${RENEW_MS} ms, retry ${RETRY_MS} ms, bound ${TAKEOVER_BOUND_MS} ms)`,
    );
    expect(takeoverMs).toBeLessThanOrEqual(TAKEOVER_BOUND_MS);
    // Not before the killed leader's lease could have expired for anyone.
    expect(takeoverMs).toBeGreaterThanOrEqual(LEASE_MS - RETRY_MS);
    expect(await holderIdentity()).toBe(standby.identity);
  });

  it("the new leader imports a re-import request and the Deployment follows; nothing twice or lost", async () => {
    const secondImage = await pushImage(plain, repository, "v1");
    expect(secondImage.digest).not.toBe(firstImage.digest);
    const request = await streams.requestImport(namespace, "app");

    const stream = await eventually(async () => {
      const s = await getStream();
      return history(s)[0]?.image === secondImage.digest ? s : undefined;
    }, `app:v1 re-imported as ${secondImage.digest}`);
    const secondReference = history(stream)[0]?.dockerImageReference ?? "";
    expect(secondReference).toContain(secondImage.digest);
    await eventually(
      async () => ((await deploymentImage()) === secondReference ? true : undefined),
      "the Deployment following the re-import",
    );
    await eventually(
      async () => ((await importedEvents()).occurrences >= 2 ? true : undefined),
      "the second Imported Event",
    );

    // Let a duplicate (a second import, trigger or Event) surface before counting.
    await sleep(3 * RETRY_MS);
    const final = await getStream();
    expect(history(final).map((item) => item.image)).toEqual([secondImage.digest, firstImage.digest]);
    expect(final.metadata?.annotations?.["image.openshift.io/import-requested-handled"]).toBe(request);
    expect(await deploymentImage()).toBe(secondReference);
    expect(await replicaSetImages()).toEqual([INITIAL_IMAGE, firstReference, secondReference].sort());
    const { events, occurrences } = await importedEvents();
    expect(occurrences).toBe(2);
    const byInstance = events.map((e) => [e.reportingInstance, e.note?.includes(secondImage.digest)]);
    expect(byInstance).toContainEqual([leader.name, false]);
    expect(byInstance).toContainEqual([standby.name, true]);
  });

  it("SIGTERM: the survivor exits 0 and releases the Lease", async () => {
    const termAt = Date.now();
    standby.kill("SIGTERM");
    const exit = await standby.exit(30_000);
    console.log(`HA graceful shutdown: exited ${exit.code} after ${Date.now() - termAt} ms`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await holderIdentity()).toBeUndefined();
    expect(standby.output).toContain("released the leader lease");
  });
});
