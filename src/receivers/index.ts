// Public surface of the receivers domain: webhooks from external registries (Docker Hub,
// Harbor, Quay, GitHub Container Registry, GitLab, distribution, a generic form) verified and
// parsed into image events (the core), the import requests those events cause, and the shell:
// the endpoint every replica serves, the tag requests it hands to the import controller, and
// the leader's status controller for Receiver objects.

export { createReceiverController, receiverInformers } from "./controller.ts";
export { ReceiverDirectory } from "./directory.ts";
export { HOOKS_PATH_PREFIX, type ReceiverEndpointOptions, receiverRoute } from "./endpoint.ts";
export { type ImageEvent, type Receiver, type ReceiverProvider, receiverPath } from "./model.ts";
export {
  RECEIVER_TOKEN_KEY,
  type ReceiverProblem,
  type ReceiverSecret,
  receiverOf,
  receiverStatus,
} from "./objects.ts";
export { type ImportRequestGroup, type ImportTarget, importRequests, mergeImportRequests } from "./plan.ts";
export type { ParsedPayload, ReceiverRequest } from "./providers.ts";
export { type ReceiveResult, receive } from "./receive.ts";
export { TagRequestWriter, type TagRequestWriterOptions } from "./requests.ts";
