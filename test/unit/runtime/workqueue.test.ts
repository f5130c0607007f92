import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ExponentialBackoff, WorkQueue } from "../../../src/runtime/index.ts";
import { type Deferred, deferred, flush } from "./helpers.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A process function that records calls and finishes each one only when the test says so. */
function controllableProcess() {
  const calls: string[] = [];
  const running = new Map<string, Deferred>();
  let inFlight = 0;
  let maxInFlight = 0;
  const perKeyMax = new Map<string, number>();
  const perKeyNow = new Map<string, number>();
  const process = async (key: string): Promise<void> => {
    calls.push(key);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const now = (perKeyNow.get(key) ?? 0) + 1;
    perKeyNow.set(key, now);
    perKeyMax.set(key, Math.max(perKeyMax.get(key) ?? 0, now));
    const gate = deferred();
    running.set(key, gate);
    try {
      await gate.promise;
    } finally {
      inFlight--;
      perKeyNow.set(key, (perKeyNow.get(key) ?? 1) - 1);
    }
  };
  const finish = async (key: string): Promise<void> => {
    const gate = running.get(key);
    if (!gate) throw new Error(`${key} is not running`);
    running.delete(key);
    gate.resolve();
    await flush();
  };
  return { process, calls, finish, running, maxInFlight: () => maxInFlight, perKeyMax };
}

describe("WorkQueue", () => {
  it("de-duplicates keys that are waiting", async () => {
    const worker = controllableProcess();
    const queue = new WorkQueue({ process: worker.process, autoStart: false });
    queue.add("a");
    queue.add("b");
    queue.add("a");
    expect(queue.depth).toBe(2);
    expect(queue.counters.adds).toBe(2);
    queue.start();
    await flush();
    expect(worker.calls).toEqual(["a"]);
    await worker.finish("a");
    await worker.finish("b");
    expect(worker.calls).toEqual(["a", "b"]);
    expect(queue.depth).toBe(0);
  });

  it("never processes one key twice at once, and re-runs a key added while it was processed", async () => {
    const worker = controllableProcess();
    const queue = new WorkQueue({ process: worker.process, concurrency: 4 });
    queue.add("a");
    await flush();
    expect(worker.calls).toEqual(["a"]);
    // Added three times while running: one more run, after this one, not in parallel.
    queue.add("a");
    queue.add("a");
    queue.add("a");
    await flush();
    expect(worker.calls).toEqual(["a"]);
    expect(queue.depth).toBe(0);
    await worker.finish("a");
    expect(worker.calls).toEqual(["a", "a"]);
    await worker.finish("a");
    expect(worker.calls).toEqual(["a", "a"]);
    expect(worker.perKeyMax.get("a")).toBe(1);
    expect(queue.inFlight).toBe(0);
  });

  it("bounds concurrency and hands waiting keys out as slots free up", async () => {
    const worker = controllableProcess();
    const queue = new WorkQueue({ process: worker.process, concurrency: 2 });
    for (const key of ["a", "b", "c", "d", "e"]) queue.add(key);
    await flush();
    expect(worker.calls).toEqual(["a", "b"]);
    expect(queue.inFlight).toBe(2);
    expect(queue.depth).toBe(3);
    await worker.finish("b");
    expect(worker.calls).toEqual(["a", "b", "c"]);
    await worker.finish("a");
    await worker.finish("c");
    await worker.finish("d");
    await worker.finish("e");
    expect(worker.calls).toEqual(["a", "b", "c", "d", "e"]);
    expect(worker.maxInFlight()).toBe(2);
  });

  it("addAfter delays a key, and the earliest requested time wins", async () => {
    const calls: [string, number][] = [];
    const queue = new WorkQueue({
      process: async (key) => {
        calls.push([key, Date.now()]);
      },
    });
    const t0 = Date.now();
    queue.addAfter("a", 1000);
    queue.addAfter("a", 100);
    queue.addAfter("a", 5000);
    queue.addAfter("b", 50);
    expect(queue.delayed).toBe(2);
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toEqual([["b", t0 + 50]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([
      ["b", t0 + 50],
      ["a", t0 + 100],
    ]);
    // The later requests were absorbed by the earlier one.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(2);
    expect(queue.delayed).toBe(0);
  });

  it("addAfter with a non-positive delay adds at once and cancels the pending delay", async () => {
    const calls: string[] = [];
    const queue = new WorkQueue({
      process: async (key) => {
        calls.push(key);
      },
    });
    queue.addAfter("a", 1000);
    queue.addAfter("a", 0);
    await flush();
    expect(calls).toEqual(["a"]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toEqual(["a"]);
  });

  it("addRateLimited backs off exponentially per key and forget resets it", async () => {
    const times: number[] = [];
    const queue = new WorkQueue({
      process: async () => {
        times.push(Date.now());
      },
      rateLimiter: new ExponentialBackoff({ baseMs: 100, maxMs: 400 }),
    });
    const t0 = Date.now();
    const retryAndWait = async (): Promise<number> => {
      const before = times.length;
      const start = Date.now();
      queue.addRateLimited("a");
      while (times.length === before) await vi.advanceTimersByTimeAsync(1);
      return (times.at(-1) as number) - start;
    };
    expect(await retryAndWait()).toBe(100);
    expect(await retryAndWait()).toBe(200);
    expect(await retryAndWait()).toBe(400);
    expect(await retryAndWait()).toBe(400);
    expect(queue.retries("a")).toBe(4);
    queue.forget("a");
    expect(queue.retries("a")).toBe(0);
    expect(await retryAndWait()).toBe(100);
    expect(queue.counters.retries).toBe(5);
    expect(times[0]).toBe(t0 + 100);
  });

  it("shutdown refuses new keys, drops waiting ones and resolves once in-flight work finished", async () => {
    const worker = controllableProcess();
    const queue = new WorkQueue({ process: worker.process, concurrency: 1 });
    queue.add("a");
    queue.add("b");
    queue.addAfter("c", 10);
    await flush();
    expect(worker.calls).toEqual(["a"]);
    queue.add("a"); // would re-run after the current one, but shutdown drops it
    let drained: boolean | undefined;
    void queue.shutdown(10_000).then((result) => {
      drained = result;
    });
    queue.add("d");
    queue.addAfter("e", 1);
    queue.addRateLimited("f");
    await vi.advanceTimersByTimeAsync(100);
    expect(drained).toBeUndefined();
    expect(queue.depth).toBe(0);
    await worker.finish("a");
    expect(drained).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(worker.calls).toEqual(["a"]);
  });

  it("shutdown gives up after its deadline and signals in-flight work to abort", async () => {
    let seenSignal: AbortSignal | undefined;
    const queue = new WorkQueue({
      process: (_key, signal) => {
        seenSignal = signal;
        return new Promise(() => {});
      },
    });
    queue.add("stuck");
    await flush();
    const result = queue.shutdown(1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(seenSignal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe(false);
    expect(seenSignal?.aborted).toBe(true);
  });

  it("shutdown of an idle queue resolves at once", async () => {
    const queue = new WorkQueue({ process: async () => {} });
    await expect(queue.shutdown()).resolves.toBe(true);
  });

  it("keeps working after process rejects and reports it to the hook", async () => {
    const errors: [string, unknown][] = [];
    const done: string[] = [];
    const queue = new WorkQueue({
      process: async (key) => {
        if (key === "bad") throw new Error("boom");
        done.push(key);
      },
      hooks: { onProcessError: (key, err) => errors.push([key, err]) },
    });
    queue.add("bad");
    queue.add("good");
    await flush();
    expect(done).toEqual(["good"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[0]).toBe("bad");
    expect(queue.counters).toMatchObject({ processed: 2, errors: 1 });
  });

  it("reports adds, queue latency and work duration through hooks; a throwing hook is harmless", async () => {
    const latency: [string, number][] = [];
    const duration: [string, number][] = [];
    const added: string[] = [];
    const queue = new WorkQueue({
      process: async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
      },
      autoStart: false,
      hooks: {
        onAdd: (key) => {
          added.push(key);
          throw new Error("broken metrics");
        },
        onQueueLatency: (key, ms) => latency.push([key, ms]),
        onWorkDuration: (key, ms) => duration.push([key, ms]),
      },
    });
    queue.add("a");
    queue.add("a");
    await vi.advanceTimersByTimeAsync(250);
    queue.start();
    await vi.advanceTimersByTimeAsync(30);
    expect(added).toEqual(["a"]);
    expect(latency).toEqual([["a", 250]]);
    expect(duration).toEqual([["a", 30]]);
  });
});
