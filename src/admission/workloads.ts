// The kinds whose pod specs image lookup resolves, and where their pod spec and pod template
// metadata live. The trigger controller keeps a similar table (src/triggers/kinds.ts, without
// ReplicationController); the two are meant to become one kind table in the runtime, so the
// fields here are named for that merge: kind, group, version, plural, pod spec path.

export type ContainerListName = "containers" | "initContainers" | "ephemeralContainers";

export interface PodTemplateKind {
  readonly kind: string;
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** Object keys leading to the pod spec, e.g. ["spec", "template", "spec"]. */
  readonly podSpecPath: readonly string[];
  /** Object keys leading to the pod template's metadata; undefined for a Pod (its own metadata). */
  readonly templateMetadataPath: readonly string[] | undefined;
  /** A Job's pod template cannot change after creation: an UPDATE is never rewritten (as OpenShift). */
  readonly podTemplateImmutable: boolean;
}

function podTemplateKind(
  kind: string,
  apiVersion: string,
  plural: string,
  podSpecPath: string,
  podTemplateImmutable = false,
): PodTemplateKind {
  const slash = apiVersion.indexOf("/");
  const path = Object.freeze(podSpecPath.split("."));
  return Object.freeze({
    kind,
    group: slash === -1 ? "" : apiVersion.slice(0, slash),
    version: slash === -1 ? apiVersion : apiVersion.slice(slash + 1),
    plural,
    podSpecPath: path,
    // The pod template's metadata sits beside its spec: `<...>.template.metadata`.
    templateMetadataPath: path.length > 1 ? Object.freeze([...path.slice(0, -1), "metadata"]) : undefined,
    podTemplateImmutable,
  });
}

const TEMPLATE_SPEC = "spec.template.spec";

export const POD_TEMPLATE_KINDS: readonly PodTemplateKind[] = Object.freeze([
  podTemplateKind("Pod", "v1", "pods", "spec"),
  podTemplateKind("ReplicationController", "v1", "replicationcontrollers", TEMPLATE_SPEC),
  podTemplateKind("Deployment", "apps/v1", "deployments", TEMPLATE_SPEC),
  podTemplateKind("StatefulSet", "apps/v1", "statefulsets", TEMPLATE_SPEC),
  podTemplateKind("DaemonSet", "apps/v1", "daemonsets", TEMPLATE_SPEC),
  podTemplateKind("ReplicaSet", "apps/v1", "replicasets", TEMPLATE_SPEC),
  podTemplateKind("Job", "batch/v1", "jobs", TEMPLATE_SPEC, true),
  podTemplateKind("CronJob", "batch/v1", "cronjobs", "spec.jobTemplate.spec.template.spec"),
]);

/** The kind of an admission request's object (`request.kind`), if image lookup covers it. */
export function podTemplateKindOf(gvk: {
  group: string;
  version: string;
  kind: string;
}): PodTemplateKind | undefined {
  return POD_TEMPLATE_KINDS.find(
    (k) => k.group === gvk.group && k.version === gvk.version && k.kind === gvk.kind,
  );
}

/**
 * The container lists a request may change: a Pod's `ephemeralcontainers` subresource changes
 * only ephemeral containers; the main resource changes containers and init containers
 * (ephemeral containers are immutable there). Other subresources (status, scale) carry no images.
 */
export function containerListsFor(kind: PodTemplateKind, subResource: string): readonly ContainerListName[] {
  if (subResource === "") return ["containers", "initContainers"];
  if (subResource === "ephemeralcontainers" && kind.kind === "Pod") return ["ephemeralContainers"];
  return [];
}
