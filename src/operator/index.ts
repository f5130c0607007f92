export {
  type ControllerHandle,
  createOperatorContext,
  FIELD_MANAGER,
  type OperatorContext,
  type OperatorContextParts,
} from "./context.ts";
export { collectionPath, type ResourceType, type SharedInformer, SharedInformers } from "./informers.ts";
export { loadKubeConfig } from "./kubeconfig.ts";
