// Shared test helpers for the runtime unit tests.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { vi } from "vitest";
import { createLogger, type Logger } from "../../../src/log/logger.ts";
import { connectKube, type KubeConnection } from "../../../src/runtime/index.ts";

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs pending microtasks and zero-delay timers under fake timers. */
export async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** A logger whose JSON lines are collected for assertions. */
export function captureLogger(level = "debug"): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(...chunk.toString().split("\n").filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level }, sink);
  return { logger, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

export const silentLogger = (): Logger => createLogger({ level: "silent" });

/** Starts `server` on a free 127.0.0.1 port; the connection to a cluster there, with a bearer token. */
export async function listenLoopback(server: Server, token = "test-token"): Promise<KubeConnection> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return connectKube({ server: `http://127.0.0.1:${port}`, token });
}

/** Closes a server of listenLoopback, its open connections (watches) too. */
export async function closeServer(server: Server | undefined): Promise<void> {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
