// Leader election against the real API server: two electors in one process, each with its own
// client, compete for one Lease.
import { setTimeout as sleep } from "node:timers/promises";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { LeaderElector, leaseStoreFromClient } from "../../src/leader/index.ts";
import { loadKubeConfig } from "../../src/runtime/index.ts";
import { createNamespace, useSharedControlPlane } from "../harness/index.ts";

const TIMINGS = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };
const LEASE = "imagestream-operator";

interface Replica {
  elector: LeaderElector;
  startedAt: number[];
  stoppedAt: number[];
}

const cp = useSharedControlPlane();
const running: Replica[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.elector.stop()));
});

/** A replica with its own connection, as a separate process would have. */
function replica(namespace: string, identity: string, releaseOnStop: boolean): Replica {
  const store = leaseStoreFromClient(loadKubeConfig(cp.kubeconfigPath), namespace, LEASE);
  const r: Replica = { elector: undefined as never, startedAt: [], stoppedAt: [] };
  r.elector = new LeaderElector({
    ...TIMINGS,
    store,
    identity,
    releaseOnStop,
    callbacks: {
      onStartedLeading: () => {
        r.startedAt.push(Date.now());
      },
      onStoppedLeading: () => {
        r.stoppedAt.push(Date.now());
      },
    },
  });
  void r.elector.run();
  running.push(r);
  return r;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await sleep(20);
  }
}

/** Fails the test if both replicas ever lead at once while `during` runs. */
async function neverBoth(a: Replica, b: Replica, during: () => Promise<void>): Promise<void> {
  let overlap = false;
  const watcher = setInterval(() => {
    if (a.elector.isLeader() && b.elector.isLeader()) overlap = true;
  }, 10);
  try {
    await during();
  } finally {
    clearInterval(watcher);
  }
  expect(overlap).toBe(false);
}

async function readLease(namespace: string) {
  return cp.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE, namespace });
}

describe("leader election on a real Lease", () => {
  it("elects exactly one of two candidates and keeps the lease renewed", async () => {
    const namespace = await createNamespace(cp, "leader");
    const a = replica(namespace, "replica-a", true);
    const b = replica(namespace, "replica-b", true);

    await neverBoth(a, b, async () => {
      await waitFor(() => a.elector.isLeader() || b.elector.isLeader(), 10_000);
      await sleep(4_000);
    });
    const [leader, standby] = a.elector.isLeader() ? [a, b] : [b, a];
    expect(leader.startedAt).toHaveLength(1);
    expect(standby.startedAt).toHaveLength(0);
    expect(standby.elector.leader).toBe(leader.elector.identity);

    const lease = await readLease(namespace);
    expect(lease.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
    expect(lease.spec?.leaseTransitions).toBe(0);
    // Renewed every retry period: the renewTime is recent (within a couple of periods).
    const renewed = Date.parse(String(lease.spec?.renewTime));
    expect(Date.now() - renewed).toBeLessThan(2_000);
  });

  it("a standby takes over one lease duration after the leader dies without releasing", async () => {
    const namespace = await createNamespace(cp, "leader");
    const a = replica(namespace, "replica-a", false);
    await waitFor(() => a.elector.isLeader(), 10_000);
    const b = replica(namespace, "replica-b", false);

    await neverBoth(a, b, async () => {
      await sleep(1_500);
      expect(b.elector.isLeader()).toBe(false);
      // Like a SIGKILL as far as the lease is concerned: renewals stop, nothing is released.
      const killedAt = Date.now();
      await a.elector.stop();
      await waitFor(() => b.elector.isLeader(), 10_000);
      const tookOverAfter = (b.startedAt[0] ?? 0) - killedAt;
      // The last renewal was at most one retry period before the kill.
      expect(tookOverAfter).toBeGreaterThanOrEqual(TIMINGS.leaseDurationMs - TIMINGS.retryPeriodMs);
      expect(tookOverAfter).toBeLessThan(TIMINGS.leaseDurationMs + 3_000);
    });
    const lease = await readLease(namespace);
    expect(lease.spec?.holderIdentity).toBe("replica-b");
    expect(lease.spec?.leaseTransitions).toBe(1);
  });

  it("releasing on stop hands over well before the lease would expire", async () => {
    const namespace = await createNamespace(cp, "leader");
    const a = replica(namespace, "replica-a", true);
    await waitFor(() => a.elector.isLeader(), 10_000);
    const b = replica(namespace, "replica-b", true);

    await neverBoth(a, b, async () => {
      await sleep(1_000);
      const stoppedAt = Date.now();
      await a.elector.stop();
      expect(a.stoppedAt).toHaveLength(1);
      await waitFor(() => b.elector.isLeader(), 10_000);
      // At most one jittered retry period (0.5 s x 2.2) plus request time, never the 3 s lease.
      expect((b.startedAt[0] ?? 0) - stoppedAt).toBeLessThan(TIMINGS.leaseDurationMs - 500);
    });
    const lease = await readLease(namespace);
    expect(lease.spec?.holderIdentity).toBe("replica-b");
    expect(lease.spec?.leaseTransitions).toBe(1);
  });
});
