// The registry client's memory: bounded eviction and the sharing rules of SharedFetches.
import { describe, expect, it } from "vitest";
import { BoundedCache, SharedFetches } from "../../../src/registry/cache.ts";

describe("BoundedCache", () => {
  it("evicts the least recently used entry when full", () => {
    const cache = new BoundedCache<number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // a is now the most recently used
    cache.set("c", 3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
    expect(cache.size).toBe(2);
  });

  it("drops expired entries first and never returns them", () => {
    let now = 0;
    const cache = new BoundedCache<string>(2, () => now);
    cache.set("short", "s", 100);
    cache.set("long", "l");
    now = 100;
    expect(cache.get("short")).toBeUndefined();
    cache.set("other", "o");
    expect(cache.get("long")).toBe("l");
    expect(cache.size).toBe(2);
  });

  it("keeps nothing with a size of 0", () => {
    const cache = new BoundedCache<number>(0);
    cache.set("a", 1);
    expect(cache.get("a")).toBeUndefined();
  });
});

describe("SharedFetches: fresh after a time", () => {
  function deferred<T>() {
    let resolve: (v: T) => void = () => {};
    const promise = new Promise<T>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  }

  it("shares a fetch still running only with callers who asked before it started", async () => {
    let now = 1000;
    const shared = new SharedFetches<string>({ ttlMs: 5000, now: () => now });
    const first = deferred<string>();
    const second = deferred<string>();
    let calls = 0;
    const fetch = () => {
      calls++;
      return calls === 1 ? first.promise : second.promise;
    };
    const a = shared.get("k", fetch, 1000); // starts at 1000
    now = 1500;
    const b = shared.get("k", fetch, 1200); // asked after a started: needs its own
    const c = shared.get("k", fetch, 1400); // shares b's (started at 1500)
    const d = shared.get("k", fetch); // no freshness asked: shares the running one
    first.resolve("old");
    second.resolve("new");
    expect(await Promise.all([a, b, c, d])).toEqual(["old", "new", "new", "new"]);
    expect(calls).toBe(2);
  });

  it("answers from a finished fetch that started after the time asked, even past the TTL", async () => {
    let now = 0;
    const shared = new SharedFetches<string>({ ttlMs: 5000, retainMs: 60_000, now: () => now });
    let calls = 0;
    const fetch = async () => `v${++calls}`;
    await shared.get("k", fetch, 0); // started at 0
    now = 30_000; // past the TTL, within retention
    expect(await shared.get("k", fetch, 0)).toBe("v1");
    expect(shared.peek("k")).toBeUndefined(); // callers without a time get nothing this old
    expect(await shared.get("k", fetch, 1)).toBe("v2"); // started too early for this caller
    expect(calls).toBe(2);
    now = 100_000; // past retention
    expect(shared.latest("k")).toBeUndefined();
  });

  it("keeps the newest answer when an older fetch finishes last", async () => {
    let now = 0;
    const shared = new SharedFetches<string>({ ttlMs: 5000, now: () => now });
    const slow = deferred<string>();
    const older = shared.get("k", () => slow.promise);
    now = 10;
    await shared.get("k", async () => "newer", 5);
    slow.resolve("older");
    await older;
    expect(shared.peek("k")).toBe("newer");
    expect(shared.latest("k")).toBe("newer");
  });

  it("remembers a hint after the TTL for as long as it is retained", async () => {
    let now = 0;
    const shared = new SharedFetches<string>({ ttlMs: 1000, retainMs: 10_000, now: () => now });
    shared.remember("k", "d1");
    now = 5000;
    expect(shared.peek("k")).toBeUndefined();
    expect(shared.latest("k")).toBe("d1");
  });
});
