// Parsing of the `image.openshift.io/triggers` annotation into validated triggers.
//
// Decision (docs/triggers.md): every entry is validated on its own. A bad entry is reported
// and skipped; the valid entries still apply. OpenShift instead drops the whole annotation on
// a JSON type error or duplicate fieldPath, and aborts the whole update on a bad fieldPath or
// missing container; one typo should not silently freeze every other container's rollouts.

import { isRecord } from "../api/index.ts";
import { canonicalFieldPath, describeJsonType, parseFieldPath } from "./fieldpath.ts";
import type { WorkloadKind } from "./kinds.ts";
import {
  type Problem,
  TRIGGER_ANNOTATION,
  type Trigger,
  type TriggerSource,
  type WorkloadObject,
} from "./types.ts";

export interface ParsedTriggers {
  /** Valid triggers in annotation order, paused ones included (with `paused: true`). */
  readonly triggers: Trigger[];
  readonly problems: Problem[];
}

/** ImageStream names (design.md section 4). */
const STREAM_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Registry tag grammar (design.md section 4). */
const TAG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const NAMESPACE_NAME = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

export function isValidStreamName(name: string): boolean {
  return name.length <= 253 && STREAM_NAME.test(name);
}

export function isValidTagName(name: string): boolean {
  return TAG_NAME.test(name);
}

export function isValidNamespace(name: string): boolean {
  return name.length <= 63 && NAMESPACE_NAME.test(name);
}

/** Splits and validates `stream:tag`; returns an error message or the parts. */
export function parseStreamTagName(name: unknown): { stream: string; tag: string } | string {
  if (name === undefined || name === null || name === "") {
    return `from.name is required and must be "<stream>:<tag>"`;
  }
  if (typeof name !== "string")
    return `from.name must be a string "<stream>:<tag>", got ${describeJsonType(name)}`;
  const quoted = JSON.stringify(name);
  if (name.includes("@")) {
    return `from.name ${quoted} names an image by digest; a trigger needs an ImageStreamTag "<stream>:<tag>"`;
  }
  const parts = name.split(":");
  if (parts.length !== 2) return `from.name ${quoted} must be "<stream>:<tag>" with exactly one ":"`;
  const [stream = "", tag = ""] = parts;
  if (!isValidStreamName(stream)) {
    return `from.name ${quoted}: stream name "${stream}" is invalid (lower-case letters and digits separated by ".", "_" or "-")`;
  }
  if (!isValidTagName(tag)) {
    return `from.name ${quoted}: tag "${tag}" is invalid (letters, digits, "_", "." and "-", not starting with "." or "-", at most 128 characters)`;
  }
  return { stream, tag };
}

function parsePaused(value: unknown): boolean | string {
  if (value === undefined || value === null || value === false || value === "false") return false;
  if (value === true || value === "true") return true;
  return `paused must be true, false, "true" or "false", got ${describeJsonType(value)}`;
}

function parseFrom(from: unknown, objectNamespace: string): TriggerSource | string[] {
  if (from === undefined || from === null) {
    return [`from is required: {"kind":"ImageStreamTag","name":"<stream>:<tag>"}`];
  }
  if (!isRecord(from)) return [`from must be an object, got ${describeJsonType(from)}`];
  const errors: string[] = [];
  if (from.kind === undefined || from.kind === null || from.kind === "") {
    errors.push(`from.kind is required and must be "ImageStreamTag"`);
  } else if (from.kind !== "ImageStreamTag") {
    errors.push(`from.kind ${JSON.stringify(from.kind)} is not supported; it must be "ImageStreamTag"`);
  }
  const name = parseStreamTagName(from.name);
  if (typeof name === "string") errors.push(name);
  let namespace = objectNamespace;
  if (from.namespace !== undefined && from.namespace !== null && from.namespace !== "") {
    if (typeof from.namespace !== "string") {
      errors.push(`from.namespace must be a string, got ${describeJsonType(from.namespace)}`);
    } else if (!isValidNamespace(from.namespace)) {
      errors.push(`from.namespace "${from.namespace}" is not a valid namespace name`);
    } else {
      namespace = from.namespace;
    }
  }
  if (errors.length > 0 || typeof name === "string") return errors;
  return { kind: "ImageStreamTag", namespace, stream: name.stream, tag: name.tag };
}

function parseEntry(
  entry: unknown,
  index: number,
  objectNamespace: string,
  kind: WorkloadKind,
): Trigger | Problem {
  if (!isRecord(entry)) {
    return {
      reason: "InvalidTrigger",
      message: `triggers[${index}] must be an object, got ${describeJsonType(entry)}`,
      triggerIndex: index,
    };
  }
  const errors: string[] = [];
  const from = parseFrom(entry.from, objectNamespace);
  if (Array.isArray(from)) errors.push(...from);
  const fieldPath = parseFieldPath(entry.fieldPath, kind);
  if (!fieldPath.ok) errors.push(fieldPath.message);
  const paused = parsePaused(entry.paused);
  if (typeof paused === "string") errors.push(paused);
  if (Array.isArray(from) || !fieldPath.ok || typeof paused === "string") {
    return {
      reason: "InvalidTrigger",
      message: `triggers[${index}]: ${errors.join("; ")}`,
      triggerIndex: index,
    };
  }
  return { index, from, fieldPath: entry.fieldPath as string, target: fieldPath.target, paused };
}

/**
 * Parses the annotation value. Never throws: every malformed input becomes a Problem whose
 * message says what is wrong and where. `objectNamespace` is the default `from.namespace`.
 */
export function parseTriggers(
  annotationValue: string,
  objectNamespace: string,
  kind: WorkloadKind,
): ParsedTriggers {
  // An emptied annotation is how some tools "remove" a value: no triggers, nothing to report.
  if (annotationValue.trim() === "") return { triggers: [], problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotationValue);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      triggers: [],
      problems: [
        {
          reason: "InvalidTriggerAnnotation",
          message: `annotation ${TRIGGER_ANNOTATION} is not valid JSON: ${detail}`,
        },
      ],
    };
  }
  if (!Array.isArray(parsed)) {
    return {
      triggers: [],
      problems: [
        {
          reason: "InvalidTriggerAnnotation",
          message: `annotation ${TRIGGER_ANNOTATION} must be a JSON array of triggers, got ${describeJsonType(parsed)}`,
        },
      ],
    };
  }
  const valid: Trigger[] = [];
  const problems: Problem[] = [];
  parsed.forEach((entry: unknown, index) => {
    const result = parseEntry(entry, index, objectNamespace, kind);
    if ("reason" in result) problems.push(result);
    else valid.push(result);
  });

  // Two triggers writing the same field are ambiguous: neither wins, both are reported.
  const byPath = new Map<string, Trigger[]>();
  for (const trigger of valid) {
    const key = canonicalFieldPath(trigger.target);
    byPath.set(key, [...(byPath.get(key) ?? []), trigger]);
  }
  const triggers: Trigger[] = [];
  for (const trigger of valid) {
    const group = byPath.get(canonicalFieldPath(trigger.target)) ?? [];
    if (group.length === 1) {
      triggers.push(trigger);
    } else if (group[0] === trigger) {
      problems.push({
        reason: "DuplicateTriggerFieldPath",
        message: `${listIndexes(group)} have the same fieldPath ${JSON.stringify(canonicalFieldPath(trigger.target))}; all of them are ignored`,
        triggerIndex: trigger.index,
      });
    }
  }
  problems.sort((a, b) => (a.triggerIndex ?? -1) - (b.triggerIndex ?? -1));
  return { triggers, problems };
}

export function listIndexes(triggers: readonly Pick<Trigger, "index">[]): string {
  const names = triggers.map((trigger) => `triggers[${trigger.index}]`);
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** The annotation value of a workload, or undefined when it has none. */
export function triggerAnnotation(workload: WorkloadObject): string | undefined {
  return workload.metadata?.annotations?.[TRIGGER_ANNOTATION] ?? undefined;
}

/** Parses a workload's own annotation; a workload without it has no triggers and no problems. */
export function parseWorkloadTriggers(workload: WorkloadObject, kind: WorkloadKind): ParsedTriggers {
  const value = triggerAnnotation(workload);
  if (value === undefined) return { triggers: [], problems: [] };
  return parseTriggers(value, workload.metadata?.namespace ?? "", kind);
}
