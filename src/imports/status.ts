// The new status of a stream after an import round (computeStatus): imported, reference,
// tracking (ImageStreamTag) and pinned (ImageStreamImage) tags, conditions, summary fields
// and annotations. Returns undefined when nothing changed, so the controller writes nothing.

import type {
  ImageStream,
  ImageStreamStatus,
  NamedTagEventList,
  ObjectReference,
  TagEvent,
  TagReference,
} from "../api/index.ts";
import { referencePolicyTypeOf } from "../api/index.ts";
import { keyOf, keyString } from "../runtime/index.ts";
import { addTagEvent, clearConditions, setImportFailure } from "./history.ts";
import {
  IMPORT_REQUESTED_HANDLED_ANNOTATION,
  IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION,
  type ImportOutcome,
  ImportReason,
  type ImportSettings,
  REPOSITORY_CHECK_ANNOTATION,
  type TagChange,
} from "./model.ts";
import { isImportable, specTagGeneration } from "./plan.ts";
import {
  digestOrImageMatch,
  joinRepositoryTag,
  mostSpecificPullSpec,
  parseSourceName,
  rehomeLocalPullSpec,
} from "./references.ts";
import { summarizeTags } from "./tag-order.ts";

export interface ComputeStatusInput {
  stream: ImageStream;
  /** Results of this round's imports (spec tags and `spec.dockerImageRepository` tags). */
  outcomes: readonly ImportOutcome[];
  now: Date;
  settings: ImportSettings;
  /** Other streams named by ImageStreamTag/ImageStreamImage sources (already authorized). */
  sourceStreams?: readonly ImageStream[];
  /** The re-import request honoured by this round (`ImportPlan.importRequest`). */
  importRequest?: string;
  /** The tag request honoured by this round (`ImportPlan.tagRequest`). */
  tagRequest?: string;
  /** True when this round imported `spec.dockerImageRepository`. */
  repositoryImported?: boolean;
}

export interface StatusUpdate {
  /** The full new status, present only when it differs from the stream's. */
  status?: ImageStreamStatus;
  /** Annotations to merge into metadata, present only when they change. */
  annotations?: Record<string, string>;
  changes: TagChange[];
}

/** Kubernetes time format (RFC3339, seconds precision). */
export function formatTime(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

type Entries = Map<string, NamedTagEventList>;

class StatusBuilder {
  readonly entries: Entries;
  readonly changes = new Map<string, TagChange>();
  readonly generation: number;
  readonly nowIso: string;
  readonly historyLimit: number;

  constructor(stream: ImageStream, now: Date, historyLimit: number) {
    this.entries = new Map((stream.status?.tags ?? []).map((e) => [e.tag, e]));
    this.generation = specTagGeneration(stream);
    this.nowIso = formatTime(now);
    this.historyLimit = historyLimit;
  }

  succeed(tag: string, event: TagEvent): void {
    const current = this.entries.get(tag) ?? { tag, items: null };
    const { entry, change } = addTagEvent(current, event, this.historyLimit);
    this.entries.set(tag, clearConditions(entry));
    if (change !== "none") {
      this.changes.set(tag, {
        tag,
        kind: "Updated",
        image: event.image,
        dockerImageReference: event.dockerImageReference,
      });
    }
  }

  fail(tag: string, reason: string, message: string): void {
    const current = this.entries.get(tag) ?? { tag, items: null };
    const entry = setImportFailure(current, { reason, message, generation: this.generation }, this.nowIso);
    if (entry !== current) {
      this.entries.set(tag, entry);
      this.changes.set(tag, {
        tag,
        kind: "Failed",
        reason,
        message: entry.conditions?.[0]?.message ?? message,
      });
    }
  }

  event(dockerImageReference: string, image: string, created = this.nowIso): TagEvent {
    return { created, dockerImageReference, image, generation: this.generation };
  }
}

/** Status entries of a source stream: this stream's working copy, or another stream's status. */
function sourceEntries(
  stream: ImageStream,
  own: Entries,
  sources: ReadonlyMap<string, ImageStream>,
  namespace: string,
  name: string,
): ReadonlyMap<string, NamedTagEventList> | undefined {
  if (namespace === (stream.metadata.namespace ?? "") && name === stream.metadata.name) return own;
  const other = sources.get(keyString({ namespace, name }));
  if (!other) return undefined;
  return new Map((other.status?.tags ?? []).map((e) => [e.tag, e]));
}

function notFoundStream(name: string): string {
  return `imagestreams.image.openshift.io "${name}" not found`;
}

/**
 * OpenShift's ResolveImageID over a stream's history: a unique image matching `id`, as its
 * newest event and the tag that event belongs to.
 */
export function resolveImageId(
  entries: Iterable<NamedTagEventList>,
  id: string,
): { ok: true; event: TagEvent; tag: string } | { ok: false; reason: string; message: string } {
  const images = new Set<string>();
  let newest: { event: TagEvent; tag: string } | undefined;
  for (const entry of entries) {
    for (const item of entry.items ?? []) {
      if (!digestOrImageMatch(item.image, id)) continue;
      images.add(item.image);
      if (!newest || item.created > newest.event.created) newest = { event: item, tag: entry.tag };
    }
  }
  if (images.size === 1 && newest) return { ok: true, ...newest };
  if (images.size === 0) {
    return {
      ok: false,
      reason: ImportReason.NotFound,
      message: `imagestreamimage.image.openshift.io "${id}" not found`,
    };
  }
  return {
    ok: false,
    reason: ImportReason.Conflict,
    message: `multiple images match the prefix "${id}": ${[...images].sort().join(", ")}`,
  };
}

/** Same-stream ImageStreamTag chain starting at `tag`, if it loops back on itself. */
function findCycle(
  stream: ImageStream,
  specTags: ReadonlyMap<string, TagReference>,
  tag: string,
): string[] | undefined {
  const path = [tag];
  let current = specTags.get(tag);
  while (current?.from?.kind === "ImageStreamTag") {
    const namespace = current.from.namespace || stream.metadata.namespace || "";
    const parsed = parseSourceName("ImageStreamTag", current.from.name, stream.metadata.name ?? "");
    if (
      !parsed.ok ||
      namespace !== (stream.metadata.namespace ?? "") ||
      parsed.stream !== stream.metadata.name
    ) {
      return undefined;
    }
    const loopStart = path.indexOf(parsed.id);
    if (loopStart >= 0) return [...path, parsed.id];
    path.push(parsed.id);
    current = specTags.get(parsed.id);
  }
  return undefined;
}

function applyImportOutcomes(
  builder: StatusBuilder,
  input: RecordOutcomesInput,
  specTags: Map<string, TagReference>,
) {
  const repository = input.stream.spec?.dockerImageRepository?.trim();
  for (const outcome of input.outcomes) {
    const tagRef = specTags.get(outcome.tag);
    let source: string;
    if (tagRef) {
      // A spec tag wins over the repository's tag of the same name.
      if (outcome.ok && !isImportable(tagRef)) continue;
      if (!tagRef.from) continue;
      source = tagRef.from.name;
    } else if (repository) {
      source = joinRepositoryTag(repository, outcome.tag);
    } else {
      continue; // the tag left the spec while it was being imported
    }
    if (outcome.ok) {
      const pullSpec = mostSpecificPullSpec(outcome.pullSpec ?? source, outcome.digest);
      builder.succeed(outcome.tag, builder.event(pullSpec, outcome.digest));
    } else {
      builder.fail(outcome.tag, outcome.reason, outcome.message);
    }
  }
}

function applySpecReferences(
  builder: StatusBuilder,
  input: ComputeStatusInput,
  specTags: Map<string, TagReference>,
  failedTags: ReadonlySet<string>,
) {
  const { stream } = input;
  const sources = new Map((input.sourceStreams ?? []).map((s) => [keyString(keyOf(s)), s]));
  const streamNamespace = stream.metadata.namespace ?? "";
  const cyclic = new Map<string, string[]>();
  /**
   * The parsed source name, the source stream's tags and the pull spec a copied image gets here,
   * or undefined after recording why not.
   */
  const locateSource = (tag: string, kind: "ImageStreamTag" | "ImageStreamImage", from: ObjectReference) => {
    const parsed = parseSourceName(kind, from.name, stream.metadata.name ?? "");
    if (!parsed.ok) {
      builder.fail(tag, ImportReason.Invalid, parsed.message);
      return undefined;
    }
    const entries = sourceEntries(
      stream,
      builder.entries,
      sources,
      from.namespace || streamNamespace,
      parsed.stream,
    );
    if (!entries) {
      builder.fail(tag, ImportReason.NotFound, notFoundStream(parsed.stream));
      return undefined;
    }
    const namespace = from.namespace || streamNamespace;
    // As OpenShift: a tag that copies another stream's image (not `reference: true`) pulls it
    // from its own repository of the cluster's registry, not from the source stream's.
    const pullSpec = (sourcePullSpec: string): string =>
      specTags.get(tag)?.reference === true || !input.settings.localRegistryHost
        ? sourcePullSpec
        : rehomeLocalPullSpec(
            sourcePullSpec,
            input.settings.localRegistryHost,
            { namespace, name: parsed.stream },
            { namespace: streamNamespace, name: stream.metadata.name ?? "" },
          );
    return { parsed, entries, pullSpec };
  };

  for (const tagRef of specTags.values()) {
    const from = tagRef.from;
    if (!from?.name || failedTags.has(tagRef.name)) continue;
    if (from.kind === "DockerImage" && tagRef.reference === true) {
      builder.succeed(tagRef.name, builder.event(from.name, ""));
    } else if (from.kind === "ImageStreamImage") {
      const source = locateSource(tagRef.name, "ImageStreamImage", from);
      if (!source) continue;
      const { parsed, entries, pullSpec } = source;
      const resolved = resolveImageId(entries.values(), parsed.id);
      if (resolved.ok) {
        builder.succeed(
          tagRef.name,
          builder.event(pullSpec(resolved.event.dockerImageReference), resolved.event.image),
        );
      } else {
        builder.fail(tagRef.name, resolved.reason, resolved.message);
      }
    } else if (from.kind === "ImageStreamTag") {
      const cycle = findCycle(stream, specTags, tagRef.name);
      if (cycle) cyclic.set(tagRef.name, cycle);
    }
  }

  for (const [tag, cycle] of cyclic) {
    builder.fail(tag, ImportReason.Invalid, `reference tag is circular: ${cycle.join(" -> ")}`);
  }

  // Tracking tags copy their source's newest event; chains settle within one pass per link.
  const tracking = [...specTags.values()].filter(
    (t) => t.from?.kind === "ImageStreamTag" && t.from.name && !cyclic.has(t.name) && !failedTags.has(t.name),
  );
  for (let pass = 0; pass <= tracking.length; pass++) {
    let changed = false;
    for (const tagRef of tracking) {
      const from = tagRef.from!;
      const source = locateSource(tagRef.name, "ImageStreamTag", from);
      if (!source) continue;
      const { parsed, entries, pullSpec } = source;
      // A source tag without history is not an error (OpenShift): the alias follows once it has one.
      const latest = entries.get(parsed.id)?.items?.[0];
      if (!latest) continue;
      const before = builder.entries.get(tagRef.name);
      builder.succeed(
        tagRef.name,
        builder.event(pullSpec(latest.dockerImageReference), latest.image, latest.created),
      );
      if (builder.entries.get(tagRef.name) !== before) changed = true;
    }
    if (!changed) break;
  }
}

function buildStatus(input: RecordOutcomesInput, entries: Entries): ImageStreamStatus {
  const { stream, settings } = input;
  const { namespace, name } = stream.metadata;
  const status: ImageStreamStatus = { ...(stream.status ?? {}) };
  const local = settings.localRegistryHost
    ? `${settings.localRegistryHost}/${namespace}/${name}`
    : stream.spec?.dockerImageRepository?.trim() || undefined;
  const publicRepo = settings.publicRegistryHost
    ? `${settings.publicRegistryHost}/${namespace}/${name}`
    : undefined;
  const tags = [...entries.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const withImage = tags.filter((t) => (t.items?.length ?? 0) > 0);
  const lastUpdated = withImage
    .map((t) => t.items![0]!.created)
    .reduce<string | undefined>((max, c) => (max === undefined || c > max ? c : max), undefined);

  setOrDelete(status, "dockerImageRepository", local);
  setOrDelete(status, "publicDockerImageRepository", publicRepo);
  status.tags = tags;
  setOrDelete(status, "tagSummary", withImage.length > 0 ? summarizeTags(withImage) : undefined);
  setOrDelete(status, "lastUpdated", lastUpdated);
  return status;
}

function setOrDelete<K extends keyof ImageStreamStatus>(
  status: ImageStreamStatus,
  key: K,
  value: ImageStreamStatus[K] | undefined,
): void {
  if (value === undefined) delete status[key];
  else status[key] = value;
}

/** Structural equality of JSON data, ignoring key order and undefined members. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const key of keys) {
    if (!jsonEqual(ra[key], rb[key])) return false;
  }
  return true;
}

// Status tags compare as a set keyed by tag name, with null/absent/empty lists alike.
function sameStatus(before: ImageStreamStatus | undefined, after: ImageStreamStatus): boolean {
  const { tags: beforeTags, ...beforeRest } = before ?? {};
  const { tags: afterTags, ...afterRest } = after;
  if (!jsonEqual(beforeRest, afterRest)) return false;
  const normalize = (tags: NamedTagEventList[] | null | undefined) =>
    Object.fromEntries(
      (tags ?? []).map((t) => [
        t.tag,
        { ...t, items: t.items ?? [], conditions: t.conditions?.length ? t.conditions : [] },
      ]),
    );
  return jsonEqual(normalize(beforeTags), normalize(afterTags));
}

export interface RecordOutcomesInput {
  stream: ImageStream;
  outcomes: readonly ImportOutcome[];
  now: Date;
  settings: ImportSettings;
}

/**
 * The stream's status with only `outcomes` applied (spec tags, and tags not in spec as
 * `spec.dockerImageRepository` tags) by the same history and condition rules as an import
 * round, and the summary fields; other tags are left as they are. For imports made outside the
 * controller (oc import-image's ImageStreamImport): the controller resolves the rest next.
 * `status` is undefined when nothing changed.
 */
export function recordImportOutcomes(input: RecordOutcomesInput): {
  status?: ImageStreamStatus;
  changes: TagChange[];
} {
  const builder = new StatusBuilder(input.stream, input.now, input.settings.historyLimit);
  const specTags = new Map((input.stream.spec?.tags ?? []).map((t) => [t.name, t]));
  applyImportOutcomes(builder, input, specTags);
  const status = buildStatus(input, builder.entries);
  const changes = [...builder.changes.values()];
  return sameStatus(input.stream.status, status) ? { changes } : { status, changes };
}

/**
 * Computes the stream's status after an import round. Import outcomes are applied to spec
 * tags (and, for tags not in spec, as `spec.dockerImageRepository` tags); reference tags
 * record `from.name`; ImageStreamImage pins and ImageStreamTag aliases are resolved; the
 * summary fields are derived. History written earlier is kept (bounded by the limit when a
 * tag changes); status tags of tags removed from spec stay, as in OpenShift.
 * `openshift.io/image.dockerRepositoryCheck` is set whenever an import round writes anything
 * (or the stream was never checked); the honoured re-import request is always recorded.
 */
export function computeStatus(input: ComputeStatusInput): StatusUpdate | undefined {
  const { stream, now, settings } = input;
  const builder = new StatusBuilder(stream, now, settings.historyLimit);
  const specTags = new Map((stream.spec?.tags ?? []).map((t) => [t.name, t]));

  applyImportOutcomes(builder, input, specTags);
  // An explicit failure (e.g. a Forbidden cross-namespace source) overrides local resolution.
  const failedTags = new Set(
    input.outcomes
      .filter((o) => !o.ok && specTags.get(o.tag)?.from?.kind !== "DockerImage")
      .map((o) => o.tag),
  );
  applySpecReferences(builder, input, specTags, failedTags);

  const status = buildStatus(input, builder.entries);
  const statusChanged = !sameStatus(stream.status, status);

  const annotations: Record<string, string> = {};
  const current = stream.metadata.annotations ?? {};
  const importRound =
    input.outcomes.length > 0 ||
    input.repositoryImported === true ||
    !!input.importRequest ||
    !!input.tagRequest;
  if (input.importRequest && current[IMPORT_REQUESTED_HANDLED_ANNOTATION] !== input.importRequest) {
    annotations[IMPORT_REQUESTED_HANDLED_ANNOTATION] = input.importRequest;
  }
  if (input.tagRequest && current[IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION] !== input.tagRequest) {
    annotations[IMPORT_REQUESTED_TAGS_HANDLED_ANNOTATION] = input.tagRequest;
  }
  const writing = statusChanged || Object.keys(annotations).length > 0;
  if (importRound && (writing || !current[REPOSITORY_CHECK_ANNOTATION])) {
    annotations[REPOSITORY_CHECK_ANNOTATION] = formatTime(now);
  }

  const hasAnnotations = Object.keys(annotations).length > 0;
  if (!statusChanged && !hasAnnotations) return undefined;
  return {
    ...(statusChanged ? { status } : {}),
    ...(hasAnnotations ? { annotations } : {}),
    changes: [...builder.changes.values()],
  };
}

/**
 * The pull spec consumers should use for a tag's event: `referencePolicy.type: Local` pulls
 * through the configured local registry (`<host>/<ns>/<name>@<digest>`); without one, or
 * without a digest, it behaves as Source (the recorded `dockerImageReference`).
 */
export function resolveTagPullSpec(
  stream: ImageStream,
  tag: string,
  event: TagEvent,
  settings: Pick<ImportSettings, "localRegistryHost">,
): string {
  const tagRef = stream.spec?.tags?.find((t) => t.name === tag);
  if (referencePolicyTypeOf(tagRef) !== "Local" || !settings.localRegistryHost || !event.image) {
    return event.dockerImageReference;
  }
  return `${settings.localRegistryHost}/${stream.metadata.namespace}/${stream.metadata.name}@${event.image}`;
}
