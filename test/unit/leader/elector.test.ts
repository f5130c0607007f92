import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LeaderElector, type LeaderElectorOptions } from "../../../src/leader/index.ts";
import { FakeLease, FakeLeaseClient, httpError } from "./fake-store.ts";

const TIMINGS = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2025-01-01T00:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Candidate {
  elector: LeaderElector;
  client: FakeLeaseClient;
  events: { type: "started" | "stopped" | "leader"; at: number; identity?: string }[];
  signals: AbortSignal[];
  done: Promise<void>;
  finished: () => boolean;
}

function candidate(
  lease: FakeLease,
  identity: string,
  options: Partial<LeaderElectorOptions> & { onStopped?: () => Promise<void> } = {},
): Candidate {
  const client = new FakeLeaseClient(lease, identity);
  const events: Candidate["events"] = [];
  const signals: AbortSignal[] = [];
  const elector = new LeaderElector({
    ...TIMINGS,
    store: client,
    identity,
    random: () => 0,
    ...options,
    callbacks: {
      onStartedLeading: (signal) => {
        signals.push(signal);
        events.push({ type: "started", at: Date.now() });
      },
      onStoppedLeading: async () => {
        events.push({ type: "stopped", at: Date.now() });
        await options.onStopped?.();
      },
      onNewLeader: (leader) => events.push({ type: "leader", at: Date.now(), identity: leader }),
    },
  });
  let finished = false;
  const done = elector.run().then(() => {
    finished = true;
  });
  return { elector, client, events, signals, done, finished: () => finished };
}

const foreignHolder = (renewTime: number) => ({
  holderIdentity: "other",
  leaseDurationSeconds: 3,
  acquireTime: renewTime,
  renewTime,
  leaseTransitions: 4,
});

describe("LeaderElector", () => {
  it("acquires a lease that does not exist and reports itself as leader", async () => {
    const lease = new FakeLease();
    const a = candidate(lease, "a");
    await vi.advanceTimersByTimeAsync(0);

    expect(a.elector.isLeader()).toBe(true);
    expect(a.events.map((e) => e.type)).toEqual(["leader", "started"]);
    expect(a.events[0]?.identity).toBe("a");
    expect(lease.record).toMatchObject({
      holderIdentity: "a",
      leaseDurationSeconds: 3,
      leaseTransitions: 0,
      acquireTime: Date.now(),
      renewTime: Date.now(),
    });
    await a.elector.stop();
  });

  it("waits while another holder keeps renewing, and never writes the lease", async () => {
    const lease = new FakeLease();
    lease.seed(foreignHolder(Date.now()));
    const renewer = setInterval(() => lease.seed(foreignHolder(Date.now())), 1_000);
    const b = candidate(lease, "b");

    await vi.advanceTimersByTimeAsync(20_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.leader).toBe("other");
    expect(b.events).toEqual([{ type: "leader", at: expect.any(Number), identity: "other" }]);
    expect(lease.writes.filter((w) => w.by === "b")).toEqual([]);
    clearInterval(renewer);
    await b.elector.stop();
    expect(b.finished()).toBe(true);
  });

  it("takes over an expired lease one lease duration after first seeing it, whatever its renewTime says", async () => {
    const lease = new FakeLease();
    // A renewTime far in the past (clock skew, or a dead leader): the local observation time counts.
    lease.seed(foreignHolder(Date.parse("2000-01-01T00:00:00Z")));
    const start = Date.now();
    const b = candidate(lease, "b");

    await vi.advanceTimersByTimeAsync(2_999);
    expect(b.elector.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(600);
    expect(b.elector.isLeader()).toBe(true);
    const started = b.events.find((e) => e.type === "started");
    expect(started?.at).toBeGreaterThanOrEqual(start + 3_000);
    expect(lease.record).toMatchObject({
      holderIdentity: "b",
      leaseTransitions: 5,
      acquireTime: started?.at,
    });
    await b.elector.stop();
  });

  it("takes over a released lease at its next retry", async () => {
    const lease = new FakeLease();
    lease.seed({ ...foreignHolder(Date.now()), holderIdentity: "", leaseDurationSeconds: 1 });
    const b = candidate(lease, "b");
    await vi.advanceTimersByTimeAsync(0);
    expect(b.elector.isLeader()).toBe(true);
    expect(lease.record?.leaseTransitions).toBe(5);
    await b.elector.stop();
  });

  it("renews every retry period, keeping acquireTime and transitions", async () => {
    const lease = new FakeLease();
    const a = candidate(lease, "a");
    await vi.advanceTimersByTimeAsync(0);
    const acquired = lease.record?.acquireTime;

    await vi.advanceTimersByTimeAsync(5_000);
    const renewals = lease.writes.filter((w) => w.by === "a").slice(1);
    expect(renewals).toHaveLength(10);
    expect(renewals.map((w) => w.record.renewTime)).toEqual(
      Array.from({ length: 10 }, (_, i) => (acquired ?? 0) + (i + 1) * 500),
    );
    expect(renewals.every((w) => w.record.acquireTime === acquired && w.record.leaseTransitions === 0)).toBe(
      true,
    );
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stop();
  });

  it.each(["fail", "hang"] as const)(
    "steps down when renewals %s for the renew deadline, before the lease could expire for others",
    async (connection) => {
      const lease = new FakeLease();
      const a = candidate(lease, "a", { releaseOnStop: false });
      await vi.advanceTimersByTimeAsync(1_000);
      const lastWrite = lease.record?.renewTime ?? 0;
      a.client.connection = connection;

      await vi.advanceTimersByTimeAsync(1_999);
      expect(a.elector.isLeader()).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      expect(a.elector.isLeader()).toBe(false);
      const stopped = a.events.find((e) => e.type === "stopped");
      expect(stopped?.at).toBe(lastWrite + TIMINGS.renewDeadlineMs);
      expect(stopped?.at).toBeLessThan(lastWrite + TIMINGS.leaseDurationMs);
      expect(a.signals[0]?.aborted).toBe(true);
      await vi.advanceTimersByTimeAsync(TIMINGS.renewDeadlineMs);
      expect(a.finished()).toBe(true);
    },
  );

  it("steps down at once when it finds another holder in the lease", async () => {
    const lease = new FakeLease();
    const a = candidate(lease, "a");
    await vi.advanceTimersByTimeAsync(0);
    lease.seed(foreignHolder(Date.now()));

    await vi.advanceTimersByTimeAsync(500);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events.map((e) => e.type)).toEqual(["leader", "started", "leader", "stopped"]);
    await a.done;
    // It does not release a lease that is no longer its own.
    expect(lease.record?.holderIdentity).toBe("other");
  });

  it("on stop keeps renewing while onStoppedLeading drains, then releases the lease", async () => {
    const lease = new FakeLease();
    let drained = false;
    const a = candidate(lease, "a", {
      onStopped: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        drained = true;
      },
    });
    await vi.advanceTimersByTimeAsync(0);

    const stopping = a.elector.stop();
    await vi.advanceTimersByTimeAsync(4_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.signals[0]?.aborted).toBe(true);
    // Still the holder with a fresh lease while draining: no standby may start yet.
    expect(lease.record).toMatchObject({ holderIdentity: "a", renewTime: Date.now() });

    await vi.advanceTimersByTimeAsync(1_000);
    await stopping;
    expect(drained).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 0 });
    expect(a.elector.state).toBe("stopped");
  });

  it("still releases when its own late renewal moved the Lease's resourceVersion", async () => {
    const lease = new FakeLease();
    const a = candidate(lease, "a");
    await vi.advanceTimersByTimeAsync(0);
    expect(a.elector.isLeader()).toBe(true);
    // A renewal request that stop() no longer waited for lands on the server.
    const current = lease.read();
    if (!current) throw new Error("no lease");
    lease.replace("a", { ...current.record }, current.resourceVersion);
    await a.elector.stop();
    expect(lease.record).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
  });

  it("leaves the lease to expire when releaseOnStop is false", async () => {
    const lease = new FakeLease();
    const a = candidate(lease, "a", { releaseOnStop: false });
    await vi.advanceTimersByTimeAsync(0);
    await a.elector.stop();
    expect(lease.record?.holderIdentity).toBe("a");
    expect(a.events.map((e) => e.type)).toEqual(["leader", "started", "stopped"]);
  });

  it("stopping a candidate ends its campaign without writing", async () => {
    const lease = new FakeLease();
    lease.seed(foreignHolder(Date.now()));
    const b = candidate(lease, "b");
    await vi.advanceTimersByTimeAsync(1_000);
    await b.elector.stop();
    expect(b.finished()).toBe(true);
    expect(b.events.some((e) => e.type === "started" || e.type === "stopped")).toBe(false);
    expect(lease.writes).toEqual([]);
  });

  it("treats a conflict as a lost race: no leadership, then waits for the winner", async () => {
    const lease = new FakeLease();
    const b = candidate(lease, "b");
    b.client.injected.push({ op: "create", error: httpError(409, "leases already exists") });
    // The winner's write lands while b's create is refused.
    lease.seed(foreignHolder(Date.now()));
    const renewer = setInterval(() => lease.seed(foreignHolder(Date.now())), 1_000);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.leader).toBe("other");
    clearInterval(renewer);
    await b.elector.stop();
  });

  it("falls back to reading the lease when the optimistic renewal conflicts", async () => {
    const lease = new FakeLease();
    const a = candidate(lease, "a");
    await vi.advanceTimersByTimeAsync(0);
    a.client.injected.push({ op: "replace", error: httpError(409, "the object has been modified") });

    await vi.advanceTimersByTimeAsync(500);
    expect(a.elector.isLeader()).toBe(true);
    expect(lease.record?.renewTime).toBe(Date.now());
    await a.elector.stop();
  });

  it("two candidates never lead at the same time, through partitions and a crash", async () => {
    const lease = new FakeLease();
    const a = candidate(lease, "a", { releaseOnStop: false });
    await vi.advanceTimersByTimeAsync(0);
    const b = candidate(lease, "b", { releaseOnStop: false, random: () => 0.5 });
    const both = [a, b];
    let overlaps = 0;
    const step = async (ms: number) => {
      for (let t = 0; t < ms; t += 50) {
        await vi.advanceTimersByTimeAsync(50);
        if (a.elector.isLeader() && b.elector.isLeader()) overlaps++;
      }
    };

    await step(5_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);

    // The leader is cut off from the API server: b takes over only after a stepped down.
    a.client.connection = "fail";
    await step(10_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(b.elector.isLeader()).toBe(true);
    const aStopped = a.events.find((e) => e.type === "stopped")?.at ?? Number.POSITIVE_INFINITY;
    const bStarted = b.events.find((e) => e.type === "started")?.at ?? 0;
    expect(aStopped).toBeLessThan(bStarted);
    expect(lease.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });

    // Flaky connection for the new leader: renewals fail now and then but within the deadline.
    let n = 0;
    const flaky = setInterval(() => {
      b.client.connection = n++ % 3 === 0 ? "fail" : "ok";
    }, 400);
    await step(10_000);
    clearInterval(flaky);
    b.client.connection = "ok";
    expect(b.elector.isLeader()).toBe(true);
    expect(overlaps).toBe(0);
    for (const c of both) await c.elector.stop();
  });

  it("keeps going when a callback throws", async () => {
    const lease = new FakeLease();
    const elector = new LeaderElector({
      ...TIMINGS,
      store: new FakeLeaseClient(lease, "a"),
      identity: "a",
      callbacks: {
        onStartedLeading: () => {
          throw new Error("boom");
        },
        onStoppedLeading: () => {
          throw new Error("boom");
        },
        onNewLeader: () => {
          throw new Error("boom");
        },
      },
    });
    void elector.run();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(elector.isLeader()).toBe(true);
    await elector.stop();
    expect(lease.record?.holderIdentity).toBe("");
  });

  it("rejects timings that break client-go's rules", () => {
    const base = {
      store: new FakeLeaseClient(new FakeLease(), "a"),
      callbacks: { onStartedLeading() {}, onStoppedLeading() {} },
    };
    expect(
      () =>
        new LeaderElector({ ...base, leaseDurationMs: 2_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 }),
    ).toThrow(/leaseDurationMs/);
    expect(
      () =>
        new LeaderElector({ ...base, leaseDurationMs: 3_000, renewDeadlineMs: 1_100, retryPeriodMs: 1_000 }),
    ).toThrow(/retryPeriodMs \* 1\.2/);
    expect(() => new LeaderElector({ ...base, ...TIMINGS, identity: "" })).toThrow(/identity/);
    expect(new LeaderElector({ ...base, ...TIMINGS }).identity).toMatch(/^.+_[0-9a-f]{8}$/);
  });
});
