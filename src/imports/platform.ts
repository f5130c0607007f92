// Manifest list handling: which entry a Legacy import records, and what PreserveOriginal keeps.

import type { EffectiveImportMode, TagReference } from "../api/index.ts";
import { type Platform, PREFER_ARCH_ANNOTATION, PREFER_OS_ANNOTATION } from "./model.ts";

export interface ManifestListEntry {
  digest: string;
  os: string;
  architecture: string;
  variant?: string;
}

export interface PlatformPreferences {
  /** From the tag's `importer.image.openshift.io/prefer-arch` / `prefer-os` annotations. */
  preferArch?: string;
  preferOs?: string;
  /** The controller's configured platform. */
  platform?: Platform;
}

// Common aliases (uname and Go spellings) so `prefer-arch: x86_64` means amd64.
const ARCH_ALIASES: Record<string, string> = {
  x86_64: "amd64",
  "x86-64": "amd64",
  aarch64: "arm64",
  i386: "386",
};

function normalizeArch(arch: string): string {
  const lower = arch.trim().toLowerCase();
  return ARCH_ALIASES[lower] ?? lower;
}

function matches(entry: ManifestListEntry, os?: string, arch?: string, variant?: string): boolean {
  if (os && entry.os.toLowerCase() !== os.trim().toLowerCase()) return false;
  if (arch && normalizeArch(entry.architecture) !== normalizeArch(arch)) return false;
  if (variant && (entry.variant ?? "").toLowerCase() !== variant.trim().toLowerCase()) return false;
  return true;
}

// Attestation manifests in BuildKit indexes carry os/architecture "unknown"; never pick them.
function isRunnable(entry: ManifestListEntry): boolean {
  return entry.os !== "unknown" && entry.architecture !== "unknown";
}

/**
 * Picks the entry a Legacy import records: the tag's prefer-arch/prefer-os, then the
 * controller's platform, then linux/amd64, then the first entry. Returns undefined only for
 * an empty list.
 */
export function choosePlatform(
  entries: readonly ManifestListEntry[],
  prefs: PlatformPreferences = {},
): ManifestListEntry | undefined {
  const candidates = entries.filter(isRunnable);
  const pool = candidates.length > 0 ? candidates : entries;
  const find = (os?: string, arch?: string, variant?: string) =>
    pool.find((e) => matches(e, os, arch, variant));
  if (prefs.preferArch || prefs.preferOs) {
    const preferred = find(prefs.preferOs, prefs.preferArch);
    if (preferred) return preferred;
  }
  if (prefs.platform) {
    const { os, architecture, variant } = prefs.platform;
    const configured = find(os, architecture, variant) ?? (variant ? find(os, architecture) : undefined);
    if (configured) return configured;
  }
  return find("linux", "amd64") ?? pool[0];
}

/** The tag's platform preferences from its annotations. */
export function tagPlatformPreferences(tagRef: TagReference): { preferArch?: string; preferOs?: string } {
  const arch = tagRef.annotations?.[PREFER_ARCH_ANNOTATION]?.trim();
  const os = tagRef.annotations?.[PREFER_OS_ANNOTATION]?.trim();
  return { ...(arch ? { preferArch: arch } : {}), ...(os ? { preferOs: os } : {}) };
}

export type ManifestSelection =
  | { ok: true; digest: string; manifests?: ManifestListEntry[] }
  | { ok: false; reason: string; message: string };

/**
 * What an import of a manifest list records: Legacy picks one platform's manifest digest;
 * PreserveOriginal keeps the list's own digest and all its sub-manifests.
 */
export function selectFromManifestList(
  list: { digest: string; entries: readonly ManifestListEntry[] },
  importMode: EffectiveImportMode,
  prefs: PlatformPreferences = {},
): ManifestSelection {
  if (importMode === "PreserveOriginal") {
    return { ok: true, digest: list.digest, manifests: [...list.entries] };
  }
  const chosen = choosePlatform(list.entries, prefs);
  if (!chosen) {
    return { ok: false, reason: "NotFound", message: `manifest list ${list.digest} has no manifests` };
  }
  return { ok: true, digest: chosen.digest };
}
