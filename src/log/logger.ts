import { Writable } from "node:stream";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger };

export interface LogSettings {
  level?: string;
  name?: string;
  /** `json` (default): one JSON object per line; `text`: one readable line per entry. */
  format?: "json" | "text";
}

/**
 * Paths redacted on every line: credentials and tokens must never reach a log, whatever a
 * caller passes in by mistake.
 */
const REDACT_PATHS = [
  "password",
  "token",
  "authorization",
  "auth",
  "*.password",
  "*.token",
  "*.authorization",
  "*.auth",
  "headers.authorization",
  "*.headers.authorization",
];

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/** One pino JSON line as `time LEVEL msg key=value ...` (values JSON-quoted when needed). */
export function formatTextLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, name: _name, ...fields } = entry;
  const parts = [
    String(time ?? ""),
    (LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5),
    String(msg ?? ""),
  ];
  for (const [key, value] of Object.entries(fields)) {
    const text = typeof value === "string" && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
    parts.push(`${key}=${text}`);
  }
  return parts.join(" ");
}

/** A destination that rewrites pino's JSON lines as text lines onto `out`. */
function textDestination(out: NodeJS.WritableStream): DestinationStream {
  let pending = "";
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        out.write(`${formatTextLine(pending.slice(0, newline))}\n`);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
      done();
    },
  });
}

export function createLogger(settings: LogSettings = {}, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name: settings.name ?? "imagestream-operator",
    level: settings.level ?? process.env.LOG_LEVEL ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const target = destination ?? (settings.format === "text" ? textDestination(process.stdout) : undefined);
  return target ? pino(options, target) : pino(options);
}

/** A child logger for one object: every controller line carries its namespace and name. */
export function forObject(log: Logger, namespace: string | undefined, name: string): Logger {
  return log.child(namespace ? { namespace, name } : { name });
}
