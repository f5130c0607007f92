import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `probe` until it returns something other than undefined (errors count as "not yet")
 * and returns that; fails after `timeoutMs` naming `what` and the last error seen.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError === undefined ? "" : `: ${String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`, { cause: lastError });
    }
    await sleep(200);
  }
}

/**
 * Waits until `state` (e.g. the resourceVersions of some objects) reads the same twice `quietMs`
 * apart: the controllers are done writing them. For tests that replay a client sending the
 * resourceVersion of its GET, which any later write would turn into a 409.
 */
export async function untilQuiet(state: () => Promise<string>, what: string, quietMs = 1000): Promise<void> {
  let last: string | undefined;
  await eventually(async () => {
    const now = await state();
    if (now === last) return true;
    last = now;
    await sleep(quietMs);
    return undefined;
  }, `${what} to stop changing`);
}
