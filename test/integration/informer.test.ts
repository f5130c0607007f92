// The informer and its client-node source against the real API server.
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log/logger.ts";
import { Informer, type KubeObjectLike, listWatchFromClient } from "../../src/runtime/index.ts";
import { createNamespace, eventually, useSharedControlPlane } from "../harness/index.ts";

const cp = useSharedControlPlane();
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
const log = createLogger({ level: "silent" });
let namespace: string;
const informers: Informer<KubeObjectLike>[] = [];
const labels = { "informer-test": "true" };

beforeAll(async () => {
  namespace = await createNamespace(cp, "informer");
});

afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
});

function configMapInformer(metadataOnly: boolean): Informer<KubeObjectLike> {
  const source = listWatchFromClient<KubeObjectLike>(cp.connection, {
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    metadataOnly,
    // The controller manager adds kube-root-ca.crt to every namespace; only the test's count.
    labelSelector: "informer-test=true",
    pageSize: 2,
  });
  const informer = new Informer<KubeObjectLike>({ source, logger: log, name: "configmaps" });
  informers.push(informer);
  return informer;
}

describe("informer against kube-apiserver", () => {
  it("lists in pages (label-selected), then follows adds, updates and deletes through the watch", async () => {
    for (const name of ["a", "b", "c"]) {
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name, labels }, data: { v: "1" } },
      });
    }
    const informer = configMapInformer(false);
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
      onUpdate: (_old, o) => seen.push(`update ${o.metadata?.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    expect(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(["a", "b", "c"]);

    await core.patchNamespacedConfigMap({
      namespace,
      name: "a",
      body: [{ op: "replace", path: "/data/v", value: "2" }],
    });
    await core.deleteNamespacedConfigMap({ namespace, name: "b" });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "d", labels } } });
    await eventually(async () => (seen.length >= 6 ? true : undefined), "the watch events");
    expect(seen.slice(3)).toEqual(["update a", "delete b", "add d"]);
    expect(informer.get({ namespace, name: "a" })).toMatchObject({ data: { v: "2" } });
    // Caches never hold managedFields: no controller reads them and they grow with the spec.
    expect(informer.get({ namespace, name: "a" })?.metadata).not.toHaveProperty("managedFields");
  });

  it("lists and watches PartialObjectMetadata only, when asked", async () => {
    const informer = configMapInformer(true);
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    const cached = informer.get({ namespace, name: "a" }) as { kind?: string; data?: unknown } | undefined;
    expect(cached?.kind).toBe("PartialObjectMetadata");
    expect(cached?.data).toBeUndefined();
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "e", labels }, data: { big: "x".repeat(1000) } },
    });
    const added = await eventually(
      async () => informer.get({ namespace, name: "e" }) as { kind?: string; data?: unknown } | undefined,
      "the metadata-only watch event",
    );
    expect(added.kind).toBe("PartialObjectMetadata");
    expect(added.data).toBeUndefined();
  });
});
