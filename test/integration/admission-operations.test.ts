// The webhooks as an operator runs them, through kube-apiserver: what users see while the operator
// is down (each webhook's failurePolicy), the operator's own namespace and kube-system never
// depending on it, certificates rotating (short lifetimes) while requests keep being answered, and
// several replicas keeping one Secret without fighting over it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AdmissionregistrationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateSource, materialFromSecret, secretCertificates } from "../../src/admission/index.ts";
import { IMAGESTREAMTAGS, podTemplateKind, SECRETS } from "../../src/api/index.ts";
import { createLogger } from "../../src/log/logger.ts";
import { certificateInfo, isIssuedBy, splitCertificates } from "../../src/pki/index.ts";
import { KubeApiError, objectApi } from "../../src/runtime/index.ts";
import {
  createNamespace,
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
const objects = objectApi(cp.connection, { fieldManager: "admission-ops-test" });
const streams = streamsOf(cp);
const admissionApi = cp.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
const DEPLOYMENTS = podTemplateKind("Deployment");

let image: PushedImage;
const running: AdmissionOperator[] = [];

beforeAll(async () => {
  image = await pushImage(registry, "admission-ops/ruby", "2.5");
});

afterAll(async () => {
  for (const operator of running) await operator.remove();
});

async function rubyStream(namespace: string): Promise<void> {
  await streams.create(namespace, "ruby", {
    lookupPolicy: { local: true },
    tags: [{ name: "2.5", from: { kind: "DockerImage", name: `${registry.host}/admission-ops/ruby:2.5` } }],
  });
  await streams.imported(namespace, "ruby", "2.5", image.digest);
}

async function deploy(namespace: string, name: string, short = "ruby:2.5"): Promise<string | undefined> {
  const created = (await objects.create(
    DEPLOYMENTS,
    workloadManifest("Deployment", namespace, name, { containers: [{ name: "web", image: short }] }),
  )) as Json;
  return imageOf("Deployment", created, "web");
}

/** POST of an ImageStreamTag named like oc names them: the API error it gets. */
async function colonIstag(namespace: string, name: string): Promise<KubeApiError | undefined> {
  try {
    await objects.create(IMAGESTREAMTAGS, {
      apiVersion: "image.openshift.io/v1",
      kind: "ImageStreamTag",
      metadata: { name, namespace },
      tag: {
        name: name.split(":")[1] ?? "",
        from: { kind: "DockerImage", name: "registry.example.com/a:1" },
      },
    });
    return undefined;
  } catch (err) {
    return KubeApiError.from(err);
  }
}

describe("while the operator is down", () => {
  let ns = "";
  let admission: AdmissionOperator;

  beforeAll(async () => {
    ns = await createNamespace(cp, "admission-down");
    admission = await startAdmissionOperator(cp, [ns], { deps: { caBundle: registry.caPem ?? "" } });
    running.push(admission);
    await rubyStream(ns);
    expect(await deploy(ns, "before")).toBe(`${registry.host}/admission-ops/ruby@${image.digest}`);
    await admission.stop();
  }, 120_000);

  it("image lookup (failurePolicy Ignore): objects are stored with their names unresolved", async () => {
    expect(await deploy(ns, "while-down")).toBe("ruby:2.5");
  });

  it("oc tag's ImageStreamTag and oc import-image (failurePolicy Fail): refused, naming the webhook", async () => {
    const refused = await colonIstag(ns, "ruby:prod");
    expect(refused?.statusCode).toBe(500);
    expect(refused?.message).toContain(
      'failed calling webhook "imagestreamtags.admission.image.openshift.io"',
    );
    const imported = await objects
      .create(
        { group: "image.openshift.io", version: "v1", plural: "imagestreamimports" },
        {
          apiVersion: "image.openshift.io/v1",
          kind: "ImageStreamImport",
          metadata: { name: "ruby", namespace: ns },
          spec: {
            import: true,
            images: [{ from: { kind: "DockerImage", name: "registry.example.com/a:1" } }],
          },
        },
      )
      .catch((err: unknown) => KubeApiError.from(err));
    expect((imported as KubeApiError | undefined)?.message).toContain(
      'failed calling webhook "imagestreamimports.admission.image.openshift.io"',
    );
  });

  it("ImageStreamTags named <stream>.<tag> never wait for the operator (the webhook's match condition)", async () => {
    const created = await objects.create(IMAGESTREAMTAGS, {
      apiVersion: "image.openshift.io/v1",
      kind: "ImageStreamTag",
      metadata: { name: "ruby.prod", namespace: ns },
      tag: { name: "prod", from: { kind: "ImageStreamTag", name: "ruby:2.5" } },
    });
    expect(created.metadata?.name).toBe("ruby.prod");
  });

  it("the operator's own namespace and kube-system never call the webhooks (no deadlock)", async () => {
    for (const namespace of [admission.operatorNamespace, "kube-system"]) {
      const name = `no-deadlock-${Date.now()}`;
      expect(await deploy(namespace, name)).toBe("ruby:2.5");
      await objects.delete(DEPLOYMENTS, { namespace, name });
      // The API server's own name check answers, not a webhook.
      const refused = await colonIstag(namespace, "ruby:prod");
      expect(refused?.statusCode).toBe(422);
    }
  });

  it("a restarted operator serves again with the certificates it kept in its Secret", async () => {
    const before = await admissionApi.readMutatingWebhookConfiguration({ name: admission.configurationName });
    const again = await startAdmissionOperator(cp, [ns], {
      operatorNamespace: admission.operatorNamespace,
      configurationName: admission.configurationName,
      deps: { caBundle: registry.caPem ?? "" },
    });
    running.push(again);
    expect(await deploy(ns, "after-restart")).toBe(`${registry.host}/admission-ops/ruby@${image.digest}`);
    const after = await admissionApi.readMutatingWebhookConfiguration({ name: admission.configurationName });
    expect(after.webhooks?.[0]?.clientConfig.caBundle).toBe(before.webhooks?.[0]?.clientConfig.caBundle);
    await again.stop();
  });
});

describe("certificate rotation (short lifetimes)", () => {
  it("renews the serving certificate and rotates the CA while every request is answered by the webhook", async () => {
    const ns = await createNamespace(cp, "admission-rotate");
    const admission = await startAdmissionOperator(cp, [ns], {
      flags: ["--admission-certificate-lifetime=30s", "--admission-ca-lifetime=75s"],
      deps: { caBundle: registry.caPem ?? "" },
    });
    running.push(admission);
    await rubyStream(ns);
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const servings = new Set<string>();
    const cas = new Set<string>();
    let bundleSizes = new Set<number>();
    const resolved = `${registry.host}/admission-ops/ruby@${image.digest}`;
    const deadline = Date.now() + 95_000;
    let i = 0;
    while (Date.now() < deadline) {
      i++;
      // Lookup's failurePolicy is Ignore: a TLS failure would store the name unresolved.
      expect(await deploy(ns, `rotate-${i}`), `deployment ${i}: ${await webhookFailures()}`).toBe(resolved);
      // The ImageStreamTag webhook's is Fail: a TLS failure would be "failed calling webhook".
      const answer = await colonIstag(ns, `ruby:t${i}`);
      expect(answer?.statusCode, answer?.message).toBe(403);
      const secret = await core.readNamespacedSecret({
        namespace: admission.operatorNamespace,
        name: admission.secretName,
      });
      const material = materialFromSecret(secret as never);
      if (material.serving) servings.add(material.serving.certificatePem);
      if (material.ca) cas.add(material.ca.certificatePem);
      const configuration = await admissionApi.readMutatingWebhookConfiguration({
        name: admission.configurationName,
      });
      const bundle = Buffer.from(
        configuration.webhooks?.[0]?.clientConfig.caBundle ?? "",
        "base64",
      ).toString();
      bundleSizes = new Set([...bundleSizes, splitCertificates(bundle).length]);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    // 95 s of 30 s serving certificates renewed at 20 s, and one CA rotation at 50 s of 75.
    expect(servings.size).toBeGreaterThanOrEqual(3);
    expect(cas.size).toBeGreaterThanOrEqual(2);
    // During the CA rotation the published bundle held the old and the new CA.
    expect(bundleSizes.has(2)).toBe(true);
  }, 180_000);
});

/** What kube-apiserver logged about failed webhook calls (the reason a failurePolicy Ignore hides). */
async function webhookFailures(): Promise<string> {
  const log = await readFile(join(cp.dir, "kube-apiserver.log"), "utf8").catch(() => "");
  return log
    .split("\n")
    .filter((line) => line.includes("failed calling webhook"))
    .slice(-3)
    .join("\n");
}

describe("several replicas sharing the certificate Secret", () => {
  it("converge on one CA and serving certificate (optimistic concurrency on the Secret)", async () => {
    const ns = await createNamespace(cp, "admission-replicas");
    const secret = { namespace: ns, name: "shared-webhook-certs" };
    const published: string[] = [];
    const keeper = (name: string): CertificateSource =>
      secretCertificates({
        objects: objectApi(cp.connection, { fieldManager: "imagestream-operator" }),
        secret,
        policy: {
          caLifetimeMs: 3_600_000,
          servingLifetimeMs: 600_000,
          dnsNames: ["webhook.ops.svc"],
          ipAddresses: [],
        },
        publisher: {
          published: async () => new Map(published.length > 0 ? [["hook", published.at(-1) ?? ""]] : []),
          publish: async (bundle) => {
            published.push(bundle);
          },
        },
        log: createLogger({ level: "silent", name }),
      });
    const replicas = [keeper("a"), keeper("b"), keeper("c")];
    // All start at once on a missing Secret: one create wins, the others read it and adopt it.
    await Promise.all(replicas.map((r) => r.start()));
    expect(new Set(replicas.map((r) => r.current()?.certificatePem)).size).toBe(1);
    const stored = materialFromSecret(
      (await objects.get(SECRETS, secret)) as Parameters<typeof materialFromSecret>[0],
    );
    for (const r of replicas) {
      expect(r.current()?.certificatePem).toBe(stored.serving?.certificatePem);
      expect(isIssuedBy(r.current()?.certificatePem ?? "", stored.ca?.certificatePem ?? "")).toBe(true);
    }
    expect(certificateInfo(stored.serving?.certificatePem ?? "").dnsNames).toEqual(["webhook.ops.svc"]);
    await Promise.all(replicas.map((r) => r.stop()));
  });
});
