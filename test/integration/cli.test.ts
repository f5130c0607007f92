// The kubectl plugin as users run it: a child process (src/cli/main.ts) against the shared
// control plane, checked through the objects it wrote.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { AppsV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageStream } from "../../src/api/types.ts";
import type { Operator } from "../../src/operator/index.ts";
import { TRIGGER_ANNOTATION } from "../../src/triggers/index.ts";
import {
  createNamespace,
  kubectl,
  pushImage,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { startInProcessOperator } from "./in-process-operator.ts";
import { streamsOf } from "./streams.ts";

const cp = useSharedControlPlane();
const plain = useSharedRegistry("plain");
const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");
let namespace: string;
let operator: Operator | undefined;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the plugin; `cluster: false` leaves out --kubeconfig/-n (convert works offline). */
function cli(
  args: string[],
  { stdin, cluster = true }: { stdin?: string; cluster?: boolean } = {},
): Promise<CliResult> {
  const clusterFlags = cluster ? ["--kubeconfig", cp.kubeconfigPath, "-n", namespace] : [];
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", MAIN, ...args, ...clusterFlags],
      { timeout: 45_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === "number" ? error.code : error ? 1 : 0;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

const streams = streamsOf(cp);
const getStream = (name: string): Promise<ImageStream> => streams.get(namespace, name);

beforeAll(async () => {
  namespace = await createNamespace(cp, "cli");
});

afterAll(async () => {
  await operator?.stop();
});

describe("tag", () => {
  it("creates a tracking alias and a pin of the source's current image", async () => {
    await streams.create(namespace, "base", {
      tags: [{ name: "v1", reference: true, from: { kind: "DockerImage", name: "reg.invalid/base:v1" } }],
    });
    // A status as the import controller would write it, so the pin has an image to copy.
    const digest = `sha256:${"a".repeat(64)}`;
    const base = await getStream("base");
    await custom.replaceNamespacedCustomObjectStatus({
      group: "image.openshift.io",
      version: "v1",
      plural: "imagestreams",
      namespace,
      name: "base",
      body: {
        ...base,
        status: {
          dockerImageRepository: "",
          tags: [
            {
              tag: "v1",
              items: [
                {
                  created: "2026-01-01T00:00:00Z",
                  dockerImageReference: `reg.invalid/base@${digest}`,
                  image: digest,
                  generation: 1,
                },
              ],
            },
          ],
        },
      },
    });

    const alias = await cli(["tag", "base:v1", "app:latest", "--alias"]);
    expect(alias.stderr).toBe("");
    expect(alias.code).toBe(0);
    const pin = await cli(["tag", "base:v1", "app:stable"]);
    expect(pin.code).toBe(0);
    expect((await getStream("app")).spec?.tags).toEqual([
      { name: "latest", from: { kind: "ImageStreamTag", name: "base:v1" } },
      { name: "stable", from: { kind: "ImageStreamImage", name: `base@${digest}` } },
    ]);

    const removed = await cli(["tag", "--delete", "app:latest"]);
    expect(removed.code).toBe(0);
    expect((await getStream("app")).spec?.tags?.map((t) => t.name)).toEqual(["stable"]);

    const missing = await cli(["tag", "nothere:v1", "app:x"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nothere not found");
    const bad = await cli(["tag", "base:v1", "App:x"]);
    expect(bad.code).toBe(2);
  });
});

describe("set-triggers", () => {
  it("adds, lists and removes a trigger on a Deployment", async () => {
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: {
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "busybox" }] },
          },
        },
      },
    });
    const added = await cli(["set-triggers", "deployment/web", "--from-image=app:stable", "-c", "web"]);
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const annotation = (await apps.readNamespacedDeployment({ namespace, name: "web" })).metadata
      ?.annotations?.[TRIGGER_ANNOTATION];
    expect(JSON.parse(annotation ?? "")).toEqual([
      {
        from: { kind: "ImageStreamTag", name: "app:stable" },
        fieldPath: 'spec.template.spec.containers[?(@.name=="web")].image',
      },
    ]);

    const listed = await cli(["set-triggers", "deploy/web"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/CONTAINER\s+FROM\s+AUTO\nweb\s+app:stable\s+true/);

    const missing = await cli(["set-triggers", "deployment/web", "--from-image=app:stable", "-c", "nope"]);
    expect(missing.code).toBe(1);

    const removed = await cli(["set-triggers", "deployment/web", "--remove", "-c", "web"]);
    expect(removed.code).toBe(0);
    const after = await apps.readNamespacedDeployment({ namespace, name: "web" });
    expect(after.metadata?.annotations?.[TRIGGER_ANNOTATION]).toBeUndefined();

    const notFound = await cli(["set-triggers", "deployment/ghost"]);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain("not found");
  });
});

describe("convert", () => {
  it("turns a legacy v1 manifest into one kubectl applies", async () => {
    const legacy = `apiVersion: v1
kind: ImageStream
metadata:
  name: legacy
  uid: 0c7f1a6e-0000-0000-0000-000000000000
  resourceVersion: "12345"
  creationTimestamp: "2019-01-01T00:00:00Z"
spec:
  tags:
  - name: "1.0"
    reference: true
    from: {kind: DockerImage, name: "reg.invalid/legacy:1.0"}
`;
    // convert works offline: cluster flags are a usage error.
    expect((await cli(["convert", "-f", "-"], { stdin: legacy })).code).toBe(2);
    const converted = await cli(["convert", "-f", "-"], { stdin: legacy, cluster: false });
    expect(converted.stderr).toBe("");
    expect(converted.code).toBe(0);
    const applied = await kubectl(cp, ["apply", "-n", namespace, "-f", "-"], converted.stdout);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect((await getStream("legacy")).spec?.tags?.[0]?.from?.name).toBe("reg.invalid/legacy:1.0");
  });
});

describe("import-image", () => {
  it("imports from a registry and reports the digest, or the failure", async () => {
    operator = await startInProcessOperator(cp, ["--namespaces", namespace, "--controllers=import"]);
    const pushed = await pushImage(plain, "cli/app", "v1");
    const from = `${plain.host}/cli/app:v1`;

    const refused = await cli(["import-image", "imported:v1", `--from=${from}`, "--insecure"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--confirm");

    const ok = await cli(["import-image", "imported:v1", `--from=${from}`, "--insecure", "--confirm"]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${plain.host}/cli/app@${pushed.digest}`);

    const failed = await cli([
      "import-image",
      "imported:v2",
      `--from=${plain.host}/cli/app:missing`,
      "--insecure",
      "--confirm",
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/import of imported:v2 failed: \w+/);
  });
});

describe("set image-lookup", () => {
  it("turns a stream's lookup policy on and off, and lists it", async () => {
    await streams.create(namespace, "lookup", { tags: [] });
    const on = await cli(["set", "image-lookup", "lookup"]);
    expect(on.stderr).toBe("");
    expect(on.stdout).toBe("imagestream.image.openshift.io/lookup image lookup enabled\n");
    expect((await getStream("lookup")).spec?.lookupPolicy?.local).toBe(true);
    const listed = await cli(["set", "image-lookup"]);
    expect(listed.stdout).toMatch(/^NAME\s+LOCAL\n/);
    expect(listed.stdout).toMatch(/^lookup\s+true$/m);
    expect((await cli(["set", "image-lookup", "lookup", "--enabled=false"])).code).toBe(0);
    expect((await getStream("lookup")).spec?.lookupPolicy?.local).toBe(false);
  });

  it("puts the resolve-names annotation on a workload's pod template, and takes it away", async () => {
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "lookup-web" },
        spec: {
          selector: { matchLabels: { app: "lookup-web" } },
          template: {
            metadata: { labels: { app: "lookup-web" } },
            spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
          },
        },
      },
    });
    const on = await cli(["set", "image-lookup", "deploy/lookup-web"]);
    expect(on.stdout).toBe("deployment/lookup-web image lookup enabled\n");
    const annotated = await apps.readNamespacedDeployment({ namespace, name: "lookup-web" });
    expect(annotated.spec?.template.metadata?.annotations).toEqual({
      "alpha.image.policy.openshift.io/resolve-names": "*",
    });
    expect((await cli(["set", "image-lookup", "deployment/lookup-web", "--enabled=false"])).code).toBe(0);
    const cleared = await apps.readNamespacedDeployment({ namespace, name: "lookup-web" });
    expect(cleared.spec?.template.metadata?.annotations ?? {}).toEqual({});
    const wrong = await cli(["set", "image-lookup", "service/lookup-web"]);
    expect(wrong.code).toBe(2);
  });
});
