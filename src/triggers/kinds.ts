// The pod-template workload kinds the trigger controller understands (design.md section 3).

export type WorkloadKind =
  | "Deployment"
  | "StatefulSet"
  | "DaemonSet"
  | "ReplicaSet"
  | "CronJob"
  | "Job"
  | "Pod";

export interface WorkloadKindInfo {
  readonly kind: WorkloadKind;
  readonly apiVersion: string;
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** Path of the pod spec inside the object, as the trigger `fieldPath` spells it. */
  readonly podSpecFieldPath: string;
  /** The same path as object keys, for walking the object and building JSON pointers. */
  readonly podSpecPath: readonly string[];
  /**
   * A Job's pod template cannot be changed after creation (the API server rejects it), so a
   * trigger that would change it is reported once instead of being retried forever.
   */
  readonly podTemplateImmutable: boolean;
}

function kindInfo(
  kind: WorkloadKind,
  apiVersion: string,
  plural: string,
  podSpecFieldPath: string,
  podTemplateImmutable = false,
): WorkloadKindInfo {
  const slash = apiVersion.indexOf("/");
  return Object.freeze({
    kind,
    apiVersion,
    group: slash === -1 ? "" : apiVersion.slice(0, slash),
    version: slash === -1 ? apiVersion : apiVersion.slice(slash + 1),
    plural,
    podSpecFieldPath,
    podSpecPath: Object.freeze(podSpecFieldPath.split(".")),
    podTemplateImmutable,
  });
}

const TEMPLATE_SPEC = "spec.template.spec";

export const WORKLOAD_KINDS: readonly WorkloadKindInfo[] = Object.freeze([
  kindInfo("Deployment", "apps/v1", "deployments", TEMPLATE_SPEC),
  kindInfo("StatefulSet", "apps/v1", "statefulsets", TEMPLATE_SPEC),
  kindInfo("DaemonSet", "apps/v1", "daemonsets", TEMPLATE_SPEC),
  kindInfo("ReplicaSet", "apps/v1", "replicasets", TEMPLATE_SPEC),
  kindInfo("CronJob", "batch/v1", "cronjobs", "spec.jobTemplate.spec.template.spec"),
  kindInfo("Job", "batch/v1", "jobs", TEMPLATE_SPEC, true),
  // A Pod's container and init container images are mutable in place.
  kindInfo("Pod", "v1", "pods", "spec"),
]);

const BY_KIND = new Map<string, WorkloadKindInfo>(WORKLOAD_KINDS.map((info) => [info.kind, info]));

export function workloadKindInfo(kind: WorkloadKind): WorkloadKindInfo;
export function workloadKindInfo(kind: string): WorkloadKindInfo | undefined;
export function workloadKindInfo(kind: string): WorkloadKindInfo | undefined {
  return BY_KIND.get(kind);
}

export function isWorkloadKind(kind: unknown): kind is WorkloadKind {
  return typeof kind === "string" && BY_KIND.has(kind);
}
