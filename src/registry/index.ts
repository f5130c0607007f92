// Public surface of the registry client (design.md section 3, "Import"; layers in
// docs/development.md): the client, its keychains, its host policy and registry facts.

export {
  basicAuthorization,
  decideRealm,
  parseTokenResponse,
  type RealmDecision,
  type RealmDecisionInput,
  type TokenResponse,
  tokenUsableUntil,
} from "./auth.ts";
export { type Challenge, parseNextLink, parseWwwAuthenticate } from "./challenge.ts";
export {
  type CallOptions,
  createRegistryClient,
  type ImageFacts,
  type ImageResult,
  type InspectOptions,
  type InspectResult,
  type ListFacts,
  type ListResult,
  type ListTagsOptions,
  type ManifestFacts,
  type RegistryClient,
  type RegistryClientOptions,
  type RegistryEndpoint,
  type UnchangedResult,
} from "./client.ts";
export {
  errorForStatus,
  errorForTransport,
  isRegistryError,
  parseRetryAfter,
  RegistryError,
  type RegistryErrorReason,
} from "./errors.ts";
export { type RequestEvent, type RequestKind, sameOrigin } from "./exchange.ts";
export {
  createHostPolicy,
  DEFAULT_BLOCKED_HOSTS,
  type HostPattern,
  HostPatternError,
  type HostPolicy,
  type HostPolicySettings,
  hostMatches,
  parseHostPattern,
} from "./host-policy.ts";
export {
  type CachedKeychainOptions,
  type Credential,
  type Credentials,
  cachedKeychain,
  chainKeychains,
  credentialIdentity,
  type Keychain,
  type KeychainTarget,
  staticKeychain,
} from "./keychain.ts";
export {
  type ImageConfig,
  type Layer,
  MANIFEST_ACCEPT,
  MediaTypes,
  type PlatformManifest,
} from "./manifest.ts";
export {
  DOCKER_CONFIG_SECRET_KEYS,
  type DockerConfigEntry,
  type DockerConfigFormat,
  dockerConfigKeychain,
  parseDockerConfig,
  parseRegistryKey,
  pullSecretKeychain,
  type SecretLike,
} from "./pull-secrets.ts";
export {
  apiHost,
  DOCKER_HUB,
  formatReference,
  type ImageReference,
  normalizeRegistryHost,
  parseReference,
  validateDigest,
} from "./reference.ts";
export type { TokenIssuer, TokenIssuerTarget } from "./token-issuer.ts";
export type { HttpMethod, HttpRequest, HttpResponse, Resolver, Transport } from "./transport.ts";
export { Agent, type Dispatcher, type ResponseData, requestUrl } from "./undici.ts";
