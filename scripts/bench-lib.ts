// What the benchmark scripts share: percentiles, sizes, and a cleanup list that also runs on
// SIGINT/SIGTERM, so an interrupted benchmark leaves no control plane, registry or operator behind.

/** The p-th percentile (nearest rank) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const cleanups: (() => Promise<void>)[] = [];
let cleaningUp: Promise<void> | undefined;

/** Registers what to stop at the end (run last-registered first). */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop();
      try {
        await fn?.();
      } catch (err) {
        console.error(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaningUp;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping everything this benchmark started...`);
    void cleanUp().finally(() => process.exit(130));
  });
}
