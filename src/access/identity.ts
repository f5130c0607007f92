// Who a bearer token belongs to, as the API server says (TokenReview): for requests the operator
// answers on a user's behalf, such as the integrated registry's token requests. What that user
// may do is userAccessReview's (SubjectAccessReview as that user, reviews.ts).

import { AuthenticationV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { RequestingUser } from "./reviews.ts";

/** The user of a token, or null when the API server does not accept it. */
export type TokenAuthenticator = (token: string) => Promise<RequestingUser | null>;

/** TokenReview (needs `create` on tokenreviews); the API server's own audiences. */
export function tokenReviewFromClient(kc: KubeConfig): TokenAuthenticator {
  const api = kc.makeApiClient(AuthenticationV1Api);
  return async (token) => {
    const review = await api.createTokenReview({ body: { spec: { token } } });
    const user = review.status?.user;
    if (review.status?.authenticated !== true || !user?.username) return null;
    return {
      username: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups ?? [],
      extra: user.extra ?? {},
    };
  };
}
