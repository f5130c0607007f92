import { describe, expect, it } from "vitest";
import {
  CommandError,
  describeTriggers,
  editTriggers,
  parseSetTriggersArgs,
  type SetTriggersOptions,
  UsageError,
} from "../../../src/cli/index.ts";
import { TRIGGER_ANNOTATION, type WorkloadObject } from "../../../src/triggers/index.ts";

function options(argv: string[]): SetTriggersOptions {
  const parsed = parseSetTriggersArgs(argv);
  if (parsed === "help") throw new Error("unexpected help");
  return parsed;
}

function deployment(triggers?: unknown[]): WorkloadObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      namespace: "ns",
      annotations: triggers ? { [TRIGGER_ANNOTATION]: JSON.stringify(triggers) } : {},
    },
    spec: {
      template: {
        spec: { containers: [{ name: "web" }, { name: "sidecar" }], initContainers: [{ name: "setup" }] },
      },
    },
  };
}

const webPath = 'spec.template.spec.containers[?(@.name=="web")].image';

describe("parseSetTriggersArgs", () => {
  it("knows kind aliases and picks the edit from the flags", () => {
    expect(options(["deploy/web"])).toMatchObject({ name: "web", edit: { action: "list" } });
    expect(options(["sts/db", "--from-image=app:v1", "-c", "db", "--paused"])).toMatchObject({
      containers: ["db"],
      edit: { action: "set", paused: true, from: { stream: "app", tag: "v1" } },
    });
    expect(options(["cronjob/x", "--remove-all"]).edit).toEqual({ action: "remove-all" });
    expect(options(["pod/x", "--auto"]).edit).toEqual({ action: "pause", paused: false });
  });
  it("rejects unknown kinds, bad names and contradictory flags", () => {
    expect(() => options(["service/web"])).toThrow(/not a workload kind/);
    expect(() => options(["web"])).toThrow(/KIND\/NAME/);
    expect(() => options(["deploy/web", "--from-image=App:v1"])).toThrow(UsageError);
    expect(() => options(["deploy/web", "--paused", "--auto"])).toThrow(UsageError);
    expect(() => options(["deploy/web", "--remove"])).toThrow(/needs -c/);
    expect(() => options(["deploy/web", "--remove-all", "-c", "web"])).toThrow(UsageError);
  });
});

describe("editTriggers", () => {
  it("adds one trigger per selected container with OpenShift's name selector", () => {
    const value = editTriggers(deployment(), options(["deploy/web", "--from-image=app:v1", "-c", "web"]));
    expect(JSON.parse(value ?? "")).toEqual([
      { from: { kind: "ImageStreamTag", name: "app:v1" }, fieldPath: webPath },
    ]);
  });

  it("replaces the trigger of the same container in place and keeps the others as written", () => {
    const other = {
      from: { kind: "ImageStreamTag", name: "side:v1" },
      fieldPath: "spec.template.spec.containers[1].image",
      extra: 1,
    };
    // Written by hand with an index selector and single quotes: still the same container.
    const old = {
      from: { kind: "ImageStreamTag", name: "app:v0" },
      fieldPath: "spec.template.spec.containers[0].image",
    };
    const value = editTriggers(
      deployment([old, other]),
      options(["deploy/web", "--from-image=shared/app:v2", "-c", "web", "--paused"]),
    );
    expect(JSON.parse(value ?? "")).toEqual([
      {
        from: { kind: "ImageStreamTag", name: "app:v2", namespace: "shared" },
        fieldPath: webPath,
        paused: true,
      },
      other,
    ]);
  });

  it("targets init containers with --init and every container by default", () => {
    const init = editTriggers(deployment(), options(["deploy/web", "--from-image=tools:v1", "--init"]));
    expect(JSON.parse(init ?? "")).toEqual([
      {
        from: { kind: "ImageStreamTag", name: "tools:v1" },
        fieldPath: 'spec.template.spec.initContainers[?(@.name=="setup")].image',
      },
    ]);
    expect(
      JSON.parse(editTriggers(deployment(), options(["deploy/web", "--from-image=a:b"])) ?? ""),
    ).toHaveLength(2);
  });

  it("refuses containers that do not exist", () => {
    expect(() =>
      editTriggers(deployment(), options(["deploy/web", "--from-image=a:b", "-c", "nope"])),
    ).toThrow(/no container "nope"/);
  });

  it("removes matching triggers; the last one removes the annotation", () => {
    const existing = [{ from: { kind: "ImageStreamTag", name: "app:v1" }, fieldPath: webPath }];
    expect(
      editTriggers(deployment(existing), options(["deploy/web", "--remove", "-c", "web"])),
    ).toBeUndefined();
    expect(() =>
      editTriggers(deployment(existing), options(["deploy/web", "--remove", "--from-image=x:y"])),
    ).toThrow(CommandError);
  });

  it("pauses and resumes selected triggers", () => {
    const existing = [{ from: { kind: "ImageStreamTag", name: "app:v1" }, fieldPath: webPath }];
    const paused = editTriggers(deployment(existing), options(["deploy/web", "--paused"]));
    expect(JSON.parse(paused ?? "")).toEqual([{ ...existing[0], paused: true }]);
  });

  it("will not write a result the trigger controller would reject", () => {
    const broken = [{ from: { kind: "DockerImage", name: "x" }, fieldPath: webPath }];
    expect(() =>
      editTriggers(deployment(broken), options(["deploy/web", "--from-image=a:b", "-c", "sidecar"])),
    ).toThrow(/would not be valid/);
  });
});

describe("describeTriggers", () => {
  it("lists container, source and whether the trigger is automatic, plus problems", () => {
    const workload = deployment([
      {
        from: { kind: "ImageStreamTag", name: "app:v1", namespace: "shared" },
        fieldPath: webPath,
        paused: "true",
      },
      { from: { kind: "ImageStreamTag", name: "x:y" }, fieldPath: "spec.containers[0].image" },
    ]);
    const { rows, problems } = describeTriggers(workload, options(["deploy/web"]).kind);
    expect(rows).toEqual([{ container: "web", from: "shared/app:v1", auto: false }]);
    expect(problems).toHaveLength(1);
  });
});
