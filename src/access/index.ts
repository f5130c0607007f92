export {
  type TokenAuthenticator,
  tokenReviewFromClient,
  type UserAuthorizer,
  userAuthorizerFromClient,
} from "./identity.ts";
export {
  type AccessReview,
  AuthorizationCache,
  DEFAULT_AUTHORIZATION_TTL_MS,
  type RequestingUser,
  type ResourceAccess,
  serviceAccountsAccessReview,
  subjectAccessReviewFromClient,
  userAccessReview,
} from "./reviews.ts";
