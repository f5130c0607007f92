// Liveness and readiness checks behind /healthz and /readyz, reported the way the Kubernetes
// API server reports its own ("[+]name ok" / "[-]name failed: reason").

/** true: healthy; false or a string (the reason): unhealthy. Throwing counts as unhealthy. */
export type HealthCheck = () => boolean | string | Promise<boolean | string>;

export type CheckKind = "liveness" | "readiness";

export interface CheckOutcome {
  name: string;
  ok: boolean;
  message?: string;
}

export interface HealthReport {
  ok: boolean;
  checks: CheckOutcome[];
}

export interface HealthChecksOptions {
  /** A check that has not answered after this long counts as failed (default 5 s). */
  timeoutMs?: number;
}

export class HealthChecks {
  readonly #checks: Record<CheckKind, Map<string, HealthCheck>> = {
    liveness: new Map(),
    readiness: new Map(),
  };
  readonly #timeoutMs: number;

  constructor(options: HealthChecksOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** /healthz: the process is alive and not wedged (e.g. informers still hear from the API server). */
  addLiveness(name: string, check: HealthCheck): () => void {
    return this.#add("liveness", name, check);
  }

  /** /readyz: able to do its job, e.g. caches synced; a standby replica is ready while idle. */
  addReadiness(name: string, check: HealthCheck): () => void {
    return this.#add("readiness", name, check);
  }

  /** Runs every check of a kind concurrently; with no checks the report is healthy. */
  async run(kind: CheckKind): Promise<HealthReport> {
    const checks = await Promise.all(
      [...this.#checks[kind]].map(([name, check]) => runCheck(name, check, this.#timeoutMs)),
    );
    return { ok: checks.every((c) => c.ok), checks };
  }

  #add(kind: CheckKind, name: string, check: HealthCheck): () => void {
    const checks = this.#checks[kind];
    if (checks.has(name)) throw new Error(`${kind} check "${name}" is already registered`);
    checks.set(name, check);
    return () => {
      if (checks.get(name) === check) checks.delete(name);
    };
  }
}

async function runCheck(name: string, check: HealthCheck, timeoutMs: number): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs}ms`), timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(check), timeout]);
    if (result === true) return { name, ok: true };
    return { name, ok: false, message: result === false ? "failed" : result };
  } catch (err) {
    return { name, ok: false, message: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A check that only applies while `active()` holds, e.g. "informers synced" only while this
 * replica leads: a standby runs no informers and is still ready to take over.
 */
export function checkWhen(active: () => boolean, check: HealthCheck): HealthCheck {
  return () => (active() ? check() : true);
}

/** The response body: "ok" when healthy (unless verbose), else every check and a verdict. */
export function renderReport(kind: CheckKind, report: HealthReport, verbose: boolean): string {
  const endpoint = kind === "liveness" ? "healthz" : "readyz";
  if (report.ok && !verbose) return "ok\n";
  const lines = report.checks.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: ${c.message}`));
  lines.push(report.ok ? `${endpoint} check passed` : `${endpoint} check failed`);
  return `${lines.join("\n")}\n`;
}
