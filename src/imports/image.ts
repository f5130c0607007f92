// OpenShift's Image from the registry's facts: named by digest, pinned under the name the
// user wrote, with the config fields and layers OpenShift records. Pure.

import type { DockerConfig, DockerImageMetadata, Image, ImageLayer, ImageManifest } from "../api/index.ts";
import type { ImageConfig, Layer, ManifestFacts, PlatformManifest } from "../registry/index.ts";
import { mostSpecificPullSpec } from "./references.ts";

export function imageLayers(layers: readonly Layer[]): ImageLayer[] {
  return layers.map((l) => ({ name: l.digest, size: l.size, mediaType: l.mediaType }));
}

/** A list's entries as `dockerImageManifests`. */
export function imageManifests(manifests: readonly PlatformManifest[]): ImageManifest[] {
  return manifests.map((m) => {
    const entry: ImageManifest = {
      digest: m.digest,
      mediaType: m.mediaType,
      manifestSize: m.size,
      architecture: m.platform.architecture,
      os: m.platform.os,
    };
    if (m.platform.variant) entry.variant = m.platform.variant;
    return entry;
  });
}

/** The image config as DockerImageMetadata: the fields OpenShift keeps, layer sizes summed. */
export function imageMetadata(config: ImageConfig, layers: readonly Layer[]): DockerImageMetadata {
  const meta: DockerImageMetadata = {};
  if (config.architecture !== undefined) meta.Architecture = config.architecture;
  if (config.os !== undefined) meta.Os = config.os;
  if (config.variant) meta.Variant = config.variant;
  if (config.created !== undefined) meta.Created = config.created;
  if (config.author) meta.Author = config.author;
  const c = config.config;
  if (c) {
    const out: DockerConfig = {};
    if (c.User) out.User = c.User;
    if (c.ExposedPorts) out.ExposedPorts = Object.fromEntries(c.ExposedPorts.map((port) => [port, {}]));
    if (c.Env) out.Env = c.Env;
    if (c.Cmd) out.Cmd = c.Cmd;
    if (c.Entrypoint) out.Entrypoint = c.Entrypoint;
    if (c.WorkingDir) out.WorkingDir = c.WorkingDir;
    if (c.Labels && Object.keys(c.Labels).length > 0) out.Labels = c.Labels;
    meta.Config = out;
  }
  meta.Size = layers.reduce((sum, layer) => sum + layer.size, 0);
  return meta;
}

/** OpenShift's Image for a manifest, pinned by digest under the name the user wrote (`pullSpec`). */
export function toImage(facts: ManifestFacts, pullSpec: string): Image {
  const metadata: NonNullable<Image["metadata"]> = { name: facts.digest };
  const image: Image = {
    metadata,
    dockerImageReference: mostSpecificPullSpec(pullSpec, facts.digest),
    dockerImageManifestMediaType: facts.mediaType,
  };
  if (facts.kind === "image") {
    const dockerImageMetadata = imageMetadata(facts.config, facts.layers);
    if (dockerImageMetadata.Created) metadata.creationTimestamp = dockerImageMetadata.Created;
    image.dockerImageMetadata = dockerImageMetadata;
    image.dockerImageMetadataVersion = "1.0";
    image.dockerImageLayers = imageLayers(facts.layers);
  } else {
    image.dockerImageManifests = imageManifests(facts.manifests);
  }
  return image;
}
