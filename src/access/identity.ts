// Who a bearer token belongs to, as the API server says (TokenReview), and what that user may
// do (SubjectAccessReview as that user): for requests the operator answers on a user's behalf,
// such as the integrated registry's token requests. The operator's own rights never enter.

import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { type RequestingUser, type ResourceAccess, userAccessReview } from "./reviews.ts";

/** The user of a token, or null when the API server does not accept it. */
export type TokenAuthenticator = (token: string) => Promise<RequestingUser | null>;

/** Whether `user` may do `access`. */
export type UserAuthorizer = (user: RequestingUser, access: ResourceAccess) => Promise<boolean>;

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

/** SubjectAccessReview as the user (needs `create` on subjectaccessreviews). */
export function userAuthorizerFromClient(kc: KubeConfig): UserAuthorizer {
  const api = kc.makeApiClient(AuthorizationV1Api);
  return async (user, access) => {
    const review = await api.createSubjectAccessReview({ body: userAccessReview(user, access) });
    return review.status?.allowed === true;
  };
}
