import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  httpStatusOf,
  isConflict,
  isGone,
  isNotFound,
  KubeApiError,
  updateStatusWithRetry,
} from "../../../src/runtime/index.ts";

interface Stream {
  metadata: { resourceVersion: string };
  status: { tags: string[] };
}

const conflict = () =>
  new ApiException(409, "Conflict", { kind: "Status", code: 409, reason: "Conflict" }, {});

/** An object store with optimistic concurrency, like the API server's status subresource. */
function fakeServer(initial: Stream) {
  let stored = structuredClone(initial);
  let version = Number(initial.metadata.resourceVersion);
  const writes: Stream[] = [];
  return {
    gets: 0,
    writes,
    /** Someone else writes between our read and our write. */
    bump(tags: string[]) {
      version++;
      stored = { metadata: { resourceVersion: String(version) }, status: { tags } };
    },
    async get(this: { gets: number }): Promise<Stream> {
      this.gets++;
      return structuredClone(stored);
    },
    async replaceStatus(obj: Stream): Promise<Stream> {
      if (obj.metadata.resourceVersion !== stored.metadata.resourceVersion) throw conflict();
      version++;
      stored = { ...structuredClone(obj), metadata: { resourceVersion: String(version) } };
      writes.push(structuredClone(stored));
      return structuredClone(stored);
    },
  };
}

const addTag =
  (tag: string) =>
  (fresh: Stream): Stream | undefined =>
    fresh.status.tags.includes(tag) ? undefined : { ...fresh, status: { tags: [...fresh.status.tags, tag] } };

describe("updateStatusWithRetry", () => {
  it("re-reads and re-applies mutate on 409 Conflict", async () => {
    const server = fakeServer({ metadata: { resourceVersion: "1" }, status: { tags: [] } });
    let mutations = 0;
    const result = await updateStatusWithRetry({
      get: () => server.get(),
      mutate: (fresh) => {
        mutations++;
        // The first time, another writer sneaks in after our read.
        if (mutations === 1) server.bump(["other"]);
        return addTag("mine")(fresh);
      },
      replaceStatus: (obj) => server.replaceStatus(obj),
    });
    expect(result.written).toBe(true);
    expect(result.attempts).toBe(2);
    expect(mutations).toBe(2);
    // The other writer's change survives: mutate ran on the fresh copy.
    expect(result.object.status.tags).toEqual(["other", "mine"]);
    expect(server.writes).toHaveLength(1);
  });

  it("writes nothing when mutate returns undefined", async () => {
    const server = fakeServer({ metadata: { resourceVersion: "1" }, status: { tags: ["mine"] } });
    const result = await updateStatusWithRetry({
      get: () => server.get(),
      mutate: addTag("mine"),
      replaceStatus: (obj) => server.replaceStatus(obj),
    });
    expect(result).toMatchObject({ written: false, attempts: 1 });
    expect(server.writes).toHaveLength(0);
  });

  it("uses a cached copy for the first attempt and reads only after a conflict", async () => {
    const server = fakeServer({ metadata: { resourceVersion: "1" }, status: { tags: [] } });
    const stale: Stream = { metadata: { resourceVersion: "0" }, status: { tags: [] } };
    const result = await updateStatusWithRetry({
      current: stale,
      get: () => server.get(),
      mutate: addTag("mine"),
      replaceStatus: (obj) => server.replaceStatus(obj),
    });
    expect(result.attempts).toBe(2);
    expect(server.gets).toBe(1);

    const fresh = await server.get();
    const gets = server.gets;
    await updateStatusWithRetry({
      current: fresh,
      get: () => server.get(),
      mutate: addTag("second"),
      replaceStatus: (obj) => server.replaceStatus(obj),
    });
    expect(server.gets).toBe(gets);
  });

  it("gives up after maxAttempts conflicts and throws the conflict", async () => {
    let writes = 0;
    const attempt = updateStatusWithRetry({
      get: async () => ({ metadata: { resourceVersion: "1" }, status: { tags: [] } }),
      mutate: addTag("mine"),
      replaceStatus: async () => {
        writes++;
        throw conflict();
      },
      maxAttempts: 3,
    });
    await expect(attempt).rejects.toSatisfy(isConflict);
    expect(writes).toBe(3);
  });

  it("does not retry other errors", async () => {
    let writes = 0;
    const attempt = updateStatusWithRetry({
      get: async () => ({ metadata: { resourceVersion: "1" }, status: { tags: [] } }),
      mutate: addTag("mine"),
      replaceStatus: async () => {
        writes++;
        throw new ApiException(422, "Invalid", {}, {});
      },
    });
    await expect(attempt).rejects.toSatisfy((err: unknown) => httpStatusOf(err) === 422);
    expect(writes).toBe(1);
  });
});

describe("httpStatusOf", () => {
  it("reads client-node ApiException, Watch errors, Status bodies and our own errors", () => {
    expect(httpStatusOf(new ApiException(404, "NotFound", {}, {}))).toBe(404);
    expect(httpStatusOf(Object.assign(new Error("Gone"), { statusCode: 410 }))).toBe(410);
    expect(httpStatusOf({ kind: "Status", code: 410 })).toBe(410);
    expect(httpStatusOf({ body: { kind: "Status", code: 409 } })).toBe(409);
    expect(httpStatusOf(new KubeApiError(403, "forbidden"))).toBe(403);
    expect(isNotFound(new ApiException(404, "NotFound", {}, {}))).toBe(true);
    expect(isGone({ statusCode: 410 })).toBe(true);
  });

  it("answers undefined when there is no HTTP status", () => {
    expect(httpStatusOf(new Error("ECONNRESET"))).toBeUndefined();
    expect(httpStatusOf(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBeUndefined();
    expect(httpStatusOf(undefined)).toBeUndefined();
    expect(httpStatusOf("409")).toBeUndefined();
    expect(httpStatusOf({ code: 7 })).toBeUndefined();
  });
});
