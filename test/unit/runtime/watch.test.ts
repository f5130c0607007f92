import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  allOf,
  annotationChanged,
  anyOf,
  beforeAndAfter,
  Controller,
  eachVersion,
  eventTypes,
  fieldChanged,
  generationChanged,
  type InformerHandlers,
  type KindKey,
  keyFields,
  keyString,
  type ObjectKey,
  ownKey,
  resourceVersionChanged,
  type WatchEvent,
} from "../../../src/runtime/index.ts";
import { captureLogger, flush, silentLogger } from "./helpers.ts";

interface Obj {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    annotations?: Record<string, string>;
  };
  spec?: { owner?: string; size?: number };
}

const obj = (name: string, metadata: Partial<Obj["metadata"]> = {}, spec?: Obj["spec"]): Obj => ({
  metadata: { name, namespace: "ns", resourceVersion: "1", ...metadata },
  ...(spec ? { spec } : {}),
});

/** An informer's read side: a list and handlers, events emitted by hand. */
class FakeSource {
  readonly items: Obj[] = [];
  readonly handlers: InformerHandlers<Obj>[] = [];
  list(): Obj[] {
    return [...this.items];
  }
  addHandlers(handlers: InformerHandlers<Obj>): () => void {
    this.handlers.push(handlers);
    return () => this.handlers.splice(this.handlers.indexOf(handlers), 1);
  }
  add(o: Obj): void {
    for (const h of this.handlers) h.onAdd?.(o);
  }
  update(old: Obj, o: Obj): void {
    for (const h of this.handlers) h.onUpdate?.(old, o);
  }
  delete(o: Obj): void {
    for (const h of this.handlers) h.onDelete?.(o);
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function recording<K extends ObjectKey>(logger = silentLogger()) {
  const reconciled: string[] = [];
  const controller = new Controller<K>({
    name: "test",
    logger,
    reconcile: async (key) => {
      reconciled.push(keyString(key));
    },
  });
  return { controller, reconciled };
}

describe("Controller.watch", () => {
  it("replays the cache on start and then follows events through predicate and map", async () => {
    const source = new FakeSource();
    source.items.push(obj("a"), obj("b"));
    const { controller, reconciled } = recording();
    controller.watch(source, { map: ownKey, predicate: resourceVersionChanged });
    source.add(obj("early"));
    expect(source.handlers).toHaveLength(0);
    controller.start();
    await flush();
    expect(reconciled).toEqual(["ns/a", "ns/b"]);
    source.update(obj("a"), obj("a"));
    source.update(obj("b"), obj("b", { resourceVersion: "2" }));
    source.delete(obj("c"));
    await flush();
    expect(reconciled).toEqual(["ns/a", "ns/b", "ns/b", "ns/c"]);
    await controller.stop();
  });

  it("maps an event to other keys, and removes its handlers on stop", async () => {
    const source = new FakeSource();
    const { controller, reconciled } = recording();
    controller.watch(source, {
      map: eachVersion((o: Obj) => [
        o.spec?.owner === undefined ? undefined : { namespace: "ns", name: o.spec.owner },
      ]),
    });
    controller.start();
    source.update(obj("child", {}, { owner: "old" }), obj("child", {}, { owner: "new" }));
    source.add(obj("orphan"));
    await flush();
    expect(reconciled).toEqual(["ns/old", "ns/new"]);
    await controller.stop();
    expect(source.handlers).toHaveLength(0);
    expect(() => controller.watch(source, { map: ownKey })).toThrow(/after start/);
  });

  it("lets an observer note events that pass the predicate when they are seen", async () => {
    const source = new FakeSource();
    source.items.push(obj("a"));
    const observed: string[] = [];
    const { controller, reconciled } = recording();
    controller.watch(source, {
      map: ownKey,
      predicate: resourceVersionChanged,
      observe: (o, event) => observed.push(`${event.type} ${o.metadata.name}`),
    });
    controller.start();
    source.update(obj("a"), obj("a"));
    source.update(obj("a"), obj("a", { resourceVersion: "2" }));
    expect(observed).toEqual(["added a", "updated a"]);
    await flush();
    expect(reconciled).toEqual(["ns/a", "ns/a"]);
    await controller.stop();
  });

  it("logs a map that throws and keeps the other watches going", async () => {
    const { logger, lines } = captureLogger();
    const broken = new FakeSource();
    const healthy = new FakeSource();
    const { controller, reconciled } = recording(logger);
    controller.watch(broken, {
      map: () => {
        throw new Error("map bug");
      },
    });
    controller.watch(healthy, { map: ownKey });
    controller.start();
    broken.add(obj("x"));
    healthy.add(obj("y"));
    await flush();
    expect(reconciled).toEqual(["ns/y"]);
    expect(lines().some((line) => line.msg === "watch map, predicate or observer threw; event ignored")).toBe(
      true,
    );
    await controller.stop();
  });

  it("logs kind keys with kind, namespace and name as separate fields", async () => {
    const { logger, lines } = captureLogger();
    const source = new FakeSource();
    const { controller } = recording<KindKey>(logger);
    controller.watch(source, {
      map: (o) => [{ kind: "Deployment", namespace: "ns", name: o.metadata.name }],
    });
    // Waiting keys are de-duplicated by their canonical string.
    source.items.push(obj("web"));
    controller.enqueue({ kind: "Deployment", namespace: "ns", name: "web" });
    controller.start();
    await flush();
    const line = lines().find((l) => l.msg === "reconciled");
    expect(line).toMatchObject({
      key: "Deployment:ns/web",
      kind: "Deployment",
      namespace: "ns",
      name: "web",
    });
    expect(lines().filter((l) => l.msg === "reconciled")).toHaveLength(1);
    await controller.stop();
  });
});

describe("keys", () => {
  it("have one canonical string, with the kind in front for kind keys", () => {
    expect(keyString({ kind: "Pod", namespace: "ns", name: "p" })).toBe("Pod:ns/p");
    expect(keyString({ namespace: "", name: "cluster" })).toBe("cluster");
    expect(keyFields({ name: "cluster" })).toEqual({ key: "cluster", name: "cluster" });
  });
});

describe("predicates", () => {
  const updated = (old: Obj, object: Obj): WatchEvent<Obj> => ({ type: "updated", old, object });
  const added: WatchEvent<Obj> = { type: "added", object: obj("a") };
  const deleted: WatchEvent<Obj> = { type: "deleted", object: obj("a") };

  it("let adds and deletes through and judge updates", () => {
    for (const p of [
      resourceVersionChanged,
      generationChanged,
      annotationChanged("x"),
      fieldChanged((o: Obj) => o.spec),
    ]) {
      expect(p(added)).toBe(true);
      expect(p(deleted)).toBe(true);
    }
  });

  it("resourceVersionChanged drops a relist's unchanged echo", () => {
    expect(resourceVersionChanged(updated(obj("a"), obj("a")))).toBe(false);
    expect(resourceVersionChanged(updated(obj("a"), obj("a", { resourceVersion: "2" })))).toBe(true);
  });

  it("generationChanged sees spec changes only, and falls back to resourceVersion without a generation", () => {
    const g1 = obj("a", { generation: 1 });
    expect(generationChanged(updated(g1, obj("a", { generation: 1, resourceVersion: "2" })))).toBe(false);
    expect(generationChanged(updated(g1, obj("a", { generation: 2, resourceVersion: "2" })))).toBe(true);
    expect(generationChanged(updated(obj("a"), obj("a", { resourceVersion: "2" })))).toBe(true);
    expect(generationChanged(updated(obj("a"), obj("a")))).toBe(false);
  });

  it("annotationChanged sees one annotation set, changed or removed", () => {
    const p = annotationChanged("watched");
    const none = obj("a");
    const one = obj("a", { annotations: { watched: "1", other: "x" } });
    expect(p(updated(none, one))).toBe(true);
    expect(p(updated(one, obj("a", { annotations: { watched: "2" } })))).toBe(true);
    expect(p(updated(one, none))).toBe(true);
    expect(p(updated(one, obj("a", { annotations: { watched: "1", other: "y" } })))).toBe(false);
  });

  it("fieldChanged compares the field as JSON", () => {
    const p = fieldChanged((o: Obj) => o.spec);
    expect(p(updated(obj("a", {}, { size: 1, owner: "o" }), obj("a", {}, { owner: "o", size: 1 })))).toBe(
      false,
    );
    expect(p(updated(obj("a", {}, { size: 1 }), obj("a", {}, { size: 2 })))).toBe(true);
  });

  it("combine with anyOf, allOf and eventTypes", () => {
    const onlyUpdates = allOf(eventTypes<Obj>("updated"), resourceVersionChanged);
    expect(onlyUpdates(added)).toBe(false);
    expect(onlyUpdates(updated(obj("a"), obj("a", { resourceVersion: "2" })))).toBe(true);
    const either = anyOf<Obj>(annotationChanged("x"), generationChanged);
    expect(either(updated(obj("a", { generation: 1 }), obj("a", { generation: 1 })))).toBe(false);
    expect(either(updated(obj("a", { generation: 1 }), obj("a", { generation: 2 })))).toBe(true);
  });

  it("beforeAndAfter names the object's two sides of an event", () => {
    expect(beforeAndAfter(added)).toEqual({ before: undefined, after: added.object });
    expect(beforeAndAfter(deleted)).toEqual({ before: deleted.object, after: undefined });
    const u = updated(obj("a"), obj("a", { resourceVersion: "2" }));
    expect(beforeAndAfter(u)).toEqual({ before: obj("a"), after: obj("a", { resourceVersion: "2" }) });
  });
});
