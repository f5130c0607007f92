import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ImageStream } from "../../../src/api/types.ts";
import {
  admitScheduledImports,
  computeStatus,
  type ImportOutcome,
  newImportState,
  type PlannedTagImport,
  planImports,
  recordImportAttempts,
  type StreamImportState,
  scheduledImportBudget,
} from "../../../src/imports/index.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { Controller, keyString, type ObjectKey } from "../../../src/runtime/index.ts";
import { D1, dockerTag, event, settings, stream } from "./fixtures.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const MIN = 60_000;

function planned(tag: string, causes: PlannedTagImport["causes"] = ["Scheduled"]): PlannedTagImport {
  return { tag, from: `registry.example/${tag}:latest`, insecure: false, importMode: "Legacy", causes };
}

describe("admitScheduledImports", () => {
  it("hands out one slot per tag in the order asked, spread evenly, never the same slot twice", () => {
    let budget = scheduledImportBudget(60); // one per second
    const held: number[] = [];
    let first: PlannedTagImport[] = [];
    for (let i = 0; i < 5; i++) {
      const admitted = admitScheduledImports([planned("a")], undefined, budget, NOW);
      budget = admitted.budget;
      if (i === 0) first = admitted.tags;
      else held.push(admitted.state.reservedSlots?.a ?? Number.NaN);
    }
    expect(first.map((t) => t.tag)).toEqual(["a"]);
    expect(held).toEqual([NOW + 1000, NOW + 2000, NOW + 3000, NOW + 4000]);
    expect(budget.nextFreeAt).toBe(NOW + 5000);
  });

  it("lets one second's worth of slots go at once, then spaces them at the budget's rate", () => {
    let budget = scheduledImportBudget(600); // ten per second
    const admitted: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < 25; i++) {
      const round = admitScheduledImports([planned(`t${i}`)], undefined, budget, NOW);
      budget = round.budget;
      if (round.tags.length > 0) admitted.push(i);
      else held.push((round.state.reservedSlots?.[`t${i}`] ?? Number.NaN) - NOW);
    }
    expect(admitted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(held.map(Math.round)).toEqual(Array.from({ length: 15 }, (_, k) => (k + 1) * 100));
  });

  it("keeps a reserved slot when the stream is looked at early, and runs the tag at it without another", () => {
    let budget = scheduledImportBudget(60);
    budget = admitScheduledImports([planned("x")], undefined, budget, NOW).budget; // someone took "now"
    const deferred = admitScheduledImports([planned("a")], undefined, budget, NOW);
    expect(deferred.tags).toEqual([]);
    expect(deferred.state.reservedSlots).toEqual({ a: NOW + 1000 });
    budget = deferred.budget;

    // Woken early (an event): still deferred, the same slot, the budget untouched.
    const early = admitScheduledImports([planned("a")], deferred.state, budget, NOW + 500);
    expect(early.tags).toEqual([]);
    expect(early.state.reservedSlots).toEqual({ a: NOW + 1000 });
    expect(early.budget).toEqual(budget);

    // At the slot: admitted, and no other slot is taken for it.
    const onTime = admitScheduledImports([planned("a")], deferred.state, budget, NOW + 1000);
    expect(onTime.tags.map((t) => t.tag)).toEqual(["a"]);
    expect(onTime.budget).toEqual(budget);
  });

  it("lets every cause but Scheduled through without a slot", () => {
    const budget = { ...scheduledImportBudget(1), nextFreeAt: NOW + 10 * MIN };
    const admitted = admitScheduledImports(
      [planned("a", ["Requested", "Scheduled"]), planned("b", ["Initial"]), planned("c", ["Retry"])],
      undefined,
      budget,
      NOW,
    );
    expect(admitted.tags.map((t) => t.tag)).toEqual(["a", "b", "c"]);
    expect(admitted.budget).toEqual(budget);
    expect(admitted.state.reservedSlots).toBeUndefined();
  });

  it("makes a deferred tag due at its slot in the plan, and releases the slot once the tag was attempted", () => {
    const s = stream(
      [dockerTag("a", "redis:2", { importPolicy: { scheduled: true } })],
      [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)] }],
    );
    const state: StreamImportState = {
      since: 0,
      tags: { a: { lastAttempt: NOW - 20 * MIN, consecutiveFailures: 0 } },
      reservedSlots: { a: NOW + 4000 },
    };
    expect(planImports(s, NOW, state, settings()).tags).toEqual([]);
    expect(planImports(s, NOW, state, settings()).nextCheckAt).toBe(NOW + 4000);
    expect(planImports(s, NOW + 4000, state, settings()).tags.map((t) => t.causes)).toEqual([["Scheduled"]]);

    const after = recordImportAttempts(state, s, [{ tag: "a", ok: true, digest: D1 }], NOW + 4000);
    expect(after.reservedSlots).toBeUndefined();
    expect(after.tags.a?.lastAttempt).toBe(NOW + 4000);
    // Not attempted: the slot is kept; no longer scheduled: released.
    expect(recordImportAttempts(state, s, [], NOW).reservedSlots).toEqual({ a: NOW + 4000 });
    const unscheduled = stream([dockerTag("a", "redis:2")], s.status?.tags ?? null);
    expect(recordImportAttempts(state, unscheduled, [], NOW).reservedSlots).toBeUndefined();
  });
});

// The import controller's scheduling loop over the pure core, run by the real work queue and
// controller under fake timers: plan, admit under the budget, import (taking a while), record,
// plan again and requeue when the second plan names a time. Requeue timers fire up to 1 ms early
// as Date.now() reads them, status writes enqueue the stream again (the watch event), and
// unrelated events wake random streams. Every scheduled tag must be checked once per interval.
describe("the schedule over many intervals", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function simulate(opts: {
    streams: number;
    tags: number;
    intervalMs: number;
    perMinute: number;
    runMs: number;
  }): Promise<Map<string, number[]>> {
    let seed = 42;
    const random = (): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const importSettings = settings({ scheduleIntervalMs: opts.intervalMs });
    const streams = new Map<string, ImageStream>();
    const memory = new Map<string, StreamImportState>();
    const checks = new Map<string, number[]>();
    let budget = scheduledImportBudget(opts.perMinute);
    for (let i = 0; i < opts.streams; i++) {
      const s = stream(
        Array.from({ length: opts.tags }, (_, j) =>
          dockerTag(`t${j}`, `registry.example/app:${j}`, { importPolicy: { scheduled: true } }),
        ),
        null,
        { name: `s${i}` },
      );
      streams.set(`ns/s${i}`, s);
      for (let j = 0; j < opts.tags; j++) checks.set(`ns/s${i}/t${j}`, []);
    }
    const controller: Controller = new Controller({
      name: "schedule-simulation",
      logger: createLogger({ level: "silent" }),
      concurrency: 4,
      reconcile: async (objectKey) => {
        const key = keyString(objectKey);
        let current = streams.get(key) as ImageStream;
        const startedAt = Date.now();
        const remembered = memory.get(key);
        const plan = planImports(current, startedAt, remembered, importSettings);
        const admitted = admitScheduledImports(plan.tags, remembered, budget, startedAt);
        budget = admitted.budget;
        // The registry round trip and the API calls.
        await new Promise((resolve) => setTimeout(resolve, 2 + Math.floor(random() * 60)));
        const outcomes: ImportOutcome[] = admitted.tags.map((t) => ({
          tag: t.tag,
          ok: true,
          digest: D1,
          pullSpec: t.from,
        }));
        for (const t of admitted.tags) {
          // The cold import (Initial) is not a scheduled check; it only starts the schedule.
          if (!t.causes.includes("Initial")) checks.get(`${key}/${t.tag}`)?.push(startedAt);
        }
        const update = computeStatus({
          stream: current,
          outcomes,
          now: new Date(startedAt),
          settings: importSettings,
        });
        if (update?.status || update?.annotations) {
          current = {
            ...current,
            metadata: {
              ...current.metadata,
              annotations: { ...current.metadata.annotations, ...update.annotations },
            },
            ...(update.status ? { status: update.status } : {}),
          };
          streams.set(key, current);
          controller.enqueue(objectKey); // the watch event of the write
        }
        memory.set(key, recordImportAttempts(admitted.state, current, outcomes, startedAt));
        const next = planImports(current, Date.now(), memory.get(key), importSettings).nextCheckAt;
        if (next === undefined) return undefined;
        const early = random() < 0.3 ? 1 : 0;
        return { requeueAfter: Math.max(1000, next - Date.now()) - early };
      },
    });
    controller.start();
    const keys: ObjectKey[] = [...streams.keys()].map((k) => ({
      namespace: "ns",
      name: k.slice("ns/".length),
    }));
    for (const key of keys) controller.enqueue(key);
    for (let elapsed = 0; elapsed < opts.runMs; elapsed += 250) {
      if (random() < 0.2) controller.enqueue(keys[Math.floor(random() * keys.length)] as ObjectKey);
      await vi.advanceTimersByTimeAsync(250);
    }
    await controller.stop();
    return checks;
  }

  /** Scheduled checks per tag inside [from, to), and the gaps between consecutive ones. */
  function within(checks: Map<string, number[]>, from: number, to: number) {
    const counts: number[] = [];
    const gaps: number[] = [];
    for (const times of checks.values()) {
      const inside = times.filter((t) => t >= from && t < to);
      counts.push(inside.length);
      for (let i = 1; i < times.length; i++) gaps.push((times[i] ?? 0) - (times[i - 1] ?? 0));
    }
    return {
      min: Math.min(...counts),
      max: Math.max(...counts),
      minGap: Math.min(...gaps),
      maxGap: Math.max(...gaps),
    };
  }

  it("checks every tag once per interval, forever, when the budget covers the tags", async () => {
    const intervalMs = MIN;
    // 600 tags per minute, budget 900 per minute.
    const checks = await simulate({
      streams: 200,
      tags: 3,
      intervalMs,
      perMinute: 900,
      runMs: 8 * intervalMs,
    });
    // After the cold import and the first interval, five whole intervals.
    const stats = within(checks, NOW + 2 * intervalMs, NOW + 7 * intervalMs);
    expect(stats.min).toBeGreaterThanOrEqual(4);
    expect(stats.max).toBeLessThanOrEqual(6);
    // Never sooner than 90% of an interval (no more than its share), never an interval skipped.
    expect(stats.minGap).toBeGreaterThanOrEqual(0.9 * intervalMs);
    expect(stats.maxGap).toBeLessThan(1.5 * intervalMs);
  }, 120_000);

  it("shares a budget smaller than the tags need fairly: every tag checked, none more than the others", async () => {
    const intervalMs = MIN;
    // 180 tags per minute need 180 slots per minute; the budget has 90: each tag every ~2 minutes.
    const checks = await simulate({
      streams: 60,
      tags: 3,
      intervalMs,
      perMinute: 90,
      runMs: 12 * intervalMs,
    });
    const stats = within(checks, NOW + 4 * intervalMs, NOW + 12 * intervalMs);
    // 8 minutes at 90 per minute: 720 checks for 180 tags, 4 each.
    expect(stats.min).toBeGreaterThanOrEqual(3);
    expect(stats.max).toBeLessThanOrEqual(5);
    expect(stats.minGap).toBeGreaterThanOrEqual(0.9 * intervalMs);
  }, 120_000);

  it("a tag deferred after a restart (no memory) gets a slot and keeps its place", () => {
    const s = stream(
      [dockerTag("a", "redis:2", { importPolicy: { scheduled: true } })],
      [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)] }],
    );
    const busy = { ...scheduledImportBudget(60), nextFreeAt: NOW + 30_000 };
    const plan = planImports(s, NOW, undefined, settings());
    expect(plan.tags.map((t) => t.causes)).toEqual([["Scheduled"]]);
    const admitted = admitScheduledImports(plan.tags, undefined, busy, NOW);
    expect(admitted.tags).toEqual([]);
    expect(admitted.state).toEqual({ ...newImportState(NOW), reservedSlots: { a: NOW + 30_000 } });
    const memory = recordImportAttempts(admitted.state, s, [], NOW);
    expect(planImports(s, NOW + 5, memory, settings()).nextCheckAt).toBe(NOW + 30_000);
  });
});
