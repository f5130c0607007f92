export { type ControllerHandle, FIELD_MANAGER, type OperatorContext } from "./context.ts";
export { collectionPath, type ResourceType, type SharedInformer, SharedInformers } from "./informers.ts";
