// How an import failure reads on the tag's condition: a registry error keeps its reason, except
// that answers the registry got wrong or the operator cannot read are "Invalid"; anything else is
// an InternalError with the error's message.
import { isRegistryError } from "../registry/index.ts";
import { ImportReason } from "./model.ts";

const INVALID_REGISTRY_REASONS = new Set([
  "BadResponse",
  "InvalidManifest",
  "Unsupported",
  "InvalidReference",
]);

export function failureOf(err: unknown): { reason: string; message: string } {
  if (isRegistryError(err)) {
    return {
      reason: INVALID_REGISTRY_REASONS.has(err.reason) ? ImportReason.Invalid : err.reason,
      message: err.message,
    };
  }
  return { reason: ImportReason.InternalError, message: err instanceof Error ? err.message : String(err) };
}
