// The chart's integrated registry run for tests: the registry configuration and notification
// secret the chart renders, its image-puller/pusher/builder ClusterRoles applied to the real
// API server, the operator (in process) serving the token realm and the notification endpoint,
// and a real distribution registry configured by the chart's sections with the operator's
// published rootcertbundle. Shared by the push tests and the push benchmark.

import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, type KubernetesObject, KubernetesObjectApi } from "@kubernetes/client-node";
import type { Operator } from "../../src/operator/index.ts";
import {
  type ChartRegistry,
  type ControlPlane,
  chartRegistry,
  eventually,
  freePort,
  type RegistryConnection,
} from "../harness/index.ts";
import { type LaunchedRegistry, launchConfiguredRegistry } from "../harness/registry.ts";
import { startInProcessOperator } from "./in-process-operator.ts";

type Json = Record<string, unknown>;
const nameOf = (doc: Json) => (doc.metadata as { name?: string } | undefined)?.name ?? "";

export interface IntegratedRegistryRig {
  registry: LaunchedRegistry;
  operator: Operator;
  /** The namespace holding the signing Secret and the CA ConfigMap. */
  opsNamespace: string;
  /** The chart's ClusterRole names: image-puller, image-pusher, image-builder. */
  roles: { puller: string; pusher: string; builder: string };
  hooksUrl: string;
  /** The shared secret the registry sends with its notifications (`Authorization: Bearer <it>`). */
  notificationToken: string;
  /** The registry as a client logged in with `token` sees it (user name ignored). */
  as(token: string): RegistryConnection;
  /** Restarts the operator with the same settings (e.g. after stopOperator). */
  startOperator(): Promise<Operator>;
  stopOperator(): Promise<void>;
  /** Stops the registry (its in-memory notification queue is lost) and starts it again with its images. */
  restartRegistry(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The operator's settings for an integrated registry on loopback as the chart configures it:
 * hooks listener, registry URL, signing Secret and CA ConfigMap in `opsNamespace`, the
 * notification secret read from `tokenFile`, and the chart's issuer and service.
 */
export function integratedRegistryFlags(o: {
  chart: ChartRegistry;
  hooksPort: number;
  registryPort: number;
  opsNamespace: string;
  tokenFile: string;
}): string[] {
  return [
    `--hooks-address=127.0.0.1:${o.hooksPort}`,
    `--integrated-registry-url=http://127.0.0.1:${o.registryPort}`,
    `--registry-token-signing-secret=${o.opsNamespace}/registry-token-key`,
    `--registry-token-ca-configmap=${o.opsNamespace}/registry-token-ca`,
    `--registry-notifications-token-file=${o.tokenFile}`,
    `--registry-token-issuer=${o.chart.token.issuer}`,
    `--registry-token-service=${o.chart.token.service}`,
  ];
}

export async function startIntegratedRegistry(
  cp: Pick<ControlPlane, "kubeConfig" | "connection">,
  options: { opsNamespace: string; extraFlags?: string[]; publicRegistry?: string },
): Promise<IntegratedRegistryRig> {
  const release = `push-${randomUUID().slice(0, 6)}`;
  const [hooksPort, registryPort] = [await freePort(), await freePort()];
  const hooksUrl = `http://127.0.0.1:${hooksPort}`;
  const chart = chartRegistry(release, hooksUrl);
  const work = await mkdtemp(join(tmpdir(), "isop-integrated-registry-"));
  const tokenFile = join(work, "notifications-token");
  await writeFile(tokenFile, chart.notificationToken);

  // The chart's roles in the real API server.
  const objects = cp.kubeConfig.makeApiClient(KubernetesObjectApi);
  const roleDocs = chart.roles;
  for (const role of roleDocs) await objects.create(role as unknown as KubernetesObject);
  const roleName = (suffix: string) => roleDocs.map(nameOf).find((n) => n.endsWith(suffix)) ?? "";

  const ops = options.opsNamespace;
  const flags = [
    ...integratedRegistryFlags({ chart, hooksPort, registryPort, opsNamespace: ops, tokenFile }),
    ...(options.publicRegistry ? [`--public-registry=${options.publicRegistry}`] : []),
    ...(options.extraFlags ?? []),
  ];
  let operator = await startInProcessOperator(cp, flags);
  // The operator created its signing keys and published the bundle the registry trusts.
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const bundle = await eventually(async () => {
    const cm = await core
      .readNamespacedConfigMap({ namespace: ops, name: "registry-token-ca" })
      .catch(() => undefined);
    return cm?.data?.["ca.crt"] || undefined;
  }, "the operator's published rootcertbundle");

  const registryDir = join(work, "registry");
  const launch = () =>
    launchConfiguredRegistry({
      variant: "plain",
      port: registryPort,
      dir: registryDir,
      configure: async (file) => chart.sections(hooksUrl, await file("token-ca.crt", bundle)),
    });
  let registry = await launch();
  const rig: IntegratedRegistryRig = {
    get registry() {
      return registry;
    },
    get operator() {
      return operator;
    },
    opsNamespace: ops,
    roles: {
      puller: roleName("-image-puller"),
      pusher: roleName("-image-pusher"),
      builder: roleName("-image-builder"),
    },
    hooksUrl,
    notificationToken: chart.notificationToken,
    as: (token) => ({
      variant: "plain",
      host: registry.host,
      url: registry.url,
      username: "ci",
      password: token,
    }),
    async startOperator() {
      operator = await startInProcessOperator(cp, flags);
      return operator;
    },
    stopOperator: () => operator.stop(),
    async restartRegistry() {
      await registry.stop();
      registry = await launch();
    },
    async stop() {
      await operator.stop();
      await registry.stop();
      await rm(work, { recursive: true, force: true });
      for (const role of roleDocs) {
        await objects.delete(role as unknown as KubernetesObject).catch(() => undefined);
      }
    },
  };
  return rig;
}
