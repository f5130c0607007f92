// `oc import-image` end to end: every form's requests (test/fixtures/oc/import-image-sequences.json,
// oc's exact bodies) replayed against kube-apiserver, whose ImageStreamImport webhook (the
// operator) imports from the harness's real registry and answers in the created object's status,
// as oc reads it. Also: an unauthorized user, a registry failure inside the answer, a registry
// slower than the webhook's deadline, a second import right after the first, dry runs, and the
// stored answers' removal.
import { createServer, type Server, type Socket } from "node:net";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageStream, ImageStreamImport } from "../../src/api/index.ts";
import { IMAGESTREAMIMPORTS, IMAGESTREAMS } from "../../src/api/index.ts";
import type { RequestEvent } from "../../src/registry/index.ts";
import { httpStatusOf, objectApi } from "../../src/runtime/index.ts";
import {
  createNamespace,
  eventually,
  kubectl,
  type PushedImage,
  pushImage,
  untilQuiet,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { type AdmissionOperator, restrictedUser, startAdmissionOperator } from "./admission-operator.ts";
import { type Answer, type Json, localizer, mismatch, readPlan, type Step, send } from "./oc-replay.ts";

interface Form {
  name: string;
  command: string;
  given: ImageStream | null;
  steps: Step[];
}

const plan = readPlan<{ forms: Form[] }>("import-image-sequences.json");
const cp = useSharedControlPlane();
const registry = useSharedRegistry("tls");
const objects = objectApi(cp.connection, { fieldManager: "oc-import-test" });
const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);

let ns = "";
let admission: AdmissionOperator | undefined;
let localize: <T>(value: T) => T = (v) => v;
const registryRequests: RequestEvent[] = [];
const images = new Map<string, PushedImage>();
let repo = "";
let blackHole: Server | undefined;
const held: Socket[] = [];

beforeAll(async () => {
  ns = await createNamespace(cp, "oc-import");
  repo = `${registry.host}/octi/team/app`;
  for (const tag of ["latest", "1.0", "2.0", "0.9"])
    images.set(tag, await pushImage(registry, "octi/team/app", tag));
  localize = localizer(
    new Map([["team", ns]]),
    new Map([
      ["registry.example.com", `${registry.host}/octi`],
      ["registry.local:5000", `${registry.host}/octi`],
    ]),
  );
  // A "registry" that accepts connections and never answers: slower than any deadline.
  blackHole = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => blackHole?.listen(0, "127.0.0.1", resolve));
  admission = await startAdmissionOperator(cp, [ns], {
    flags: ["--admission-import-timeout=3s"],
    deps: { caBundle: registry.caPem ?? "", onRegistryRequest: (e) => registryRequests.push(e) },
  });
}, 120_000);

afterAll(async () => {
  await admission?.remove();
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => (blackHole ? blackHole.close(() => resolve()) : resolve()));
});

async function resetStream(given: ImageStream | null): Promise<ImageStream | undefined> {
  await objects.delete(IMAGESTREAMS, { namespace: ns, name: "mystream" }).catch(() => undefined);
  await eventually(
    async () =>
      (await objects.get(IMAGESTREAMS, { namespace: ns, name: "mystream" }).catch(() => undefined))
        ? undefined
        : true,
    "mystream deleted",
  );
  if (!given) return undefined;
  const { resourceVersion: _rv, ...metadata } = localize(given).metadata;
  const created = await objects.create<ImageStream>(IMAGESTREAMS, { ...localize(given), metadata });
  // The controller imports the given tags (real images); the test starts from that stream once
  // the controllers are done writing it (status, then the repository-check annotation), since oc's
  // POST carries the resourceVersion of its GET and any later write would make it a 409.
  const get = () => objects.get<ImageStream>(IMAGESTREAMS, { namespace: ns, name: "mystream" });
  await eventually(
    async () => ((await get()).status?.tags?.length ? true : undefined),
    "the given stream imported",
  );
  // 3 s: on a loaded machine the annotation write can follow the status by more than a second.
  await untilQuiet(async () => (await get()).metadata.resourceVersion ?? "", "the given stream", 3000);
  return created;
}

/** The POST of a form with oc's placeholders filled in from the GET before it. */
function postBody(step: Step, lastGet: Json | undefined): Step {
  const body = structuredClone(step.body) as Json & { metadata: { resourceVersion?: string } };
  const rv = (lastGet?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
  if (
    body.metadata.resourceVersion === "<from the GET>" ||
    body.metadata.resourceVersion === "<older than the stream>"
  )
    body.metadata.resourceVersion = rv;
  return { ...step, body };
}

function answerOf(answer: Answer): ImageStreamImport {
  return answer.body as unknown as ImageStreamImport;
}

describe("oc import-image against kube-apiserver with the operator's webhook", () => {
  it.each(plan.forms)("$command", async (form) => {
    await resetStream(form.given);
    let lastGet: Json | undefined;
    let answer: Answer | undefined;
    for (const planned of form.steps) {
      let step = localize(planned);
      let kc = cp.connection;
      if (step.method === "POST") {
        step = postBody(step, lastGet);
        if (form.name.includes("changed between")) {
          // Another writer changes the stream between oc's GET and its POST.
          await objects.mergePatch(
            IMAGESTREAMS,
            { namespace: ns, name: "mystream" },
            { metadata: { annotations: { raced: "yes" } } },
          );
        }
        if (form.name.includes("may not update")) {
          kc = (
            await restrictedUser(cp, ns, "importer", [
              { apiGroups: ["image.openshift.io"], resources: ["imagestreamimports"], verbs: ["create"] },
              { apiGroups: ["image.openshift.io"], resources: ["imagestreams"], verbs: ["get"] },
            ])
          ).connection;
        }
      }
      const requestsBefore = registryRequests.length;
      const reply = await send(kc, step, lastGet);
      expect(mismatch(step, reply)).toBeUndefined();
      if (step.method === "GET" && reply.code === 200) lastGet = reply.body;
      if (step.method === "POST") {
        answer = reply;
        if (reply.code === 403) {
          expect(String(reply.body.message)).toContain('User "system:serviceaccount:');
          expect(String(reply.body.message)).toContain('cannot update resource "imagestreams"');
          // Refused before any registry request.
          expect(registryRequests.length).toBe(requestsBefore);
        }
      }
    }
    if (answer?.code !== 201) return;
    const isi = answerOf(answer);
    const sent = form.steps.find((s) => s.method === "POST")?.body as unknown as ImageStreamImport;
    // The answer is stored under a name of its own, so the next import of the stream never collides with it.
    expect(isi.metadata.name).toMatch(/^mystream-[0-9a-f]{6}$/);
    const status = isi.status ?? {};
    const stream = await objects
      .get<ImageStream>(IMAGESTREAMS, { namespace: ns, name: "mystream" })
      .catch(() => undefined);
    const gotRv = (lastGet?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    if (sent.spec.import) {
      // The stream as the import left it (the controllers may have written it again since).
      expect(status.import?.metadata.name).toBe("mystream");
      expect(status.import?.metadata.uid).toBe(stream?.metadata.uid);
    } else {
      expect(status.import).toBeUndefined();
      expect(stream?.metadata.resourceVersion).toBe(gotRv);
    }
    for (const [i, image] of (sent.spec.images ?? []).entries()) {
      const result = status.images?.[i];
      const tag = image.from.name.split(":").pop() ?? "";
      const pushed = images.get(tag);
      if (!pushed) {
        expect(result?.status).toMatchObject({ status: "Failure", reason: "NotFound", code: 404 });
        if (sent.spec.import) {
          const entry = stream?.status?.tags?.find((t) => t.tag === image.to?.name);
          expect(entry?.conditions?.[0]).toMatchObject({
            type: "ImportSuccess",
            status: "False",
            reason: "NotFound",
          });
        }
        continue;
      }
      expect(result?.status).toEqual({ status: "Success" });
      expect(result?.image?.metadata?.name).toBe(pushed.digest);
      expect(result?.image?.dockerImageReference).toBe(`${repo}@${pushed.digest}`);
      if (sent.spec.import) {
        const specTag = stream?.spec?.tags?.find((t) => t.name === image.to?.name);
        expect(specTag?.from).toEqual({ kind: "DockerImage", name: localize(image.from.name) });
        expect(specTag?.importPolicy ?? {}).toEqual(image.importPolicy ?? {});
        if (image.referencePolicy?.type)
          expect(specTag?.referencePolicy?.type).toBe(image.referencePolicy.type);
        const entry = stream?.status?.tags?.find((t) => t.tag === image.to?.name);
        expect(entry?.items?.[0]?.image).toBe(pushed.digest);
      }
    }
    if (sent.spec.repository) {
      expect(status.repository?.status).toEqual({ status: "Success" });
      const imported = (status.repository?.images ?? []).map((i) => [i.tag, i.image?.metadata?.name]);
      // latest first, then versions newest first (the import core's order).
      expect(imported).toEqual(["latest", "2.0", "1.0", "0.9"].map((t) => [t, images.get(t)?.digest]));
      for (const [tag] of imported) expect(stream?.spec?.tags?.some((t) => t.name === tag)).toBe(true);
    }
  });
});

describe("ImageStreamImport answers", () => {
  const isi = (name: string, from: string, extra: Json = {}): ImageStreamImport => ({
    apiVersion: "image.openshift.io/v1",
    kind: "ImageStreamImport",
    metadata: { name, namespace: ns },
    spec: {
      import: true,
      images: [{ from: { kind: "DockerImage", name: from }, to: { name: "latest" }, ...extra }],
    },
  });

  it("imports the same stream twice in a row (no 409 on the first answer) and removes stored answers shortly after", async () => {
    const first = await objects.create<ImageStreamImport>(IMAGESTREAMIMPORTS, isi("twice", `${repo}:1.0`));
    const second = await objects.create<ImageStreamImport>(IMAGESTREAMIMPORTS, isi("twice", `${repo}:2.0`));
    expect(first.status?.images?.[0]?.status.status).toBe("Success");
    expect(second.status?.images?.[0]?.image?.metadata?.name).toBe(images.get("2.0")?.digest);
    expect(first.metadata.name).not.toBe(second.metadata.name);
    await eventually(
      async () => {
        const list = (await custom.listNamespacedCustomObject({
          group: "image.openshift.io",
          version: "v1",
          plural: "imagestreamimports",
          namespace: ns,
        })) as { items?: ImageStreamImport[] };
        const names = (list.items ?? []).map((i) => i.metadata.name);
        return names.includes(first.metadata.name) || names.includes(second.metadata.name) ? undefined : true;
      },
      "the stored answers removed",
      90_000,
    );
  }, 120_000);

  it("reports a registry slower than the webhook's deadline as a failure in the answer, not a timeout", async () => {
    const address = blackHole?.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const started = Date.now();
    const answer = await objects.create<ImageStreamImport>(
      IMAGESTREAMIMPORTS,
      isi("slow", `127.0.0.1:${port}/team/app:1.0`, { importPolicy: { insecure: true } }),
    );
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(answer.status?.images?.[0]?.status).toMatchObject({
      status: "Failure",
      reason: "Timeout",
      code: 504,
    });
    const stream = await objects.get<ImageStream>(IMAGESTREAMS, { namespace: ns, name: "slow" });
    expect(stream.spec?.tags?.[0]?.from?.name).toBe(`127.0.0.1:${port}/team/app:1.0`);
  }, 60_000);

  it("a server-side dry run answers with the stream it would write, and writes nothing", async () => {
    const created = await kubectl(
      cp,
      ["create", "--dry-run=server", "-o", "json", "-f", "-"],
      JSON.stringify(isi("dry", `${repo}:1.0`)),
    );
    expect(created.code, created.stderr).toBe(0);
    const answer = JSON.parse(created.stdout) as ImageStreamImport;
    expect(answer.status?.images?.[0]?.status).toEqual({ status: "Success" });
    expect(answer.status?.import?.metadata.name).toBe("dry");
    expect(answer.status?.import?.status?.tags?.[0]?.items?.[0]?.image).toBe(images.get("1.0")?.digest);
    const stream = await objects
      .get(IMAGESTREAMS, { namespace: ns, name: "dry" })
      .catch((err: unknown) => err);
    expect(httpStatusOf(stream)).toBe(404);
  });
});
