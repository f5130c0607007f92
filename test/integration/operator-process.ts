// The operator as a real child process (`node src/main.ts ...`), as it runs in a Pod: its
// output captured for assertions and failure messages, its metrics and health endpoints on
// loopback ports, and a registry of every spawned process so afterAll can kill them all.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const live = new Set<OperatorProcess>();

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class OperatorProcess {
  readonly name: string;
  readonly metricsUrl: string;
  readonly healthUrl: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<Exit>;
  #output = "";

  constructor(name: string, child: ChildProcess, metricsUrl: string, healthUrl: string) {
    this.name = name;
    this.#child = child;
    this.metricsUrl = metricsUrl;
    this.healthUrl = healthUrl;
    const capture = (chunk: Buffer): void => {
      this.#output += chunk.toString("utf8");
    };
    child.stdout?.on("data", capture);
    child.stderr?.on("data", capture);
    this.#exited = new Promise((resolveExit) => {
      child.once("exit", (code, signal) => {
        live.delete(this);
        resolveExit({ code, signal });
      });
      child.once("error", () => {
        live.delete(this);
        resolveExit({ code: null, signal: null });
      });
    });
  }

  get output(): string {
    return this.#output;
  }

  /** The last lines of its output, for failure messages. */
  tail(lines = 40): string {
    return `--- ${this.name} (last ${lines} lines) ---\n${this.#output.trimEnd().split("\n").slice(-lines).join("\n")}`;
  }

  /** Its leader-election identity, as its elector logs it (undefined before it campaigns). */
  get identity(): string | undefined {
    for (const entry of logEntries(this.#output)) {
      if (entry.component === "leader-election" && typeof entry.identity === "string") return entry.identity;
    }
    return undefined;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal);
  }

  /** Resolves with how it exited; rejects after `timeoutMs`. */
  async exit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} still running after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** HTTP status of /readyz (fetch errors while it starts propagate). */
  async readyz(): Promise<number> {
    const res = await fetch(`${this.healthUrl}/readyz`);
    await res.body?.cancel();
    return res.status;
  }

  /** The imagestream_leader gauge from /metrics. */
  async leaderGauge(): Promise<number> {
    const res = await fetch(`${this.metricsUrl}/metrics`);
    const text = await res.text();
    const match = /^imagestream_leader (\S+)$/m.exec(text);
    if (!match) throw new Error(`${this.name}: no imagestream_leader sample in /metrics`);
    return Number(match[1]);
  }
}

/** JSON log lines (pino) of the output; other lines are skipped. */
export function logEntries(output: string): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut mid-write, or not JSON after all
    }
  }
  return entries;
}

/** `count` distinct ports that were free on 127.0.0.1 a moment ago (held open together, so distinct). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolveListen, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolveListen);
      });
    }
    return servers.map((s) => {
      const address = s.address();
      if (!address || typeof address !== "object") throw new Error("no port assigned");
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/**
 * Spawns `node src/main.ts <args>` from the repository root with metrics and health on fresh
 * loopback ports. The environment is minimal so no IMAGESTREAM_* or KUBECONFIG of the caller
 * leaks in; POD_NAME names the replica in the Events it reports.
 */
export async function startOperatorProcess(name: string, args: string[]): Promise<OperatorProcess> {
  const [metricsPort, healthPort] = (await freeLoopbackPorts(2)) as [number, number];
  const child = spawn(
    process.execPath,
    [
      "src/main.ts",
      `--metrics-address=127.0.0.1:${metricsPort}`,
      `--health-address=127.0.0.1:${healthPort}`,
      ...args,
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_OPTIONS: "--disable-warning=ExperimentalWarning",
        POD_NAME: name,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const operator = new OperatorProcess(
    name,
    child,
    `http://127.0.0.1:${metricsPort}`,
    `http://127.0.0.1:${healthPort}`,
  );
  if (operator.running) live.add(operator);
  return operator;
}

/** SIGKILLs every operator process still running and waits for them to go. */
export async function killAllOperatorProcesses(): Promise<void> {
  const running = [...live];
  for (const p of running) p.kill("SIGKILL");
  await Promise.all(running.map((p) => p.exit(10_000).catch(() => undefined)));
}
