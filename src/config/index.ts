export type { Config, ControllerName } from "./settings.ts";
export { CONTROLLER_NAMES, ConfigError, helpText, parseConfig, parseDuration, SETTINGS } from "./settings.ts";
