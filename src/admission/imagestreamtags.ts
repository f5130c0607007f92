// The answer to creating an ImageStreamTag, which is what makes `oc tag` work here. oc first
// sends `PUT imagestreamtags/<stream>:<tag>` (404: no such object) and then
// `POST imagestreamtags` with that name; only a 403 or 405 to the POST makes it fall back to
// editing the destination ImageStream's spec.tags (GET, then PUT or POST of the stream). A
// mutating webhook runs before the API server's name check (which would answer 422, and oc would
// stop), so it refuses the `:` name with 403 and says which name works here.

import { isRecord, istagObjectName, parseStreamTag, validateIstagObjectName } from "../api/index.ts";
import { type AdmissionDecision, type AdmissionRequest, allow, deny } from "./review.ts";

/** The `<stream>.<tag>` name that works here for OpenShift's `<stream>:<tag>`, if there is one. */
function dotName(colonName: string): string | undefined {
  const parsed = parseStreamTag(colonName);
  if (!parsed || validateIstagObjectName(parsed.stream, parsed.tag) !== null) return undefined;
  return istagObjectName(parsed.stream, parsed.tag);
}

/**
 * CREATE of an ImageStreamTag:
 * - a name with `:` (OpenShift's `<stream>:<tag>`) is refused with 403 Forbidden and a message
 *   naming the `<stream>.<tag>` form, so that oc falls back to editing the ImageStream;
 * - an `image` without `dockerImageReference` (Go clients always send an empty `image`) is
 *   removed, as OpenShift ignores a client's image on create; the operator fills it in.
 */
export function imageStreamTagCreateDecision(object: unknown): AdmissionDecision {
  const metadata = isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
  const name = typeof metadata.name === "string" ? metadata.name : "";
  if (name.includes(":")) {
    const suggestion = dotName(name);
    const instead = suggestion ? `; create it as "${suggestion}" instead` : "";
    return deny(
      403,
      "Forbidden",
      `ImageStreamTag "${name}": names here are <stream>.<tag> (a Kubernetes object name cannot contain ":")${instead}. ` +
        "oc tag edits the ImageStream's spec.tags when it receives this answer",
    );
  }
  const image = isRecord(object) ? object.image : undefined;
  if (
    isRecord(image) &&
    !(typeof image.dockerImageReference === "string" && image.dockerImageReference !== "")
  ) {
    return allow([{ op: "remove", path: "/image" }]);
  }
  return allow();
}

/** The decision for an admission request on imagestreamtags: only CREATE is answered. */
export function imageStreamTagDecision(request: AdmissionRequest): AdmissionDecision {
  if (request.operation !== "CREATE" || request.subResource !== "") return allow();
  return imageStreamTagCreateDecision(request.object);
}
