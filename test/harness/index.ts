// Public surface of the test harness: a real local control plane and real registries.
export { type HarnessBackend, parseBackend, selectedBackend } from "./backend.ts";
export { type ChartRegistry, chartRegistry, renderChart } from "./chart-registry.ts";
export {
  type ControlPlane,
  type ControlPlaneOptions,
  installCrds,
  kubeBinDir,
  startControlPlane,
} from "./control-plane.ts";
export {
  type FaultMode,
  type FaultProxy,
  type ProxiedRequest,
  startFaultProxy,
  wrongDigest,
} from "./fault-proxy.ts";
export {
  type BuiltImage,
  buildImage,
  type ContainerSpec,
  type ImageConfig,
  imageConfig,
  type MountedImage,
  mountImage,
  mountOptions,
  processStatus,
  type RunningContainer,
  runContainer,
  specFromImage,
  startContainer,
} from "./image.ts";
export { createNamespace, kubectl } from "./kubectl.ts";
export { type PodContainerOptions, podContainerSpec } from "./kubelet.ts";
export { freePort, type ManagedProcess, makeTempDir, spawnLogged } from "./process.ts";
export {
  deleteManifest,
  type ImageConfigFields,
  type ImageFormat,
  MEDIA_TYPES,
  type Platform,
  type PushedImage,
  type PushedIndex,
  type PushedLayer,
  type PushImageOptions,
  pushImage,
  pushImageWith,
  pushIndex,
  RegistryClient,
  sha256Digest,
} from "./push.ts";
export {
  type ConfiguredRegistryOptions,
  dockerConfigJson,
  launchConfiguredRegistry,
  REGISTRY_VARIANTS,
  type RegistryConnection,
  type RegistryInstance,
  type RegistryVariant,
  startRegistry,
} from "./registry.ts";
export { type SharedHarnessInfo, useSharedControlPlane, useSharedRegistry } from "./shared.ts";
export { skopeoArgs } from "./skopeo.ts";
export { eventually, untilQuiet } from "./wait.ts";
