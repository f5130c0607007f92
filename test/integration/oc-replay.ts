// Replays oc's recorded requests (test/fixtures/oc/*-sequences.json) against the real API server
// with the project's own client (src/runtime's object API), in this run's namespaces and against
// the harness's registry: the plan's hosts, namespaces and fake digests are mapped to real ones.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ImageStream, isRecord, type ResourceType, type TagReference } from "../../src/api/index.ts";
import { KubeApiError, type KubeConnection, objectApi } from "../../src/runtime/index.ts";
import { FIXTURES_DIR } from "../fixtures/crd-fixtures.ts";

export type Json = Record<string, unknown>;

export interface Step {
  method: "GET" | "PUT" | "POST" | "DELETE";
  path: string;
  body?: Json & { fromGet?: boolean; setTag?: TagReference; removeAnnotation?: string };
  expect: { code: number; reason?: string; message?: string; messageContains?: string; needs?: string };
}

export function readPlan<T>(file: string): T {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, "oc", file), "utf8")) as T;
}

/**
 * A plan's data in this run's terms: every string has its plan namespaces (as `namespace` fields
 * and in API paths), hosts and digests replaced. Hosts are replaced longest first.
 */
export function localizer(namespaces: Map<string, string>, replacements: Map<string, string>) {
  const pairs = [...replacements].sort((a, b) => b[0].length - a[0].length);
  const text = (value: string): string => {
    let out = value;
    for (const [from, to] of pairs) out = out.split(from).join(to);
    return out.replace(/\/namespaces\/([a-z0-9-]+)\//g, (all, ns: string) =>
      namespaces.has(ns) ? `/namespaces/${namespaces.get(ns)}/` : all,
    );
  };
  const localize = <T>(value: T): T => {
    if (typeof value === "string") return text(value) as T;
    if (Array.isArray(value)) return value.map(localize) as T;
    if (!isRecord(value)) return value;
    const out: Json = {};
    for (const [key, member] of Object.entries(value)) {
      out[key] =
        key === "namespace" && typeof member === "string"
          ? (namespaces.get(member) ?? member)
          : localize(member);
    }
    return out as T;
  };
  return localize;
}

const RESOURCES: Record<string, ResourceType> = {
  imagestreams: { group: "image.openshift.io", version: "v1", plural: "imagestreams", kind: "ImageStream" },
  imagestreamtags: {
    group: "image.openshift.io",
    version: "v1",
    plural: "imagestreamtags",
    kind: "ImageStreamTag",
  },
  imagestreamimports: {
    group: "image.openshift.io",
    version: "v1",
    plural: "imagestreamimports",
    kind: "ImageStreamImport",
  },
};

/** /apis/image.openshift.io/v1/namespaces/<ns>/<plural>[/<name>] of a (localized) step. */
function target(path: string): { namespace: string; type: ResourceType; name: string } {
  const parts = path.split("/");
  const type = RESOURCES[parts[6] ?? ""];
  if (!type) throw new Error(`no resource in ${path}`);
  return { namespace: parts[5] ?? "", type, name: decodeURIComponent(parts[7] ?? "") };
}

export interface Answer {
  code: number;
  /** The object, or the Status of a failure. */
  body: Json;
}

/** Sends a localized step; a PUT `fromGet` is the last GET's stream with `setTag` set, as oc builds it. */
export async function send(kc: KubeConnection, step: Step, lastGet: Json | undefined): Promise<Answer> {
  const objects = objectApi(kc, { fieldManager: "oc" });
  const { namespace, type, name } = target(step.path);
  let body = step.body;
  if (body?.fromGet) {
    if (!lastGet) throw new Error("a PUT from a GET without a GET");
    const stream = structuredClone(lastGet) as unknown as ImageStream;
    const tags = [...(stream.spec?.tags ?? [])];
    const setTag = body.setTag as TagReference;
    const at = tags.findIndex((t) => t.name === setTag.name);
    if (at >= 0) tags[at] = setTag;
    else tags.push(setTag);
    stream.spec = { ...stream.spec, tags };
    if (body.removeAnnotation && stream.metadata.annotations)
      delete stream.metadata.annotations[body.removeAnnotation];
    body = stream as unknown as typeof body;
  }
  const object = {
    ...(body ?? {}),
    metadata: { ...((body?.metadata as Json | undefined) ?? {}), namespace },
  };
  try {
    let result: unknown;
    if (step.method === "GET") result = await objects.get(type, { namespace, name });
    else if (step.method === "PUT")
      result = await objects.replace(type, { ...object, metadata: { ...object.metadata, name } });
    else if (step.method === "POST") result = await objects.create(type, object);
    else await objects.delete(type, { namespace, name });
    return { code: step.method === "POST" ? 201 : 200, body: isRecord(result) ? result : {} };
  } catch (err) {
    const api = KubeApiError.from(err);
    if (!api) throw err;
    return { code: api.statusCode, body: { reason: api.reason, message: api.message } };
  }
}

/** The answer as the plan expects it, or what differs. */
export function mismatch(step: Step, answer: Answer): string | undefined {
  const what = `${step.method} ${step.path}`;
  if (answer.code !== step.expect.code)
    return `${what}: ${answer.code} (${String(answer.body.message)}), expected ${step.expect.code}`;
  if (step.expect.reason && answer.body.reason !== step.expect.reason)
    return `${what}: reason ${String(answer.body.reason)}, expected ${step.expect.reason}`;
  if (step.expect.message && answer.body.message !== step.expect.message)
    return `${what}: message ${String(answer.body.message)}, expected ${step.expect.message}`;
  if (step.expect.messageContains && !String(answer.body.message).includes(step.expect.messageContains))
    return `${what}: message ${String(answer.body.message)} lacks ${step.expect.messageContains}`;
  return undefined;
}
