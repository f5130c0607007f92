// Image lookup through kube-apiserver's admission chain: the operator registers its webhooks
// (url clientConfig, as after `npm run cluster:up`), and every object below is created or
// updated by a client of the real API server; nothing calls the webhook directly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POD_TEMPLATE_KINDS, type PodTemplateKindName, podTemplateKind } from "../../src/api/index.ts";
import { objectApi } from "../../src/runtime/index.ts";
import {
  createNamespace,
  eventually,
  kubectl,
  type PushedImage,
  pushImage,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { type AdmissionOperator, startAdmissionOperator } from "./admission-operator.ts";
import { streamsOf } from "./streams.ts";
import { imageOf, workloadManifest } from "./workloads.ts";

type Json = Record<string, unknown>;

const cp = useSharedControlPlane();
const registry = useSharedRegistry("tls");
const objects = objectApi(cp.connection, { fieldManager: "admission-test" });
const streams = streamsOf(cp);

let ns = "";
let other = "";
let admission: AdmissionOperator | undefined;
let ruby25: PushedImage;
let ruby33: PushedImage;
let tools: PushedImage;
const repo = () => `${registry.host}/lookup/ruby`;

async function create(
  kind: PodTemplateKindName,
  name: string,
  fixture: Parameters<typeof workloadManifest>[3],
  namespace = ns,
) {
  return (await objects.create(
    podTemplateKind(kind),
    workloadManifest(kind, namespace, name, fixture),
  )) as Json;
}

beforeAll(async () => {
  ns = await createNamespace(cp, "lookup");
  other = await createNamespace(cp, "lookup-other");
  [ruby25, ruby33, tools] = await Promise.all([
    pushImage(registry, "lookup/ruby", "2.5"),
    pushImage(registry, "lookup/ruby", "3.3"),
    pushImage(registry, "lookup/tools", "1"),
  ]);
  admission = await startAdmissionOperator(cp, [ns, other], { deps: { caBundle: registry.caPem ?? "" } });
  // ruby: lookup on; 2.5 and 3.3 imported, latest follows 3.3, 2.6 has no image (not pushed).
  await streams.create(ns, "ruby", {
    lookupPolicy: { local: true },
    tags: [
      { name: "2.5", from: { kind: "DockerImage", name: `${repo()}:2.5` } },
      { name: "3.3", from: { kind: "DockerImage", name: `${repo()}:3.3` } },
      { name: "latest", from: { kind: "ImageStreamTag", name: "3.3" } },
      { name: "2.6", from: { kind: "DockerImage", name: `${repo()}:2.6` } },
    ],
  });
  // tools: no lookup policy (only resolve-names resolves it); also in the other namespace, with lookup.
  await streams.create(ns, "tools", {
    tags: [{ name: "1", from: { kind: "DockerImage", name: `${registry.host}/lookup/tools:1` } }],
  });
  await streams.create(other, "elsewhere", {
    lookupPolicy: { local: true },
    tags: [{ name: "1", from: { kind: "DockerImage", name: `${registry.host}/lookup/tools:1` } }],
  });
  await Promise.all([
    streams.imported(ns, "ruby", "2.5", ruby25.digest),
    streams.imported(ns, "ruby", "latest", ruby33.digest),
    streams.imported(ns, "tools", "1", tools.digest),
    streams.imported(other, "elsewhere", "1", tools.digest),
    streams.failed(ns, "ruby", "2.6", "NotFound"),
  ]);
}, 120_000);

afterAll(async () => {
  await admission?.remove();
});

describe("image lookup (lookupPolicy.local) through kube-apiserver", () => {
  it.each(POD_TEMPLATE_KINDS.map((k) => k.kind))(
    "resolves ruby:2.5 in a %s on CREATE, containers and init containers",
    async (kind) => {
      const name = `web-${kind.toLowerCase()}`;
      const stored = await create(kind, name, {
        containers: [{ name: "web", image: "ruby:2.5" }],
        initContainers: [{ name: "setup", image: "ruby:3.3" }],
      });
      expect(imageOf(kind, stored, "web")).toBe(`${repo()}@${ruby25.digest}`);
      expect(imageOf(kind, stored, "setup", "initContainers")).toBe(`${repo()}@${ruby33.digest}`);
    },
  );

  it.each(POD_TEMPLATE_KINDS.filter((k) => !k.podTemplateImmutable).map((k) => k.kind))(
    "resolves again on UPDATE of a %s (a later apply of a short name)",
    async (kind) => {
      const name = `upd-${kind.toLowerCase()}`;
      const created = await create(kind, name, { containers: [{ name: "web", image: "ruby:2.5" }] });
      const pointer = ["", ...podTemplateKind(kind).podSpecPath, "containers", "0", "image"].join("/");
      const updated = (await objects.jsonPatch(podTemplateKind(kind), { namespace: ns, name }, [
        { op: "test", path: pointer, value: imageOf(kind, created, "web") },
        { op: "replace", path: pointer, value: "ruby:3.3" },
      ])) as Json;
      expect(imageOf(kind, updated, "web")).toBe(`${repo()}@${ruby33.digest}`);
    },
  );

  it("resolves a bare stream name to its latest tag and stream@sha256 to that image of the history", async () => {
    const stored = await create("Deployment", "bare-and-digest", {
      containers: [
        { name: "bare", image: "ruby" },
        { name: "digest", image: `ruby@${ruby25.digest}` },
      ],
    });
    expect(imageOf("Deployment", stored, "bare")).toBe(`${repo()}@${ruby33.digest}`);
    expect(imageOf("Deployment", stored, "digest")).toBe(`${repo()}@${ruby25.digest}`);
  });

  it("leaves names with a registry or a path, and streams without lookup, as written", async () => {
    const stored = await create("Deployment", "untouched", {
      containers: [
        { name: "a", image: "docker.io/library/ruby:2.5" },
        { name: "b", image: "lookup/ruby:2.5" },
        { name: "c", image: "tools:1" },
        { name: "d", image: "nosuchstream:1" },
      ],
    });
    expect(["a", "b", "c", "d"].map((c) => imageOf("Deployment", stored, c))).toEqual([
      "docker.io/library/ruby:2.5",
      "lookup/ruby:2.5",
      "tools:1",
      "nosuchstream:1",
    ]);
  });

  it("resolves every stream of the namespace for a pod template with resolve-names, and a Pod with it", async () => {
    const annotation = { "alpha.image.policy.openshift.io/resolve-names": "*" };
    const deployment = await create("Deployment", "resolve-names", {
      containers: [{ name: "tools", image: "tools:1" }],
      templateAnnotations: annotation,
    });
    expect(imageOf("Deployment", deployment, "tools")).toBe(`${registry.host}/lookup/tools@${tools.digest}`);
    const pod = await create("Pod", "resolve-names-pod", {
      containers: [{ name: "tools", image: "tools:1" }],
      templateAnnotations: annotation,
    });
    expect(imageOf("Pod", pod, "tools")).toBe(`${registry.host}/lookup/tools@${tools.digest}`);
  });

  it("never resolves a stream of another namespace", async () => {
    const stored = await create("Deployment", "cross-namespace", {
      containers: [{ name: "web", image: "elsewhere:1" }],
    });
    expect(imageOf("Deployment", stored, "web")).toBe("elsewhere:1");
    const there = await create(
      "Deployment",
      "same-namespace",
      { containers: [{ name: "web", image: "elsewhere:1" }] },
      other,
    );
    expect(imageOf("Deployment", there, "web")).toBe(`${registry.host}/lookup/tools@${tools.digest}`);
  });

  it("leaves a tag that has no image yet as written, with a warning kubectl prints", async () => {
    const manifest = workloadManifest("Deployment", ns, "not-imported", {
      containers: [
        { name: "web", image: "ruby:2.6" },
        { name: "gone", image: "ruby:9" },
      ],
    });
    const applied = await kubectl(cp, ["apply", "-f", "-"], JSON.stringify(manifest));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain(
      'Warning: container "web": image "ruby:2.6" left as written: tag ruby:2.6 has no image yet: its import failed (NotFound',
    );
    expect(applied.stderr).toContain(
      'Warning: container "gone": image "ruby:9" left as written: image stream ruby has no tag 9',
    );
    const stored = (await objects.get(podTemplateKind("Deployment"), {
      namespace: ns,
      name: "not-imported",
    })) as Json;
    expect(imageOf("Deployment", stored, "web")).toBe("ruby:2.6");
  });

  it("resolves the images of kubectl debug's ephemeral containers (pods/ephemeralcontainers)", async () => {
    await create("Pod", "debug-me", { containers: [{ name: "web", image: "ruby:2.5" }] });
    const debugged = await kubectl(cp, [
      "debug",
      "-n",
      ns,
      "debug-me",
      "--image=ruby:3.3",
      "--container=debugger",
    ]);
    expect(debugged.code, debugged.stderr).toBe(0);
    const pod = (await objects.get(podTemplateKind("Pod"), { namespace: ns, name: "debug-me" })) as Json;
    expect(imageOf("Pod", pod, "debugger", "ephemeralContainers")).toBe(`${repo()}@${ruby33.digest}`);
  });

  it("lets the ReplicaSets and Pods of a Deployment through untouched: the webhook is not even called for them", async () => {
    const before = await lookupCalls();
    await create("Deployment", "rollout", { containers: [{ name: "web", image: "ruby:2.5" }] });
    const pods = await eventuallyPods("rollout");
    expect(pods.map((p) => imageOf("Pod", p, "web"))).toEqual(pods.map(() => `${repo()}@${ruby25.digest}`));
    // One call: the Deployment's CREATE. Its ReplicaSet and Pods (controller-owned) and the
    // controllers' updates of the Deployment (resolved images) fail the match conditions.
    expect((await lookupCalls()) - before).toBe(1);
  });
});

/** The image-lookup AdmissionReviews the operator answered, from its own metrics. */
async function lookupCalls(): Promise<number> {
  const { body } = (await admission?.operator.metrics.exposition()) ?? { body: "" };
  return body
    .split("\n")
    .filter((l) => l.startsWith('imagestream_admission_requests_total{webhook="image-lookup"'))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

async function eventuallyPods(app: string): Promise<Json[]> {
  return eventually(async () => {
    const list = (await kubectl(cp, ["get", "pods", "-n", ns, "-l", `app=${app}`, "-o", "json"])).stdout;
    const items = (JSON.parse(list || "{}") as { items?: Json[] }).items ?? [];
    return items.length > 0 ? items : undefined;
  }, `pods of ${app}`);
}
