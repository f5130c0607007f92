// The operator with its admission webhooks, in the test process, against the shared control
// plane: kube-apiserver calls it on loopback through the url clientConfig of the
// MutatingWebhookConfiguration the operator writes (as after `npm run cluster:up`). Each test
// file gets its own configuration, limited to its own namespaces, and removes it afterwards, so
// other files never meet the webhooks.
import { randomBytes } from "node:crypto";
import { AdmissionregistrationV1Api, CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import type { Operator, OperatorDeps } from "../../src/operator/index.ts";
import { connectKube, type KubeConnection, resolveKubeConfig } from "../../src/runtime/index.ts";
import { type ControlPlane, createNamespace, eventually, freePort } from "../harness/index.ts";
import { startInProcessOperator } from "./in-process-operator.ts";

export interface AdmissionOperator {
  operator: Operator;
  /** The namespace of the operator's certificate Secret (excluded from the webhooks). */
  operatorNamespace: string;
  secretName: string;
  configurationName: string;
  port: number;
  flags: string[];
  /** Stops the operator; the configuration stays (the operator-down tests need it). */
  stop(): Promise<void>;
  /** Stops the operator and removes its webhook configuration. */
  remove(): Promise<void>;
}

export async function startAdmissionOperator(
  cp: ControlPlane,
  namespaces: string[],
  options: {
    flags?: string[];
    deps?: Partial<Omit<OperatorDeps, "kc" | "config">>;
    operatorNamespace?: string;
    configurationName?: string;
  } = {},
): Promise<AdmissionOperator> {
  const operatorNamespace = options.operatorNamespace ?? (await createNamespace(cp, "admission-op"));
  const port = await freePort();
  const configurationName = options.configurationName ?? `imagestream-test-${randomBytes(4).toString("hex")}`;
  const secretName = "imagestream-admission";
  const flags = [
    `--namespaces=${namespaces.join(",")}`,
    `--admission-address=127.0.0.1:${port}`,
    `--admission-url=https://127.0.0.1:${port}`,
    `--admission-certificate-secret=${operatorNamespace}/${secretName}`,
    `--admission-webhook-configuration=${configurationName}`,
    ...(options.flags ?? []),
  ];
  const operator = await startInProcessOperator(cp, flags, options.deps);
  const admission = cp.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  // Registered once the configuration carries the operator's CA.
  await eventually(async () => {
    const configuration = await admission.readMutatingWebhookConfiguration({ name: configurationName });
    return configuration.webhooks?.every((w) => (w.clientConfig.caBundle ?? "") !== "") ? true : undefined;
  }, `webhook configuration ${configurationName} with a caBundle`);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await operator.stop();
  };
  return {
    operator,
    operatorNamespace,
    secretName,
    configurationName,
    port,
    flags,
    stop,
    async remove() {
      await stop();
      await admission.deleteMutatingWebhookConfiguration({ name: configurationName }).catch(() => undefined);
    },
  };
}

/** A connection acting as a new ServiceAccount of `namespace` bound to `rules` there (a user who is not admin). */
export async function restrictedUser(
  cp: ControlPlane,
  namespace: string,
  name: string,
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[],
): Promise<{ connection: KubeConnection; username: string }> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { expirationSeconds: 3600 } },
  });
  // The admin kubeconfig's cluster, with the service account's token instead of the admin's certificate.
  const { server, certificateAuthority } = resolveKubeConfig(cp.kubeconfigPath);
  const connection = connectKube({
    server,
    ...(certificateAuthority ? { certificateAuthority } : {}),
    namespace,
    token: token.status?.token ?? "",
  });
  return { connection, username: `system:serviceaccount:${namespace}:${name}` };
}
