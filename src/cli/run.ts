// The imperative shell of the kubectl plugin: dispatches a command line, reads and writes the
// cluster through the runtime's object API, and maps errors to exit codes (2 usage, 1 failure).
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { IMAGESTREAMS, type ImageStream } from "../api/index.ts";
import { isNotFound, loadKubeConfig, type ObjectApi, objectApi } from "../runtime/index.ts";
import type { WorkloadObject } from "../triggers/index.ts";
import { CONVERT_HELP, convertManifests, parseConvertArgs } from "./convert.ts";
import { CommandError, describeFailure, UsageError } from "./errors.ts";
import {
  IMAGE_LOOKUP_HELP,
  lookupRows,
  parseImageLookupArgs,
  resolvesNames,
  streamLookupPatch,
  workloadLookupPatch,
} from "./image-lookup.ts";
import {
  freshRequestValue,
  IMPORT_IMAGE_HELP,
  type ImportImageOptions,
  importResult,
  parseImportImageArgs,
  planImportImage,
} from "./import-image.ts";
import {
  describeTriggers,
  editTriggers,
  formatTable,
  parseSetTriggersArgs,
  SET_TRIGGERS_HELP,
  type SetTriggersOptions,
  triggerAnnotationPatch,
} from "./set-triggers.ts";
import {
  destinationTag,
  newStream,
  parseTagArgs,
  sourceReference,
  TAG_HELP,
  type TagOptions,
  tagsPatch,
  withoutTag,
  withTag,
} from "./tag.ts";

export const MAIN_HELP = `kubectl imagestream: OpenShift-style ImageStream workflows for the imagestream operator.

Usage:
  kubectl imagestream COMMAND [flags]

Commands:
  import-image   import an image into a tag and wait for the result   (oc import-image)
  tag            tag an image or another tag into stream tags         (oc tag)
  set-triggers   show or edit a workload's image triggers             (oc set triggers)
  set image-lookup  let workloads name streams as images (list, set)   (oc set image-lookup)
  convert        convert legacy apiVersion v1 manifests               (no oc equivalent)

Run "kubectl imagestream COMMAND --help" for a command's flags.
`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
}

const FIELD_MANAGER = "kubectl-imagestream";

/** Runs one command line; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "-h":
      case "--help":
        io.stdout(MAIN_HELP);
        return command === undefined ? 2 : 0;
      case "import-image":
        return await importImage(rest, io);
      case "tag":
        return await tag(rest, io);
      case "set-triggers":
        return await setTriggers(rest, io);
      case "set":
        return await set(rest, io);
      case "convert":
        return await convert(rest, io);
      default:
        throw new UsageError(
          `unknown command "${command}"; commands: import-image, tag, set-triggers, set image-lookup, convert`,
        );
    }
  } catch (error) {
    const failure = describeFailure(error);
    io.stderr(`error: ${failure.message}\n`);
    return failure.exitCode;
  }
}

interface Session {
  namespace: string;
  objects: ObjectApi;
}

function session(opts: { kubeconfig: string | undefined; namespace: string | undefined }): Session {
  // kubectl's order: --kubeconfig, $KUBECONFIG, ~/.kube/config, then the in-cluster service account.
  const kc = loadKubeConfig(opts.kubeconfig ?? (process.env.KUBECONFIG || undefined), { homeFirst: true });
  return {
    namespace: opts.namespace ?? kc.namespace ?? "default",
    objects: objectApi(kc, { fieldManager: FIELD_MANAGER }),
  };
}

async function getStream(s: Session, namespace: string, name: string): Promise<ImageStream | undefined> {
  try {
    return await s.objects.get<ImageStream>(IMAGESTREAMS, { namespace, name });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function createStream(s: Session, namespace: string, body: ImageStream): Promise<ImageStream> {
  return s.objects.create(IMAGESTREAMS, { ...body, metadata: { ...body.metadata, namespace } });
}

async function patchStream(
  s: Session,
  namespace: string,
  name: string,
  body: Record<string, unknown>,
): Promise<ImageStream> {
  return s.objects.mergePatch<ImageStream>(IMAGESTREAMS, { namespace, name }, body);
}

async function importImage(argv: readonly string[], io: CliIo): Promise<number> {
  const opts = parseImportImageArgs(argv);
  if (opts === "help") return help(io, IMPORT_IMAGE_HELP);
  const s = session(opts);
  const request = freshRequestValue(new Date(), randomBytes(3).toString("hex"));
  const current = await getStream(s, s.namespace, opts.stream);
  const write = planImportImage(current, opts, request, s.namespace);
  if (write.kind === "create") await createStream(s, s.namespace, write.body);
  else await patchStream(s, s.namespace, opts.stream, write.body);
  if (opts.waitMs === 0) {
    io.stdout(`import of ${opts.stream}:${opts.tag} requested\n`);
    return 0;
  }
  return waitForImport(s, opts, request, io);
}

async function waitForImport(
  s: Session,
  opts: ImportImageOptions,
  request: string,
  io: CliIo,
): Promise<number> {
  const deadline = Date.now() + opts.waitMs;
  for (;;) {
    const stream = await getStream(s, s.namespace, opts.stream);
    if (stream === undefined)
      throw new CommandError(`imagestream ${opts.stream} was deleted while importing`);
    const result = importResult(stream, opts.tag, request);
    if (result.state === "succeeded") {
      io.stdout(`${opts.stream}:${opts.tag} imported: ${result.dockerImageReference}\n`);
      return 0;
    }
    if (result.state === "failed") {
      throw new CommandError(
        `import of ${opts.stream}:${opts.tag} failed: ${result.reason}: ${result.message}`,
      );
    }
    if (Date.now() >= deadline) {
      throw new CommandError(
        `timed out after ${opts.waitMs / 1000}s waiting for the import of ${opts.stream}:${opts.tag}; is the operator running and watching namespace ${s.namespace}?`,
      );
    }
    await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
  }
}

async function tag(argv: readonly string[], io: CliIo): Promise<number> {
  const opts = parseTagArgs(argv);
  if (opts === "help") return help(io, TAG_HELP);
  const s = session(opts);
  if (opts.mode === "delete") {
    for (const dest of opts.destinations) {
      const namespace = dest.namespace ?? s.namespace;
      const stream = await getStream(s, namespace, dest.stream);
      if (stream === undefined) throw new CommandError(`imagestream ${namespace}/${dest.stream} not found`);
      await patchStream(s, namespace, dest.stream, tagsPatch(stream, withoutTag(stream, dest.tag)));
      io.stdout(`Deleted tag ${namespace}/${dest.stream}:${dest.tag}.\n`);
    }
    return 0;
  }
  const sourceStream = await pinnedSourceStream(s, opts);
  for (const dest of opts.destinations) {
    const namespace = dest.namespace ?? s.namespace;
    const from = sourceReference(opts.source, opts.alias, s.namespace, namespace, sourceStream);
    const stream = await getStream(s, namespace, dest.stream);
    const current = stream?.spec?.tags?.find((t) => t.name === dest.tag);
    const wanted = destinationTag(dest.tag, current, from, opts);
    if (stream === undefined) {
      await createStream(s, namespace, newStream(namespace, dest.stream, wanted));
    } else {
      await patchStream(
        s,
        namespace,
        dest.stream,
        tagsPatch(stream, withTag(stream.spec?.tags ?? [], wanted)),
      );
    }
    io.stdout(`Tag ${namespace}/${dest.stream}:${dest.tag} set to ${from.kind} ${from.name}.\n`);
  }
  return 0;
}

/** The source's stream, read only when the destination pins an ImageStreamTag's current image. */
async function pinnedSourceStream(
  s: Session,
  opts: Extract<TagOptions, { mode: "tag" }>,
): Promise<ImageStream | undefined> {
  if (opts.source.kind !== "ImageStreamTag" || opts.alias) return undefined;
  const namespace = opts.source.namespace ?? s.namespace;
  const stream = await getStream(s, namespace, opts.source.stream);
  if (stream === undefined)
    throw new CommandError(`imagestream ${namespace}/${opts.source.stream} not found`);
  return stream;
}

interface Workload extends WorkloadObject {
  metadata?: WorkloadObject["metadata"] & { resourceVersion?: string };
}

async function setTriggers(argv: readonly string[], io: CliIo): Promise<number> {
  const opts = parseSetTriggersArgs(argv);
  if (opts === "help") return help(io, SET_TRIGGERS_HELP);
  const s = session(opts);
  const key = { namespace: s.namespace, name: opts.name };
  const workload = await s.objects.get<Workload>(opts.kind, key);
  if (opts.edit.action === "list") {
    printTriggers(workload, opts, io);
    return 0;
  }
  const value = editTriggers(workload, opts);
  // In a merge patch a null annotation deletes it.
  await s.objects.mergePatch(
    opts.kind,
    key,
    triggerAnnotationPatch(value, workload.metadata?.resourceVersion),
  );
  io.stdout(`${opts.kind.kind.toLowerCase()}/${opts.name} triggers updated\n`);
  return 0;
}

function printTriggers(workload: WorkloadObject, opts: SetTriggersOptions, io: CliIo): void {
  const { rows, problems } = describeTriggers(workload, opts.kind);
  if (rows.length === 0 && problems.length === 0) {
    io.stdout(`${opts.kind.kind.toLowerCase()}/${opts.name} has no image triggers\n`);
    return;
  }
  if (rows.length > 0) {
    const cells = rows.map((r) => [r.container, r.from, String(r.auto)]);
    io.stdout(`${formatTable(["CONTAINER", "FROM", "AUTO"], cells)}\n`);
  }
  for (const problem of problems) io.stderr(`warning: ${problem}\n`);
}

/** `set image-lookup ...` and `set triggers ...` (the same as set-triggers), as oc spells them. */
async function set(argv: readonly string[], io: CliIo): Promise<number> {
  const [what, ...rest] = argv;
  if (what === "image-lookup") return imageLookup(rest, io);
  if (what === "triggers") return setTriggers(rest, io);
  if (what === "-h" || what === "--help")
    return help(
      io,
      `Usage:\n  kubectl imagestream set image-lookup ...\n  kubectl imagestream set triggers ...\n`,
    );
  throw new UsageError(`set: unknown "${what ?? ""}"; set image-lookup or set triggers`);
}

async function imageLookup(argv: readonly string[], io: CliIo): Promise<number> {
  const opts = parseImageLookupArgs(argv);
  if (opts === "help") return help(io, IMAGE_LOOKUP_HELP);
  const s = session(opts);
  if (opts.action === "list") {
    const rows = lookupRows(await s.objects.list<ImageStream>(IMAGESTREAMS, s.namespace));
    if (rows.length === 0) io.stdout(`no image streams in namespace ${s.namespace}\n`);
    else io.stdout(`${formatTable(["NAME", "LOCAL"], rows)}\n`);
    return 0;
  }
  const state = opts.enabled ? "enabled" : "disabled";
  const targets = opts.all
    ? (await s.objects.list<ImageStream>(IMAGESTREAMS, s.namespace)).map((st) => ({
        type: "stream" as const,
        name: st.metadata.name ?? "",
      }))
    : opts.targets;
  for (const target of targets) {
    const key = { namespace: s.namespace, name: target.name };
    if (target.type === "stream") {
      await s.objects.mergePatch(IMAGESTREAMS, key, streamLookupPatch(opts.enabled));
      io.stdout(`imagestream.image.openshift.io/${target.name} image lookup ${state}\n`);
    } else {
      const current = await s.objects.get(target.kind, key);
      if (resolvesNames(target.kind, current) !== opts.enabled) {
        await s.objects.mergePatch(target.kind, key, workloadLookupPatch(target.kind, opts.enabled));
      }
      io.stdout(`${target.kind.kind.toLowerCase()}/${target.name} image lookup ${state}\n`);
    }
  }
  return 0;
}

async function convert(argv: readonly string[], io: CliIo): Promise<number> {
  const opts = parseConvertArgs(argv);
  if (opts === "help") return help(io, CONVERT_HELP);
  let text: string;
  try {
    text = opts.filename === "-" ? await io.readStdin() : await readFile(opts.filename, "utf8");
  } catch (error) {
    throw new CommandError(
      `cannot read ${opts.filename}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  io.stdout(convertManifests(text));
  return 0;
}

function help(io: CliIo, text: string): number {
  io.stdout(text);
  return 0;
}
