// What every controller gets from the operator, and what the operator needs back.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Config } from "../config/index.ts";
import type { Logger } from "../log/index.ts";
import type { OperatorMetrics } from "../metrics/index.ts";
import { Controller, type ControllerOptions, type EventRecorder } from "../runtime/index.ts";
import type { SharedInformers } from "./informers.ts";

/** Field manager of every write the operator makes (server-side apply, patches, status). */
export const FIELD_MANAGER = "imagestream-operator";

export interface OperatorContext {
  kc: KubeConfig;
  log: Logger;
  config: Config;
  /** Shared caches; request informers in the controller's constructor, before start. */
  informers: SharedInformers;
  events: EventRecorder;
  /** The process's Prometheus metrics. */
  metrics: OperatorMetrics;
  /** A reconcile loop with the context's logger and its work queue and reconciles in metrics. */
  controller(options: Omit<ControllerOptions, "logger" | "hooks">): Controller;
}

export type OperatorContextParts = Omit<OperatorContext, "controller">;

/** The context controllers are built with: the given parts plus the instrumented controller factory. */
export function createOperatorContext(parts: OperatorContextParts): OperatorContext {
  const { metrics, log } = parts;
  return {
    ...parts,
    controller(options) {
      const controller = new Controller({
        ...options,
        logger: log,
        hooks: metrics.workQueueHooks(options.name),
        reconcile: metrics.instrumentReconciler(options.name, options.reconcile),
      });
      metrics.trackQueueDepth(options.name, () => controller.queue.depth);
      return controller;
    },
  };
}

/**
 * A controller as the operator runs it: built (registering informers and handlers) before the
 * caches start, started once they have synced, stopped on shutdown or loss of leadership.
 */
export interface ControllerHandle {
  readonly name: string;
  start(): void;
  /** Finishes in-flight work; resolves false when the deadline passed first. */
  stop(): Promise<boolean>;
}
