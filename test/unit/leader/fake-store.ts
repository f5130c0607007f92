// An in-memory Lease with the API server's optimistic concurrency, and per-client views of it
// whose connection can fail or hang, to test the elector without a cluster.
import type { LeaderElectionRecord, LeaseSnapshot, LeaseStore } from "../../../src/leader/index.ts";

export function httpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class FakeLease {
  current: LeaseSnapshot | undefined;
  writes: { by: string; record: LeaderElectionRecord }[] = [];
  #version = 0;

  /** Puts a record in place as if another process had written it. */
  seed(record: LeaderElectionRecord): void {
    this.current = { record: { ...record }, resourceVersion: String(++this.#version) };
  }

  get record(): LeaderElectionRecord | undefined {
    return this.current?.record;
  }

  read(): LeaseSnapshot | undefined {
    return (
      this.current && { record: { ...this.current.record }, resourceVersion: this.current.resourceVersion }
    );
  }

  create(by: string, record: LeaderElectionRecord): LeaseSnapshot {
    if (this.current) throw httpError(409, "leases already exists");
    return this.#write(by, record);
  }

  replace(by: string, record: LeaderElectionRecord, resourceVersion: string): LeaseSnapshot {
    if (!this.current) throw httpError(404, "leases not found");
    if (this.current.resourceVersion !== resourceVersion)
      throw httpError(409, "the object has been modified");
    return this.#write(by, record);
  }

  #write(by: string, record: LeaderElectionRecord): LeaseSnapshot {
    this.writes.push({ by, record: { ...record } });
    this.current = { record: { ...record }, resourceVersion: String(++this.#version) };
    return { record: { ...record }, resourceVersion: this.current.resourceVersion };
  }
}

export type Connection = "ok" | "fail" | "hang";

/** One process's client of the shared lease. */
export class FakeLeaseClient implements LeaseStore {
  readonly description = "test/lease";
  connection: Connection = "ok";
  /** Errors thrown by the next calls of a given operation, before they reach the lease. */
  readonly injected: { op: "get" | "create" | "replace"; error: Error }[] = [];
  calls = 0;
  readonly #lease: FakeLease;
  readonly #name: string;

  constructor(lease: FakeLease, name: string) {
    this.#lease = lease;
    this.#name = name;
  }

  get(): Promise<LeaseSnapshot | undefined> {
    return this.#call("get", () => this.#lease.read());
  }

  create(record: LeaderElectionRecord): Promise<LeaseSnapshot> {
    return this.#call("create", () => this.#lease.create(this.#name, record));
  }

  replace(record: LeaderElectionRecord, resourceVersion: string): Promise<LeaseSnapshot> {
    return this.#call("replace", () => this.#lease.replace(this.#name, record, resourceVersion));
  }

  async #call<T>(op: "get" | "create" | "replace", action: () => T): Promise<T> {
    this.calls++;
    if (this.connection === "hang") return new Promise<T>(() => {});
    if (this.connection === "fail") throw httpError(503, "service unavailable");
    const index = this.injected.findIndex((i) => i.op === op);
    const injected = index >= 0 ? this.injected.splice(index, 1)[0] : undefined;
    if (injected) throw injected.error;
    return action();
  }
}
