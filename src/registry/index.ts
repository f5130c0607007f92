// Public surface of the registry client (design.md section 3, "Import").

export {
  basicAuthorization,
  decideRealm,
  parseTokenResponse,
  type RealmDecision,
  type RealmDecisionInput,
  sameOrigin,
  tokenUsableUntil,
} from "./auth.ts";
export { type Challenge, parseNextLink, parseWwwAuthenticate } from "./challenge.ts";
export {
  type CallOptions,
  createRegistryClient,
  type ImageResult,
  type InspectOptions,
  type InspectResult,
  type ListResult,
  type ListTagsOptions,
  type ManifestDetails,
  type RegistryClient,
  type RegistryClientOptions,
  type RequestEvent,
  type RequestKind,
  toImage,
  type UnchangedResult,
} from "./client.ts";
export {
  type CredentialLookup,
  type Credentials,
  credentialIdentity,
  credentialLookup,
  DOCKER_CONFIG_SECRET_KEYS,
  type DockerConfigEntry,
  type DockerConfigFormat,
  parseDockerConfig,
  parseRegistryKey,
} from "./credentials.ts";
export {
  errorForStatus,
  errorForTransport,
  isRegistryError,
  parseRetryAfter,
  RegistryError,
  type RegistryErrorReason,
} from "./errors.ts";
export { MANIFEST_ACCEPT, MediaTypes } from "./manifest.ts";
export {
  apiHost,
  DOCKER_HUB,
  formatReference,
  type ImageReference,
  mostSpecificPullSpec,
  normalizeRegistryHost,
  parseReference,
  validateDigest,
} from "./reference.ts";
export type { HttpMethod, HttpRequest, HttpResponse, Transport } from "./transport.ts";
