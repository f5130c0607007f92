// `kubectl imagestream tag`: the pure part. Classifies the source like `oc tag`, turns it into
// the `from` reference of the destination tags (a pin of the current image, a tracking alias
// or a registry image) and edits `spec.tags`.
import {
  API_VERSION,
  type ImageStream,
  type ObjectReference,
  type TagReference,
  validateStreamName,
} from "../api/index.ts";
import { parseCommandLine, parseStreamTagRef, type StreamTagRef, splitNamespace } from "./args.ts";
import { CommandError, UsageError } from "./errors.ts";

export const TAG_HELP = `Tag an image into image stream tags (like "oc tag").

Usage:
  kubectl imagestream tag SOURCE DEST [DEST...] [flags]
  kubectl imagestream tag --delete DEST [DEST...]

SOURCE is one of
  stream:tag                 an ImageStreamTag (ns/stream:tag for another namespace): DEST is
                             pinned to its current image (stream@sha256:...), or follows it
                             with --alias
  stream@sha256:...          an image of a stream (ImageStreamImage)
  registry.example.com/a:b   a registry image (DockerImage); --source=docker forces this
DEST is stream:tag or ns/stream:tag; a missing destination stream is created.

Flags:
      --alias                DEST follows SOURCE (ImageStreamTag sources only)
      --reference            DEST only records SOURCE's pull spec; nothing is imported
      --scheduled            re-import DEST periodically (DockerImage sources only)
      --insecure             allow plain HTTP / unverified TLS when importing DEST
      --source=KIND          docker, istag or isimage (default: guessed from SOURCE)
  -d, --delete               remove the DEST tags from their streams' spec
  -n, --namespace=NS         namespace (default: the kubeconfig context's)
      --kubeconfig=PATH      kubeconfig file
  -h, --help                 this help
`;

export type TagSource =
  | { kind: "DockerImage"; name: string }
  | { kind: "ImageStreamTag"; namespace: string | undefined; stream: string; tag: string }
  | { kind: "ImageStreamImage"; namespace: string | undefined; stream: string; digest: string };

export interface TagFlags {
  alias: boolean;
  reference: boolean;
  scheduled: boolean;
  insecure: boolean;
}

export type TagOptions =
  | ({ mode: "tag"; source: TagSource; destinations: StreamTagRef[] } & TagFlags & Connection)
  | ({ mode: "delete"; destinations: StreamTagRef[] } & Connection);

interface Connection {
  namespace: string | undefined;
  kubeconfig: string | undefined;
}

const SOURCE_KINDS: Record<string, TagSource["kind"]> = {
  docker: "DockerImage",
  dockerimage: "DockerImage",
  istag: "ImageStreamTag",
  imagestreamtag: "ImageStreamTag",
  isimage: "ImageStreamImage",
  imagestreamimage: "ImageStreamImage",
};

export function parseTagArgs(argv: readonly string[]): TagOptions | "help" {
  const { values, positionals } = parseCommandLine("tag", argv, {
    alias: { type: "boolean" },
    reference: { type: "boolean" },
    scheduled: { type: "boolean" },
    insecure: { type: "boolean" },
    delete: { type: "boolean", short: "d" },
    source: { type: "string" },
  });
  if (values.help) return "help";
  const connection = { namespace: values.namespace, kubeconfig: values.kubeconfig };
  if (values.delete) {
    if (
      values.alias ||
      values.reference ||
      values.scheduled ||
      values.insecure ||
      values.source !== undefined
    ) {
      throw new UsageError("tag: --delete takes only DEST arguments");
    }
    if (positionals.length === 0) throw new UsageError("tag: --delete needs at least one DEST (stream:tag)");
    return { mode: "delete", destinations: positionals.map((p) => parseStreamTagRef(p)), ...connection };
  }
  if (positionals.length < 2)
    throw new UsageError("tag: SOURCE and at least one DEST are required (see --help)");
  let forced: TagSource["kind"] | undefined;
  if (values.source !== undefined) {
    forced = SOURCE_KINDS[values.source.toLowerCase()];
    if (forced === undefined)
      throw new UsageError(`--source must be docker, istag or isimage, got "${values.source}"`);
  }
  const source = classifySource(positionals[0] ?? "", forced);
  const flags: TagFlags = {
    alias: values.alias === true,
    reference: values.reference === true,
    scheduled: values.scheduled === true,
    insecure: values.insecure === true,
  };
  if (flags.alias && source.kind !== "ImageStreamTag") {
    throw new UsageError("tag: --alias needs an ImageStreamTag source (stream:tag)");
  }
  if (flags.scheduled && source.kind !== "DockerImage") {
    throw new UsageError("tag: --scheduled needs a DockerImage source; only registry images are re-imported");
  }
  if (flags.alias && flags.reference) throw new UsageError("tag: --alias and --reference exclude each other");
  return {
    mode: "tag",
    source,
    destinations: positionals.slice(1).map((p) => parseStreamTagRef(p)),
    ...flags,
    ...connection,
  };
}

/** A first path component with a dot, a port or `localhost` is a registry host, as in Docker. */
function looksLikeRegistryImage(value: string): boolean {
  const slash = value.indexOf("/");
  if (slash < 0) return false;
  const first = value.slice(0, slash);
  return (
    first.includes(".") || first.includes(":") || first === "localhost" || value.indexOf("/", slash + 1) >= 0
  );
}

/** Like `oc tag`: registry-looking names are DockerImage, `stream@digest` an image, else `stream:tag`. */
export function classifySource(value: string, forced?: TagSource["kind"]): TagSource {
  if (value.trim() === "") throw new UsageError("tag: SOURCE is empty");
  const kind =
    forced ??
    (looksLikeRegistryImage(value)
      ? "DockerImage"
      : value.includes("@")
        ? "ImageStreamImage"
        : "ImageStreamTag");
  if (kind === "DockerImage") return { kind, name: value };
  if (kind === "ImageStreamTag") {
    const ref = parseStreamTagRef(value);
    return { kind, namespace: ref.namespace, stream: ref.stream, tag: ref.tag };
  }
  const { namespace, rest } = splitNamespace(value);
  const at = rest.indexOf("@");
  const stream = at < 0 ? rest : rest.slice(0, at);
  const digest = at < 0 ? "" : rest.slice(at + 1);
  const problem = validateStreamName(stream);
  if (problem) throw new UsageError(problem);
  if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]+$/.test(digest)) {
    throw new UsageError(`"${value}" must be [namespace/]stream@sha256:<hex digest or prefix>`);
  }
  return { kind, namespace, stream, digest };
}

/**
 * The `from` of a destination tag in `destNamespace`. `sourceStream` is the source's stream when
 * the source is an ImageStreamTag and the tag is pinned (no --alias): its current image.
 */
export function sourceReference(
  source: TagSource,
  alias: boolean,
  defaultNamespace: string,
  destNamespace: string,
  sourceStream: ImageStream | undefined,
): ObjectReference {
  if (source.kind === "DockerImage") return { kind: "DockerImage", name: source.name };
  const sourceNamespace = source.namespace ?? defaultNamespace;
  const namespace = sourceNamespace === destNamespace ? {} : { namespace: sourceNamespace };
  if (source.kind === "ImageStreamImage") {
    return { kind: "ImageStreamImage", name: `${source.stream}@${source.digest}`, ...namespace };
  }
  if (alias) return { kind: "ImageStreamTag", name: `${source.stream}:${source.tag}`, ...namespace };
  const image = sourceStream?.status?.tags?.find((entry) => entry.tag === source.tag)?.items?.[0]?.image;
  if (!image) {
    throw new CommandError(
      `${sourceNamespace}/${source.stream}:${source.tag} has no image yet; import it first, or use --alias to follow it`,
    );
  }
  return { kind: "ImageStreamImage", name: `${source.stream}@${image}`, ...namespace };
}

/** The destination's tag spec: the new source and flags, keeping the tag's annotations and reference policy. */
export function destinationTag(
  name: string,
  current: TagReference | undefined,
  from: ObjectReference,
  flags: TagFlags,
): TagReference {
  const tag: TagReference = { name, from };
  if (current?.annotations) tag.annotations = current.annotations;
  if (current?.referencePolicy) tag.referencePolicy = current.referencePolicy;
  if (flags.reference) tag.reference = true;
  if (flags.scheduled || flags.insecure) {
    tag.importPolicy = {
      ...(flags.scheduled ? { scheduled: true } : {}),
      ...(flags.insecure ? { insecure: true } : {}),
    };
  }
  return tag;
}

/** `spec.tags` with `tag` set (replacing the tag of the same name in place, else appended). */
export function withTag(tags: readonly TagReference[], tag: TagReference): TagReference[] {
  const index = tags.findIndex((t) => t.name === tag.name);
  if (index < 0) return [...tags, tag];
  return tags.map((t, i) => (i === index ? tag : t));
}

/** `spec.tags` without `name`; CommandError when the spec has no such tag. */
export function withoutTag(stream: ImageStream, name: string): TagReference[] {
  const tags = stream.spec?.tags ?? [];
  if (!tags.some((t) => t.name === name)) {
    throw new CommandError(`imagestream ${stream.metadata.name} has no tag "${name}" in its spec`);
  }
  return tags.filter((t) => t.name !== name);
}

/** Merge patch replacing `spec.tags`, guarded by the stream's resourceVersion. */
export function tagsPatch(stream: ImageStream, tags: TagReference[]): Record<string, unknown> {
  return { metadata: { resourceVersion: stream.metadata.resourceVersion }, spec: { tags } };
}

/** A new stream holding only `tag`. */
export function newStream(namespace: string, name: string, tag: TagReference): ImageStream {
  return {
    apiVersion: API_VERSION,
    kind: "ImageStream",
    metadata: { name, namespace },
    spec: { tags: [tag] },
  };
}
