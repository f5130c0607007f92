// Which Kubernetes authorization each requested registry action needs, as OpenShift's
// integrated registry asks it (SubjectAccessReview resource attributes):
//   repository <namespace>/<stream> pull   -> get    imagestreams/layers  in <namespace>
//   repository <namespace>/<stream> push   -> update imagestreams/layers  in <namespace>,
//                                             and create imagestreams when the stream is new
//   repository <namespace>/<stream> delete -> delete imagestreams/layers  in <namespace>
//   registry catalog *                     -> list   imagestreams         cluster-wide
// Anything else (repositories that are not <namespace>/<stream>, other actions or
// resource types) needs something nobody has: it is never granted.

import type { ResourceAccess } from "../access/index.ts";
import { parseStreamRepository } from "../api/index.ts";
import type { ResourceScope } from "./scope.ts";

export const IMAGE_API_GROUP = "image.openshift.io";

/** The resource attributes of one SubjectAccessReview (as the user: src/access). */
export type AccessCheck = ResourceAccess;

export interface ActionRequirement {
  /** The registry action (`pull`, `push`, `delete`, `*`). */
  action: string;
  /** Every check must allow; null: never granted, with `reason` saying why. */
  checks: AccessCheck[] | null;
  reason?: string;
}

/** One entry of the token's `access` claim (distribution's ResourceActions). */
export interface GrantedAccess {
  type: string;
  name: string;
  actions: string[];
}

function layers(verb: string, namespace: string, name: string): AccessCheck {
  return { verb, group: IMAGE_API_GROUP, resource: "imagestreams", subresource: "layers", namespace, name };
}

/**
 * The checks for each action of `scope`. `streamExists` tells whether the repository's
 * stream exists now (a push to a new stream also needs `create imagestreams`).
 */
export function requiredChecks(scope: ResourceScope, streamExists: boolean): ActionRequirement[] {
  if (scope.type === "registry") {
    return scope.actions.map((action) =>
      scope.name === "catalog" && action === "*"
        ? { action, checks: [{ verb: "list", group: IMAGE_API_GROUP, resource: "imagestreams" }] }
        : { action, checks: null, reason: `registry:${scope.name}:${action} is not a known registry scope` },
    );
  }
  if (scope.type !== "repository") {
    return scope.actions.map((action) => ({
      action,
      checks: null,
      reason: `resource type "${scope.type}" is not served`,
    }));
  }
  const stream = parseStreamRepository(scope.name);
  if (!stream) {
    return scope.actions.map((action) => ({
      action,
      checks: null,
      reason: `repository "${scope.name}" is not of the form <namespace>/<stream>`,
    }));
  }
  const { namespace, stream: name } = stream;
  return scope.actions.map((action): ActionRequirement => {
    switch (action) {
      case "pull":
        return { action, checks: [layers("get", namespace, name)] };
      case "push": {
        const checks = [layers("update", namespace, name)];
        if (!streamExists)
          checks.push({ verb: "create", group: IMAGE_API_GROUP, resource: "imagestreams", namespace, name });
        return { action, checks };
      }
      case "delete":
        return { action, checks: [layers("delete", namespace, name)] };
      default:
        return { action, checks: null, reason: `action "${action}" is not served on repositories` };
    }
  });
}

/** The actions anonymous clients get when anonymous pull is on: pull of stream repositories only. */
export function anonymousGrant(scope: ResourceScope): string[] {
  if (scope.type !== "repository" || !parseStreamRepository(scope.name)) return [];
  return scope.actions.includes("pull") ? ["pull"] : [];
}

/** `a/b` as `<verb> <resource>/<sub> in <ns>`, for log lines and messages. */
export function describeCheck(check: AccessCheck): string {
  const resource = check.subresource ? `${check.resource}/${check.subresource}` : check.resource;
  const target = check.name ? `${resource} "${check.name}"` : resource;
  return `${check.verb} ${target}${check.namespace ? ` in namespace ${check.namespace}` : " cluster-wide"}`;
}
