import { createServer, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import {
  decideAcquireOrRenew,
  isLeaseValid,
  type LeaderElectionRecord,
  type Lease,
  leaseDurationSeconds,
  leaseStoreFromClient,
  recordFromLease,
  releasedRecord,
  validateLeaderTimings,
} from "../../../src/leader/index.ts";
import { isConflict } from "../../../src/runtime/index.ts";
import { closeServer, listenLoopback } from "../runtime/helpers.ts";

const held: LeaderElectionRecord = {
  holderIdentity: "other",
  leaseDurationSeconds: 15,
  acquireTime: 1_000,
  renewTime: 2_000,
  leaseTransitions: 2,
};

describe("decideAcquireOrRenew", () => {
  const base = { identity: "me", observedAt: 10_000, durationSeconds: 15 };

  it("waits while another holder's lease is valid by local observation time", () => {
    expect(decideAcquireOrRenew({ ...base, current: held, now: 24_999 })).toEqual({
      action: "wait",
      holder: "other",
    });
  });

  it("takes over an expired lease with one more transition", () => {
    expect(decideAcquireOrRenew({ ...base, current: held, now: 25_000 })).toEqual({
      action: "write",
      takeover: true,
      record: {
        holderIdentity: "me",
        leaseDurationSeconds: 15,
        acquireTime: 25_000,
        renewTime: 25_000,
        leaseTransitions: 3,
      },
    });
  });

  it("takes over a released lease at once", () => {
    const released = releasedRecord(held, 12_000);
    expect(released).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 2 });
    const decision = decideAcquireOrRenew({ ...base, current: released, now: 12_001 });
    expect(decision).toMatchObject({ action: "write", takeover: true, record: { leaseTransitions: 3 } });
  });

  it("renews its own lease keeping acquireTime and transitions", () => {
    const mine = { ...held, holderIdentity: "me" };
    expect(decideAcquireOrRenew({ ...base, current: mine, now: 11_000 })).toEqual({
      action: "write",
      takeover: false,
      record: { ...mine, renewTime: 11_000 },
    });
  });

  it("isLeaseValid ignores the record's own timestamps", () => {
    const ancient = { ...held, renewTime: 0 };
    expect(isLeaseValid(ancient, 100_000, 114_999)).toBe(true);
    expect(isLeaseValid(ancient, 100_000, 115_000)).toBe(false);
  });
});

describe("timings", () => {
  it("accepts client-go's defaults and rejects broken orderings", () => {
    expect(() =>
      validateLeaderTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    ).not.toThrow();
    expect(() =>
      validateLeaderTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    ).toThrow(RangeError);
    expect(() =>
      validateLeaderTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }),
    ).toThrow(RangeError);
    expect(() =>
      validateLeaderTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 }),
    ).toThrow(RangeError);
  });

  it("rounds the lease duration up to whole seconds", () => {
    expect(leaseDurationSeconds(15_000)).toBe(15);
    expect(leaseDurationSeconds(2_500)).toBe(3);
    expect(leaseDurationSeconds(200)).toBe(1);
  });
});

const LEASES = "/apis/coordination.k8s.io/v1/namespaces/ops/leases";

let server: Server | undefined;
afterEach(async () => {
  await closeServer(server);
  server = undefined;
});

/** A Lease API on 127.0.0.1: GET, POST and PUT of one Lease with the API server's concurrency rule. */
async function fakeApi(initial?: Lease) {
  let stored = initial;
  let version = 10;
  const bodies: string[] = [];
  const requests: string[] = [];
  const answer = (res: ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const status = (code: number, reason: string) => ({ kind: "Status", code, reason, message: reason });
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on("end", () => {
      requests.push(`${req.method} ${req.url}`);
      if (req.method === "GET") {
        if (!stored) answer(res, 404, status(404, "NotFound"));
        else answer(res, 200, stored);
        return;
      }
      const body = JSON.parse(text) as Lease;
      const exists = stored !== undefined;
      if (
        req.method === "POST" ? exists : body.metadata?.resourceVersion !== stored?.metadata?.resourceVersion
      ) {
        answer(res, 409, status(409, "Conflict"));
        return;
      }
      bodies.push(text);
      stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
      answer(res, req.method === "POST" ? 201 : 200, stored);
    });
  });
  const kc = await listenLoopback(server);
  return { kc, bodies, requests, stored: () => stored };
}

describe("leaseStoreFromClient", () => {
  it("reads a missing lease as undefined and creates it with microsecond times", async () => {
    const { kc, bodies, requests } = await fakeApi();
    const store = leaseStoreFromClient(kc, "ops", "imagestream-operator");
    expect(await store.get()).toBeUndefined();
    const now = Date.parse("2025-01-01T00:00:00.123Z");
    const created = await store.create({ ...held, acquireTime: now, renewTime: now });

    expect(created.record).toEqual({ ...held, acquireTime: now, renewTime: now });
    expect(created.resourceVersion).toBe("11");
    const body = JSON.parse(bodies[0] ?? "{}") as { metadata: unknown; spec: Record<string, unknown> };
    expect(body.metadata).toEqual({ name: "imagestream-operator", namespace: "ops" });
    // The API server only accepts RFC 3339 with six fractional digits for MicroTime.
    expect(body.spec.renewTime).toBe("2025-01-01T00:00:00.123000Z");
    expect(body.spec.acquireTime).toBe("2025-01-01T00:00:00.123000Z");
    expect(requests).toEqual([`GET ${LEASES}/imagestream-operator`, `POST ${LEASES}`]);
  });

  it("replaces with the given resourceVersion, keeping labels, and reports conflicts", async () => {
    const { kc, stored, requests } = await fakeApi({
      metadata: { name: "l", namespace: "ops", resourceVersion: "5", labels: { team: "a" } },
      spec: {
        holderIdentity: "x",
        leaseDurationSeconds: 15,
        renewTime: "2025-01-01T00:00:00.000000Z",
      },
    });
    const store = leaseStoreFromClient(kc, "ops", "l");
    const current = await store.get();
    expect(current?.record.renewTime).toBe(Date.parse("2025-01-01T00:00:00Z"));
    expect(current?.record.acquireTime).toBeUndefined();

    await store.replace({ ...held, holderIdentity: "me" }, "5");
    expect(stored()?.metadata?.labels).toEqual({ team: "a" });
    expect(stored()?.spec?.holderIdentity).toBe("me");
    expect(requests.at(-1)).toBe(`PUT ${LEASES}/l`);
    const err = await store.replace(held, "5").catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
  });

  it("recordFromLease fills defaults for an empty spec", () => {
    expect(recordFromLease({})).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 0,
      acquireTime: undefined,
      renewTime: undefined,
      leaseTransitions: 0,
    });
  });
});
