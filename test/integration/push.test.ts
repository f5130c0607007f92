// Push-driven imports on real components: the chart's integrated registry configuration in a
// real distribution 2.8 (notifications and auth.token), the operator in process as its token
// realm (TokenReview and SubjectAccessReviews against the real kube-apiserver) and notification
// endpoint, ServiceAccount tokens from `kubectl create token`, the chart's roles, and
// kube-controller-manager rolling out a triggered Deployment.

import { randomUUID } from "node:crypto";
import { CoreV1Api, KubernetesObjectApi } from "@kubernetes/client-node";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageStream } from "../../src/api/index.ts";
import {
  createNamespace,
  deleteManifest,
  eventually,
  kubectl,
  pushImage,
  pushImageWith,
  RegistryClient,
  useSharedControlPlane,
} from "../harness/index.ts";
import { run } from "../harness/process.ts";
import { type IntegratedRegistryRig, startIntegratedRegistry } from "./integrated-registry.ts";

const cp = useSharedControlPlane();
type Json = Record<string, unknown>;

describe("push-driven imports through the integrated registry", () => {
  let rig: IntegratedRegistryRig;
  let namespace: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    const ops = await createNamespace(cp, "push-ops");
    rig = await startIntegratedRegistry(cp, { opsNamespace: ops, publicRegistry: "localhost:5001" });
    namespace = await createNamespace(cp, "push");
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const objects = cp.kubeConfig.makeApiClient(KubernetesObjectApi);
    for (const [sa, role] of [
      ["builder", rig.roles.builder],
      ["pusher", rig.roles.pusher],
      ["puller", rig.roles.puller],
      ["nobody", undefined],
    ] as const) {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
      if (role) {
        await objects.create({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: sa, namespace },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
          subjects: [{ kind: "ServiceAccount", name: sa, namespace }],
        } as never);
      }
      // What a user does: kubectl create token.
      const created = await kubectl(cp, ["-n", namespace, "create", "token", sa, "--duration=1h"]);
      expect(created.code).toBe(0);
      tokens[sa] = created.stdout.trim();
    }
  });

  afterAll(async () => {
    await rig?.stop();
  });

  const stream = async (name: string): Promise<ImageStream | undefined> => {
    const got = await kubectl(cp, ["-n", namespace, "get", "is", name, "-o", "json"]);
    return got.code === 0 ? (JSON.parse(got.stdout) as ImageStream) : undefined;
  };
  const newest = async (name: string, tag: string) =>
    (await stream(name))?.status?.tags?.find((t) => t.tag === tag)?.items ?? undefined;

  it("a builder's push creates the stream and records the tag with no spec tag; the ImageStreamTag follows", async () => {
    const pushed = await pushImage(rig.as(tokens.builder ?? ""), `${namespace}/app`, "dev", {
      layerContent: "app v1",
    });
    const items = await eventually(async () => {
      const found = await newest("app", "dev");
      return found?.[0]?.image === pushed.digest ? found : undefined;
    }, "the pushed image in the new stream");
    expect(items).toHaveLength(1);
    expect(items[0]?.dockerImageReference).toBe(`${rig.registry.host}/${namespace}/app@${pushed.digest}`);
    const created = await stream("app");
    expect(created?.spec?.tags ?? []).toEqual([]);
    expect(created?.status?.dockerImageRepository).toBe(`${rig.registry.host}/${namespace}/app`);
    expect(created?.status?.publicDockerImageRepository).toBe(`localhost:5001/${namespace}/app`);
    const istag = await eventually(async () => {
      const got = await kubectl(cp, ["-n", namespace, "get", "istag", "app.dev", "-o", "json"]);
      const tag = got.code === 0 ? (JSON.parse(got.stdout) as Json) : undefined;
      return (tag?.image as { metadata?: { name?: string } } | undefined)?.metadata?.name === pushed.digest
        ? tag
        : undefined;
    }, "the ImageStreamTag app.dev with the pushed image");
    expect((istag.image as Json).dockerImageReference).toBe(items[0]?.dockerImageReference);
    // Image details come from the integrated registry too (read with the operator's own token).
    expect((istag.image as { dockerImageLayers?: unknown[] }).dockerImageLayers).toHaveLength(1);
  });

  it("a push rolls out a Deployment triggered by the tag: a new ReplicaSet from kube-controller-manager", async () => {
    const first = await pushImage(rig.as(tokens.builder ?? ""), `${namespace}/web`, "dev", {
      layerContent: "web 1",
    });
    await eventually(
      async () => ((await newest("web", "dev"))?.[0]?.image === first.digest ? true : undefined),
      "web:dev",
    );
    const trigger = JSON.stringify([
      {
        from: { kind: "ImageStreamTag", name: "web:dev" },
        fieldPath: 'spec.template.spec.containers[?(@.name=="web")].image',
      },
    ]);
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace, annotations: { "image.openshift.io/triggers": trigger } },
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: "web:dev" }] },
        },
      },
    };
    const applied = await kubectl(cp, ["-n", namespace, "apply", "-f", "-"], JSON.stringify(deployment));
    expect(applied.code).toBe(0);
    const imageOf = async () =>
      (
        await kubectl(cp, [
          "-n",
          namespace,
          "get",
          "deploy",
          "web",
          "-o",
          "jsonpath={.spec.template.spec.containers[0].image}",
        ])
      ).stdout;
    await eventually(
      async () => ((await imageOf()).endsWith(first.digest) ? true : undefined),
      "the first image",
    );

    // No annotation, no schedule: the push alone.
    const second = await pushImage(rig.as(tokens.builder ?? ""), `${namespace}/web`, "dev", {
      layerContent: "web 2",
    });
    await eventually(
      async () => ((await imageOf()).endsWith(second.digest) ? true : undefined),
      "the pushed image",
    );
    const sets = await eventually(async () => {
      const got = await kubectl(cp, [
        "-n",
        namespace,
        "get",
        "rs",
        "-l",
        "app=web",
        "-o",
        "jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}{'\\n'}{end}",
      ]);
      const images = got.stdout.trim().split("\n");
      return images.some((i) => i.endsWith(second.digest)) ? images : undefined;
    }, "a ReplicaSet with the pushed image");
    expect(sets.some((i) => i.endsWith(first.digest))).toBe(true);
    expect((await newest("web", "dev"))?.map((i) => i.image)).toEqual([second.digest, first.digest]);
  });

  it("refuses what the token's user may not do: pull without image-puller, push without image-pusher, a new stream without image-builder", async () => {
    await pushImage(rig.as(tokens.builder ?? ""), `${namespace}/base`, "1", { layerContent: "base" });
    const inspect = (token: string) =>
      run("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        `--creds=ci:${token}`,
        `docker://${rig.registry.host}/${namespace}/base:1`,
      ]);
    expect((await inspect(tokens.puller ?? "")).code).toBe(0);
    const refused = await inspect(tokens.nobody ?? "");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unauthorized|authentication required|denied/i);
    await expect(pushImage(rig.as(tokens.puller ?? ""), `${namespace}/base`, "2")).rejects.toThrow(/401/);
    await expect(pushImage(rig.as(tokens.nobody ?? ""), `${namespace}/base`, "2")).rejects.toThrow(/401/);
    // image-pusher updates existing streams but may not create one.
    await expect(pushImage(rig.as(tokens.pusher ?? ""), `${namespace}/base`, "2")).resolves.toMatchObject({
      digest: expect.stringMatching(/^sha256:/),
    });
    await expect(pushImage(rig.as(tokens.pusher ?? ""), `${namespace}/brand-new`, "1")).rejects.toThrow(
      /401/,
    );
    await expect(pushImage(rig.as("not-a-kubernetes-token"), `${namespace}/base`, "3")).rejects.toThrow(
      /token request .* failed: 401/,
    );
    expect(await stream("brand-new")).toBeUndefined();
  });

  it("a push whose notification was lost while the operator was down is caught up once when it starts", async () => {
    const client = new RegistryClient(rig.as(tokens.builder ?? ""));
    try {
      const before = await pushImageWith(
        client,
        `${namespace}/late`,
        "dev",
        { layerContent: "late 1" },
        "late",
      );
      await eventually(
        async () => ((await newest("late", "dev"))?.[0]?.image === before.digest ? true : undefined),
        "late:dev",
      );

      await rig.stopOperator();
      // The client still holds a token from before: the push works, its notification does not.
      const during = await pushImageWith(
        client,
        `${namespace}/late`,
        "dev",
        { layerContent: "late 2" },
        "late",
      );
      // The registry restarts too: the notification it kept retrying is gone for good.
      await rig.restartRegistry();
      expect((await newest("late", "dev"))?.[0]?.image).toBe(before.digest);

      await rig.startOperator();
      const items = await eventually(async () => {
        const found = await newest("late", "dev");
        return found?.[0]?.image === during.digest ? found : undefined;
      }, "the push made while the operator was down");
      expect(items.map((i) => i.image)).toEqual([during.digest, before.digest]);

      // Catching up again (another start) finds nothing new: no item twice.
      await rig.stopOperator();
      await rig.startOperator();
      await new Promise((r) => setTimeout(r, 3000));
      expect((await newest("late", "dev"))?.map((i) => i.image)).toEqual([during.digest, before.digest]);
    } finally {
      await client.close();
    }
  });
  /** A notification as distribution sends it: one tagged manifest push to `<namespace>/<stream>:<tag>`. */
  const notify = (stream: string, tag: string, digest: string, secret: string) =>
    request(`${rig.hooksUrl}/registry/notifications`, {
      method: "POST",
      headers: {
        "content-type": "application/vnd.docker.distribution.events.v1+json",
        authorization: `Bearer ${secret}`,
      },
      body: JSON.stringify({
        events: [
          {
            id: randomUUID(),
            timestamp: new Date().toISOString(),
            action: "push",
            target: {
              mediaType: "application/vnd.docker.distribution.manifest.v2+json",
              digest,
              repository: `${namespace}/${stream}`,
              url: `${rig.registry.url}/v2/${namespace}/${stream}/manifests/${digest}`,
              tag,
            },
            request: { id: randomUUID(), host: rig.registry.host, method: "PUT", useragent: "test" },
            actor: { name: "system:serviceaccount:test:builder" },
            source: { addr: rig.registry.host },
          },
        ],
      }),
    }).then(async (res) => ({ status: res.statusCode, body: await res.body.text() }));
  const pushMetric = async (result: string, reason = "") =>
    Number(
      (await rig.operator.metrics.exposition()).body.match(
        new RegExp(
          `imagestream_registry_push_events_total\\{result="${result}",reason="${reason}"\\} (\\d+)`,
        ),
      )?.[1] ?? 0,
    );

  it("a repeated or late notification records nothing twice; one without the shared secret gets 401 and changes nothing", async () => {
    const builder = rig.as(tokens.builder ?? "");
    const v1 = await pushImage(builder, `${namespace}/replay`, "dev", { layerContent: "replay 1" });
    await eventually(
      async () => ((await newest("replay", "dev"))?.[0]?.image === v1.digest ? true : undefined),
      "replay:dev at v1",
    );
    const v2 = await pushImage(builder, `${namespace}/replay`, "dev", { layerContent: "replay 2" });
    await eventually(
      async () => ((await newest("replay", "dev"))?.[0]?.image === v2.digest ? true : undefined),
      "replay:dev at v2",
    );
    // v2's event again, and v1's arriving late (out of order): the registry says the tag is v2.
    const unchanged = await pushMetric("unchanged");
    expect((await notify("replay", "dev", v2.digest, rig.notificationToken)).status).toBe(200);
    expect((await notify("replay", "dev", v1.digest, rig.notificationToken)).status).toBe(200);
    await eventually(
      async () => ((await pushMetric("unchanged")) >= unchanged + 2 ? true : undefined),
      "both events handled",
    );
    expect((await newest("replay", "dev"))?.map((i) => i.image)).toEqual([v2.digest, v1.digest]);

    // Without the stream, a genuine event would create it: a wrong or missing secret must not.
    expect((await kubectl(cp, ["-n", namespace, "delete", "is", "replay"])).code).toBe(0);
    await eventually(
      async () => ((await stream("replay")) === undefined ? true : undefined),
      "replay deleted",
    );
    const forged = await notify("replay", "dev", v2.digest, "not-the-secret");
    expect(forged.status).toBe(401);
    const anonymous = await request(`${rig.hooksUrl}/registry/notifications`, {
      method: "POST",
      headers: { "content-type": "application/vnd.docker.distribution.events.v1+json" },
      body: JSON.stringify({ events: [] }),
    });
    await anonymous.body.dump();
    expect(anonymous.statusCode).toBe(401);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await stream("replay")).toBeUndefined();
    // The same event with the registry's secret does create it.
    expect((await notify("replay", "dev", v2.digest, rig.notificationToken)).status).toBe(200);
    await eventually(
      async () => ((await newest("replay", "dev"))?.[0]?.image === v2.digest ? true : undefined),
      "replay recreated by the genuine event",
    );
  });

  it("a delete in the registry is ignored: the stream keeps its history", async () => {
    const objects = cp.kubeConfig.makeApiClient(KubernetesObjectApi);
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    // Deleting needs delete on imagestreams/layers, which none of the chart's roles grants.
    await objects.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "janitor", namespace },
      rules: [{ apiGroups: ["image.openshift.io"], resources: ["imagestreams/layers"], verbs: ["delete"] }],
    } as never);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "janitor" } } });
    await objects.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "janitor", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "janitor" },
      subjects: [{ kind: "ServiceAccount", name: "janitor", namespace }],
    } as never);
    const janitor = (await kubectl(cp, ["-n", namespace, "create", "token", "janitor"])).stdout.trim();

    const pushed = await pushImage(rig.as(tokens.builder ?? ""), `${namespace}/old`, "1", {
      layerContent: "old",
    });
    await eventually(
      async () => ((await newest("old", "1"))?.[0]?.image === pushed.digest ? true : undefined),
      "old:1",
    );
    const before = await stream("old");
    const deletes = await pushMetric("ignored", "delete");
    await deleteManifest(rig.as(janitor), `${namespace}/old`, pushed.digest);
    await eventually(
      async () => ((await pushMetric("ignored", "delete")) > deletes ? true : undefined),
      "the registry's delete event, ignored",
    );
    const after = await stream("old");
    expect(after?.status?.tags).toEqual(before?.status?.tags);
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });
});
