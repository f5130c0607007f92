// `kubectl imagestream import-image`: the pure part. Decides what to write to the stream (the
// tag spec when created or changed, plus a fresh import request) and reads the import's
// outcome back from the stream status.
import {
  API_VERSION,
  type ImageStream,
  sameJson,
  type TagReference,
  type TagReferencePolicyType,
} from "../api/index.ts";
import { parseCommandLine, parseDuration, parseStreamTagRef } from "./args.ts";
import { CommandError, UsageError } from "./errors.ts";

export const IMPORT_REQUESTED = "image.openshift.io/import-requested";
export const IMPORT_REQUESTED_HANDLED = "image.openshift.io/import-requested-handled";

export const IMPORT_IMAGE_HELP = `Import an image into an image stream tag (like "oc import-image").

Usage:
  kubectl imagestream import-image STREAM[:TAG] [--from=IMAGE] [--confirm] [flags]

Without --confirm the tag must already exist; with --confirm a missing stream or tag is
created (from --from, default the stream name) and a changed --from is written. The command
then requests a re-import and waits for the controller to handle it.

Flags:
      --from=IMAGE              source image, e.g. registry.example.com/app:1.2
      --confirm                 create the stream/tag or change its source
      --scheduled               re-import the tag periodically
      --insecure                allow plain HTTP / unverified TLS for this tag
      --reference-policy=TYPE   source (default) or local
      --wait=DURATION           how long to wait for the import (default 30s; 0: do not wait)
  -n, --namespace=NS            namespace (default: the kubeconfig context's)
      --kubeconfig=PATH         kubeconfig file
  -h, --help                    this help
`;

export interface ImportImageOptions {
  stream: string;
  tag: string;
  from: string | undefined;
  confirm: boolean;
  scheduled: boolean | undefined;
  insecure: boolean | undefined;
  referencePolicy: TagReferencePolicyType | undefined;
  waitMs: number;
  namespace: string | undefined;
  kubeconfig: string | undefined;
}

export function parseImportImageArgs(argv: readonly string[]): ImportImageOptions | "help" {
  const { values, positionals } = parseCommandLine("import-image", argv, {
    from: { type: "string" },
    confirm: { type: "boolean" },
    scheduled: { type: "boolean" },
    insecure: { type: "boolean" },
    "reference-policy": { type: "string" },
    wait: { type: "string" },
  });
  if (values.help) return "help";
  if (positionals.length !== 1) {
    throw new UsageError("import-image: exactly one STREAM[:TAG] is required (see --help)");
  }
  const ref = parseStreamTagRef(positionals[0] ?? "", "latest");
  if (ref.namespace !== undefined)
    throw new UsageError("import-image: use -n for the namespace, not ns/stream");
  if (values.from !== undefined && values.from.trim() === "")
    throw new UsageError("import-image: --from is empty");
  return {
    namespace: values.namespace,
    kubeconfig: values.kubeconfig,
    stream: ref.stream,
    tag: ref.tag,
    from: values.from,
    confirm: values.confirm === true,
    scheduled: values.scheduled,
    insecure: values.insecure,
    referencePolicy: parseReferencePolicy(values["reference-policy"]),
    waitMs: values.wait === undefined ? 30_000 : parseDuration("wait", values.wait),
  };
}

function parseReferencePolicy(value: string | undefined): TagReferencePolicyType | undefined {
  if (value === undefined) return undefined;
  switch (value.toLowerCase()) {
    case "source":
      return "Source";
    case "local":
      return "Local";
    default:
      throw new UsageError(`--reference-policy must be "source" or "local", got "${value}"`);
  }
}

/** What import-image writes: a new stream, or a merge patch of an existing one. */
export type ImportWrite =
  | { kind: "create"; body: ImageStream }
  | { kind: "patch"; body: Record<string, unknown> };

/** The tag spec import-image wants, from the current one (if any) and the flags. */
function desiredTag(current: TagReference | undefined, opts: ImportImageOptions, from: string): TagReference {
  const tag: TagReference = { ...(current ?? { name: opts.tag }), from: { kind: "DockerImage", name: from } };
  if (opts.scheduled !== undefined || opts.insecure !== undefined) {
    tag.importPolicy = {
      ...tag.importPolicy,
      ...(opts.scheduled !== undefined ? { scheduled: opts.scheduled } : {}),
      ...(opts.insecure !== undefined ? { insecure: opts.insecure } : {}),
    };
  }
  if (opts.referencePolicy !== undefined) tag.referencePolicy = { type: opts.referencePolicy };
  return tag;
}

/**
 * Plans the write for `opts` given the stream as it is (undefined when it does not exist).
 * `requestValue` is the fresh import-requested value. Throws CommandError when the flags do not
 * allow the change (missing stream/tag without --confirm, another source without --confirm).
 */
export function planImportImage(
  stream: ImageStream | undefined,
  opts: ImportImageOptions,
  requestValue: string,
  namespace: string,
): ImportWrite {
  const request = { [IMPORT_REQUESTED]: requestValue };
  if (stream === undefined) {
    if (!opts.confirm) {
      throw new CommandError(
        `imagestream "${opts.stream}" does not exist in namespace ${namespace}; pass --confirm to create it`,
      );
    }
    const from = opts.from ?? `${opts.stream}:${opts.tag}`;
    return {
      kind: "create",
      body: {
        apiVersion: API_VERSION,
        kind: "ImageStream",
        metadata: { name: opts.stream, namespace, annotations: request },
        spec: { tags: [desiredTag(undefined, opts, from)] },
      },
    };
  }
  const tags = stream.spec?.tags ?? [];
  const current = tags.find((tag) => tag.name === opts.tag);
  const where = `${opts.stream}:${opts.tag}`;
  if (current === undefined && !opts.confirm) {
    throw new CommandError(`tag ${where} does not exist; pass --confirm (and --from) to create it`);
  }
  if (current?.from && current.from.kind !== "DockerImage" && opts.from === undefined) {
    throw new CommandError(
      `tag ${where} follows ${current.from.kind} ${current.from.name}; only DockerImage tags are imported (pass --from and --confirm to replace its source)`,
    );
  }
  const currentFrom = current?.from?.kind === "DockerImage" ? current.from.name : undefined;
  const from = opts.from ?? currentFrom ?? `${opts.stream}:${opts.tag}`;
  if (current !== undefined && currentFrom !== from && !opts.confirm) {
    throw new CommandError(
      `tag ${where} imports from ${current.from?.name ?? "nothing"}; pass --confirm to import from ${from} instead`,
    );
  }
  const wanted = desiredTag(current, opts, from);
  const metadata: Record<string, unknown> = { annotations: request };
  if (current !== undefined && sameJson(wanted, current)) {
    return { kind: "patch", body: { metadata } };
  }
  // spec.tags is an array: a merge patch replaces it whole, so the resourceVersion guards
  // against overwriting a concurrent edit.
  metadata.resourceVersion = stream.metadata.resourceVersion;
  const newTags =
    current === undefined ? [...tags, wanted] : tags.map((tag) => (tag === current ? wanted : tag));
  return { kind: "patch", body: { metadata, spec: { tags: newTags } } };
}

/** A value for import-requested that differs from any earlier one. */
export function freshRequestValue(now: Date, nonce: string): string {
  return `${now.toISOString()}-${nonce}`;
}

export type ImportResult =
  | { state: "pending" }
  | { state: "succeeded"; dockerImageReference: string }
  | { state: "failed"; reason: string; message: string };

/** Outcome of the request `requestValue` for `tag`, as far as the stream shows it. */
export function importResult(stream: ImageStream, tag: string, requestValue: string): ImportResult {
  if (stream.metadata.annotations?.[IMPORT_REQUESTED_HANDLED] !== requestValue) return { state: "pending" };
  const status = stream.status?.tags?.find((entry) => entry.tag === tag);
  const failed = status?.conditions?.find((c) => c.type === "ImportSuccess" && c.status === "False");
  if (failed) {
    return {
      state: "failed",
      reason: failed.reason ?? "ImportFailed",
      message: failed.message ?? "import failed",
    };
  }
  const newest = status?.items?.[0]?.dockerImageReference;
  if (newest) return { state: "succeeded", dockerImageReference: newest };
  return { state: "failed", reason: "NotImported", message: `tag ${tag} has no image after the import` };
}
