// Public surface of the ImageStreamTag domain: the controller and its pure core.
export {
  createImageStreamTagController,
  type ImageStreamTagControllerOptions,
  ISTAG_CONTROLLER_NAME,
} from "./controller.ts";
export {
  buildImage,
  type DeletionStep,
  type DesiredIstag,
  type DesiredTags,
  desiredIstagStatus,
  desiredTags,
  diffIstags,
  hasImageDetails,
  hasTag,
  ISTAG_FINALIZER,
  type IstagPlan,
  isDeleting,
  isOwnedBy,
  istagStatusUpdate,
  type NameProblem,
  nextSpecTags,
  planWrites,
  reusableImage,
  statusWithoutTags,
  streamChangeConcernsIstags,
  streamNameOf,
  streamOwnerOf,
  streamOwnerReference,
  streamTagNames,
  type WritePlan,
  withImageDetails,
  withoutFinalizer,
} from "./core.ts";
export {
  type ImageDetailsRequest,
  type ImageDetailsSource,
  insecureFor,
  registryImageDetails,
} from "./image-details.ts";
export { type IstagApi, istagApi } from "./kube.ts";
