// OpenShift's server-side defaulting of image/v1 values, as readings: here the API server keeps
// what was applied (no defaulting webhook), so every reader asks these helpers what a value
// means instead of comparing against the raw field. OpenShift: SetDefaults_TagReferencePolicy
// (empty type means Source) and SetDefaults_TagImportPolicy (empty importMode means Legacy).
import type { ImportMode, TagImportPolicy, TagReference, TagReferencePolicyType } from "./types.generated.ts";

export type EffectiveReferencePolicyType = Exclude<TagReferencePolicyType, "">;
export type EffectiveImportMode = Exclude<ImportMode, "">;

/** What a tag's `referencePolicy.type` means: Local only when it says so; empty or missing is Source. */
export function referencePolicyTypeOf(
  tag: Pick<TagReference, "referencePolicy"> | undefined,
): EffectiveReferencePolicyType {
  return tag?.referencePolicy?.type === "Local" ? "Local" : "Source";
}

/** What an import policy's `importMode` means: PreserveOriginal only when it says so; empty or missing is Legacy. */
export function importModeOf(policy: TagImportPolicy | null | undefined): EffectiveImportMode {
  return policy?.importMode === "PreserveOriginal" ? "PreserveOriginal" : "Legacy";
}
