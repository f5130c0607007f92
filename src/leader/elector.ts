// Leader election with client-go's semantics on a LeaseStore: campaign until the lease is free
// or expired, renew every retry period while leading, stop leading as soon as renewals have not
// succeeded for the renew deadline (before the lease can expire for anyone else), and release
// the lease on a graceful stop.
import { createLogger, type Logger } from "../log/index.ts";
import { isConflict } from "../runtime/index.ts";
import {
  ACQUIRE_JITTER_FACTOR,
  decideAcquireOrRenew,
  defaultIdentity,
  initialRecord,
  isLeaseValid,
  type LeaderElectionRecord,
  type LeaderTimings,
  leaseDurationSeconds,
  recordFingerprint,
  releasedRecord,
  renewedRecord,
  validateLeaderTimings,
} from "./record.ts";
import type { LeaseSnapshot, LeaseStore } from "./store.ts";

export interface LeaderCallbacks {
  /** Leadership began; `signal` aborts when it ends. Start the controllers here. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /**
   * Leadership ended (renewals failed, the lease was lost, or stop()). Stop the controllers;
   * on stop() the lease is renewed until this settles, and only then released.
   */
  onStoppedLeading(): void | Promise<void>;
  /** The observed holder of the lease changed (also reported for this elector itself). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions extends LeaderTimings {
  store: LeaseStore;
  callbacks: LeaderCallbacks;
  /** Unique per process (default: host name plus a random suffix). */
  identity?: string;
  /** Free the lease on stop() so a standby takes over at once (default true). */
  releaseOnStop?: boolean;
  logger?: Logger;
  /** Clock and randomness, injectable for tests. */
  now?: () => number;
  random?: () => number;
}

export type ElectorState = "idle" | "candidate" | "leading" | "stopping" | "stopped";

/** A release that loses a race with this elector's own last renewal is tried again. */
const RELEASE_ATTEMPTS = 3;

export class LeaderElector {
  readonly identity: string;
  readonly #store: LeaseStore;
  readonly #callbacks: LeaderCallbacks;
  readonly #timings: LeaderTimings;
  readonly #durationSeconds: number;
  readonly #releaseOnStop: boolean;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #random: () => number;

  #state: ElectorState = "idle";
  /** The record as last seen or written, and when it was first seen in that form (local clock). */
  #observed: LeaderElectionRecord | undefined;
  #observedFingerprint = "";
  #observedAt = 0;
  #resourceVersion: string | undefined;
  #reportedLeader: string | undefined;

  #run: Promise<void> | undefined;
  #stopRequested = false;
  #renewing = false;
  #leadingAbort: AbortController | undefined;
  #stoppedLeading: Promise<void> | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  readonly #wakers = new Set<() => void>();

  constructor(options: LeaderElectorOptions) {
    const timings = {
      leaseDurationMs: options.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs,
    };
    // The config module validates too; this guard protects every other caller.
    validateLeaderTimings(timings);
    this.#timings = timings;
    this.#durationSeconds = leaseDurationSeconds(timings.leaseDurationMs);
    this.identity = options.identity ?? defaultIdentity();
    if (this.identity === "") throw new RangeError("identity must not be empty");
    this.#store = options.store;
    this.#callbacks = options.callbacks;
    this.#releaseOnStop = options.releaseOnStop ?? true;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#log = (options.logger ?? createLogger({ level: "silent" })).child({
      component: "leader-election",
      lease: options.store.description,
      identity: this.identity,
    });
  }

  get state(): ElectorState {
    return this.#state;
  }

  isLeader(): boolean {
    return this.#state === "leading";
  }

  /** The holder of the lease as last observed; undefined when nobody holds it. */
  get leader(): string | undefined {
    const holder = this.#observed?.holderIdentity;
    return holder === "" ? undefined : holder;
  }

  /**
   * Campaigns, leads, and resolves once this elector is done: after stop(), or after leadership
   * was lost (like client-go, an elector leads at most once; the process should then exit).
   */
  run(): Promise<void> {
    this.#run ??= this.#campaign();
    return this.#run;
  }

  /** Stops campaigning; when leading, stops leading, then releases the lease (if configured). */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    if (!this.#run) {
      this.#state = "stopped";
      return;
    }
    // Controllers drain while the renew loop keeps the lease, so nobody else starts meanwhile.
    if (this.#state === "leading") await this.#stopLeading();
    this.#renewing = false;
    this.#wakeAll();
    await this.#run;
  }

  async #campaign(): Promise<void> {
    if (this.#stopRequested) {
      this.#state = "stopped";
      return;
    }
    this.#state = "candidate";
    this.#log.info("campaigning for the leader lease");
    let acquiredAt: number | undefined;
    while (!this.#stopRequested) {
      const started = this.#now();
      const acquired = await this.#tryAcquireOrRenew();
      this.#reportLeader();
      if (acquired) {
        acquiredAt = started;
        break;
      }
      const { retryPeriodMs } = this.#timings;
      await this.#sleep(retryPeriodMs * (1 + this.#random() * ACQUIRE_JITTER_FACTOR));
    }
    if (acquiredAt !== undefined && !this.#stopRequested) {
      this.#startLeading(acquiredAt);
      await this.#renewLoop();
    }
    await this.#stopLeading();
    clearTimeout(this.#deadlineTimer);
    if (acquiredAt !== undefined && this.#releaseOnStop) await this.#release();
    this.#state = "stopped";
  }

  #startLeading(since: number): void {
    this.#state = "leading";
    this.#renewing = true;
    this.#leadingAbort = new AbortController();
    this.#armDeadline(since);
    this.#log.info("acquired the leader lease; started leading");
    const signal = this.#leadingAbort.signal;
    this.#guard("onStartedLeading", () => this.#callbacks.onStartedLeading(signal));
  }

  async #renewLoop(): Promise<void> {
    while (this.#renewing) {
      await this.#sleep(this.#timings.retryPeriodMs);
      if (!this.#renewing) break;
      const started = this.#now();
      // Losing leadership (deadline, stop) must not wait for a request that hangs.
      const renewed = await this.#unlessWoken(this.#tryAcquireOrRenew(), false);
      if (!this.#renewing) break;
      this.#reportLeader();
      if (renewed) {
        this.#armDeadline(started);
      } else if (this.leader !== undefined && this.leader !== this.identity) {
        // Someone else holds the lease now: waiting for the deadline would only risk overlap.
        this.#loseLeadership(`lease is held by ${this.leader}`);
      }
    }
  }

  /**
   * The renew deadline counts from the start of the last successful renewal, before its
   * request was sent, so it always passes before any other candidate's view of the lease
   * (first observed after that write) can expire.
   */
  #armDeadline(lastRenewStarted: number): void {
    clearTimeout(this.#deadlineTimer);
    const remaining = Math.max(0, lastRenewStarted + this.#timings.renewDeadlineMs - this.#now());
    this.#deadlineTimer = setTimeout(
      () => this.#loseLeadership(`could not renew the lease within ${this.#timings.renewDeadlineMs}ms`),
      remaining,
    );
  }

  #loseLeadership(reason: string): void {
    if (!this.#renewing) return;
    this.#log.warn({ reason }, "lost the leader lease; stopping leading");
    this.#renewing = false;
    this.#wakeAll();
    void this.#stopLeading();
  }

  /** Ends leadership once: aborts the leading signal and runs onStoppedLeading. */
  #stopLeading(): Promise<void> {
    if (this.#stoppedLeading) return this.#stoppedLeading;
    if (!this.#leadingAbort) return Promise.resolve();
    this.#state = "stopping";
    this.#leadingAbort.abort(new Error("leadership ended"));
    this.#stoppedLeading = this.#guardAsync("onStoppedLeading", () => this.#callbacks.onStoppedLeading());
    return this.#stoppedLeading;
  }

  /** client-go's tryAcquireOrRenew: true when this elector holds a freshly written lease. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#now();
    // 1. Fast path: a leader renews optimistically on the version it wrote last.
    const observed = this.#observed;
    if (
      observed?.holderIdentity === this.identity &&
      this.#resourceVersion !== undefined &&
      isLeaseValid(observed, this.#observedAt, now)
    ) {
      try {
        const written = await this.#withTimeout(
          this.#store.replace(renewedRecord(observed, this.#durationSeconds, now), this.#resourceVersion),
        );
        this.#wrote(written);
        return true;
      } catch (err) {
        this.#log.debug({ err }, "optimistic lease renewal failed; reading the lease");
      }
    }

    // 2. Read the lease, creating it when it does not exist.
    let current: LeaseSnapshot | undefined;
    try {
      current = await this.#withTimeout(this.#store.get());
    } catch (err) {
      this.#log.warn({ err }, "could not read the leader lease");
      return false;
    }
    if (!current) {
      try {
        this.#wrote(
          await this.#withTimeout(
            this.#store.create(initialRecord(this.identity, this.#durationSeconds, now)),
          ),
        );
        return true;
      } catch (err) {
        this.#logWriteFailure(err, "could not create the leader lease");
        return false;
      }
    }

    // 3. Note when the record last changed, then decide whether we may write it.
    this.#saw(current);
    const decision = decideAcquireOrRenew({
      identity: this.identity,
      current: current.record,
      observedAt: this.#observedAt,
      now,
      durationSeconds: this.#durationSeconds,
    });
    if (decision.action === "wait") {
      this.#log.debug({ holder: decision.holder }, "leader lease is held and has not expired");
      return false;
    }
    try {
      this.#wrote(await this.#withTimeout(this.#store.replace(decision.record, current.resourceVersion)));
      if (decision.takeover) {
        this.#log.info({ transitions: decision.record.leaseTransitions }, "took over the leader lease");
      }
      return true;
    } catch (err) {
      this.#logWriteFailure(err, "could not write the leader lease");
      return false;
    }
  }

  async #release(): Promise<void> {
    // A renewal still in flight when stop() woke the loop can land first and move the
    // resourceVersion: on a conflict, read the Lease again and release it if still ours.
    for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
      const observed = this.#observed;
      if (observed?.holderIdentity !== this.identity || this.#resourceVersion === undefined) return;
      try {
        this.#wrote(
          await this.#withTimeout(
            this.#store.replace(releasedRecord(observed, this.#now()), this.#resourceVersion),
          ),
        );
        this.#log.info("released the leader lease");
        return;
      } catch (err) {
        if (!isConflict(err) || attempt === RELEASE_ATTEMPTS) {
          this.#logWriteFailure(err, "could not release the leader lease; it expires on its own");
          return;
        }
        try {
          const fresh = await this.#withTimeout(this.#store.get());
          if (!fresh) return;
          this.#saw(fresh);
        } catch (readErr) {
          this.#logWriteFailure(readErr, "could not read the leader lease to release it");
          return;
        }
      }
    }
  }

  /** A record read from the store: the observation time moves only when the record changed. */
  #saw(snapshot: LeaseSnapshot): void {
    const fingerprint = recordFingerprint(snapshot.record);
    if (fingerprint !== this.#observedFingerprint) {
      this.#observed = snapshot.record;
      this.#observedFingerprint = fingerprint;
      this.#observedAt = this.#now();
    }
    this.#resourceVersion = snapshot.resourceVersion;
  }

  /** A record this elector wrote successfully. */
  #wrote(snapshot: LeaseSnapshot): void {
    this.#observed = snapshot.record;
    this.#observedFingerprint = recordFingerprint(snapshot.record);
    this.#observedAt = this.#now();
    this.#resourceVersion = snapshot.resourceVersion;
  }

  #reportLeader(): void {
    const holder = this.#observed?.holderIdentity;
    if (holder === undefined || holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder === "") return;
    this.#log.info({ leader: holder }, "new leader observed");
    this.#guard("onNewLeader", () => this.#callbacks.onNewLeader?.(holder));
  }

  #logWriteFailure(err: unknown, message: string): void {
    // A conflict only means another candidate wrote first; it is part of normal operation.
    if (isConflict(err)) this.#log.debug({ err }, `${message}: conflict`);
    else this.#log.warn({ err }, message);
  }

  /** A request that hangs must not hold up the loop past the renew deadline. */
  #withTimeout<T>(operation: Promise<T>): Promise<T> {
    const ms = this.#timings.renewDeadlineMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`lease request timed out after ${ms}ms`)), ms);
    });
    return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }

  /** `operation`'s result, or `fallback` if #wakeAll comes first. */
  async #unlessWoken<T>(operation: Promise<T>, fallback: T): Promise<T> {
    let wake = (): void => {};
    const woken = new Promise<T>((resolve) => {
      wake = () => resolve(fallback);
    });
    this.#wakers.add(wake);
    try {
      return await Promise.race([operation, woken]);
    } finally {
      this.#wakers.delete(wake);
    }
  }

  #wakeAll(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  #guard(name: string, call: () => void | Promise<void>): void {
    void this.#guardAsync(name, call);
  }

  async #guardAsync(name: string, call: () => void | Promise<void>): Promise<void> {
    // A failing callback is the caller's bug; it must not break the election loop.
    try {
      await call();
    } catch (err) {
      this.#log.error({ err, callback: name }, "leader election callback failed");
    }
  }
}
