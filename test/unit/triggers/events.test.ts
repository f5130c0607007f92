import { describe, expect, it } from "vitest";
import { MAX_EVENT_NOTE_BYTES, truncateUtf8 } from "../../../src/runtime/index.ts";
import {
  FIRED_REASON,
  firedEvent,
  type ImageChange,
  notAuthorizedProblem,
  type Problem,
  parseWorkloadTriggers,
  planTriggerUpdates,
  problemEvent,
  problemFingerprint,
  problemSetFingerprint,
  problemsToReport,
} from "../../../src/triggers/index.ts";
import { lookup, workload } from "./fixtures.ts";

function changes(containers: { name: string; image?: string }[], fieldPath: string): ImageChange[] {
  const object = workload("Deployment", {
    containers,
    initContainers: [{ name: "migrate", image: "flyway:9" }],
    annotation: [{ from: { kind: "ImageStreamTag", name: "app:latest", namespace: "images" }, fieldPath }],
  });
  const { triggers } = parseWorkloadTriggers(object, "Deployment");
  return planTriggerUpdates(object, triggers, lookup({ "images/app:latest": "r/app@sha256:2" })).changes;
}

const notFound: Problem = {
  reason: "TriggerContainerNotFound",
  message: 'triggers[0] (fieldPath "x"): container "api" not found',
  triggerIndex: 0,
};
const invalid: Problem = {
  reason: "InvalidTrigger",
  message: "triggers[1]: fieldPath is required",
  triggerIndex: 1,
};

describe("firedEvent", () => {
  it("names container, old and new image, and the trigger", () => {
    const [change] = changes([{ name: "web", image: "nginx:1" }], "spec.template.spec.containers[0].image");
    expect(firedEvent(change!)).toEqual({
      type: "Normal",
      reason: FIRED_REASON,
      message:
        'Image for container "web" changed from nginx:1 to r/app@sha256:2 by trigger ImageStreamTag images/app:latest',
    });
  });

  it("says init container for init containers", () => {
    const [change] = changes(
      [{ name: "web", image: "nginx:1" }],
      "spec.template.spec.initContainers[0].image",
    );
    expect(firedEvent(change!).message).toBe(
      'Image for init container "migrate" changed from flyway:9 to r/app@sha256:2 by trigger ImageStreamTag images/app:latest',
    );
  });

  it("says set when there was no image", () => {
    const [change] = changes([{ name: "web" }], "spec.template.spec.containers[0].image");
    expect(firedEvent(change!).message).toBe(
      'Image for container "web" set to r/app@sha256:2 by trigger ImageStreamTag images/app:latest',
    );
  });
});

describe("problemEvent", () => {
  it("is a Warning with the problem's reason and message", () => {
    expect(problemEvent(notFound)).toEqual({
      type: "Warning",
      reason: "TriggerContainerNotFound",
      message: notFound.message,
    });
  });

  it("keeps messages within the Event size limit", () => {
    const long: Problem = { reason: "InvalidTriggerAnnotation", message: "é".repeat(2000) };
    const message = problemEvent(long).message;
    expect(new TextEncoder().encode(message).length).toBeLessThanOrEqual(MAX_EVENT_NOTE_BYTES);
    expect(message.endsWith("…")).toBe(true);
    expect(message.startsWith("éé")).toBe(true);
  });
});

describe("truncateUtf8", () => {
  it("leaves short messages alone and cuts long ones on a character boundary", () => {
    expect(truncateUtf8("short", 10)).toBe("short");
    expect(truncateUtf8("exactly10!", 10)).toBe("exactly10!");
    expect(truncateUtf8("0123456789abc", 10)).toBe("0123456…");
    // "€" is 3 bytes: 2 of them fit in 10 - 3 (ellipsis) = 7 bytes, not 3.
    expect(truncateUtf8("€€€€€", 10)).toBe("€€…");
  });
});

describe("notAuthorizedProblem", () => {
  it("explains the missing permission", () => {
    const object = workload("Deployment", {
      annotation: [
        {
          from: { kind: "ImageStreamTag", name: "base:1", namespace: "images" },
          fieldPath: "spec.template.spec.containers[0].image",
        },
      ],
    });
    const [trigger] = parseWorkloadTriggers(object, "Deployment").triggers;
    expect(notAuthorizedProblem(trigger!, "team")).toEqual({
      reason: "TriggerNotAuthorized",
      message:
        'triggers[0]: ImageStreamTag images/base:1 is in namespace "images", and the service accounts of namespace "team" may not get imagestreams there; grant them "get" on imagestreams in "images" to allow this trigger',
      triggerIndex: 0,
    });
  });
});

describe("fingerprints", () => {
  it("are stable for the same problem and differ for different ones", () => {
    expect(problemFingerprint(notFound)).toBe(problemFingerprint({ ...notFound }));
    expect(problemFingerprint(notFound)).toMatch(/^[0-9a-f]{16}$/);
    expect(problemFingerprint(notFound)).not.toBe(problemFingerprint(invalid));
    expect(problemFingerprint(notFound)).not.toBe(
      problemFingerprint({ ...notFound, reason: "InvalidTrigger" }),
    );
  });

  it("identify a set regardless of order", () => {
    expect(problemSetFingerprint([])).toBe("");
    expect(problemSetFingerprint([notFound, invalid])).toBe(problemSetFingerprint([invalid, notFound]));
    expect(problemSetFingerprint([notFound])).not.toBe(problemSetFingerprint([notFound, invalid]));
  });

  it("are the same for the same annotation problem parsed twice (a resync)", () => {
    const object = workload("Deployment", { annotation: "[1" });
    const first = parseWorkloadTriggers(object, "Deployment").problems;
    const second = parseWorkloadTriggers(structuredClone(object), "Deployment").problems;
    expect(problemSetFingerprint(first)).toBe(problemSetFingerprint(second));
  });
});

describe("problemsToReport", () => {
  it("reports new problems once and remembers them", () => {
    const first = problemsToReport([notFound, invalid], new Set());
    expect(first.toReport).toEqual([notFound, invalid]);
    const resync = problemsToReport([notFound, invalid], new Set(first.fingerprints));
    expect(resync.toReport).toEqual([]);
    expect(resync.fingerprints).toEqual(first.fingerprints);
  });

  it("reports a problem again after it went away and came back", () => {
    const reported = new Set(problemsToReport([notFound], new Set()).fingerprints);
    const fixed = problemsToReport([], reported);
    expect(fixed.fingerprints).toEqual([]);
    expect(problemsToReport([notFound], new Set(fixed.fingerprints)).toReport).toEqual([notFound]);
  });

  it("reports only the new one when a second problem appears, and collapses repeats", () => {
    const reported = new Set(problemsToReport([notFound], new Set()).fingerprints);
    const next = problemsToReport([notFound, invalid, { ...invalid }], reported);
    expect(next.toReport).toEqual([invalid]);
    expect(next.fingerprints).toHaveLength(2);
  });
});
