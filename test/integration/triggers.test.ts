// The trigger controller against a real kube-apiserver and kube-controller-manager. The tests
// write ImageStream status directly through the status subresource (as the import controller
// would) and watch what the controller writes into the workloads.

import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CustomObjectsApi,
  EventsV1Api,
  type EventsV1Event,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createMetrics } from "../../src/metrics/index.ts";
import {
  type ControllerHandle,
  createControllerContext,
  EventRecorder,
  eventSinkFromClient,
  FIELD_MANAGER,
  type KubeConnection,
  SharedInformers,
} from "../../src/runtime/index.ts";
import {
  createTriggerController,
  TRIGGER_ANNOTATION,
  type WorkloadKind,
  workloadKindInfo,
} from "../../src/triggers/index.ts";
import { createNamespace, eventually, useSharedControlPlane } from "../harness/index.ts";

type Json = Record<string, unknown>;

const REPORTING_CONTROLLER = "image.openshift.io/trigger-controller";

interface RunningController {
  handle: ControllerHandle;
  stop(): Promise<void>;
}

/** An operator context as main.ts would build it, scoped to the test's namespaces. */
async function startTriggerController(kc: KubeConnection, namespaces: string[]): Promise<RunningController> {
  const log = createLogger({ level: "error", name: "trigger-test" });
  const config = { ...parseConfig([], {}), namespaces, triggerWorkers: 2 };
  const informers = new SharedInformers(kc, log, namespaces);
  const events = new EventRecorder({
    sink: eventSinkFromClient(kc),
    logger: log,
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: "trigger-test",
  });
  const ctx = createControllerContext({
    kc,
    log,
    config,
    informers,
    events,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  const handle = createTriggerController(ctx);
  informers.start();
  if (!(await informers.waitForSync())) throw new Error("informers did not sync");
  handle.start();
  return {
    handle,
    stop: async () => {
      await handle.stop();
      await informers.stop();
    },
  };
}

/** A digest pull spec that is stable per label, so tests can name images by a word. */
function digestRef(label: string): string {
  return `registry.test:5000/team/app@sha256:${createHash("sha256").update(label).digest("hex")}`;
}

const apiVersionOf = (kind: WorkloadKind): string => workloadKindInfo(kind).apiVersion;

interface Container {
  name: string;
  image: string;
}

function triggerAnnotation(triggers: unknown): string {
  return typeof triggers === "string" ? triggers : JSON.stringify(triggers);
}

/** A minimal valid object of `kind` with the trigger annotation and the given containers. */
function workloadManifest(
  kind: WorkloadKind,
  namespace: string,
  name: string,
  triggers: unknown,
  containers: Container[],
  initContainers: Container[] = [],
): Json {
  const podSpec: Json = { containers, ...(initContainers.length > 0 ? { initContainers } : {}) };
  const labels = { app: name };
  const template = { metadata: { labels }, spec: podSpec };
  const jobPodSpec = { ...podSpec, restartPolicy: "Never" };
  // The kinds these tests create; a kind without an entry here has no fixture yet.
  const specs: Partial<Record<WorkloadKind, Json>> = {
    Deployment: { selector: { matchLabels: labels }, template },
    StatefulSet: { selector: { matchLabels: labels }, serviceName: name, template },
    DaemonSet: { selector: { matchLabels: labels }, template },
    ReplicaSet: { selector: { matchLabels: labels }, template },
    CronJob: {
      schedule: "0 0 1 1 *",
      suspend: true,
      jobTemplate: { spec: { template: { metadata: { labels }, spec: jobPodSpec } } },
    },
    Job: { suspend: true, template: { metadata: { labels }, spec: jobPodSpec } },
    Pod: podSpec,
  };
  const spec = specs[kind];
  if (spec === undefined) throw new Error(`no test manifest for a ${kind} yet`);
  return {
    apiVersion: apiVersionOf(kind),
    kind,
    metadata: { name, namespace, annotations: { [TRIGGER_ANNOTATION]: triggerAnnotation(triggers) } },
    spec,
  };
}

function podSpecOf(kind: WorkloadKind, obj: Json): Json {
  const path = workloadKindInfo(kind).podSpecPath;
  let value: unknown = obj;
  for (const key of path) value = (value as Json | undefined)?.[key];
  return (value ?? {}) as Json;
}

function imageOf(kind: WorkloadKind, obj: Json, container: string, list = "containers"): string | undefined {
  const containers = (podSpecOf(kind, obj)[list] ?? []) as Container[];
  return containers.find((c) => c.name === container)?.image;
}

function metadataOf(obj: Json): {
  resourceVersion?: string;
  generation?: number;
  managedFields?: { manager?: string }[];
} {
  return (obj.metadata ?? {}) as {
    resourceVersion?: string;
    generation?: number;
    managedFields?: { manager?: string }[];
  };
}

function trigger(stream: string, fieldPath: string, extra: Json = {}): Json {
  return { from: { kind: "ImageStreamTag", name: stream }, fieldPath, ...extra };
}

describe("trigger controller", () => {
  const cp = useSharedControlPlane();
  const kc = cp.kubeConfig;
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const eventsApi = kc.makeApiClient(EventsV1Api);
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  let ns = "";
  let shared = "";
  let secret = "";
  let running: RunningController | undefined;

  async function create(
    kind: WorkloadKind,
    name: string,
    triggers: unknown,
    containers: Container[],
    init: Container[] = [],
    namespace = ns,
  ): Promise<Json> {
    return (await objects.create(
      workloadManifest(kind, namespace, name, triggers, containers, init),
    )) as unknown as Json;
  }

  async function read(kind: WorkloadKind, name: string, namespace = ns): Promise<Json> {
    return (await objects.read({
      apiVersion: apiVersionOf(kind),
      kind,
      metadata: { name, namespace },
    })) as unknown as Json;
  }

  /** Creates the stream if needed and sets each tag's history (newest first) in its status. */
  async function setStreamStatus(
    name: string,
    tags: Record<string, string[]>,
    namespace = ns,
  ): Promise<void> {
    await custom
      .createNamespacedCustomObject({
        group: "image.openshift.io",
        version: "v1",
        namespace,
        plural: "imagestreams",
        body: { apiVersion: "image.openshift.io/v1", kind: "ImageStream", metadata: { name }, spec: {} },
      })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
    const status = {
      tags: Object.entries(tags).map(([tag, references]) => ({
        tag,
        items: references.map((dockerImageReference, i) => ({
          created: new Date(Date.now() - i * 1000).toISOString(),
          dockerImageReference,
          image: dockerImageReference.slice(dockerImageReference.indexOf("@") + 1),
          generation: 1,
        })),
      })),
    };
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: "image.openshift.io",
        version: "v1",
        namespace,
        plural: "imagestreams",
        name,
        body: { status },
      },
      mergePatch,
    );
  }

  async function waitForImage(
    kind: WorkloadKind,
    name: string,
    container: string,
    image: string,
    list = "containers",
    namespace = ns,
  ): Promise<Json> {
    return eventually(async () => {
      const obj = await read(kind, name, namespace);
      return imageOf(kind, obj, container, list) === image ? obj : undefined;
    }, `${kind} ${name} container ${container} to get ${image}`);
  }

  async function eventsFor(name: string, namespace = ns): Promise<EventsV1Event[]> {
    const list = await eventsApi.listNamespacedEvent({ namespace });
    // The Deployment controller also writes Events about Deployments; count only ours.
    return list.items.filter(
      (event) => event.regarding?.name === name && event.reportingController === REPORTING_CONTROLLER,
    );
  }

  async function waitForEvent(name: string, reason: string, namespace = ns): Promise<EventsV1Event> {
    return eventually(
      async () => (await eventsFor(name, namespace)).find((e) => e.reason === reason),
      `${reason} event on ${name}`,
    );
  }

  /**
   * Waits until the controller has handled everything enqueued so far: a canary created now
   * is handled after the objects created before it (one queue, first in first out).
   */
  let canaries = 0;
  async function settle(): Promise<void> {
    const name = `canary-${++canaries}`;
    const image = digestRef(name);
    await setStreamStatus(name, { latest: [image] });
    await create(
      "Pod",
      name,
      [trigger(`${name}:latest`, "spec.containers[0].image")],
      [{ name: "c", image: "busybox" }],
    );
    await waitForImage("Pod", name, "c", image);
    await sleep(500);
  }

  beforeAll(async () => {
    ns = await createNamespace(cp, "triggers");
    shared = await createNamespace(cp, "triggers-shared");
    secret = await createNamespace(cp, "triggers-secret");
    // The service accounts of `ns` may read ImageStreams in `shared`, not in `secret`.
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: shared,
      body: {
        metadata: { name: "imagestream-reader" },
        rules: [{ apiGroups: ["image.openshift.io"], resources: ["imagestreams"], verbs: ["get"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: shared,
      body: {
        metadata: { name: "imagestream-reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "imagestream-reader" },
        subjects: [
          { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: `system:serviceaccounts:${ns}` },
        ],
      },
    });
    running = await startTriggerController(cp.connection, [ns, shared, secret]);
  });

  afterAll(async () => {
    await running?.stop();
  });

  it("writes the tag's digest into a Deployment and rolls it out on a new image", async () => {
    const first = digestRef("web-1");
    const second = digestRef("web-2");
    await setStreamStatus("web", { latest: [first] });
    await create(
      "Deployment",
      "web",
      [trigger("web:latest", 'spec.template.spec.containers[?(@.name=="app")].image')],
      [
        { name: "sidecar", image: "busybox:1" },
        { name: "app", image: "nginx:1" },
      ],
    );
    const patched = await waitForImage("Deployment", "web", "app", first);
    expect(imageOf("Deployment", patched, "sidecar")).toBe("busybox:1");
    expect(metadataOf(patched).managedFields?.some((f) => f.manager === FIELD_MANAGER)).toBe(true);
    const fired = await waitForEvent("web", "ImageTriggerFired");
    expect(fired.type).toBe("Normal");
    expect(fired.note).toContain(`changed from nginx:1 to ${first}`);

    const apps = (name: string) =>
      objects.list("apps/v1", "ReplicaSet", ns, undefined, undefined, undefined, undefined, `app=${name}`);
    await eventually(async () => {
      const sets = (await apps("web")).items as unknown as Json[];
      return sets.some((rs) => imageOf("ReplicaSet", rs, "app") === first) ? true : undefined;
    }, "a ReplicaSet with the first digest");

    // A new image in the stream's status: a real rollout by the Deployment controller.
    await setStreamStatus("web", { latest: [second, first] });
    await waitForImage("Deployment", "web", "app", second);
    const sets = await eventually(async () => {
      const items = (await apps("web")).items as unknown as Json[];
      return items.some((rs) => imageOf("ReplicaSet", rs, "app") === second) ? items : undefined;
    }, "a new ReplicaSet with the second digest");
    // Old revisions' ReplicaSets carry the copied annotation but are left alone: the one with
    // the first digest keeps it (the very first one, made before the trigger fired, has nginx:1).
    const images = sets.map((rs) => imageOf("ReplicaSet", rs, "app"));
    expect(images).toContain(first);
    expect(images.filter((image) => image === second)).toHaveLength(1);
  });

  it("handles StatefulSets (index), DaemonSets (init containers), CronJobs and Pods", async () => {
    const image = digestRef("kinds-1");
    await create(
      "StatefulSet",
      "sts",
      [trigger("kinds:v1", "spec.template.spec.containers[1].image")],
      [
        { name: "a", image: "busybox:1" },
        { name: "b", image: "nginx:1" },
      ],
    );
    await create(
      "DaemonSet",
      "ds",
      [trigger("kinds:v1", "spec.template.spec.initContainers[?(@.name=='setup')].image")],
      [{ name: "main", image: "nginx:1" }],
      [{ name: "setup", image: "busybox:1" }],
    );
    await create(
      "CronJob",
      "cron",
      [trigger("kinds:v1", "spec.jobTemplate.spec.template.spec.containers[0].image")],
      [{ name: "job", image: "busybox:1" }],
    );
    await create(
      "Pod",
      "pod",
      [trigger("kinds:v1", 'spec.containers[?(@.name="main")].image')],
      [{ name: "main", image: "busybox:1" }],
    );
    // The tag appears after the workloads: it is picked up then.
    await setStreamStatus("kinds", { v1: [image] });
    const sts = await waitForImage("StatefulSet", "sts", "b", image);
    expect(imageOf("StatefulSet", sts, "a")).toBe("busybox:1");
    const ds = await waitForImage("DaemonSet", "ds", "setup", image, "initContainers");
    expect(imageOf("DaemonSet", ds, "main")).toBe("nginx:1");
    await waitForImage("CronJob", "cron", "job", image);
    await waitForImage("Pod", "pod", "main", image);
  });

  it("reports a Job's immutable pod template once and does not write it", async () => {
    const image = digestRef("job-1");
    await setStreamStatus("batch", { latest: [image] });
    const job = await create(
      "Job",
      "job",
      [trigger("batch:latest", "spec.template.spec.containers[0].image")],
      [{ name: "run", image: "busybox:1" }],
    );
    const warning = await waitForEvent("job", "PodTemplateImmutable");
    expect(warning.type).toBe("Warning");
    expect(warning.note).toContain(image);
    // Another change of the stream re-evaluates the Job: no new Warning, no write.
    await setStreamStatus("batch", { latest: [digestRef("job-2"), image] });
    await settle();
    const after = await read("Job", "job");
    expect(imageOf("Job", after, "run")).toBe("busybox:1");
    expect(metadataOf(after).managedFields?.some((f) => f.manager === FIELD_MANAGER)).toBe(false);
    const immutable = (await eventsFor("job")).filter((e) => e.reason === "PodTemplateImmutable");
    // The second image is a new problem (another message); the first is not repeated.
    expect(immutable.map((e) => e.series?.count ?? 1)).toEqual([1, 1]);
    expect(metadataOf(job).generation).toBe(metadataOf(after).generation);
  });

  it("reports a fan-out to more than 10 workloads of a namespace with one Event on the ImageStream", async () => {
    const image = digestRef("fanout-1");
    await setStreamStatus("fanout", { latest: [digestRef("fanout-0")] });
    const names = Array.from({ length: 12 }, (_, i) => `fanout-${i}`);
    for (const name of names) {
      await create(
        "CronJob",
        name,
        [trigger("fanout:latest", "spec.jobTemplate.spec.template.spec.containers[0].image")],
        [{ name: "job", image: digestRef("fanout-0") }],
      );
    }
    await settle();
    await setStreamStatus("fanout", { latest: [image] });
    for (const name of names) await waitForImage("CronJob", name, "job", image);
    const summary = await waitForEvent("fanout", "ImageTriggerFired");
    expect(summary.regarding).toMatchObject({ kind: "ImageStream", name: "fanout", namespace: ns });
    expect(summary.note).toMatch(
      new RegExp(
        `^Image of 12 workloads set to ${image.replaceAll(".", "\\.")} by trigger ImageStreamTag ${ns}/fanout:latest: CronJob fanout-`,
      ),
    );
    for (const name of names) expect(summary.note).toContain(`CronJob ${name}`);
    // Planned together with the summary: none of them has an Event of its own.
    for (const name of names) expect(await eventsFor(name)).toEqual([]);
  });

  it("skips paused triggers and does not write images that are already right", async () => {
    const image = digestRef("steady-1");
    await setStreamStatus("steady", { latest: [image] });
    await create(
      "Deployment",
      "paused",
      [trigger("steady:latest", "spec.template.spec.containers[0].image", { paused: "true" })],
      [{ name: "app", image: "nginx:1" }],
    );
    const right = await create(
      "CronJob",
      "right",
      [trigger("steady:latest", "spec.jobTemplate.spec.template.spec.containers[0].image")],
      [{ name: "job", image }],
    );
    await settle();
    expect(imageOf("Deployment", await read("Deployment", "paused"), "app")).toBe("nginx:1");
    const after = await read("CronJob", "right");
    expect(metadataOf(after).resourceVersion).toBe(metadataOf(right).resourceVersion);
    expect(await eventsFor("paused")).toEqual([]);
    expect(await eventsFor("right")).toEqual([]);
  });

  it("reports malformed annotations with Warning Events and writes nothing", async () => {
    await setStreamStatus("broken", { latest: [digestRef("broken-1")] });
    const cases: [string, unknown, string][] = [
      ["bad-json", "[{not json", "InvalidTriggerAnnotation"],
      ["not-array", { from: { kind: "ImageStreamTag", name: "broken:latest" } }, "InvalidTriggerAnnotation"],
      [
        "bad-kind",
        [
          {
            from: { kind: "DockerImage", name: "nginx" },
            fieldPath: "spec.template.spec.containers[0].image",
          },
        ],
        "InvalidTrigger",
      ],
      ["bad-path", [trigger("broken:latest", "spec.containers[0].image")], "InvalidTrigger"],
      [
        "no-container",
        [trigger("broken:latest", 'spec.template.spec.containers[?(@.name=="web")].image')],
        "TriggerContainerNotFound",
      ],
    ];
    for (const [name, annotation] of cases) {
      await create("Deployment", name, annotation, [{ name: "app", image: "nginx:1" }]);
    }
    for (const [name, , reason] of cases) {
      const event = await waitForEvent(name, reason);
      expect(event.type).toBe("Warning");
    }
    expect((await waitForEvent("no-container", "TriggerContainerNotFound")).note).toContain('(it has "app")');
    // A spec change (new generation) re-evaluates them: the same problems are not reported again.
    for (const [name] of cases) {
      await objects.patch(
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name, namespace: ns },
          spec: { replicas: 2 },
        },
        undefined,
        undefined,
        undefined,
        undefined,
        PatchStrategy.MergePatch,
      );
    }
    await settle();
    for (const [name] of cases) {
      const obj = await read("Deployment", name);
      expect(imageOf("Deployment", obj, "app")).toBe("nginx:1");
      expect(metadataOf(obj).managedFields?.some((f) => f.manager === FIELD_MANAGER)).toBe(false);
      const events = await eventsFor(name);
      expect(events).toHaveLength(1);
      expect(events[0]?.series).toBeUndefined();
    }
  });

  it("reverts a user's edit of a triggered image", async () => {
    const image = digestRef("revert-1");
    await setStreamStatus("revert", { latest: [image] });
    await create(
      "Deployment",
      "revert",
      [trigger("revert:latest", "spec.template.spec.containers[0].image")],
      [{ name: "app", image: "nginx:1" }],
    );
    await waitForImage("Deployment", "revert", "app", image);
    await objects.patch(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "revert", namespace: ns },
        spec: { template: { spec: { containers: [{ name: "app", image: "nginx:2" }] } } },
      },
      undefined,
      undefined,
      "kubectl-edit",
    );
    await waitForImage("Deployment", "revert", "app", image);
  });

  it("follows other namespaces only where authorized", async () => {
    const allowedImage = digestRef("cross-1");
    await setStreamStatus("base", { latest: [allowedImage] }, shared);
    await setStreamStatus("base", { latest: [digestRef("secret-1")] }, secret);
    await create(
      "Deployment",
      "cross",
      [
        {
          from: { kind: "ImageStreamTag", name: "base:latest", namespace: shared },
          fieldPath: "spec.template.spec.containers[0].image",
        },
        {
          from: { kind: "ImageStreamTag", name: "base:latest", namespace: secret },
          fieldPath: "spec.template.spec.containers[1].image",
        },
      ],
      [
        { name: "allowed", image: "nginx:1" },
        { name: "denied", image: "nginx:1" },
      ],
    );
    const obj = await waitForImage("Deployment", "cross", "allowed", allowedImage);
    expect(imageOf("Deployment", obj, "denied")).toBe("nginx:1");
    const warning = await waitForEvent("cross", "TriggerNotAuthorized");
    expect(warning.type).toBe("Warning");
    expect(warning.note).toContain(`namespace "${secret}"`);
    expect(warning.note).toContain(`service accounts of namespace "${ns}"`);
  });

  it("applies what changed while it was down once it is back", async () => {
    const first = digestRef("restart-1");
    const second = digestRef("restart-2");
    await setStreamStatus("restart", { latest: [first] });
    await create(
      "Deployment",
      "restart",
      [trigger("restart:latest", "spec.template.spec.containers[0].image")],
      [{ name: "app", image: "nginx:1" }],
    );
    await waitForImage("Deployment", "restart", "app", first);

    await running?.stop();
    running = undefined;
    await setStreamStatus("restart", { latest: [second, first] });
    await sleep(1000);
    expect(imageOf("Deployment", await read("Deployment", "restart"), "app")).toBe(first);

    running = await startTriggerController(cp.connection, [ns, shared, secret]);
    await waitForImage("Deployment", "restart", "app", second);
  });
});
