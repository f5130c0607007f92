import { describe, expect, it } from "vitest";
import {
  computeStatus,
  IMPORT_REQUESTED_ANNOTATION,
  IMPORT_REQUESTED_HANDLED_ANNOTATION,
  IMPORT_REQUESTED_TAGS_ANNOTATION,
  IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION,
  isImportable,
  newImportState,
  nextScheduledImport,
  pendingImportRequest,
  pendingTagRequests,
  planImports,
  REPOSITORY_CHECK_ANNOTATION,
  recordImportAttempts,
  requestTagImports,
  retryDelay,
  specTagGeneration,
  stableHash,
} from "../../../src/imports/index.ts";
import { D1, dockerTag, event, settings, stream } from "./fixtures.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const MIN = 60_000;
const failedCondition = (generation: number) => ({
  type: "ImportSuccess" as const,
  status: "False" as const,
  reason: "NotFound",
  message: "m",
  generation,
});

describe("planImports: which tags", () => {
  it("imports new DockerImage tags and skips reference, from-less and non-DockerImage tags", () => {
    const s = stream([
      dockerTag("a", "redis:2"),
      dockerTag("ref", "redis:3", { reference: true }),
      { name: "nofrom" },
      { name: "empty", from: { kind: "DockerImage", name: "" } },
      { name: "alias", from: { kind: "ImageStreamTag", name: "a" } },
      { name: "pin", from: { kind: "ImageStreamImage", name: `app@${D1}` } },
    ]);
    const plan = planImports(s, NOW, undefined, settings());
    expect(plan.tags.map((t) => [t.tag, t.causes])).toEqual([["a", ["Initial"]]]);
    expect(plan.tags[0]).toMatchObject({ from: "redis:2", insecure: false, importMode: "Legacy" });
    expect(isImportable(dockerTag("x", "y", { reference: true }))).toBe(false);
  });

  it("handles a stream without spec, status or annotations", () => {
    const plan = planImports({ metadata: { name: "x", annotations: null } }, NOW, undefined, settings());
    expect(plan).toEqual({ tags: [] });
  });

  it("imports nothing when the status observed the current generation", () => {
    const s = stream([dockerTag("a", "redis:2")], [{ tag: "a", items: [event(`redis@${D1}`, D1, 3)] }], {
      generation: 3,
    });
    expect(planImports(s, NOW, newImportState(NOW), settings()).tags).toEqual([]);
  });

  it("re-imports after a spec change (generation bump)", () => {
    const s = stream([dockerTag("a", "redis:3")], [{ tag: "a", items: [event(`redis@${D1}`, D1, 3)] }], {
      generation: 4,
    });
    expect(planImports(s, NOW, newImportState(NOW), settings()).tags[0]?.causes).toEqual(["SpecChanged"]);
  });

  it("counts a failure condition's generation as observed", () => {
    const s = stream(
      [dockerTag("a", "nope:1")],
      [{ tag: "a", items: null, conditions: [failedCondition(4)] }],
      {
        generation: 4,
      },
    );
    // Failure recorded at generation 4, just attempted: no SpecChanged, backoff not expired.
    const state = recordImportAttempts(
      newImportState(NOW),
      s,
      [{ tag: "a", ok: false, reason: "x", message: "m" }],
      NOW,
    );
    const plan = planImports(s, NOW + 1000, state, settings());
    expect(plan.tags).toEqual([]);
    expect(plan.nextCheckAt).toBe(NOW + 10_000);
  });

  it("uses the tag's generation when the object has none", () => {
    const s = stream([dockerTag("a", "x", { generation: 7 })], [], { generation: undefined });
    expect(specTagGeneration(s, s.spec!.tags![0])).toBe(7);
    expect(specTagGeneration(stream([], [], { generation: undefined }))).toBe(0);
  });

  it("marks insecure tags from the tag policy or the stream annotation, and carries import mode and preferences", () => {
    const s = stream(
      [
        dockerTag("a", "h/a", { importPolicy: { insecure: true, importMode: "PreserveOriginal" } }),
        dockerTag("b", "h/b", { annotations: { "importer.image.openshift.io/prefer-arch": "arm64" } }),
      ],
      null,
    );
    const plan = planImports(s, NOW, undefined, settings());
    expect(plan.tags[0]).toMatchObject({ insecure: true, importMode: "PreserveOriginal" });
    expect(plan.tags[1]).toMatchObject({ insecure: false, preferArch: "arm64" });
    s.metadata.annotations = { "openshift.io/image.insecureRepository": "true" };
    expect(planImports(s, NOW, undefined, settings()).tags.every((t) => t.insecure)).toBe(true);
  });

  it("reads an empty importMode or an empty importPolicy as Legacy, as OpenShift defaults them", () => {
    const plan = planImports(
      stream([
        dockerTag("empty-mode", "h/a", { importPolicy: { importMode: "" } }),
        dockerTag("empty-policy", "h/b", { importPolicy: {} }),
      ]),
      NOW,
      undefined,
      settings(),
    );
    expect(plan.tags.map((t) => [t.tag, t.importMode])).toEqual([
      ["empty-mode", "Legacy"],
      ["empty-policy", "Legacy"],
    ]);
  });
});

describe("planImports: re-import requests", () => {
  const imported = () =>
    stream(
      [dockerTag("a", "redis:2"), dockerTag("r", "x", { reference: true })],
      [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)] }],
    );

  it("requests a re-import of every importable tag once per value", () => {
    const s = imported();
    s.metadata.annotations = { [IMPORT_REQUESTED_ANNOTATION]: "2024-05-01T11:59:00Z" };
    const plan = planImports(s, NOW, newImportState(NOW), settings());
    expect(plan.importRequest).toBe("2024-05-01T11:59:00Z");
    expect(plan.tags.map((t) => [t.tag, t.causes])).toEqual([["a", ["Requested"]]]);

    s.metadata.annotations[IMPORT_REQUESTED_HANDLED_ANNOTATION] = "2024-05-01T11:59:00Z";
    expect(pendingImportRequest(s)).toBeUndefined();
    expect(planImports(s, NOW, newImportState(NOW), settings())).toEqual({ tags: [] });
  });

  it("ignores an empty request", () => {
    const s = imported();
    s.metadata.annotations = { [IMPORT_REQUESTED_ANNOTATION]: " " };
    expect(pendingImportRequest(s)).toBeUndefined();
  });
});

describe("planImports: tag requests (receivers)", () => {
  const two = () =>
    stream(
      [dockerTag("a", "quay.io/org/a:1"), dockerTag("b", "quay.io/org/b:1")],
      [
        { tag: "a", items: [event(`quay.io/org/a@${D1}`, D1, 1)] },
        { tag: "b", items: [event(`quay.io/org/b@${D1}`, D1, 1)] },
      ],
    );
  const annotate = (s: ReturnType<typeof stream>, annotations: Record<string, string>) => {
    s.metadata.annotations = { ...s.metadata.annotations, ...annotations };
    return s;
  };

  it("imports exactly the requested tags, once per request id", () => {
    const s = two();
    annotate(s, { [IMPORT_REQUESTED_TAGS_ANNOTATION]: requestTagImports(s, ["b"], "r1") });
    const plan = planImports(s, NOW, newImportState(NOW), settings());
    expect(plan.tags.map((t) => [t.tag, t.causes])).toEqual([["b", ["Requested"]]]);
    expect(plan.tagRequest).toBe('{"b":"r1"}');

    // The round records what it honoured: nothing is pending any more.
    const update = computeStatus({
      stream: s,
      outcomes: [],
      now: new Date(NOW),
      settings: settings(),
      tagRequest: plan.tagRequest ?? "",
    });
    expect(update?.annotations?.[IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION]).toBe('{"b":"r1"}');
    annotate(s, { [IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION]: '{"b":"r1"}' });
    expect(pendingTagRequests(s)).toBeUndefined();
    expect(planImports(s, NOW, newImportState(NOW), settings()).tags).toEqual([]);
  });

  it("keeps requests not honoured yet, drops honoured ones, and a new id asks again", () => {
    const s = annotate(two(), {
      [IMPORT_REQUESTED_TAGS_ANNOTATION]: '{"a":"r1","b":"r1"}',
      [IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION]: '{"a":"r1"}',
    });
    expect(pendingTagRequests(s)?.tags).toEqual(["b"]);
    expect(requestTagImports(s, ["a"], "r2")).toBe('{"a":"r2","b":"r1"}');
    annotate(s, { [IMPORT_REQUESTED_TAGS_ANNOTATION]: '{"a":"r2","b":"r1"}' });
    expect(pendingTagRequests(s)?.tags).toEqual(["a", "b"]);
  });

  it("imports a requested tag of spec.dockerImageRepository alone, and * imports the repository", () => {
    const repo = stream([], null, {}, { dockerImageRepository: "quay.io/org/all" });
    repo.metadata.annotations = {
      "openshift.io/image.dockerRepositoryCheck": "2024-05-01T11:00:00Z",
      [IMPORT_REQUESTED_TAGS_ANNOTATION]: '{"v2":"r1"}',
    };
    const plan = planImports(repo, NOW, { ...newImportState(NOW), repositoryGeneration: 1 }, settings());
    expect(plan.repository).toBeUndefined();
    expect(plan.tags).toEqual([
      { tag: "v2", from: "quay.io/org/all:v2", insecure: false, importMode: "Legacy", causes: ["Requested"] },
    ]);
    repo.metadata.annotations[IMPORT_REQUESTED_TAGS_ANNOTATION] = '{"*":"r2"}';
    const all = planImports(repo, NOW, { ...newImportState(NOW), repositoryGeneration: 1 }, settings());
    expect(all.repository?.causes).toEqual(["Requested"]);
    expect(all.tags).toEqual([]);
  });

  it("reads a malformed annotation as no request", () => {
    const s = annotate(two(), { [IMPORT_REQUESTED_TAGS_ANNOTATION]: "not json" });
    expect(pendingTagRequests(s)).toBeUndefined();
    expect(requestTagImports(s, ["a"], "r1")).toBe('{"a":"r1"}');
  });
});

describe("planImports: failures and backoff", () => {
  const failing = () =>
    stream(
      [dockerTag("a", "redis:2")],
      [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)], conditions: [failedCondition(1)] }],
    );

  it("grows the delay exponentially up to the maximum", () => {
    const cfg = { backoffBaseMs: 10_000, backoffMaxMs: 60_000 };
    expect([0, 1, 2, 3, 4, 50].map((n) => retryDelay(n, cfg))).toEqual([
      10_000, 10_000, 20_000, 40_000, 60_000, 60_000,
    ]);
  });

  it("retries once the backoff for the consecutive failures expired", () => {
    const s = failing();
    const state = { since: NOW - 10 * MIN, tags: { a: { lastAttempt: NOW, consecutiveFailures: 3 } } };
    expect(planImports(s, NOW + 39_999, state, settings()).tags).toEqual([]);
    expect(planImports(s, NOW + 39_999, state, settings()).nextCheckAt).toBe(NOW + 40_000);
    expect(planImports(s, NOW + 40_000, state, settings()).tags[0]?.causes).toEqual(["Retry"]);
  });

  it("without memory retries at once, with fresh memory after one base delay", () => {
    const s = failing();
    expect(planImports(s, NOW, undefined, settings()).tags[0]?.causes).toEqual(["Retry"]);
    const fresh = newImportState(NOW);
    expect(planImports(s, NOW, fresh, settings()).tags).toEqual([]);
    expect(planImports(s, NOW + 10_000, fresh, settings()).tags[0]?.causes).toEqual(["Retry"]);
  });
});

describe("scheduled imports", () => {
  const interval = 15 * MIN;

  it("gives each tag a stable phase and keeps slots one interval apart", () => {
    const key = "ns/app/a";
    const phase = stableHash(key) % interval;
    const first = nextScheduledImport(key, 0, undefined, interval);
    expect(first % interval).toBe(phase);
    // Importing a bit late (queueing) does not skip a slot.
    const second = nextScheduledImport(key, first + 30_000, undefined, interval);
    expect(second - first).toBe(interval);
    expect(stableHash(key)).toBe(stableHash("ns/app/a"));
  });

  it("never schedules sooner than 90% of the interval after an import (manual import resets)", () => {
    for (const last of [0, 123_456, 7 * MIN, 14 * MIN + 59_000]) {
      const due = nextScheduledImport("ns/app/x", last, undefined, interval);
      expect(due - last).toBeGreaterThanOrEqual(interval - interval / 10);
      expect(due - last).toBeLessThan(2 * interval);
    }
  });

  it("spreads many tags across the interval", () => {
    const buckets = new Array<number>(15).fill(0);
    for (let i = 0; i < 1500; i++) {
      const due = nextScheduledImport(`ns/stream-${i}/latest`, undefined, 0, interval);
      buckets[Math.floor(due / MIN)]!++;
    }
    // Uniform would be 100 per minute; no minute gets a burst.
    expect(Math.max(...buckets)).toBeLessThan(150);
    expect(Math.min(...buckets)).toBeGreaterThan(50);
  });

  it("plans scheduled tags when their slot came, from memory or the repository check annotation", () => {
    const s = stream(
      [dockerTag("a", "redis:2", { importPolicy: { scheduled: true } }), dockerTag("b", "redis:3")],
      [
        { tag: "a", items: [event(`redis@${D1}`, D1, 1)] },
        { tag: "b", items: [event(`redis@${D1}`, D1, 1)] },
      ],
    );
    const state = { since: 0, tags: { a: { lastAttempt: NOW, consecutiveFailures: 0 } } };
    const due = nextScheduledImport("ns/app/a", NOW, undefined, interval);
    const before = planImports(s, due - 1, state, settings());
    expect(before.tags).toEqual([]);
    expect(before.nextCheckAt).toBe(due);
    expect(planImports(s, due, state, settings()).tags.map((t) => [t.tag, t.causes])).toEqual([
      ["a", ["Scheduled"]],
    ]);

    // After a restart: the annotation and the restart time bound the next slot.
    s.metadata.annotations = { [REPOSITORY_CHECK_ANNOTATION]: new Date(NOW - 3 * interval).toISOString() };
    const restarted = newImportState(NOW);
    const afterRestart = planImports(s, NOW, restarted, settings());
    expect(afterRestart.tags).toEqual([]);
    expect(afterRestart.nextCheckAt).toBeGreaterThanOrEqual(NOW);
    expect(afterRestart.nextCheckAt).toBeLessThan(NOW + interval);
  });
});

describe("planImports: a stream always says when to look at it again", () => {
  const interval = 15 * MIN;
  const scheduled = () =>
    stream(
      [dockerTag("a", "redis:2", { importPolicy: { scheduled: true } })],
      [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)] }],
    );

  it("reports a scheduled tag that became due while a round ran", () => {
    // A requeue timer can fire up to 1 ms before its time as Date.now() reads it (timers run on
    // the monotonic loop clock): the round starts just before the tag's slot and plans again
    // after it. The second plan must still name a time, or the controller never requeues the
    // stream and the tag drops out of the schedule.
    const s = scheduled();
    const state = { since: 0, tags: { a: { lastAttempt: NOW, consecutiveFailures: 0 } } };
    const due = nextScheduledImport("ns/app/a", NOW, undefined, interval);
    const atStart = planImports(s, due - 5, state, settings());
    expect(atStart.tags).toEqual([]);
    expect(atStart.nextCheckAt).toBe(due);
    const atEnd = planImports(s, due + 20, state, settings());
    expect(atEnd.tags.map((t) => t.causes)).toEqual([["Scheduled"]]);
    expect(atEnd.nextCheckAt).toBe(due);
  });

  it("reports a failed tag whose retry came while a round ran", () => {
    const s = stream(
      [dockerTag("a", "redis:2")],
      [{ tag: "a", items: [event(`redis@${D1}`, D1, 1)], conditions: [failedCondition(1)] }],
    );
    const state = { since: 0, tags: { a: { lastAttempt: NOW, consecutiveFailures: 1 } } };
    const plan = planImports(s, NOW + 10_050, state, settings());
    expect(plan.tags.map((t) => t.causes)).toEqual([["Retry"]]);
    expect(plan.nextCheckAt).toBe(NOW + 10_000);
  });

  it("names a time at or before now whenever it plans work, and a time whenever a tag is scheduled", () => {
    // Any moment, any memory (none, fresh, attempted long ago or just now): never "nothing pending".
    const s = scheduled();
    const memories = [
      undefined,
      newImportState(NOW - 3 * interval),
      { since: 0, tags: { a: { lastAttempt: NOW - 5 * interval, consecutiveFailures: 0 } } },
      { since: 0, tags: { a: { lastAttempt: NOW, consecutiveFailures: 0 } } },
    ];
    for (const state of memories) {
      for (let offset = -interval; offset <= 3 * interval; offset += 7_919) {
        const now = NOW + offset;
        const plan = planImports(s, now, state, settings());
        expect(plan.nextCheckAt).toBeDefined();
        if (plan.tags.length > 0) expect(plan.nextCheckAt).toBeLessThanOrEqual(now);
        else expect(plan.nextCheckAt).toBeGreaterThan(now);
      }
    }
  });
});

describe("planImports: spec.dockerImageRepository", () => {
  it("imports the repository when never checked, on request, or after a spec change", () => {
    const s = stream([], null, {}, { dockerImageRepository: "localhost:5000/lib/app" });
    expect(planImports(s, NOW, undefined, settings({ repositoryTagLimit: 5 })).repository).toEqual({
      from: "localhost:5000/lib/app",
      insecure: false,
      limit: 5,
      causes: ["Initial"],
    });
    s.metadata.annotations = { [REPOSITORY_CHECK_ANNOTATION]: "2024-05-01T10:00:00Z" };
    s.status = { tags: [{ tag: "latest", items: [event("x", D1, 1)] }] };
    expect(planImports(s, NOW, undefined, settings()).repository).toBeUndefined();
    s.metadata.generation = 2;
    expect(planImports(s, NOW, undefined, settings()).repository?.causes).toEqual(["SpecChanged"]);
    const state = recordImportAttempts(newImportState(NOW), s, [], NOW, true);
    expect(state.repositoryGeneration).toBe(2);
    expect(planImports(s, NOW, state, settings()).repository).toBeUndefined();
    s.metadata.annotations[IMPORT_REQUESTED_ANNOTATION] = "now";
    expect(planImports(s, NOW, state, settings()).repository?.causes).toEqual(["Requested"]);
  });
});

describe("recordImportAttempts", () => {
  it("counts consecutive failures, resets on success and forgets tags removed from spec", () => {
    const s = stream([dockerTag("a", "x"), dockerTag("b", "y")]);
    let state = recordImportAttempts(undefined, s, [{ tag: "a", ok: false, reason: "r", message: "m" }], NOW);
    state = recordImportAttempts(state, s, [{ tag: "a", ok: false, reason: "r", message: "m" }], NOW + 1);
    expect(state.tags.a).toEqual({ lastAttempt: NOW + 1, consecutiveFailures: 2 });
    expect(state.since).toBe(NOW);
    state = recordImportAttempts(state, s, [{ tag: "a", ok: true, digest: D1 }], NOW + 2);
    expect(state.tags.a).toEqual({ lastAttempt: NOW + 2, consecutiveFailures: 0 });
    const shrunk = stream([dockerTag("b", "y")]);
    expect(recordImportAttempts(state, shrunk, [{ tag: "zzz", ok: true, digest: D1 }], NOW).tags).toEqual({});
  });
});
