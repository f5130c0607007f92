// `oc tag` end to end: every form's requests (test/fixtures/oc/tag-sequences.json, oc's exact
// bodies) replayed against kube-apiserver with the operator's webhooks registered, then what the
// operator makes of the spec tag oc wrote. The POST of a `<stream>:<tag>` ImageStreamTag is
// answered 403 by the ImageStreamTag webhook, so oc's fallback (editing spec.tags) runs; the
// import and ImageStreamTag controllers then pin, track, import or reference as OpenShift does.
// The plan's registries are the harness's TLS registry, its fake digests real pushed images.
import { CustomObjectsApi, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageStream, TagReference } from "../../src/api/index.ts";
import { objectApi, updateStatusWithRetry } from "../../src/runtime/index.ts";
import {
  createNamespace,
  eventually,
  type PushedImage,
  pushImage,
  untilQuiet,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { type AdmissionOperator, startAdmissionOperator } from "./admission-operator.ts";
import { type Json, localizer, mismatch, readPlan, type Step, send } from "./oc-replay.ts";

interface Form {
  name: string;
  command: string;
  steps: Step[];
  operator: null | {
    import?: { from: string; insecure: boolean; scheduled: boolean; importMode: string };
    resolvesTo?: { dockerImageReference: string; image: string };
    referencePolicy?: "Local";
  };
}

const plan = readPlan<{ given: ImageStream[]; forms: Form[] }>("tag-sequences.json");
const cp = useSharedControlPlane();
const registry = useSharedRegistry("tls");
const objects = objectApi(cp.connection, { fieldManager: "oc-test" });
const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
const STREAMS = { group: "image.openshift.io", version: "v1", plural: "imagestreams", kind: "ImageStream" };
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

/** The plan's namespaces (team, shared, other) mapped to this run's. */
const namespaces = new Map<string, string>();
let localize: <T>(value: T) => T = (v) => v;
let admission: AdmissionOperator | undefined;
/** Pushed images by the localized repository:tag they were pushed to. */
const pushed = new Map<string, PushedImage>();

async function reset(): Promise<void> {
  for (const namespace of namespaces.values()) {
    await custom.deleteCollectionNamespacedCustomObject({ ...STREAMS, namespace });
    await eventually(async () => {
      const left = (await custom.listNamespacedCustomObject({ ...STREAMS, namespace })) as {
        items?: unknown[];
      };
      return (left.items ?? []).length === 0 ? true : undefined;
    }, `streams of ${namespace} deleted`);
  }
  for (const given of localize(plan.given)) {
    const { status, ...spec } = given;
    const created = await objects.create<ImageStream>(STREAMS, spec);
    // The operator may write the new stream's status first: the given history goes in on top.
    await updateStatusWithRetry<ImageStream>({
      current: created,
      get: () =>
        objects.get(STREAMS, { namespace: created.metadata.namespace, name: created.metadata.name ?? "" }),
      mutate: (fresh) => ({ ...fresh, status }),
      replaceStatus: (obj) => objects.replaceStatus(STREAMS, obj),
    });
  }
  // oc's fallback PUTs the stream with the resourceVersion of its GET: start once the
  // controllers are done writing the given streams, or a late write makes it a 409.
  await untilQuiet(async () => {
    const versions: string[] = [];
    for (const namespace of namespaces.values()) {
      const list = (await custom.listNamespacedCustomObject({ ...STREAMS, namespace })) as {
        items?: ImageStream[];
      };
      for (const s of list.items ?? []) versions.push(`${s.metadata.name}@${s.metadata.resourceVersion}`);
    }
    return versions.sort().join(",");
  }, "the given streams");
}

beforeAll(async () => {
  for (const name of ["team", "shared", "other"])
    namespaces.set(name, await createNamespace(cp, `oc-${name}`));
  const host = `${registry.host}/octag`;
  const images = await Promise.all([
    pushImage(registry, "octag/ruby", "3.3"),
    pushImage(registry, "octag/ruby", "3.4"),
    pushImage(registry, "octag/shared/ruby", "3.3"),
    pushImage(registry, "octag/tools/ruby", "edge"),
  ]);
  const [ruby33, ruby34, shared33, edge] = images as [PushedImage, PushedImage, PushedImage, PushedImage];
  pushed.set(`${host}/ruby:3.3`, ruby33);
  pushed.set(`${host}/ruby:3.4`, ruby34);
  pushed.set(`${host}/shared/ruby:3.3`, shared33);
  pushed.set(`${host}/tools/ruby:edge`, edge);
  localize = localizer(
    namespaces,
    new Map([
      ["registry.example.com", host],
      ["quay.example.com", host],
      ["registry.local:5000", host],
      // The given history holds the images the registry really has.
      [D1, ruby33.digest],
      [D2, shared33.digest],
    ]),
  );
  // Cross-namespace sources need the destination namespace's service accounts to read the source
  // stream (as in OpenShift): team may read shared, other may read team.
  await allowReading(namespaces.get("shared") ?? "", namespaces.get("team") ?? "");
  await allowReading(namespaces.get("team") ?? "", namespaces.get("other") ?? "");
  admission = await startAdmissionOperator(cp, [...namespaces.values()], {
    deps: { caBundle: registry.caPem ?? "" },
  });
}, 120_000);

async function allowReading(source: string, reader: string): Promise<void> {
  const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  const name = `read-streams-${reader}`;
  await rbac.createNamespacedRole({
    namespace: source,
    body: {
      metadata: { name },
      rules: [{ apiGroups: ["image.openshift.io"], resources: ["imagestreams"], verbs: ["get"] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: source,
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [
        { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: `system:serviceaccounts:${reader}` },
      ],
    },
  });
}

afterAll(async () => {
  await admission?.remove();
});

function destination(form: Form): { namespace: string; stream: string; tag: string } {
  const put = form.steps.find((s) => s.path.includes("/imagestreamtags/"));
  const parts = (put?.path ?? "").split("/");
  const [stream = "", tag = ""] = decodeURIComponent(parts[7] ?? "").split(":");
  return { namespace: namespaces.get(parts[5] ?? "") ?? "", stream, tag };
}

describe("oc tag against kube-apiserver with the operator's webhooks", () => {
  it.each(plan.forms)("$command", async (form) => {
    await reset();
    let lastGet: Json | undefined;
    // oc tags each destination inside retry.RetryOnConflict (5 tries): a 409 on the stream's
    // PUT, when a controller wrote the stream after oc's GET, replays that destination's requests.
    let destinationStart = 0;
    let conflictRetries = 0;
    for (let i = 0; i < form.steps.length; i++) {
      const step = localize(form.steps[i] as Step);
      if (step.method === "PUT" && step.path.includes("/imagestreamtags/")) destinationStart = i;
      const answer = await send(cp.connection, step, lastGet);
      const writesStream = step.path.includes("/imagestreams/") && step.method === "PUT";
      if (writesStream && answer.code === 409 && step.expect.code !== 409 && conflictRetries < 4) {
        conflictRetries++;
        i = destinationStart - 1;
        continue;
      }
      expect(mismatch(step, answer)).toBeUndefined();
      if (step.method === "GET" && answer.code === 200) lastGet = answer.body;
      if (
        (step.method === "PUT" || step.method === "POST") &&
        step.path.includes("/imagestreams") &&
        answer.code < 300
      ) {
        // Stored as oc sent it: the tag reads back unchanged (nulls and empty policies included).
        const spec = step.body?.spec as { tags: TagReference[] } | undefined;
        const sent = step.body?.setTag ?? spec?.tags[0];
        const stored = (answer.body.spec as { tags: TagReference[] }).tags.find((t) => t.name === sent?.name);
        expect(stored).toEqual(sent);
      }
    }
    if (!form.operator) return;
    const expected = localize(form.operator);
    const dest = destination(form);
    const stream = () => objects.get<ImageStream>(STREAMS, { namespace: dest.namespace, name: dest.stream });
    const what = `${dest.namespace}/${dest.stream}:${dest.tag}`;
    if (expected.resolvesTo) {
      const item = await eventually(async () => {
        const entry = (await stream()).status?.tags?.find((t) => t.tag === dest.tag);
        const newest = entry?.items?.[0];
        return newest?.dockerImageReference === expected.resolvesTo?.dockerImageReference
          ? newest
          : undefined;
      }, `${what} to resolve to ${expected.resolvesTo.dockerImageReference}`);
      expect(item.image).toBe(expected.resolvesTo.image);
    }
    if (expected.import) {
      const image = pushed.get(expected.import.from);
      expect(image, `an image pushed for ${expected.import.from}`).toBeDefined();
      await eventually(async () => {
        const entry = (await stream()).status?.tags?.find((t) => t.tag === dest.tag);
        return entry?.items?.[0]?.image === image?.digest ? true : undefined;
      }, `${what} imported from ${expected.import.from}`);
      const tag = (await stream()).spec?.tags?.find((t) => t.name === dest.tag);
      expect(tag?.from).toEqual({ kind: "DockerImage", name: expected.import.from });
      expect(tag?.importPolicy?.scheduled === true).toBe(expected.import.scheduled);
      expect(tag?.importPolicy?.insecure === true).toBe(expected.import.insecure);
    }
    if (expected.referencePolicy) {
      const tag = (await stream()).spec?.tags?.find((t) => t.name === dest.tag);
      expect(tag?.referencePolicy?.type).toBe(expected.referencePolicy);
    }
  });
});
