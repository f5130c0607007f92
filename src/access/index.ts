export { type TokenAuthenticator, tokenReviewFromClient } from "./identity.ts";
export {
  type AccessReview,
  AuthorizationCache,
  DEFAULT_AUTHORIZATION_TTL_MS,
  type RequestingUser,
  type ResourceAccess,
  serviceAccountsAccessReview,
  subjectAccessReviewFromClient,
  type UserAccessReview,
  userAccessReview,
  userAccessReviewFromClient,
} from "./reviews.ts";
