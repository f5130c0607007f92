// The API resources of this project, declared once: informers, the object API and RBAC
// generation all name a resource this way.
import { API_GROUP, API_VERSION_NAME, OPERATOR_API_GROUP, OPERATOR_API_VERSION_NAME } from "./schema.ts";

/** A Kubernetes resource as the API server's paths name it. */
export interface ResourceType {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** The kind of its objects, e.g. "ImageStream" (Events and error messages use it). */
  readonly kind?: string;
  /** False for cluster-scoped resources (default true). */
  readonly namespaced?: boolean;
  /**
   * Paths of values that are often equal between objects and never edited in place (`image`,
   * `metadata.ownerReferences`, `spec.tags[]` for each element of a list): informers keep one
   * frozen copy per distinct value (src/runtime/compact.ts).
   */
  readonly sharedFields?: readonly string[];
}

/** `group/version`, or `version` for the core group (an object's apiVersion). */
export function apiVersionOf(type: Pick<ResourceType, "group" | "version">): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}

export const IMAGESTREAMS: ResourceType = Object.freeze({
  group: API_GROUP,
  version: API_VERSION_NAME,
  plural: "imagestreams",
  kind: "ImageStream",
  // Streams made from one template (the same streams in every team's namespace) name the same
  // tags: about 370 of a stream's 1,460 cached bytes at 10,000 streams (docs/memory.md).
  sharedFields: Object.freeze(["spec.tags[]"]),
});

export const IMAGESTREAMTAGS: ResourceType = Object.freeze({
  group: API_GROUP,
  version: API_VERSION_NAME,
  plural: "imagestreamtags",
  kind: "ImageStreamTag",
  // Every ImageStreamTag of an image carries the same image metadata and layers; those of a
  // stream the same owner reference, and all the operator's finalizer.
  sharedFields: Object.freeze([
    "tag",
    "image",
    "lookupPolicy",
    "metadata.ownerReferences",
    "metadata.finalizers",
  ]),
});

export const IMAGESTREAMIMPORTS: ResourceType = Object.freeze({
  group: API_GROUP,
  version: API_VERSION_NAME,
  plural: "imagestreamimports",
  kind: "ImageStreamImport",
});

// Kubernetes resources the operator reads or writes besides workloads (src/api/workloads.ts).

export const SECRETS: ResourceType = Object.freeze({
  group: "",
  version: "v1",
  plural: "secrets",
  kind: "Secret",
});

export const MUTATING_WEBHOOK_CONFIGURATIONS: ResourceType = Object.freeze({
  group: "admissionregistration.k8s.io",
  version: "v1",
  plural: "mutatingwebhookconfigurations",
  kind: "MutatingWebhookConfiguration",
  namespaced: false,
});

export const CONFIGMAPS: ResourceType = Object.freeze({
  group: "",
  version: "v1",
  plural: "configmaps",
  kind: "ConfigMap",
});

export const RECEIVERS: ResourceType = Object.freeze({
  group: OPERATOR_API_GROUP,
  version: OPERATOR_API_VERSION_NAME,
  plural: "receivers",
  kind: "Receiver",
});
