// Kubernetes Events (events.k8s.io/v1) for the objects controllers act on. Repeats of the same
// (object, type, reason, action, note) within a window update the first Event's series count
// instead of creating new Events, as client-go's event recorder does. Recording never throws.
import { createHash } from "node:crypto";
import { microTime } from "../api/index.ts";
import type { Logger } from "../log/index.ts";
import { isNotFound } from "./errors.ts";
import { kubeRequest } from "./kube-request.ts";
import type { KubeConnection } from "./kubeconfig.ts";

export type EventType = "Normal" | "Warning";

/** The object an Event is about. */
export interface EventObjectRef {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

/** An events.k8s.io/v1 Event, the fields the recorder writes. */
export interface KubeEvent {
  apiVersion: "events.k8s.io/v1";
  kind: "Event";
  metadata: { name?: string; namespace?: string };
  /** A meta/v1 MicroTime (microTime() of src/api). */
  eventTime: string;
  type: EventType;
  reason: string;
  note: string;
  action: string;
  regarding: EventObjectRef;
  reportingController: string;
  reportingInstance: string;
  series?: { count: number; lastObservedTime: string };
}

export interface EventSeriesPatch {
  series: { count: number; lastObservedTime: Date };
}

/** Where Events are written; the API server's is below, tests use a fake. */
export interface EventSink {
  create(namespace: string, event: KubeEvent): Promise<KubeEvent>;
  patchSeries(namespace: string, name: string, patch: EventSeriesPatch): Promise<unknown>;
}

export interface EventRecorderOptions {
  sink: EventSink;
  logger: Logger;
  /** e.g. "image.openshift.io/import-controller". */
  reportingController: string;
  /** This replica, e.g. the pod name. */
  reportingInstance: string;
  /** Repeats within this long of the last occurrence join its series (default 6 minutes, as client-go). */
  windowMs?: number;
  /** Distinct events remembered for aggregation (default 4096; the oldest are dropped). */
  maxTracked?: number;
}

export interface EventSpec {
  type: EventType;
  /** CamelCase machine-readable reason, e.g. "ImportFailed". */
  reason: string;
  /** Human-readable, at most 1 kB of UTF-8 (longer is cut). */
  note: string;
  /** What the controller did or failed to do, e.g. "Import". */
  action: string;
}

interface Tracked {
  namespace: string;
  /** The Event's name once created. */
  name: string | undefined;
  count: number;
  lastObserved: number;
  /** Writes for one aggregate run one after another, so a patch follows its create. */
  chain: Promise<void>;
}

/**
 * The API server's limit on an Event's note: 1 kB, counted in UTF-8 bytes (Go's len), so a note of
 * 1024 characters can be too long. events.k8s.io/v1 rejects longer notes.
 */
export const MAX_EVENT_NOTE_BYTES = 1024;

export function objectRefOf(obj: {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string } | undefined;
}): EventObjectRef {
  const ref: EventObjectRef = { name: obj.metadata?.name ?? "" };
  if (obj.apiVersion) ref.apiVersion = obj.apiVersion;
  if (obj.kind) ref.kind = obj.kind;
  if (obj.metadata?.namespace) ref.namespace = obj.metadata.namespace;
  if (obj.metadata?.uid) ref.uid = obj.metadata.uid;
  if (obj.metadata?.resourceVersion) ref.resourceVersion = obj.metadata.resourceVersion;
  return ref;
}

/** Shortens `text` to at most `maxBytes` UTF-8 bytes, cut on a character boundary and marked. */
export function truncateUtf8(text: string, maxBytes: number, marker = "…"): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  const budget = maxBytes - encoder.encode(marker).length;
  let result = "";
  let used = 0;
  for (const char of text) {
    const size = encoder.encode(char).length;
    if (used + size > budget) break;
    result += char;
    used += size;
  }
  return result + marker;
}

export class EventRecorder {
  readonly #sink: EventSink;
  readonly #log: Logger;
  readonly #reportingController: string;
  readonly #reportingInstance: string;
  readonly #windowMs: number;
  readonly #maxTracked: number;
  /** Insertion-ordered, refreshed on use: the first entry is the least recently seen. */
  readonly #tracked = new Map<string, Tracked>();
  #sweep: NodeJS.Timeout | undefined;
  #sequence = 0;

  constructor(options: EventRecorderOptions) {
    this.#sink = options.sink;
    this.#log = options.logger;
    this.#reportingController = options.reportingController;
    this.#reportingInstance = options.reportingInstance;
    this.#windowMs = options.windowMs ?? 6 * 60_000;
    this.#maxTracked = options.maxTracked ?? 4096;
  }

  /** Event series remembered for aggregation (bounded by maxTracked, emptied when idle). */
  get trackedSeries(): number {
    return this.#tracked.size;
  }

  /**
   * Records an Event about `regarding`. Resolves once written (or once the failure was logged);
   * callers need not await it.
   */
  record(regarding: EventObjectRef, spec: EventSpec): Promise<void> {
    const note = truncateUtf8(spec.note, MAX_EVENT_NOTE_BYTES, "...");
    const namespace = regarding.namespace || "default";
    // Hashed: the note can be a kilobyte, and up to maxTracked keys are kept (docs/memory.md).
    const aggregateJson = JSON.stringify([
      regarding.uid ?? "",
      regarding.kind ?? "",
      namespace,
      regarding.name,
      spec.type,
      spec.reason,
      spec.action,
      note,
    ]);
    const aggregateKey = createHash("sha256").update(aggregateJson).digest("base64");
    const now = Date.now();
    let tracked = this.#tracked.get(aggregateKey);
    if (tracked && now - tracked.lastObserved > this.#windowMs) tracked = undefined;
    if (!tracked) {
      tracked = { namespace, name: undefined, count: 0, lastObserved: now, chain: Promise.resolve() };
    }
    tracked.count++;
    tracked.lastObserved = now;
    // Re-insert so the map stays ordered by last use.
    this.#tracked.delete(aggregateKey);
    this.#tracked.set(aggregateKey, tracked);
    this.#evict(now);
    this.#sweepLater();

    const entry = tracked;
    const count = entry.count;
    const write = async (): Promise<void> => {
      try {
        if (entry.name !== undefined && count > 1) {
          try {
            await this.#sink.patchSeries(entry.namespace, entry.name, {
              series: { count, lastObservedTime: new Date(now) },
            });
            return;
          } catch (err) {
            // The Event expired (events have a TTL) or was deleted: start a new one.
            if (!isNotFound(err)) throw err;
          }
        }
        entry.name = await this.#create(regarding, namespace, spec, note, now);
      } catch (err) {
        this.#log.warn(
          { err, reason: spec.reason, regarding: `${namespace}/${regarding.name}` },
          "could not write event",
        );
      }
    };
    entry.chain = entry.chain.then(write);
    return entry.chain;
  }

  async #create(
    regarding: EventObjectRef,
    namespace: string,
    spec: EventSpec,
    note: string,
    now: number,
  ): Promise<string> {
    // client-go's naming: the object's name and a hex timestamp, plus a sequence for uniqueness.
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.#sequence++ % 1_000_000)).toString(16);
    const name = `${regarding.name}.${suffix}`;
    const event: KubeEvent = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name, namespace },
      eventTime: microTime(now),
      type: spec.type,
      reason: spec.reason,
      note,
      action: spec.action,
      regarding: { ...regarding },
      reportingController: this.#reportingController,
      reportingInstance: this.#reportingInstance,
    };
    const created = await this.#sink.create(namespace, event);
    return created.metadata?.name ?? name;
  }

  /** Forgets series whose window passed even when no Event follows (an idle operator keeps none). */
  #sweepLater(): void {
    if (this.#sweep !== undefined) return;
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      this.#evict(Date.now());
      if (this.#tracked.size > 0) this.#sweepLater();
    }, this.#windowMs + 1000);
    this.#sweep.unref();
  }

  #evict(now: number): void {
    for (const [key, tracked] of this.#tracked) {
      if (this.#tracked.size <= this.#maxTracked && now - tracked.lastObserved <= this.#windowMs) break;
      this.#tracked.delete(key);
    }
  }
}

const EVENTS_PATH = "/apis/events.k8s.io/v1/namespaces";

/** An EventSink writing to the API server (needs create and patch on events.k8s.io events). */
export function eventSinkFromClient(kc: KubeConnection): EventSink {
  const collection = (namespace: string): string => `${EVENTS_PATH}/${encodeURIComponent(namespace)}/events`;
  return {
    create: async (namespace, event) =>
      (await kubeRequest(kc, { method: "POST", path: collection(namespace), body: event })) as KubeEvent,
    // A series update is a merge patch of the first Event of the series.
    patchSeries: (namespace, name, patch) =>
      kubeRequest(kc, {
        method: "PATCH",
        path: `${collection(namespace)}/${encodeURIComponent(name)}`,
        contentType: "application/merge-patch+json",
        body: {
          series: { count: patch.series.count, lastObservedTime: microTime(patch.series.lastObservedTime) },
        },
      }),
  };
}
