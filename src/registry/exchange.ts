// HTTP exchanges with a registry on top of the transport: every request under the
// registry's shared budget (concurrency, rate, 429 backoff), reported to the observer, and
// redirects followed by hand so that Authorization goes only to the origin it was meant for.

import { errorForStatus, errorForTransport, parseRetryAfter, RegistryError } from "./errors.ts";
import { type BudgetOptions, RegistryBudget } from "./limiter.ts";
import { type HttpMethod, type HttpResponse, headerValue, type Transport } from "./transport.ts";

export type RequestKind = "ping" | "token" | "manifest" | "blob" | "tags";

/** One HTTP exchange, for metrics. `status` is "error" when no response arrived. */
export interface RequestEvent {
  registry: string;
  method: HttpMethod;
  kind: RequestKind;
  status: number | "error";
  durationMs: number;
}

/** What every request of one call shares: for whom, about what, and how. */
export interface CallScope {
  /** Normalized registry host (`docker.io`, `localhost:5000`): budgets and policy are per registry. */
  registry: string;
  /** What was asked for, as shown in error messages. */
  subject: string;
  /** Plain HTTP and unverified TLS allowed (stream or tag marked insecure). */
  insecure: boolean;
  signal: AbortSignal | undefined;
  /** `host[:port]` to connect to when it is not the registry's name (RegistryEndpoint). */
  endpoint?: string | undefined;
}

export interface ExchangeOptions {
  transport: Transport;
  userAgent: string;
  budget: BudgetOptions;
  now: () => number;
  onRequest?: ((event: RequestEvent) => void) | undefined;
  /** A request waited `waitedMs` for the registry's shared budget (reported from 10 ms on). */
  onRateLimitWait?: ((registry: string, waitedMs: number) => void) | undefined;
}

const MAX_REDIRECTS = 5;
const RATE_LIMIT_WAIT_REPORT_MS = 10;
const ERROR_BODY_LIMIT = 64 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Same scheme, host and port: only then may an Authorization header follow a redirect. */
export function sameOrigin(a: string | URL, b: string | URL): boolean {
  return new URL(a).origin === new URL(b).origin;
}

export class Exchange {
  readonly #options: ExchangeOptions;
  readonly #budgets = new Map<string, RegistryBudget>();

  constructor(options: ExchangeOptions) {
    this.#options = options;
  }

  #budgetFor(registry: string): RegistryBudget {
    let budget = this.#budgets.get(registry);
    if (!budget) {
      budget = new RegistryBudget(this.#options.budget);
      this.#budgets.set(registry, budget);
    }
    return budget;
  }

  #report(
    scope: CallScope,
    kind: RequestKind,
    method: HttpMethod,
    status: number | "error",
    started: number,
  ) {
    this.#options.onRequest?.({
      registry: scope.registry,
      method,
      kind,
      status,
      durationMs: this.#options.now() - started,
    });
  }

  /** One request under the registry's budget; a short 429 is waited out once. */
  async send(
    scope: CallScope,
    kind: RequestKind,
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
  ): Promise<HttpResponse> {
    const { now } = this.#options;
    const budget = this.#budgetFor(scope.registry);
    for (let attempt = 0; ; attempt++) {
      const started = now();
      let res: HttpResponse;
      try {
        res = await budget.run(() => {
          // Time spent queued behind the registry's concurrency, rate or 429 budget.
          const waitedMs = now() - started;
          if (waitedMs >= RATE_LIMIT_WAIT_REPORT_MS)
            this.#options.onRateLimitWait?.(scope.registry, waitedMs);
          return this.#options.transport({
            registry: scope.registry,
            url,
            method,
            headers: { "user-agent": this.#options.userAgent, ...headers },
            unverifiedTls: scope.insecure,
            signal: scope.signal,
          });
        }, scope.registry);
      } catch (err) {
        // Refused by the budget or the host policy: nothing was sent.
        if (err instanceof RegistryError) throw err;
        this.#report(scope, kind, method, "error", started);
        throw errorForTransport(err, scope.registry);
      }
      this.#report(scope, kind, method, res.status, started);
      if (res.status !== 429) {
        budget.succeeded();
        return res;
      }
      const retryAfter = parseRetryAfter(headerValue(res.headers, "retry-after"), now());
      const waited = budget.rateLimited(retryAfter);
      // Short backoffs are waited out once (the paused queue holds the retry); longer ones
      // fail so the controller requeues the work at the time the registry asked for.
      if (attempt > 0 || waited * 1000 > this.#options.budget.maxBackoffWaitMs) return res;
      await res.discard();
    }
  }

  /**
   * Follows redirects by hand: Authorization goes only to the origin it was meant for (blob
   * storage redirects get none), and HTTPS never downgrades to HTTP unless the call is insecure.
   */
  async follow(
    scope: CallScope,
    kind: RequestKind,
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
    authorization: string | undefined,
  ): Promise<{ res: HttpResponse; url: string }> {
    const origin = new URL(url);
    let current = origin;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const hopHeaders = { ...headers };
      if (authorization !== undefined && sameOrigin(current, origin))
        hopHeaders.authorization = authorization;
      const res = await this.send(scope, kind, method, current.toString(), hopHeaders);
      const location = headerValue(res.headers, "location");
      if (!REDIRECT_STATUSES.has(res.status) || location === undefined)
        return { res, url: current.toString() };
      await res.discard();
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new RegistryError("BadResponse", `registry "${scope.registry}" redirected to an invalid URL`);
      }
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        throw new RegistryError("BadResponse", `registry "${scope.registry}" redirected to a non-HTTP URL`);
      }
      if (next.protocol === "http:" && current.protocol === "https:" && !scope.insecure) {
        throw new RegistryError(
          "BadResponse",
          `registry "${scope.registry}" redirected from HTTPS to plain HTTP; mark the image stream insecure to allow it`,
        );
      }
      current = next;
    }
    throw new RegistryError(
      "BadResponse",
      `registry "${scope.registry}" redirected more than ${MAX_REDIRECTS} times`,
    );
  }

  /** The error for an unexpected status, reading the body's distribution error codes. */
  async failure(scope: CallScope, res: HttpResponse, subject = scope.subject): Promise<RegistryError> {
    let body = "";
    try {
      body = (await res.read(ERROR_BODY_LIMIT)).toString("utf8");
    } catch {
      // An unreadable or huge error body does not change the status's meaning.
    }
    return errorForStatus({
      subject,
      registry: scope.registry,
      status: res.status,
      retryAfterHeader: headerValue(res.headers, "retry-after"),
      body,
      nowMs: this.#options.now(),
    });
  }

  /** Reads a body within `limit`; `what` names it in errors (the transport cannot say what it read). */
  async read(scope: CallScope, res: HttpResponse, limit: number, what: string): Promise<Buffer> {
    try {
      return await res.read(limit);
    } catch (err) {
      if (err instanceof RegistryError) {
        throw new RegistryError(err.reason, `reading ${what}: ${err.message}`, { cause: err });
      }
      throw errorForTransport(err, scope.registry);
    }
  }
}
