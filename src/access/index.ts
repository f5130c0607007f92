export {
  type AccessReview,
  AuthorizationCache,
  DEFAULT_AUTHORIZATION_TTL_MS,
  serviceAccountsAccessReview,
  subjectAccessReviewFromClient,
} from "./reviews.ts";
