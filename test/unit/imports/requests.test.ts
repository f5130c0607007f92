import { describe, expect, it } from "vitest";
import type { ImageStream } from "../../../src/api/index.ts";
import {
  IMPORT_REQUESTED_HANDLED_ANNOTATION,
  IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION,
} from "../../../src/imports/model.ts";
import { lookupFreshness, notYetShown, RequestBatches } from "../../../src/imports/requests.ts";

describe("RequestBatches", () => {
  it("dates every stream given the same value to the first sighting while they keep arriving", () => {
    const batches = new RequestBatches(10_000);
    expect(batches.madeAt("v1", 1_000)).toBe(1_000);
    expect(batches.madeAt("v1", 9_000)).toBe(1_000);
    // 30 s after the first, but never more than 10 s after the previous one: still one request
    expect(batches.madeAt("v1", 18_000)).toBe(1_000);
    expect(batches.madeAt("v1", 27_000)).toBe(1_000);
  });

  it("starts a new request when the value comes back after a gap", () => {
    const batches = new RequestBatches(10_000);
    batches.madeAt("v1", 1_000);
    expect(batches.madeAt("v1", 11_001)).toBe(11_001);
  });

  it("keeps different values apart", () => {
    const batches = new RequestBatches(10_000);
    expect(batches.madeAt("v1", 1_000)).toBe(1_000);
    expect(batches.madeAt("v2", 2_000)).toBe(2_000);
    expect(batches.madeAt("v1", 3_000)).toBe(1_000);
  });

  it("forgets ended batches, so memory does not grow with every request ever made", () => {
    const batches = new RequestBatches(10_000);
    for (let i = 0; i < 100; i++) batches.madeAt(`v${i}`, i * 1_000);
    // a new value at 200 s: every batch ended more than 10 s before is gone
    batches.madeAt("late", 200_000);
    expect(batches.size).toBe(1);
  });
});

describe("lookupFreshness", () => {
  const seen = { request: 2_000, spec: 1_000 };

  it("lets a scheduled check or a retry take any recent lookup", () => {
    expect(lookupFreshness(["Scheduled"], seen)).toBeUndefined();
    expect(lookupFreshness(["Retry"], seen)).toBeUndefined();
    expect(lookupFreshness([], seen)).toBeUndefined();
  });

  it("makes a new or changed tag wait for a lookup started after its spec was seen", () => {
    expect(lookupFreshness(["Initial"], seen)).toBe(1_000);
    expect(lookupFreshness(["SpecChanged", "Scheduled"], seen)).toBe(1_000);
  });

  it("makes a request wait for a lookup started after it was seen, the later time winning", () => {
    expect(lookupFreshness(["Requested"], seen)).toBe(2_000);
    expect(lookupFreshness(["Initial", "Requested"], seen)).toBe(2_000);
    expect(lookupFreshness(["Requested", "SpecChanged"], { request: 1_000, spec: 3_000 })).toBe(3_000);
  });
});

describe("notYetShown", () => {
  const stream = (annotations: Record<string, string>): ImageStream => ({
    apiVersion: "image.openshift.io/v1",
    kind: "ImageStream",
    metadata: { namespace: "team", name: "app", annotations },
  });

  it("keeps what the handled annotations do not show yet, and nothing once they show it all", () => {
    const honoured = { request: "r1", tagRequest: "t1" };
    expect(notYetShown(stream({}), honoured)).toEqual(honoured);
    expect(notYetShown(stream({ [IMPORT_REQUESTED_HANDLED_ANNOTATION]: "r1" }), honoured)).toEqual({
      tagRequest: "t1",
    });
    expect(
      notYetShown(
        stream({
          [IMPORT_REQUESTED_HANDLED_ANNOTATION]: "r1",
          [IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION]: "t1",
        }),
        honoured,
      ),
    ).toBeUndefined();
    expect(notYetShown(stream({ [IMPORT_REQUESTED_HANDLED_ANNOTATION]: "r0" }), { request: "r1" })).toEqual({
      request: "r1",
    });
    expect(notYetShown(stream({}), undefined)).toBeUndefined();
  });
});
