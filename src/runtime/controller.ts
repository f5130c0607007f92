// The reconcile loop contract: a controller owns a work queue of object keys and calls
// reconcile(key) for each. Reconcile is level-triggered: it reads the current state (from
// caches) and either finishes, asks to run again later (requeueAfter), or throws. Thrown errors
// are retried with per-key backoff, except terminal ones, which wait for the object to change.
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
  /** Consecutive failures of this key before this run (0 on a first or successful-since run). */
  retries: number;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;

/** An error that retrying cannot fix (bad input): logged, not requeued until the object changes. */
export class TerminalError extends Error {
  readonly reason: string | undefined;
  constructor(message: string, options?: { cause?: unknown; reason?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TerminalError";
    this.reason = options?.reason;
  }
}

/** Marks `err` as not worth retrying, keeping it as the cause. */
export function terminal(err: unknown, reason?: string): TerminalError {
  if (err instanceof TerminalError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TerminalError(message, reason === undefined ? { cause: err } : { cause: err, reason });
}

export function isTerminal(err: unknown): err is TerminalError {
  return err instanceof TerminalError;
}

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

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
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
    const retries = this.queue.retries(key);
    let result: ReconcileResult;
    try {
      result = await this.#reconcile(key, { log, signal, namespace, name, retries });
    } catch (err) {
      if (isTerminal(err)) {
        // Retrying cannot help; the next change of the object enqueues the key again.
        this.queue.forget(key);
        log.error(
          { err, reason: err.reason },
          "reconcile failed permanently; waiting for the object to change",
        );
        return;
      }
      log.warn({ err, retries: retries + 1 }, "reconcile failed; retrying with backoff");
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
