import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ListenError, type RunningHttpServer as RunningServer } from "../../../src/http/index.ts";
import { createLogger } from "../../../src/log/index.ts";
import {
  checkWhen,
  createMetrics,
  HealthChecks,
  renderReport,
  startHealthServer,
  startMetricsServer,
} from "../../../src/metrics/index.ts";

const log = createLogger({ level: "silent" });

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function keep(server: RunningServer | undefined): RunningServer {
  if (!server) throw new Error("server disabled");
  servers.push(server);
  return server;
}

describe("metrics server", () => {
  it("serves /metrics in the Prometheus text format", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.importResult("failure", "Unauthorized");
    const server = keep(await startMetricsServer("127.0.0.1:0", metrics, log));
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await res.text()).toContain('imagestream_imports_total{result="failure",reason="Unauthorized"} 1');
  });

  it("answers 404 elsewhere, 405 to other methods and HEAD without a body", async () => {
    const server = keep(
      await startMetricsServer("127.0.0.1:0", createMetrics({ defaultMetrics: false }), log),
    );
    expect((await fetch(`${server.url}/healthz`)).status).toBe(404);
    const post = await fetch(`${server.url}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const head = await fetch(`${server.url}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("is disabled by address 0", async () => {
    expect(await startMetricsServer("0", createMetrics({ defaultMetrics: false }), log)).toBeUndefined();
    expect(await startHealthServer("0", new HealthChecks(), log)).toBeUndefined();
  });

  it("rejects when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const address = blocker.address();
    if (typeof address !== "object" || !address) throw new Error("no address");
    await expect(
      startHealthServer(`127.0.0.1:${address.port}`, new HealthChecks(), log),
    ).rejects.toMatchObject({
      name: "ListenError",
      code: "EADDRINUSE",
      address: `127.0.0.1:${address.port}`,
      message: `cannot listen on 127.0.0.1:${address.port}: the port is already in use by another process`,
    });
    await expect(
      startMetricsServer(`127.0.0.1:${address.port}`, createMetrics({ defaultMetrics: false }), log),
    ).rejects.toBeInstanceOf(ListenError);
    await new Promise((resolve) => blocker.close(resolve));
  });
});

describe("health server", () => {
  it("serves /healthz and /readyz from separate check lists", async () => {
    const checks = new HealthChecks();
    let synced = false;
    checks.addLiveness("process", () => true);
    checks.addReadiness("informers-synced", () => synced || "caches not synced yet");
    const server = keep(await startHealthServer("127.0.0.1:0", checks, log));

    const live = await fetch(`${server.url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.text()).toBe("ok\n");
    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(500);
    expect(await notReady.text()).toBe(
      "[-]informers-synced failed: caches not synced yet\nreadyz check failed\n",
    );

    synced = true;
    const ready = await fetch(`${server.url}/readyz?verbose`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe("[+]informers-synced ok\nreadyz check passed\n");
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it("fails liveness on a wedged, throwing or hanging check", async () => {
    const checks = new HealthChecks({ timeoutMs: 50 });
    checks.addLiveness("informer-watch", () => false);
    checks.addLiveness("throws", () => {
      throw new Error("boom");
    });
    checks.addLiveness("hangs", () => new Promise<boolean>(() => {}));
    const server = keep(await startHealthServer("127.0.0.1:0", checks, log));

    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(500);
    expect((await res.text()).split("\n")).toEqual([
      "[-]informer-watch failed: failed",
      "[-]throws failed: boom",
      "[-]hangs failed: no answer within 50ms",
      "healthz check failed",
      "",
    ]);
  });
});

describe("HealthChecks", () => {
  it("is healthy with no checks, and a check can be removed", async () => {
    const checks = new HealthChecks();
    expect(await checks.run("readiness")).toEqual({ ok: true, checks: [] });
    const remove = checks.addReadiness("x", () => false);
    expect((await checks.run("readiness")).ok).toBe(false);
    remove();
    expect((await checks.run("readiness")).ok).toBe(true);
  });

  it("refuses two checks of one name", () => {
    const checks = new HealthChecks();
    checks.addLiveness("x", () => true);
    expect(() => checks.addLiveness("x", () => true)).toThrow(/already registered/);
  });

  it("checkWhen: a standby replica is ready without synced caches", async () => {
    let leading = false;
    const checks = new HealthChecks();
    checks.addReadiness(
      "informers-synced",
      checkWhen(
        () => leading,
        () => false,
      ),
    );
    expect((await checks.run("readiness")).ok).toBe(true);
    leading = true;
    expect((await checks.run("readiness")).ok).toBe(false);
  });

  it("renderReport lists every check when verbose", () => {
    const report = { ok: true, checks: [{ name: "a", ok: true }] };
    expect(renderReport("liveness", report, false)).toBe("ok\n");
    expect(renderReport("liveness", report, true)).toBe("[+]a ok\nhealthz check passed\n");
  });
});
