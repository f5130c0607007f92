// Child processes of the harness: spawned with output captured to a log file, stopped with
// SIGTERM then SIGKILL, and killed when the test process exits so nothing outlives a run.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface ProcessInfo {
  name: string;
  pid: number;
  logFile: string;
  /** Executable path, used to recognise the process again before killing it by pid. */
  command: string;
}

export interface ManagedProcess extends ProcessInfo {
  /** Resolves when the process has exited (or immediately if it already has). */
  stop(): Promise<void>;
  exited(): boolean;
  /** Resolves with the exit code once the process has exited (null when a signal ended it). */
  exitCode(): Promise<number | null>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Detached processes outlive this Node process (for `npm run cluster:up`). */
  detached?: boolean;
}

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let handlersInstalled = false;

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort: a process may still be writing into it
    }
  }
  tempDirs.clear();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killAllNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAllNow();
      // When nobody else handles the signal, restore Node's default (terminate) behaviour.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** A temp dir that is removed when the process exits, unless released earlier. */
export async function makeTempDir(prefix: string): Promise<string> {
  installExitHandlers();
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  tempDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

export function spawnLogged(opts: SpawnOptions): ManagedProcess {
  const detached = opts.detached ?? false;
  if (!detached) installExitHandlers();
  const fd = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", fd, fd],
      detached,
    });
  } finally {
    closeSync(fd);
  }
  let exitedFlag = false;
  const exitPromise = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitedFlag = true;
      live.delete(child);
      resolve(code);
    });
    child.once("error", () => {
      exitedFlag = true;
      live.delete(child);
      resolve(null);
    });
  });
  if (child.pid === undefined) {
    throw new Error(`cannot start ${opts.name} (${opts.command}): spawn failed`);
  }
  if (detached) child.unref();
  else live.add(child);
  const pid = child.pid;
  return {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    command: opts.command,
    exited: () => exitedFlag,
    exitCode: () => exitPromise,
    async stop() {
      if (exitedFlag) return;
      child.kill("SIGTERM");
      const timedOut = await Promise.race([exitPromise.then(() => false), sleep(5000).then(() => true)]);
      if (timedOut) {
        child.kill("SIGKILL");
        await exitPromise;
      }
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when `pid` runs `command` (guards against pid reuse when only a recorded pid is known). */
export function pidRuns(pid: number, command: string): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return argv0 === command;
  } catch {
    return false;
  }
}

/** Stops a process that is not our child (recorded pid): SIGTERM, then SIGKILL after 5s. */
export async function stopPid(pid: number, command: string): Promise<void> {
  if (!pidRuns(pid, command)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    if (!isAlive(pid) || !pidRuns(pid, command)) return;
    await sleep(100);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // exited meanwhile
  }
}

/** Ports handed out by this process: the kernel may offer a just-closed port again. */
const handedOut = new Set<number>();

/** A port that was free a moment ago on 127.0.0.1 and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await probePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

async function probePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port assigned"));
      });
    });
  });
}

export async function logTail(logFile: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(logFile, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export class StartupError extends Error {
  readonly logFile: string;
  constructor(message: string, logFile: string, tail: string, cause?: unknown) {
    super(`${message}\n--- last lines of ${logFile} ---\n${tail}`, { cause });
    this.name = "StartupError";
    this.logFile = logFile;
  }
}

/**
 * Polls `probe` until it returns true. Fails early when the process exits, and on timeout;
 * both errors carry the tail of the process's log.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what = proc.name,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.exited()) {
      throw new StartupError(`${what} exited during startup`, proc.logFile, await logTail(proc.logFile));
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(150);
  }
  throw new StartupError(
    `${what} not ready after ${timeoutMs} ms`,
    proc.logFile,
    await logTail(proc.logFile),
    lastError,
  );
}

/** Runs a command to completion, collecting its output; never throws for a non-zero exit. */
export async function run(
  command: string,
  args: string[],
  opts: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    // A child that exits without reading stdin must not crash the run with EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.stdin ?? "");
  });
}

/** Like `run`, but throws with the command's stderr when it fails. */
export async function runChecked(
  command: string,
  args: string[],
  opts: { stdin?: string } = {},
): Promise<string> {
  const result = await run(command, args, opts);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.code}): ${result.stderr || result.stdout}`,
    );
  }
  return result.stdout;
}
