// kubectl and namespace helpers for tests.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api } from "@kubernetes/client-node";
import type { ControlPlane } from "./control-plane.ts";
import { run } from "./process.ts";

/** Runs kubectl (env KUBECTL overrides the binary) against the control plane; never throws on failure. */
export function kubectl(
  cp: Pick<ControlPlane, "kubeconfigPath">,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const binary = process.env.KUBECTL ?? "kubectl";
  return run(binary, ["--kubeconfig", cp.kubeconfigPath, ...args], stdin === undefined ? {} : { stdin });
}

/** Control planes without a controller manager: nobody creates ServiceAccounts there. */
export const controlPlanesWithoutControllers = new WeakSet<object>();

/**
 * Creates a namespace named `<prefix>-<random>` and waits (briefly) for its "default"
 * ServiceAccount, so Pods can be created in it right away when a controller manager runs.
 */
export async function createNamespace(cp: ControlPlane, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
  if (controlPlanesWithoutControllers.has(cp)) return name;
  for (let i = 0; i < 100; i++) {
    try {
      await core.readNamespacedServiceAccount({ name: "default", namespace: name });
      break;
    } catch {
      await sleep(100);
    }
  }
  return name;
}
