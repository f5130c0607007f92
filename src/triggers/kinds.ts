// The workload kinds the trigger controller follows: the rows of the one pod-template kind table
// (src/api/workloads.ts) with the `triggers` flag. The controller's informers, reads and patches,
// its `fieldPath` rules, the plugin's set-triggers aliases and the chart's trigger RBAC
// (scripts/gen-crds.ts) all come from this view.
import {
  POD_TEMPLATE_KINDS,
  type PodTemplateKind,
  podTemplateKindByAlias,
  type TriggerKindName,
} from "../api/index.ts";

export type WorkloadKind = TriggerKindName;

export type WorkloadKindInfo = PodTemplateKind<WorkloadKind>;

export const WORKLOAD_KINDS: readonly WorkloadKindInfo[] = Object.freeze(
  POD_TEMPLATE_KINDS.filter((info): info is WorkloadKindInfo => info.triggers),
);

const BY_KIND = new Map<string, WorkloadKindInfo>(WORKLOAD_KINDS.map((info) => [info.kind, info]));

export function workloadKindInfo(kind: WorkloadKind): WorkloadKindInfo;
export function workloadKindInfo(kind: string): WorkloadKindInfo | undefined;
export function workloadKindInfo(kind: string): WorkloadKindInfo | undefined {
  return BY_KIND.get(kind);
}

/** The kind a user named (`deploy`, `deployments`, `Deployment`; any case), if triggers follow it. */
export function workloadKindByAlias(name: string): WorkloadKindInfo | undefined {
  return podTemplateKindByAlias(WORKLOAD_KINDS, name);
}

export function isWorkloadKind(kind: unknown): kind is WorkloadKind {
  return typeof kind === "string" && BY_KIND.has(kind);
}
