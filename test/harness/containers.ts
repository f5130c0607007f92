// IMAGESTREAM_TEST_BACKEND=containers: the same harness API on a Docker engine, via
// testcontainers (k3s for the control plane, registry:2 for registries). Loaded lazily, so
// the default "processes" backend never imports testcontainers.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { StartedTestContainer } from "testcontainers";
import { loadKubeConfig } from "../../src/runtime/index.ts";
import { type ControlPlane, type ControlPlaneOptions, installCrds } from "./control-plane.ts";
import { makeTempDir, removeTempDir } from "./process.ts";
import {
  prepareRegistryFiles,
  type RegistryInstance,
  type RegistryVariant,
  registryAnswers,
} from "./registry.ts";

const K3S_IMAGE = process.env.IMAGESTREAM_K3S_IMAGE ?? "rancher/k3s:v1.33.4-k3s1";
const REGISTRY_IMAGE = process.env.IMAGESTREAM_REGISTRY_IMAGE ?? "registry:2";

async function testcontainers(): Promise<typeof import("testcontainers")> {
  const tc = await import("testcontainers");
  try {
    await tc.getContainerRuntimeClient();
  } catch (error) {
    throw new Error(
      "IMAGESTREAM_TEST_BACKEND=containers needs a Docker-compatible engine, and testcontainers found none " +
        "(set DOCKER_HOST or start Docker). Unset IMAGESTREAM_TEST_BACKEND to use local processes.",
      { cause: error },
    );
  }
  return tc;
}

/** Host address of a mapped port, as 127.0.0.1 when local (the harness certs name 127.0.0.1). */
function hostOf(container: StartedTestContainer): string {
  const host = container.getHost();
  return host === "localhost" ? "127.0.0.1" : host;
}

export async function startK3sControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const { GenericContainer, Wait } = await testcontainers();
  const dir = await makeTempDir("isop-k3s");
  // k3s always runs its controller manager; opts.controllerManager is implied.
  const container = await new GenericContainer(K3S_IMAGE)
    .withPrivilegedMode()
    .withExposedPorts(6443)
    .withCommand(["server", "--disable=traefik,servicelb,metrics-server", "--tls-san=127.0.0.1"])
    .withWaitStrategy(Wait.forLogMessage(/Node controller sync successful|k3s is up and running/))
    .withStartupTimeout(180_000)
    .start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await container.stop();
    await removeTempDir(dir);
  };
  try {
    const server = `https://${hostOf(container)}:${container.getMappedPort(6443)}`;
    const raw = await container.exec(["cat", "/etc/rancher/k3s/k3s.yaml"]);
    if (raw.exitCode !== 0) throw new Error(`reading the k3s kubeconfig failed: ${raw.output}`);
    const kubeconfigPath = join(dir, "admin.kubeconfig");
    await writeFile(kubeconfigPath, raw.stdout.replace(/server: https:\/\/[^\s]+/, `server: ${server}`), {
      mode: 0o600,
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const connection = loadKubeConfig(kubeconfigPath);
    const controlPlane: ControlPlane = { kubeconfigPath, kubeConfig, connection, server, dir, stop };
    if (opts.installCrds) await installCrds(controlPlane);
    return controlPlane;
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function startRegistryContainer(variant: RegistryVariant): Promise<RegistryInstance> {
  const { GenericContainer, Wait } = await testcontainers();
  const dir = await makeTempDir(`isop-registry-${variant}`);
  await mkdir(join(dir, "storage"), { recursive: true });
  // Same config as the process backend; files are copied to /harness in the container.
  const files = await prepareRegistryFiles(variant, dir, "0.0.0.0:5000", (f) => f.replace(dir, "/harness"));
  let container: StartedTestContainer | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await container?.stop();
    await files.tokenServer?.stop();
    await removeTempDir(dir);
  };
  try {
    container = await new GenericContainer(REGISTRY_IMAGE)
      .withExposedPorts(5000)
      .withCopyDirectoriesToContainer([{ source: dir, target: "/harness" }])
      .withCopyContentToContainer([{ content: files.config, target: "/etc/docker/registry/config.yml" }])
      .withWaitStrategy(Wait.forListeningPorts())
      .start();
    const host = `${hostOf(container)}:${container.getMappedPort(5000)}`;
    const url = `${variant === "plain" ? "http" : "https"}://${host}`;
    if (!(await registryAnswers(url, files.caPem)))
      throw new Error(`registry container at ${url} does not answer`);
    const instance: RegistryInstance = { variant, host, url, stop };
    if (files.caFile) instance.caFile = files.caFile;
    if (files.caPem) instance.caPem = files.caPem;
    if (files.username) instance.username = files.username;
    if (files.password) instance.password = files.password;
    return instance;
  } catch (error) {
    await stop();
    throw error;
  }
}
