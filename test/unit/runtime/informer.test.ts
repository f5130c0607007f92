import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Informer, type ListWatchSource, type WatchEventType } from "../../../src/runtime/index.ts";
import { captureLogger, flush, silentLogger } from "./helpers.ts";

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion: string };
  spec?: { tags?: string[] };
}

function obj(namespace: string, name: string, resourceVersion: string, tags: string[] = []): Obj {
  return { metadata: { name, namespace, resourceVersion }, spec: { tags } };
}

interface FakeWatch {
  resourceVersion: string;
  emit(type: WatchEventType, o: Obj): void;
  done(err?: unknown): void;
  aborted: boolean;
}

/** A list/watch source the test drives by hand. */
class FakeSource implements ListWatchSource<Obj> {
  items: Obj[] = [];
  resourceVersion = "1";
  listCalls = 0;
  listErrors: unknown[] = [];
  watchStartErrors: unknown[] = [];
  readonly watches: FakeWatch[] = [];

  get current(): FakeWatch {
    const last = this.watches.at(-1);
    if (!last) throw new Error("no watch started");
    return last;
  }

  async list() {
    this.listCalls++;
    const err = this.listErrors.shift();
    if (err !== undefined) throw err;
    return { items: [...this.items], resourceVersion: this.resourceVersion };
  }

  async watch(
    resourceVersion: string,
    onEvent: (t: WatchEventType, o: Obj) => void,
    onDone: (e?: unknown) => void,
  ) {
    const err = this.watchStartErrors.shift();
    if (err !== undefined) throw err;
    const session: FakeWatch = {
      resourceVersion,
      aborted: false,
      emit: (type, o) => {
        if (!session.aborted) onEvent(type, o);
      },
      done: (e) => onDone(e),
    };
    this.watches.push(session);
    return {
      abort: () => {
        session.aborted = true;
      },
    };
  }
}

function recordEvents(informer: Informer<Obj>) {
  const events: string[] = [];
  informer.addHandlers({
    onAdd: (o) => events.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
    onUpdate: (a, b) =>
      events.push(`update ${a.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => events.push(`delete ${o.metadata.name}`),
  });
  return events;
}

function makeInformer(source: FakeSource, extra: { silenceTimeoutMs?: number; backoffMaxMs?: number } = {}) {
  return new Informer<Obj>({
    source,
    logger: silentLogger(),
    backoffBaseMs: 1000,
    backoffMaxMs: extra.backoffMaxMs ?? 30_000,
    silenceTimeoutMs: extra.silenceTimeoutMs ?? 60_000,
    random: () => 0,
  });
}

let informer: Informer<Obj> | undefined;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  vi.useRealTimers();
});

describe("Informer", () => {
  it("fills the cache from the initial list, then watches from the list's resourceVersion", async () => {
    const source = new FakeSource();
    source.items = [obj("ns", "a", "5"), obj("ns", "b", "6")];
    source.resourceVersion = "10";
    informer = makeInformer(source);
    const events = recordEvents(informer);
    expect(informer.hasSynced()).toBe(false);
    const synced = informer.waitForSync();
    informer.start();
    await expect(synced).resolves.toBe(true);
    await flush();
    expect(informer.hasSynced()).toBe(true);
    expect(events).toEqual(["add a@5", "add b@6"]);
    expect(informer.get({ namespace: "ns", name: "a" })?.metadata.resourceVersion).toBe("5");
    expect(informer.list().map((o) => o.metadata.name)).toEqual(["a", "b"]);
    expect(source.watches).toHaveLength(1);
    expect(source.current.resourceVersion).toBe("10");
  });

  it("applies watch events to the cache and handlers; bookmarks only move the resourceVersion", async () => {
    const source = new FakeSource();
    source.items = [obj("ns", "a", "5")];
    informer = makeInformer(source);
    const events = recordEvents(informer);
    informer.start();
    await flush();
    source.current.emit("ADDED", obj("ns", "b", "11"));
    source.current.emit("MODIFIED", obj("ns", "a", "12"));
    source.current.emit("DELETED", obj("ns", "b", "13"));
    source.current.emit("DELETED", obj("ns", "never-seen", "14"));
    source.current.emit("BOOKMARK", { metadata: { name: "", resourceVersion: "20" } });
    expect(events).toEqual(["add a@5", "add b@11", "update a@5->12", "delete b"]);
    expect(informer.get({ namespace: "ns", name: "b" })).toBeUndefined();
    expect(informer.get({ namespace: "ns", name: "a" })?.metadata.resourceVersion).toBe("12");
    expect(informer.resourceVersion).toBe("20");
    // A watch the server ends normally is resumed at once from the newest resourceVersion.
    source.current.done();
    await flush();
    expect(source.watches).toHaveLength(2);
    expect(source.current.resourceVersion).toBe("20");
    expect(source.listCalls).toBe(1);
  });

  it("relists on 410 Gone and emits the difference as adds, updates and deletes", async () => {
    const source = new FakeSource();
    source.items = [obj("ns", "a", "1"), obj("ns", "b", "2"), obj("ns", "c", "3")];
    source.resourceVersion = "3";
    informer = makeInformer(source);
    const events = recordEvents(informer);
    informer.start();
    await flush();
    events.length = 0;
    // While the watch was down: a deleted, b changed, c unchanged, d created.
    source.items = [obj("ns", "b", "7"), obj("ns", "c", "3"), obj("ns", "d", "8")];
    source.resourceVersion = "9";
    source.current.done(Object.assign(new Error("too old resource version"), { statusCode: 410 }));
    await flush();
    expect(source.listCalls).toBe(2);
    expect(events).toEqual(["delete a", "update b@2->7", "add d@8"]);
    expect(
      informer
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(["b", "c", "d"]);
    expect(source.current.resourceVersion).toBe("9");
  });

  it("treats a Status body with code 410 (an ERROR watch event) as Gone too", async () => {
    const source = new FakeSource();
    informer = makeInformer(source);
    informer.start();
    await flush();
    source.current.done({ body: { kind: "Status", code: 410, reason: "Expired" } });
    await flush();
    expect(source.listCalls).toBe(2);
  });

  it("restarts a failed watch with capped exponential backoff, reset by a healthy watch", async () => {
    const source = new FakeSource();
    informer = makeInformer(source, { backoffMaxMs: 4000 });
    informer.start();
    await flush();
    const restartDelays: number[] = [];
    const failAndMeasure = async (): Promise<number> => {
      const count = source.watches.length;
      const start = Date.now();
      source.current.done(new Error("connection reset"));
      while (source.watches.length === count) await vi.advanceTimersByTimeAsync(100);
      return Date.now() - start;
    };
    for (let i = 0; i < 5; i++) restartDelays.push(await failAndMeasure());
    expect(restartDelays).toEqual([1000, 2000, 4000, 4000, 4000]);
    // The watch is resumed, not relisted, after ordinary errors.
    expect(source.listCalls).toBe(1);
    source.current.emit("ADDED", obj("ns", "x", "30"));
    expect(await failAndMeasure()).toBe(1000);
    expect(source.current.resourceVersion).toBe("30");
  });

  it("retries a watch that fails to start, and a failing list, with backoff", async () => {
    const source = new FakeSource();
    source.listErrors = [new Error("apiserver down"), new Error("still down")];
    source.watchStartErrors = [Object.assign(new Error("Forbidden"), { statusCode: 403 })];
    informer = makeInformer(source);
    const synced = informer.waitForSync();
    informer.start();
    await flush();
    expect(informer.hasSynced()).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(source.listCalls).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(source.listCalls).toBe(3);
    await expect(synced).resolves.toBe(true);
    expect(source.watches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(4000);
    expect(source.watches).toHaveLength(1);
  });

  it("restarts a watch that stays silent past the threshold; events and bookmarks keep it alive", async () => {
    const source = new FakeSource();
    informer = makeInformer(source, { silenceTimeoutMs: 60_000 });
    informer.start();
    await flush();
    const first = source.current;
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(50_000);
      first.emit("BOOKMARK", { metadata: { name: "", resourceVersion: String(100 + i) } });
    }
    expect(first.aborted).toBe(false);
    expect(source.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(first.aborted).toBe(true);
    // The silent watch had delivered events, so the restart starts at the base delay.
    await vi.advanceTimersByTimeAsync(1000);
    expect(source.watches).toHaveLength(2);
    expect(source.current.resourceVersion).toBe("104");
    expect(source.listCalls).toBe(1);
  });

  it("keeps going when a handler throws, and still calls the other handlers", async () => {
    const source = new FakeSource();
    const { logger, lines } = captureLogger();
    informer = new Informer<Obj>({ source, logger, random: () => 0 });
    informer.addHandlers({
      onAdd: () => {
        throw new Error("handler bug");
      },
    });
    const seen: string[] = [];
    informer.addHandlers({ onAdd: (o) => seen.push(o.metadata.name) });
    informer.start();
    await flush();
    source.current.emit("ADDED", obj("ns", "a", "2"));
    source.current.emit("ADDED", obj("ns", "b", "3"));
    expect(seen).toEqual(["a", "b"]);
    expect(informer.list()).toHaveLength(2);
    expect(source.watches).toHaveLength(1);
    expect(lines().filter((line) => line.msg === "informer handler threw")).toHaveLength(2);
  });

  it("maintains indexes on add, update, delete and relist", async () => {
    const source = new FakeSource();
    source.items = [obj("ns", "web", "1", ["ns/ruby:2.5"])];
    informer = makeInformer(source);
    informer.addIndex("tag", (o) => o.spec?.tags ?? []);
    informer.start();
    await flush();
    const names = (value: string) =>
      informer
        ?.byIndex("tag", value)
        .map((o) => o.metadata.name)
        .sort();
    expect(names("ns/ruby:2.5")).toEqual(["web"]);
    source.current.emit("ADDED", obj("ns", "api", "2", ["ns/ruby:2.5", "ns/redis:7", "ns/redis:7"]));
    expect(names("ns/ruby:2.5")).toEqual(["api", "web"]);
    expect(informer.byIndex("tag", "ns/redis:7")).toHaveLength(1);
    source.current.emit("MODIFIED", obj("ns", "web", "3", ["ns/node:20"]));
    expect(names("ns/ruby:2.5")).toEqual(["api"]);
    expect(names("ns/node:20")).toEqual(["web"]);
    source.current.emit("DELETED", obj("ns", "api", "4"));
    expect(names("ns/ruby:2.5")).toEqual([]);
    expect(names("ns/redis:7")).toEqual([]);
    // An index added later covers what is already cached.
    informer.addIndex("namespace", (o) => [o.metadata.namespace ?? ""]);
    expect(names("ns/node:20")).toEqual(["web"]);
    expect(informer.byIndex("namespace", "ns").map((o) => o.metadata.name)).toEqual(["web"]);
    // A relist that drops the object unindexes it.
    source.items = [];
    source.resourceVersion = "10";
    source.current.done({ statusCode: 410 });
    await flush();
    expect(names("ns/node:20")).toEqual([]);
    expect(() => informer?.byIndex("missing", "x")).toThrow(/no index/);
    expect(() => informer?.addIndex("tag", () => [])).toThrow(/already exists/);
  });

  it("does not index an object whose index function throws, and keeps caching it", async () => {
    const source = new FakeSource();
    informer = makeInformer(source);
    informer.addIndex("tag", (o) => {
      if (o.metadata.name === "bad") throw new Error("index bug");
      return o.spec?.tags ?? [];
    });
    informer.start();
    await flush();
    source.current.emit("ADDED", obj("ns", "bad", "2", ["t"]));
    source.current.emit("ADDED", obj("ns", "good", "3", ["t"]));
    expect(informer.byIndex("tag", "t").map((o) => o.metadata.name)).toEqual(["good"]);
    expect(informer.get({ namespace: "ns", name: "bad" })).toBeDefined();
  });

  it("stop() aborts the watch, ends the loop and answers waitForSync with false when never synced", async () => {
    const source = new FakeSource();
    source.listErrors = [new Error("down")];
    informer = makeInformer(source);
    const synced = informer.waitForSync();
    informer.start();
    await flush();
    await informer.stop();
    await expect(synced).resolves.toBe(false);
    await expect(informer.waitForSync()).resolves.toBe(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(source.listCalls).toBe(1);

    const healthy = new FakeSource();
    const second = makeInformer(healthy);
    second.start();
    await flush();
    await second.stop();
    expect(healthy.current.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(healthy.watches).toHaveLength(1);
  });
});

describe("Informer progress (liveness)", () => {
  it("moves with events and watch restarts, and stands still while a list never returns", async () => {
    const source = new FakeSource();
    informer = makeInformer(source, { silenceTimeoutMs: 60_000 });
    informer.start();
    await flush();
    const afterStart = informer.lastProgress();
    await vi.advanceTimersByTimeAsync(10_000);
    source.current.emit("ADDED", obj("ns", "a", "2"));
    expect(informer.lastProgress()).toBe(afterStart + 10_000);
    // A silent watch is restarted after the timeout: progress again, with no event.
    await vi.advanceTimersByTimeAsync(61_000);
    expect(informer.lastProgress()).toBeGreaterThanOrEqual(afterStart + 70_000);

    const hung = new FakeSource();
    hung.list = () => new Promise<never>(() => {});
    const stuck = makeInformer(hung);
    stuck.start();
    await flush();
    const before = stuck.lastProgress();
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(stuck.lastProgress()).toBe(before);
    void stuck.stop();
  });
});
