// Public surface of the receivers core: webhooks from external registries (Docker Hub,
// Harbor, Quay, GitHub Container Registry, GitLab, distribution, a generic form) verified
// and parsed into image events, and the import requests those events cause. The HTTP
// endpoint, Receiver objects and their Secrets are the shell's.

export {
  type ImageEvent,
  type Receiver,
  type ReceiverProvider,
  receiverPath,
} from "./model.ts";
export { type ImportRequestGroup, type ImportTarget, importRequests, mergeImportRequests } from "./plan.ts";
export type { ParsedPayload, ReceiverRequest } from "./providers.ts";
export { type ReceiveResult, receive } from "./receive.ts";
