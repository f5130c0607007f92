import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TagReference } from "../../src/api/types.ts";
import type { Operator } from "../../src/operator/index.ts";
import type { RequestEvent } from "../../src/registry/index.ts";
import {
  createNamespace,
  deleteManifest,
  dockerConfigJson,
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
const tls = useSharedRegistry("tls");
const token = useSharedRegistry("token");
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
const requests: (RequestEvent & { at: number })[] = [];
const proxies: FaultProxy[] = [];
let namespace: string;
let operator: Operator;

const streams = streamsOf(cp);
const _getStream = (name: string) => streams.get(namespace, name);
const createStream = (name: string, tags: TagReference[]) => streams.create(namespace, name, { tags });
const requestImport = async (name: string) => {
  await streams.requestImport(namespace, name);
};
const tagStatus = (name: string, tag = "v1") => streams.tagStatus(namespace, name, tag);
const importedDigest = (name: string, digest: string, timeoutMs?: number) =>
  streams.imported(namespace, name, "v1", digest, timeoutMs);
const failedCondition = (name: string, reason: string) => streams.failed(namespace, name, "v1", reason);

/** One insecure DockerImage tag `v1` (plain HTTP through the proxy needs it). */
function insecureTag(pullSpec: string): TagReference[] {
  return [{ name: "v1", from: { kind: "DockerImage", name: pullSpec }, importPolicy: { insecure: true } }];
}

async function proxyFor(): Promise<FaultProxy> {
  // One proxy per test: a fault cannot leak into another test's retries.
  const proxy = await startFaultProxy(plain);
  proxies.push(proxy);
  return proxy;
}

beforeAll(async () => {
  namespace = await createNamespace(cp, "import-failures");
  operator = await startInProcessOperator(cp, ["--namespaces", namespace, "--controllers=import"], {
    // Only the token registry's CA is trusted: the "tls" registry (another private CA) is not.
    ...(token.caPem ? { caBundle: token.caPem } : {}),
    onRegistryRequest: (e) => requests.push({ ...e, at: Date.now() }),
  });
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all(proxies.map((p) => p.stop()));
});

describe("import failures", () => {
  it("reports NotFound for a tag that disappeared and keeps the history", async () => {
    const proxy = await proxyFor();
    const pushed = await pushImage(plain, "failures/gone", "v1");
    await createStream("gone", insecureTag(`${proxy.host}/failures/gone:v1`));
    await importedDigest("gone", pushed.digest);
    expect(proxy.forwarded).toBeGreaterThan(0);

    await deleteManifest(plain, "failures/gone", pushed.digest);
    await requestImport("gone");
    const condition = await failedCondition("gone", "NotFound");
    expect(condition.message).toContain("failures/gone");
    const status = await tagStatus("gone");
    expect(status?.items?.map((i) => i.image)).toEqual([pushed.digest]);
  });

  it("retries with backoff while the registry is down and recovers when it returns", async () => {
    const proxy = await proxyFor();
    const first = await pushImage(plain, "failures/down", "v1", { layerContent: "first" });
    await createStream("down", insecureTag(`${proxy.host}/failures/down:v1`));
    await importedDigest("down", first.digest);

    await proxy.down();
    const second = await pushImage(plain, "failures/down", "v1", { layerContent: "second" });
    const before = requests.length;
    await requestImport("down");
    const condition = await failedCondition("down", "ServiceUnavailable");
    expect(condition.message).toContain(proxy.host);
    const failures = requests.slice(before).filter((r) => r.registry === proxy.host);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((r) => r.status === "error")).toBe(true);
    const failedAt = failures[0]!.at;
    expect((await tagStatus("down"))?.items?.map((i) => i.image)).toEqual([first.digest]);

    await proxy.passthrough();
    const recovered = await importedDigest("down", second.digest, 15_000);
    expect(recovered.conditions ?? []).toEqual([]);
    expect(recovered.items?.map((i) => i.image)).toEqual([second.digest, first.digest]);
    // One failed attempt for the request, then one retry after the first backoff step (10 s).
    const attempts = requests.slice(before).filter((r) => r.registry === proxy.host);
    expect(attempts.filter((r) => r.status === "error")).toHaveLength(1);
    const retry = attempts.find((r) => r.status !== "error");
    expect(retry!.at - failedAt).toBeGreaterThanOrEqual(9_000);
  });

  it("waits out a short Retry-After and then imports", async () => {
    const proxy = await proxyFor();
    const pushed = await pushImage(plain, "failures/slow", "v1");
    await proxy.tooManyRequests(1, 2);
    await createStream("slow", insecureTag(`${proxy.host}/failures/slow:v1`));
    const status = await importedDigest("slow", pushed.digest);
    expect(status.conditions ?? []).toEqual([]);

    const limited = proxy.requests.find((r) => r.status === 429);
    expect(limited).toBeDefined();
    const next = proxy.requests.find((r) => r.at >= limited!.at && r !== limited);
    expect(next?.forwarded).toBe(true);
    expect(next!.at - limited!.at).toBeGreaterThanOrEqual(1_950);
  });

  it("reports TooManyRequests when the registry asks to wait longer than the client waits", async () => {
    const proxy = await proxyFor();
    await pushImage(plain, "failures/busy", "v1");
    await proxy.tooManyRequests(1, 120);
    await createStream("busy", insecureTag(`${proxy.host}/failures/busy:v1`));
    const condition = await failedCondition("busy", "TooManyRequests");
    expect(condition.message).toContain("retry after 120s");
    expect((await tagStatus("busy"))?.items ?? []).toEqual([]);
    // The registry asked for 2 minutes: nothing else was sent to it meanwhile.
    expect(proxy.requests.filter((r) => r.at > proxy.requests[0]!.at && r.status !== 429)).toEqual([]);
  });

  it("refuses a manifest whose Docker-Content-Digest does not match its bytes", async () => {
    const proxy = await proxyFor();
    const pushed = await pushImage(plain, "failures/forged", "v1");
    await proxy.corruptDigest();
    await createStream("forged", insecureTag(`${proxy.host}/failures/forged:v1`));
    const condition = await failedCondition("forged", "Invalid");
    expect(condition.message).toContain("does not match");
    expect(condition.message).toContain(pushed.digest);
    expect(proxy.requests.some((r) => r.fault === "corruptDigest")).toBe(true);
    expect((await tagStatus("forged"))?.items ?? []).toEqual([]);
  });

  it("refuses an oversized manifest", async () => {
    const proxy = await proxyFor();
    await pushImage(plain, "failures/huge", "v1");
    await proxy.oversized();
    await createStream("huge", insecureTag(`${proxy.host}/failures/huge:v1`));
    const condition = await failedCondition("huge", "Invalid");
    expect(condition.message).toContain(`the manifest of "${proxy.host}/failures/huge:v1"`);
    expect(condition.message).toMatch(/exceeds the limit of \d+ bytes/);
    expect(proxy.requests.some((r) => r.fault === "oversized")).toBe(true);
    expect((await tagStatus("huge"))?.items ?? []).toEqual([]);
  });

  it("imports through bearer-token auth with a pull secret, and is Unauthorized without one", async () => {
    const pushed = await pushImage(token, "failures/private", "v1");
    await createStream("private", [
      { name: "v1", from: { kind: "DockerImage", name: `${token.host}/failures/private:v1` } },
    ]);
    const condition = await failedCondition("private", "Unauthorized");
    expect(condition.message).toContain("failures/private");

    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: "token-pull" },
        type: "kubernetes.io/dockerconfigjson",
        stringData: { ".dockerconfigjson": dockerConfigJson(token) },
      },
    });
    // The new secret is used at once, not after the failed tag's 10 s backoff.
    const status = await importedDigest("private", pushed.digest, 5_000);
    expect(status.conditions ?? []).toEqual([]);
    expect(requests.some((r) => r.kind === "token" && r.status === 200 && r.registry === token.host)).toBe(
      true,
    );
  });

  it("refuses TLS to a registry whose CA the controller does not trust", async () => {
    await pushImage(tls, "failures/untrusted", "v1");
    await createStream("untrusted", [
      { name: "v1", from: { kind: "DockerImage", name: `${tls.host}/failures/untrusted:v1` } },
    ]);
    const condition = await failedCondition("untrusted", "InternalError");
    expect(condition.message).toContain(`TLS connection to registry "${tls.host}" failed`);
    expect(condition.message).toContain("CA bundle");
    expect((await tagStatus("untrusted"))?.items ?? []).toEqual([]);
  });
});
