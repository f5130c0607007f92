// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics.
export {
  type ElectorState,
  type LeaderCallbacks,
  LeaderElector,
  type LeaderElectorOptions,
} from "./elector.ts";
export {
  type AcquireDecision,
  DEFAULT_LEADER_TIMINGS,
  decideAcquireOrRenew,
  defaultIdentity,
  isLeaseValid,
  type LeaderElectionRecord,
  type LeaderTimings,
  leaseDurationSeconds,
  releasedRecord,
  validateLeaderTimings,
} from "./record.ts";
export {
  type Lease,
  type LeaseSnapshot,
  type LeaseStore,
  leaseStoreFromClient,
  recordFromLease,
} from "./store.ts";
