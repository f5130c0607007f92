import { describe, expect, it } from "vitest";
import type { NamedTagEventList } from "../../../src/api/types.ts";
import {
  addTagEvent,
  clearConditions,
  hasImportFailure,
  observedGeneration,
  setImportFailure,
} from "../../../src/imports/index.ts";
import { D1, D2, D3, event, T0 } from "./fixtures.ts";

const failed = {
  type: "ImportSuccess" as const,
  status: "False" as const,
  reason: "NotFound",
  message: "gone",
  generation: 1,
  lastTransitionTime: T0,
};

describe("addTagEvent", () => {
  const base: NamedTagEventList = { tag: "t", items: [event(`r@${D1}`, D1, 1)], conditions: [failed] };

  it("starts the history of an empty or null list", () => {
    for (const items of [null, []]) {
      const { entry, change } = addTagEvent({ tag: "t", items }, event("r", D1), 10);
      expect(change).toBe("prepended");
      expect(entry.items).toEqual([event("r", D1)]);
    }
  });

  it("does nothing when pull spec, digest and generation are the same (conditions kept)", () => {
    const { entry, change } = addTagEvent(base, event(`r@${D1}`, D1, 1, "2030-01-01T00:00:00Z"), 10);
    expect(change).toBe("none");
    expect(entry).toBe(base);
  });

  it("only updates the generation when pull spec and digest match, clearing conditions", () => {
    const { entry, change } = addTagEvent(base, event(`r@${D1}`, D1, 5, "2030-01-01T00:00:00Z"), 10);
    expect(change).toBe("generation");
    expect(entry.items).toEqual([event(`r@${D1}`, D1, 5)]);
    expect(entry.conditions).toBeUndefined();
  });

  it("replaces items[0] when only the digest differs, keeping created", () => {
    const { entry, change } = addTagEvent(base, event(`r@${D1}`, D2, 2, "2030-01-01T00:00:00Z"), 10);
    expect(change).toBe("replaced");
    expect(entry.items).toEqual([event(`r@${D1}`, D2, 2)]);
    expect(entry.conditions).toBeUndefined();
  });

  it("replaces items[0] when only the pull spec differs", () => {
    const { entry, change } = addTagEvent(base, event(`other@${D1}`, D1, 1), 10);
    expect(change).toBe("replaced");
    expect(entry.items).toHaveLength(1);
    expect(entry.items?.[0]?.dockerImageReference).toBe(`other@${D1}`);
  });

  it("prepends when both differ and compares only with items[0]", () => {
    const history: NamedTagEventList = { tag: "t", items: [event(`r@${D2}`, D2), event(`r@${D1}`, D1)] };
    const { entry, change } = addTagEvent(history, event(`r@${D1}`, D1, 1), 10);
    expect(change).toBe("prepended");
    expect(entry.items?.map((i) => i.image)).toEqual([D1, D2, D1]);
  });

  it("bounds the history by the limit (at least one item)", () => {
    const history: NamedTagEventList = { tag: "t", items: [event("a", D2), event("b", D1)] };
    expect(addTagEvent(history, event("c", D3), 2).entry.items?.map((i) => i.image)).toEqual([D3, D2]);
    expect(addTagEvent(history, event("c", D3), 0).entry.items?.map((i) => i.image)).toEqual([D3]);
  });

  it("does not mutate its input", () => {
    const snapshot = structuredClone(base);
    addTagEvent(base, event("x", D3, 9), 1);
    expect(base).toEqual(snapshot);
  });
});

describe("setImportFailure", () => {
  const history = [event(`r@${D1}`, D1)];

  it("sets ImportSuccess=False keeping the history", () => {
    const entry = setImportFailure(
      { tag: "t", items: history },
      { reason: "NotFound", message: "m", generation: 2 },
      T0,
    );
    expect(entry.items).toBe(history);
    expect(entry.conditions).toEqual([
      {
        type: "ImportSuccess",
        status: "False",
        reason: "NotFound",
        message: "m",
        generation: 2,
        lastTransitionTime: T0,
      },
    ]);
  });

  it("does not rewrite an identical condition", () => {
    const entry: NamedTagEventList = { tag: "t", items: history, conditions: [failed] };
    expect(
      setImportFailure(entry, { reason: "NotFound", message: "gone", generation: 1 }, "2030-01-01T00:00:00Z"),
    ).toBe(entry);
  });

  it("keeps lastTransitionTime while False but updates reason, message and generation", () => {
    const entry: NamedTagEventList = { tag: "t", items: history, conditions: [failed] };
    const next = setImportFailure(
      entry,
      { reason: "Unauthorized", message: "no", generation: 3 },
      "2030-01-01T00:00:00Z",
    );
    expect(next.conditions?.[0]).toMatchObject({
      reason: "Unauthorized",
      message: "no",
      generation: 3,
      lastTransitionTime: T0,
    });
  });

  it("uses OpenShift's message when none is given", () => {
    const next = setImportFailure(
      { tag: "t", items: null },
      { reason: "InternalError", message: "", generation: 1 },
      T0,
    );
    expect(next.conditions?.[0]?.message).toBe("unknown error prevented import");
  });
});

describe("observedGeneration / hasImportFailure / clearConditions", () => {
  it("takes the newest of items[0] and the ImportSuccess condition", () => {
    expect(observedGeneration(undefined)).toBe(0);
    expect(observedGeneration({ tag: "t", items: null })).toBe(0);
    expect(observedGeneration({ tag: "t", items: [event("r", D1, 4), event("r", D2, 9)] })).toBe(4);
    expect(
      observedGeneration({
        tag: "t",
        items: [event("r", D1, 4)],
        conditions: [{ ...failed, generation: 7 }],
      }),
    ).toBe(7);
  });

  it("detects failures and clears conditions", () => {
    const entry: NamedTagEventList = { tag: "t", items: null, conditions: [failed] };
    expect(hasImportFailure(entry)).toBe(true);
    expect(hasImportFailure(clearConditions(entry))).toBe(false);
    expect(clearConditions(entry)).not.toHaveProperty("conditions");
    const none: NamedTagEventList = { tag: "t", items: null };
    expect(clearConditions(none)).toBe(none);
  });
});
