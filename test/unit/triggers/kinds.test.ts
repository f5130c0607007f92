import { describe, expect, it } from "vitest";
import {
  isWorkloadKind,
  WORKLOAD_KINDS,
  workloadKindByAlias,
  workloadKindInfo,
} from "../../../src/triggers/index.ts";

describe("the workload kinds table", () => {
  it("derives each kind's API coordinates and pod spec path from its row", () => {
    expect(workloadKindInfo("CronJob")).toMatchObject({
      group: "batch",
      version: "v1",
      plural: "cronjobs",
      podSpecPath: ["spec", "jobTemplate", "spec", "template", "spec"],
      podTemplateImmutable: false,
    });
    expect(workloadKindInfo("Pod")).toMatchObject({ group: "", version: "v1", podSpecPath: ["spec"] });
    expect(workloadKindInfo("Job").podTemplateImmutable).toBe(true);
  });

  it("answers to singular, plural and kubectl's short names, in any case", () => {
    expect(workloadKindByAlias("deploy")?.kind).toBe("Deployment");
    expect(workloadKindByAlias("StatefulSets")?.kind).toBe("StatefulSet");
    expect(workloadKindByAlias("po")?.kind).toBe("Pod");
    expect(workloadKindByAlias("service")).toBeUndefined();
    for (const info of WORKLOAD_KINDS) {
      expect(info.aliases).toEqual(expect.arrayContaining([info.kind.toLowerCase(), info.plural]));
      expect(isWorkloadKind(info.kind)).toBe(true);
    }
  });

  it("gives every alias to one kind only", () => {
    const aliases = WORKLOAD_KINDS.flatMap((info) => info.aliases);
    expect(new Set(aliases).size).toBe(aliases.length);
  });
});
