import type {
  JsonPatchOperation,
  TagLookup,
  WorkloadKind,
  WorkloadObject,
} from "../../../src/triggers/index.ts";
import { TRIGGER_ANNOTATION, workloadKindInfo } from "../../../src/triggers/index.ts";

export interface ContainerSpec {
  name: string;
  image?: string;
}

/** A workload of `kind` with the given containers under the kind's pod spec path. */
export function workload(
  kind: WorkloadKind,
  options: {
    containers?: ContainerSpec[];
    initContainers?: ContainerSpec[];
    annotation?: unknown;
    namespace?: string;
    name?: string;
  } = {},
): WorkloadObject {
  const info = workloadKindInfo(kind);
  const podSpec: Record<string, unknown> = {
    containers: options.containers ?? [{ name: "web", image: "nginx:1" }],
  };
  if (options.initContainers !== undefined) podSpec.initContainers = options.initContainers;
  let value: unknown = podSpec;
  for (const key of [...info.podSpecPath].reverse()) value = { [key]: value };
  const annotations: Record<string, string> = {};
  if (options.annotation !== undefined) {
    annotations[TRIGGER_ANNOTATION] =
      typeof options.annotation === "string" ? options.annotation : JSON.stringify(options.annotation);
  }
  return {
    apiVersion: info.apiVersion,
    kind,
    metadata: { name: options.name ?? "app", namespace: options.namespace ?? "team", annotations },
    ...(value as { spec: unknown }),
  };
}

/** A TagLookup over a literal table keyed "<namespace>/<stream>:<tag>". */
export function lookup(table: Record<string, string>): TagLookup {
  return (namespace, stream, tag) => {
    const reference = table[`${namespace}/${stream}:${tag}`];
    return reference === undefined ? undefined : { dockerImageReference: reference };
  };
}

export class PatchTestFailed extends Error {}

function parsePointer(path: string): string[] {
  return path
    .split("/")
    .slice(1)
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/**
 * A small RFC 6902 applier for the ops buildPatch emits (test, replace, add on object
 * members), strict like the API server's: a failed test or a missing path throws.
 */
export function applyPatch<T>(document: T, operations: readonly JsonPatchOperation[]): T {
  const copy = structuredClone(document) as unknown;
  for (const operation of operations) {
    const tokens = parsePointer(operation.path);
    const last = tokens.pop();
    if (last === undefined) throw new Error("empty path");
    let parent: unknown = copy;
    for (const token of tokens) {
      if (typeof parent !== "object" || parent === null || !(token in parent)) {
        throw new Error(`path not found: ${operation.path}`);
      }
      parent = (parent as Record<string, unknown>)[token];
    }
    if (typeof parent !== "object" || parent === null) throw new Error(`path not found: ${operation.path}`);
    const container = parent as Record<string, unknown>;
    if (operation.op === "test") {
      if (container[last] !== operation.value) throw new PatchTestFailed(`test failed at ${operation.path}`);
    } else if (operation.op === "replace") {
      if (!(last in container)) throw new Error(`replace of missing member ${operation.path}`);
      container[last] = operation.value;
    } else {
      container[last] = operation.value;
    }
  }
  return copy as T;
}
