// Per-key exponential backoff, after client-go's ItemExponentialFailureRateLimiter:
// the n-th consecutive failure of a key waits base * 2^n, capped; forget() resets the key.

export interface RateLimiter {
  /** Delay before the next retry of `key`; counts one more failure. */
  when(key: string): number;
  /** Consecutive failures recorded for `key` since the last forget. */
  retries(key: string): number;
  /** The key succeeded (or stopped mattering): the next failure starts again at the base delay. */
  forget(key: string): void;
}

export interface BackoffOptions {
  /** First delay in milliseconds (client-go: 5 ms). */
  baseMs?: number;
  /** Upper bound of any delay in milliseconds. */
  maxMs?: number;
  /**
   * Fraction of the delay added at random (0 = none, 0.1 = up to +10%) so that keys failing
   * together do not retry in lock-step. The result never exceeds maxMs.
   */
  jitter?: number;
  /** Source of randomness in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_BASE_MS = 5;
/** Five minutes rather than client-go's 1000 s: a registry that recovers should be seen soon. */
export const DEFAULT_BACKOFF_MAX_MS = 5 * 60_000;

/** The delay for the given number of earlier failures: a pure function, shared by all limiters. */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  // 2^failures overflows to Infinity for large counts; Math.min keeps the cap.
  const exponential = Math.min(base * 2 ** failures, max);
  const jitter = options.jitter ?? 0;
  if (jitter <= 0) return exponential;
  const random = options.random ?? Math.random;
  return Math.min(exponential * (1 + jitter * random()), max);
}

export class ExponentialBackoff implements RateLimiter {
  readonly #failures = new Map<string, number>();
  readonly #options: BackoffOptions;

  constructor(options: BackoffOptions = {}) {
    const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
    const max = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
    if (!(base > 0) || !(max >= base)) {
      throw new RangeError(`backoff needs 0 < baseMs <= maxMs, got baseMs=${base} maxMs=${max}`);
    }
    this.#options = { ...options };
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return backoffDelay(failures, this.#options);
  }

  retries(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }
}
