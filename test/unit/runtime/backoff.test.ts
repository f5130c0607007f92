import { describe, expect, it } from "vitest";
import { backoffDelay, ExponentialBackoff } from "../../../src/runtime/index.ts";

describe("ExponentialBackoff", () => {
  it("doubles per consecutive failure from the base delay", () => {
    const backoff = new ExponentialBackoff({ baseMs: 5, maxMs: 10_000 });
    const delays = [1, 2, 3, 4, 5].map(() => backoff.when("a"));
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    expect(backoff.retries("a")).toBe(5);
  });

  it("never exceeds the cap, even after very many failures", () => {
    const backoff = new ExponentialBackoff({ baseMs: 5, maxMs: 1000 });
    const delays = Array.from({ length: 2000 }, () => backoff.when("a"));
    expect(delays.slice(0, 9)).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000]);
    expect(delays.at(-1)).toBe(1000);
    expect(Math.max(...delays)).toBe(1000);
  });

  it("tracks keys independently and forget resets one key only", () => {
    const backoff = new ExponentialBackoff({ baseMs: 10, maxMs: 1000 });
    backoff.when("a");
    backoff.when("a");
    expect(backoff.when("b")).toBe(10);
    backoff.forget("a");
    expect(backoff.retries("a")).toBe(0);
    expect(backoff.when("a")).toBe(10);
    expect(backoff.when("b")).toBe(20);
  });

  it("adds injected jitter and keeps the cap", () => {
    expect(backoffDelay(2, { baseMs: 100, maxMs: 10_000, jitter: 0.5, random: () => 0.5 })).toBe(500);
    expect(backoffDelay(2, { baseMs: 100, maxMs: 10_000, jitter: 0.5, random: () => 0 })).toBe(400);
    expect(backoffDelay(10, { baseMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0.99 })).toBe(1000);
  });

  it("rejects a cap below the base", () => {
    expect(() => new ExponentialBackoff({ baseMs: 100, maxMs: 10 })).toThrow(RangeError);
  });
});
