// Public surface of the registry token server core (distribution `auth.token`): scope
// parsing, the Kubernetes authorization each action needs, claims, signing and the
// request decision. The HTTP endpoint, TokenReview and SubjectAccessReview are the shell's.

export {
  type AccessCheck,
  type ActionRequirement,
  anonymousGrant,
  describeCheck,
  type GrantedAccess,
  IMAGE_API_GROUP,
  requiredChecks,
} from "./access.ts";
export { TOKEN_PATH, type TokenEndpointOptions, tokenRoute } from "./endpoint.ts";
export { formatScope, type ParsedScopes, parseScopes, type ResourceScope } from "./scope.ts";
export { OPERATOR_SUBJECT, selfTokenIssuer } from "./self-issued.ts";
export { createTokenSigner, libtrustKeyId, type TokenClaims, type TokenSigner } from "./signer.ts";
export {
  CA_COMMON_NAME,
  DEFAULT_SIGNING_POLICY,
  LEAF_COMMON_NAME,
  nextSigningMaterial,
  probeLeaf,
  readSigningMaterial,
  SIGNING_SECRET_KEYS,
  type SigningChange,
  type SigningMaterial,
  type SigningPolicy,
  signingMaterialData,
  TRUST_BUNDLE_KEY,
  trustBundle,
} from "./signing-keys.ts";
export { type SigningKeysOptions, TokenSigningKeys } from "./signing-store.ts";
export {
  type BasicCredentials,
  composeClaims,
  handleTokenRequest,
  type Identity,
  parseBasicAuthorization,
  type TokenOutcome,
  type TokenRequest,
  type TokenResponse,
  type TokenServerDeps,
  type TokenServerSettings,
  tokenResponseBody,
} from "./token.ts";
export { registryTrustsCa } from "./trust-probe.ts";
