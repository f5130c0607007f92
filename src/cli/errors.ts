// Errors of the kubectl plugin, by exit code: usage problems exit 2 (like kubectl's own flag
// errors), everything the cluster or the import says no to exits 1.
import { KubeApiError } from "../runtime/index.ts";

/** Bad command line: unknown flag, missing argument, invalid name. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** The request was well formed but failed: API error, failed import, timeout. Exit code 1. */
export class CommandError extends Error {
  readonly exitCode = 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CommandError";
  }
}

/** Exit code and message for any error a command threw. */
export function describeFailure(error: unknown): { exitCode: number; message: string } {
  if (error instanceof UsageError || error instanceof CommandError) {
    return { exitCode: error.exitCode, message: error.message };
  }
  const api = apiErrorMessage(error);
  if (api !== undefined) return { exitCode: 1, message: api };
  return { exitCode: 1, message: error instanceof Error ? error.message : String(error) };
}

/** "API error <code>: <the server's message>" for an error from the API server, else undefined. */
export function apiErrorMessage(error: unknown): string | undefined {
  const api = KubeApiError.from(error);
  if (api === undefined) return undefined;
  return api.message === `HTTP ${api.statusCode}`
    ? `API error ${api.statusCode}`
    : `API error ${api.statusCode}: ${api.message}`;
}
