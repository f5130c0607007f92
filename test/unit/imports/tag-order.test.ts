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
  const entry = (tag: string, created?: string) => ({ tag, items: created ? [{ created }] : [] });

  it("lists tags with an image, most recently updated first, ties by name", () => {
    expect(
      summarizeTags([
        entry("b", "2024-01-01T00:00:00Z"),
        entry("a", "2024-01-01T00:00:00Z"),
        entry("new", "2024-02-01T00:00:00Z"),
      ]),
    ).toBe("new,a,b");
    expect(summarizeTags([entry("pending")])).toBe("");
    expect(summarizeTags([])).toBe("");
  });

  it("names at most three tags, then + N more...", () => {
    const tags = ["t1", "t2", "t3", "t4", "t5"].map((t, i) => entry(t, `2024-01-0${i + 1}T00:00:00Z`));
    expect(summarizeTags(tags)).toBe("t5,t4,t3 + 2 more...");
  });
});
