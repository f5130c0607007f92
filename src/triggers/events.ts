// Event texts for the trigger controller, which Events a tag change's firings become, and
// fingerprints that let it report each distinct problem once instead of on every resync.

import { createHash } from "node:crypto";
import { type EventObjectRef, type EventType, MAX_EVENT_NOTE_BYTES, truncateUtf8 } from "../runtime/index.ts";
import { describeSource } from "./plan.ts";
import type { ImageChange, Problem, Trigger } from "./types.ts";

/** An Event's text for a workload: the recorder adds the action; logs use the message too. */
export interface TriggerEvent {
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

export const FIRED_REASON = "ImageTriggerFired";

function containerNoun(change: ImageChange): string {
  return change.containerList === "initContainers" ? "init container" : "container";
}

export function firedMessage(change: ImageChange): string {
  const by = `by trigger ${describeSource(change.trigger)}`;
  const what = `Image for ${containerNoun(change)} "${change.name}"`;
  return change.oldImage === undefined
    ? `${what} set to ${change.newImage} ${by}`
    : `${what} changed from ${change.oldImage} to ${change.newImage} ${by}`;
}

/** The Normal Event for a trigger that fired. */
export function firedEvent(change: ImageChange): TriggerEvent {
  return {
    type: "Normal",
    reason: FIRED_REASON,
    message: truncateUtf8(firedMessage(change), MAX_EVENT_NOTE_BYTES),
  };
}

/** A trigger that fired: one container of one workload got the tag's new image. */
export interface Firing {
  readonly workload: EventObjectRef & { readonly namespace: string; readonly kind: string };
  readonly change: ImageChange;
}

/** An Event to record, and the object it is about. */
export interface PlannedEvent {
  readonly regarding: EventObjectRef;
  readonly event: TriggerEvent;
}

/**
 * Up to this many workloads of one namespace updated by one tag change get an Event each; more
 * share one Event on the ImageStream (client-go's event correlator also combines similar
 * Events of one object after 10).
 */
export const FIRED_EVENTS_PER_WORKLOAD_MAX = 10;

/** Firings reported together: one namespace's workloads given one new image by one tag. */
export function firingBatchKey(firing: Firing): string {
  const { from } = firing.change.trigger;
  return JSON.stringify([
    firing.workload.namespace,
    from.namespace,
    from.stream,
    from.tag,
    firing.change.newImage,
  ]);
}

/**
 * The Events for one batch of firings (same firingBatchKey). A few workloads, or a stream in
 * another namespace (an Event can only be about an object of its own namespace), get the
 * per-container Event each; a fan-out to more workloads gets one Event on the ImageStream
 * that counts and names them, instead of as many Events as workloads.
 */
export function planFiredEvents(firings: readonly Firing[], stream: EventObjectRef): PlannedEvent[] {
  const first = firings[0];
  if (first === undefined) return [];
  const workloads = [...new Set(firings.map((f) => `${f.workload.kind} ${f.workload.name}`))];
  if (workloads.length <= FIRED_EVENTS_PER_WORKLOAD_MAX || stream.namespace !== first.workload.namespace) {
    return firings.map((f) => ({ regarding: f.workload, event: firedEvent(f.change) }));
  }
  const head = `Image of ${workloads.length} workloads set to ${first.change.newImage} by trigger ${describeSource(first.change.trigger)}: `;
  // Name as many workloads as fit in the Event's note, then say how many more there are.
  const budget = MAX_EVENT_NOTE_BYTES - 40;
  let note = head;
  let named = 0;
  for (const workload of workloads) {
    const next = `${named === 0 ? "" : ", "}${workload}`;
    if (new TextEncoder().encode(note + next).length > budget) break;
    note += next;
    named++;
  }
  if (named < workloads.length) note += ` and ${workloads.length - named} more`;
  return [
    {
      regarding: stream,
      event: { type: "Normal", reason: FIRED_REASON, message: truncateUtf8(note, MAX_EVENT_NOTE_BYTES) },
    },
  ];
}

/** The Warning Event for a problem; the problem's reason is the Event reason. */
export function problemEvent(problem: Problem): TriggerEvent {
  return {
    type: "Warning",
    reason: problem.reason,
    message: truncateUtf8(problem.message, MAX_EVENT_NOTE_BYTES),
  };
}

/**
 * A cross-namespace trigger the workload's namespace may not read from. Authorization is
 * checked by the controller (SubjectAccessReview); only the wording lives here.
 */
export function notAuthorizedProblem(trigger: Trigger, workloadNamespace: string): Problem {
  const source = trigger.from.namespace;
  return {
    reason: "TriggerNotAuthorized",
    message: `triggers[${trigger.index}]: ${describeSource(trigger)} is in namespace "${source}", and the service accounts of namespace "${workloadNamespace}" may not get imagestreams there; grant them "get" on imagestreams in "${source}" to allow this trigger`,
    triggerIndex: trigger.index,
  };
}

/** Stable identity of a problem: same reason and message, same fingerprint. */
export function problemFingerprint(problem: Problem): string {
  return createHash("sha256").update(`${problem.reason}\n${problem.message}`).digest("hex").slice(0, 16);
}

/** One fingerprint for a set of problems, independent of their order; "" for none. */
export function problemSetFingerprint(problems: readonly Problem[]): string {
  if (problems.length === 0) return "";
  const parts = [...new Set(problems.map(problemFingerprint))].sort();
  return createHash("sha256").update(parts.join(",")).digest("hex").slice(0, 16);
}

export interface ProblemReport {
  /** Problems not reported before: emit a Warning for each. */
  readonly toReport: Problem[];
  /** Remember these for the object; problems that went away drop out, so a recurrence is reported again. */
  readonly fingerprints: string[];
}

/** Splits current problems into new ones and the fingerprints to remember for next time. */
export function problemsToReport(problems: readonly Problem[], reported: ReadonlySet<string>): ProblemReport {
  const seen = new Set<string>();
  const toReport: Problem[] = [];
  for (const problem of problems) {
    const fingerprint = problemFingerprint(problem);
    if (seen.has(fingerprint)) continue;
    seen.add(fingerprint);
    if (!reported.has(fingerprint)) toReport.push(problem);
  }
  return { toReport, fingerprints: [...seen].sort() };
}
