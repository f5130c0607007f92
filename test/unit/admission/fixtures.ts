// Builders for the admission unit tests: streams with history, workloads of every kind, and a
// small RFC 6902 applier so tests check what a patch does to the object, not just its text.

import type { JsonPatchOp } from "../../../src/admission/index.ts";
import type { ImageStream, NamedTagEventList, TagReference } from "../../../src/api/index.ts";

export const D1 = `sha256:${"1".repeat(64)}`;
export const D2 = `sha256:${"2".repeat(64)}`;
export const D3 = `sha256:${"3".repeat(64)}`;
export const NS = "team";

export function imageStream(
  name: string,
  tags: TagReference[],
  statusTags: NamedTagEventList[] = [],
  opts: { lookup?: boolean; namespace?: string } = {},
): ImageStream {
  return {
    apiVersion: "image.openshift.io/v1",
    kind: "ImageStream",
    metadata: { name, namespace: opts.namespace ?? NS, generation: 1 },
    spec: { ...(opts.lookup === undefined ? {} : { lookupPolicy: { local: opts.lookup } }), tags },
    status: { tags: statusTags },
  };
}

export function imported(
  tag: string,
  ...items: Array<[ref: string, image: string, created?: string]>
): NamedTagEventList {
  return {
    tag,
    items: items.map(([dockerImageReference, image, created]) => ({
      created: created ?? "2024-05-01T10:00:00Z",
      dockerImageReference,
      image,
      generation: 1,
    })),
  };
}

export function dockerTag(name: string, from: string, extra: Partial<TagReference> = {}): TagReference {
  return { name, from: { kind: "DockerImage", name: from }, ...extra };
}

type Json = Record<string, unknown>;

function clone<T>(value: T): T {
  return structuredClone(value);
}

function parent(doc: unknown, path: string): { container: Json | unknown[]; key: string } {
  const tokens = path
    .split("/")
    .slice(1)
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
  const key = tokens.pop();
  if (key === undefined) throw new Error(`bad pointer ${path}`);
  let current: unknown = doc;
  for (const token of tokens) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (typeof current === "object" && current !== null) current = (current as Json)[token];
    else throw new Error(`pointer ${path} does not resolve`);
  }
  if (typeof current !== "object" || current === null) throw new Error(`pointer ${path} does not resolve`);
  return { container: current as Json | unknown[], key };
}

/** Applies add/replace/remove/test operations; throws where a real applier would fail. */
export function applyPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  const out = clone(doc);
  for (const op of ops) {
    const { container, key } = parent(out, op.path);
    const exists = Array.isArray(container) ? Number(key) < container.length : key in container;
    if (op.op === "test") {
      const value = Array.isArray(container) ? container[Number(key)] : container[key];
      if (JSON.stringify(value) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
    } else if (op.op === "remove") {
      if (!exists) throw new Error(`remove of missing ${op.path}`);
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete container[key];
    } else {
      if (op.op === "replace" && !exists) throw new Error(`replace of missing ${op.path}`);
      if (Array.isArray(container)) container[Number(key)] = clone(op.value);
      else container[key] = clone(op.value);
    }
  }
  return out;
}

const podSpec = (image: string, extra: Json = {}) => ({ containers: [{ name: "web", image }], ...extra });

/** One object per kind image lookup covers, its container `web` named `image`. */
export function workload(
  kind: string,
  image: string,
  extra: { annotations?: Record<string, string>; templateAnnotations?: Record<string, string> } = {},
): Json {
  const metadata = {
    name: "app",
    namespace: NS,
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  };
  const template = {
    metadata: {
      labels: { app: "app" },
      ...(extra.templateAnnotations ? { annotations: extra.templateAnnotations } : {}),
    },
    spec: podSpec(image),
  };
  switch (kind) {
    case "Pod":
      return { apiVersion: "v1", kind, metadata, spec: podSpec(image) };
    case "ReplicationController":
      return { apiVersion: "v1", kind, metadata, spec: { selector: { app: "app" }, template } };
    case "Job":
      return { apiVersion: "batch/v1", kind, metadata, spec: { template } };
    case "CronJob":
      return {
        apiVersion: "batch/v1",
        kind,
        metadata,
        spec: { schedule: "* * * * *", jobTemplate: { spec: { template } } },
      };
    default:
      return {
        apiVersion: "apps/v1",
        kind,
        metadata,
        spec: { selector: { matchLabels: { app: "app" } }, template },
      };
  }
}
