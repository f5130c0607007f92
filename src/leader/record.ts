// The leader election record and the pure decisions over it, following client-go's
// leaderelection package: who may write the Lease, with what content, and when a lease counts
// as expired. Times are epoch milliseconds.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** The content of a Lease's spec that election cares about (client-go's LeaderElectionRecord). */
export interface LeaderElectionRecord {
  /** "" when nobody holds the lease (never acquired, or released). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number | undefined;
  renewTime: number | undefined;
  leaseTransitions: number;
}

export interface LeaderTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** client-go's defaults (LeaseDuration 15s, RenewDeadline 10s, RetryPeriod 2s). */
export const DEFAULT_LEADER_TIMINGS: LeaderTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** client-go's JitterFactor for acquire retries: wait retryPeriod * (1 + random * 1.2). */
export const ACQUIRE_JITTER_FACTOR = 1.2;

/**
 * client-go's rules: the leader must give up (renew deadline) before anyone else may take the
 * lease (lease duration), and must get more than one retry within the renew deadline.
 */
export function validateLeaderTimings(t: LeaderTimings): void {
  for (const [name, value] of Object.entries(t)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  }
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) {
    throw new RangeError("leaseDurationMs must be greater than renewDeadlineMs");
  }
  if (!(t.renewDeadlineMs > t.retryPeriodMs * ACQUIRE_JITTER_FACTOR)) {
    throw new RangeError("renewDeadlineMs must be greater than retryPeriodMs * 1.2");
  }
  // The Lease stores whole seconds; rounding up keeps others waiting at least the full duration.
  if (!(leaseDurationSeconds(t.leaseDurationMs) * 1000 > t.renewDeadlineMs)) {
    throw new RangeError("leaseDurationMs rounded up to seconds must exceed renewDeadlineMs");
  }
}

/** Lease duration as the whole seconds a Lease stores, rounded up so it never shrinks. */
export function leaseDurationSeconds(leaseDurationMs: number): number {
  return Math.max(1, Math.ceil(leaseDurationMs / 1000));
}

/** A unique identity per process: the host name (the Pod name in a cluster) plus a random suffix. */
export function defaultIdentity(host: string = hostname()): string {
  return `${host}_${randomBytes(4).toString("hex")}`;
}

/**
 * Whether a lease observed (locally first seen) at `observedAt` is still valid at `now`.
 * Using the local time of observation instead of the record's renewTime makes the decision
 * immune to clock skew between replicas, as in client-go.
 */
export function isLeaseValid(record: LeaderElectionRecord, observedAt: number, now: number): boolean {
  return observedAt + record.leaseDurationSeconds * 1000 > now;
}

/** A canonical form used to notice that the record changed since it was last observed. */
export function recordFingerprint(record: LeaderElectionRecord): string {
  return JSON.stringify([
    record.holderIdentity,
    record.leaseDurationSeconds,
    record.acquireTime ?? null,
    record.renewTime ?? null,
    record.leaseTransitions,
  ]);
}

/** The record written when creating a Lease that does not exist yet. */
export function initialRecord(identity: string, durationSeconds: number, now: number): LeaderElectionRecord {
  return {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: 0,
  };
}

/** The record a holder writes to renew: same acquire time and transitions, new renew time. */
export function renewedRecord(
  current: LeaderElectionRecord,
  durationSeconds: number,
  now: number,
): LeaderElectionRecord {
  return { ...current, leaseDurationSeconds: durationSeconds, renewTime: now };
}

export type AcquireDecision =
  | { action: "wait"; holder: string }
  | { action: "write"; record: LeaderElectionRecord; takeover: boolean };

/**
 * What to do with an existing Lease (client-go's tryAcquireOrRenew, step 3 and 4): wait while
 * someone else holds a valid lease; otherwise write ourselves in, renewing when we already
 * hold it, or taking it over (one more transition) when it is free or expired.
 */
export function decideAcquireOrRenew(input: {
  identity: string;
  current: LeaderElectionRecord;
  observedAt: number;
  now: number;
  durationSeconds: number;
}): AcquireDecision {
  const { identity, current, observedAt, now, durationSeconds } = input;
  const holding = current.holderIdentity === identity;
  if (current.holderIdentity !== "" && !holding && isLeaseValid(current, observedAt, now)) {
    return { action: "wait", holder: current.holderIdentity };
  }
  if (holding)
    return { action: "write", record: renewedRecord(current, durationSeconds, now), takeover: false };
  return {
    action: "write",
    takeover: true,
    record: {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: current.leaseTransitions + 1,
    },
  };
}

/**
 * The record written on graceful release (client-go's ReleaseOnCancel): no holder and a
 * one-second duration, so another candidate can take over at its next retry.
 */
export function releasedRecord(current: LeaderElectionRecord, now: number): LeaderElectionRecord {
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current.leaseTransitions,
  };
}
