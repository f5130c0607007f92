import { type Logger, type LoggerOptions, pino } from "pino";

export type { Logger };

export interface LogSettings {
  level?: string;
  name?: string;
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

export function createLogger(settings: LogSettings = {}, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    name: settings.name ?? "imagestream-operator",
    level: settings.level ?? process.env.LOG_LEVEL ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A child logger for one object: every controller line carries its namespace and name. */
export function forObject(log: Logger, namespace: string | undefined, name: string): Logger {
  return log.child(namespace ? { namespace, name } : { name });
}
