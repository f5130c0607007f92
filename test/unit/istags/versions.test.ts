import { describe, expect, it } from "vitest";
import { OwnWrites, VERSION_MARK_TTL_MS, VersionMarks } from "../../../src/istags/versions.ts";

const STREAM = { namespace: "ns", name: "app" };
const KEY = "istag/ns/app.v1";

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("VersionMarks", () => {
  it("holds versions per key until unmarked, forgotten or expired", () => {
    const c = clock();
    const marks = new VersionMarks(c.now);
    marks.mark(KEY, "5");
    marks.mark(KEY, "6");
    marks.mark(KEY, undefined);
    expect(marks.has(KEY, "5")).toBe(true);
    expect(marks.has(KEY, "7")).toBe(false);
    expect(marks.has(KEY, undefined)).toBe(false);
    expect(marks.unmark(KEY, "5")).toBe(false);
    expect(marks.hasAny(KEY)).toBe(true);
    expect(marks.unmark(KEY, "6")).toBe(true);
    expect(marks.hasAny(KEY)).toBe(false);

    marks.mark(KEY, "8");
    c.advance(VERSION_MARK_TTL_MS + 1);
    expect(marks.has(KEY, "8")).toBe(false);
    marks.mark(KEY, "9");
    marks.forget(KEY);
    expect(marks.has(KEY, "9")).toBe(false);
  });

  it("sweeps expired keys that are never asked about again", () => {
    const c = clock();
    const marks = new VersionMarks(c.now);
    marks.mark("istag/ns/gone", "1"); // its event never comes
    c.advance(VERSION_MARK_TTL_MS + 1);
    marks.mark(KEY, "2"); // the next mark after a TTL sweeps
    expect(marks.hasAny("istag/ns/gone")).toBe(false);
    expect(marks.has(KEY, "2")).toBe(true);
  });
});

describe("OwnWrites", () => {
  function ownWrites() {
    const caughtUp: string[] = [];
    const writes = new OwnWrites(clock().now, (k) => caughtUp.push(k));
    return { writes, caughtUp };
  }

  it("consumes the event of a write whose answer came first", () => {
    const { writes, caughtUp } = ownWrites();
    writes.begin(KEY);
    expect(writes.end(KEY, "10")).toEqual([]);
    expect(writes.admit(KEY, "10", () => [STREAM])).toBe(false);
    expect(caughtUp).toEqual([KEY]);
    // The next event of the object is someone else's.
    expect(writes.admit(KEY, "11", () => [STREAM])).toBe(true);
  });

  it("holds an event seen while the write is in flight and drops it when it is the write", () => {
    const { writes, caughtUp } = ownWrites();
    writes.begin(KEY);
    expect(writes.admit(KEY, "10", () => [STREAM])).toBe(false);
    expect(writes.end(KEY, "10")).toEqual([]);
    expect(caughtUp).toEqual([KEY]);
    // Not marked as well: a later event of that version is no longer expected.
    expect(writes.admit(KEY, "10", () => [STREAM])).toBe(true);
  });

  it("hands back held events that were someone else's write, and all of them when the write failed", () => {
    const { writes } = ownWrites();
    const other = { namespace: "ns", name: "other" };
    writes.begin(KEY);
    expect(writes.admit(KEY, "9", () => [STREAM, other])).toBe(false); // a user's edit just before ours
    expect(writes.admit(KEY, "10", () => [STREAM])).toBe(false);
    expect(writes.end(KEY, "10")).toEqual([STREAM, other]);

    writes.begin(KEY);
    expect(writes.admit(KEY, "12", () => [STREAM])).toBe(false);
    expect(writes.end(KEY, undefined)).toEqual([STREAM]);
    expect(writes.admit(KEY, "13", () => [STREAM])).toBe(true);
  });

  it("keeps events through overlapping writes and consumes a create and the status write after it", () => {
    const { writes, caughtUp } = ownWrites();
    writes.begin(KEY);
    expect(writes.end(KEY, "20")).toEqual([]); // create answered
    writes.begin(KEY); // status write in flight
    expect(writes.admit(KEY, "20", () => [STREAM])).toBe(false); // the create's event: consumed
    expect(caughtUp).toEqual([KEY]);
    expect(writes.admit(KEY, "21", () => [STREAM])).toBe(false); // held
    writes.begin(KEY); // a second writer of the same object
    expect(writes.end(KEY, "21")).toEqual([]);
    expect(writes.admit(KEY, "22", () => [STREAM])).toBe(false); // still held: a write is in flight
    expect(writes.end(KEY, "23")).toEqual([STREAM]);
    expect(writes.admit(KEY, "23", () => [STREAM])).toBe(false);
  });

  it("lets every event through for objects it never wrote", () => {
    const { writes } = ownWrites();
    expect(writes.admit(KEY, "1", () => [STREAM])).toBe(true);
    expect(writes.admit("is/ns/app", "2", () => [STREAM])).toBe(true);
  });
});
