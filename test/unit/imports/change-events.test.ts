import { describe, expect, it } from "vitest";
import { changeEvents } from "../../../src/imports/change-events.ts";
import type { TagChange } from "../../../src/imports/model.ts";

const updated = (tag: string): TagChange => ({
  tag,
  kind: "Updated",
  image: `sha256:${tag}`,
  dockerImageReference: `registry.local/app@sha256:${tag}`,
});
const failed = (tag: string): TagChange => ({
  tag,
  kind: "Failed",
  reason: "NotFound",
  message: `no ${tag}`,
});

describe("changeEvents", () => {
  it("records nothing when no tag changed", () => {
    expect(changeEvents([])).toEqual([]);
  });

  it("names a single tag as before", () => {
    expect(changeEvents([updated("v1")])).toEqual([
      { type: "Normal", reason: "Imported", note: "tag v1 now points to registry.local/app@sha256:v1" },
    ]);
    expect(changeEvents([failed("v1")])).toEqual([
      { type: "Warning", reason: "ImportFailed", note: "tag v1: NotFound: no v1" },
    ]);
  });

  it("records one Event per kind for a round that moved several tags, naming each", () => {
    const events = changeEvents([updated("a"), failed("x"), updated("b"), failed("y")]);
    expect(events).toEqual([
      {
        type: "Normal",
        reason: "Imported",
        note: "2 tags imported: a now points to registry.local/app@sha256:a; b now points to registry.local/app@sha256:b",
      },
      {
        type: "Warning",
        reason: "ImportFailed",
        note: "2 tags failed: x: NotFound: no x; y: NotFound: no y",
      },
    ]);
  });
});
