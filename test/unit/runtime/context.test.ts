// The controller context: the controllers it makes drain for a deadline derived from the one
// shutdown setting, so their reconciles are told to abort before the process gives up.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../../src/config/index.ts";
import { createMetrics } from "../../../src/metrics/index.ts";
import {
  connectKube,
  createControllerContext,
  drainDeadlineMs,
  EventRecorder,
  type InformerFactory,
} from "../../../src/runtime/index.ts";
import { flush, silentLogger } from "./helpers.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function context(flags: string[]) {
  const log = silentLogger();
  const noInformers: InformerFactory = {
    for: () => {
      throw new Error("not used");
    },
  };
  return createControllerContext({
    kc: connectKube({ server: "https://cluster.invalid" }),
    log,
    config: parseConfig(flags, {}),
    informers: noInformers,
    events: new EventRecorder({
      sink: { create: async (_ns, e) => e, patchSeries: async () => Promise.reject(new Error("not used")) },
      logger: log,
      reportingController: "test",
      reportingInstance: "test",
    }),
    metrics: createMetrics({ defaultMetrics: false }),
  });
}

describe("the shutdown deadline", () => {
  it("is one setting, 25 s unless set, and controllers drain for 80% of it", () => {
    expect(parseConfig([], {}).shutdownTimeoutMs).toBe(25_000);
    expect(parseConfig([], { IMAGESTREAM_SHUTDOWN_TIMEOUT: "10s" }).shutdownTimeoutMs).toBe(10_000);
    expect(() => parseConfig(["--shutdown-timeout=0s"], {})).toThrow(/shutdown-timeout/);
    expect(drainDeadlineMs(25_000)).toBe(20_000);
  });

  it("aborts a stuck reconcile before the process's own deadline", async () => {
    const ctx = context(["--shutdown-timeout=5s"]);
    let signal: AbortSignal | undefined;
    const controller = ctx.controller({
      name: "stuck",
      reconcile: (_key, rctx) => {
        signal = rctx.signal;
        return new Promise(() => {});
      },
    });
    controller.start();
    controller.enqueue({ namespace: "ns", name: "a" });
    await flush();
    const stopped = controller.stop();
    await vi.advanceTimersByTimeAsync(3_999);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(stopped).resolves.toBe(false);
    expect(signal?.aborted).toBe(true);
  });
});
