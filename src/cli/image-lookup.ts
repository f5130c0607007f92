// `kubectl imagestream set image-lookup`: the pure part. `oc set image-lookup` for what it cannot
// do here (a stream: oc sends a strategic-merge patch, which CRDs refuse) and what it does: a
// stream's spec.lookupPolicy.local, or a workload's pod template annotation
// alpha.image.policy.openshift.io/resolve-names, both as merge patches; and the listing.
import {
  IMAGE_LOOKUP_KINDS,
  type ImageStream,
  isRecord,
  type PodTemplateKind,
  podTemplateKindByAlias,
  RESOLVE_NAMES_ANNOTATION,
  validateStreamName,
} from "../api/index.ts";
import { parseCommandLine } from "./args.ts";
import { UsageError } from "./errors.ts";

export const IMAGE_LOOKUP_HELP = `Let workloads name image streams of their namespace as images (like "oc set image-lookup").

Usage:
  kubectl imagestream set image-lookup                         list the streams and their lookup policy
  kubectl imagestream set image-lookup STREAM... [--enabled=false]
  kubectl imagestream set image-lookup --all [--enabled=false]  every stream of the namespace
  kubectl imagestream set image-lookup KIND/NAME... [--enabled=false]

A STREAM gets spec.lookupPolicy.local: containers of its namespace may then use "STREAM:TAG"
(or "STREAM", its latest) as an image, resolved at admission to the tag's image. A KIND/NAME
(deployment, statefulset, daemonset, replicaset, replicationcontroller, job, cronjob, pod and
their short names) gets the annotation ${RESOLVE_NAMES_ANNOTATION}: "*" on its pod template:
it may use every stream of its namespace that way.

Flags:
      --enabled=true|false   turn lookup on (default) or off
      --all                  every image stream of the namespace
  -n, --namespace=NS         namespace (default: the kubeconfig context's)
      --kubeconfig=PATH      kubeconfig file
  -h, --help                 this help
`;

export type LookupTarget =
  | { type: "stream"; name: string }
  | { type: "workload"; kind: PodTemplateKind; name: string };

export interface ImageLookupOptions {
  /** "list": print the streams; "set": change the targets (or every stream with `all`). */
  action: "list" | "set";
  targets: LookupTarget[];
  all: boolean;
  enabled: boolean;
  namespace: string | undefined;
  kubeconfig: string | undefined;
}

function parseTarget(value: string): LookupTarget {
  const slash = value.indexOf("/");
  if (slash < 0) {
    const problem = validateStreamName(value);
    if (problem) throw new UsageError(problem);
    return { type: "stream", name: value };
  }
  const rawKind = value.slice(0, slash);
  const name = value.slice(slash + 1);
  const kind = podTemplateKindByAlias(IMAGE_LOOKUP_KINDS, rawKind.split(".")[0] ?? "");
  if (!kind || name === "" || name.includes("/")) {
    const known = IMAGE_LOOKUP_KINDS.map((k) => k.kind.toLowerCase()).join(", ");
    throw new UsageError(`"${value}" is not STREAM or KIND/NAME with a pod template kind (${known})`);
  }
  return { type: "workload", kind, name };
}

export function parseImageLookupArgs(argv: readonly string[]): ImageLookupOptions | "help" {
  const { values, positionals } = parseCommandLine("set image-lookup", argv, {
    enabled: { type: "string" },
    all: { type: "boolean" },
  });
  if (values.help) return "help";
  const raw = values.enabled ?? "true";
  if (raw !== "true" && raw !== "false") throw new UsageError(`--enabled: "${raw}" is not true or false`);
  const targets = positionals.map(parseTarget);
  const all = values.all === true;
  if (all && targets.length > 0) throw new UsageError("set image-lookup: --all takes no STREAM or KIND/NAME");
  const action = targets.length === 0 && !all ? "list" : "set";
  if (action === "list" && values.enabled !== undefined) {
    throw new UsageError("set image-lookup: --enabled needs a STREAM, KIND/NAME or --all");
  }
  return {
    action,
    targets,
    all,
    enabled: raw === "true",
    namespace: values.namespace,
    kubeconfig: values.kubeconfig,
  };
}

/** Merge patch of a stream's lookup policy. */
export function streamLookupPatch(enabled: boolean): Record<string, unknown> {
  return { spec: { lookupPolicy: { local: enabled } } };
}

/** Merge patch of a workload's pod template annotation (a Pod's own); null removes it. */
export function workloadLookupPatch(kind: PodTemplateKind, enabled: boolean): Record<string, unknown> {
  const path = kind.templateMetadataPath ?? ["metadata"];
  let patch: Record<string, unknown> = { annotations: { [RESOLVE_NAMES_ANNOTATION]: enabled ? "*" : null } };
  for (const key of [...path].reverse()) patch = { [key]: patch };
  return patch;
}

/** Whether a workload already resolves every stream of its namespace. */
export function resolvesNames(kind: PodTemplateKind, workload: unknown): boolean {
  let node: unknown = workload;
  for (const key of [...(kind.templateMetadataPath ?? ["metadata"]), "annotations"]) {
    node = isRecord(node) ? node[key] : undefined;
  }
  return isRecord(node) && node[RESOLVE_NAMES_ANNOTATION] === "*";
}

/** The listing: NAME and LOCAL (the stream's lookupPolicy.local), by name. */
export function lookupRows(streams: readonly ImageStream[]): string[][] {
  return [...streams]
    .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))
    .map((s) => [s.metadata.name ?? "", String(s.spec?.lookupPolicy?.local === true)]);
}
