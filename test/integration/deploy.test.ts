// The Helm chart and the plain manifests rendered from it, against the real control plane:
// they lint, validate their values, apply (server-side dry-run, then for real, and with
// `helm install`), and the RBAC they grant is exactly what the operator calls: enough for the
// operator process running with the ServiceAccount's token, and nothing beyond that.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, type V1Pod } from "@kubernetes/client-node";
import { dump, load, loadAll } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mutatingWebhookConfiguration, webhookNamespaceSelector } from "../../src/admission/index.ts";
import type { ImageStream } from "../../src/api/types.ts";
import { SETTINGS } from "../../src/config/index.ts";
import {
  type BuiltImage,
  buildImage,
  createNamespace,
  eventually,
  freePort,
  imageConfig,
  kubectl,
  mountOptions,
  podContainerSpec,
  processStatus,
  pushImage,
  startContainer,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";

const root = resolve(import.meta.dirname, "../..");
const CHART = join(root, "deploy", "helm", "imagestream-operator");
const cp = useSharedControlPlane();
const plain = useSharedRegistry("plain");
const authz = cp.kubeConfig.makeApiClient(AuthorizationV1Api);
const streamsApi = cp.kubeConfig.makeApiClient(CustomObjectsApi);
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
const work = mkdtempSync(join(tmpdir(), "isop-deploy-"));
const suffix = randomBytes(3).toString("hex");

type Json = Record<string, unknown>;
interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** helm from $HELM_BIN, else built once by scripts/build-helm.sh (cached); its state in a temp dir. */
const helmBin =
  process.env.HELM_BIN ??
  join(execFileSync("bash", [join(root, "scripts", "build-helm.sh")], { encoding: "utf8" }).trim(), "helm");
const helmEnv = {
  ...process.env,
  HELM_CACHE_HOME: join(work, "helm-cache"),
  HELM_CONFIG_HOME: join(work, "helm-config"),
  HELM_DATA_HOME: join(work, "helm-data"),
};
const helm = (args: string[]) => exec(helmBin, args, helmEnv);

async function mustSucceed(what: string, result: Promise<Result>): Promise<string> {
  const r = await result;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Renders the chart through scripts/render-manifests.ts into a fresh directory. */
/**
 * Removes what `kubectl apply -k` of a rendered release created: its namespaces and its
 * cluster-scoped objects, the webhooks' configuration included (left behind without its Service,
 * its failurePolicy Fail would refuse every later suite's ImageStreamImport).
 */
async function removeApplied(release: string, namespaces: string[]): Promise<void> {
  await kubectl(cp, ["delete", "namespace", ...namespaces, "--wait=false"]);
  await kubectl(cp, [
    "delete",
    "clusterrole,clusterrolebinding,mutatingwebhookconfiguration",
    "-l",
    `app.kubernetes.io/instance=${release}`,
  ]);
}

async function renderManifests(release: string, namespace: string, sets: string[] = []): Promise<string> {
  const out = join(work, release);
  await mustSucceed(
    "render-manifests",
    exec(
      process.execPath,
      [
        join(root, "scripts", "render-manifests.ts"),
        "--output",
        out,
        "--release",
        release,
        "--namespace",
        namespace,
        ...sets.flatMap((s) => ["--set", s]),
      ],
      { ...process.env, HELM_BIN: helmBin },
    ),
  );
  return out;
}

async function template(sets: string[]): Promise<Json[]> {
  const out = await mustSucceed(
    "helm template",
    helm(["template", "t", CHART, "--namespace", "t", ...sets.flatMap((s) => ["--set", s])]),
  );
  return loadAll(out).filter((d): d is Json => typeof d === "object" && d !== null);
}

function find(docs: Json[], kind: string, name?: string): Json {
  const doc = docs.find(
    (d) => d.kind === kind && (name === undefined || (d.metadata as Json | undefined)?.name === name),
  );
  if (!doc) throw new Error(`no ${kind} ${name ?? ""} in the render`);
  return doc;
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function grantedResources(docs: Json[], name: string): string[] {
  return (find(docs, "ClusterRole", name).rules as Rule[]).flatMap((r) => r.resources);
}

// ---- What the operator calls, read from the code ----

interface Access {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Omitted: all namespaces (what an informer of the whole cluster lists and watches). */
  namespace?: string;
  name?: string;
}

function each(group: string, resource: string, verbs: string[], more: Partial<Access> = {}): Access[] {
  return verbs.map((verb) => ({ verb, group, resource, ...more }));
}

/** Everything the controllers do in a namespace they watch. */
function controllerAccess(namespace: string): Access[] {
  const ns = { namespace };
  return [
    // src/imports/controller.ts: stream informer, fresh get, annotation patch, status update.
    ...each("image.openshift.io", "imagestreams", ["get", "list", "watch", "patch"], ns),
    ...each("image.openshift.io", "imagestreams", ["update"], { ...ns, subresource: "status" }),
    // Pull secrets, through informers with type field selectors.
    ...each("", "secrets", ["list", "watch"], ns),
    // src/istags: informer, create, PUT, finalizer patch and delete of ImageStreamTags; their status;
    // user edits merge-patched into the stream's spec (patch above), a missing stream created, the
    // stream's status; owner references with blockOwnerDeletion (authorized as finalizers updates).
    ...each(
      "image.openshift.io",
      "imagestreamtags",
      ["list", "watch", "create", "update", "patch", "delete"],
      ns,
    ),
    ...each("image.openshift.io", "imagestreamtags", ["update"], { ...ns, subresource: "status" }),
    ...each("image.openshift.io", "imagestreams", ["create"], ns),
    ...each("image.openshift.io", "imagestreams", ["update"], { ...ns, subresource: "finalizers" }),
    // src/triggers: metadata informers, a fresh read and a JSON patch of the image field.
    ...["deployments", "statefulsets", "daemonsets", "replicasets"].flatMap((r) =>
      each("apps", r, ["get", "list", "watch", "patch"], ns),
    ),
    ...["cronjobs", "jobs"].flatMap((r) => each("batch", r, ["get", "list", "watch", "patch"], ns)),
    ...each("", "pods", ["get", "list", "watch", "patch"], ns),
    // src/runtime/events.ts: events.k8s.io/v1 Events, series updates by patch.
    ...each("events.k8s.io", "events", ["create", "patch"], ns),
    // src/admission: stored ImageStreamImports (answers) seen by an informer and deleted.
    ...each("image.openshift.io", "imagestreamimports", ["list", "watch", "delete"], ns),
  ];
}

/** The webhooks' certificate Secret in the release namespace, and the caBundle of the chart's configuration. */
function admissionAccess(releaseNamespace: string, fullname: string): Access[] {
  return [
    { verb: "create", group: "", resource: "secrets", namespace: releaseNamespace },
    ...each("", "secrets", ["get", "update"], {
      namespace: releaseNamespace,
      name: `${fullname}-webhook-certs`,
    }),
    ...each("admissionregistration.k8s.io", "mutatingwebhookconfigurations", ["get", "patch"], {
      name: fullname,
    }),
  ];
}

/** Informers of the whole cluster list and watch without a namespace. */
const CLUSTER_WIDE_WATCHES: Access[] = [
  ...each("image.openshift.io", "imagestreams", ["list", "watch"]),
  ...each("image.openshift.io", "imagestreamtags", ["list", "watch"]),
  ...each("", "secrets", ["list", "watch"]),
  ...each("apps", "deployments", ["list", "watch"]),
  ...each("", "pods", ["list", "watch"]),
];

/** Cross-namespace authorization (src/imports/controller.ts, src/triggers/authorization.ts). */
const ACCESS_REVIEW: Access = {
  verb: "create",
  group: "authorization.k8s.io",
  resource: "subjectaccessreviews",
};

function leaderAccess(namespace: string, lease: string): Access[] {
  // src/leader/store.ts: read, create and replace the Lease.
  return [
    { verb: "create", group: "coordination.k8s.io", resource: "leases", namespace },
    ...each("coordination.k8s.io", "leases", ["get", "update"], { namespace, name: lease }),
  ];
}

/** Things the operator never does; a grant of any of them is too broad. */
function forbiddenAccess(namespace: string, releaseNamespace: string, lease: string): Access[] {
  const ns = { namespace };
  return [
    { verb: "*", group: "*", resource: "*", ...ns },
    { verb: "*", group: "*", resource: "*" },
    ...each("", "secrets", ["get", "create", "update", "patch", "delete"], ns),
    // Only its own Secret in the release namespace, and only its own webhook configuration.
    ...each("", "secrets", ["get", "update", "delete"], {
      namespace: releaseNamespace,
      name: "other",
    }),
    ...each("admissionregistration.k8s.io", "mutatingwebhookconfigurations", ["create", "list", "delete"]),
    ...each("admissionregistration.k8s.io", "mutatingwebhookconfigurations", ["patch", "update"], {
      name: "other",
    }),
    ...each("admissionregistration.k8s.io", "validatingwebhookconfigurations", ["patch"]),
    ...each("", "configmaps", ["get", "list"], ns),
    ...each("", "events", ["create"], ns),
    ...each("apps", "deployments", ["create", "update", "delete"], ns),
    ...each("", "pods", ["create", "delete"], ns),
    { verb: "create", group: "", resource: "pods", subresource: "exec", ...ns },
    { verb: "create", group: "", resource: "serviceaccounts", subresource: "token", ...ns },
    // Streams are patched, never replaced or deleted; tags are deleted one by one.
    ...each("image.openshift.io", "imagestreams", ["update", "delete", "deletecollection"], ns),
    ...each("image.openshift.io", "imagestreamtags", ["deletecollection"], ns),
    ...each("rbac.authorization.k8s.io", "rolebindings", ["create"], ns),
    ...each("rbac.authorization.k8s.io", "clusterrolebindings", ["create"]),
    ...each("rbac.authorization.k8s.io", "clusterroles", ["bind", "escalate"]),
    ...each("apiextensions.k8s.io", "customresourcedefinitions", ["create", "update", "delete"]),
    ...each("", "namespaces", ["list"]),
    ...each("", "nodes", ["list"]),
    // The lease: only the release's own, only in the release namespace, never deleted.
    ...each("coordination.k8s.io", "leases", ["get", "update"], {
      namespace: releaseNamespace,
      name: `${lease}-other`,
    }),
    ...each("coordination.k8s.io", "leases", ["delete", "list"], { namespace: releaseNamespace }),
    { verb: "create", group: "coordination.k8s.io", resource: "leases", ...ns },
  ];
}

/** Asks the API server, as the ServiceAccount, whether each access is allowed; returns those that differ. */
async function mismatches(
  serviceAccount: { namespace: string; name: string },
  accesses: Access[],
  expected: boolean,
): Promise<string[]> {
  const wrong: string[] = [];
  for (const a of accesses) {
    const review = await authz.createSubjectAccessReview({
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}`,
          groups: [
            "system:serviceaccounts",
            `system:serviceaccounts:${serviceAccount.namespace}`,
            "system:authenticated",
          ],
          resourceAttributes: { ...a },
        },
      },
    });
    if ((review.status?.allowed === true) !== expected) wrong.push(JSON.stringify(a));
  }
  return wrong;
}

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The Pod the Deployment's ReplicaSet created (it stays Pending: the harness has no kubelet). */
async function pendingPod(namespace: string, release: string): Promise<V1Pod> {
  return await eventually(
    async () => {
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/instance=${release}`,
      });
      return pods.items[0];
    },
    `a Pod of the release ${namespace}/${release}`,
    60_000,
  );
}

describe("Helm chart", () => {
  it("lints clean, also with --strict", async () => {
    for (const args of [
      ["lint", CHART],
      ["lint", "--strict", CHART],
    ]) {
      const r = await helm(args);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("0 chart(s) failed");
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it("defaults to the image the release workflow publishes, tagged with the chart's appVersion", async () => {
    const workflow = load(readFileSync(join(root, ".github", "workflows", "release.yml"), "utf8")) as {
      env: { IMAGE: string };
    };
    const chart = load(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as { appVersion: string };
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
    const deployment = find(await template([]), "Deployment").spec as {
      template: { spec: { containers: { image: string }[] } };
    };
    expect(deployment.template.spec.containers[0]?.image).toBe(`${workflow.env.IMAGE}:${chart.appVersion}`);
  });

  it("rejects values the operator would refuse, naming the value", async () => {
    const cases: [string[], RegExp][] = [
      [["logLevel=loud"], /logLevel/],
      [["scheduledImport.interval=15 minutes"], /interval/],
      [["controllers={import,build}"], /controllers/],
      [["registry.block={http://10.0.0.1}"], /block/],
      [["defaultPlatform=amd64"], /defaultPlatform/],
      [["replicas=2", "leaderElection.enabled=false"], /leaderElection\.enabled/],
      [["caBundle.configMap.name=a", "caBundle.secret.name=b"], /caBundle/],
      [["admission.certificates.source=self"], /source/],
      [["admission.importTimeout=soon"], /importTimeout/],
    ];
    for (const [sets, message] of cases) {
      const r = await helm(["template", "t", CHART, ...sets.flatMap((s) => ["--set", s])]);
      expect(r.code, sets.join(" ")).not.toBe(0);
      expect(r.stderr, sets.join(" ")).toMatch(message);
    }
  });

  it("passes every operator setting to the operator, and runs it locked down", () => {
    const docs = loadAll(
      readFileSync(join(root, "deploy", "manifests", "deployment.yaml"), "utf8"),
    ) as Json[];
    const deployment = find(docs, "Deployment") as {
      spec: { template: { spec: { securityContext: Json; containers: Json[] } } };
    };
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0] as { env: { name: string }[]; securityContext: Json } & Json;
    const envNames = container.env.map((e) => e.name);
    // The kubeconfig is the in-cluster ServiceAccount's; every other setting comes from values.
    const expected = SETTINGS.filter((s) => s.env !== "KUBECONFIG").map((s) => s.env);
    expect(expected.filter((e) => !envNames.includes(e))).toEqual([]);
    expect(envNames).toContain("POD_NAME");
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(container).toMatchObject({
      livenessProbe: { httpGet: { path: "/healthz", port: "health" } },
      readinessProbe: { httpGet: { path: "/readyz", port: "health" } },
    });
  });

  it("grants only what the enabled controllers need", async () => {
    const only = (controllers: string) =>
      template([`controllers={${controllers}}`, "admission.enabled=false"]);
    const triggerOnly = await only("trigger");
    expect(grantedResources(triggerOnly, "t-imagestream-operator")).not.toContain("secrets");
    expect(grantedResources(triggerOnly, "t-imagestream-operator")).not.toContain("imagestreamtags");
    const importOnly = await only("import");
    expect(grantedResources(importOnly, "t-imagestream-operator")).not.toContain("deployments");
    expect(grantedResources(importOnly, "t-imagestream-operator")).toContain("secrets");
    const tagsOnly = await only("imagestreamtag");
    expect(tagsOnly.some((d) => (d.metadata as Json).name === "t-imagestream-operator-access-review")).toBe(
      false,
    );
    expect(tagsOnly.some((d) => (d.metadata as Json).name === "t-imagestream-operator-admission")).toBe(
      false,
    );
    // The webhooks alone: streams, pull secrets, stored answers, access reviews; no workloads.
    const admissionOnly = await template(["controllers=null"]);
    expect(grantedResources(admissionOnly, "t-imagestream-operator")).toEqual(
      expect.arrayContaining(["imagestreams", "imagestreams/status", "imagestreamimports", "secrets"]),
    );
    expect(grantedResources(admissionOnly, "t-imagestream-operator")).not.toContain("deployments");
    expect(
      admissionOnly.some((d) => (d.metadata as Json).name === "t-imagestream-operator-access-review"),
    ).toBe(true);
    const noLeader = await template(["leaderElection.enabled=false"]);
    expect(noLeader.some((d) => (d.metadata as Json).name === "t-imagestream-operator-leader-election")).toBe(
      false,
    );
  });

  it("ships the webhooks the operator itself would register, behind its Service, never for its own namespace", async () => {
    const docs = await template(["namespaces={team,dev}"]);
    const configuration = find(docs, "MutatingWebhookConfiguration", "t-imagestream-operator");
    const expected = mutatingWebhookConfiguration({
      name: "t-imagestream-operator",
      endpoint: { service: { namespace: "t", name: "t-imagestream-operator-webhook", port: 443 } },
      namespaceSelector: webhookNamespaceSelector(["t", "kube-system"], ["team", "dev"]),
    });
    expect(configuration.webhooks).toEqual(expected.webhooks);
    expect(find(docs, "Service", "t-imagestream-operator-webhook").spec).toMatchObject({
      ports: [{ name: "admission", port: 443, targetPort: "admission" }],
    });
    const withCertManager = await template(["admission.certificates.source=certManager"]);
    const injected = find(withCertManager, "MutatingWebhookConfiguration").metadata as Json;
    expect(injected.annotations).toEqual({
      "cert-manager.io/inject-ca-from": "t/t-imagestream-operator-webhook",
    });
    expect(find(withCertManager, "Certificate", "t-imagestream-operator-webhook").spec).toMatchObject({
      secretName: "t-imagestream-operator-webhook-certs",
      dnsNames: [
        "t-imagestream-operator-webhook.t.svc",
        "t-imagestream-operator-webhook.t.svc.cluster.local",
      ],
    });
    // cert-manager's: the operator neither keeps a Secret nor writes the caBundle.
    expect(
      withCertManager.some((d) => (d.metadata as Json).name === "t-imagestream-operator-admission"),
    ).toBe(false);
    const off = await template(["admission.enabled=false"]);
    expect(off.some((d) => d.kind === "MutatingWebhookConfiguration")).toBe(false);
  });

  it("mounts a CA bundle read-only and points the operator at it", async () => {
    const docs = await template(["caBundle.secret.name=registry-ca", "caBundle.secret.key=ca.pem"]);
    const pod = (find(docs, "Deployment").spec as { template: { spec: Json } }).template.spec;
    const container = (pod.containers as Json[])[0] as { env: { name: string; value?: string }[] } & Json;
    expect(container.env.find((e) => e.name === "IMAGESTREAM_CA_BUNDLE")?.value).toBe(
      "/etc/imagestream-operator/ca/ca.pem",
    );
    expect(container.volumeMounts).toContainEqual({
      name: "ca-bundle",
      mountPath: "/etc/imagestream-operator/ca",
      readOnly: true,
    });
    expect(pod.volumes).toContainEqual({
      name: "ca-bundle",
      secret: { secretName: "registry-ca", items: [{ key: "ca.pem", path: "ca.pem" }] },
    });
  });
});

describe("the push walkthroughs' values (examples/push, docs/push.md)", () => {
  const EXAMPLES = join(root, "examples", "push");
  let namespace: string;
  /** The chart rendered as the walkthroughs install it (release imagestream-operator), into a namespace of the test. */
  const render = async (values: string) =>
    loadAll(
      await mustSucceed(
        `helm template -f ${values}`,
        helm([
          "template",
          "imagestream-operator",
          CHART,
          "--namespace",
          namespace,
          "-f",
          join(EXAMPLES, values),
        ]),
      ),
    ).filter((d): d is Json => typeof d === "object" && d !== null);
  const envOf = (docs: Json[]) => {
    const deployment = find(docs, "Deployment", "imagestream-operator").spec as {
      template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
    };
    return Object.fromEntries(
      (deployment.template.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? ""]),
    );
  };
  const portOf = (docs: Json[], service: string) =>
    ((find(docs, "Service", service).spec as { type: string; ports: Json[] }).ports[0] as Json).nodePort;
  const names = (docs: Json[], kind: string) =>
    docs.filter((d) => d.kind === kind).map((d) => (d.metadata as { name: string }).name);

  beforeAll(async () => {
    namespace = await createNamespace(cp, "push-walkthrough");
  });

  it("kind: no registry of the chart's, the operator naming kind's registry localhost:5001 and reaching it as kind-registry:5000", async () => {
    const docs = await render("kind-values.yaml");
    expect(envOf(docs)).toMatchObject({
      IMAGESTREAM_INTEGRATED_REGISTRY_URL: "http://kind-registry:5000",
      IMAGESTREAM_LOCAL_REGISTRY: "localhost:5001",
      IMAGESTREAM_PUBLIC_REGISTRY: "localhost:5001",
      IMAGESTREAM_REGISTRY_ANONYMOUS_PULL: "true",
    });
    expect(names(docs, "Deployment")).toEqual(["imagestream-operator"]);
    expect(portOf(docs, "imagestream-operator-hooks")).toBe(30082);
    expect(names(docs, "Secret")).toContain("imagestream-operator-registry-notifications");
    expect(names(docs, "ClusterRole")).toEqual(
      expect.arrayContaining(
        ["image-puller", "image-pusher", "image-builder"].map((r) => `imagestream-operator-${r}`),
      ),
    );
    const applied = await kubectl(
      cp,
      ["apply", "--dry-run=server", "-f", "-"],
      dump({ kind: "List", apiVersion: "v1", items: docs }),
    );
    expect(applied.code, applied.stderr).toBe(0);
  });

  it("kind: the registry configuration docs/push.md starts kind-registry with is the chart's, with kind's addresses", async () => {
    // The chart renders its own registry's configuration; the kind file must say the same but
    // for the realm, the trust bundle's path and where notifications go.
    const chartDocs = await render("minikube-values.yaml");
    const secret = find(chartDocs, "Secret", "imagestream-operator-registry-config");
    type RegistryConfig = { auth: { token: Json }; notifications: { events: Json; endpoints: Json[] } };
    const chart = load(
      Buffer.from(String((secret.data as Json)["config.yml"]), "base64").toString("utf8"),
    ) as RegistryConfig;
    const kind = load(readFileSync(join(EXAMPLES, "kind-registry-config.yml"), "utf8")) as RegistryConfig;
    const values = load(readFileSync(join(EXAMPLES, "kind-values.yaml"), "utf8")) as {
      integratedRegistry: { auth: { realm: string } };
    };
    expect(kind.auth.token).toEqual({
      ...chart.auth.token,
      realm: values.integratedRegistry.auth.realm,
      rootcertbundle: "/etc/registry/token-ca.crt",
    });
    expect(kind.notifications.events).toEqual(chart.notifications.events);
    const [endpoint] = chart.notifications.endpoints as [Json];
    expect(kind.notifications.endpoints).toEqual([
      {
        ...endpoint,
        url: "http://kind-control-plane:30082/registry/notifications",
        headers: { Authorization: ["Bearer NOTIFICATIONS_TOKEN"] },
      },
    ]);
    expect(new URL(String(endpoint.url)).pathname).toBe("/registry/notifications");
  });

  it("minikube: the chart's registry and the hooks on NodePorts, pods pulling localhost:30500", async () => {
    const docs = await render("minikube-values.yaml");
    expect(envOf(docs)).toMatchObject({
      IMAGESTREAM_INTEGRATED_REGISTRY_URL: `http://imagestream-operator-registry.${namespace}.svc:5000`,
      IMAGESTREAM_LOCAL_REGISTRY: "localhost:30500",
      IMAGESTREAM_PUBLIC_REGISTRY: "localhost:30500",
      IMAGESTREAM_REGISTRY_ANONYMOUS_PULL: "true",
    });
    expect(portOf(docs, "imagestream-operator-registry")).toBe(30500);
    expect(portOf(docs, "imagestream-operator-hooks")).toBe(30082);
    const secret = find(docs, "Secret", "imagestream-operator-registry-config");
    const config = load(
      Buffer.from(String((secret.data as Json)["config.yml"]), "base64").toString("utf8"),
    ) as {
      auth: { token: { realm: string } };
    };
    expect(config.auth.token.realm).toBe("http://localhost:30082/registry/token");
    const applied = await kubectl(
      cp,
      ["apply", "--dry-run=server", "-f", "-"],
      dump({ kind: "List", apiVersion: "v1", items: docs }),
    );
    expect(applied.code, applied.stderr).toBe(0);
  });
});

describe("plain manifests, applied cluster-wide", () => {
  const release = `dpl-${suffix}`;
  const fullname = `${release}-imagestream-operator`;
  const releaseNs = `isop-deploy-${suffix}`;
  const serviceAccount = { namespace: releaseNs, name: fullname };
  let appNs: string;
  let dryRun: Result;
  let existedAfterDryRun: boolean;
  let applied: Result;

  // Every test here needs the objects applied, so applying them is the setup; the first test
  // asserts on how it went.
  beforeAll(async () => {
    const manifests = await renderManifests(release, releaseNs);
    appNs = await createNamespace(cp, "deploy-app");
    // A server-side dry run needs the namespace to exist; creating it is the first step anyway.
    await mustSucceed(
      "apply namespace",
      kubectl(cp, ["apply", "--server-side", "-f", join(manifests, "namespace.yaml")]),
    );
    dryRun = await kubectl(cp, ["apply", "--server-side", "--dry-run=server", "-k", manifests]);
    existedAfterDryRun = (await kubectl(cp, ["get", "deployment", fullname, "-n", releaseNs])).code === 0;
    applied = await kubectl(cp, ["apply", "--server-side", "-k", manifests]);
  }, 15 * 60_000); // a first run builds helm

  afterAll(() => removeApplied(release, [releaseNs, appNs]));

  it("applies with a server-side dry run, then for real", async () => {
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain(`deployment.apps/${fullname} serverside-applied (server dry run)`);
    expect(existedAfterDryRun).toBe(false);

    expect(applied.code, applied.stderr).toBe(0);
    const deployment = await kubectl(cp, ["get", "deployment", fullname, "-n", releaseNs, "-o", "json"]);
    expect(deployment.code, deployment.stderr).toBe(0);
    expect(JSON.parse(deployment.stdout).spec.template.spec.serviceAccountName).toBe(fullname);
  });

  it("grants the ServiceAccount everything the operator calls", async () => {
    const needed = [
      ...controllerAccess(appNs),
      ...CLUSTER_WIDE_WATCHES,
      ACCESS_REVIEW,
      ...leaderAccess(releaseNs, fullname),
      ...admissionAccess(releaseNs, fullname),
    ];
    expect(await mismatches(serviceAccount, needed, true)).toEqual([]);
  });

  it("grants nothing beyond that", async () => {
    expect(await mismatches(serviceAccount, forbiddenAccess(appNs, releaseNs, fullname), false)).toEqual([]);
  });

  it("is enough for the operator running with the ServiceAccount's token: it imports an image", async () => {
    const token = (
      await mustSucceed(
        "create token",
        kubectl(cp, ["create", "token", fullname, "-n", releaseNs, "--duration=1h"]),
      )
    ).trim();
    const cluster = cp.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the harness kubeconfig has no cluster");
    const ca =
      cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString("base64") : undefined);
    const kubeconfig = join(work, "operator.kubeconfig");
    writeFileSync(
      kubeconfig,
      dump({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: cluster.server, "certificate-authority-data": ca } }],
        users: [{ name: "operator", user: { token } }],
        contexts: [{ name: "operator", context: { cluster: "c", user: "operator" } }],
        "current-context": "operator",
      }),
    );
    const pushed = await pushImage(plain, `deploy-${suffix}/app`, "v1");
    await streamsApi.createNamespacedCustomObject({
      group: "image.openshift.io",
      version: "v1",
      plural: "imagestreams",
      namespace: appNs,
      body: {
        apiVersion: "image.openshift.io/v1",
        kind: "ImageStream",
        metadata: { name: "app" },
        spec: {
          tags: [
            {
              name: "v1",
              from: { kind: "DockerImage", name: `${plain.host}/deploy-${suffix}/app:v1` },
              importPolicy: { insecure: true },
            },
          ],
        },
      },
    });

    // The chart's settings, the identity from the token; no inherited IMAGESTREAM_* or KUBECONFIG.
    const child = spawn(
      process.execPath,
      [
        join(root, "src", "main.ts"),
        `--kubeconfig=${kubeconfig}`,
        `--namespaces=${appNs}`,
        "--leader-elect=true",
        `--leader-election-namespace=${releaseNs}`,
        `--leader-election-name=${fullname}`,
        "--metrics-address=0",
        "--health-address=0",
        "--log-level=debug",
        // The chart's admission settings: its Secret and the caBundle of its configuration.
        `--admission-address=127.0.0.1:${await freePort()}`,
        `--admission-service=${releaseNs}/${fullname}-webhook`,
        `--admission-certificate-secret=${releaseNs}/${fullname}-webhook-certs`,
        `--admission-webhook-configuration=${fullname}`,
      ],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_OPTIONS: "--disable-warning=ExperimentalWarning",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const stream = await eventually(async () => {
        const s = (await streamsApi.getNamespacedCustomObject({
          group: "image.openshift.io",
          version: "v1",
          plural: "imagestreams",
          namespace: appNs,
          name: "app",
        })) as ImageStream;
        return s.status?.tags?.[0]?.items?.[0] ? s : undefined;
      }, `the import (operator output so far:\n${output})`);
      expect(stream.status?.tags?.[0]?.items?.[0]?.image).toBe(pushed.digest);
      // The ImageStreamTag controller created the tag's object; the elector holds the chart's Lease.
      await eventually(async () => {
        const istag = await kubectl(cp, ["get", "imagestreamtags.image.openshift.io", "app.v1", "-n", appNs]);
        return istag.code === 0 ? true : undefined;
      }, "the ImageStreamTag app.v1");
      const lease = await kubectl(cp, ["get", "lease", fullname, "-n", releaseNs, "-o", "json"]);
      expect(lease.code, lease.stderr).toBe(0);
      expect(JSON.parse(lease.stdout).spec.holderIdentity).toBeTruthy();
      // The operator kept its webhook certificates and published their CA in the chart's webhooks.
      await eventually(async () => {
        const hooks = await kubectl(cp, ["get", "mutatingwebhookconfiguration", fullname, "-o", "json"]);
        const webhooks = (
          JSON.parse(hooks.stdout || "{}") as { webhooks?: { clientConfig: { caBundle?: string } }[] }
        ).webhooks;
        return webhooks?.length === 3 && webhooks.every((w) => w.clientConfig.caBundle) ? true : undefined;
      }, `the caBundle of ${fullname} (operator output so far:\n${output})`);
      // Keep it running a little: informers, events and the lease all act under the token.
      await new Promise((r) => setTimeout(r, 3000));
      expect(child.exitCode).toBeNull();
      expect(output).not.toMatch(/forbidden|HTTP-Code: 403|"statusCode":403/i);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited, output).toBe(0);
  });
});

describe("plain manifests with the integrated registry and receivers", () => {
  const release = `reg-${suffix}`;
  const fullname = `${release}-imagestream-operator`;
  const releaseNs = `isop-registry-${suffix}`;
  const serviceAccount = { namespace: releaseNs, name: fullname };
  let appNs: string;
  let applied: Result;

  beforeAll(async () => {
    const manifests = await renderManifests(release, releaseNs, [
      "integratedRegistry.enabled=true",
      "receivers.enabled=true",
    ]);
    appNs = await createNamespace(cp, "deploy-push");
    await mustSucceed(
      "apply namespace",
      kubectl(cp, ["apply", "--server-side", "-f", join(manifests, "namespace.yaml")]),
    );
    applied = await kubectl(cp, ["apply", "--server-side", "-k", manifests]);
  }, 15 * 60_000);

  afterAll(() => removeApplied(release, [releaseNs, appNs]));

  it("grants the hooks listener and the push controllers everything they call", async () => {
    expect(applied.code, applied.stderr).toBe(0);
    const ns = { namespace: appNs };
    const keys = `${release}-imagestream-operator-registry-token-key`;
    const bundle = `${release}-imagestream-operator-registry-token-ca`;
    const needed: Access[] = [
      ...controllerAccess(appNs),
      ...CLUSTER_WIDE_WATCHES,
      ACCESS_REVIEW,
      // src/push: a push creates a missing stream and writes its status; src/receivers: tag requests.
      ...each("image.openshift.io", "imagestreams", ["get", "create", "patch"], ns),
      ...each("image.openshift.io", "imagestreams", ["update"], { ...ns, subresource: "status" }),
      // src/receivers: Receiver informer and status; their Secrets through a typed informer.
      ...each("imagestream-operator.io", "receivers", ["list", "watch"]),
      ...each("imagestream-operator.io", "receivers", ["update"], { ...ns, subresource: "status" }),
      // src/token-server: TokenReview of a presented token; the signing Secret and the CA ConfigMap.
      { verb: "create", group: "authentication.k8s.io", resource: "tokenreviews" },
      ...each("", "secrets", ["create"], { namespace: releaseNs }),
      ...each("", "secrets", ["get", "update"], { namespace: releaseNs, name: keys }),
      ...each("", "configmaps", ["create"], { namespace: releaseNs }),
      ...each("", "configmaps", ["get", "update"], { namespace: releaseNs, name: bundle }),
    ];
    expect(await mismatches(serviceAccount, needed, true)).toEqual([]);
  });

  it("grants nothing beyond that: other Secrets and ConfigMaps stay closed", async () => {
    const forbidden: Access[] = [
      ...forbiddenAccess(appNs, releaseNs, fullname),
      ...each("", "secrets", ["get", "update", "delete"], {
        namespace: releaseNs,
        name: `${fullname}-other`,
      }),
      ...each("", "configmaps", ["get", "update", "delete"], {
        namespace: releaseNs,
        name: `${fullname}-other`,
      }),
      ...each("imagestream-operator.io", "receivers", ["create", "update", "delete"], { namespace: appNs }),
    ];
    expect(await mismatches(serviceAccount, forbidden, false)).toEqual([]);
  });
});

describe("helm install, watching one namespace", () => {
  const release = `hlm-${suffix}`;
  const fullname = `${release}-imagestream-operator`;
  const releaseNs = `isop-helm-${suffix}`;
  const serviceAccount = { namespace: releaseNs, name: fullname };
  let watched: string;
  let other: string;
  let installed: Result;
  // The image built here from the Dockerfile, pushed to the loopback test registry.
  const imageRepository = `${plain.host}/imagestream-operator-${suffix}`;
  let built: BuiltImage;
  let pushed: { reference: string; digest: string };

  beforeAll(async () => {
    watched = await createNamespace(cp, "deploy-watched");
    other = await createNamespace(cp, "deploy-other");
    built = await buildImage({ push: `${imageRepository}:${suffix}` });
    if (!built.pushed) throw new Error("scripts/image.sh --push recorded no pushed digest");
    pushed = built.pushed;
    installed = await helm([
      "install",
      release,
      CHART,
      "--namespace",
      releaseNs,
      "--create-namespace",
      "--kubeconfig",
      cp.kubeconfigPath,
      "--set",
      `namespaces={${watched}}`,
      "--set",
      `image.repository=${imageRepository}`,
      "--set",
      `image.digest=${pushed.digest}`,
    ]);
  }, 15 * 60_000); // outside `npm test` a first build assembles the base image too

  afterAll(async () => {
    await helm(["uninstall", release, "-n", releaseNs, "--kubeconfig", cp.kubeconfigPath]);
    await kubectl(cp, ["delete", "namespace", releaseNs, watched, other, "--wait=false"]);
  });

  it("installs with Helm, binding the role in the watched namespace only", async () => {
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toContain(`Watching: ${watched}`);
    const binding = await kubectl(cp, ["get", "rolebinding", fullname, "-n", watched, "-o", "json"]);
    expect(binding.code, binding.stderr).toBe(0);
    expect(JSON.parse(binding.stdout).roleRef).toMatchObject({ kind: "ClusterRole", name: fullname });
    expect((await kubectl(cp, ["get", "rolebinding", fullname, "-n", other])).code).not.toBe(0);
  });

  it("grants the controllers' access in the watched namespace only", async () => {
    const watches = (namespace: string) =>
      controllerAccess(namespace).filter((a) => a.verb === "list" || a.verb === "watch");
    expect(
      await mismatches(
        serviceAccount,
        [
          ...controllerAccess(watched),
          ACCESS_REVIEW,
          ...leaderAccess(releaseNs, fullname),
          ...admissionAccess(releaseNs, fullname),
        ],
        true,
      ),
    ).toEqual([]);
    expect(
      await mismatches(
        serviceAccount,
        [...controllerAccess(other), ...CLUSTER_WIDE_WATCHES, ...watches(releaseNs)],
        false,
      ),
    ).toEqual([]);
  });

  it("creates the Deployment with the image built here, by digest; its Pod stays Pending (no kubelet here)", async () => {
    expect(installed.code, installed.stderr).toBe(0);
    const deployment = await kubectl(cp, ["get", "deployment", fullname, "-n", releaseNs, "-o", "json"]);
    expect(deployment.code, deployment.stderr).toBe(0);
    const image = `${imageRepository}@${pushed.digest}`;
    expect(JSON.parse(deployment.stdout).spec.template.spec.containers[0].image).toBe(image);
    // The ReplicaSet controller creates the Pod; nothing schedules or runs it in the harness.
    const pod = await pendingPod(releaseNs, release);
    expect(pod.spec?.containers[0]?.image).toBe(image);
    expect(pod.status?.phase).toBe("Pending");
    expect(pod.spec?.nodeName).toBeUndefined();
  });

  it("runs that image as its Pod: uid 1000, read-only root, the chart's token; ready, imports, stops on SIGTERM", async () => {
    const pod = await pendingPod(releaseNs, release);
    const volumeDir = mkdtempSync(join(work, "pod-"));
    // No pod network namespace here: the operator listens on free loopback ports instead of the
    // chart's 8080/8081, which other runs on this machine may hold.
    const healthPort = await freePort();
    const spec = await podContainerSpec(cp, pod, "operator", await imageConfig(built), {
      volumeDir,
      envOverrides: {
        IMAGESTREAM_HEALTH_ADDRESS: `127.0.0.1:${healthPort}`,
        IMAGESTREAM_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
        IMAGESTREAM_ADMISSION_ADDRESS: `127.0.0.1:${await freePort()}`,
      },
    });
    expect(spec).toMatchObject({ uid: 1000, gid: 1000, readOnlyRootFilesystem: true });
    expect(spec.readOnlyBinds.map((b) => b.path)).toContain("/var/run/secrets/kubernetes.io/serviceaccount");
    expect(spec.tmpfs.map((t) => t.path)).toEqual(["/tmp"]);

    // The operator imports its own image from the test registry.
    await streamsApi.createNamespacedCustomObject({
      group: "image.openshift.io",
      version: "v1",
      plural: "imagestreams",
      namespace: watched,
      body: {
        apiVersion: "image.openshift.io/v1",
        kind: "ImageStream",
        metadata: { name: "operator" },
        spec: {
          tags: [
            {
              name: suffix,
              from: { kind: "DockerImage", name: `${imageRepository}:${suffix}` },
              importPolicy: { insecure: true },
            },
          ],
        },
      },
    });

    const container = await startContainer(built, spec);
    try {
      const pid = await container.init();
      const status = processStatus(pid);
      expect(status?.Uid?.split(/\s+/)).toEqual(["1000", "1000", "1000", "1000"]);
      expect(status?.Gid?.split(/\s+/)).toEqual(["1000", "1000", "1000", "1000"]);
      expect(status?.Groups ?? "").toBe("");
      expect(status?.CapEff).toMatch(/^0+$/);
      expect(status?.NoNewPrivs).toBe("1");
      expect(mountOptions(pid, "/")).toContain("ro");

      const probe = pod.spec?.containers[0]?.readinessProbe?.httpGet?.path ?? "";
      expect(probe).toBe("/readyz");
      await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${healthPort}${probe}`);
          return res.status === 200 ? true : undefined;
        },
        `${probe} (output so far: ${await container.output()})`,
        60_000,
      );

      const stream = await eventually(
        async () => {
          const s = (await streamsApi.getNamespacedCustomObject({
            group: "image.openshift.io",
            version: "v1",
            plural: "imagestreams",
            namespace: watched,
            name: "operator",
          })) as ImageStream;
          return s.status?.tags?.[0]?.items?.[0] ? s : undefined;
        },
        "the import by the operator in the image",
        60_000,
      );
      expect(stream.status?.tags?.[0]?.items?.[0]?.image).toBe(pushed.digest);
      // Leader election ran under the token, as the Pod (POD_NAME from the downward API).
      const lease = await kubectl(cp, ["get", "lease", fullname, "-n", releaseNs, "-o", "json"]);
      expect(lease.code, lease.stderr).toBe(0);
      expect(JSON.parse(lease.stdout).spec.holderIdentity).toContain(pod.metadata?.name);
      // Its webhook certificates: kept in the chart's Secret, their CA published in the chart's webhooks.
      await eventually(
        async () => {
          const hooks = await kubectl(cp, ["get", "mutatingwebhookconfiguration", fullname, "-o", "json"]);
          const parsed = JSON.parse(hooks.stdout || "{}") as {
            webhooks?: { clientConfig: { caBundle?: string } }[];
          };
          return parsed.webhooks?.every((w) => w.clientConfig.caBundle) ? true : undefined;
        },
        `the caBundle of ${fullname} (output so far: ${await container.output()})`,
      );

      // A kubelet sends SIGTERM and waits terminationGracePeriodSeconds before SIGKILL.
      const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
      await container.signal("SIGTERM");
      let kubeletWaits: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        container.exitCode(),
        new Promise<"still running">((r) => {
          kubeletWaits = setTimeout(() => r("still running"), grace * 1000);
        }),
      ]);
      clearTimeout(kubeletWaits);
      const output = await container.output();
      expect(code, `exit after SIGTERM within ${grace}s; output:\n${output}`).toBe(0);
      expect(output).not.toMatch(/forbidden|"statusCode":403|EROFS|read-only file system/i);
    } finally {
      await container.remove();
    }
  }, 180_000);

  it("leaves the CRDs in place after helm uninstall", async () => {
    const removed = await helm(["uninstall", release, "-n", releaseNs, "--kubeconfig", cp.kubeconfigPath]);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await kubectl(cp, ["get", "rolebinding", fullname, "-n", watched])).code).not.toBe(0);
    expect((await kubectl(cp, ["get", "crd", "imagestreams.image.openshift.io"])).code).toBe(0);
  });
});
