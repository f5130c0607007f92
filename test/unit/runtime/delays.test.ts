import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Delays } from "../../../src/runtime/delays.ts";

describe("Delays", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("fires each key at its time, in time order, with one timer", () => {
    const fired: string[] = [];
    const delays = new Delays<string>((key) => fired.push(key));
    const start = Date.now();
    for (const [key, ms] of [
      ["c", 300],
      ["a", 100],
      ["b", 200],
      ["d", 300],
    ] as const)
      delays.set(key, key, start + ms);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(150);
    expect(fired).toEqual(["a"]);
    vi.advanceTimersByTime(200);
    expect(fired.slice(0, 2)).toEqual(["a", "b"]);
    expect(fired.slice(2).sort()).toEqual(["c", "d"]);
    expect(delays.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a replaced time wins over the earlier one, and a deleted key never fires", () => {
    const fired: string[] = [];
    const delays = new Delays<string>((key) => fired.push(key));
    const start = Date.now();
    delays.set("a", "a", start + 100);
    delays.set("a", "a", start + 500);
    delays.set("b", "b", start + 50);
    delays.delete("b");
    expect(delays.readyAt("a")).toBe(start + 500);
    vi.advanceTimersByTime(400);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(["a"]);
  });

  it("keeps the heap bounded when keys are replaced over and over", () => {
    const fired: number[] = [];
    const delays = new Delays<number>((key) => fired.push(key));
    const start = Date.now();
    for (let round = 0; round < 50; round++)
      for (let key = 0; key < 100; key++) delays.set(String(key), key, start + 1000 + round);
    expect(delays.size).toBe(100);
    vi.advanceTimersByTime(2000);
    expect(fired.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("clear drops every key and the timer", () => {
    const fired: string[] = [];
    const delays = new Delays<string>((key) => fired.push(key));
    delays.set("a", "a", Date.now() + 10);
    delays.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });
});
