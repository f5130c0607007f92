// The chart's integrated registry against real components: the auth.token and notifications
// sections the chart renders run in a real distribution 2.8; its image-puller and
// image-builder ClusterRoles are applied to the real kube-apiserver; a loopback token
// handler built from src/token-server checks tokens with TokenReview and access with
// SubjectAccessReview (what the stage-2 endpoint will do), and the notifications the
// registry posts are verified and classified by src/push.

import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  type KubernetesObject,
  KubernetesObjectApi,
} from "@kubernetes/client-node";
import { load, loadAll } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  classifyEvents,
  type PushRecord,
  parseEnvelope,
  verifyNotificationSecret,
} from "../../src/push/index.ts";
import type { Identity } from "../../src/token-server/index.ts";
import {
  createNamespace,
  eventually,
  launchConfiguredRegistry,
  pushImage,
  type RegistryConnection,
  useSharedControlPlane,
} from "../harness/index.ts";
import { run } from "../harness/process.ts";
import type { LaunchedRegistry } from "../harness/registry.ts";
import { clientTrust, startTokenRealm, type TokenRealm } from "./token-realm.ts";

const root = resolve(import.meta.dirname, "../..");
const CHART = join(root, "deploy", "helm", "imagestream-operator");
const _DAY = 86_400_000;
const cp = useSharedControlPlane();
const helmBin =
  process.env.HELM_BIN ??
  join(execFileSync("bash", [join(root, "scripts", "build-helm.sh")], { encoding: "utf8" }).trim(), "helm");

type Json = Record<string, unknown>;

function renderChart(release: string, realm: string): Json[] {
  const out = execFileSync(
    helmBin,
    [
      "template",
      release,
      CHART,
      "--namespace",
      "ops",
      "--set",
      "integratedRegistry.enabled=true",
      "--set",
      `integratedRegistry.auth.realm=${realm}`,
    ],
    { encoding: "utf8", env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), "isop-helm-cache") } },
  );
  return loadAll(out).filter((d): d is Json => typeof d === "object" && d !== null);
}

const nameOf = (doc: Json) => (doc.metadata as { name?: string } | undefined)?.name ?? "";

describe("the chart's integrated registry with distribution 2.8, TokenReview and SubjectAccessReview", () => {
  const release = `chart-${randomUUID().slice(0, 6)}`;
  const received: { authorization: string | undefined; body: Buffer; contentType: string | undefined }[] = [];
  let realm: TokenRealm;
  let notificationServer: HttpServer;
  let registry: LaunchedRegistry;
  let trust: Awaited<ReturnType<typeof clientTrust>>;
  let trustDir: string;
  let trustPem: string;
  let notificationSecret: string;
  let namespace: string;
  let builderToken: string;
  let pullerToken: string;

  beforeAll(async () => {
    // The token endpoint: the core with real TokenReview and SubjectAccessReview.
    const authn = cp.kubeConfig.makeApiClient(AuthenticationV1Api);
    const authz = cp.kubeConfig.makeApiClient(AuthorizationV1Api);
    let settings = { issuer: "", service: "", lifetimeSeconds: 300, anonymousPull: false };
    realm = await startTokenRealm({
      path: "/registry/token",
      settings: () => settings,
      deps: {
        authenticate: async (token) => {
          const review = await authn.createTokenReview({ body: { spec: { token } } });
          const user = review.status?.user;
          if (!review.status?.authenticated || !user?.username) return null;
          const identity: Identity = { username: user.username, groups: user.groups ?? [] };
          if (user.uid) identity.uid = user.uid;
          if (user.extra) identity.extra = user.extra;
          return identity;
        },
        authorize: async (identity, check) => {
          const review = await authz.createSubjectAccessReview({
            body: {
              spec: {
                user: identity.username,
                groups: identity.groups,
                ...(identity.uid ? { uid: identity.uid } : {}),
                ...(identity.extra ? { extra: identity.extra } : {}),
                resourceAttributes: check,
              },
            },
          });
          return review.status?.allowed === true;
        },
        streamExists: async () => false,
      },
    });
    const signing = realm.signing;

    // The notification endpoint: records what the registry sends.
    notificationServer = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({
          authorization: req.headers.authorization,
          body: Buffer.concat(chunks),
          contentType: req.headers["content-type"],
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => notificationServer.listen(0, "127.0.0.1", r));
    const notifyPort = (notificationServer.address() as AddressInfo).port;

    // The chart's render: registry config sections, roles.
    const docs = renderChart(release, realm.url);
    const secretData = (suffix: string): Json => {
      const secret = docs.find((d) => d.kind === "Secret" && nameOf(d).endsWith(suffix));
      if (!secret) throw new Error(`the chart rendered no Secret *${suffix}`);
      return secret.data as Json;
    };
    const decode = (value: unknown) => Buffer.from(String(value), "base64").toString("utf8");
    const config = load(decode(secretData("-registry-config")["config.yml"])) as {
      auth: { token: Json };
      notifications: { endpoints: Json[] };
      health: Json;
    };
    notificationSecret = decode(secretData("-registry-notifications").token);
    settings = {
      issuer: String(config.auth.token.issuer),
      service: String(config.auth.token.service),
      lifetimeSeconds: 300,
      anonymousPull: false,
    };
    const endpoint = config.notifications.endpoints[0] as Json;
    const chartUrl = new URL(String(endpoint.url));
    endpoint.url = `http://127.0.0.1:${notifyPort}${chartUrl.pathname}`;
    registry = await launchConfiguredRegistry({
      configure: async (file) => ({
        auth: {
          token: { ...config.auth.token, rootcertbundle: await file("token-ca.crt", signing.certificatePem) },
        },
        notifications: config.notifications,
        health: config.health,
      }),
    });
    trust = await clientTrust(registry, realm);
    trustDir = trust.dir;
    trustPem = trust.pem;

    // The chart's ClusterRoles in the real API server, bound to two ServiceAccounts.
    const objects = cp.kubeConfig.makeApiClient(KubernetesObjectApi);
    for (const role of docs.filter(
      (d) => d.kind === "ClusterRole" && /-image-(puller|pusher|builder)$/.test(nameOf(d)),
    )) {
      await objects.create(role as unknown as KubernetesObject);
    }
    namespace = await createNamespace(cp, "chart-push");
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    for (const [sa, role] of [
      ["builder", "image-builder"],
      ["puller", "image-puller"],
    ] as const) {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
      await objects.create({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: sa, namespace },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: `${release}-imagestream-operator-${role}`,
        },
        subjects: [{ kind: "ServiceAccount", name: sa, namespace }],
      } as KubernetesObject);
    }
    const token = async (sa: string) =>
      (
        await core.createNamespacedServiceAccountToken({
          namespace,
          name: sa,
          body: { spec: { audiences: [], expirationSeconds: 600 } },
        })
      ).status?.token ?? "";
    builderToken = await token("builder");
    pullerToken = await token("puller");
  });

  afterAll(async () => {
    await registry?.stop();
    await realm?.stop();
    notificationServer?.closeAllConnections();
    await new Promise<void>((r) => (notificationServer ? notificationServer.close(() => r()) : r()));
    await trust?.remove();
    const objects = cp.kubeConfig.makeApiClient(KubernetesObjectApi);
    for (const role of ["image-puller", "image-pusher", "image-builder"]) {
      await objects
        .delete({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRole",
          metadata: { name: `${release}-imagestream-operator-${role}` },
        })
        .catch(() => undefined);
    }
  });

  const as = (token: string): RegistryConnection => ({
    variant: "token",
    host: registry.host,
    url: registry.url,
    caPem: trustPem,
    username: "ci",
    password: token,
  });

  it("a ServiceAccount bound to image-builder pushes a new stream; the registry notifies the operator endpoint", async () => {
    const pushed = await pushImage(as(builderToken), `${namespace}/app`, "dev");
    const records = await eventually(async () => {
      const found: PushRecord[] = [];
      for (const delivery of received) {
        if (
          !verifyNotificationSecret(
            { authorization: delivery.authorization },
            { header: "Authorization", secret: `Bearer ${notificationSecret}` },
          )
        ) {
          continue;
        }
        const envelope = parseEnvelope(delivery.body, delivery.contentType);
        if (envelope.ok) found.push(...classifyEvents(envelope.events).records);
      }
      return found.length > 0 ? found : undefined;
    }, "a notification for the push");
    expect(records).toEqual([
      {
        namespace,
        stream: "app",
        tag: "dev",
        digest: pushed.digest,
        mediaType: pushed.mediaType,
        isList: false,
        eventId: expect.any(String),
      },
    ]);
    // Every delivery carries the chart's shared secret; blobs and pulls are filtered by the registry.
    expect(received.every((d) => d.authorization === `Bearer ${notificationSecret}`)).toBe(true);
    expect(received[0]?.contentType).toBe("application/vnd.docker.distribution.events.v1+json");
  });

  it("image-puller may pull but not push; an invalid Kubernetes token gets nothing", async () => {
    const pull = await run("skopeo", [
      "inspect",
      "--raw",
      `--cert-dir=${trustDir}`,
      `--creds=ci:${pullerToken}`,
      `docker://${registry.host}/${namespace}/app:dev`,
    ]);
    expect(pull.code).toBe(0);
    await expect(pushImage(as(pullerToken), `${namespace}/app`, "other")).rejects.toThrow(/401/);
    await expect(pushImage(as("not-a-kubernetes-token"), `${namespace}/app`, "x")).rejects.toThrow(
      /token request .* failed: 401/,
    );
    const other = await createNamespace(cp, "chart-other");
    await expect(pushImage(as(builderToken), `${other}/app`, "dev")).rejects.toThrow(/401/);
  });
});
