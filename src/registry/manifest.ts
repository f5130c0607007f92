// Manifest and config parsing and digest verification: registry facts, not OpenShift's
// Image (that mapping is the import domain's). Everything here is pure: bytes in, plain
// objects out.

import { createHash } from "node:crypto";
import { isRecord } from "../api/index.ts";
import { RegistryError } from "./errors.ts";

export const MediaTypes = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  dockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
} as const;

/** One Accept header for every manifest request; schema 1 is deliberately not offered. */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociManifest,
  MediaTypes.ociIndex,
  MediaTypes.dockerManifest,
  MediaTypes.dockerManifestList,
].join(", ");

const LIST_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const IMAGE_TYPES = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest]);
const SCHEMA1_TYPES = new Set<string>([MediaTypes.dockerSchema1, MediaTypes.dockerSchema1Signed]);
const CONFIG_TYPES = new Set<string>([MediaTypes.dockerConfig, MediaTypes.ociConfig]);

export function isListMediaType(mediaType: string): boolean {
  return LIST_TYPES.has(mediaType);
}

/** `sha256:<hex>` (or sha512) of the bytes, using the algorithm of `like` when given. */
export function digestOf(bytes: Uint8Array, like = "sha256:"): string {
  const algorithm = like.startsWith("sha512:") ? "sha512" : "sha256";
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

/**
 * The digest of received bytes, checked against what the registry claimed and what was
 * asked for. A mismatch is never trusted: it means a broken or tampered response.
 */
export function verifiedDigest(
  bytes: Uint8Array,
  claimed: string | undefined,
  requested: string | undefined,
  subject: string,
): string {
  const expected = requested ?? claimed;
  const actual = digestOf(bytes, expected);
  if (requested !== undefined && actual !== requested) {
    throw new RegistryError(
      "BadResponse",
      `the registry returned content with digest ${actual} for "${subject}", which was requested by digest ${requested}`,
    );
  }
  if (claimed !== undefined && claimed !== "" && digestOf(bytes, claimed) !== claimed) {
    throw new RegistryError(
      "BadResponse",
      `the registry's Docker-Content-Digest ${claimed} for "${subject}" does not match the manifest received (${digestOf(bytes, claimed)})`,
    );
  }
  return requested ?? (claimed && claimed !== "" ? claimed : actual);
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture?: string; os?: string; variant?: string };
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  | { kind: "image"; mediaType: string; config: Descriptor; layers: Descriptor[] }
  | { kind: "list"; mediaType: string; manifests: Descriptor[] };

function descriptor(value: unknown, what: string, subject: string): Descriptor {
  const bad = () =>
    new RegistryError("InvalidManifest", `the manifest of "${subject}" has an invalid ${what}`);
  if (!isRecord(value)) throw bad();
  const { mediaType, digest, size, platform, annotations } = value;
  if (typeof digest !== "string" || !/^[a-z0-9]+:[a-f0-9]+$/.test(digest)) throw bad();
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw bad();
  const d: Descriptor = { mediaType: typeof mediaType === "string" ? mediaType : "", digest, size };
  if (isRecord(platform)) {
    d.platform = {};
    if (typeof platform.architecture === "string") d.platform.architecture = platform.architecture;
    if (typeof platform.os === "string") d.platform.os = platform.os;
    if (typeof platform.variant === "string") d.platform.variant = platform.variant;
  }
  if (isRecord(annotations)) {
    d.annotations = Object.fromEntries(
      Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
  }
  return d;
}

/** Media type from the response header, or from the document when the header is generic. */
export function effectiveMediaType(headerType: string | undefined, doc: Record<string, unknown>): string {
  const header = headerType?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (IMAGE_TYPES.has(header) || LIST_TYPES.has(header) || SCHEMA1_TYPES.has(header)) {
    return header;
  }
  if (typeof doc.mediaType === "string" && doc.mediaType !== "") return doc.mediaType;
  if (doc.schemaVersion === 1) return MediaTypes.dockerSchema1;
  if (Array.isArray(doc.manifests)) return MediaTypes.ociIndex;
  if (isRecord(doc.config) && Array.isArray(doc.layers)) return MediaTypes.ociManifest;
  return header;
}

export function parseManifest(
  bytes: Uint8Array,
  headerType: string | undefined,
  subject: string,
): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new RegistryError("InvalidManifest", `the manifest of "${subject}" is not valid JSON`);
  }
  if (!isRecord(doc))
    throw new RegistryError("InvalidManifest", `the manifest of "${subject}" is not a JSON object`);
  const mediaType = effectiveMediaType(headerType, doc);
  if (SCHEMA1_TYPES.has(mediaType)) {
    throw new RegistryError(
      "Unsupported",
      `the container image "${subject}" uses the Docker schema 1 manifest format, which is not supported; push it again with a current client`,
    );
  }
  if (LIST_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) {
      throw new RegistryError("InvalidManifest", `the manifest list of "${subject}" has no manifests`);
    }
    return {
      kind: "list",
      mediaType,
      manifests: doc.manifests.map((m: unknown) => descriptor(m, "manifest entry", subject)),
    };
  }
  if (IMAGE_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.layers)) {
      throw new RegistryError("InvalidManifest", `the manifest of "${subject}" has no layers`);
    }
    return {
      kind: "image",
      mediaType,
      config: descriptor(doc.config, "config descriptor", subject),
      layers: doc.layers.map((l: unknown) => descriptor(l, "layer", subject)),
    };
  }
  throw new RegistryError(
    "Unsupported",
    `the manifest of "${subject}" has the unsupported media type "${mediaType || "unknown"}"`,
  );
}

/** Checks that a config descriptor is a container image config (not a Helm chart, WASM, ...). */
export function assertImageConfig(config: { mediaType: string }, subject: string): void {
  if (config.mediaType !== "" && !CONFIG_TYPES.has(config.mediaType)) {
    throw new RegistryError(
      "Unsupported",
      `"${subject}" is not a container image (its config has media type "${config.mediaType}")`,
    );
  }
}

/** A layer of an image manifest, as the registry describes it. */
export interface Layer {
  digest: string;
  size: number;
  mediaType: string;
}

/** An entry of a manifest list or index: one platform's manifest. */
export interface PlatformManifest {
  digest: string;
  mediaType: string;
  size: number;
  platform: { architecture: string; os: string; variant?: string };
}

/** The fields of an image config blob (OCI image-spec `config.json`) that imports record. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: {
    User?: string;
    /** The keys of `ExposedPorts` (`8080/tcp`). */
    ExposedPorts?: string[];
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[];
    WorkingDir?: string;
    Labels?: Record<string, string>;
  };
}

/** Entries of a list; attestation entries (not runnable platforms) are left out. */
export function listEntries(manifests: readonly Descriptor[]): PlatformManifest[] {
  return manifests
    .filter((m) => m.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest")
    .map((m) => {
      const platform: PlatformManifest["platform"] = {
        architecture: m.platform?.architecture ?? "",
        os: m.platform?.os ?? "",
      };
      if (m.platform?.variant) platform.variant = m.platform.variant;
      return { digest: m.digest, mediaType: m.mediaType, size: m.size, platform };
    });
}

export function imageLayers(layers: readonly Descriptor[]): Layer[] {
  return layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined;
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

function stringField(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Drops the keys whose value is undefined (exactOptionalPropertyTypes). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Reads an image config blob; fields of the wrong type are left out. */
export function parseImageConfig(configBytes: Uint8Array, subject: string): ImageConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(configBytes).toString("utf8"));
  } catch {
    throw new RegistryError("InvalidManifest", `the image config of "${subject}" is not valid JSON`);
  }
  if (!isRecord(doc))
    throw new RegistryError("InvalidManifest", `the image config of "${subject}" is not an object`);
  const config: ImageConfig = defined({
    architecture: stringField(doc.architecture),
    os: stringField(doc.os),
    variant: stringField(doc.variant),
    created: stringField(doc.created),
    author: stringField(doc.author),
  });
  if (isRecord(doc.config)) {
    const c = doc.config;
    config.config = defined({
      User: stringField(c.User),
      ExposedPorts: isRecord(c.ExposedPorts) ? Object.keys(c.ExposedPorts) : undefined,
      Env: stringArray(c.Env),
      Cmd: stringArray(c.Cmd),
      Entrypoint: stringArray(c.Entrypoint),
      WorkingDir: stringField(c.WorkingDir),
      Labels: stringRecord(c.Labels),
    });
  }
  return config;
}
