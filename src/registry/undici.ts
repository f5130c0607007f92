// undici, loaded without what the operator never uses. Its index eagerly loads fetch, web
// streams' glue, WebSocket, EventSource, the cache store and the mocks: about 11 MiB of RSS and
// 3 MiB of heap more than the three pieces below (docs/memory.md, "Fixed cost"). Every runtime
// use of undici in src/ goes through this module; elsewhere `import type` from "undici" only.
import { createRequire } from "node:module";
import type * as Undici from "undici";

const require = createRequire(import.meta.url);

/** A connection pool per origin; `dispatcher.request(...)` sends one request. */
export const Agent: typeof Undici.Agent = require("undici/lib/dispatcher/agent.js");
/** undici's TLS/TCP connector, which the host policy wraps (transport.ts). */
export const buildConnector: typeof Undici.buildConnector = require("undici/lib/core/connect.js");

// What undici's index does to give every dispatcher its `request` method, and nothing more.
const Dispatcher: typeof Undici.Dispatcher = require("undici/lib/dispatcher/dispatcher.js");
const requestApi: Undici.Dispatcher["request"] = require("undici/lib/api/api-request.js");
if (Dispatcher.prototype.request === undefined) Dispatcher.prototype.request = requestApi;

export type Dispatcher = Undici.Dispatcher;

/** One request to `url` through `dispatcher` (what undici's top-level `request(url, ...)` does). */
export function requestUrl(
  dispatcher: Undici.Dispatcher,
  url: URL,
  options: Omit<Undici.Dispatcher.RequestOptions, "origin" | "path">,
): Promise<Undici.Dispatcher.ResponseData> {
  return dispatcher.request({ ...options, origin: url.origin, path: url.pathname + url.search });
}

export type ResponseData = Undici.Dispatcher.ResponseData;
export type BuildOptions = Undici.buildConnector.BuildOptions;
export type Connector = Undici.buildConnector.connector;
