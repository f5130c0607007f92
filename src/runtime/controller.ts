// The reconcile loop contract: a controller owns a work queue of typed object keys and calls
// reconcile(key) for each. Reconcile is level-triggered: it reads the current state (from
// caches) and either finishes, asks to run again later (requeueAfter), or throws. Thrown errors
// are retried with per-key backoff.
//
// A controller declares what it watches (watch(informer, { map, predicate })). Every watch is
// wired the same way: its handlers are added on start(), the informer's cache is replayed as
// adds so nothing that happened before start is missed, and the handlers are removed on stop().
import type { Logger } from "../log/index.ts";
import { type BackoffOptions, ExponentialBackoff } from "./backoff.ts";
import { KubeApiError } from "./errors.ts";
import { keyFields, keyString, type ObjectKey } from "./keys.ts";
import type { KeyMap, Predicate, WatchEvent, WatchOptions, WatchSource } from "./watch.ts";
import { WorkQueue, type WorkQueueHooks } from "./workqueue.ts";

// `void` (not `undefined`) so a reconciler written as `async () => {}` fits the contract.
// biome-ignore lint/suspicious/noConfusingVoidType: a reconcile that returns nothing means done.
export type ReconcileResult = { requeueAfter?: number } | void;

export interface ReconcileContext {
  /** Carries controller, key, kind (for kind keys), namespace and name on every line. */
  log: Logger;
  /** Aborted when shutdown's drain deadline passes: long work should stop. */
  signal: AbortSignal;
}

export type Reconciler<K extends ObjectKey = ObjectKey> = (
  key: K,
  ctx: ReconcileContext,
) => Promise<ReconcileResult>;

export interface ControllerOptions<K extends ObjectKey = ObjectKey> {
  name: string;
  reconcile: Reconciler<K>;
  logger: Logger;
  /** Keys reconciled at the same time (default 1). */
  concurrency?: number;
  /** Backoff for failed reconciles (default 5 ms doubling to 5 minutes). */
  backoff?: BackoffOptions;
  /** How long stop() waits for in-flight reconciles before aborting them (default 30 s). */
  shutdownTimeoutMs?: number;
  /** Metrics hooks passed to the work queue. */
  hooks?: WorkQueueHooks;
}

interface Watch<K> {
  source: WatchSource<unknown>;
  map: KeyMap<unknown, K>;
  predicate: Predicate<unknown> | undefined;
  observe: ((object: unknown, event: WatchEvent<unknown>) => void) | undefined;
  remove: (() => void) | undefined;
}

export class Controller<K extends ObjectKey = ObjectKey> {
  readonly name: string;
  readonly queue: WorkQueue<K>;
  readonly #reconcile: Reconciler<K>;
  readonly #log: Logger;
  readonly #shutdownTimeoutMs: number;
  readonly #concurrency: number;
  readonly #watches: Watch<K>[] = [];
  #started = false;
  #stopping: Promise<boolean> | undefined;

  constructor(options: ControllerOptions<K>) {
    this.name = options.name;
    this.#reconcile = options.reconcile;
    this.#log = options.logger.child({ controller: options.name });
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.#concurrency = options.concurrency ?? 1;
    this.queue = new WorkQueue<K>({
      process: (key, signal) => this.#handle(key, signal),
      identify: keyString,
      concurrency: this.#concurrency,
      rateLimiter: new ExponentialBackoff(options.backoff),
      // Keys enqueued before start() wait until then.
      autoStart: false,
      ...(options.hooks ? { hooks: options.hooks } : {}),
    });
  }

  /**
   * Reconciles the keys `map` gives for every event of `source` that `predicate` lets through.
   * Declare watches before start(); `source` is normally a shared informer.
   */
  watch<T>(source: WatchSource<T>, options: WatchOptions<T, K>): this {
    if (this.#started) throw new Error(`controller ${this.name}: watch() after start()`);
    this.#watches.push({
      source: source as WatchSource<unknown>,
      map: options.map as KeyMap<unknown, K>,
      predicate: options.predicate as Predicate<unknown> | undefined,
      observe: options.observe as Watch<K>["observe"],
      remove: undefined,
    });
    return this;
  }

  /** Schedules a reconcile of `key` (de-duplicated with any already waiting). */
  enqueue(key: K): void {
    this.queue.add(key);
  }

  /** Starts reconciling: adds the watches' handlers and replays their caches. */
  start(): void {
    if (this.#started || this.#stopping) return;
    this.#started = true;
    this.#log.info({ concurrency: this.#concurrency }, "controller starting");
    for (const watch of this.#watches) {
      watch.remove = watch.source.addHandlers({
        onAdd: (object) => this.#dispatch(watch, { type: "added", object }),
        onUpdate: (old, object) => this.#dispatch(watch, { type: "updated", object, old }),
        onDelete: (object) => this.#dispatch(watch, { type: "deleted", object }),
      });
      for (const object of watch.source.list()) this.#dispatch(watch, { type: "added", object });
    }
    // After the replay, so a key enqueued earlier and replayed again runs once.
    this.queue.start();
  }

  /** Removes the watches, stops taking work and waits for in-flight reconciles; false if the deadline passed first. */
  stop(): Promise<boolean> {
    for (const watch of this.#watches) {
      watch.remove?.();
      watch.remove = undefined;
    }
    this.#stopping ??= this.#drain();
    return this.#stopping;
  }

  async #drain(): Promise<boolean> {
    const inFlight = this.queue.inFlight;
    const dropped = this.queue.depth + this.queue.delayed;
    const drained = await this.queue.shutdown(this.#shutdownTimeoutMs);
    const { processed, errors } = this.queue.counters;
    if (drained) this.#log.info({ inFlight, dropped, processed, errors }, "controller stopped");
    else
      this.#log.warn(
        { inFlight, dropped, timeoutMs: this.#shutdownTimeoutMs },
        "controller stopped with work in flight; its reconciles were told to abort",
      );
    return drained;
  }

  #dispatch(watch: Watch<K>, event: WatchEvent<unknown>): void {
    // A bug in one map or predicate must cost one event, never the informer or the others.
    try {
      if (watch.predicate && !watch.predicate(event)) return;
      watch.observe?.(event.object, event);
      for (const key of watch.map(event.object, event)) if (key !== undefined) this.queue.add(key);
    } catch (err) {
      this.#log.error({ err, event: event.type }, "watch map, predicate or observer threw; event ignored");
    }
  }

  async #handle(key: K, signal: AbortSignal): Promise<void> {
    const log = this.#log.child(keyFields(key));
    let result: ReconcileResult;
    try {
      result = await this.#reconcile(key, { log, signal });
    } catch (err) {
      const retries = this.queue.retries(key) + 1;
      // An API answer is named by its status and message; a stack trace says nothing more.
      const api = KubeApiError.from(err);
      if (api?.statusCode === 409) {
        // Optimistic concurrency at work: another writer came first; the retry reads afresh.
        log.debug(
          { retries, reason: api.reason, error: api.message },
          "reconcile lost a write race; retrying",
        );
      } else if (api) {
        const fields = { retries, statusCode: api.statusCode, reason: api.reason, error: api.message };
        log.warn(fields, "reconcile failed; retrying with backoff");
      } else {
        log.warn({ err, retries }, "reconcile failed; retrying with backoff");
      }
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
