// A leader whose Lease is taken from it stops its controllers and exits non-zero, so its Pod
// restarts as a fresh standby (issue 5 section 2), instead of working on next to a new leader.
import { CoordinationV1Api, V1MicroTime } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNamespace, eventually, useSharedControlPlane } from "../harness/index.ts";
import { killAllOperatorProcesses, type OperatorProcess, startOperatorProcess } from "./operator-process.ts";

const cp = useSharedControlPlane();
const leases = cp.kubeConfig.makeApiClient(CoordinationV1Api);
const LEASE_NAME = "imagestream-operator";
let namespace = "";
let operator: OperatorProcess;

beforeAll(async () => {
  namespace = await createNamespace(cp, "lease-loss");
  operator = await startOperatorProcess("lease-loss", [
    `--kubeconfig=${cp.kubeconfigPath}`,
    `--namespaces=${namespace}`,
    "--controllers=import",
    "--leader-elect=true",
    `--leader-election-namespace=${namespace}`,
    `--leader-election-name=${LEASE_NAME}`,
    "--lease-duration=4s",
    "--renew-deadline=3s",
    "--retry-period=1s",
  ]);
});

afterAll(async () => {
  await killAllOperatorProcesses();
});

describe("losing the lease", () => {
  it("stops the controllers and exits 1 when another holder takes the Lease", async () => {
    const held = await eventually(async () => {
      const lease = await leases.readNamespacedLease({ namespace, name: LEASE_NAME });
      const holder = lease.spec?.holderIdentity;
      return holder && holder === operator.identity ? lease : undefined;
    }, "the operator to hold the Lease");
    expect(await operator.leaderGauge()).toBe(1);

    // Another replica (or an operator with a skewed view) writes itself into the Lease.
    await leases.replaceNamespacedLease({
      namespace,
      name: LEASE_NAME,
      body: {
        ...held,
        spec: { ...held.spec, holderIdentity: "intruder", renewTime: new V1MicroTime(new Date()) },
      },
    });

    const exit = await operator.exit(15_000);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(operator.output).toContain("lost the leader lease");
    const lease = await leases.readNamespacedLease({ namespace, name: LEASE_NAME });
    expect(lease.spec?.holderIdentity).toBe("intruder");
  });
});
