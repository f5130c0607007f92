// Errors of the kubectl plugin, by exit code: usage problems exit 2 (like kubectl's own flag
// errors), everything the cluster or the import says no to exits 1.
import { isRecord } from "../api/index.ts";

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

/**
 * The server's message of a client-node ApiException (`code` plus a JSON Status `body`), or
 * undefined for other errors.
 */
export function apiErrorMessage(error: unknown): string | undefined {
  if (!isRecord(error) || typeof error.code !== "number" || !("body" in error)) return undefined;
  const body = error.body;
  let status: unknown = body;
  if (typeof body === "string") {
    try {
      status = JSON.parse(body);
    } catch {
      return `API error ${error.code}: ${body}`;
    }
  }
  if (isRecord(status) && typeof status.message === "string")
    return `API error ${error.code}: ${status.message}`;
  return `API error ${error.code}`;
}

/** HTTP status of a client-node ApiException, if the error is one. */
export function apiStatusCode(error: unknown): number | undefined {
  return isRecord(error) && typeof error.code === "number" && "body" in error ? error.code : undefined;
}
