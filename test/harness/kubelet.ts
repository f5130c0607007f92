// What a kubelet would run for one container of a Pod, resolved against the real API server:
// the image's config overlaid with the pod spec (command, env with field references, user
// and read-only root from the security contexts), emptyDir volumes as tmpfs and the projected
// ServiceAccount volume (a token bound to the Pod, the cluster CA, the namespace) as a
// read-only directory. There is no kubelet in the harness; this lets a test start the built
// image as the Pod the chart created (test/harness/image.ts starts it). Only what the
// operator's chart uses is supported; anything else throws naming it.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { V1Container, V1Pod, V1Volume } from "@kubernetes/client-node";
import type { ControlPlane } from "./control-plane.ts";
import { type ContainerSpec, envRecord, type ImageConfig, numericUser } from "./image.ts";
import { kubectl } from "./kubectl.ts";

export interface PodContainerOptions {
  /** Directory for the projected volumes' files (the kubelet's pods/<uid>/volumes). */
  volumeDir: string;
  /**
   * Settings replaced after the pod's env, for what differs without a pod network namespace:
   * listen addresses must be free ports of this machine's loopback.
   */
  envOverrides?: Record<string, string>;
}

export async function podContainerSpec(
  cp: ControlPlane,
  pod: V1Pod,
  containerName: string,
  config: ImageConfig,
  options: PodContainerOptions,
): Promise<ContainerSpec> {
  const container = pod.spec?.containers.find((c) => c.name === containerName);
  if (!container) throw new Error(`pod ${pod.metadata?.name} has no container ${containerName}`);
  const sc = container.securityContext ?? {};
  const psc = pod.spec?.securityContext ?? {};
  const [imageUid, imageGid] = numericUser(config.User);
  const uid = sc.runAsUser ?? psc.runAsUser ?? imageUid;
  const gid = sc.runAsGroup ?? psc.runAsGroup ?? imageGid;
  if ((sc.runAsNonRoot ?? psc.runAsNonRoot) === true && uid === 0) {
    throw new Error(`container ${containerName} has runAsNonRoot and would run as root`);
  }
  const command = container.command ?? config.Entrypoint ?? [];
  const args = container.args ?? (container.command ? [] : (config.Cmd ?? []));
  const server = new URL(cp.server);
  const env: Record<string, string> = {
    ...envRecord(config.Env ?? []),
    HOSTNAME: pod.metadata?.name ?? "",
    // The in-cluster service discovery a kubelet adds for the default "kubernetes" Service.
    KUBERNETES_SERVICE_HOST: server.hostname,
    KUBERNETES_SERVICE_PORT: server.port || "443",
    ...containerEnv(pod, container),
    ...options.envOverrides,
  };
  const spec: ContainerSpec = {
    command: [...command, ...args],
    env,
    workingDir: container.workingDir ?? (config.WorkingDir || "/"),
    hostname: pod.metadata?.name ?? "pod",
    uid,
    gid,
    readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
    tmpfs: [],
    readOnlyBinds: [],
  };
  for (const mount of container.volumeMounts ?? []) {
    if (mount.subPath || mount.subPathExpr)
      throw new Error(`volumeMount ${mount.name}: subPath is not supported`);
    const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} names no volume`);
    if (volume.emptyDir) {
      if (mount.readOnly) throw new Error(`volumeMount ${mount.name}: a read-only emptyDir is not supported`);
      spec.tmpfs.push({ path: mount.mountPath, sizeBytes: quantity(volume.emptyDir.sizeLimit ?? "256Mi") });
    } else if (volume.projected) {
      const source = join(options.volumeDir, volume.name);
      await project(cp, pod, volume, source);
      spec.readOnlyBinds.push({ source, path: mount.mountPath });
    } else {
      throw new Error(`volume ${volume.name}: only emptyDir and projected volumes are supported`);
    }
  }
  return spec;
}

function containerEnv(pod: V1Pod, container: V1Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = podField(pod, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom) throw new Error(`env ${e.name}: only values and fieldRef are supported`);
    else env[e.name] = "";
  }
  return env;
}

function podField(pod: V1Pod, fieldPath: string): string {
  const fields: Record<string, string | undefined> = {
    "metadata.name": pod.metadata?.name,
    "metadata.namespace": pod.metadata?.namespace,
    "metadata.uid": pod.metadata?.uid,
    "spec.serviceAccountName": pod.spec?.serviceAccountName,
    // No pod network: the pod's address is this machine's loopback.
    "status.podIP": "127.0.0.1",
    "status.hostIP": "127.0.0.1",
  };
  const value = fields[fieldPath];
  if (value === undefined) throw new Error(`fieldRef ${fieldPath} is not supported`);
  return value;
}

/** Writes a projected volume's files as a kubelet does: token, ConfigMap keys, downward API. */
async function project(cp: ControlPlane, pod: V1Pod, volume: V1Volume, dir: string): Promise<void> {
  const namespace = pod.metadata?.namespace ?? "default";
  const files = new Map<string, string>();
  for (const source of volume.projected?.sources ?? []) {
    if (source.serviceAccountToken) {
      const t = source.serviceAccountToken;
      const args = [
        "create",
        "token",
        pod.spec?.serviceAccountName ?? "default",
        "-n",
        namespace,
        "--bound-object-kind=Pod",
        `--bound-object-name=${pod.metadata?.name}`,
        `--bound-object-uid=${pod.metadata?.uid}`,
        `--duration=${t.expirationSeconds ?? 3607}s`,
        ...(t.audience ? [`--audience=${t.audience}`] : []),
      ];
      files.set(t.path, (await mustKubectl(cp, args)).trim());
    } else if (source.configMap) {
      const name = source.configMap.name ?? "";
      const cm = JSON.parse(
        await mustKubectl(cp, ["get", "configmap", name, "-n", namespace, "-o", "json"]),
      ) as {
        data?: Record<string, string>;
      };
      for (const item of source.configMap.items ?? []) {
        const value = cm.data?.[item.key];
        if (value === undefined) throw new Error(`configmap ${name} has no key ${item.key}`);
        files.set(item.path, value);
      }
    } else if (source.downwardAPI) {
      for (const item of source.downwardAPI.items ?? []) {
        if (!item.fieldRef) throw new Error(`downwardAPI ${item.path}: only fieldRef is supported`);
        files.set(item.path, podField(pod, item.fieldRef.fieldPath));
      }
    } else {
      throw new Error(
        `projected volume ${volume.name}: only serviceAccountToken, configMap and downwardAPI sources are supported`,
      );
    }
  }
  // Readable by the container's user, like the kubelet's default mode 0644.
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  for (const [path, content] of files) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, content, { mode: 0o644 });
  }
}

async function mustKubectl(cp: ControlPlane, args: string[]): Promise<string> {
  const r = await kubectl(cp, args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** A Kubernetes quantity in bytes (plain numbers and the binary and decimal suffixes). */
export function quantity(value: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(value);
  if (!match) throw new Error(`quantity "${value}" is not supported`);
  const units: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(match[1]) * (match[2] ? (units[match[2]] ?? 1) : 1);
}
