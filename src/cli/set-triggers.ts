// `kubectl imagestream set-triggers`: the pure part. Parses KIND/NAME and the flags, edits the
// `image.openshift.io/triggers` annotation (entries it does not touch stay as written) and
// validates the result with the trigger controller's own parser before anything is written.
import { isRecord } from "../api/index.ts";
import {
  type ContainerList,
  canonicalFieldPath,
  type FieldPathTarget,
  parseTriggers,
  TRIGGER_ANNOTATION,
  type Trigger,
  WORKLOAD_KINDS,
  type WorkloadKindInfo,
  type WorkloadObject,
  workloadKindByAlias,
} from "../triggers/index.ts";
import { parseCommandLine, parseStreamTagRef, type StreamTagRef } from "./args.ts";
import { CommandError, UsageError } from "./errors.ts";

export const SET_TRIGGERS_HELP = `Show or edit the image triggers of a workload (like "oc set triggers").

Usage:
  kubectl imagestream set-triggers KIND/NAME                     list the triggers
  kubectl imagestream set-triggers KIND/NAME --from-image=STREAM:TAG [-c CONTAINER] [--init] [--paused|--auto]
  kubectl imagestream set-triggers KIND/NAME --paused|--auto [-c CONTAINER]
  kubectl imagestream set-triggers KIND/NAME --remove [-c CONTAINER] [--from-image=STREAM:TAG]
  kubectl imagestream set-triggers KIND/NAME --remove-all

KIND is deployment, statefulset, daemonset, replicaset, cronjob, job or pod (short names
deploy, sts, ds, rs, cj, po work too). The trigger writes the tag's newest image into the
container whenever the tag changes.

Flags:
      --from-image=[NS/]STREAM:TAG  the ImageStreamTag to follow
  -c, --containers=NAMES         container names, comma separated (default: all containers)
      --init                     select init containers instead of containers
      --paused                   add the trigger paused, or pause the selected triggers
      --auto                     add the trigger active, or resume the selected triggers
      --remove                   remove the triggers of the selected containers / image
      --remove-all               remove the annotation
  -n, --namespace=NS             namespace (default: the kubeconfig context's)
      --kubeconfig=PATH          kubeconfig file
  -h, --help                     this help
`;

export type TriggerEdit =
  | { action: "list" }
  | { action: "set"; from: StreamTagRef; paused: boolean }
  | { action: "pause"; paused: boolean }
  | { action: "remove"; from: StreamTagRef | undefined }
  | { action: "remove-all" };

export interface SetTriggersOptions {
  kind: WorkloadKindInfo;
  name: string;
  /** Undefined: every container of the list. */
  containers: string[] | undefined;
  containerList: ContainerList;
  edit: TriggerEdit;
  namespace: string | undefined;
  kubeconfig: string | undefined;
}

/** `deployment/web`, `deploy/web`, `deployments.apps/web`. */
export function parseWorkloadRef(value: string): { kind: WorkloadKindInfo; name: string } {
  const slash = value.indexOf("/");
  if (slash <= 0 || slash === value.length - 1)
    throw new UsageError(`"${value}" must be KIND/NAME, e.g. deployment/web`);
  const rawKind = value.slice(0, slash).toLowerCase();
  const kind = workloadKindByAlias(rawKind.split(".")[0] ?? "");
  if (kind === undefined) {
    const known = WORKLOAD_KINDS.map((info) => info.kind.toLowerCase()).join(", ");
    throw new UsageError(`"${value.slice(0, slash)}" is not a workload kind with a pod template (${known})`);
  }
  return { kind, name: value.slice(slash + 1) };
}

export function parseSetTriggersArgs(argv: readonly string[]): SetTriggersOptions | "help" {
  const { values, positionals } = parseCommandLine("set-triggers", argv, {
    "from-image": { type: "string" },
    containers: { type: "string", short: "c", multiple: true },
    init: { type: "boolean" },
    paused: { type: "boolean" },
    auto: { type: "boolean" },
    remove: { type: "boolean" },
    "remove-all": { type: "boolean" },
  });
  if (values.help) return "help";
  if (positionals.length !== 1)
    throw new UsageError("set-triggers: exactly one KIND/NAME is required (see --help)");
  const { kind, name } = parseWorkloadRef(positionals[0] ?? "");
  const from = values["from-image"] === undefined ? undefined : parseStreamTagRef(values["from-image"]);
  const containers = values.containers?.flatMap((c) => c.split(",")).map((c) => c.trim());
  if (containers?.some((c) => c === "")) throw new UsageError("set-triggers: -c has an empty container name");
  if (values.paused && values.auto)
    throw new UsageError("set-triggers: --paused and --auto exclude each other");
  const pausing = values.paused === true || values.auto === true;
  let edit: TriggerEdit;
  if (values["remove-all"]) {
    if (values.remove || from || containers || pausing || values.init) {
      throw new UsageError("set-triggers: --remove-all takes no other flags");
    }
    edit = { action: "remove-all" };
  } else if (values.remove) {
    if (pausing) throw new UsageError("set-triggers: --remove and --paused/--auto exclude each other");
    if (!from && !containers)
      throw new UsageError("set-triggers: --remove needs -c CONTAINER and/or --from-image");
    edit = { action: "remove", from };
  } else if (from) {
    edit = { action: "set", from, paused: values.paused === true };
  } else if (pausing) {
    edit = { action: "pause", paused: values.paused === true };
  } else {
    if (containers || values.init)
      throw new UsageError("set-triggers: -c and --init need --from-image, --remove or --paused/--auto");
    edit = { action: "list" };
  }
  return {
    kind,
    name,
    containers,
    containerList: values.init ? "initContainers" : "containers",
    edit,
    namespace: values.namespace,
    kubeconfig: values.kubeconfig,
  };
}

/** Names of the containers of `list` in the workload's pod spec, in order. */
export function containerNames(
  workload: WorkloadObject,
  kind: WorkloadKindInfo,
  list: ContainerList,
): string[] {
  let node: unknown = workload;
  for (const key of kind.podSpecPath) node = isRecord(node) ? node[key] : undefined;
  const containers = isRecord(node) ? node[list] : undefined;
  if (!Array.isArray(containers)) return [];
  return containers.map((c: unknown) => (isRecord(c) && typeof c.name === "string" ? c.name : ""));
}

/** The container a target points at: its name, or undefined when it does not exist. */
function targetContainer(
  target: FieldPathTarget,
  workload: WorkloadObject,
  kind: WorkloadKindInfo,
): string | undefined {
  const names = containerNames(workload, kind, target.containerList);
  if (target.selector.type === "name")
    return names.includes(target.selector.name) ? target.selector.name : undefined;
  return names[target.selector.index];
}

/** Each raw entry with its parsed trigger (undefined when the entry alone is invalid). */
function parseEntries(entries: readonly unknown[], namespace: string, kind: WorkloadKindInfo) {
  return entries.map((raw) => {
    const parsed = parseTriggers(JSON.stringify([raw]), namespace, kind.kind);
    return { raw, trigger: parsed.triggers[0] as Trigger | undefined };
  });
}

function currentEntries(value: string | undefined): unknown[] {
  if (value === undefined || value.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new CommandError(
      `annotation ${TRIGGER_ANNOTATION} is not valid JSON; use --remove-all to start over`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new CommandError(
      `annotation ${TRIGGER_ANNOTATION} is not a JSON array; use --remove-all to start over`,
    );
  }
  return parsed;
}

function sameSource(trigger: Trigger, from: StreamTagRef, namespace: string): boolean {
  return (
    trigger.from.stream === from.stream &&
    trigger.from.tag === from.tag &&
    trigger.from.namespace === (from.namespace ?? namespace)
  );
}

/**
 * The new annotation value for `opts.edit` (undefined: remove the annotation), given the
 * workload as read. Throws CommandError when the edit matches nothing, names a missing
 * container, or the result would not parse cleanly.
 */
export function editTriggers(workload: WorkloadObject, opts: SetTriggersOptions): string | undefined {
  const { edit, kind } = opts;
  if (edit.action === "list") throw new Error("editTriggers: list is not an edit");
  if (edit.action === "remove-all") return undefined;
  const namespace = workload.metadata?.namespace ?? "";
  const entries = parseEntries(
    currentEntries(workload.metadata?.annotations?.[TRIGGER_ANNOTATION]),
    namespace,
    kind,
  );
  const available = containerNames(workload, kind, opts.containerList);
  const listName = opts.containerList === "initContainers" ? "init container" : "container";
  const selected = opts.containers ?? available;
  for (const name of opts.containers ?? []) {
    if (!available.includes(name)) {
      throw new CommandError(`${kind.kind.toLowerCase()}/${opts.name} has no ${listName} "${name}"`);
    }
  }
  if (selected.length === 0)
    throw new CommandError(`${kind.kind.toLowerCase()}/${opts.name} has no ${listName}s`);
  const selects = (trigger: Trigger | undefined): boolean => {
    if (trigger === undefined || trigger.target.containerList !== opts.containerList) return false;
    const container = targetContainer(trigger.target, workload, kind);
    return container !== undefined && selected.includes(container);
  };

  let result: unknown[];
  if (edit.action === "set") {
    const from: Record<string, string> = {
      kind: "ImageStreamTag",
      name: `${edit.from.stream}:${edit.from.tag}`,
    };
    if (edit.from.namespace !== undefined && edit.from.namespace !== namespace)
      from.namespace = edit.from.namespace;
    const added = selected.map((name) => {
      const target: FieldPathTarget = {
        kind: kind.kind,
        podSpecPath: kind.podSpecPath,
        containerList: opts.containerList,
        selector: { type: "name", name },
      };
      return { from, fieldPath: canonicalFieldPath(target), ...(edit.paused ? { paused: true } : {}) };
    });
    // The new triggers take the place of the first one they replace, so order stays stable.
    const firstReplaced = entries.findIndex((e) => selects(e.trigger));
    const kept = entries.filter((e) => !selects(e.trigger)).map((e) => e.raw);
    const at =
      firstReplaced < 0
        ? kept.length
        : entries.slice(0, firstReplaced).filter((e) => !selects(e.trigger)).length;
    result = [...kept.slice(0, at), ...added, ...kept.slice(at)];
  } else if (edit.action === "remove") {
    const matches = (e: (typeof entries)[number]) =>
      e.trigger !== undefined &&
      (opts.containers === undefined || selects(e.trigger)) &&
      (edit.from === undefined || sameSource(e.trigger, edit.from, namespace));
    if (!entries.some(matches))
      throw new CommandError(`no trigger of ${kind.kind.toLowerCase()}/${opts.name} matches`);
    result = entries.filter((e) => !matches(e)).map((e) => e.raw);
  } else {
    if (!entries.some((e) => selects(e.trigger))) {
      throw new CommandError(`no trigger of ${kind.kind.toLowerCase()}/${opts.name} matches`);
    }
    result = entries.map((e) =>
      selects(e.trigger) && isRecord(e.raw) ? { ...e.raw, paused: edit.paused } : e.raw,
    );
  }
  if (result.length === 0) return undefined;
  const value = JSON.stringify(result);
  const { problems } = parseTriggers(value, namespace, kind.kind);
  if (problems.length > 0) {
    throw new CommandError(
      `the triggers would not be valid, nothing was written:\n  ${problems.map((p) => p.message).join("\n  ")}\n(use --remove-all to start over)`,
    );
  }
  return value;
}

/** Merge patch setting (or, for undefined, removing) the annotation, guarded by resourceVersion. */
export function triggerAnnotationPatch(value: string | undefined, resourceVersion: string | undefined) {
  return { metadata: { resourceVersion, annotations: { [TRIGGER_ANNOTATION]: value ?? null } } };
}

export interface TriggerRow {
  container: string;
  from: string;
  auto: boolean;
}

/** The triggers as table rows, and the annotation's problems as messages. */
export function describeTriggers(
  workload: WorkloadObject,
  kind: WorkloadKindInfo,
): { rows: TriggerRow[]; problems: string[] } {
  const namespace = workload.metadata?.namespace ?? "";
  const { triggers, problems } = parseTriggers(
    workload.metadata?.annotations?.[TRIGGER_ANNOTATION] ?? "",
    namespace,
    kind.kind,
  );
  const rows = triggers.map((trigger) => {
    const selector = trigger.target.selector;
    const container =
      targetContainer(trigger.target, workload, kind) ??
      (selector.type === "name" ? `${selector.name} (missing)` : `[${selector.index}] (missing)`);
    const prefix = trigger.target.containerList === "initContainers" ? "init:" : "";
    const ns = trigger.from.namespace === namespace ? "" : `${trigger.from.namespace}/`;
    return {
      container: `${prefix}${container}`,
      from: `${ns}${trigger.from.stream}:${trigger.from.tag}`,
      auto: !trigger.paused,
    };
  });
  return { rows, problems: problems.map((p) => p.message) };
}

/** Aligned columns, like kubectl's table printer. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join("")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
