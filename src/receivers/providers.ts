// One parser and one verifier per provider, over the payload shapes of each provider's public
// documentation. Verification uses the provider's own mechanism where it has one: GitHub's
// X-Hub-Signature-256 HMAC, GitLab's X-Gitlab-Token, Harbor's configured Authorization
// header, the Authorization header of distribution's endpoint `headers`; Docker Hub, Quay
// and the generic form rely on the secret path alone.

import {
  asRecord,
  asString,
  headerValue,
  hmacSha256Matches,
  type Rejection,
  reject,
  secretsEqual,
} from "../http/index.ts";
import { manifestPush, parseEnvelope } from "../push/index.ts";
import { normalizeRegistryHost, parseReference } from "../registry/index.ts";
import type { ImageEvent, Receiver, ReceiverProvider } from "./model.ts";

export interface ReceiverRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body (bounded by the shell). */
  body: Buffer;
}

/** Events named by a payload, and why parts of it named none. */
export interface ParsedPayload {
  events: ImageEvent[];
  ignored: string[];
}

type Json = Record<string, unknown>;
type Parser = (json: Json, request: ReceiverRequest, receiver: Receiver) => ParsedPayload | Rejection;

const MAX_EVENTS_PER_PAYLOAD = 100;

/**
 * A tagged reference as a normalized event; `hostOverride` replaces the host the payload
 * names (or adds one). Undefined when it is not a tagged image reference.
 */
function imageEvent(reference: string, hostOverride: string | undefined): ImageEvent | undefined {
  try {
    let parsed = parseReference(reference);
    // A digest-only reference names no tag to import; no tag at all means latest.
    if (parsed.tag === undefined) return undefined;
    if (hostOverride) {
      const components = parsed.writtenName.split("/");
      const first = components[0] ?? "";
      // The first component is the host exactly when parsing took it as the registry.
      const namesHost = components.length > 1 && normalizeRegistryHost(first) === parsed.registry;
      const path = namesHost ? components.slice(1).join("/") : parsed.writtenName;
      parsed = parseReference(`${hostOverride}/${path}:${parsed.tag}`);
    }
    return { registry: parsed.registry, repository: parsed.repository, tag: parsed.tag ?? "latest" };
  } catch {
    return undefined;
  }
}

const parseDockerHub: Parser = (json, _request, receiver) => {
  const repoName = asString(asRecord(json.repository)?.repo_name);
  const tag = asString(asRecord(json.push_data)?.tag);
  if (!repoName || !tag)
    return reject(400, "malformed", "Docker Hub payload needs repository.repo_name and push_data.tag");
  // callback_url is never called: the operator contacts no host a payload names.
  const event = imageEvent(`docker.io/${repoName}:${tag}`, receiver.registry);
  if (!event) return reject(400, "malformed", `"${repoName}:${tag}" is not an image reference`);
  return { events: [event], ignored: [] };
};

const parseQuay: Parser = (json, _request, receiver) => {
  const dockerUrl = asString(json.docker_url);
  const tags = json.updated_tags;
  if (!dockerUrl || !Array.isArray(tags)) {
    return reject(400, "malformed", "Quay repository_push payload needs docker_url and updated_tags");
  }
  return referencesToEvents(
    tags.map((t) => (typeof t === "string" ? `${dockerUrl}:${t}` : "")),
    receiver.registry,
  );
};

const parseHarbor: Parser = (json, _request, receiver) => {
  const type = asString(json.type);
  if (type !== "PUSH_ARTIFACT" && type !== "pushImage") {
    return { events: [], ignored: [`Harbor event type "${type ?? "unknown"}"`] };
  }
  const data = asRecord(json.event_data);
  const resources = data?.resources;
  if (!Array.isArray(resources)) return reject(400, "malformed", "Harbor payload needs event_data.resources");
  const references: string[] = [];
  const ignored: string[] = [];
  for (const raw of resources) {
    const resource = asRecord(raw);
    const url = asString(resource?.resource_url);
    const tag = asString(resource?.tag);
    if (!url) return reject(400, "malformed", "Harbor resource without resource_url");
    // Pushes by digest only report the digest as the tag.
    if (!tag || tag.startsWith("sha256:")) {
      ignored.push(`${url} pushed without a tag`);
      continue;
    }
    const at = url.indexOf("@");
    const withoutDigest = at >= 0 ? url.slice(0, at) : url;
    const slash = withoutDigest.lastIndexOf("/");
    const colon = withoutDigest.lastIndexOf(":");
    const repository = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
    references.push(`${repository}:${tag}`);
  }
  const parsed = referencesToEvents(references, receiver.registry);
  if ("status" in parsed) return parsed;
  return { events: parsed.events, ignored: [...ignored, ...parsed.ignored] };
};

const parseGitHub: Parser = (json, request, receiver) => {
  const event = headerValue(request.headers, "x-github-event");
  if (event === "ping") return { events: [], ignored: ["GitHub ping"] };
  if (event !== "registry_package") return { events: [], ignored: [`GitHub event "${event ?? "unknown"}"`] };
  const action = asString(json.action);
  if (action !== "published" && action !== "updated")
    return { events: [], ignored: [`registry_package action "${action}"`] };
  const pkg = asRecord(json.registry_package);
  const version = asRecord(pkg?.package_version);
  const type = (asString(pkg?.package_type) ?? asString(pkg?.ecosystem) ?? "").toUpperCase();
  if (!pkg || !version)
    return reject(400, "malformed", "registry_package payload needs registry_package.package_version");
  if (type !== "CONTAINER" && type !== "DOCKER") return { events: [], ignored: [`package type "${type}"`] };
  const tag = asString(asRecord(asRecord(version.container_metadata)?.tag)?.name);
  if (!tag) return { events: [], ignored: ["container version without a tag"] };
  const owner = asString(pkg.namespace) ?? asString(asRecord(pkg.owner)?.login);
  const name = asString(pkg.name);
  if (!owner || !name) return reject(400, "malformed", "registry_package needs namespace and name");
  // GHCR names are lower-case; GitHub reports the owner as written.
  return referencesToEvents(
    [`ghcr.io/${owner.toLowerCase()}/${name.toLowerCase()}:${tag}`],
    receiver.registry,
  );
};

const parseGitLab: Parser = (json, request, receiver) => {
  const event = headerValue(request.headers, "x-gitlab-event");
  if (event !== "Pipeline Hook") return { events: [], ignored: [`GitLab event "${event ?? "unknown"}"`] };
  const status = asString(asRecord(json.object_attributes)?.status);
  if (status !== "success") return { events: [], ignored: [`pipeline status "${status ?? "unknown"}"`] };
  const path = asString(asRecord(json.project)?.path_with_namespace);
  if (!path) return reject(400, "malformed", "Pipeline Hook payload needs project.path_with_namespace");
  const host = normalizeRegistryHost(receiver.registry ?? "registry.gitlab.com");
  try {
    const parsed = parseReference(`${host}/${path.toLowerCase()}`);
    // A pipeline names no image tag: every tag of the project's repositories is re-checked.
    return {
      events: [{ registry: host, repository: parsed.repository, includeSubRepositories: true }],
      ignored: [],
    };
  } catch {
    return reject(400, "malformed", `project "${path}" is not a repository name`);
  }
};

const parseDistribution: Parser = (_json, request, receiver) => {
  const envelope = parseEnvelope(request.body, headerValue(request.headers, "content-type"));
  if (!envelope.ok) return envelope;
  const events: ImageEvent[] = [];
  const ignored: string[] = [];
  for (const event of envelope.events) {
    const push = manifestPush(event);
    if ("reason" in push) {
      ignored.push(`${push.eventId}: ${push.reason}`);
      continue;
    }
    const host = receiver.registry ?? event.request?.host;
    if (!host) {
      ignored.push(`${push.eventId}: no registry host (set the receiver's registry)`);
      continue;
    }
    const parsed = imageEvent(`${host}/${push.repository}:${push.tag}`, undefined);
    if (parsed) events.push(parsed);
    else ignored.push(`${push.eventId}: ${host}/${push.repository}:${push.tag} is not an image reference`);
  }
  return { events, ignored };
};

const parseGeneric: Parser = (json, _request, receiver) => {
  const single = asString(json.image);
  const many = json.images;
  const references = single !== undefined ? [single] : Array.isArray(many) ? many : undefined;
  if (!references) return reject(400, "malformed", 'generic payload needs "image" or "images"');
  return referencesToEvents(
    references.map((r) => (typeof r === "string" ? r : "")),
    receiver.registry,
  );
};

function referencesToEvents(
  references: readonly string[],
  hostOverride: string | undefined,
): ParsedPayload | Rejection {
  if (references.length > MAX_EVENTS_PER_PAYLOAD) {
    return reject(413, "too-many-events", `more than ${MAX_EVENTS_PER_PAYLOAD} images in one payload`);
  }
  const events: ImageEvent[] = [];
  for (const reference of references) {
    const event = imageEvent(reference, hostOverride);
    if (!event) return reject(400, "malformed", `"${reference}" is not a tagged image reference`);
    events.push(event);
  }
  return { events, ignored: [] };
}

export const PARSERS: Readonly<Record<ReceiverProvider, Parser>> = {
  dockerhub: parseDockerHub,
  harbor: parseHarbor,
  quay: parseQuay,
  github: parseGitHub,
  gitlab: parseGitLab,
  distribution: parseDistribution,
  generic: parseGeneric,
};

/** Verification beyond the secret path; undefined when the request is authentic. */
export function verifyRequest(receiver: Receiver, request: ReceiverRequest): Rejection | undefined {
  const { headers, body } = request;
  switch (receiver.provider) {
    case "github":
      return hmacSha256Matches(body, receiver.token, headerValue(headers, "x-hub-signature-256"))
        ? undefined
        : reject(401, "bad-signature", "X-Hub-Signature-256 does not match the body");
    case "gitlab":
      return secretsEqual(headerValue(headers, "x-gitlab-token"), receiver.token)
        ? undefined
        : reject(401, "bad-token", "X-Gitlab-Token does not match");
    case "harbor":
      return secretsEqual(headerValue(headers, "authorization"), receiver.token)
        ? undefined
        : reject(401, "bad-token", "Authorization does not match the receiver's token");
    case "distribution":
      return secretsEqual(headerValue(headers, "authorization"), `Bearer ${receiver.token}`)
        ? undefined
        : reject(401, "bad-token", "Authorization is not Bearer <the receiver's token>");
    default:
      return undefined;
  }
}
