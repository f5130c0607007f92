// The webhooks' registration (pure: what kube-apiserver is told) and the AdmissionReview route's
// shell answering what is not an AdmissionReview with a 4xx, with metrics, without a decision.
import { describe, expect, it } from "vitest";
import {
  ADMISSION_API_VERSION,
  allow,
  caBundleApplyConfiguration,
  deny,
  LOOKUP_KINDS,
  mutatingWebhookConfiguration,
  publishedCaBundles,
  reviewRoute,
  WEBHOOKS,
  webhookNamespaceSelector,
} from "../../../src/admission/index.ts";
import type { HttpRequest } from "../../../src/http/index.ts";
import { createLogger } from "../../../src/log/index.ts";
import { createMetrics } from "../../../src/metrics/index.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("the webhooks' configuration", () => {
  const configuration = mutatingWebhookConfiguration({
    name: "imagestream-operator",
    endpoint: { url: "https://127.0.0.1:9443" },
    caBundle: CA,
    namespaceSelector: webhookNamespaceSelector(["ops", "kube-system"], []),
  }) as { webhooks: Record<string, unknown>[] };

  it("registers image lookup for every lookup kind (and ephemeral containers), CREATE and UPDATE", () => {
    const lookup = configuration.webhooks[0] as { rules: { resources: string[]; operations: string[] }[] };
    const resources = lookup.rules.flatMap((r) => r.resources);
    expect(resources.sort()).toEqual(
      [...LOOKUP_KINDS.map((k) => k.plural), "pods/ephemeralcontainers"].sort(),
    );
    for (const rule of lookup.rules) expect(rule.operations).toEqual(["CREATE", "UPDATE"]);
  });

  it("chooses each webhook's policies: lookup never blocks, oc's requests need the operator", () => {
    expect(
      WEBHOOKS.map((w) => [w.id, w.failurePolicy, w.sideEffects, w.reinvocationPolicy, w.timeoutSeconds]),
    ).toEqual([
      ["image-lookup", "Ignore", "None", "IfNeeded", 5],
      ["imagestreamtags", "Fail", "None", "Never", 5],
      ["imagestreamimports", "Fail", "NoneOnDryRun", "Never", 30],
    ]);
  });

  it("calls the operator by URL with its CA, and never for its own namespace or kube-system", () => {
    const [webhook] = configuration.webhooks as {
      clientConfig: { url: string; caBundle: string };
      namespaceSelector: unknown;
    }[];
    expect(webhook?.clientConfig).toEqual({
      url: "https://127.0.0.1:9443/admission/image-lookup",
      caBundle: Buffer.from(CA).toString("base64"),
    });
    expect(webhook?.namespaceSelector).toEqual({
      matchExpressions: [
        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "ops"] },
      ],
    });
    expect(webhookNamespaceSelector(["ops", "kube-system"], ["team", "dev"]).matchExpressions[1]).toEqual({
      key: "kubernetes.io/metadata.name",
      operator: "In",
      values: ["dev", "team"],
    });
  });

  it("writes only the caBundle of the chart's webhooks, and reads back what each one trusts", () => {
    const apply = caBundleApplyConfiguration("release", ["a.example.com", "b.example.com"], CA);
    expect(apply).toEqual({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: "release" },
      webhooks: [
        { name: "a.example.com", clientConfig: { caBundle: Buffer.from(CA).toString("base64") } },
        { name: "b.example.com", clientConfig: { caBundle: Buffer.from(CA).toString("base64") } },
      ],
    });
    expect(
      publishedCaBundles({ webhooks: [...(apply.webhooks as object[]), { name: "c", clientConfig: {} }] }),
    ).toEqual(
      new Map([
        ["a.example.com", CA],
        ["b.example.com", CA],
        ["c", ""],
      ]),
    );
    expect(publishedCaBundles(undefined).size).toBe(0);
  });
});

describe("the AdmissionReview route", () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const decisions: string[] = [];
  const route = reviewRoute(
    "imagestreamtags",
    { log: createLogger({ level: "silent" }), metrics },
    async (request) => {
      decisions.push(request.uid);
      return request.name === "ruby:prod"
        ? deny(403, "Forbidden", "no")
        : allow([{ op: "remove", path: "/image" }]);
    },
  );
  const post = (body: string, contentType = "application/json") =>
    route.handle({
      method: "POST",
      path: route.path,
      query: new URLSearchParams(),
      headers: { "content-type": contentType },
      body: Buffer.from(body),
      remoteAddress: "127.0.0.1",
      signal: new AbortController().signal,
    } as HttpRequest);
  const review = (name: string) =>
    JSON.stringify({
      apiVersion: ADMISSION_API_VERSION,
      kind: "AdmissionReview",
      request: {
        uid: `uid-${name}`,
        kind: { group: "image.openshift.io", version: "v1", kind: "ImageStreamTag" },
        resource: { group: "image.openshift.io", version: "v1", resource: "imagestreamtags" },
        name,
        namespace: "team",
        operation: "CREATE",
        object: { metadata: { name } },
      },
    });

  it("answers 415 and 400 to what is not an AdmissionReview, without deciding anything", async () => {
    expect(await post(review("x"), "text/plain")).toMatchObject({ status: 415 });
    expect(await post("{not json")).toMatchObject({ status: 400 });
    expect(
      await post(JSON.stringify({ apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview" })),
    ).toMatchObject({ status: 400 });
    expect(decisions).toEqual([]);
  });

  it("echoes the uid with the decision, and counts each answer by operation and result", async () => {
    const denied = await post(review("ruby:prod"));
    expect(denied).toMatchObject({
      status: 200,
      body: {
        response: { uid: "uid-ruby:prod", allowed: false, status: { code: 403, reason: "Forbidden" } },
      },
    });
    const patched = await post(review("ruby.prod"));
    expect(patched).toMatchObject({
      status: 200,
      body: { response: { allowed: true, patchType: "JSONPatch" } },
    });
    const text = (await metrics.exposition()).body;
    const count = (labels: string) =>
      Number(
        text
          .split("\n")
          .find((l) => l.startsWith(`imagestream_admission_requests_total{${labels}}`))
          ?.split(" ")
          .pop(),
      );
    expect(count('webhook="imagestreamtags",operation="CREATE",result="denied"')).toBe(1);
    expect(count('webhook="imagestreamtags",operation="CREATE",result="patched"')).toBe(1);
    expect(count('webhook="imagestreamtags",operation="",result="rejected"')).toBe(3);
  });
});
