// What a workload's triggers write: the image changes and the JSON Patch that applies them.

import { type WorkloadKind, workloadKindInfo } from "./kinds.ts";
import { listIndexes, parseWorkloadTriggers } from "./parse.ts";
import { type ResolvedContainer, resolveContainer } from "./resolve.ts";
import type {
  ImageChange,
  JsonPatchOperation,
  Problem,
  TagLookup,
  Trigger,
  WorkloadObject,
} from "./types.ts";

export interface TriggerPlan {
  /** Containers whose image must change, in annotation order. Empty when nothing differs. */
  readonly changes: ImageChange[];
  readonly problems: Problem[];
}

export function describeSource(trigger: Trigger): string {
  return `ImageStreamTag ${trigger.from.namespace}/${trigger.from.stream}:${trigger.from.tag}`;
}

/**
 * Decides which container images the triggers change. Paused triggers are skipped (and not
 * resolved, so pausing silences a trigger whose container was renamed). A missing stream or
 * tag is no change and no problem: the workload is reconsidered when the tag appears.
 * Containers are resolved even when the tag is missing, so a wrong selector is reported
 * at once rather than on the first image.
 */
export function planTriggerUpdates(
  workload: WorkloadObject,
  triggers: readonly Trigger[],
  lookupTag: TagLookup,
): TriggerPlan {
  const problems: Problem[] = [];
  const resolved: { trigger: Trigger; container: ResolvedContainer }[] = [];
  for (const trigger of triggers) {
    if (trigger.paused) continue;
    const result = resolveContainer(workload, trigger.target);
    if (result.ok) {
      resolved.push({ trigger, container: result.container });
    } else {
      problems.push({
        reason: "TriggerContainerNotFound",
        message: `triggers[${trigger.index}] (fieldPath ${JSON.stringify(trigger.fieldPath)}): ${result.message}`,
        triggerIndex: trigger.index,
      });
    }
  }

  // An index selector and a name selector can land on the same container: ambiguous, skip both.
  const byContainer = new Map<string, Trigger[]>();
  for (const { trigger, container } of resolved) {
    byContainer.set(container.containerPath, [...(byContainer.get(container.containerPath) ?? []), trigger]);
  }

  const changes: ImageChange[] = [];
  for (const { trigger, container } of resolved) {
    const sharing = byContainer.get(container.containerPath) ?? [];
    if (sharing.length > 1) {
      if (sharing[0] === trigger) {
        problems.push({
          reason: "ConflictingTriggers",
          message: `${listIndexes(sharing)} all select container "${container.name}" (${container.containerList}[${container.index}]); all of them are ignored`,
          triggerIndex: trigger.index,
        });
      }
      continue;
    }
    const tagImage = lookupTag(trigger.from.namespace, trigger.from.stream, trigger.from.tag);
    const newImage = tagImage?.dockerImageReference;
    if (newImage === undefined || newImage === "" || newImage === container.image) continue;
    changes.push({
      containerPath: container.containerPath,
      containerList: container.containerList,
      index: container.index,
      name: container.name,
      oldImage: container.image,
      newImage,
      trigger,
    });
  }

  const immutable = changes.filter(
    (change) => workloadKindInfo(change.trigger.target.kind).podTemplateImmutable,
  );
  for (const change of immutable) {
    const kind = change.trigger.target.kind;
    problems.push({
      reason: "PodTemplateImmutable",
      message: `triggers[${change.trigger.index}]: ${describeSource(change.trigger)} has image ${change.newImage} for container "${change.name}", but a ${kind}'s pod template cannot be changed after creation; recreate the ${kind} to use it`,
      triggerIndex: change.trigger.index,
    });
  }
  problems.sort((a, b) => (a.triggerIndex ?? -1) - (b.triggerIndex ?? -1));
  return { changes: changes.filter((change) => !immutable.includes(change)), problems };
}

/**
 * JSON Patch (RFC 6902, content type application/json-patch+json) that sets only the changed
 * images. Each change is guarded by a `test` of the container's name at that index, so a
 * patch computed from a stale cache fails (422) instead of hitting another container when
 * the list was reordered. The old image is deliberately not tested: the new value does not
 * depend on it, and testing it would only turn concurrent edits into useless conflicts.
 */
export function buildPatch(changes: readonly ImageChange[]): JsonPatchOperation[] {
  return changes.flatMap((change): JsonPatchOperation[] => [
    { op: "test", path: `${change.containerPath}/name`, value: change.name },
    // "replace" fails on a missing member; "add" sets it (and would replace an existing one).
    {
      op: change.oldImage === undefined ? "add" : "replace",
      path: `${change.containerPath}/image`,
      value: change.newImage,
    },
  ]);
}

export interface WorkloadEvaluation {
  readonly triggers: Trigger[];
  readonly changes: ImageChange[];
  /** Empty when nothing must be written. */
  readonly patch: JsonPatchOperation[];
  /** Annotation problems first, then resolution problems. */
  readonly problems: Problem[];
}

/** Parse, plan and patch in one call: everything the controller decides for one workload. */
export function evaluateWorkload(
  workload: WorkloadObject,
  kind: WorkloadKind,
  lookupTag: TagLookup,
): WorkloadEvaluation {
  const parsed = parseWorkloadTriggers(workload, kind);
  const plan = planTriggerUpdates(workload, parsed.triggers, lookupTag);
  return {
    triggers: parsed.triggers,
    changes: plan.changes,
    patch: buildPatch(plan.changes),
    problems: [...parsed.problems, ...plan.problems],
  };
}
