// The harness itself: a real API server with RBAC, a controller manager that reconciles
// Deployments, and registries whose content an independent client (skopeo) can read.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, AuthenticationV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  createNamespace,
  eventually,
  kubectl,
  pushImage,
  pushIndex,
  REGISTRY_VARIANTS,
  skopeoArgs,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { run } from "../harness/process.ts";

describe("control plane", () => {
  const cp = useSharedControlPlane();

  it("serves the API to the admin over TLS on loopback", async () => {
    expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const result = await kubectl(cp, ["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.name}"]);
    expect(result).toMatchObject({ code: 0, stdout: "kube-system" });
  });

  it("enforces RBAC: a fresh ServiceAccount may not list secrets cluster-wide", async () => {
    const namespace = await createNamespace(cp, "rbac");
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "nobody" } } });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      namespace,
      name: "nobody",
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const token = tokenRequest.status?.token;
    if (!token) throw new Error("TokenRequest returned no token");

    const review = await cp.kubeConfig
      .makeApiClient(AuthenticationV1Api)
      .createTokenReview({ body: { spec: { token } } });
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${namespace}:nobody`);

    const asServiceAccount = new KubeConfig();
    const cluster = cp.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("admin kubeconfig has no cluster");
    asServiceAccount.loadFromOptions({
      clusters: [cluster],
      users: [{ name: "nobody", token }],
      contexts: [{ name: "nobody", cluster: cluster.name, user: "nobody" }],
      currentContext: "nobody",
    });
    const denied = await asServiceAccount
      .makeApiClient(CoreV1Api)
      .listSecretForAllNamespaces()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(denied).toMatchObject({ code: 403 });
    // The same request as the admin succeeds, so the 403 comes from authorization.
    await expect(core.listSecretForAllNamespaces()).resolves.toHaveProperty("items");
  });

  it("runs the controller manager: a Deployment gets a ReplicaSet and Pods", async () => {
    const namespace = await createNamespace(cp, "deploy");
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const labels = { app: "web" };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "web", image: "127.0.0.1:5000/web:1" }] },
          },
        },
      },
    });
    const replicaSet = await eventually(async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace });
      return list.items[0];
    }, "a ReplicaSet of the Deployment");
    expect(replicaSet.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Deployment", name: "web" });
    const pod = await eventually(async () => {
      const list = await cp.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
      return list.items[0];
    }, "a Pod of the ReplicaSet");
    // No kubelet: the Pod exists but is never scheduled to run.
    expect(pod.spec?.containers[0]?.image).toBe("127.0.0.1:5000/web:1");
    expect(pod.status?.phase).toBe("Pending");
  });
});

describe.each(REGISTRY_VARIANTS)("%s registry", (variant) => {
  const registry = useSharedRegistry(variant);
  const skopeo = (...args: string[]) =>
    run("skopeo", [args[0] ?? "", ...skopeoArgs(registry), ...args.slice(1)]);

  it("serves a pushed image that skopeo reads with the same digest and config", async () => {
    const pushed = await pushImage(registry, `harness/${variant}`, "v1", {
      format: variant === "tls" ? "oci" : "docker",
      architecture: "arm64",
      author: "harness",
      config: { Env: ["A=1"], Labels: { tier: "test" }, Cmd: ["/bin/app"] },
    });
    const result = await skopeo("inspect", `docker://${registry.host}/harness/${variant}:v1`);
    expect(result.stderr).toBe("");
    const inspected = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(inspected).toMatchObject({
      Digest: pushed.digest,
      Architecture: "arm64",
      Os: "linux",
      Env: ["A=1"],
      Labels: { tier: "test" },
      Layers: pushed.layers.map((l) => l.digest),
    });
    const raw = await skopeo("inspect", "--raw", `docker://${registry.host}/harness/${variant}:v1`);
    expect(JSON.parse(raw.stdout)).toMatchObject({ mediaType: pushed.mediaType });
  });

  it("serves a pushed index listing every platform", async () => {
    const platforms = [
      { architecture: "amd64", os: "linux" },
      { architecture: "arm", os: "linux", variant: "v7" },
    ];
    const pushed = await pushIndex(registry, `harness/${variant}-multi`, "latest", platforms, {
      format: "oci",
    });
    const raw = await skopeo("inspect", "--raw", `docker://${registry.host}/harness/${variant}-multi:latest`);
    const index = JSON.parse(raw.stdout) as {
      mediaType: string;
      manifests: { digest: string; platform: object }[];
    };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => m.platform)).toEqual(platforms);
    expect(index.manifests.map((m) => m.digest)).toEqual(pushed.manifests.map((m) => m.digest));
    // skopeo resolves the index for the requested platform: the config it reads is arm's.
    const resolved = await skopeo(
      "inspect",
      "--format",
      "{{.Digest}} {{.Os}}/{{.Architecture}}",
      "--override-arch",
      "arm",
      "--override-variant",
      "v7",
      `docker://${registry.host}/harness/${variant}-multi:latest`,
    );
    expect(resolved.stdout.trim()).toBe(`${pushed.digest} linux/arm`);
  });

  if (variant === "plain") {
    it("pushes a real gzipped tar layer holding the given content", async () => {
      const pushed = await pushImage(registry, "harness/layer", "v1", { layerContent: "hello layer\n" });
      const out = await mkdtemp(join(tmpdir(), "harness-layer-"));
      try {
        const copied = await skopeo("copy", `docker://${registry.host}/harness/layer:v1`, `dir:${out}`);
        expect(copied.code, copied.stderr).toBe(0);
        const layerFile = join(out, pushed.layers[0]?.digest.replace("sha256:", "") ?? "missing");
        const listed = await run("tar", ["-tzvf", layerFile]);
        expect(listed.stdout).toMatch(/-rw-r--r-- root\/root\s+12 .* imagestream-harness\.txt/);
        const content = await run("tar", ["-xzOf", layerFile, "imagestream-harness.txt"]);
        expect(content.stdout).toBe("hello layer\n");
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });
  }

  if (variant === "basic" || variant === "token") {
    it("rejects wrong credentials", async () => {
      const result = await run("skopeo", [
        "inspect",
        ...skopeoArgs({ ...registry, password: "wrong" }),
        `docker://${registry.host}/harness/${variant}:v1`,
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/unauthorized|authentication required|401/i);
    });
  }
});
