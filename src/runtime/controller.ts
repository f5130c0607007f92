// The reconcile loop contract: a controller owns a work queue of object keys and calls
// reconcile(key) for each. Reconcile is level-triggered: it reads the current state (from
// caches) and either finishes, asks to run again later (requeueAfter), or throws. Thrown errors
// are retried with per-key backoff.
import { forObject, type Logger } from "../log/index.ts";
import { type BackoffOptions, ExponentialBackoff } from "./backoff.ts";
import { WorkQueue, type WorkQueueHooks } from "./workqueue.ts";

// `void` (not `undefined`) so a reconciler written as `async () => {}` fits the contract.
// biome-ignore lint/suspicious/noConfusingVoidType: a reconcile that returns nothing means done.
export type ReconcileResult = { requeueAfter?: number } | void;

export interface ReconcileContext {
  /** Carries controller, key, namespace and name on every line. */
  log: Logger;
  /** Aborted when shutdown's deadline passes: long work should stop. */
  signal: AbortSignal;
  namespace: string | undefined;
  name: string;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones (client-go's format). */
export function objectKey(namespace: string | undefined | null, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf("/");
  if (slash < 0) return { namespace: undefined, name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  logger: Logger;
  /** Keys reconciled at the same time (default 1). */
  concurrency?: number;
  /** Backoff for failed reconciles (default 5 ms doubling to 5 minutes). */
  backoff?: BackoffOptions;
  /** How long stop() waits for in-flight reconciles (default 30 s). */
  shutdownTimeoutMs?: number;
  /** Metrics hooks passed to the work queue. */
  hooks?: WorkQueueHooks;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #reconcile: Reconciler;
  readonly #log: Logger;
  readonly #shutdownTimeoutMs: number;
  readonly #concurrency: number;
  #stopping: Promise<boolean> | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#reconcile = options.reconcile;
    this.#log = options.logger.child({ controller: options.name });
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.#concurrency = options.concurrency ?? 1;
    const queueOptions = {
      process: (key: string, signal: AbortSignal) => this.#handle(key, signal),
      concurrency: this.#concurrency,
      rateLimiter: new ExponentialBackoff(options.backoff),
      // Keys enqueued before start() (informer handlers during sync) wait until then.
      autoStart: false,
    };
    this.queue = new WorkQueue(options.hooks ? { ...queueOptions, hooks: options.hooks } : queueOptions);
  }

  /** Schedules a reconcile of `key` (de-duplicated with any already waiting). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    this.#log.info({ concurrency: this.#concurrency }, "controller starting");
    this.queue.start();
  }

  /** Stops taking work and waits for in-flight reconciles; false if the deadline passed first. */
  stop(): Promise<boolean> {
    this.#stopping ??= this.queue.shutdown(this.#shutdownTimeoutMs).then((drained) => {
      if (drained) this.#log.info("controller stopped");
      else this.#log.warn({ timeoutMs: this.#shutdownTimeoutMs }, "controller stopped with work in flight");
      return drained;
    });
    return this.#stopping;
  }

  async #handle(key: string, signal: AbortSignal): Promise<void> {
    const { namespace, name } = splitKey(key);
    const log = forObject(this.#log.child({ key }), namespace, name);
    let result: ReconcileResult;
    try {
      result = await this.#reconcile(key, { log, signal, namespace, name });
    } catch (err) {
      log.warn({ err, retries: this.queue.retries(key) + 1 }, "reconcile failed; retrying with backoff");
      this.queue.addRateLimited(key);
      return;
    }
    this.queue.forget(key);
    const requeueAfter = result?.requeueAfter;
    if (requeueAfter !== undefined && requeueAfter >= 0) {
      log.debug({ requeueAfter }, "reconciled; requeue requested");
      this.queue.addAfter(key, requeueAfter);
    } else {
      log.debug("reconciled");
    }
  }
}
