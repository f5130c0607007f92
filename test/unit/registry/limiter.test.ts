import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SharedFetches } from "../../../src/registry/cache.ts";
import { RegistryError } from "../../../src/registry/index.ts";
import { RegistryBudget } from "../../../src/registry/limiter.ts";

describe("SharedFetches", () => {
  it("runs concurrent identical fetches once and shares the result", async () => {
    const shared = new SharedFetches<number>({ ttlMs: 0 });
    let calls = 0;
    let release: (v: number) => void = () => {};
    const fetch = () => {
      calls++;
      return new Promise<number>((resolve) => {
        release = resolve;
      });
    };
    const a = shared.get("k", fetch);
    const b = shared.get("k", fetch);
    const c = shared.get("other", () => Promise.resolve(7));
    release(42);
    expect(await Promise.all([a, b, c])).toEqual([42, 42, 7]);
    expect(calls).toBe(1);
    // With a TTL of 0 nothing is kept once the fetch is done.
    expect(await shared.get("k", async () => 43)).toBe(43);
  });

  it("reuses a result within the TTL and fetches again after it", async () => {
    let now = 1000;
    const shared = new SharedFetches<string>({ ttlMs: 5000, now: () => now });
    const fetch = vi.fn(async () => `v${now}`);
    expect(await shared.get("k", fetch)).toBe("v1000");
    now = 5999;
    expect(await shared.get("k", fetch)).toBe("v1000");
    now = 6000;
    expect(await shared.get("k", fetch)).toBe("v6000");
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it("never caches failures", async () => {
    const shared = new SharedFetches<string>({ ttlMs: 60_000 });
    await expect(shared.get("k", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await shared.get("k", async () => "up")).toBe("up");
  });
});

describe("RegistryBudget", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const options = {
    concurrency: 2,
    requestsPerSecond: 100,
    maxBackoffWaitMs: 10_000,
    defaultBackoffMs: 1000,
  };

  it("limits concurrency", async () => {
    const budget = new RegistryBudget({ ...options, now: () => Date.now() });
    let running = 0;
    let peak = 0;
    const task = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
    };
    const all = Promise.all(Array.from({ length: 6 }, () => budget.run(task, "r")));
    await vi.runAllTimersAsync();
    await all;
    expect(peak).toBe(2);
  });

  it("pauses every caller until Retry-After has passed", async () => {
    const budget = new RegistryBudget({ ...options, now: () => Date.now() });
    expect(budget.rateLimited(3)).toBe(3);
    let started = -1;
    const pending = budget.run(async () => {
      started = Date.now();
    }, "r");
    await vi.advanceTimersByTimeAsync(2999);
    expect(started).toBe(-1);
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(started).toBe(3000);
  });

  it("fails fast with TooManyRequests when the backoff is longer than a caller may wait", async () => {
    const budget = new RegistryBudget({ ...options, now: () => Date.now() });
    budget.rateLimited(60);
    await vi.advanceTimersByTimeAsync(15_000);
    const err = await budget.run(async () => 1, "r.io").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ reason: "TooManyRequests", retryAfter: 45 });
  });

  it("doubles the default backoff on consecutive 429s without Retry-After and resets on success", () => {
    const budget = new RegistryBudget({ ...options, now: () => Date.now() });
    expect(budget.rateLimited(undefined)).toBe(1);
    expect(budget.rateLimited(undefined)).toBe(2);
    expect(budget.rateLimited(undefined)).toBe(4);
    budget.succeeded();
    expect(budget.rateLimited(undefined)).toBe(1);
  });

  it("caps the request rate per second", async () => {
    const budget = new RegistryBudget({
      ...options,
      concurrency: 100,
      requestsPerSecond: 3,
      now: () => Date.now(),
    });
    const starts: number[] = [];
    const all = Promise.all(
      Array.from({ length: 7 }, () =>
        budget.run(async () => {
          starts.push(Date.now());
        }, "r"),
      ),
    );
    await vi.advanceTimersByTimeAsync(5000);
    await all;
    expect(starts.filter((t) => t < 1000)).toHaveLength(3);
    expect(starts.filter((t) => t < 2000)).toHaveLength(6);
  });
});
