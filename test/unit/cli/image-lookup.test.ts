import { describe, expect, it } from "vitest";
import { podTemplateKind } from "../../../src/api/index.ts";
import {
  lookupRows,
  parseImageLookupArgs,
  resolvesNames,
  streamLookupPatch,
  UsageError,
  workloadLookupPatch,
} from "../../../src/cli/index.ts";

describe("set image-lookup: arguments", () => {
  it("lists without names, sets streams and workloads with them", () => {
    expect(parseImageLookupArgs([])).toMatchObject({ action: "list", targets: [] });
    expect(parseImageLookupArgs(["ruby", "deploy/web", "rc/old", "cronjobs.batch/nightly"])).toMatchObject({
      action: "set",
      enabled: true,
      targets: [
        { type: "stream", name: "ruby" },
        { type: "workload", kind: { kind: "Deployment" }, name: "web" },
        { type: "workload", kind: { kind: "ReplicationController" }, name: "old" },
        { type: "workload", kind: { kind: "CronJob" }, name: "nightly" },
      ],
    });
    expect(parseImageLookupArgs(["--all", "--enabled=false"])).toMatchObject({
      action: "set",
      all: true,
      enabled: false,
    });
  });

  it.each([
    [["service/web"], "not STREAM or KIND/NAME"],
    [["Ruby"], "Ruby"],
    [["ruby", "--enabled=maybe"], "not true or false"],
    [["--enabled=false"], "--enabled needs"],
    [["--all", "ruby"], "--all takes no"],
  ])("refuses %j", (argv, message) => {
    expect(() => parseImageLookupArgs(argv)).toThrow(UsageError);
    expect(() => parseImageLookupArgs(argv)).toThrow(message);
  });
});

describe("set image-lookup: what is written", () => {
  it("a stream's lookup policy, as a merge patch (CRDs refuse oc's strategic-merge patch)", () => {
    expect(streamLookupPatch(true)).toEqual({ spec: { lookupPolicy: { local: true } } });
    expect(streamLookupPatch(false)).toEqual({ spec: { lookupPolicy: { local: false } } });
  });

  it("the resolve-names annotation on the pod template, a Pod's own metadata; null removes it", () => {
    const key = "alpha.image.policy.openshift.io/resolve-names";
    expect(workloadLookupPatch(podTemplateKind("Deployment"), true)).toEqual({
      spec: { template: { metadata: { annotations: { [key]: "*" } } } },
    });
    expect(workloadLookupPatch(podTemplateKind("CronJob"), false)).toEqual({
      spec: { jobTemplate: { spec: { template: { metadata: { annotations: { [key]: null } } } } } },
    });
    expect(workloadLookupPatch(podTemplateKind("Pod"), true)).toEqual({
      metadata: { annotations: { [key]: "*" } },
    });
    const deployment = { spec: { template: { metadata: { annotations: { [key]: "*" } } } } };
    expect(resolvesNames(podTemplateKind("Deployment"), deployment)).toBe(true);
    expect(resolvesNames(podTemplateKind("Deployment"), { spec: { template: {} } })).toBe(false);
  });

  it("lists every stream with its lookup policy, by name", () => {
    const stream = (name: string, local?: boolean) => ({
      metadata: { name },
      ...(local === undefined ? {} : { spec: { lookupPolicy: { local } } }),
    });
    expect(lookupRows([stream("ruby", true), stream("app"), stream("db", false)])).toEqual([
      ["app", "false"],
      ["db", "false"],
      ["ruby", "true"],
    ]);
  });
});
