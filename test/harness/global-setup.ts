// vitest globalSetup of the "integration" project: one control plane (controller manager,
// CRDs) and one registry per variant for the whole run, stopped at the end even when tests fail.
import type { TestProject } from "vitest/node";
import { type ControlPlane, startControlPlane } from "./control-plane.ts";
import { REGISTRY_VARIANTS, type RegistryInstance, registryConnection, startRegistry } from "./registry.ts";
import type { SharedHarnessInfo } from "./shared.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const results = await Promise.allSettled([
    startControlPlane({ controllerManager: true, installCrds: true }),
    ...REGISTRY_VARIANTS.map((variant) => startRegistry(variant)),
  ]);
  const running = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const teardown = async (): Promise<void> => {
    await Promise.allSettled(running.map((r) => r.stop()));
  };
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
  if (failures.length > 0) {
    await teardown();
    throw new AggregateError(
      failures,
      `integration harness failed to start: ${failures.map(String).join("\n")}`,
    );
  }
  const [controlPlane, ...registries] = running as [ControlPlane, ...RegistryInstance[]];
  const info: SharedHarnessInfo = {
    controlPlane: {
      kubeconfigPath: controlPlane.kubeconfigPath,
      server: controlPlane.server,
      dir: controlPlane.dir,
    },
    registries: Object.fromEntries(registries.map((r) => [r.variant, registryConnection(r)])),
  };
  project.provide("imagestreamHarness", info);
  console.log(
    `[harness] control plane ${controlPlane.server} and registries ${registries
      .map((r) => `${r.variant}=${r.host}`)
      .join(" ")} ready in ${Date.now() - started} ms`,
  );
  return teardown;
}
