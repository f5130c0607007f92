// Where the election record lives: a coordination.k8s.io/v1 Lease, behind a small interface so
// the elector can be tested against an in-memory fake.
import { type CoordinationV1Api, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { isNotFound } from "../runtime/index.ts";
import type { LeaderElectionRecord } from "./record.ts";

export interface LeaseSnapshot {
  record: LeaderElectionRecord;
  resourceVersion: string;
}

/**
 * Reads and writes one Lease. create fails (HTTP 409) when it already exists; replace fails
 * (HTTP 409) when `resourceVersion` is no longer current. Errors carry the HTTP status the way
 * client-node's ApiException does (`code`), which `isConflict` from the runtime reads.
 */
export interface LeaseStore {
  /** The current Lease, or undefined when it does not exist. */
  get(): Promise<LeaseSnapshot | undefined>;
  create(record: LeaderElectionRecord): Promise<LeaseSnapshot>;
  replace(record: LeaderElectionRecord, resourceVersion: string): Promise<LeaseSnapshot>;
  /** Where the lease lives, for logs. */
  readonly description: string;
}

function millisOf(value: unknown): number | undefined {
  // client-node leaves MicroTime fields as strings when deserializing, so accept both forms.
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string" && value !== "") {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** The election record held in a Lease's spec. */
export function recordFromLease(lease: V1Lease): LeaderElectionRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? "",
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: millisOf(spec.acquireTime),
    renewTime: millisOf(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

function microTime(ms: number | undefined): V1MicroTime | undefined {
  // V1MicroTime serializes with six fractional digits, the only form the API server accepts.
  return ms === undefined ? undefined : new V1MicroTime(ms);
}

function specOf(record: LeaderElectionRecord): NonNullable<V1Lease["spec"]> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: microTime(record.acquireTime),
    renewTime: microTime(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

function snapshotOf(lease: V1Lease): LeaseSnapshot {
  return { record: recordFromLease(lease), resourceVersion: lease.metadata?.resourceVersion ?? "" };
}

/** A LeaseStore on the Kubernetes API (needs get, create and update on leases in `namespace`). */
export function leaseStoreFromClient(api: CoordinationV1Api, namespace: string, name: string): LeaseStore {
  // The last Lease seen, so a replace keeps its labels, annotations and unknown spec fields.
  let last: V1Lease | undefined;
  const remember = (lease: V1Lease): LeaseSnapshot => {
    last = lease;
    return snapshotOf(lease);
  };
  return {
    description: `${namespace}/${name}`,
    async get() {
      try {
        return remember(await api.readNamespacedLease({ name, namespace }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(record) {
      const body: V1Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace },
        spec: specOf(record),
      };
      return remember(await api.createNamespacedLease({ namespace, body }));
    },
    async replace(record, resourceVersion) {
      const base = last?.metadata?.resourceVersion === resourceVersion ? last : undefined;
      const body: V1Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { ...base?.metadata, name, namespace, resourceVersion },
        spec: { ...base?.spec, ...specOf(record) },
      };
      return remember(await api.replaceNamespacedLease({ name, namespace, body }));
    },
  };
}
