// One HTTP request to the API server with the connection's credentials and connection pool: the
// request every list, watch and object call of the runtime goes through. A non-2xx answer is
// thrown as a KubeApiError carrying the Status the server sent.
import { type ResponseData, requestUrl } from "../registry/index.ts";
import { errorFromStatus } from "./errors.ts";
import type { KubeConnection } from "./kubeconfig.ts";

export interface KubeRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** API path without query, e.g. `/apis/apps/v1/namespaces/team/deployments/web`. */
  path: string;
  query?: Record<string, string | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** Content type of the body (default application/json; patches name theirs). */
  contentType?: string;
  accept?: string;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** Longest wait for the next bytes of the body (undici's bodyTimeout; default 5 minutes). */
  idleTimeoutMs?: number;
}

/** Sends the request; resolves to the parsed JSON body (undefined when empty). */
export async function kubeRequest(kc: KubeConnection, request: KubeRequest): Promise<unknown> {
  const response = await kubeResponse(kc, request);
  return parseJson(await response.body.text());
}

/**
 * Sends the request and resolves once the headers of a 2xx answer arrived, its body unread (a
 * watch streams it); any other answer is read and thrown as a KubeApiError.
 */
export async function kubeResponse(
  kc: KubeConnection,
  request: KubeRequest,
  options: StreamOptions = {},
): Promise<ResponseData> {
  const url = new URL(kc.server + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, value);
  }
  const headers: Record<string, string> = { accept: request.accept ?? "application/json" };
  const authorization = await kc.authorization();
  if (authorization !== undefined) headers.authorization = authorization;
  if (request.body !== undefined) headers["content-type"] = request.contentType ?? "application/json";
  const response = await requestUrl(kc.dispatcher, url, {
    method: request.method,
    headers,
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.idleTimeoutMs !== undefined ? { bodyTimeout: options.idleTimeoutMs } : {}),
  });
  if (response.statusCode >= 200 && response.statusCode < 300) return response;
  if (response.statusCode === 401) kc.rejected();
  throw errorFromStatus(response.statusCode, parseJson(await response.body.text()));
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
