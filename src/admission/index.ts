// Public surface of the admission domain: pure cores of the operator's admission webhooks
// (AdmissionReview I/O, image lookup, oc tag's ImageStreamTag answer, oc import-image's
// ImageStreamImport, the webhooks' registration and certificates) and the shells around them:
// the webhook server every replica runs, the certificate keeper, the cleanup of stored answers.

export { ANSWER_RETENTION_MS, answerRemovalDelay, createAnswerCleanupController } from "./answers.ts";
export {
  applyCertificateStep,
  bundleContains,
  type CertificateMaterial,
  type CertificatePolicy,
  type CertificateSecret,
  type CertificateStep,
  expectedBundle,
  materialFromSecret,
  NEXT_CA_SINCE_ANNOTATION,
  nextCertificateStep,
  secretWithMaterial,
  settleTime,
} from "./certificates.ts";
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
export { answerImageStreamImport, answerName, type ImportWebhookDeps } from "./import-webhook.ts";
export {
  type BundlePublisher,
  type CertificateSource,
  directoryCertificates,
  secretCertificates,
} from "./keeper.ts";
export {
  formatLookupName,
  type ImageLookupInput,
  type ImageLookupResult,
  type LookupName,
  type LookupResolution,
  type LookupSettings,
  lookupDecision,
  parseLookupName,
  type ResolvedImage,
  resolveImageLookups,
  resolveLookupName,
} from "./lookup.ts";
export { caBundleOnly, configurationByUrl } from "./publishers.ts";
export {
  ADMISSION_PATH_PREFIX,
  caBundleApplyConfiguration,
  IMPORT_WEBHOOK_TIMEOUT_SECONDS,
  type LabelSelector,
  type MatchCondition,
  mutatingWebhookConfiguration,
  publishedCaBundles,
  type RuleWithOperations,
  WEBHOOKS,
  type WebhookClientConfig,
  type WebhookConfigurationOptions,
  type WebhookDefinition,
  type WebhookId,
  webhookById,
  webhookNamespaceSelector,
  webhookSpec,
} from "./registration.ts";
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
  type AdmissionService,
  type AdmissionServiceOptions,
  createAdmissionService,
  type Decide,
  reviewRoute,
} from "./service.ts";
export {
  type ContainerListName,
  containerListsFor,
  LOOKUP_KINDS,
  lookupKindByAlias,
  lookupKindOf,
} from "./workloads.ts";
