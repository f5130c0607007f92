// One HTTP request to the API server with the kubeconfig's credentials and connection pool: the
// request every list and object call of the runtime goes through. A non-2xx answer is thrown as
// a KubeApiError carrying the Status the server sent.
import { HttpMethod, type KubeConfig, RequestContext } from "@kubernetes/client-node";
import { fetch } from "undici";
import { errorFromStatus } from "./errors.ts";

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

const METHODS = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
} as const;

/** Sends the request; resolves to the parsed JSON body (undefined when empty). */
export async function kubeRequest(kc: KubeConfig, request: KubeRequest): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("no current cluster in kubeconfig");
  const url = new URL(cluster.server + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, value);
  }
  const ctx = new RequestContext(url.toString(), METHODS[request.method]);
  await kc.applySecurityAuthentication(ctx);
  ctx.setHeaderParam("Accept", request.accept ?? "application/json");
  if (request.body !== undefined)
    ctx.setHeaderParam("Content-Type", request.contentType ?? "application/json");
  const dispatcher = ctx.getDispatcher();
  const response = await fetch(url, {
    method: request.method,
    headers: ctx.getHeaders(),
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    ...(dispatcher ? { dispatcher } : {}),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.status < 200 || response.status >= 300) throw errorFromStatus(response.status, body);
  return body;
}
