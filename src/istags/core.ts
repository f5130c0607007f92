// The ImageStreamTag core: which ImageStreamTag objects a stream should have (read model),
// how they differ from the existing ones, and what users' creates, edits and deletes of
// ImageStreamTags mean for the stream (write model). Pure: objects in, decisions out.
import {
  API_VERSION,
  controllerRefOf,
  type Image,
  type ImageStream,
  type ImageStreamStatus,
  type ImageStreamTag,
  type ImageStreamTagStatus,
  istagObjectName,
  type NamedTagEventList,
  type OwnerReference,
  sameJson,
  streamNameFromIstagObjectName,
  type TagEvent,
  type TagReference,
  validateIstagObjectName,
} from "../api/index.ts";
import { INSECURE_REPOSITORY_ANNOTATION, summarizeTags } from "../imports/index.ts";

/** On every ImageStreamTag the controller manages, so a user's delete is seen even after downtime. */
export const ISTAG_FINALIZER = "image.openshift.io/imagestreamtag-controller";

/** A stream's tags that cannot have an ImageStreamTag, and why. */
export interface NameProblem {
  kind: "collision" | "invalid";
  /** The object name the tags map to (for invalid names, the name Kubernetes refuses). */
  name: string;
  tags: string[];
  message: string;
}

/** One ImageStreamTag the stream should have, before image details are filled in. */
export interface DesiredIstag {
  name: string;
  tagName: string;
  /** The tag's newest status item, if any. */
  event: TagEvent | undefined;
  /** Top-level fields (OpenShift's), metadata with owner reference and finalizer; no status. */
  object: ImageStreamTag;
}

export interface DesiredTags {
  istags: DesiredIstag[];
  problems: NameProblem[];
  /** Every object name the stream's tags map to, also the skipped ones: never deleted as "gone". */
  names: Set<string>;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export function isDeleting(obj: { metadata?: { deletionTimestamp?: string } }): boolean {
  return obj.metadata?.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

export function streamOwnerReference(stream: ImageStream): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: "ImageStream",
    name: stream.metadata.name ?? "",
    uid: stream.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The ImageStream that controls this ImageStreamTag (an owner reference with controller: true). */
export function streamOwnerOf(istag: ImageStreamTag): OwnerReference | undefined {
  const owner = controllerRefOf(istag);
  return owner?.kind === "ImageStream" && owner.apiVersion === API_VERSION ? owner : undefined;
}

export function isOwnedBy(istag: ImageStreamTag, stream: ImageStream): boolean {
  const owner = streamOwnerOf(istag);
  return owner !== undefined && owner.uid === stream.metadata.uid;
}

/**
 * The stream an ImageStreamTag belongs to: its controlling owner, else the object name minus
 * `.<normalized tag.name>`; undefined when neither says.
 */
export function streamNameOf(istag: ImageStreamTag): string | undefined {
  const owner = streamOwnerOf(istag);
  if (owner) return owner.name;
  const tagName = istag.tag?.name;
  if (!tagName) return undefined;
  return streamNameFromIstagObjectName(istag.metadata.name ?? "", tagName) ?? undefined;
}

/** Tag names in the stream's spec and status, spec order first. */
export function streamTagNames(stream: ImageStream): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const name of [
    ...(stream.spec?.tags ?? []).map((t) => t.name),
    ...(stream.status?.tags ?? []).map((t) => t.tag),
  ]) {
    if (seen.has(name)) continue;
    seen.add(name);
    names.push(name);
  }
  return names;
}

export function hasTag(stream: ImageStream, tagName: string): boolean {
  return (
    (stream.spec?.tags ?? []).some((t) => t.name === tagName) ||
    (stream.status?.tags ?? []).some((t) => t.tag === tagName)
  );
}

// ---------------------------------------------------------------------------------------------
// Read model

/** For every tag in the stream's spec or status, the ImageStreamTag it should have. */
export function desiredTags(stream: ImageStream): DesiredTags {
  const streamName = stream.metadata.name ?? "";
  const byName = new Map<string, string[]>();
  const problems: NameProblem[] = [];
  for (const tag of streamTagNames(stream)) {
    const name = istagObjectName(streamName, tag);
    const invalid = validateIstagObjectName(streamName, tag);
    if (invalid) {
      problems.push({
        kind: "invalid",
        name,
        tags: [tag],
        message: `tag ${tag} has no ImageStreamTag: ${invalid}`,
      });
      continue;
    }
    byName.set(name, [...(byName.get(name) ?? []), tag]);
  }
  const istags: DesiredIstag[] = [];
  for (const [name, tags] of byName) {
    if (tags.length > 1) {
      problems.push({
        kind: "collision",
        name,
        tags,
        message: `tags ${tags.join(", ")} all map to the ImageStreamTag name ${name}; none of them gets an ImageStreamTag until all but one are renamed`,
      });
      continue;
    }
    istags.push(desiredIstag(stream, name, tags[0] as string));
  }
  const names = new Set([...byName.keys(), ...problems.map((p) => p.name)]);
  return { istags, problems, names };
}

function desiredIstag(stream: ImageStream, name: string, tagName: string): DesiredIstag {
  const specTag = stream.spec?.tags?.find((t) => t.name === tagName);
  const statusTag = stream.status?.tags?.find((t) => t.tag === tagName);
  const event = statusTag?.items?.[0];
  const object: ImageStreamTag = {
    apiVersion: API_VERSION,
    kind: "ImageStreamTag",
    metadata: {
      name,
      namespace: stream.metadata.namespace ?? "",
      ownerReferences: [streamOwnerReference(stream)],
      finalizers: [ISTAG_FINALIZER],
    },
    tag: specTag ? structuredClone(specTag) : null,
    // OpenShift: the generation of the tag's current image (its newest status event).
    ...(event ? { generation: event.generation } : {}),
    lookupPolicy: { local: stream.spec?.lookupPolicy?.local === true },
    ...(statusTag?.conditions?.length ? { conditions: structuredClone(statusTag.conditions) } : {}),
  };
  const image = buildImage(event, undefined);
  if (image) object.image = image;
  return { name, tagName, event, object };
}

/** Whether an image carries details from the registry (metadata, layers or list entries). */
export function hasImageDetails(image: Image | undefined): boolean {
  return (
    image !== undefined &&
    (image.dockerImageMetadata !== undefined ||
      (image.dockerImageLayers?.length ?? 0) > 0 ||
      (image.dockerImageManifests?.length ?? 0) > 0)
  );
}

/**
 * The ImageStreamTag's `image` for a status event: digest and pull spec from the event, every
 * other field from `details` (an Image of the same digest). A reference tag (empty digest) has
 * only the pull spec; a tag without events has no image.
 */
export function buildImage(event: TagEvent | undefined, details: Image | undefined): Image | undefined {
  if (!event) return undefined;
  if (!event.image) return { dockerImageReference: event.dockerImageReference };
  const base: Image =
    details && details.metadata?.name === event.image
      ? structuredClone(details)
      : { dockerImageReference: "" };
  return {
    ...base,
    metadata: { ...(base.metadata ?? {}), name: event.image },
    dockerImageReference: event.dockerImageReference,
  };
}

/** The existing object's image when it already describes `digest` with details: no fetch needed. */
export function reusableImage(existing: ImageStreamTag | undefined, digest: string): Image | undefined {
  const image = existing?.image;
  return image?.metadata?.name === digest && hasImageDetails(image) ? image : undefined;
}

/** The desired with its image's details filled in. */
export function withImageDetails(desired: DesiredIstag, details: Image | undefined): DesiredIstag {
  const image = buildImage(desired.event, details);
  const object = { ...desired.object };
  if (image) object.image = image;
  else delete object.image;
  return { ...desired, object };
}

/** The status subresource an ImageStreamTag should have at `generation`. */
export function desiredIstagStatus(
  event: TagEvent | undefined,
  generation: number | undefined,
): ImageStreamTagStatus {
  const status: ImageStreamTagStatus = {};
  if (event?.created) status.lastUpdated = event.created;
  if (generation !== undefined) status.observedGeneration = generation;
  return status;
}

/** The status to write on `istag` for its tag's newest event, or undefined when it already shows it. */
export function istagStatusUpdate(
  istag: ImageStreamTag,
  event: TagEvent | undefined,
): ImageStreamTagStatus | undefined {
  const status = desiredIstagStatus(event, istag.metadata.generation);
  return sameJson(istag.status ?? {}, status) ? undefined : status;
}

/**
 * Whether a stream update can change what this controller does with it: its spec (generation),
 * status, identity, deletion, or the insecure annotation that decides how image details are
 * fetched. Metadata alone (the import controller's handled-request annotation, a user's request,
 * labels) cannot, so it costs no reconcile.
 */
export function streamChangeConcernsIstags(before: ImageStream, after: ImageStream): boolean {
  const was = before.metadata;
  const is = after.metadata;
  const specChanged =
    was.generation !== undefined && is.generation !== undefined
      ? was.generation !== is.generation
      : !sameJson(before.spec ?? {}, after.spec ?? {});
  return (
    specChanged ||
    was.uid !== is.uid ||
    isDeleting(before) !== isDeleting(after) ||
    was.annotations?.[INSECURE_REPOSITORY_ANNOTATION] !== is.annotations?.[INSECURE_REPOSITORY_ANNOTATION] ||
    !sameJson(before.status ?? {}, after.status ?? {})
  );
}

/** The fields of an ImageStreamTag the read model owns. */
function ownedFields(istag: ImageStreamTag): unknown {
  return {
    tag: istag.tag ?? null,
    generation: istag.generation,
    lookupPolicy: istag.lookupPolicy,
    conditions: istag.conditions?.length ? istag.conditions : undefined,
    image: istag.image,
  };
}

export interface IstagPlan {
  creates: ImageStreamTag[];
  /** Existing objects with the desired fields, owner reference and finalizer (resourceVersion kept). */
  updates: ImageStreamTag[];
  /** Owned objects whose tag is gone from the stream: finalizer removed, then deleted. */
  deletes: ImageStreamTag[];
  /** Desired names held by an object of another stream. */
  conflicts: { name: string; message: string }[];
}

/**
 * How the existing ImageStreamTags must change to match the desired ones. `existing` holds every
 * object that may matter: those owned by the stream and any object with a desired name.
 * Objects being deleted are left to the deletion path.
 */
export function diffIstags(
  stream: ImageStream,
  desired: DesiredTags,
  existing: readonly ImageStreamTag[],
): IstagPlan {
  const plan: IstagPlan = { creates: [], updates: [], deletes: [], conflicts: [] };
  const byName = new Map(existing.map((i) => [i.metadata.name ?? "", i]));
  const ownerRef = streamOwnerReference(stream);
  for (const want of desired.istags) {
    const have = byName.get(want.name);
    if (!have) {
      plan.creates.push(want.object);
      continue;
    }
    if (isDeleting(have)) continue;
    const owner = streamOwnerOf(have);
    if (owner && owner.uid !== ownerRef.uid) {
      // Same stream name, other uid: the stream was recreated and garbage collection will remove
      // the old object. Another stream's name: `a.b` + tag `c` and `a` + tag `b.c` meet at `a.b.c`.
      if (owner.name !== ownerRef.name) {
        plan.conflicts.push({
          name: want.name,
          message: `ImageStreamTag ${want.name} for tag ${want.tagName} already belongs to image stream ${owner.name}`,
        });
      }
      continue;
    }
    const finalizers = have.metadata.finalizers ?? [];
    const adopted = owner !== undefined && finalizers.includes(ISTAG_FINALIZER);
    if (adopted && sameJson(ownedFields(have), ownedFields(want.object))) continue;
    const updated: ImageStreamTag = {
      ...have,
      apiVersion: API_VERSION,
      kind: "ImageStreamTag",
      metadata: {
        ...have.metadata,
        ownerReferences: owner
          ? (have.metadata.ownerReferences ?? [])
          : [...(have.metadata.ownerReferences ?? []), ownerRef],
        finalizers: finalizers.includes(ISTAG_FINALIZER) ? finalizers : [...finalizers, ISTAG_FINALIZER],
      },
      tag: want.object.tag ?? null,
    };
    // Fields the stream no longer gives (no image yet, no conditions) are dropped, not kept.
    delete updated.generation;
    delete updated.conditions;
    delete updated.image;
    if (want.object.generation !== undefined) updated.generation = want.object.generation;
    if (want.object.lookupPolicy) updated.lookupPolicy = want.object.lookupPolicy;
    if (want.object.conditions) updated.conditions = want.object.conditions;
    if (want.object.image) updated.image = want.object.image;
    plan.updates.push(updated);
  }
  for (const have of existing) {
    const name = have.metadata.name ?? "";
    if (isDeleting(have) || !isOwnedBy(have, stream) || desired.names.has(name)) continue;
    plan.deletes.push(have);
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Write model

export interface DeletionStep {
  istag: ImageStreamTag;
  /** A user deleted the object: the tag goes from the stream (spec and status) before release. */
  removeTag: string | undefined;
}

export interface WritePlan {
  /** Spec tags users created or edited (add, or replace by name). */
  setTags: TagReference[];
  /** Spec tags users cleared (`tag: null` on an owned object). */
  unsetTags: string[];
  /** Objects being deleted that carry the finalizer. */
  deletions: DeletionStep[];
  /** Objects whose edit cannot be applied, and why. */
  rejected: { istag: ImageStreamTag; reason: string; message: string }[];
}

/**
 * What users' ImageStreamTags ask of the stream `streamName` (missing or being deleted: only
 * finalizers are released). A user-created object has no ImageStream controller owner; a user
 * edit of an owned object shows as metadata.generation ahead of status.observedGeneration with a
 * `tag` that differs from the spec tag.
 */
export function planWrites(
  streamName: string,
  stream: ImageStream | undefined,
  istags: readonly ImageStreamTag[],
): WritePlan {
  const plan: WritePlan = { setTags: [], unsetTags: [], deletions: [], rejected: [] };
  const live = stream !== undefined && !isDeleting(stream) ? stream : undefined;
  for (const istag of istags) {
    const name = istag.metadata.name ?? "";
    if (isDeleting(istag)) {
      if (!istag.metadata.finalizers?.includes(ISTAG_FINALIZER)) continue;
      // The tag goes only when the object stands for it: owned by this very stream (not an
      // older stream of the same name) and the tag still exists.
      const tagName = tagNameOfOwned(istag, stream);
      const removeTag = live && tagName !== undefined && hasTag(live, tagName) ? tagName : undefined;
      plan.deletions.push({ istag, removeTag });
      continue;
    }
    const owner = streamOwnerOf(istag);
    if (owner) {
      if (!live || owner.uid !== live.metadata.uid) continue;
      const generation = istag.metadata.generation;
      if (generation === undefined || generation === istag.status?.observedGeneration) continue;
      const tagName = tagNameOfOwned(istag, live);
      if (tagName === undefined) continue;
      const specTag = live.spec?.tags?.find((t) => t.name === tagName);
      const edited = istag.tag ?? null;
      if (sameJson(edited, specTag ?? null)) continue;
      if (edited === null) {
        if (specTag) plan.unsetTags.push(tagName);
      } else {
        const problem =
          edited.name === tagName
            ? undefined
            : `ImageStreamTag ${name} stands for tag "${tagName}" and cannot be renamed to "${edited.name}"; create a new ImageStreamTag instead`;
        if (problem) {
          plan.rejected.push({ istag, reason: "TagNameMismatch", message: problem });
          continue;
        }
        plan.setTags.push(structuredClone(edited));
      }
      continue;
    }
    // Not owned: created by a user (or restored from a backup) for this stream.
    if (stream !== undefined && isDeleting(stream)) continue;
    if (!istag.tag) {
      plan.rejected.push({
        istag,
        reason: "TagRequired",
        message: `ImageStreamTag ${name} has no tag: set tag.name and tag.from to add the tag to image stream ${streamName}`,
      });
      continue;
    }
    const problem = tagNameProblem(istag, streamName, istag.tag);
    if (problem) {
      plan.rejected.push({ istag, reason: "TagNameMismatch", message: problem });
      continue;
    }
    plan.setTags.push(structuredClone(istag.tag));
  }
  return plan;
}

/**
 * The tag an owned object stands for: the one stream tag its name maps to (not its own tag.name,
 * which a user may have edited). Undefined when no tag or several (a collision) map to it.
 */
function tagNameOfOwned(istag: ImageStreamTag, stream: ImageStream | undefined): string | undefined {
  if (!stream || !isOwnedBy(istag, stream)) return undefined;
  const name = istag.metadata.name ?? "";
  const streamName = stream.metadata.name ?? "";
  const matches = streamTagNames(stream).filter((t) => istagObjectName(streamName, t) === name);
  return matches.length === 1 ? matches[0] : undefined;
}

function tagNameProblem(istag: ImageStreamTag, streamName: string, tag: TagReference): string | undefined {
  const name = istag.metadata.name ?? "";
  const expected = istagObjectName(streamName, tag.name);
  if (expected === name) return undefined;
  return `ImageStreamTag ${name} has tag.name "${tag.name}", which belongs to the object ${expected}; nothing was changed`;
}

/** The spec tags after users' sets, unsets and deletions; undefined when unchanged. */
export function nextSpecTags(
  current: readonly TagReference[] | null | undefined,
  set: readonly TagReference[],
  remove: readonly string[],
): TagReference[] | undefined {
  const tags = [...(current ?? [])];
  for (const tag of set) {
    const at = tags.findIndex((t) => t.name === tag.name);
    if (at >= 0) tags[at] = tag;
    else tags.push(tag);
  }
  const removed = new Set(remove);
  const next = tags.filter((t) => !removed.has(t.name));
  return sameJson(next, current ?? []) ? undefined : next;
}

/**
 * The stream status without the given tags (their history and conditions), with the summary
 * fields the printer columns show recomputed; undefined when none of them is in status.
 */
export function statusWithoutTags(
  status: ImageStreamStatus | undefined,
  remove: readonly string[],
): ImageStreamStatus | undefined {
  const removed = new Set(remove);
  const tags = status?.tags ?? [];
  if (!status || !tags.some((t) => removed.has(t.tag))) return undefined;
  const kept: NamedTagEventList[] = tags.filter((t) => !removed.has(t.tag));
  const next: ImageStreamStatus = { ...status, tags: kept };
  const withImage = kept.filter((t) => (t.items?.length ?? 0) > 0);
  if (withImage.length > 0) next.tagSummary = summarizeTags(withImage);
  else delete next.tagSummary;
  const newest = withImage
    .map((t) => t.items?.[0]?.created ?? "")
    .reduce<string | undefined>((max, c) => (max === undefined || c > max ? c : max), undefined);
  if (newest) next.lastUpdated = newest;
  else delete next.lastUpdated;
  return next;
}

/** The finalizers without ours. */
export function withoutFinalizer(istag: ImageStreamTag): string[] {
  return (istag.metadata.finalizers ?? []).filter((f) => f !== ISTAG_FINALIZER);
}
