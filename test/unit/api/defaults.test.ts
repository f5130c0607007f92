import { describe, expect, it } from "vitest";
import { importModeOf, referencePolicyTypeOf } from "../../../src/api/index.ts";

describe("OpenShift's defaults, as readings", () => {
  it("referencePolicy.type: empty, missing or absent means Source; only Local is Local", () => {
    expect(referencePolicyTypeOf(undefined)).toBe("Source");
    expect(referencePolicyTypeOf({})).toBe("Source");
    expect(referencePolicyTypeOf({ referencePolicy: {} })).toBe("Source");
    expect(referencePolicyTypeOf({ referencePolicy: { type: "" } })).toBe("Source");
    expect(referencePolicyTypeOf({ referencePolicy: { type: "Source" } })).toBe("Source");
    expect(referencePolicyTypeOf({ referencePolicy: { type: "Local" } })).toBe("Local");
  });

  it("importPolicy.importMode: empty, missing or an empty policy means Legacy", () => {
    expect(importModeOf(undefined)).toBe("Legacy");
    expect(importModeOf(null)).toBe("Legacy");
    expect(importModeOf({})).toBe("Legacy");
    expect(importModeOf({ importMode: "" })).toBe("Legacy");
    expect(importModeOf({ importMode: "Legacy" })).toBe("Legacy");
    expect(importModeOf({ importMode: "PreserveOriginal" })).toBe("PreserveOriginal");
  });
});
