import type { WorkloadKind } from "./kinds.ts";

export const TRIGGER_ANNOTATION = "image.openshift.io/triggers";

export type ContainerList = "containers" | "initContainers";

export type ContainerSelector =
  | { readonly type: "index"; readonly index: number }
  | { readonly type: "name"; readonly name: string };

/** A parsed, valid `fieldPath`: one container's `image` under the pod spec of `kind`. */
export interface FieldPathTarget {
  readonly kind: WorkloadKind;
  /** Object keys leading to the pod spec, e.g. ["spec", "template", "spec"]. */
  readonly podSpecPath: readonly string[];
  readonly containerList: ContainerList;
  readonly selector: ContainerSelector;
}

export interface TriggerSource {
  readonly kind: "ImageStreamTag";
  /** Defaulted to the workload's namespace when the annotation omits it. */
  readonly namespace: string;
  readonly stream: string;
  readonly tag: string;
}

export interface Trigger {
  /** Position in the annotation's array, for messages. */
  readonly index: number;
  readonly from: TriggerSource;
  /** As written in the annotation. */
  readonly fieldPath: string;
  readonly target: FieldPathTarget;
  readonly paused: boolean;
}

/**
 * Reasons double as Kubernetes Event reasons (CamelCase, stable): a problem is reported as a
 * Warning Event on the workload with this reason.
 */
export type ProblemReason =
  | "InvalidTriggerAnnotation"
  | "InvalidTrigger"
  | "DuplicateTriggerFieldPath"
  | "TriggerContainerNotFound"
  | "ConflictingTriggers"
  | "PodTemplateImmutable"
  | "TriggerNotAuthorized";

export interface Problem {
  readonly reason: ProblemReason;
  readonly message: string;
  /** Index of the offending entry in the annotation, when the problem is about one entry. */
  readonly triggerIndex?: number;
}

/** The newest image of an ImageStreamTag, as the trigger writes it. */
export interface TagImage {
  readonly dockerImageReference: string;
}

/** Returns the tag's newest image, or undefined when the stream or tag does not (yet) exist. */
export type TagLookup = (namespace: string, stream: string, tag: string) => TagImage | undefined;

/** The minimal shape of a workload object the pure core reads; everything else is unknown. */
export interface WorkloadObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly annotations?: Readonly<Record<string, string>> | null;
  };
  readonly spec?: unknown;
}

/** One container whose image a trigger changes. */
export interface ImageChange {
  /** JSON pointer to the container, e.g. "/spec/template/spec/containers/0". */
  readonly containerPath: string;
  readonly containerList: ContainerList;
  readonly index: number;
  readonly name: string;
  /** Undefined when the container has no image field yet. */
  readonly oldImage: string | undefined;
  readonly newImage: string;
  readonly trigger: Trigger;
}

export type JsonPatchOperation =
  | { readonly op: "test"; readonly path: string; readonly value: string }
  | { readonly op: "replace" | "add"; readonly path: string; readonly value: string };

export const JSON_PATCH_CONTENT_TYPE = "application/json-patch+json";
