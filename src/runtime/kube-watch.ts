// A watch request and its wire format: the API server streams one JSON object per line,
// `{"type":"ADDED","object":{...}}`, until it ends the watch (timeoutSeconds) or the client aborts.

import { type KubeRequest, kubeResponse } from "./kube-request.ts";
import type { KubeConnection } from "./kubeconfig.ts";

export interface RawWatchEvent {
  type: string;
  object: unknown;
}

/**
 * The lines of a stream of byte chunks; a line (or a UTF-8 character) split across chunks is
 * joined, and a last line without a newline is kept.
 */
export async function* lines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true });
    let newline = rest.indexOf("\n");
    while (newline !== -1) {
      yield rest.slice(0, newline);
      rest = rest.slice(newline + 1);
      newline = rest.indexOf("\n");
    }
  }
  rest += decoder.decode();
  if (rest !== "") yield rest;
}

/** One line of a watch stream as an event; undefined for a blank line. Throws on anything else. */
export function parseWatchLine(line: string): RawWatchEvent | undefined {
  if (line.trim() === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`watch stream: a line is not JSON: ${line.slice(0, 200)}`);
  }
  const event = parsed as Partial<RawWatchEvent> | null;
  if (typeof event !== "object" || event === null || typeof event.type !== "string")
    throw new Error(`watch stream: a line is not a watch event: ${line.slice(0, 200)}`);
  return { type: event.type, object: event.object };
}

/**
 * Runs a watch (`watch=true` is added to the query), calling `onEvent` for each event until the
 * server ends the stream (resolves) or it fails (rejects: a KubeApiError for a non-2xx answer,
 * an abort error when `signal` aborts, a timeout error when no bytes came for `idleTimeoutMs`).
 */
export async function kubeWatch(
  kc: KubeConnection,
  request: Omit<KubeRequest, "method" | "body" | "contentType">,
  onEvent: (event: RawWatchEvent) => void,
  options: { signal: AbortSignal; idleTimeoutMs: number },
): Promise<void> {
  const response = await kubeResponse(
    kc,
    { ...request, method: "GET", query: { ...request.query, watch: "true" } },
    options,
  );
  for await (const line of lines(response.body)) {
    const event = parseWatchLine(line);
    if (event) onEvent(event);
  }
}
