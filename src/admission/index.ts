// Public surface of the admission domain: pure cores of the operator's admission webhooks
// (AdmissionReview I/O, image lookup, oc tag's ImageStreamTag answer, oc import-image's
// ImageStreamImport). The webhook server and its registration are shells around these.

export {
  checkImageStreamImport,
  type ImportRequestCheck,
  type ImportRequestPlan,
  type ImportResults,
  importAnswer,
  importAnswerDecision,
  importedStatus,
  importedStream,
  type RepositoryOutcome,
  type StreamWrite,
  targetTag,
  validateImageStreamImport,
} from "./imagestreamimport.ts";
export { imageStreamTagCreateDecision, imageStreamTagDecision } from "./imagestreamtags.ts";
export {
  formatLookupName,
  type ImageLookupInput,
  type ImageLookupResult,
  type LookupName,
  type LookupResolution,
  type LookupSettings,
  lookupDecision,
  parseLookupName,
  RESOLVE_NAMES_ANNOTATION,
  type ResolvedImage,
  resolveImageLookups,
  resolveLookupName,
} from "./lookup.ts";
export {
  ADMISSION_API_VERSION,
  type AdmissionDecision,
  type AdmissionOperation,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
  type AdmissionUser,
  allow,
  bodySizeProblem,
  contentTypeProblem,
  deny,
  type GroupVersionKind,
  type GroupVersionResource,
  type JsonPatchOp,
  MAX_REVIEW_BYTES,
  MAX_WARNING_LENGTH,
  normalizeWarning,
  type ParsedReview,
  parseAdmissionReview,
  type ReviewProblem,
  reviewResponse,
} from "./review.ts";
export {
  type ContainerListName,
  containerListsFor,
  LOOKUP_KINDS,
  lookupKindByAlias,
  lookupKindOf,
} from "./workloads.ts";
