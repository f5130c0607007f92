// The requests of `oc tag` (test/fixtures/oc/tag-sequences.json) replayed against a real
// kube-apiserver with the project's own client: every step that does not need the operator's
// ImageStreamTag webhook gets the answer the plan expects (the PUT of `<stream>:<tag>` is a
// 404, oc's ImageStream bodies are stored as sent, a DELETE of `<stream>:<tag>` is a 404). The
// POST of the ImageStreamTag needs the webhook (stage 2) and is not sent here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import type { ImageStream, TagReference } from "../../src/api/index.ts";
import { httpStatusOf } from "../../src/runtime/index.ts";
import { FIXTURES_DIR } from "../fixtures/crd-fixtures.ts";
import { createNamespace, useSharedControlPlane } from "../harness/index.ts";

type Json = Record<string, unknown>;

interface Step {
  method: "GET" | "PUT" | "POST" | "DELETE";
  path: string;
  body?: Json & { fromGet?: boolean; setTag?: TagReference; removeAnnotation?: string };
  expect: { code: number; reason?: string; message?: string; messageContains?: string; needs?: string };
}

interface Form {
  name: string;
  command: string;
  steps: Step[];
}

const plan = JSON.parse(readFileSync(join(FIXTURES_DIR, "oc", "tag-sequences.json"), "utf8")) as {
  given: ImageStream[];
  forms: Form[];
};

const cp = useSharedControlPlane();
const api = cp.kubeConfig.makeApiClient(CustomObjectsApi);
const group = "image.openshift.io";
const version = "v1";
/** The plan's namespaces (team, shared, other) mapped to this run's. */
const namespaces = new Map<string, string>();

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The plan's data with its namespaces replaced by this run's. */
function localize<T>(value: T): T {
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
}

function target(path: string): { namespace: string; plural: string; name?: string } {
  // /apis/image.openshift.io/v1/namespaces/<ns>/<plural>[/<name>]
  const parts = path.split("/");
  const namespace = namespaces.get(parts[5] ?? "") ?? "";
  const name = parts[7];
  return { namespace, plural: parts[6] ?? "", ...(name ? { name } : {}) };
}

async function send(step: Step, lastGet: Json | undefined): Promise<{ code: number; body: Json }> {
  const { namespace, plural, name = "" } = target(step.path);
  let body = localize(step.body);
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
  try {
    const call = { group, version, namespace, plural };
    let result: unknown;
    if (step.method === "GET") result = await api.getNamespacedCustomObject({ ...call, name });
    else if (step.method === "PUT") result = await api.replaceNamespacedCustomObject({ ...call, name, body });
    else if (step.method === "POST") result = await api.createNamespacedCustomObject({ ...call, body });
    else result = await api.deleteNamespacedCustomObject({ ...call, name });
    return { code: step.method === "POST" ? 201 : 200, body: isRecord(result) ? result : {} };
  } catch (err) {
    const raw = isRecord(err) ? err.body : undefined;
    const status = typeof raw === "string" ? (JSON.parse(raw) as Json) : isRecord(raw) ? raw : {};
    return { code: httpStatusOf(err) ?? 0, body: status };
  }
}

async function reset(): Promise<void> {
  for (const namespace of namespaces.values()) {
    await api.deleteCollectionNamespacedCustomObject({ group, version, namespace, plural: "imagestreams" });
  }
  for (const given of localize(plan.given)) {
    const { status, ...spec } = given;
    const created = (await api.createNamespacedCustomObject({
      group,
      version,
      namespace: given.metadata.namespace ?? "",
      plural: "imagestreams",
      body: spec,
    })) as ImageStream;
    await api.replaceNamespacedCustomObjectStatus({
      group,
      version,
      namespace: given.metadata.namespace ?? "",
      plural: "imagestreams",
      name: given.metadata.name ?? "",
      body: { ...created, status },
    });
  }
}

describe("oc tag's requests against kube-apiserver (without the webhook)", () => {
  beforeAll(async () => {
    for (const name of ["team", "shared", "other"])
      namespaces.set(name, await createNamespace(cp, `oc-${name}`));
  });

  it.each(plan.forms)("$command", async (form) => {
    await reset();
    let lastGet: Json | undefined;
    for (const step of form.steps) {
      if (step.expect.needs) continue; // needs the operator's webhook: stage 2
      const answer = await send(step, lastGet);
      const what = `${step.method} ${step.path}`;
      expect(answer.code, what).toBe(step.expect.code);
      if (step.expect.reason) expect(answer.body.reason, what).toBe(step.expect.reason);
      if (step.expect.message) expect(answer.body.message, what).toBe(step.expect.message);
      if (step.expect.messageContains)
        expect(String(answer.body.message), what).toContain(step.expect.messageContains);
      if (step.method === "GET" && answer.code === 200) lastGet = answer.body;
      if (
        (step.method === "PUT" || step.method === "POST") &&
        step.path.includes("/imagestreams") &&
        answer.code < 300
      ) {
        // Stored as oc sent it: the tag reads back unchanged (nulls and empty policies included).
        const spec = step.body?.spec as { tags: TagReference[] } | undefined;
        const sent = localize(step.body?.setTag ?? spec?.tags[0]);
        const stored = (answer.body.spec as { tags: TagReference[] }).tags.find((t) => t.name === sent?.name);
        expect(stored, what).toEqual(sent);
      }
    }
  });
});
