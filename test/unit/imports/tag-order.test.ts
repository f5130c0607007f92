import { describe, expect, it } from "vitest";
import { prioritizeTags, selectRepositoryTags, summarizeTags } from "../../../src/imports/index.ts";

describe("prioritizeTags (OpenShift PrioritizeTags)", () => {
  it("puts latest first, then minor versions, then full versions newest first, then the rest lexically", () => {
    const tags = [
      "other",
      "1.0.0",
      "v2.1",
      "latest",
      "2.0",
      "v1.2.3",
      "1.10.0",
      "abc",
      "2.1",
      "5.1-rc1",
      "1.2",
    ];
    expect(prioritizeTags(tags)).toEqual([
      "latest",
      "5.1-rc1",
      "2.1",
      "v2.1",
      "2.0",
      "1.2",
      "1.10.0",
      "v1.2.3",
      "1.0.0",
      "abc",
      "other",
    ]);
  });

  it("orders pre-releases below their release and compares numerically", () => {
    expect(prioritizeTags(["1.0.0-rc.1", "1.0.0", "1.0.0-rc.10", "1.0.0-beta", "0.9.9"])).toEqual([
      "1.0.0",
      "1.0.0-rc.10",
      "1.0.0-rc.1",
      "1.0.0-beta",
      "0.9.9",
    ]);
  });

  it("treats leading zeros and partial versions as other tags", () => {
    expect(prioritizeTags(["01.2.3", "1", "v", "1.2.3.4"])).toEqual(["01.2.3", "1", "1.2.3.4", "v"]);
  });

  it("does not modify the input", () => {
    const tags = ["b", "latest"];
    prioritizeTags(tags);
    expect(tags).toEqual(["b", "latest"]);
  });
});

describe("selectRepositoryTags", () => {
  const tags = Array.from({ length: 60 }, (_, i) => `1.${i}`).concat(["latest", "dev"]);

  it("imports at most the limit, in priority order (OpenShift default 50)", () => {
    const selected = selectRepositoryTags(tags, 50);
    expect(selected).toHaveLength(50);
    expect(selected.slice(0, 3)).toEqual(["latest", "1.59", "1.58"]);
    expect(selected).not.toContain("dev");
  });

  it("imports everything with -1 and nothing with 0", () => {
    expect(selectRepositoryTags(tags, -1)).toHaveLength(62);
    expect(selectRepositoryTags(tags, 0)).toEqual([]);
  });

  it("drops duplicates and excluded tags after the limit", () => {
    expect(selectRepositoryTags(["a", "a", "latest", "b"], 2, new Set(["latest"]))).toEqual(["a"]);
  });
});

describe("summarizeTags (oc get is TAGS column)", () => {
  it("joins all tags when they fit", () => {
    expect(summarizeTags(["b", "latest", "1.0"])).toBe("latest,1.0,b");
    expect(summarizeTags([])).toBe("");
  });

  it("truncates with + N more...", () => {
    const tags = Array.from({ length: 20 }, (_, i) => `tag-${String(i).padStart(2, "0")}`);
    const summary = summarizeTags(tags);
    expect(summary).toMatch(/^tag-00,tag-01,.* \+ \d+ more\.\.\.$/);
    const shown = summary.split(" + ")[0]!.split(",").length;
    expect(summary.endsWith(`+ ${20 - shown} more...`)).toBe(true);
  });

  it("always shows the first tag even if too long", () => {
    expect(summarizeTags(["x".repeat(60), "y"])).toBe(`${"x".repeat(60)} + 1 more...`);
  });
});
