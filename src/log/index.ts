// Structured logging (pino): the one logger of the process and per-object child loggers.
export { createLogger, formatTextLine, forObject, type Logger, type LogSettings } from "./logger.ts";
