// The `fieldPath` grammar of image triggers:
//   <podSpec>.containers[<sel>].image | <podSpec>.initContainers[<sel>].image
//   <sel> = <index> | ?(@.name=="name") | ?(@.name=='name')
// Current OpenShift matches only `?(@.name=="name")`; its docs (and OpenShift 3.x) use
// `?(@.name='name')` with a single "=". Both quote styles and both "=" and "==" are accepted
// (design.md section 3); whitespace around the operator is tolerated as kubectl's JSONPath does.

import { WORKLOAD_KINDS, type WorkloadKind, workloadKindInfo } from "./kinds.ts";
import type { ContainerList, ContainerSelector, FieldPathTarget } from "./types.ts";

export type FieldPathResult = { ok: true; target: FieldPathTarget } | { ok: false; message: string };

const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const INDEX_SELECTOR = /^[0-9]+$/;
const NAME_SELECTOR = /^\?\(\s*@\.name\s*==?\s*(?:"([^"]*)"|'([^']*)')\s*\)$/;
const CONTAINER_SEGMENT = /(?:^|\.)(containers|initContainers)\[/;

/** Container names are DNS-1123 labels (Kubernetes validation of `containers[].name`). */
export function isValidContainerName(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}

function expectedForm(podSpec: string): string {
  return `"${podSpec}.containers[<index>].image", "${podSpec}.containers[?(@.name=="<name>")].image" or the same with initContainers`;
}

/** Which kinds use a pod spec path, for the wrong-kind message: "Deployment, StatefulSet, ...". */
function kindsUsing(podSpec: string): string {
  return WORKLOAD_KINDS.filter((info) => info.podSpecFieldPath === podSpec)
    .map((info) => info.kind)
    .join(", ");
}

export function parseContainerSelector(
  selector: string,
): { ok: true; selector: ContainerSelector } | { ok: false; message: string } {
  if (INDEX_SELECTOR.test(selector)) {
    const index = Number(selector);
    if (!Number.isSafeInteger(index))
      return { ok: false, message: `container index ${selector} is too large` };
    return { ok: true, selector: { type: "index", index } };
  }
  if (/^\s*-\s*[0-9]+\s*$/.test(selector)) {
    return { ok: false, message: `container index ${selector.trim()} must be a non-negative integer` };
  }
  const match = NAME_SELECTOR.exec(selector);
  if (match === null) {
    return {
      ok: false,
      message: `container selector "[${selector}]" must be an index like [0] or a name selector like [?(@.name=="web")]`,
    };
  }
  const name = match[1] ?? match[2] ?? "";
  if (!isValidContainerName(name)) {
    return {
      ok: false,
      message: `container name "${name}" in the selector is not a valid container name (a DNS-1123 label: lower-case letters, digits and "-", at most 63 characters)`,
    };
  }
  return { ok: true, selector: { type: "name", name } };
}

export function parseFieldPath(fieldPath: unknown, kind: WorkloadKind): FieldPathResult {
  const info = workloadKindInfo(kind);
  if (fieldPath === undefined || fieldPath === null || fieldPath === "") {
    return { ok: false, message: "fieldPath is required" };
  }
  if (typeof fieldPath !== "string") {
    return { ok: false, message: `fieldPath must be a string, got ${describeJsonType(fieldPath)}` };
  }
  const quoted = JSON.stringify(fieldPath);
  const segment = CONTAINER_SEGMENT.exec(fieldPath);
  if (segment === null) {
    return {
      ok: false,
      message: `fieldPath ${quoted} does not select a container image; for a ${kind} it must be ${expectedForm(info.podSpecFieldPath)}`,
    };
  }
  const prefix = segment[0].startsWith(".") ? fieldPath.slice(0, segment.index) : "";
  if (prefix !== info.podSpecFieldPath) {
    const other = WORKLOAD_KINDS.find((candidate) => candidate.podSpecFieldPath === prefix);
    if (other !== undefined) {
      return {
        ok: false,
        message: `fieldPath ${quoted} uses the pod spec path "${prefix}" of ${kindsUsing(prefix)}; a ${kind}'s pod spec is at "${info.podSpecFieldPath}"`,
      };
    }
    return {
      ok: false,
      message: `fieldPath ${quoted} must start with "${info.podSpecFieldPath}." for a ${kind} (got "${prefix}")`,
    };
  }
  const containerList = segment[1] as ContainerList;
  const afterBracket = fieldPath.slice(segment.index + segment[0].length);
  // Container names cannot contain "]", so the first one closes the selector.
  const close = afterBracket.indexOf("]");
  if (close === -1) {
    return { ok: false, message: `fieldPath ${quoted} has an unterminated container selector (missing "]")` };
  }
  const selected = parseContainerSelector(afterBracket.slice(0, close));
  if (!selected.ok) return { ok: false, message: `fieldPath ${quoted}: ${selected.message}` };
  const rest = afterBracket.slice(close + 1);
  if (rest !== ".image") {
    return {
      ok: false,
      message: `fieldPath ${quoted} must end with ".image" right after the container selector (got "${rest}"); only container images can be triggered`,
    };
  }
  return {
    ok: true,
    target: { kind, podSpecPath: info.podSpecPath, containerList, selector: selected.selector },
  };
}

/** Canonical spelling of a target, so `'web'` and `"web"` count as the same fieldPath. */
export function canonicalFieldPath(target: FieldPathTarget): string {
  const selector =
    target.selector.type === "index" ? String(target.selector.index) : `?(@.name=="${target.selector.name}")`;
  return `${target.podSpecPath.join(".")}.${target.containerList}[${selector}].image`;
}

export function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
