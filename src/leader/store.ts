// Where the election record lives: a coordination.k8s.io/v1 Lease, behind a small interface so
// the elector can be tested against an in-memory fake.
import { microTime } from "../api/index.ts";
import { isNotFound, type KubeConnection, kubeRequest } from "../runtime/index.ts";
import type { LeaderElectionRecord } from "./record.ts";

/** A coordination.k8s.io/v1 Lease, the fields the elector reads and writes (others are kept as they are). */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [field: string]: unknown };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    /** meta/v1 MicroTime strings. */
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
    [field: string]: unknown;
  };
}

export interface LeaseSnapshot {
  record: LeaderElectionRecord;
  resourceVersion: string;
}

/**
 * Reads and writes one Lease. create fails (HTTP 409) when it already exists; replace fails
 * (HTTP 409) when `resourceVersion` is no longer current. Errors are the runtime's KubeApiError,
 * which `isConflict` reads.
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
  if (typeof value === "string" && value !== "") {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** The election record held in a Lease's spec. */
export function recordFromLease(lease: Lease): LeaderElectionRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? "",
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: millisOf(spec.acquireTime),
    renewTime: millisOf(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

function specOf(record: LeaderElectionRecord): NonNullable<Lease["spec"]> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    // Undefined (left out of the JSON) rather than absent: it clears a time the last Lease had.
    acquireTime: record.acquireTime === undefined ? undefined : microTime(record.acquireTime),
    renewTime: record.renewTime === undefined ? undefined : microTime(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

function snapshotOf(lease: Lease): LeaseSnapshot {
  return { record: recordFromLease(lease), resourceVersion: lease.metadata?.resourceVersion ?? "" };
}

/** A LeaseStore on the Kubernetes API (needs get, create and update on leases in `namespace`). */
export function leaseStoreFromClient(kc: KubeConnection, namespace: string, name: string): LeaseStore {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  // The last Lease seen, so a replace keeps its labels, annotations and unknown spec fields.
  let last: Lease | undefined;
  const remember = (lease: unknown): LeaseSnapshot => {
    last = lease as Lease;
    return snapshotOf(last);
  };
  return {
    description: `${namespace}/${name}`,
    async get() {
      try {
        return remember(await kubeRequest(kc, { method: "GET", path }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(record) {
      const body: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace },
        spec: specOf(record),
      };
      return remember(await kubeRequest(kc, { method: "POST", path: collection, body }));
    },
    async replace(record, resourceVersion) {
      const base = last?.metadata?.resourceVersion === resourceVersion ? last : undefined;
      const body: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { ...base?.metadata, name, namespace, resourceVersion },
        spec: { ...base?.spec, ...specOf(record) },
      };
      return remember(await kubeRequest(kc, { method: "PUT", path, body }));
    },
  };
}
