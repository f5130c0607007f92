// A webhook request to a receiver as a decision: unknown path 404, oversized 413,
// unverified 401, malformed 400 (each with a reason for a metric and a message for a debug
// line), or the image events it names (202: accepted, imports follow asynchronously).

import { MAX_WEBHOOK_BODY_BYTES, parseJsonObject, type Rejection, reject } from "../http/index.ts";
import type { ImageEvent, Receiver } from "./model.ts";
import { PARSERS, type ReceiverRequest, verifyRequest } from "./providers.ts";

export type ReceiveResult = Rejection | { ok: true; status: 202; events: ImageEvent[]; ignored: string[] };

function eventKey(e: ImageEvent): string {
  return `${e.registry}/${e.repository}:${e.tag ?? "*"}${e.includeSubRepositories ? "/**" : ""}`;
}

export function receive(
  receiver: Receiver | undefined,
  request: ReceiverRequest,
  maxBytes: number = MAX_WEBHOOK_BODY_BYTES,
): ReceiveResult {
  if (!receiver) return reject(404, "unknown-receiver", "no receiver has this path");
  if (request.body.length > maxBytes) return reject(413, "too-large", `body exceeds ${maxBytes} bytes`);
  const unverified = verifyRequest(receiver, request);
  if (unverified) return unverified;
  const json = parseJsonObject(request.body, maxBytes);
  if (!json.ok) return json;
  const parsed = PARSERS[receiver.provider](json.value, request, receiver);
  if ("status" in parsed) return parsed;
  const unique = new Map(parsed.events.map((e) => [eventKey(e), e]));
  return { ok: true, status: 202, events: [...unique.values()], ignored: parsed.ignored };
}
