// Cross-namespace access to ImageStreams: may the service accounts of one namespace read
// ImageStreams in another? Both the import controller (tags following another namespace's
// stream) and the trigger controller (workloads following one) ask it, with a
// SubjectAccessReview as OpenShift does, and remember the answer briefly.

import { type KubeConnection, kubeRequest } from "../runtime/index.ts";

/** An authorization.k8s.io/v1 SubjectAccessReview, the fields the operator sends and reads. */
export interface SubjectAccessReview {
  apiVersion: "authorization.k8s.io/v1";
  kind: "SubjectAccessReview";
  spec: {
    user: string;
    uid?: string;
    groups: string[];
    extra?: Record<string, string[]>;
    resourceAttributes: {
      namespace?: string;
      verb: string;
      group: string;
      resource: string;
      subresource?: string;
      name?: string;
    };
  };
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

/** Whether the API server allows the review's request (needs `create` on subjectaccessreviews). */
async function allowedBy(kc: KubeConnection, review: SubjectAccessReview): Promise<boolean> {
  const answer = (await kubeRequest(kc, {
    method: "POST",
    path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
    body: review,
  })) as Partial<SubjectAccessReview> | undefined;
  return answer?.status?.allowed === true;
}

/** Resolves true when `workloadNamespace`'s service accounts may get (or the review's verb) imagestreams in `sourceNamespace`. */
export type AccessReview = (workloadNamespace: string, sourceNamespace: string) => Promise<boolean>;

/** How long a decision is reused before it is asked again (RBAC changes show up within this time). */
export const DEFAULT_AUTHORIZATION_TTL_MS = 60_000;

/**
 * The SubjectAccessReview for "the service accounts of `workloadNamespace` get (or `verb`)
 * imagestreams in `sourceNamespace`". The subject is the namespace's default service account
 * with the groups every service account of the namespace has, so a RoleBinding to
 * `system:serviceaccounts:<ns>` (or `system:serviceaccounts`) grants it.
 */
export function serviceAccountsAccessReview(
  workloadNamespace: string,
  sourceNamespace: string,
  verb = "get",
): SubjectAccessReview {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: `system:serviceaccount:${workloadNamespace}:default`,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${workloadNamespace}`],
      resourceAttributes: {
        namespace: sourceNamespace,
        verb,
        group: "image.openshift.io",
        resource: "imagestreams",
      },
    },
  };
}

/** A user as kube-apiserver authenticated them (an AdmissionReview's `userInfo`). */
export interface RequestingUser {
  username: string;
  uid?: string;
  groups: readonly string[];
  extra: Readonly<Record<string, readonly string[]>>;
}

export interface ResourceAccess {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Absent: cluster-wide. */
  namespace?: string;
  name?: string;
}

/**
 * The SubjectAccessReview for "may `user` do `access`": what the operator does on a user's
 * behalf (oc import-image creating or updating a stream) is authorized as that user, never with
 * the operator's own rights.
 */
export function userAccessReview(user: RequestingUser, access: ResourceAccess): SubjectAccessReview {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: [...user.groups],
      ...(Object.keys(user.extra).length > 0
        ? { extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])) }
        : {}),
      resourceAttributes: {
        ...(access.namespace ? { namespace: access.namespace } : {}),
        verb: access.verb,
        group: access.group,
        resource: access.resource,
        ...(access.subresource ? { subresource: access.subresource } : {}),
        ...(access.name ? { name: access.name } : {}),
      },
    },
  };
}

/**
 * An AccessReview that asks the API server (needs `create` on subjectaccessreviews); `verb` on
 * imagestreams, `get` by default (`update` for receivers acting in other namespaces).
 */
export function subjectAccessReviewFromClient(kc: KubeConnection, verb = "get"): AccessReview {
  return (workloadNamespace, sourceNamespace) =>
    allowedBy(kc, serviceAccountsAccessReview(workloadNamespace, sourceNamespace, verb));
}

/** Resolves true when `user` may do `access` (what the operator does on their behalf). */
export type UserAccessReview = (user: RequestingUser, access: ResourceAccess) => Promise<boolean>;

/** A UserAccessReview that asks the API server (needs `create` on subjectaccessreviews). */
export function userAccessReviewFromClient(kc: KubeConnection): UserAccessReview {
  return (user, access) => allowedBy(kc, userAccessReview(user, access));
}

interface Decision {
  allowed: boolean;
  expiresAt: number;
}

/**
 * Caches AccessReview decisions per (workload namespace, source namespace) for `ttlMs`, and
 * shares one request between concurrent callers. Failures are not cached.
 */
export class AuthorizationCache {
  readonly #review: AccessReview;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #decisions = new Map<string, Decision>();
  readonly #inFlight = new Map<string, Promise<boolean>>();

  constructor(review: AccessReview, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#review = review;
    this.#ttlMs = options.ttlMs ?? DEFAULT_AUTHORIZATION_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** Same namespace is always allowed, without a review. */
  async allowed(workloadNamespace: string, sourceNamespace: string): Promise<boolean> {
    if (workloadNamespace === sourceNamespace) return true;
    // Namespace names cannot contain spaces, so the pair key is unambiguous.
    const key = `${workloadNamespace} ${sourceNamespace}`;
    const now = this.#now();
    const cached = this.#decisions.get(key);
    if (cached !== undefined && cached.expiresAt > now) return cached.allowed;
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const request = this.#review(workloadNamespace, sourceNamespace)
      .then((allowed) => {
        this.#sweep(now);
        this.#decisions.set(key, { allowed, expiresAt: this.#now() + this.#ttlMs });
        return allowed;
      })
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, request);
    return request;
  }

  #sweep(now: number): void {
    for (const [key, decision] of this.#decisions) if (decision.expiresAt <= now) this.#decisions.delete(key);
  }
}
