// Naming rules of the API: image stream and tag names, and the `<stream>.<tag>` object
// names of ImageStreamTags (design.md section 2). Pure; the CRD's CEL rules say the same.
import { OBJECT_NAME_MAX_LENGTH, STREAM_NAME_PATTERN, TAG_NAME_PATTERN } from "./schema.ts";

const STREAM_NAME = new RegExp(STREAM_NAME_PATTERN);
const TAG_NAME = new RegExp(TAG_NAME_PATTERN);
/** A Kubernetes object name: an RFC 1123 subdomain. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function objectNameProblem(name: string): string | null {
  if (name.length > OBJECT_NAME_MAX_LENGTH) return `is longer than ${OBJECT_NAME_MAX_LENGTH} characters`;
  if (!DNS_SUBDOMAIN.test(name)) {
    return "is not a valid Kubernetes object name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)";
  }
  return null;
}

/** Why `name` cannot name an ImageStream here, or null when it can. */
export function validateStreamName(name: string): string | null {
  if (!STREAM_NAME.test(name)) {
    return `image stream name "${name}" is invalid: use lowercase letters and digits, separated by single '.', '_' or '-'`;
  }
  const problem = objectNameProblem(name);
  return problem ? `image stream name "${name}" ${problem}` : null;
}

/** Why `tag` is not a valid tag name, or null when it is. */
export function validateTagName(tag: string): string | null {
  if (!TAG_NAME.test(tag)) {
    return `"${tag}" is not a valid tag name: use 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`;
  }
  return null;
}

/** The tag as it appears in an object name: lower-cased, characters invalid in names replaced by `-`. */
export function normalizeTagForObjectName(tag: string): string {
  return tag.toLowerCase().replace(/[^a-z0-9.-]/g, "-");
}

/** Object name of the ImageStreamTag for `stream:tag`: `<stream>.<normalized tag>`. */
export function istagObjectName(stream: string, tag: string): string {
  return `${stream}.${normalizeTagForObjectName(tag)}`;
}

/**
 * Why `stream:tag` has no usable ImageStreamTag object name (invalid stream or tag, or a derived
 * name that Kubernetes refuses, e.g. a tag ending in '.'), or null when it has one.
 */
export function validateIstagObjectName(stream: string, tag: string): string | null {
  const invalid = validateStreamName(stream) ?? validateTagName(tag);
  if (invalid) return invalid;
  const name = istagObjectName(stream, tag);
  const problem = objectNameProblem(name);
  return problem ? `ImageStreamTag name "${name}" for ${stream}:${tag} ${problem}` : null;
}

/**
 * The stream an ImageStreamTag object belongs to, given its real tag name (`tag.name`): the
 * object name minus `.<normalized tag>`. Null when the object name does not end that way.
 */
export function streamNameFromIstagObjectName(objectName: string, tagName: string): string | null {
  const suffix = `.${normalizeTagForObjectName(tagName)}`;
  if (!objectName.endsWith(suffix) || objectName.length === suffix.length) return null;
  return objectName.slice(0, -suffix.length);
}

export interface StreamTag {
  stream: string;
  tag: string;
}

/** OpenShift's display form of an ImageStreamTag: `stream:tag`. */
export function formatStreamTag({ stream, tag }: StreamTag): string {
  return `${stream}:${tag}`;
}

/** Parses `stream:tag` (as in `oc get istag ruby:2.5` or trigger `from.name`); null when malformed. */
export function parseStreamTag(value: string): StreamTag | null {
  const colon = value.indexOf(":");
  if (colon < 0) return null;
  const stream = value.slice(0, colon);
  const tag = value.slice(colon + 1);
  if (validateStreamName(stream) !== null || validateTagName(tag) !== null) return null;
  return { stream, tag };
}

/** A namespace name: an RFC 1123 label. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface StreamRepository {
  namespace: string;
  stream: string;
}

/**
 * The stream a repository of the integrated registry stands for: exactly
 * `<namespace>/<stream>`, as in OpenShift. One path segment too few or too many, or names
 * Kubernetes would refuse: null.
 */
export function parseStreamRepository(repository: string): StreamRepository | null {
  const parts = repository.split("/");
  if (parts.length !== 2) return null;
  const [namespace = "", stream = ""] = parts;
  if (!DNS_LABEL.test(namespace) || validateStreamName(stream) !== null) return null;
  return { namespace, stream };
}

/** The integrated registry's repository of a stream: `<namespace>/<stream>`. */
export function formatStreamRepository({ namespace, stream }: StreamRepository): string {
  return `${namespace}/${stream}`;
}
