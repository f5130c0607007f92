// Who a bearer token belongs to, as the API server says (TokenReview): for requests the operator
// answers on a user's behalf, such as the integrated registry's token requests. What that user
// may do is userAccessReview's (SubjectAccessReview as that user, reviews.ts).

import { type KubeConnection, kubeRequest } from "../runtime/index.ts";
import type { RequestingUser } from "./reviews.ts";

/** An authentication.k8s.io/v1 TokenReview's answer, the fields read here. */
interface TokenReviewAnswer {
  status?: {
    authenticated?: boolean;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  };
}

/** The user of a token, or null when the API server does not accept it. */
export type TokenAuthenticator = (token: string) => Promise<RequestingUser | null>;

/** TokenReview (needs `create` on tokenreviews); the API server's own audiences. */
export function tokenReviewFromClient(kc: KubeConnection): TokenAuthenticator {
  return async (token) => {
    const review = (await kubeRequest(kc, {
      method: "POST",
      path: "/apis/authentication.k8s.io/v1/tokenreviews",
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
    })) as TokenReviewAnswer | undefined;
    const user = review?.status?.user;
    if (review?.status?.authenticated !== true || !user?.username) return null;
    return {
      username: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups ?? [],
      extra: user.extra ?? {},
    };
  };
}
