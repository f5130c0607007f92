// The trigger controller's loop against in-memory informers and a fake API: what it reads,
// what it patches, and which Events it records. Real clusters are in test/integration.

import { afterEach, describe, expect, it, vi } from "vitest";
import type { AccessReview } from "../../../src/access/index.ts";
import type { ImageStream } from "../../../src/api/types.ts";
import { parseConfig } from "../../../src/config/index.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { createMetrics } from "../../../src/metrics/index.ts";
import {
  type ControllerHandle,
  connectKube,
  createControllerContext,
  EventRecorder,
  type EventSink,
  type IndexFunc,
  type InformerFactory,
  type InformerHandlers,
  type KubeEvent,
  keyString,
  type ObjectKey,
} from "../../../src/runtime/index.ts";
import {
  createTriggerController,
  type JsonPatchOperation,
  TRIGGER_ANNOTATION,
  WORKLOAD_KINDS,
  type WorkloadClient,
  type WorkloadKind,
  type WorkloadResource,
} from "../../../src/triggers/index.ts";
import { applyPatch, PatchTestFailed } from "./fixtures.ts";

interface Meta {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

class FakeInformer<T extends Meta> {
  readonly store = new Map<string, T>();
  readonly #indexes = new Map<string, IndexFunc<T>>();
  readonly #handlers: InformerHandlers<T>[] = [];

  get(key: ObjectKey): T | undefined {
    return this.store.get(keyString(key));
  }
  list(): T[] {
    return [...this.store.values()];
  }
  byIndex(name: string, value: string): T[] {
    const fn = this.#indexes.get(name);
    if (!fn) throw new Error(`no index ${name}`);
    return this.list().filter((obj) => fn(obj).includes(value));
  }
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.#indexes.set(name, fn);
  }
  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.#handlers.push(handlers);
    return () => this.#handlers.splice(this.#handlers.indexOf(handlers), 1);
  }
  hasSynced(): boolean {
    return true;
  }
  /** Adds or updates an object, calling handlers as a watch event would. */
  put(obj: T): void {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    const old = this.store.get(key);
    this.store.set(key, obj);
    for (const h of this.#handlers) {
      if (old) h.onUpdate?.(old, obj);
      else h.onAdd?.(obj);
    }
  }
}

/** Every kind of the kinds table, by plural. */
const PLURAL_KINDS: Record<string, WorkloadKind> = Object.fromEntries(
  WORKLOAD_KINDS.map((info) => [info.plural, info.kind]),
);

type Workload = WorkloadResource & {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    annotations: Record<string, string>;
  };
  spec: { template: { spec: { containers: { name: string; image: string }[] } } };
};

/** A fake cluster: metadata-only informers fed from full objects, and a strict JSON Patch API. */
function setup(options: { accessReview?: AccessReview; beforePatch?: (workload: Workload) => void } = {}) {
  const informers = new Map<string, { informer: FakeInformer<Meta>; metadataOnly: boolean }>();
  const fakeInformers = {
    for(type: { plural: string }, opts: { metadataOnly?: boolean } = {}) {
      let entry = informers.get(type.plural);
      if (!entry) {
        entry = { informer: new FakeInformer(), metadataOnly: opts.metadataOnly === true };
        informers.set(type.plural, entry);
      }
      return entry.informer;
    },
  };
  const informer = (plural: string): FakeInformer<Meta> => {
    const entry = informers.get(plural);
    if (!entry) throw new Error(`no informer for ${plural}`);
    return entry.informer;
  };
  const objects = new Map<string, Workload>();
  const calls: string[] = [];
  const client: WorkloadClient = {
    async get(kind, namespace, name) {
      calls.push(`GET ${kind} ${name}`);
      const obj = objects.get(`${namespace}/${name}`);
      if (!obj) throw Object.assign(new Error("not found"), { code: 404 });
      return structuredClone(obj);
    },
    async patch(kind, namespace, name, operations: readonly JsonPatchOperation[]) {
      calls.push(`PATCH ${kind} ${name}`);
      const key = `${namespace}/${name}`;
      const current = objects.get(key);
      if (!current) throw Object.assign(new Error("not found"), { code: 404 });
      options.beforePatch?.(current);
      let patched: Workload;
      try {
        patched = applyPatch(current, operations);
      } catch (err) {
        if (err instanceof PatchTestFailed) throw Object.assign(new Error(err.message), { code: 422 });
        throw err;
      }
      patched.metadata.generation++;
      store(patched);
      return structuredClone(patched);
    },
  };
  const store = (workload: Workload): void => {
    objects.set(`${workload.metadata.namespace}/${workload.metadata.name}`, workload);
    const { name, namespace, uid, generation, annotations } = workload.metadata;
    // What a metadata-only watch delivers: no spec.
    informer("deployments").put({ metadata: { name, namespace, uid, generation, annotations } } as Meta);
  };
  const events: KubeEvent[] = [];
  const sink: EventSink = {
    create: async (_namespace, event) => {
      events.push(event);
      return event;
    },
    patchSeries: async () => {},
  };
  const log = createLogger({ level: "silent" });
  const metrics = createMetrics({ defaultMetrics: false });
  const ctx = createControllerContext({
    kc: connectKube({ server: "https://cluster.invalid" }),
    log,
    config: { ...parseConfig([], {}), triggerWorkers: 1 },
    informers: fakeInformers as unknown as InformerFactory,
    events: new EventRecorder({ sink, logger: log, reportingController: "test", reportingInstance: "test" }),
    metrics,
  });
  const handle = createTriggerController(ctx, {
    client,
    accessReview: options.accessReview ?? (async () => true),
    firedEventsQuietMs: 10,
  });
  handles.push(handle);
  handle.start();
  const setTag = (namespace: string, stream: string, tag: string, reference: string): void => {
    const key = `${namespace}/${stream}`;
    const old = informer("imagestreams").store.get(key) as ImageStream | undefined;
    const tags = (old?.status?.tags ?? []).filter((t) => t.tag !== tag);
    tags.push({ tag, items: [{ created: "", dockerImageReference: reference, image: "", generation: 1 }] });
    informer("imagestreams").put({ metadata: { name: stream, namespace }, status: { tags } } as ImageStream);
  };
  return { informers, informer, objects, calls, events, store, setTag, metrics };
}

const handles: ControllerHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

function deployment(
  name: string,
  triggers: unknown,
  containers: { name: string; image: string }[] = [{ name: "app", image: "nginx:1" }],
  namespace = "team",
): Workload {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace,
      uid: `uid-${name}`,
      generation: 1,
      annotations: triggers === undefined ? {} : { [TRIGGER_ANNOTATION]: JSON.stringify(triggers) },
    },
    spec: { template: { spec: { containers } } },
  };
}

const follow = (stream: string, selector = "0", namespace?: string) => [
  {
    from: { kind: "ImageStreamTag", name: stream, ...(namespace ? { namespace } : {}) },
    fieldPath: `spec.template.spec.containers[${selector}].image`,
  },
];

/** Reconciles the trigger controller finished, whatever their outcome. */
async function reconciles(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const { body } = await metrics.exposition();
  let sum = 0;
  for (const m of body.matchAll(
    /^imagestream_reconcile_total\{controller="trigger",result="[a-z_]+"\} (\d+)$/gm,
  )) {
    sum += Number(m[1]);
  }
  return sum;
}

function imageOf(workload: Workload | undefined, container: string): string | undefined {
  return workload?.spec.template.spec.containers.find((c) => c.name === container)?.image;
}

describe("trigger controller loop", () => {
  it("watches workloads as metadata only and ImageStreams in full", () => {
    const { informers } = setup();
    expect([...informers.keys()].sort()).toEqual([...Object.keys(PLURAL_KINDS), "imagestreams"].sort());
    for (const [plural, { metadataOnly }] of informers) expect(metadataOnly).toBe(plural !== "imagestreams");
  });

  it("patches only the workloads following a changed tag, once each, and never reads unannotated ones", async () => {
    const t = setup();
    t.store(deployment("a", follow("app:latest")));
    t.store(deployment("b", follow("other:latest")));
    t.store(deployment("plain", undefined));
    await vi.waitFor(() =>
      expect(t.calls).toEqual(expect.arrayContaining(["GET Deployment a", "GET Deployment b"])),
    );
    t.calls.length = 0;

    t.setTag("team", "app", "latest", "reg/app@sha256:1");
    await vi.waitFor(() => expect(imageOf(t.objects.get("team/a"), "app")).toBe("reg/app@sha256:1"));
    // Planned from the containers remembered at the first read; the write's own watch event
    // (new generation) is planned from the patch's answer and finds nothing to do.
    await vi.waitFor(async () => expect(await reconciles(t.metrics)).toBeGreaterThanOrEqual(4));
    expect(t.calls).toEqual(["PATCH Deployment a"]);
    expect(imageOf(t.objects.get("team/b"), "app")).toBe("nginx:1");
    await vi.waitFor(() => expect(t.events).toHaveLength(1));
    expect(t.events.map((e) => [e.type, e.reason, e.regarding?.name])).toEqual([
      ["Normal", "ImageTriggerFired", "a"],
    ]);
    expect(t.events[0]?.note).toBe(
      'Image for container "app" changed from nginx:1 to reg/app@sha256:1 by trigger ImageStreamTag team/app:latest',
    );
  });

  it("re-reads and retries when the guarded patch fails because the container list changed", async () => {
    let reordered = false;
    const t = setup({
      beforePatch: (workload) => {
        if (reordered) return;
        reordered = true;
        workload.spec.template.spec.containers.reverse();
      },
    });
    t.setTag("team", "app", "latest", "reg/app@sha256:2");
    t.store(
      deployment("web", follow("app:latest", '?(@.name=="app")'), [
        { name: "app", image: "nginx:1" },
        { name: "sidecar", image: "busybox:1" },
      ]),
    );
    await vi.waitFor(() => expect(imageOf(t.objects.get("team/web"), "app")).toBe("reg/app@sha256:2"));
    expect(imageOf(t.objects.get("team/web"), "sidecar")).toBe("busybox:1");
    expect(t.calls.slice(0, 4)).toEqual([
      "GET Deployment web",
      "PATCH Deployment web",
      "GET Deployment web",
      "PATCH Deployment web",
    ]);
    const { body } = await t.metrics.exposition();
    expect(body).toMatch(/trigger_writes_total\{result="conflict"\} 1\n/);
    expect(body).toMatch(/trigger_writes_total\{result="success"\} 1\n/);
  });

  it("reports a problem once, not on every re-evaluation, and writes nothing", async () => {
    const t = setup();
    const broken = deployment("broken", follow("app:latest", '?(@.name=="web")'));
    t.store(broken);
    await vi.waitFor(() => expect(t.events).toHaveLength(1));
    t.store({ ...broken, metadata: { ...broken.metadata, generation: 2 } });
    await vi.waitFor(() => expect(t.calls.filter((c) => c.startsWith("GET"))).toHaveLength(2));
    t.setTag("team", "app", "latest", "reg/app@sha256:3");
    await vi.waitFor(async () => expect(await reconciles(t.metrics)).toBe(3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.events.map((e) => [e.type, e.reason])).toEqual([["Warning", "TriggerContainerNotFound"]]);
    expect(t.calls.some((c) => c.startsWith("PATCH"))).toBe(false);
  });

  it("follows another namespace only when the access review allows it", async () => {
    const reviews: string[] = [];
    const t = setup({
      accessReview: async (workloadNamespace, sourceNamespace) => {
        reviews.push(`${workloadNamespace}->${sourceNamespace}`);
        return sourceNamespace === "shared";
      },
    });
    t.setTag("shared", "base", "1", "reg/base@sha256:ok");
    t.setTag("private", "base", "1", "reg/base@sha256:no");
    t.store(
      deployment(
        "cross",
        [...follow("base:1", "0", "shared"), ...follow("base:1", "1", "private")],
        [
          { name: "allowed", image: "nginx:1" },
          { name: "denied", image: "nginx:1" },
        ],
      ),
    );
    await vi.waitFor(() =>
      expect(imageOf(t.objects.get("team/cross"), "allowed")).toBe("reg/base@sha256:ok"),
    );
    expect(imageOf(t.objects.get("team/cross"), "denied")).toBe("nginx:1");
    await vi.waitFor(() => expect(t.events.map((e) => e.reason)).toContain("TriggerNotAuthorized"));
    // Decisions are cached: the re-read after the write asks nobody again.
    expect(reviews.sort()).toEqual(["team->private", "team->shared"]);
  });

  it("leaves workloads managed by another controller alone", async () => {
    const t = setup();
    t.setTag("team", "app", "latest", "reg/app@sha256:4");
    const owned = deployment("owned", follow("app:latest"));
    t.informer("replicasets").put({
      metadata: {
        ...owned.metadata,
        ownerReferences: [{ controller: true, kind: "Deployment", name: "web" }],
      },
    } as Meta);
    t.store(deployment("canary", follow("app:latest")));
    await vi.waitFor(() => expect(imageOf(t.objects.get("team/canary"), "app")).toBe("reg/app@sha256:4"));
    expect(t.calls.some((c) => c.includes("owned"))).toBe(false);
  });
  it("reads a workload again once its spec changed, and reverts an edited image", async () => {
    const t = setup();
    t.setTag("team", "app", "latest", "reg/app@sha256:5");
    t.store(deployment("web", follow("app:latest")));
    await vi.waitFor(() => expect(imageOf(t.objects.get("team/web"), "app")).toBe("reg/app@sha256:5"));
    t.calls.length = 0;

    // A user sets another image: the generation moves, so the remembered containers are stale.
    const edited = structuredClone(t.objects.get("team/web") as Workload);
    edited.spec.template.spec.containers[0] = { name: "app", image: "nginx:2" };
    edited.metadata.generation++;
    t.store(edited);
    await vi.waitFor(() => expect(imageOf(t.objects.get("team/web"), "app")).toBe("reg/app@sha256:5"));
    expect(t.calls.slice(0, 2)).toEqual(["GET Deployment web", "PATCH Deployment web"]);
  });

  it("falls back to a read when the remembered container list is stale and the patch's test fails", async () => {
    const t = setup();
    t.setTag("team", "app", "latest", "reg/app@sha256:6");
    t.store(
      deployment("web", follow("app:latest", '?(@.name=="app")'), [
        { name: "app", image: "reg/app@sha256:6" },
        { name: "sidecar", image: "busybox:1" },
      ]),
    );
    await vi.waitFor(() => expect(t.calls).toEqual(["GET Deployment web"]));
    // The list is reordered on the server, and the watch has not delivered it yet.
    (t.objects.get("team/web") as Workload).spec.template.spec.containers.reverse();

    t.setTag("team", "app", "latest", "reg/app@sha256:7");
    await vi.waitFor(() => expect(imageOf(t.objects.get("team/web"), "app")).toBe("reg/app@sha256:7"));
    expect(imageOf(t.objects.get("team/web"), "sidecar")).toBe("busybox:1");
    expect(t.calls).toEqual([
      "GET Deployment web",
      "PATCH Deployment web",
      "GET Deployment web",
      "PATCH Deployment web",
    ]);
  });

  it("reads a workload created anew under the same name (another uid)", async () => {
    const t = setup();
    t.setTag("team", "app", "latest", "reg/app@sha256:8");
    t.store(deployment("web", follow("app:latest")));
    await vi.waitFor(() => expect(imageOf(t.objects.get("team/web"), "app")).toBe("reg/app@sha256:8"));
    t.calls.length = 0;

    const again = deployment("web", follow("app:latest"), [{ name: "app", image: "nginx:3" }]);
    again.metadata.uid = "uid-web-2";
    t.store(again);
    await vi.waitFor(() => expect(imageOf(t.objects.get("team/web"), "app")).toBe("reg/app@sha256:8"));
    expect(t.calls.slice(0, 2)).toEqual(["GET Deployment web", "PATCH Deployment web"]);
  });
  it("reports a fan-out to many workloads of a namespace with one Event on the stream", async () => {
    const t = setup();
    const names = Array.from({ length: 12 }, (_, i) => `w${i}`);
    for (const name of names) t.store(deployment(name, follow("app:latest")));
    t.store(deployment("elsewhere", follow("app:latest", "0", "team"), undefined, "other"));
    await vi.waitFor(() => expect(t.calls.filter((c) => c.startsWith("GET"))).toHaveLength(13));

    t.setTag("team", "app", "latest", "reg/app@sha256:9");
    for (const name of names) {
      await vi.waitFor(() => expect(imageOf(t.objects.get(`team/${name}`), "app")).toBe("reg/app@sha256:9"));
    }
    await vi.waitFor(() => expect(imageOf(t.objects.get("other/elsewhere"), "app")).toBe("reg/app@sha256:9"));
    await vi.waitFor(() => expect(t.events).toHaveLength(2));
    const byNamespace = Object.fromEntries(t.events.map((e) => [e.metadata?.namespace, e]));
    // The workload in another namespace than the stream has its own Event, as a single one would.
    expect(byNamespace.other?.regarding).toMatchObject({ kind: "Deployment", name: "elsewhere" });
    expect(byNamespace.team?.regarding).toMatchObject({
      kind: "ImageStream",
      name: "app",
      namespace: "team",
    });
    expect(byNamespace.team?.reason).toBe("ImageTriggerFired");
    expect(byNamespace.team?.note).toMatch(
      /^Image of 12 workloads set to reg\/app@sha256:9 by trigger ImageStreamTag team\/app:latest: Deployment w/,
    );
    for (const name of names) expect(byNamespace.team?.note).toContain(`Deployment ${name}`);
  });
});
