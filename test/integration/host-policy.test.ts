// The registry block list through the operator, against a real registry on loopback: every
// spelling of a blocked address (and a name resolving to it) ends in a Forbidden import
// without a byte reaching the registry, and an address not blocked still imports.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Operator } from "../../src/operator/run.ts";
import type { RequestEvent } from "../../src/registry/index.ts";
import {
  createNamespace,
  type FaultProxy,
  pushImage,
  startFaultProxy,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { startInProcessOperator } from "./in-process-operator.ts";
import { streamsOf } from "./streams.ts";

const cp = useSharedControlPlane();
const plain = useSharedRegistry("plain");
const streams = streamsOf(cp);
const requests: RequestEvent[] = [];
let namespace: string;
let operator: Operator;
let blocked: FaultProxy;
let allowed: FaultProxy;

beforeAll(async () => {
  namespace = await createNamespace(cp, "host-policy");
  // Proxies in front of the registry count what reaches it: one on the blocked address, one
  // on another loopback address that the block list does not name.
  blocked = await startFaultProxy(plain, "127.0.0.1");
  allowed = await startFaultProxy(plain, "127.0.0.2");
  operator = await startInProcessOperator(
    cp,
    ["--namespaces", namespace, "--controllers=import", "--registry-block=127.0.0.1"],
    { onRegistryRequest: (e) => requests.push(e) },
  );
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all([blocked?.stop(), allowed?.stop()]);
});

function stream(name: string, host: string) {
  return streams.create(namespace, name, {
    tags: [
      {
        name: "v1",
        from: { kind: "DockerImage", name: `${host}/policy/app:v1` },
        importPolicy: { insecure: true },
      },
    ],
  });
}

describe("registry block list", () => {
  it("refuses every spelling of a blocked address, and names resolving to it", async () => {
    await pushImage(plain, "policy/app", "v1");
    const port = blocked.host.split(":").at(-1);
    const spellings = [
      "127.0.0.1",
      "127.1",
      "2130706433",
      "0x7f000001",
      "0177.0.0.1",
      "[::ffff:127.0.0.1]",
      "[::ffff:7f00:1]",
      "[0:0:0:0:0:ffff:7f00:1]",
      "localhost",
      "0.0.0.0",
    ];
    await Promise.all(spellings.map((spelling, i) => stream(`spelling-${i}`, `${spelling}:${port}`)));
    for (const [i, spelling] of spellings.entries()) {
      const condition = await streams.failed(namespace, `spelling-${i}`, "v1", "Forbidden");
      expect(condition.message, spelling).toMatch(/is blocked by the operator's registry policy/);
    }
    expect(blocked.requests).toEqual([]);
    expect(requests.filter((r) => r.registry.endsWith(`:${port}`))).toEqual([]);
  });

  it("still imports from an address the block list does not name", async () => {
    const pushed = await pushImage(plain, "policy/app", "v1");
    await stream("allowed", allowed.host);
    const status = await streams.imported(namespace, "allowed", "v1", pushed.digest);
    expect(status.conditions ?? []).toEqual([]);
    expect(allowed.forwarded).toBeGreaterThan(0);
    expect(blocked.requests).toEqual([]);
  });
});
