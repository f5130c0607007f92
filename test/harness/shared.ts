// The suite-wide control plane and registries started by global-setup.ts, as seen from a
// test file: vitest passes their connection info (plain data) through provide/inject.
import { KubeConfig } from "@kubernetes/client-node";
import { inject } from "vitest";
import { loadKubeConfig } from "../../src/runtime/index.ts";
import type { ControlPlane } from "./control-plane.ts";
import type { RegistryConnection, RegistryInstance, RegistryVariant } from "./registry.ts";

export interface SharedHarnessInfo {
  controlPlane: { kubeconfigPath: string; server: string; dir: string };
  registries: Partial<Record<RegistryVariant, RegistryConnection>>;
}

declare module "vitest" {
  export interface ProvidedContext {
    imagestreamHarness: SharedHarnessInfo;
  }
}

function sharedInfo(): SharedHarnessInfo {
  const info = inject("imagestreamHarness");
  if (!info) {
    throw new Error(
      "no shared harness: useSharedControlPlane/useSharedRegistry work in the vitest " +
        '"integration" project, whose globalSetup is test/harness/global-setup.ts',
    );
  }
  return info;
}

let sharedControlPlane: ControlPlane | undefined;

/** The suite-wide control plane (with controller manager and CRDs). Its stop() is a no-op: globalSetup owns it. */
export function useSharedControlPlane(): ControlPlane {
  if (!sharedControlPlane) {
    const { kubeconfigPath, server, dir } = sharedInfo().controlPlane;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const connection = loadKubeConfig(kubeconfigPath);
    sharedControlPlane = { kubeconfigPath, kubeConfig, connection, server, dir, stop: async () => {} };
  }
  return sharedControlPlane;
}

/** A suite-wide registry. Its stop() is a no-op: globalSetup owns it. Use distinct repository names per test. */
export function useSharedRegistry(variant: RegistryVariant): RegistryInstance {
  const connection = sharedInfo().registries[variant];
  if (!connection) throw new Error(`the shared harness has no "${variant}" registry`);
  return { ...connection, stop: async () => {} };
}
