import { ApiException } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  EventRecorder,
  type EventSeriesPatch,
  type EventSink,
  type KubeEvent,
  objectRefOf,
} from "../../../src/runtime/index.ts";
import { captureLogger, silentLogger } from "./helpers.ts";

class FakeSink implements EventSink {
  readonly created: KubeEvent[] = [];
  readonly patches: { namespace: string; name: string; patch: EventSeriesPatch }[] = [];
  failCreate: unknown;
  failPatch: unknown;

  async create(namespace: string, event: KubeEvent): Promise<KubeEvent> {
    if (this.failCreate !== undefined) throw this.failCreate;
    expect(event.metadata?.namespace).toBe(namespace);
    this.created.push(event);
    return event;
  }

  async patchSeries(namespace: string, name: string, patch: EventSeriesPatch): Promise<void> {
    if (this.failPatch !== undefined) throw this.failPatch;
    this.patches.push({ namespace, name, patch });
  }
}

const stream = {
  apiVersion: "image.openshift.io/v1",
  kind: "ImageStream",
  metadata: { name: "ruby", namespace: "team", uid: "u-1", resourceVersion: "42" },
};
const failure = {
  type: "Warning",
  reason: "ImportFailed",
  note: "manifest unknown",
  action: "Import",
} as const;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function recorder(sink: EventSink, logger = silentLogger()) {
  return new EventRecorder({
    sink,
    logger,
    reportingController: "image.openshift.io/import-controller",
    reportingInstance: "operator-0",
    windowMs: 60_000,
  });
}

describe("EventRecorder", () => {
  it("creates an events.k8s.io/v1 Event about the regarding object", async () => {
    const sink = new FakeSink();
    await recorder(sink).record(objectRefOf(stream), failure);
    expect(sink.created).toHaveLength(1);
    expect(sink.created[0]).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { namespace: "team" },
      type: "Warning",
      reason: "ImportFailed",
      note: "manifest unknown",
      action: "Import",
      reportingController: "image.openshift.io/import-controller",
      reportingInstance: "operator-0",
      regarding: {
        apiVersion: "image.openshift.io/v1",
        kind: "ImageStream",
        name: "ruby",
        namespace: "team",
        uid: "u-1",
        resourceVersion: "42",
      },
    });
    expect(sink.created[0]?.metadata?.name).toMatch(/^ruby\.[0-9a-f]+$/);
    // A MicroTime: six fractional digits, the only form the API server accepts.
    expect(sink.created[0]?.eventTime).toBe(new Date(Date.now()).toISOString().replace(/Z$/, "000Z"));
  });

  it("aggregates repeats within the window into the first Event's series", async () => {
    const sink = new FakeSink();
    const events = recorder(sink);
    await events.record(objectRefOf(stream), failure);
    await vi.advanceTimersByTimeAsync(10_000);
    await events.record(objectRefOf(stream), failure);
    await vi.advanceTimersByTimeAsync(50_000);
    await events.record(objectRefOf(stream), failure);
    expect(sink.created).toHaveLength(1);
    const name = sink.created[0]?.metadata?.name;
    expect(sink.patches.map((p) => [p.name, p.patch.series.count])).toEqual([
      [name, 2],
      [name, 3],
    ]);
    expect(sink.patches[1]?.patch.series.lastObservedTime.getTime()).toBe(Date.now());
  });

  it("keeps a repeat that follows an unawaited create in order", async () => {
    const sink = new FakeSink();
    const events = recorder(sink);
    void events.record(objectRefOf(stream), failure);
    await events.record(objectRefOf(stream), failure);
    expect(sink.created).toHaveLength(1);
    expect(sink.patches).toHaveLength(1);
  });

  it("starts a new Event after the window or for a different note, reason or object", async () => {
    const sink = new FakeSink();
    const events = recorder(sink);
    await events.record(objectRefOf(stream), failure);
    await events.record(objectRefOf(stream), { ...failure, note: "unauthorized" });
    await events.record(objectRefOf(stream), { ...failure, reason: "ImportRetried" });
    await events.record({ ...objectRefOf(stream), name: "redis", uid: "u-2" }, failure);
    expect(sink.created).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(60_001);
    await events.record(objectRefOf(stream), failure);
    expect(sink.created).toHaveLength(5);
    expect(sink.patches).toHaveLength(0);
  });

  it("forgets every series once its window passed, even when no Event follows", async () => {
    const sink = new FakeSink();
    const events = recorder(sink);
    await events.record(objectRefOf(stream), failure);
    await events.record({ ...objectRefOf(stream), name: "redis", uid: "u-2" }, failure);
    expect(events.trackedSeries).toBe(2);
    await vi.advanceTimersByTimeAsync(30_000);
    await events.record(objectRefOf(stream), failure);
    await vi.advanceTimersByTimeAsync(31_500);
    expect(events.trackedSeries).toBe(1);
    await vi.advanceTimersByTimeAsync(61_500);
    expect(events.trackedSeries).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("creates a new Event when the aggregated one has expired (404 on patch)", async () => {
    const sink = new FakeSink();
    const events = recorder(sink);
    await events.record(objectRefOf(stream), failure);
    sink.failPatch = new ApiException(404, "NotFound", {}, {});
    await events.record(objectRefOf(stream), failure);
    expect(sink.created).toHaveLength(2);
    sink.failPatch = undefined;
    await events.record(objectRefOf(stream), failure);
    expect(sink.patches.at(-1)?.name).toBe(sink.created[1]?.metadata?.name);
  });

  it("never throws into the caller and logs the failure", async () => {
    const sink = new FakeSink();
    sink.failCreate = new ApiException(403, "Forbidden", {}, {});
    const { logger, lines } = captureLogger();
    await expect(recorder(sink, logger).record(objectRefOf(stream), failure)).resolves.toBeUndefined();
    expect(lines().some((line) => line.msg === "could not write event")).toBe(true);
  });

  it("cuts notes longer than 1 kB and files cluster-scoped objects under default", async () => {
    const sink = new FakeSink();
    await recorder(sink).record({ kind: "Node", name: "node-1" }, { ...failure, note: "x".repeat(5000) });
    expect(sink.created[0]?.note).toHaveLength(1024);
    expect(sink.created[0]?.metadata?.namespace).toBe("default");
  });
});
