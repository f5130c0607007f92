// Image lookup (OpenShift's image policy admission, `lookupPolicy.local` and
// `alpha.image.policy.openshift.io/resolve-names`): which container images of a pod template
// name an ImageStream tag or image of the namespace, what they resolve to, the JSON Patch that
// writes it, and the warnings kubectl prints for names that cannot be resolved yet. Pure.

import {
  type ImageStream,
  isRecord,
  type PodTemplateKind,
  RESOLVE_NAMES_ANNOTATION,
  validateStreamName,
} from "../api/index.ts";
import { resolveImageId, resolveTagPullSpec } from "../imports/index.ts";
import { parseReference } from "../registry/index.ts";
import {
  isWorkloadKind,
  jsonPointer,
  newestTagImage,
  parseWorkloadTriggers,
  resolveContainer,
  type WorkloadObject,
} from "../triggers/index.ts";
import { type AdmissionDecision, type AdmissionRequest, allow, type JsonPatchOp } from "./review.ts";
import { type ContainerListName, containerListsFor, lookupKindOf } from "./workloads.ts";

/** A container image that may name a stream of the namespace: `stream`, `stream:tag` or `stream@digest`. */
export type LookupName =
  | { stream: string; tag: string; digest?: undefined }
  | { stream: string; digest: string; tag?: undefined };

/**
 * Reads `image` as a local stream name: one path component (no registry host, no `/`) that is a
 * valid stream name, with a tag (default `latest`) or a digest (which wins over a tag, as in a
 * pull). Anything else (a registry host, a path, an invalid reference) is not a lookup name.
 */
export function parseLookupName(image: string): LookupName | undefined {
  if (image === "" || image !== image.trim()) return undefined;
  let parsed: ReturnType<typeof parseReference>;
  try {
    parsed = parseReference(image);
  } catch {
    return undefined;
  }
  const stream = parsed.writtenName;
  if (stream.includes("/") || validateStreamName(stream) !== null) return undefined;
  if (parsed.digest) return { stream, digest: parsed.digest };
  return { stream, tag: parsed.tag ?? "latest" };
}

export function formatLookupName(name: LookupName): string {
  return name.digest !== undefined ? `${name.stream}@${name.digest}` : `${name.stream}:${name.tag}`;
}

export interface LookupSettings {
  /** Registry host serving `<host>/<namespace>/<stream>` (referencePolicy Local), if the cluster has one. */
  localRegistryHost?: string;
}

export type LookupResolution = { ok: true; pullSpec: string } | { ok: false; why: string };

/**
 * What `name` resolves to in `stream`: a tag's newest image (referencePolicy Local honoured, as
 * the trigger controller does), or the history event of a digest. Otherwise why not, for a warning.
 */
export function resolveLookupName(
  stream: ImageStream,
  name: LookupName,
  settings: LookupSettings,
): LookupResolution {
  const streamName = stream.metadata.name ?? name.stream;
  if (name.digest !== undefined) {
    const found = resolveImageId(stream.status?.tags ?? [], name.digest);
    // A full digest matches at most one image; "not found" is the only failure left.
    if (!found.ok) return { ok: false, why: `the image is not in the history of image stream ${streamName}` };
    return { ok: true, pullSpec: resolveTagPullSpec(stream, found.tag, found.event, settings) };
  }
  const image = newestTagImage(stream, name.tag, settings.localRegistryHost);
  if (image) return { ok: true, pullSpec: image.dockerImageReference };
  const inSpec = stream.spec?.tags?.some((t) => t.name === name.tag) ?? false;
  const entry = stream.status?.tags?.find((t) => t.tag === name.tag);
  if (!inSpec && !entry) return { ok: false, why: `image stream ${streamName} has no tag ${name.tag}` };
  const failed = entry?.conditions?.find((c) => c.type === "ImportSuccess" && c.status === "False");
  if (failed) {
    return {
      ok: false,
      why: `tag ${streamName}:${name.tag} has no image yet: its import failed (${failed.reason ?? "Unknown"}: ${failed.message ?? ""})`,
    };
  }
  return { ok: false, why: `tag ${streamName}:${name.tag} has no image yet (not imported)` };
}

export interface ImageLookupInput {
  kind: PodTemplateKind;
  operation: "CREATE" | "UPDATE";
  /** "" for the main resource. */
  subResource: string;
  /** The request's namespace (an object being created may not carry it yet). */
  namespace: string;
  object: unknown;
  /** The ImageStream `name` of the namespace, if it exists (a cache read). */
  stream: (name: string) => ImageStream | undefined;
  settings: LookupSettings;
}

export interface ResolvedImage {
  containerList: ContainerListName;
  index: number;
  container: string;
  from: string;
  to: string;
}

export interface ImageLookupResult {
  patch: JsonPatchOp[];
  warnings: string[];
  resolved: ResolvedImage[];
}

function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return current;
}

function annotationsAt(value: unknown, path: readonly string[]): Record<string, unknown> {
  const annotations = at(value, [...path, "annotations"]);
  return isRecord(annotations) ? annotations : {};
}

function describeContainer(list: ContainerListName, name: string): string {
  const what =
    list === "initContainers"
      ? "init container"
      : list === "ephemeralContainers"
        ? "ephemeral container"
        : "container";
  return `${what} ${JSON.stringify(name)}`;
}

/**
 * OpenShift skips objects a controller owns (a Deployment's ReplicaSets, their Pods, a CronJob's
 * Jobs): their templates come from an owner that was resolved already.
 */
function hasControllerOwner(object: unknown): boolean {
  const owners = at(object, ["metadata", "ownerReferences"]);
  return Array.isArray(owners) && owners.some((o) => isRecord(o) && o.controller === true);
}

/**
 * Resolves the lookup names of a workload's containers (init and, through the Pod
 * `ephemeralcontainers` subresource, ephemeral ones) against the namespace's streams:
 * - only single-component names (`stream`, `stream:tag`, `stream@sha256:...`) of an existing
 *   stream are touched, and only when the stream has `spec.lookupPolicy.local: true` or the pod
 *   template (or the object) carries `alpha.image.policy.openshift.io/resolve-names: "*"`;
 * - a tag resolves to its newest image, a digest to that image of the stream's history;
 * - a tag or image that cannot be resolved yet passes unchanged with a warning;
 * - objects with a controller owner, and Job updates (immutable template), are left alone.
 */
export function resolveImageLookups(input: ImageLookupInput): ImageLookupResult {
  const result: ImageLookupResult = { patch: [], warnings: [], resolved: [] };
  const { kind, object } = input;
  if (input.operation === "UPDATE" && kind.podTemplateImmutable) return result;
  if (hasControllerOwner(object)) return result;
  const lists = containerListsFor(kind, input.subResource);
  if (lists.length === 0) return result;
  const podSpec = at(object, kind.podSpecPath);
  if (!isRecord(podSpec)) return result;

  const resolveAll =
    annotationsAt(object, kind.templateMetadataPath ?? ["metadata"])[RESOLVE_NAMES_ANNOTATION] === "*" ||
    annotationsAt(object, ["metadata"])[RESOLVE_NAMES_ANNOTATION] === "*";

  for (const list of lists) {
    const containers = podSpec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((container, index) => {
      if (!isRecord(container) || typeof container.image !== "string") return;
      const name = parseLookupName(container.image);
      if (!name) return;
      const stream = input.stream(name.stream);
      if (!stream) return;
      if (stream.spec?.lookupPolicy?.local !== true && !resolveAll) return;
      const containerName = typeof container.name === "string" ? container.name : `#${index}`;
      const resolution = resolveLookupName(stream, name, input.settings);
      if (!resolution.ok) {
        result.warnings.push(
          `${describeContainer(list, containerName)}: image ${JSON.stringify(container.image)} left as written: ${resolution.why}`,
        );
        return;
      }
      if (resolution.pullSpec === container.image) return;
      result.patch.push({
        op: "replace",
        path: jsonPointer([...kind.podSpecPath, list, index, "image"]),
        value: resolution.pullSpec,
      });
      result.resolved.push({
        containerList: list,
        index,
        container: containerName,
        from: container.image,
        to: resolution.pullSpec,
      });
    });
  }
  result.warnings.push(...triggerOwnershipWarnings(input, result.resolved));
  return result;
}

/**
 * A container named by an active trigger belongs to the trigger (docs/admission.md): lookup
 * still resolves its name at admission, so pods never start from an unresolvable short name, but
 * when the name is not the trigger's own tag the trigger controller then sets the tag's image.
 */
function triggerOwnershipWarnings(input: ImageLookupInput, resolved: readonly ResolvedImage[]): string[] {
  if (resolved.length === 0 || !isWorkloadKind(input.kind.kind)) return [];
  const object = isRecord(input.object) ? input.object : {};
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const workload = { ...object, metadata: { ...metadata, namespace: input.namespace } } as WorkloadObject;
  const { triggers } = parseWorkloadTriggers(workload, input.kind.kind);
  const warnings: string[] = [];
  for (const trigger of triggers) {
    if (trigger.paused) continue;
    const target = resolveContainer(workload, trigger.target);
    if (!target.ok) continue;
    const image = resolved.find(
      (r) => r.containerList === target.container.containerList && r.index === target.container.index,
    );
    if (!image) continue;
    const source = `${trigger.from.stream}:${trigger.from.tag}`;
    const sameTag = trigger.from.namespace === input.namespace && parseLookupNameMatches(image.from, source);
    if (sameTag) continue;
    warnings.push(
      `${describeContainer(image.containerList, image.container)}: image ${JSON.stringify(image.from)} was resolved, ` +
        `but the container belongs to the trigger on ${trigger.from.namespace}/${source}, which sets that tag's image`,
    );
  }
  return warnings;
}

function parseLookupNameMatches(image: string, streamTag: string): boolean {
  const name = parseLookupName(image);
  return name !== undefined && formatLookupName(name) === streamTag;
}

/** The admission decision for a workload request: lookups resolved, warnings given, never denied. */
export function lookupDecision(
  request: AdmissionRequest,
  stream: (name: string) => ImageStream | undefined,
  settings: LookupSettings,
): AdmissionDecision {
  const kind = lookupKindOf(request.kind);
  if (!kind || (request.operation !== "CREATE" && request.operation !== "UPDATE")) return allow();
  const { patch, warnings } = resolveImageLookups({
    kind,
    operation: request.operation,
    subResource: request.subResource,
    namespace: request.namespace,
    object: request.object,
    stream,
    settings,
  });
  return allow(patch, warnings);
}
