// The pod-template workload kinds, in one table: the image trigger controller (src/triggers) and
// image lookup at admission (src/admission) both read it, each through its flag. A row is all a
// new kind needs: informers, reads and patches go through the generic object API addressed by
// the row; the plugin's kind aliases come from it; the chart's trigger RBAC and the image-lookup
// webhook rules are generated from it (scripts/gen-crds.ts, drift-checked by npm test).

const TEMPLATE_SPEC = "spec.template.spec";

/** One row: what a kind is called, where it lives in the API, where its pod spec is, who uses it. */
interface PodTemplateKindRow {
  readonly kind: string;
  readonly apiVersion: string;
  readonly plural: string;
  /** kubectl's short names, accepted by the plugin's KIND/NAME arguments (with singular and plural). */
  readonly shortNames: readonly string[];
  /** Path of the pod spec inside the object, as the trigger `fieldPath` spells it. */
  readonly podSpecFieldPath: string;
  /**
   * A Job's pod template cannot be changed after creation (the API server rejects it): a trigger
   * that would change it is reported once, and image lookup never rewrites a Job's UPDATE.
   */
  readonly podTemplateImmutable?: boolean;
  /** The image trigger controller follows `image.openshift.io/triggers` on this kind. */
  readonly triggers: boolean;
  /** Image lookup resolves this kind's container images at admission (CREATE and UPDATE). */
  readonly imageLookup: boolean;
}

const ROWS = [
  {
    kind: "Deployment",
    apiVersion: "apps/v1",
    plural: "deployments",
    shortNames: ["deploy"],
    podSpecFieldPath: TEMPLATE_SPEC,
    triggers: true,
    imageLookup: true,
  },
  {
    kind: "StatefulSet",
    apiVersion: "apps/v1",
    plural: "statefulsets",
    shortNames: ["sts"],
    podSpecFieldPath: TEMPLATE_SPEC,
    triggers: true,
    imageLookup: true,
  },
  {
    kind: "DaemonSet",
    apiVersion: "apps/v1",
    plural: "daemonsets",
    shortNames: ["ds"],
    podSpecFieldPath: TEMPLATE_SPEC,
    triggers: true,
    imageLookup: true,
  },
  {
    kind: "ReplicaSet",
    apiVersion: "apps/v1",
    plural: "replicasets",
    shortNames: ["rs"],
    podSpecFieldPath: TEMPLATE_SPEC,
    triggers: true,
    imageLookup: true,
  },
  {
    kind: "CronJob",
    apiVersion: "batch/v1",
    plural: "cronjobs",
    shortNames: ["cj"],
    podSpecFieldPath: "spec.jobTemplate.spec.template.spec",
    triggers: true,
    imageLookup: true,
  },
  {
    kind: "Job",
    apiVersion: "batch/v1",
    plural: "jobs",
    shortNames: [],
    podSpecFieldPath: TEMPLATE_SPEC,
    podTemplateImmutable: true,
    triggers: true,
    imageLookup: true,
  },
  // A Pod's container and init container images are mutable in place.
  {
    kind: "Pod",
    apiVersion: "v1",
    plural: "pods",
    shortNames: ["po"],
    podSpecFieldPath: "spec",
    triggers: true,
    imageLookup: true,
  },
  // OpenShift's trigger controller leaves ReplicationControllers alone; its image policy resolves them.
  {
    kind: "ReplicationController",
    apiVersion: "v1",
    plural: "replicationcontrollers",
    shortNames: ["rc"],
    podSpecFieldPath: TEMPLATE_SPEC,
    triggers: false,
    imageLookup: true,
  },
] as const satisfies readonly PodTemplateKindRow[];

type Row = (typeof ROWS)[number];
/** Every kind of the table. */
export type PodTemplateKindName = Row["kind"];
/** The kinds the trigger controller follows. */
export type TriggerKindName = Extract<Row, { triggers: true }>["kind"];

export interface PodTemplateKind<K extends string = PodTemplateKindName> {
  readonly kind: K;
  readonly apiVersion: string;
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** The names the plugin's KIND/NAME accepts: singular, plural, short names. */
  readonly aliases: readonly string[];
  /** Path of the pod spec inside the object, as the trigger `fieldPath` spells it. */
  readonly podSpecFieldPath: string;
  /** The same path as object keys, for walking the object and building JSON pointers. */
  readonly podSpecPath: readonly string[];
  /** Keys of the pod template's metadata (`<...>.template.metadata`); undefined for a Pod (its own). */
  readonly templateMetadataPath: readonly string[] | undefined;
  /** The pod template cannot change after creation (Jobs). */
  readonly podTemplateImmutable: boolean;
  readonly triggers: boolean;
  readonly imageLookup: boolean;
}

function kindOf(row: Row): PodTemplateKind {
  const slash = row.apiVersion.indexOf("/");
  const podSpecPath = Object.freeze(row.podSpecFieldPath.split("."));
  return Object.freeze({
    kind: row.kind,
    apiVersion: row.apiVersion,
    group: slash === -1 ? "" : row.apiVersion.slice(0, slash),
    version: slash === -1 ? row.apiVersion : row.apiVersion.slice(slash + 1),
    plural: row.plural,
    aliases: Object.freeze([row.kind.toLowerCase(), row.plural, ...row.shortNames]),
    podSpecFieldPath: row.podSpecFieldPath,
    podSpecPath,
    // The pod template's metadata sits beside its spec.
    templateMetadataPath:
      podSpecPath.length > 1 ? Object.freeze([...podSpecPath.slice(0, -1), "metadata"]) : undefined,
    podTemplateImmutable: "podTemplateImmutable" in row && row.podTemplateImmutable === true,
    triggers: row.triggers,
    imageLookup: row.imageLookup,
  });
}

/** Every pod-template kind, in the table's order. */
export const POD_TEMPLATE_KINDS: readonly PodTemplateKind[] = Object.freeze(ROWS.map(kindOf));

/** The kinds image lookup resolves (the webhook's rules, the plugin's `set image-lookup KIND/NAME`). */
export const IMAGE_LOOKUP_KINDS: readonly PodTemplateKind[] = Object.freeze(
  POD_TEMPLATE_KINDS.filter((k) => k.imageLookup),
);

/**
 * OpenShift's annotation on a pod template's metadata (or a Pod's own): `"*"` lets the object
 * name every image stream of its namespace as an image, whatever the stream's lookupPolicy.
 */
export const RESOLVE_NAMES_ANNOTATION = "alpha.image.policy.openshift.io/resolve-names";

const BY_KIND = new Map<string, PodTemplateKind>(POD_TEMPLATE_KINDS.map((k) => [k.kind, k]));

export function podTemplateKind(kind: PodTemplateKindName): PodTemplateKind;
export function podTemplateKind(kind: string): PodTemplateKind | undefined;
export function podTemplateKind(kind: string): PodTemplateKind | undefined {
  return BY_KIND.get(kind);
}

/** The kinds of `kinds` a user may name as `alias` (`deploy`, `deployments`, `Deployment`; any case). */
export function podTemplateKindByAlias<K extends PodTemplateKind<string>>(
  kinds: readonly K[],
  alias: string,
): K | undefined {
  const name = alias.toLowerCase();
  return kinds.find((k) => k.aliases.includes(name));
}

/** The kind of an admission request's object (`request.kind`), among `kinds`. */
export function podTemplateKindOfGvk<K extends PodTemplateKind<string>>(
  kinds: readonly K[],
  gvk: { group: string; version: string; kind: string },
): K | undefined {
  return kinds.find((k) => k.group === gvk.group && k.version === gvk.version && k.kind === gvk.kind);
}
