// Command-line parsing shared by the commands: node:util's strict parseArgs (unknown flags
// are errors), durations like kubectl's `--timeout`, and `[ns/]stream:tag` names.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { validateStreamName, validateTagName } from "../api/index.ts";
import { UsageError } from "./errors.ts";

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  namespace: { type: "string", short: "n" },
  kubeconfig: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

/** Strict parse of `argv` with `options`; every parse error becomes a UsageError. */
export function parseCommandLine<const O extends ParseArgsOptionsConfig>(
  command: string,
  argv: readonly string[],
  options: O,
) {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...COMMON_OPTIONS, ...options },
      strict: true,
      allowPositionals: true,
    });
    return { values, positionals };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${command}: ${detail.split("\n")[0]}`, { cause: error });
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `2m`, `500ms`, `1h`, a bare number of seconds; 0 means "do not wait". */
export function parseDuration(flag: string, value: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new UsageError(`--${flag}: "${value}" is not a duration (e.g. 30s, 2m, 500ms)`);
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? "s"] ?? 1000));
}

export interface StreamTagRef {
  /** Undefined when the name carries no `ns/` prefix. */
  namespace: string | undefined;
  stream: string;
  tag: string;
}

const NAMESPACE = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/** Splits an optional `ns/` prefix and validates it. */
export function splitNamespace(value: string): { namespace: string | undefined; rest: string } {
  const slash = value.indexOf("/");
  if (slash < 0) return { namespace: undefined, rest: value };
  const namespace = value.slice(0, slash);
  if (!NAMESPACE.test(namespace) || namespace.length > 63) {
    throw new UsageError(`"${value}": "${namespace}" is not a valid namespace name`);
  }
  return { namespace, rest: value.slice(slash + 1) };
}

/**
 * `[ns/]stream:tag`; `defaultTag` (when given) fills in a missing `:tag`. Invalid names are
 * UsageErrors with the API package's messages.
 */
export function parseStreamTagRef(value: string, defaultTag?: string): StreamTagRef {
  const { namespace, rest } = splitNamespace(value);
  const colon = rest.indexOf(":");
  if (colon < 0 && defaultTag === undefined) {
    throw new UsageError(`"${value}" must be [namespace/]stream:tag`);
  }
  const stream = colon < 0 ? rest : rest.slice(0, colon);
  const tag = colon < 0 ? (defaultTag ?? "") : rest.slice(colon + 1);
  const problem = validateStreamName(stream) ?? validateTagName(tag);
  if (problem) throw new UsageError(problem);
  return { namespace, stream, tag };
}
