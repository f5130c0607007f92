// The server side of HTTP: listeners with routes (plain or HTTPS with replaceable certificates)
// and what every inbound webhook shares (constant-time secret checks, bounded JSON bodies).
export {
  asRecord,
  asString,
  headerValue,
  hmacSha256Matches,
  MAX_WEBHOOK_BODY_BYTES,
  parseJsonObject,
  type Rejection,
  reject,
  secretsEqual,
} from "./inbound.ts";
export {
  DEFAULT_MAX_BODY_BYTES,
  type HttpReply,
  type HttpRequest,
  type HttpServerOptions,
  type ListenAddress,
  ListenError,
  parseListenAddress,
  type RequestObservation,
  type Route,
  type RunningHttpServer,
  startHttpServer,
  type TlsCertificate,
} from "./server.ts";
