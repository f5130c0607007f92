// Finding the container a trigger's fieldPath selects inside a workload object.

import { isRecord } from "../api/index.ts";
import type { ContainerList, FieldPathTarget, WorkloadObject } from "./types.ts";

export interface ResolvedContainer {
  /** JSON pointer to the container, e.g. "/spec/template/spec/containers/0". */
  readonly containerPath: string;
  readonly containerList: ContainerList;
  readonly index: number;
  readonly name: string;
  /** Undefined when the container has no string `image`. */
  readonly image: string | undefined;
}

export type ResolveResult = { ok: true; container: ResolvedContainer } | { ok: false; message: string };

/** RFC 6901 escaping of one reference token. */
export function escapeJsonPointerToken(token: string): string {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

export function jsonPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((token) => `/${escapeJsonPointerToken(String(token))}`).join("");
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** Resolves `target` against the object; never throws, whatever shape the object has. */
export function resolveContainer(workload: WorkloadObject, target: FieldPathTarget): ResolveResult {
  const podSpecFieldPath = target.podSpecPath.join(".");
  let podSpec: unknown = workload;
  for (const key of target.podSpecPath) {
    podSpec = isRecord(podSpec) ? podSpec[key] : undefined;
  }
  if (!isRecord(podSpec)) return { ok: false, message: `the object has no pod spec at ${podSpecFieldPath}` };
  const rawList = podSpec[target.containerList];
  const list: unknown[] = Array.isArray(rawList) ? rawList : [];
  const listPath = `${podSpecFieldPath}.${target.containerList}`;

  let index: number;
  if (target.selector.type === "index") {
    index = target.selector.index;
    if (index >= list.length) {
      return {
        ok: false,
        message: `container index ${index} is out of range: ${listPath} has ${plural(list.length, "container")}`,
      };
    }
  } else {
    const wanted = target.selector.name;
    index = list.findIndex((container) => isRecord(container) && container.name === wanted);
    if (index === -1) {
      const names = list.flatMap((c) =>
        isRecord(c) && typeof c.name === "string" ? [JSON.stringify(c.name)] : [],
      );
      const known = names.length > 0 ? ` (it has ${names.join(", ")})` : ` (it has none)`;
      return { ok: false, message: `container "${wanted}" not found in ${listPath}${known}` };
    }
  }
  const container = list[index];
  if (!isRecord(container) || typeof container.name !== "string" || container.name === "") {
    return { ok: false, message: `${listPath}[${index}] is not a container with a name` };
  }
  return {
    ok: true,
    container: {
      containerPath: jsonPointer([...target.podSpecPath, target.containerList, index]),
      containerList: target.containerList,
      index,
      name: container.name,
      image: typeof container.image === "string" ? container.image : undefined,
    },
  };
}
