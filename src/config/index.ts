export type { Config, ControllerName, LogFormat } from "./settings.ts";
export {
  CONTROLLER_NAMES,
  ConfigError,
  helpText,
  LOG_FORMATS,
  parseConfig,
  parseDuration,
  SETTINGS,
} from "./settings.ts";
