import { CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageStream, TagReference } from "../../src/api/types.ts";
import { createLogger } from "../../src/log/logger.ts";
import type { Operator } from "../../src/operator/index.ts";
import type { RequestEvent } from "../../src/registry/index.ts";
import {
  createNamespace,
  dockerConfigJson,
  type FaultProxy,
  type PushedImage,
  pushImage,
  startFaultProxy,
  useSharedControlPlane,
  useSharedRegistry,
} from "../harness/index.ts";
import { startInProcessOperator } from "./in-process-operator.ts";
import { streamsOf } from "./streams.ts";

const cp = useSharedControlPlane();
const plain = useSharedRegistry("plain");
const basic = useSharedRegistry("basic");
const token = useSharedRegistry("token");
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
const BULK_IMPORT_LIMIT = 3;
/** Every line the operator logs, at trace level. */
const logLines: string[] = [];
const requests: RequestEvent[] = [];
let operator: Operator;
let proxy: FaultProxy;
/** Streams of most tests. */
let ns: string;
/** Cross-namespace: the source, a namespace granted access to it, and one that is not. */
let sourceNs: string;
let allowedNs: string;
let deniedNs: string;

const streams = streamsOf(cp);
const getStream = (name: string, namespace = ns) => streams.get(namespace, name);
const createStream = (
  name: string,
  spec: ImageStream["spec"],
  options: { namespace?: string; annotations?: Record<string, string> } = {},
) => streams.create(options.namespace ?? ns, name, spec, options.annotations);
const requestImport = (name: string) => streams.requestImport(ns, name);
const tagStatus = (name: string, tag: string, namespace = ns) => streams.tagStatus(namespace, name, tag);
const imported = (name: string, tag: string, digest: string, namespace = ns) =>
  streams.imported(namespace, name, tag, digest);
const failed = (name: string, tag: string, reason: string, namespace = ns) =>
  streams.failed(namespace, name, tag, reason);

function dockerTag(name: string, pullSpec: string): TagReference {
  return { name, from: { kind: "DockerImage", name: pullSpec }, importPolicy: { insecure: true } };
}

beforeAll(async () => {
  [ns, sourceNs, allowedNs, deniedNs] = await Promise.all([
    createNamespace(cp, "import-sources"),
    createNamespace(cp, "import-src"),
    createNamespace(cp, "import-allowed"),
    createNamespace(cp, "import-denied"),
  ]);
  // Before any stream exists, so the controller's one-minute access cache never holds a denial.
  await rbac.createNamespacedRole({
    namespace: sourceNs,
    body: {
      metadata: { name: "imagestream-reader" },
      rules: [{ apiGroups: ["image.openshift.io"], resources: ["imagestreams"], verbs: ["get"] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: sourceNs,
    body: {
      metadata: { name: "imagestream-reader" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "imagestream-reader" },
      subjects: [
        { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: `system:serviceaccounts:${allowedNs}` },
      ],
    },
  });
  proxy = await startFaultProxy(plain);
  operator = await startInProcessOperator(
    cp,
    [
      "--namespaces",
      [ns, sourceNs, allowedNs, deniedNs].join(","),
      "--controllers=import",
      `--bulk-import-limit=${BULK_IMPORT_LIMIT}`,
    ],
    {
      log: createLogger({ level: "trace" }, { write: (line: string) => void logLines.push(line) }),
      caBundle: [basic.caPem, token.caPem].join("\n"),
      onRegistryRequest: (e) => requests.push(e),
    },
  );
});

afterAll(async () => {
  await operator?.stop();
  await proxy?.stop();
});

describe("import sources", () => {
  it("imports at most the bulk limit of a repository's tags, in OpenShift's priority order", async () => {
    const repository = "sources/bulk";
    const pushed = new Map<string, PushedImage>();
    // Lexically 1.9.0 > 1.10.0 and "alpha" < "latest": only the priority order picks these three.
    for (const tag of ["alpha", "1.9.0", "1.10.0", "2.1", "latest"]) {
      pushed.set(tag, await pushImage(plain, repository, tag, { layerContent: tag }));
    }
    const expected = ["latest", "2.1", "1.10.0"];
    await createStream(
      "bulk",
      { dockerImageRepository: `${proxy.host}/${repository}` },
      { annotations: { "openshift.io/image.insecureRepository": "true" } },
    );
    for (const tag of expected) await imported("bulk", tag, pushed.get(tag)!.digest);
    const stream = await getStream("bulk");
    expect(stream.status?.tags?.map((t) => t.tag).sort()).toEqual([...expected].sort());
    expect(stream.status?.tags?.find((t) => t.tag === "2.1")?.items?.[0]?.dockerImageReference).toBe(
      `${proxy.host}/${repository}@${pushed.get("2.1")!.digest}`,
    );
    // The proxy saw the manifests fetched in priority order, and no other tag's.
    const manifestTags = proxy.requests
      .filter((r) => r.method === "GET" && r.path.startsWith(`/v2/${repository}/manifests/`))
      .map((r) => r.path.slice(`/v2/${repository}/manifests/`.length));
    expect(manifestTags).toEqual(expected);
  });

  it("moves tags that track another tag, in the same stream and in another stream", async () => {
    const first = await pushImage(plain, "sources/track", "v1", { layerContent: "first" });
    await createStream("track", {
      tags: [
        dockerTag("v1", `${plain.host}/sources/track:v1`),
        { name: "stable", from: { kind: "ImageStreamTag", name: "v1" } },
      ],
    });
    await createStream("follower", {
      tags: [{ name: "mirror", from: { kind: "ImageStreamTag", name: "track:v1" } }],
    });
    await imported("track", "stable", first.digest);
    await imported("follower", "mirror", first.digest);

    const second = await pushImage(plain, "sources/track", "v1", { layerContent: "second" });
    await requestImport("track");
    const stable = await imported("track", "stable", second.digest);
    const mirror = await imported("follower", "mirror", second.digest);
    for (const alias of [stable, mirror]) {
      expect(alias.items?.map((i) => i.image)).toEqual([second.digest, first.digest]);
      expect(alias.items?.[0]?.dockerImageReference).toBe(`${plain.host}/sources/track@${second.digest}`);
    }
  });

  it("pins ImageStreamImage tags by digest prefix, and reports ambiguous or unknown prefixes", async () => {
    // Push until two images share the first hex digit of their digests (at most 17 by pigeonhole).
    const hex = (image: PushedImage) => image.digest.slice("sha256:".length);
    const byFirstDigit = new Map<string, { tag: string; image: PushedImage }>();
    let pair: [{ tag: string; image: PushedImage }, { tag: string; image: PushedImage }] | undefined;
    for (let i = 0; !pair && i < 17; i++) {
      const pushed = {
        tag: `p${i}`,
        image: await pushImage(plain, "sources/pool", `p${i}`, { layerContent: `pool-${i}` }),
      };
      const earlier = byFirstDigit.get(hex(pushed.image)[0]!);
      if (earlier) pair = [earlier, pushed];
      else byFirstDigit.set(hex(pushed.image)[0]!, pushed);
    }
    if (!pair) throw new Error("17 digests without a shared first digit");
    const [a, b] = pair;
    await createStream("pool", {
      tags: [a, b].map((p) => dockerTag(p.tag, `${plain.host}/sources/pool:${p.tag}`)),
    });
    await imported("pool", a.tag, a.image.digest);
    await imported("pool", b.tag, b.image.digest);

    const shared = hex(a.image)[0]!;
    const unknown = ["0", "1", "2", "3"]
      .map((d) => d.repeat(4))
      .find((p) => !hex(a.image).startsWith(p) && !hex(b.image).startsWith(p))!;
    await createStream("pins", {
      tags: [
        { name: "exact", from: { kind: "ImageStreamImage", name: `pool@${a.image.digest.slice(0, 19)}` } },
        { name: "bare", from: { kind: "ImageStreamImage", name: `pool@${hex(b.image).slice(0, 12)}` } },
        { name: "ambiguous", from: { kind: "ImageStreamImage", name: `pool@sha256:${shared}` } },
        { name: "unknown", from: { kind: "ImageStreamImage", name: `pool@sha256:${unknown}` } },
      ],
    });
    const exact = await imported("pins", "exact", a.image.digest);
    expect(exact.items?.[0]?.dockerImageReference).toBe(`${plain.host}/sources/pool@${a.image.digest}`);
    await imported("pins", "bare", b.image.digest);
    const ambiguous = await failed("pins", "ambiguous", "Conflict");
    expect(ambiguous.message).toContain(a.image.digest);
    expect(ambiguous.message).toContain(b.image.digest);
    const notFound = await failed("pins", "unknown", "NotFound");
    expect(notFound.message).toContain(unknown);
    const pins = await getStream("pins");
    for (const tag of ["ambiguous", "unknown"]) {
      expect(pins.status?.tags?.find((t) => t.tag === tag)?.items ?? []).toEqual([]);
    }
  });

  it("follows another namespace's stream only where RBAC lets the namespace read it", async () => {
    const pushed = await pushImage(plain, "sources/shared", "v1");
    await createStream(
      "base",
      { tags: [dockerTag("v1", `${plain.host}/sources/shared:v1`)] },
      { namespace: sourceNs },
    );
    await imported("base", "v1", pushed.digest, sourceNs);
    const follow = {
      tags: [{ name: "v1", from: { kind: "ImageStreamTag" as const, name: "base:v1", namespace: sourceNs } }],
    };
    await createStream("follow", follow, { namespace: allowedNs });
    await createStream("follow", follow, { namespace: deniedNs });

    const allowed = await imported("follow", "v1", pushed.digest, allowedNs);
    expect(allowed.conditions ?? []).toEqual([]);
    const denied = await failed("follow", "v1", "Forbidden", deniedNs);
    expect(denied.message).toContain(deniedNs);
    expect(denied.message).toContain(sourceNs);
    expect((await tagStatus("follow", "v1", deniedNs))?.items ?? []).toEqual([]);
  });

  it("never logs credentials, even at trace level", async () => {
    const privateBasic = await pushImage(basic, "sources/secret", "v1");
    const privateToken = await pushImage(token, "sources/secret", "v1");
    await createStream("secret", {
      tags: [
        { name: "basic", from: { kind: "DockerImage", name: `${basic.host}/sources/secret:v1` } },
        { name: "token", from: { kind: "DockerImage", name: `${token.host}/sources/secret:v1` } },
      ],
    });
    // Without a secret first, so failures (which log their reason) are part of the run too.
    await failed("secret", "basic", "Unauthorized");
    await failed("secret", "token", "Unauthorized");
    const auths = {
      ...JSON.parse(dockerConfigJson(basic)).auths,
      ...JSON.parse(dockerConfigJson(token)).auths,
    };
    const dockerConfig = JSON.stringify({ auths });
    await core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name: "pull" },
        type: "kubernetes.io/dockerconfigjson",
        stringData: { ".dockerconfigjson": dockerConfig },
      },
    });
    await imported("secret", "basic", privateBasic.digest);
    await imported("secret", "token", privateToken.digest);
    expect(requests.some((r) => r.kind === "token" && r.status === 200)).toBe(true);

    const logs = logLines.join("");
    // The logger was really in use for this stream, at every level down to debug.
    expect(logs).toContain(`"namespace":"${ns}","name":"secret"`);
    expect(logs).toContain('"level":20');
    for (const registry of [basic, token]) {
      expect(logs).not.toContain(registry.password);
      expect(logs).not.toContain(Buffer.from(`${registry.username}:${registry.password}`).toString("base64"));
    }
    expect(logs).not.toContain(Buffer.from(dockerConfig).toString("base64"));
    // No Authorization value (a challenge's `Bearer realm=` is not one) and no JWT.
    expect(logs).not.toMatch(/\b(?:Bearer|Basic)\s+(?!realm=)[A-Za-z0-9+/._~-]{8,}/);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});
