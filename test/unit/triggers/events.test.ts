import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_EVENT_NOTE_BYTES, truncateUtf8 } from "../../../src/runtime/index.ts";
import {
  FIRED_EVENTS_PER_WORKLOAD_MAX,
  FIRED_REASON,
  FiredBatches,
  firedEvent,
  firingBatchKey,
  type ImageChange,
  notAuthorizedProblem,
  type Problem,
  parseWorkloadTriggers,
  planFiredEvents,
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

describe("planFiredEvents", () => {
  const [change] = changes([{ name: "web", image: "nginx:1" }], "spec.template.spec.containers[0].image");
  const stream = {
    apiVersion: "image.openshift.io/v1",
    kind: "ImageStream",
    namespace: "images",
    name: "app",
  };
  const firing = (name: string, namespace = "images") => ({
    workload: { apiVersion: "apps/v1", kind: "Deployment", namespace, name },
    change: change!,
  });

  it("gives each workload its own Event while few workloads are updated", () => {
    const firings = Array.from({ length: FIRED_EVENTS_PER_WORKLOAD_MAX }, (_, i) => firing(`w${i}`));
    const planned = planFiredEvents(firings, stream);
    expect(planned).toHaveLength(FIRED_EVENTS_PER_WORKLOAD_MAX);
    expect(planned[3]).toEqual({ regarding: firings[3]?.workload, event: firedEvent(change!) });
  });

  it("counts and names a larger fan-out in one Event on the stream, within the note limit", () => {
    const firings = Array.from({ length: 1000 }, (_, i) => firing(`workload-${i}`));
    const planned = planFiredEvents(firings, stream);
    expect(planned).toHaveLength(1);
    expect(planned[0]?.regarding).toBe(stream);
    const { type, reason, message } = planned[0]?.event ?? {};
    expect([type, reason]).toEqual(["Normal", FIRED_REASON]);
    expect(message).toMatch(
      /^Image of 1000 workloads set to r\/app@sha256:2 by trigger ImageStreamTag images\/app:latest: Deployment workload-0, Deployment workload-1, .* and \d+ more$/,
    );
    expect(new TextEncoder().encode(message).length).toBeLessThanOrEqual(MAX_EVENT_NOTE_BYTES);
    const named = (message?.match(/Deployment workload-/g) ?? []).length;
    expect(message?.endsWith(` and ${1000 - named} more`)).toBe(true);
  });

  it("counts a workload with several changed containers once", () => {
    const firings = Array.from({ length: 11 }, (_, i) => firing(`w${i % 6}`));
    expect(planFiredEvents(firings, stream)).toHaveLength(11);
  });

  it("keeps per-workload Events when the stream is in another namespace", () => {
    const firings = Array.from({ length: 20 }, (_, i) => firing(`w${i}`, "team"));
    expect(planFiredEvents(firings, stream).map((p) => p.regarding.namespace)).toEqual(
      Array(20).fill("team"),
    );
  });

  it("batches firings by workload namespace, tag and new image", () => {
    const key = firingBatchKey(firing("a"));
    expect(firingBatchKey(firing("b"))).toBe(key);
    expect(firingBatchKey(firing("a", "team"))).not.toBe(key);
    expect(firingBatchKey({ ...firing("a"), change: { ...change!, newImage: "r/app@sha256:3" } })).not.toBe(
      key,
    );
  });
});

describe("FiredBatches", () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const [change] = changes([{ name: "web", image: "nginx:1" }], "spec.template.spec.containers[0].image");
  const firing = (name: string) => ({
    workload: { kind: "Deployment", namespace: "images", name },
    change: change!,
  });

  it("reports a batch once no firing joined it for the quiet period, at most maxWait after its first", () => {
    vi.useFakeTimers();
    const reported: string[][] = [];
    const batches = new FiredBatches({
      quietMs: 100,
      maxWaitMs: 250,
      report: (firings) => reported.push(firings.map((f) => f.workload.name)),
    });
    batches.add(firing("a"));
    vi.advanceTimersByTime(90);
    batches.add(firing("b"));
    vi.advanceTimersByTime(90);
    expect(reported).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(reported).toEqual([["a", "b"]]);

    for (let i = 0; i < 5; i++) {
      batches.add(firing(`c${i}`));
      vi.advanceTimersByTime(60);
    }
    expect(reported).toHaveLength(2);
    expect(reported[1]).toEqual(["c0", "c1", "c2", "c3", "c4"]);
    expect(batches.pending).toBe(0);
  });

  it("reports what is pending on flush", () => {
    const reported: number[] = [];
    const batches = new FiredBatches({ report: (firings) => reported.push(firings.length) });
    batches.add(firing("a"));
    batches.add(firing("b"));
    batches.flush();
    expect(reported).toEqual([2]);
    expect(batches.pending).toBe(0);
  });
});
