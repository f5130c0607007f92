// The pod-template workload kinds the trigger controller understands (design.md section 3), in
// one table. A row is all a new kind needs: the controller's informers, reads and patches go
// through the generic object API addressed by the row; the plugin's kind aliases come from it;
// the chart's trigger RBAC is generated from it (scripts/gen-crds.ts, drift-checked by npm test).

const TEMPLATE_SPEC = "spec.template.spec";

/** One row: what a kind is called, where it lives in the API, where its pod spec is. */
interface WorkloadKindRow {
  readonly kind: string;
  readonly apiVersion: string;
  readonly plural: string;
  /** kubectl's short names, accepted by `kubectl imagestream set-triggers` (with singular and plural). */
  readonly shortNames: readonly string[];
  /** Path of the pod spec inside the object, as the trigger `fieldPath` spells it. */
  readonly podSpecFieldPath: string;
  /**
   * A Job's pod template cannot be changed after creation (the API server rejects it), so a
   * trigger that would change it is reported once instead of being retried forever.
   */
  readonly podTemplateImmutable?: boolean;
}

const ROWS = [
  {
    kind: "Deployment",
    apiVersion: "apps/v1",
    plural: "deployments",
    shortNames: ["deploy"],
    podSpecFieldPath: TEMPLATE_SPEC,
  },
  {
    kind: "StatefulSet",
    apiVersion: "apps/v1",
    plural: "statefulsets",
    shortNames: ["sts"],
    podSpecFieldPath: TEMPLATE_SPEC,
  },
  {
    kind: "DaemonSet",
    apiVersion: "apps/v1",
    plural: "daemonsets",
    shortNames: ["ds"],
    podSpecFieldPath: TEMPLATE_SPEC,
  },
  {
    kind: "ReplicaSet",
    apiVersion: "apps/v1",
    plural: "replicasets",
    shortNames: ["rs"],
    podSpecFieldPath: TEMPLATE_SPEC,
  },
  {
    kind: "CronJob",
    apiVersion: "batch/v1",
    plural: "cronjobs",
    shortNames: ["cj"],
    podSpecFieldPath: "spec.jobTemplate.spec.template.spec",
  },
  {
    kind: "Job",
    apiVersion: "batch/v1",
    plural: "jobs",
    shortNames: [],
    podSpecFieldPath: TEMPLATE_SPEC,
    podTemplateImmutable: true,
  },
  // A Pod's container and init container images are mutable in place.
  { kind: "Pod", apiVersion: "v1", plural: "pods", shortNames: ["po"], podSpecFieldPath: "spec" },
] as const satisfies readonly WorkloadKindRow[];

export type WorkloadKind = (typeof ROWS)[number]["kind"];

export interface WorkloadKindInfo {
  readonly kind: WorkloadKind;
  readonly apiVersion: string;
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** The names `kubectl imagestream set-triggers KIND/NAME` accepts: singular, plural, short names. */
  readonly aliases: readonly string[];
  /** Path of the pod spec inside the object, as the trigger `fieldPath` spells it. */
  readonly podSpecFieldPath: string;
  /** The same path as object keys, for walking the object and building JSON pointers. */
  readonly podSpecPath: readonly string[];
  /** The pod template cannot change after creation (Jobs): reported once, never retried. */
  readonly podTemplateImmutable: boolean;
}

function kindInfo(row: (typeof ROWS)[number]): WorkloadKindInfo {
  const slash = row.apiVersion.indexOf("/");
  return Object.freeze({
    kind: row.kind,
    apiVersion: row.apiVersion,
    group: slash === -1 ? "" : row.apiVersion.slice(0, slash),
    version: slash === -1 ? row.apiVersion : row.apiVersion.slice(slash + 1),
    plural: row.plural,
    aliases: Object.freeze([row.kind.toLowerCase(), row.plural, ...row.shortNames]),
    podSpecFieldPath: row.podSpecFieldPath,
    podSpecPath: Object.freeze(row.podSpecFieldPath.split(".")),
    podTemplateImmutable: "podTemplateImmutable" in row && row.podTemplateImmutable === true,
  });
}

export const WORKLOAD_KINDS: readonly WorkloadKindInfo[] = Object.freeze(ROWS.map(kindInfo));

const BY_KIND = new Map<string, WorkloadKindInfo>(WORKLOAD_KINDS.map((info) => [info.kind, info]));
const BY_ALIAS = new Map<string, WorkloadKindInfo>(
  WORKLOAD_KINDS.flatMap((info) => info.aliases.map((alias) => [alias, info] as const)),
);

export function workloadKindInfo(kind: WorkloadKind): WorkloadKindInfo;
export function workloadKindInfo(kind: string): WorkloadKindInfo | undefined;
export function workloadKindInfo(kind: string): WorkloadKindInfo | undefined {
  return BY_KIND.get(kind);
}

/** The kind a user named (`deploy`, `deployments`, `Deployment`; any case), if it is one. */
export function workloadKindByAlias(name: string): WorkloadKindInfo | undefined {
  return BY_ALIAS.get(name.toLowerCase());
}

export function isWorkloadKind(kind: unknown): kind is WorkloadKind {
  return typeof kind === "string" && BY_KIND.has(kind);
}
