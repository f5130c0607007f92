import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  Controller,
  KubeApiError,
  keyString,
  type ObjectKey,
  type ReconcileContext,
  type ReconcileResult,
} from "../../../src/runtime/index.ts";
import { captureLogger, deferred, flush, silentLogger } from "./helpers.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The typed key of `namespace/name` or `name`. */
function key(text: string): ObjectKey {
  const slash = text.indexOf("/");
  return slash < 0 ? { name: text } : { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
}

function recordingController(
  behaviour: (key: string, ctx: ReconcileContext, run: number) => Promise<ReconcileResult>,
  logger = silentLogger(),
) {
  const runs: { key: string; at: number; retries: number }[] = [];
  const controller = new Controller({
    name: "test",
    logger,
    backoff: { baseMs: 100, maxMs: 1000 },
    reconcile: async (objectKey, ctx) => {
      runs.push({ key: keyString(objectKey), at: Date.now(), retries: controller.queue.retries(objectKey) });
      return behaviour(keyString(objectKey), ctx, runs.length);
    },
  });
  return { controller, runs };
}

describe("Controller", () => {
  it("waits for start() before reconciling keys enqueued early", async () => {
    const { controller, runs } = recordingController(async () => {});
    controller.enqueue(key("ns/a"));
    await flush();
    expect(runs).toHaveLength(0);
    controller.start();
    await flush();
    expect(runs.map((r) => r.key)).toEqual(["ns/a"]);
  });

  it("requeues after requeueAfter when reconcile asks for it", async () => {
    const t0 = Date.now();
    const { controller, runs } = recordingController(async (_key, _ctx, run) =>
      run < 3 ? { requeueAfter: 500 } : undefined,
    );
    controller.start();
    controller.enqueue(key("ns/a"));
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs.map((r) => r.at - t0)).toEqual([0, 500, 1000]);
  });

  it("retries thrown errors with growing backoff and resets it after a success", async () => {
    const t0 = Date.now();
    const { controller, runs } = recordingController(async (_key, _ctx, run) => {
      if (run <= 3) throw new Error("registry unavailable");
      if (run === 4) return { requeueAfter: 1 };
      if (run === 5) throw new Error("again");
    });
    controller.start();
    controller.enqueue(key("ns/a"));
    await vi.advanceTimersByTimeAsync(10_000);
    // 0, +100, +200, +400 (success, requeue 1 ms), then the next failure starts at the base again.
    expect(runs.map((r) => r.at - t0)).toEqual([0, 100, 300, 700, 701, 801]);
    expect(runs.map((r) => r.retries)).toEqual([0, 1, 2, 3, 0, 1]);
  });

  it("logs every line with controller, key, namespace and name", async () => {
    const { logger, lines } = captureLogger();
    const { controller } = recordingController(async (_key, ctx, run) => {
      ctx.log.info("working");
      if (run === 1) throw new Error("transient");
    }, logger);
    controller.start();
    controller.enqueue(key("team/web"));
    controller.enqueue(key("cluster-thing"));
    await vi.advanceTimersByTimeAsync(1000);
    const objectLines = lines().filter((line) => line.key !== undefined);
    expect(objectLines.length).toBeGreaterThanOrEqual(6);
    const msgs = objectLines.map((line) => line.msg);
    expect(msgs).toContain("reconcile failed; retrying with backoff");
    for (const line of objectLines) {
      expect(line.controller).toBe("test");
      if (line.key === "team/web") expect(line).toMatchObject({ namespace: "team", name: "web" });
      else expect(line).toMatchObject({ key: "cluster-thing", name: "cluster-thing" });
    }
  });

  it("names an API answer by status and message (no stack), and a 409 Conflict only at debug", async () => {
    const { logger, lines } = captureLogger();
    const { controller } = recordingController(async (_key, _ctx, run) => {
      if (run === 1) throw new KubeApiError(409, "the object has been modified", "Conflict");
      if (run === 2) throw new KubeApiError(403, "imagestreams is forbidden", "Forbidden");
    }, logger);
    controller.start();
    controller.enqueue(key("team/web"));
    await vi.advanceTimersByTimeAsync(5000);
    const failures = lines().filter(
      (line) => line.key === "team/web" && String(line.msg).startsWith("reconcile"),
    );
    const conflict = failures.find((line) => line.msg === "reconcile lost a write race; retrying");
    const forbidden = failures.find((line) => line.msg === "reconcile failed; retrying with backoff");
    expect(conflict).toMatchObject({ level: 20, reason: "Conflict", error: "the object has been modified" });
    expect(forbidden).toMatchObject({ level: 40, statusCode: 403, reason: "Forbidden" });
    expect(forbidden?.err).toBeUndefined();
  });

  it("stop() waits for in-flight reconciles and takes no new work", async () => {
    const gate = deferred();
    const { controller, runs } = recordingController(async (key) => {
      if (key === "ns/slow") await gate.promise;
    });
    controller.start();
    controller.enqueue(key("ns/slow"));
    await flush();
    let stopped: boolean | undefined;
    void controller.stop().then((result) => {
      stopped = result;
    });
    controller.enqueue(key("ns/new"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(stopped).toBeUndefined();
    gate.resolve();
    await flush();
    expect(stopped).toBe(true);
    expect(runs.map((r) => r.key)).toEqual(["ns/slow"]);
  });

  it("stop() gives up at its deadline and aborts the reconcile's signal", async () => {
    let signal: AbortSignal | undefined;
    const controller = new Controller({
      name: "test",
      logger: silentLogger(),
      shutdownTimeoutMs: 2000,
      reconcile: (_key, ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
    });
    controller.start();
    controller.enqueue(key("ns/stuck"));
    await flush();
    const stopped = controller.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await expect(stopped).resolves.toBe(false);
    expect(signal?.aborted).toBe(true);
  });
});

describe("keys", () => {
  it("writes namespaced and cluster-scoped keys as client-go does", () => {
    expect(keyString({ namespace: "ns", name: "name" })).toBe("ns/name");
    expect(keyString({ namespace: undefined, name: "name" })).toBe("name");
  });
});
