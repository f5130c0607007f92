// What every controller is built from, and what the operator runs: the controller contract of
// the runtime. Domains get a ControllerContext; the operator (src/operator) assembles them.
import type { Config } from "../config/index.ts";
import type { Logger } from "../log/index.ts";
import type { OperatorMetrics } from "../metrics/index.ts";
import { Controller, type ControllerOptions } from "./controller.ts";
import type { EventRecorder } from "./events.ts";
import type { InformerFactory } from "./informers.ts";
import type { ObjectKey } from "./keys.ts";
import type { KubeConnection } from "./kubeconfig.ts";
import { type ObjectApi, objectApi } from "./objects.ts";

/** Field manager of every write the operator makes (server-side apply, patches, status). */
export const FIELD_MANAGER = "imagestream-operator";

/**
 * How long controllers drain in-flight reconciles when the process stops: 80% of the shutdown
 * timeout, so their signal aborts what is left while there is still time to release the lease,
 * stop the caches and exit before the timeout (and the pod's grace period) runs out.
 */
export function drainDeadlineMs(shutdownTimeoutMs: number): number {
  return Math.floor(shutdownTimeoutMs * 0.8);
}

export interface ControllerContext {
  /** The API server connection, for the few calls the runtime does not wrap (SubjectAccessReviews). */
  readonly kc: KubeConnection;
  readonly log: Logger;
  readonly config: Config;
  /** Shared caches; request informers in the controller's constructor, before the caches start. */
  readonly informers: InformerFactory;
  readonly events: EventRecorder;
  /** The process's Prometheus metrics. */
  readonly metrics: OperatorMetrics;
  /** Reads and writes of any resource, as FIELD_MANAGER. */
  readonly objects: ObjectApi;
  /**
   * A reconcile loop with the context's logger, its work queue and reconciles in metrics, and the
   * drain deadline of the process's shutdown. Declare its watches, then return it as the handle.
   */
  controller<K extends ObjectKey = ObjectKey>(options: ControllerSpec<K>): Controller<K>;
}

/** What a domain says about its controller; the context adds logging, metrics and the drain deadline. */
export type ControllerSpec<K extends ObjectKey> = Omit<
  ControllerOptions<K>,
  "logger" | "hooks" | "shutdownTimeoutMs"
>;

export type ControllerContextParts = Omit<ControllerContext, "controller" | "objects"> & {
  /** Default: the object API of `kc`, writing as FIELD_MANAGER. */
  objects?: ObjectApi;
};

/** The context controllers are built with: the given parts plus the instrumented controller factory. */
export function createControllerContext(parts: ControllerContextParts): ControllerContext {
  const { metrics, log } = parts;
  return {
    ...parts,
    objects: parts.objects ?? objectApi(parts.kc, { fieldManager: FIELD_MANAGER }),
    controller<K extends ObjectKey>(options: ControllerSpec<K>): Controller<K> {
      const controller = new Controller<K>({
        ...options,
        logger: log,
        shutdownTimeoutMs: drainDeadlineMs(parts.config.shutdownTimeoutMs),
        hooks: metrics.workQueueHooks(options.name),
        reconcile: metrics.instrumentReconciler(options.name, options.reconcile),
      });
      metrics.trackQueueDepth(options.name, () => controller.queue.depth);
      return controller;
    },
  };
}

/**
 * A controller as the operator runs it: built (requesting informers, declaring watches) before
 * the caches start, started once they have synced and this replica leads, stopped on shutdown
 * or loss of leadership. Only the leader runs controllers.
 */
export interface ControllerHandle {
  readonly name: string;
  start(): void;
  /** Finishes in-flight work; resolves false when the drain deadline passed first. */
  stop(): Promise<boolean>;
}

/**
 * A component every replica runs, leader or not, once the caches have synced: an HTTP server
 * answering from the caches (admission webhooks, registry notification and token endpoints,
 * external registry receivers). Built from the same context as the controllers.
 */
export interface ReplicaService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A readiness check (/readyz): true when serving, else why not. */
  ready?(): true | string;
}
