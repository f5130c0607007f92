// The generic object API against a tiny HTTP server on 127.0.0.1: the paths, methods, content
// types, field manager and preconditions it sends for any resource, and its one error type.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { IMAGESTREAMS, MUTATING_WEBHOOK_CONFIGURATIONS, type ResourceType } from "../../../src/api/index.ts";
import { isConflict, KubeApiError, type KubeConnection, objectApi } from "../../../src/runtime/index.ts";
import { closeServer, listenLoopback } from "./helpers.ts";

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: unknown;
}

let server: Server | undefined;
const seen: Seen[] = [];

async function serve(status = 200, answer: unknown = { metadata: { name: "x" } }): Promise<KubeConnection> {
  seen.length = 0;
  server = createServer((req: IncomingMessage, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      seen.push({
        method: req.method ?? "",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers["content-type"],
        body: text ? JSON.parse(text) : undefined,
      });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
  });
  return listenLoopback(server);
}

afterEach(async () => {
  await closeServer(server);
  server = undefined;
});

const PODS: ResourceType = { group: "", version: "v1", plural: "pods", kind: "Pod" };
const DEPLOYMENTS: ResourceType = { group: "apps", version: "v1", plural: "deployments", kind: "Deployment" };

describe("objectApi", () => {
  it("addresses core, named-group and custom resources, and their status subresource", async () => {
    const objects = objectApi(await serve(), { fieldManager: "me" });
    await objects.get(PODS, { namespace: "team", name: "p" });
    await objects.get(DEPLOYMENTS, { namespace: "team", name: "web" });
    await objects.replaceStatus(IMAGESTREAMS, {
      metadata: { namespace: "team", name: "app", resourceVersion: "5" },
    });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      "GET /api/v1/namespaces/team/pods/p",
      "GET /apis/apps/v1/namespaces/team/deployments/web",
      "PUT /apis/image.openshift.io/v1/namespaces/team/imagestreams/app/status",
    ]);
    expect(seen[2]?.query).toEqual({ fieldManager: "me" });
    expect(seen[2]?.body).toEqual({ metadata: { namespace: "team", name: "app", resourceVersion: "5" } });
  });

  it("names the field manager and the patch type of every write", async () => {
    const objects = objectApi(await serve(), { fieldManager: "me" });
    const key = { namespace: "team", name: "web" };
    await objects.create(DEPLOYMENTS, { metadata: { namespace: "team", name: "web" } });
    await objects.replace(DEPLOYMENTS, {
      metadata: { namespace: "team", name: "web", resourceVersion: "1" },
    });
    await objects.mergePatch(DEPLOYMENTS, key, { metadata: { annotations: { a: "b" } } });
    await objects.jsonPatch(DEPLOYMENTS, key, [{ op: "test", path: "/spec/replicas", value: 1 }]);
    expect(seen.map((s) => [s.method, s.path, s.query.fieldManager, s.contentType])).toEqual([
      ["POST", "/apis/apps/v1/namespaces/team/deployments", "me", "application/json"],
      ["PUT", "/apis/apps/v1/namespaces/team/deployments/web", "me", "application/json"],
      ["PATCH", "/apis/apps/v1/namespaces/team/deployments/web", "me", "application/merge-patch+json"],
      ["PATCH", "/apis/apps/v1/namespaces/team/deployments/web", "me", "application/json-patch+json"],
    ]);
    expect(seen[3]?.body).toEqual([{ op: "test", path: "/spec/replicas", value: 1 }]);
  });

  it("applies server-side to the object's path, cluster-scoped resources too, forcing on request", async () => {
    const objects = objectApi(await serve(), { fieldManager: "me" });
    const config = { metadata: { name: "hooks" }, webhooks: [] };
    await objects.apply(MUTATING_WEBHOOK_CONFIGURATIONS, config, { force: true });
    await objects.apply(DEPLOYMENTS, { metadata: { namespace: "team", name: "web" } });
    expect(seen.map((s) => [s.method, s.path, s.query, s.contentType])).toEqual([
      [
        "PATCH",
        "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/hooks",
        { fieldManager: "me", force: "true" },
        "application/apply-patch+yaml",
      ],
      [
        "PATCH",
        "/apis/apps/v1/namespaces/team/deployments/web",
        { fieldManager: "me" },
        "application/apply-patch+yaml",
      ],
    ]);
    expect(seen[0]?.body).toEqual(config);
  });

  it("deletes with preconditions", async () => {
    const objects = objectApi(await serve(), { fieldManager: "me" });
    await objects.delete(IMAGESTREAMS, { namespace: "team", name: "app" }, { uid: "u-1" });
    expect(seen[0]).toMatchObject({
      method: "DELETE",
      path: "/apis/image.openshift.io/v1/namespaces/team/imagestreams/app",
      body: { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid: "u-1" } },
    });
  });

  it("throws the server's Status as a KubeApiError", async () => {
    const status = { kind: "Status", code: 409, reason: "Conflict", message: "the object has been modified" };
    const objects = objectApi(await serve(409, status), { fieldManager: "me" });
    const failure = objects.get(PODS, { namespace: "team", name: "p" });
    await expect(failure).rejects.toBeInstanceOf(KubeApiError);
    await expect(failure).rejects.toMatchObject({
      statusCode: 409,
      reason: "Conflict",
      message: status.message,
    });
    await expect(failure).rejects.toSatisfy(isConflict);
  });
});
