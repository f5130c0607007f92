// `kubectl imagestream convert`: the pure part. OpenShift's legacy core form
// (`apiVersion: v1`, kind ImageStream/ImageStreamTag) cannot be served by a CRD (design.md
// section 2); this rewrites such manifests to image.openshift.io/v1 and drops what the server
// set on an exported object, so `oc get -o yaml` output can be applied here.

import { dump, loadAll } from "js-yaml";
import { API_VERSION, isRecord, istagObjectName, parseStreamTag } from "../api/index.ts";
import { parseCommandLine } from "./args.ts";
import { UsageError } from "./errors.ts";

export const CONVERT_HELP = `Convert OpenShift ImageStream manifests for this operator.

Usage:
  kubectl imagestream convert -f FILE     (-f - reads standard input)

Rewrites ImageStream and ImageStreamTag objects (also inside a List) from the legacy
"apiVersion: v1" to image.openshift.io/v1, renames ImageStreamTags from "stream:tag" to
"stream.tag", and removes server-set metadata (uid, resourceVersion, creationTimestamp,
selfLink, managedFields, generation, the last-applied annotation). Other objects pass
through with only the metadata cleaned. Prints YAML; pipe it to "kubectl apply -f -".

Flags:
  -f, --filename=FILE   YAML or JSON manifest(s), several documents allowed; - for stdin
  -h, --help            this help
`;

export interface ConvertOptions {
  filename: string;
}

export function parseConvertArgs(argv: readonly string[]): ConvertOptions | "help" {
  const { values, positionals } = parseCommandLine("convert", argv, {
    filename: { type: "string", short: "f" },
  });
  if (values.help) return "help";
  if (positionals.length > 0)
    throw new UsageError(`convert: unexpected argument "${positionals[0]}"; use -f FILE`);
  if (values.filename === undefined) throw new UsageError("convert: -f FILE is required (-f - for stdin)");
  if (values.namespace !== undefined || values.kubeconfig !== undefined) {
    throw new UsageError("convert: works offline; -n and --kubeconfig do not apply");
  }
  return { filename: values.filename };
}

const SERVER_SET_METADATA = [
  "uid",
  "resourceVersion",
  "creationTimestamp",
  "selfLink",
  "managedFields",
  "generation",
];
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const IMAGE_KINDS = new Set(["ImageStream", "ImageStreamTag"]);
/** The group's own forms: legacy core v1 and the grouped one (an export of either converts). */
const IMAGE_API_VERSIONS = new Set(["v1", API_VERSION]);

function cleanMetadata(metadata: unknown): unknown {
  if (!isRecord(metadata)) return metadata;
  const cleaned: Record<string, unknown> = { ...metadata };
  for (const key of SERVER_SET_METADATA) delete cleaned[key];
  if (isRecord(cleaned.annotations) && LAST_APPLIED in cleaned.annotations) {
    const { [LAST_APPLIED]: _dropped, ...annotations } = cleaned.annotations;
    if (Object.keys(annotations).length > 0) cleaned.annotations = annotations;
    else delete cleaned.annotations;
  }
  return cleaned;
}

/** ImageStreamTag `stream:tag` names become `stream.tag`; the real tag name goes to `tag.name`. */
function convertIstagName(object: Record<string, unknown>): void {
  const metadata = object.metadata;
  if (!isRecord(metadata) || typeof metadata.name !== "string" || !metadata.name.includes(":")) return;
  const parsed = parseStreamTag(metadata.name);
  if (parsed === null)
    throw new UsageError(`ImageStreamTag name "${metadata.name}" is not a valid stream:tag`);
  metadata.name = istagObjectName(parsed.stream, parsed.tag);
  if (isRecord(object.tag)) {
    if (object.tag.name === undefined) object.tag = { ...object.tag, name: parsed.tag };
  } else {
    object.tag = { name: parsed.tag };
  }
}

/** One object converted; Lists convert each item. Other values pass through unchanged. */
export function convertObject(value: unknown): unknown {
  if (!isRecord(value)) return value;
  const object: Record<string, unknown> = { ...value };
  if ("metadata" in object) object.metadata = cleanMetadata(object.metadata);
  if (typeof object.kind === "string" && object.kind.endsWith("List") && Array.isArray(object.items)) {
    object.items = object.items.map(convertObject);
    return object;
  }
  if (
    typeof object.kind === "string" &&
    IMAGE_KINDS.has(object.kind) &&
    typeof object.apiVersion === "string" &&
    IMAGE_API_VERSIONS.has(object.apiVersion)
  ) {
    object.apiVersion = API_VERSION;
    if (object.kind === "ImageStreamTag") convertIstagName(object);
  }
  return object;
}

/** Converts every document of a YAML or JSON text; prints them as a YAML stream. */
export function convertManifests(text: string): string {
  let documents: unknown[];
  try {
    documents = loadAll(text);
  } catch (error) {
    throw new UsageError(
      `convert: input is not valid YAML/JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return documents
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc) => dump(convertObject(doc), { noRefs: true, lineWidth: -1 }))
    .join("---\n");
}
