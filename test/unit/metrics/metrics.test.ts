import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMetrics, type OperatorMetrics } from "../../../src/metrics/index.ts";
import { WorkQueue } from "../../../src/runtime/index.ts";

/** The value of one sample line, e.g. sample(text, 'imagestream_imports_total{result="success",reason=""}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function text(metrics: OperatorMetrics): Promise<string> {
  return (await metrics.exposition()).body;
}

describe("OperatorMetrics", () => {
  let metrics: OperatorMetrics;
  beforeEach(() => {
    metrics = createMetrics({ defaultMetrics: false });
  });

  it("uses its own registry, not prom-client's global one", async () => {
    const other = createMetrics({ defaultMetrics: false });
    metrics.triggerWrite("success");
    expect(sample(await text(metrics), 'imagestream_trigger_writes_total{result="success"}')).toBe(1);
    expect(sample(await text(other), 'imagestream_trigger_writes_total{result="success"}')).toBeUndefined();
  });

  it("names every metric with the imagestream_ prefix and documents it", async () => {
    const body = await text(metrics);
    const names = [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(names).toEqual(
      expect.arrayContaining([
        ["imagestream_workqueue_depth", "gauge"],
        ["imagestream_workqueue_adds_total", "counter"],
        ["imagestream_workqueue_retries_total", "counter"],
        ["imagestream_workqueue_queue_duration_seconds", "histogram"],
        ["imagestream_workqueue_work_duration_seconds", "histogram"],
        ["imagestream_reconcile_total", "counter"],
        ["imagestream_reconcile_errors_total", "counter"],
        ["imagestream_reconcile_duration_seconds", "histogram"],
        ["imagestream_registry_requests_total", "counter"],
        ["imagestream_registry_request_duration_seconds", "histogram"],
        ["imagestream_rate_limit_waits_total", "counter"],
        ["imagestream_rate_limit_wait_seconds_total", "counter"],
        ["imagestream_imports_total", "counter"],
        ["imagestream_trigger_writes_total", "counter"],
        ["imagestream_leader", "gauge"],
      ]),
    );
    for (const [name] of names) expect(name).toMatch(/^imagestream_[a-z_]+$/);
    expect(body).toMatch(/^# HELP imagestream_leader \S.+$/m);
  });

  it("includes process and Node.js metrics by default", async () => {
    const body = await text(createMetrics());
    expect(body).toMatch(/^process_cpu_seconds_total /m);
    expect(body).toMatch(/^nodejs_heap_size_used_bytes /m);
  });

  describe("work queue hooks", () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("count adds and retries and time queue waits and work, per controller", async () => {
      const running = new Map<string, () => void>();
      const finish = (key: string): void => running.get(key)?.();
      const queue = new WorkQueue({
        process: (key) =>
          new Promise<void>((resolve, reject) => {
            running.set(key, key === "bad" ? () => reject(new Error("escaped")) : resolve);
          }),
        hooks: metrics.workQueueHooks("import"),
        autoStart: false,
      });
      metrics.trackQueueDepth("import", () => queue.depth);
      queue.add("ns/a");
      queue.add("ns/a"); // de-duplicated: not an add
      queue.add("ns/b");
      expect(sample(await text(metrics), 'imagestream_workqueue_depth{controller="import"}')).toBe(2);

      await vi.advanceTimersByTimeAsync(2_000);
      queue.start();
      await vi.advanceTimersByTimeAsync(500);
      finish("ns/a");
      await vi.advanceTimersByTimeAsync(0);
      queue.addRateLimited("ns/a");

      const body = await text(metrics);
      expect(sample(body, 'imagestream_workqueue_adds_total{controller="import"}')).toBe(2);
      expect(sample(body, 'imagestream_workqueue_retries_total{controller="import"}')).toBe(1);
      // ns/b is in flight now, and ns/a is delayed by its backoff: neither is waiting in the queue.
      expect(sample(body, 'imagestream_workqueue_depth{controller="import"}')).toBe(0);
      expect(sample(body, 'imagestream_workqueue_queue_duration_seconds_count{controller="import"}')).toBe(2);
      expect(
        sample(body, 'imagestream_workqueue_queue_duration_seconds_sum{controller="import"}'),
      ).toBeCloseTo(4.5);
      expect(
        sample(body, 'imagestream_workqueue_work_duration_seconds_sum{controller="import"}'),
      ).toBeCloseTo(0.5);
      expect(
        sample(body, 'imagestream_workqueue_work_duration_seconds_bucket{le="0.5",controller="import"}'),
      ).toBe(1);

      queue.add("bad");
      finish("ns/b");
      await vi.advanceTimersByTimeAsync(0);
      finish("bad");
      await vi.advanceTimersByTimeAsync(0);
      expect(
        sample(await text(metrics), 'imagestream_workqueue_unhandled_errors_total{controller="import"}'),
      ).toBe(1);
    });

    it("starts a controller's series at zero and stops reporting depth once untracked", async () => {
      metrics.workQueueHooks("trigger");
      const untrack = metrics.trackQueueDepth("trigger", () => 7);
      let body = await text(metrics);
      expect(sample(body, 'imagestream_workqueue_adds_total{controller="trigger"}')).toBe(0);
      expect(sample(body, 'imagestream_reconcile_errors_total{controller="trigger"}')).toBe(0);
      expect(sample(body, 'imagestream_workqueue_depth{controller="trigger"}')).toBe(7);
      untrack();
      body = await text(metrics);
      expect(sample(body, 'imagestream_workqueue_depth{controller="trigger"}')).toBeUndefined();
    });
  });

  it("instruments a reconciler by outcome, passing results and errors through", async () => {
    const outcomes: (() => Promise<{ requeueAfter?: number } | undefined>)[] = [
      async () => undefined,
      async () => ({ requeueAfter: 1_000 }),
      async () => {
        throw new Error("registry down");
      },
    ];
    const reconcile = metrics.instrumentReconciler("import", () => {
      const next = outcomes.shift();
      if (!next) throw new Error("no more outcomes");
      return next();
    });
    const ctx = {
      log: undefined as never,
      signal: new AbortController().signal,
      namespace: "ns",
      name: "a",
    };
    await expect(reconcile("ns/a", ctx)).resolves.toBeUndefined();
    await expect(reconcile("ns/a", ctx)).resolves.toEqual({ requeueAfter: 1_000 });
    await expect(reconcile("ns/a", ctx)).rejects.toThrow("registry down");

    const body = await text(metrics);
    for (const result of ["success", "requeue_after", "error"]) {
      expect(sample(body, `imagestream_reconcile_total{controller="import",result="${result}"}`)).toBe(1);
      expect(
        sample(body, `imagestream_reconcile_duration_seconds_count{controller="import",result="${result}"}`),
      ).toBe(1);
    }
    expect(sample(body, 'imagestream_reconcile_errors_total{controller="import"}')).toBe(1);
  });

  it("records registry requests, rate-limit waits, imports, trigger writes and leadership", async () => {
    metrics.registryRequest("quay.io", "get", 200, 0.2);
    metrics.registryRequest("quay.io", "GET", 200, 0.3);
    metrics.registryRequest("quay.io", "HEAD", 401, 0.05);
    metrics.registryRequest("127.0.0.1:5000", "GET", undefined, 1.5);
    metrics.rateLimitWait("docker.io", 0.5);
    metrics.rateLimitWait("docker.io", 1.25);
    metrics.importResult("success");
    metrics.importResult("failure", "NotFound");
    metrics.importResult("failure", "NotFound");
    metrics.importResult("unchanged");
    metrics.triggerWrite("conflict");
    metrics.setLeader(true);

    const body = await text(metrics);
    expect(
      sample(body, 'imagestream_registry_requests_total{registry="quay.io",method="GET",code="200"}'),
    ).toBe(2);
    expect(
      sample(body, 'imagestream_registry_requests_total{registry="quay.io",method="HEAD",code="401"}'),
    ).toBe(1);
    expect(
      sample(
        body,
        'imagestream_registry_requests_total{registry="127.0.0.1:5000",method="GET",code="error"}',
      ),
    ).toBe(1);
    expect(
      sample(body, 'imagestream_registry_request_duration_seconds_sum{registry="quay.io",method="GET"}'),
    ).toBeCloseTo(0.5);
    expect(sample(body, 'imagestream_rate_limit_waits_total{registry="docker.io"}')).toBe(2);
    expect(sample(body, 'imagestream_rate_limit_wait_seconds_total{registry="docker.io"}')).toBeCloseTo(1.75);
    expect(sample(body, 'imagestream_imports_total{result="success",reason=""}')).toBe(1);
    expect(sample(body, 'imagestream_imports_total{result="failure",reason="NotFound"}')).toBe(2);
    expect(sample(body, 'imagestream_imports_total{result="unchanged",reason=""}')).toBe(1);
    expect(sample(body, 'imagestream_trigger_writes_total{result="conflict"}')).toBe(1);
    expect(sample(body, "imagestream_leader")).toBe(1);
    metrics.setLeader(false);
    expect(sample(await text(metrics), "imagestream_leader")).toBe(0);
  });

  it("counts AdmissionReviews by webhook, operation and result, with their latency", async () => {
    metrics.admissionRequest("image-lookup", "CREATE", "patched", 0.004);
    metrics.admissionRequest("image-lookup", "CREATE", "allowed", 0.002);
    metrics.admissionRequest("image-lookup", "CREATE", "allowed", 0.003);
    metrics.admissionRequest("imagestreamtags", "CREATE", "denied", 0.001);
    metrics.admissionRequest("imagestreamimports", "", "rejected", 0.001);
    const body = await text(metrics);
    const count = (labels: string) => sample(body, `imagestream_admission_requests_total{${labels}}`);
    expect(count('webhook="image-lookup",operation="CREATE",result="allowed"')).toBe(2);
    expect(count('webhook="image-lookup",operation="CREATE",result="patched"')).toBe(1);
    expect(count('webhook="imagestreamtags",operation="CREATE",result="denied"')).toBe(1);
    expect(count('webhook="imagestreamimports",operation="",result="rejected"')).toBe(1);
    expect(
      sample(
        body,
        'imagestream_admission_request_duration_seconds_count{webhook="image-lookup",operation="CREATE"}',
      ),
    ).toBe(3);
    expect(
      sample(
        body,
        'imagestream_admission_request_duration_seconds_sum{webhook="image-lookup",operation="CREATE"}',
      ),
    ).toBeCloseTo(0.009);
  });
});
