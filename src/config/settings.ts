// Every operator setting in one table: flag, environment variable, default, parser and the
// text shown by --help and in docs/configuration.md. Parsing is pure: argv, env and an
// optional YAML file's content in, a typed Config or a ConfigError naming the setting out.
import { load as loadYaml } from "js-yaml";
import type { NamespacedKey } from "../api/index.ts";
import { DEFAULT_BLOCKED_HOSTS, parseHostPattern } from "../registry/index.ts";

export class ConfigError extends Error {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(`invalid setting ${setting}: ${message}`);
    this.name = "ConfigError";
    this.setting = setting;
  }
}

export const CONTROLLER_NAMES = ["import", "imagestreamtag", "trigger"] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

export interface Config {
  kubeconfig: string | undefined;
  namespaces: string[];
  controllers: ControllerName[];
  importWorkers: number;
  istagWorkers: number;
  triggerWorkers: number;
  scheduledImportIntervalMs: number;
  scheduledImportsPerMinute: number;
  historyLimit: number;
  bulkImportLimit: number;
  defaultPlatform: { os: string; architecture: string; variant?: string };
  registryRequestsPerSecond: number;
  registryConcurrency: number;
  registryCacheSize: number;
  registryAllow: string[];
  registryBlock: string[];
  caBundle: string | undefined;
  localRegistry: string | undefined;
  publicRegistry: string | undefined;
  integratedRegistryUrl: string | undefined;
  registryTokenIssuer: string;
  registryTokenService: string;
  registryTokenLifetimeMs: number;
  registryAnonymousPull: boolean;
  registryTokenSigningSecret: NamespacedKey | undefined;
  registryTokenCaConfigMap: NamespacedKey | undefined;
  registryNotificationsTokenFile: string | undefined;
  registryCatchUpIntervalMs: number;
  hooksAddress: string;
  admissionAddress: string;
  admissionUrl: string | undefined;
  admissionService: NamespacedKey | undefined;
  admissionWebhookConfiguration: string;
  admissionCertificateSecret: NamespacedKey | undefined;
  admissionCertificateDir: string | undefined;
  admissionCaLifetimeMs: number;
  admissionCertificateLifetimeMs: number;
  admissionImportTimeoutMs: number;
  logLevel: string;
  logFormat: LogFormat;
  metricsAddress: string;
  healthAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  shutdownTimeoutMs: number;
}

interface Setting<K extends keyof Config> {
  key: K;
  flag: string;
  env: string;
  default: string;
  help: string;
  parse: (raw: string, setting: string) => Config[K];
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
export const LOG_FORMATS = ["json", "text"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

function integer(min: number) {
  return (raw: string, setting: string): number => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n))
      throw new ConfigError(setting, `"${raw}" is not an integer`);
    if (n < min) throw new ConfigError(setting, `${n} is below the minimum ${min}`);
    return n;
  };
}

/** Go-style durations as Kubernetes users write them: 500ms, 30s, 15m, 1h30m. */
export function parseDuration(raw: string, setting: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const text = raw.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2] ?? ""] ?? 0);
    consumed = re.lastIndex;
  }
  if (text === "" || consumed !== text.length) {
    throw new ConfigError(setting, `"${raw}" is not a duration (examples: 30s, 15m, 1h)`);
  }
  return Math.round(total);
}

function durationAtLeast(minMs: number) {
  return (raw: string, setting: string): number => {
    const ms = parseDuration(raw, setting);
    if (ms < minMs) throw new ConfigError(setting, `${raw} is shorter than the minimum ${minMs / 1000}s`);
    return ms;
  };
}

function list(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function boolean(raw: string, setting: string): boolean {
  if (/^(true|1|yes)$/i.test(raw.trim())) return true;
  if (/^(false|0|no)$/i.test(raw.trim())) return false;
  throw new ConfigError(setting, `"${raw}" is not a boolean (true or false)`);
}

function optional(raw: string): string | undefined {
  return raw.trim() === "" ? undefined : raw.trim();
}

function address(raw: string, setting: string): string {
  if (raw === "0" || /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/.test(raw)) return raw;
  throw new ConfigError(setting, `"${raw}" is not host:port, :port or 0 (disabled)`);
}

function platform(raw: string, setting: string): Config["defaultPlatform"] {
  const parts = raw.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_]+$/.test(p))) {
    throw new ConfigError(setting, `"${raw}" is not os/architecture[/variant], e.g. linux/amd64`);
  }
  const [os = "", architecture = "", variant] = parts;
  return variant ? { os, architecture, variant } : { os, architecture };
}

function controllers(raw: string, setting: string): ControllerName[] {
  const names = list(raw);
  for (const n of names) {
    if (!(CONTROLLER_NAMES as readonly string[]).includes(n)) {
      throw new ConfigError(setting, `unknown controller "${n}" (known: ${CONTROLLER_NAMES.join(", ")})`);
    }
  }
  return names as ControllerName[];
}

/** Host patterns with the registry client's one meaning (src/registry/host-policy.ts). */
function hosts(raw: string, setting: string): string[] {
  const entries = list(raw);
  for (const h of entries) {
    try {
      parseHostPattern(h);
    } catch (err) {
      throw new ConfigError(setting, (err as Error).message);
    }
  }
  return entries;
}

function logFormat(raw: string, setting: string): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(raw)) {
    throw new ConfigError(setting, `"${raw}" is not one of ${LOG_FORMATS.join(", ")}`);
  }
  return raw as LogFormat;
}

function level(raw: string, setting: string): string {
  if (!LOG_LEVELS.includes(raw))
    throw new ConfigError(setting, `"${raw}" is not one of ${LOG_LEVELS.join(", ")}`);
  return raw;
}

function name(raw: string, setting: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(raw))
    throw new ConfigError(setting, `"${raw}" is not a valid name`);
  return raw;
}

function durationBetween(minMs: number, maxMs: number) {
  const atLeast = durationAtLeast(minMs);
  return (raw: string, setting: string): number => {
    const ms = atLeast(raw, setting);
    if (ms > maxMs) throw new ConfigError(setting, `${raw} is longer than the maximum ${maxMs / 1000}s`);
    return ms;
  };
}

function nonEmpty(raw: string, setting: string): string {
  if (raw.trim() === "") throw new ConfigError(setting, "must not be empty");
  return raw.trim();
}

/** An optional URL of one of `schemes`, without the trailing slash; undefined when empty. */
function urlOf(schemes: readonly string[], example: string) {
  return (raw: string, setting: string): { value: string; url: URL } | undefined => {
    const value = optional(raw);
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(setting, `"${raw}" is not a URL (e.g. ${example})`);
    }
    if (!schemes.includes(url.protocol.slice(0, -1))) {
      throw new ConfigError(setting, `"${raw}" must be an ${schemes.map((s) => `${s}://`).join(" or ")} URL`);
    }
    return { value: value.replace(/\/+$/, ""), url };
  };
}

const anyHttpUrl = urlOf(["http", "https"], "http://registry.ns.svc:5000");
const httpsUrl = urlOf(["https"], "https://127.0.0.1:9443");

function httpUrl(raw: string, setting: string): string | undefined {
  return anyHttpUrl(raw, setting)?.value;
}

/** The URL kube-apiserver calls the webhooks at: https, no query or fragment (its url clientConfig rules). */
function webhookUrl(raw: string, setting: string): string | undefined {
  const parsed = httpsUrl(raw, setting);
  const url = parsed?.url;
  if (url && (url.search || url.hash || url.username || url.password)) {
    throw new ConfigError(setting, `"${raw}" may not carry a query, a fragment or credentials`);
  }
  return parsed?.value;
}

function objectKey(raw: string, setting: string): NamespacedKey | undefined {
  const value = optional(raw);
  if (value === undefined) return undefined;
  const [namespace = "", objectName = "", ...rest] = value.split("/");
  if (rest.length > 0 || namespace === "" || objectName === "") {
    throw new ConfigError(setting, `"${raw}" is not namespace/name`);
  }
  return { namespace: name(namespace, setting), name: name(objectName, setting) };
}

type SettingTable = { [K in keyof Config]: Setting<K> }[keyof Config][];

export const SETTINGS: SettingTable = [
  {
    key: "kubeconfig",
    flag: "kubeconfig",
    env: "KUBECONFIG",
    default: "",
    parse: optional,
    help: "Kubeconfig file (a list separated like PATH is merged as kubectl does); empty means in-cluster service account, then ~/.kube/config.",
  },
  {
    key: "namespaces",
    flag: "namespaces",
    env: "IMAGESTREAM_NAMESPACES",
    default: "",
    parse: (r, s) => list(r).map((n) => name(n, s)),
    help: "Comma-separated namespaces to watch; empty watches all namespaces.",
  },
  {
    key: "controllers",
    flag: "controllers",
    env: "IMAGESTREAM_CONTROLLERS",
    default: CONTROLLER_NAMES.join(","),
    parse: controllers,
    help: `Controllers to run (${CONTROLLER_NAMES.join(", ")}).`,
  },
  {
    key: "importWorkers",
    flag: "import-workers",
    env: "IMAGESTREAM_IMPORT_WORKERS",
    default: "4",
    parse: integer(1),
    help: "ImageStreams reconciled in parallel.",
  },
  {
    key: "istagWorkers",
    flag: "imagestreamtag-workers",
    env: "IMAGESTREAM_IMAGESTREAMTAG_WORKERS",
    default: "4",
    parse: integer(1),
    help: "ImageStreams whose ImageStreamTags are reconciled in parallel.",
  },
  {
    key: "triggerWorkers",
    flag: "trigger-workers",
    env: "IMAGESTREAM_TRIGGER_WORKERS",
    default: "4",
    parse: integer(1),
    help: "Workloads reconciled in parallel by the trigger controller.",
  },
  {
    key: "scheduledImportIntervalMs",
    flag: "scheduled-import-interval",
    env: "IMAGESTREAM_SCHEDULED_IMPORT_INTERVAL",
    default: "15m",
    parse: durationAtLeast(10_000),
    help: "How often tags with importPolicy.scheduled are re-imported (OpenShift: 15m).",
  },
  {
    key: "scheduledImportsPerMinute",
    flag: "scheduled-imports-per-minute",
    env: "IMAGESTREAM_SCHEDULED_IMPORTS_PER_MINUTE",
    default: "60",
    parse: integer(1),
    help: "Cluster-wide cap on scheduled imports per minute (OpenShift: 60).",
  },
  {
    key: "historyLimit",
    flag: "history-limit",
    env: "IMAGESTREAM_HISTORY_LIMIT",
    default: "25",
    parse: integer(1),
    help: "Tag history items kept per tag in status.",
  },
  {
    key: "bulkImportLimit",
    flag: "bulk-import-limit",
    env: "IMAGESTREAM_BULK_IMPORT_LIMIT",
    default: "50",
    parse: integer(-1),
    help: "Tags imported from spec.dockerImageRepository; -1 is unlimited (OpenShift: 50).",
  },
  {
    key: "defaultPlatform",
    flag: "default-platform",
    env: "IMAGESTREAM_DEFAULT_PLATFORM",
    default: "linux/amd64",
    parse: platform,
    help: "Platform picked from manifest lists in Legacy import mode when a tag states no preference.",
  },
  {
    key: "registryRequestsPerSecond",
    flag: "registry-requests-per-second",
    env: "IMAGESTREAM_REGISTRY_REQUESTS_PER_SECOND",
    default: "50",
    parse: integer(1),
    help: "Requests per second the operator sends to one registry, shared by all streams (backs off further on 429).",
  },
  {
    key: "registryConcurrency",
    flag: "registry-concurrency",
    env: "IMAGESTREAM_REGISTRY_CONCURRENCY",
    default: "8",
    parse: integer(1),
    help: "Requests in flight at once to one registry, shared by all streams.",
  },
  {
    key: "registryCacheSize",
    flag: "registry-cache-size",
    env: "IMAGESTREAM_REGISTRY_CACHE_SIZE",
    default: "1024",
    parse: integer(0),
    help: "Manifests and image configs kept in memory by digest, shared by every controller (content addressed, never stale; 0 disables).",
  },
  {
    key: "registryAllow",
    flag: "registry-allow",
    env: "IMAGESTREAM_REGISTRY_ALLOW",
    default: "",
    parse: hosts,
    help: "Registries users may import from (host, host:port, *.domain with one label, address, address/bits); empty allows all not blocked.",
  },
  {
    key: "registryBlock",
    flag: "registry-block",
    env: "IMAGESTREAM_REGISTRY_BLOCK",
    default: DEFAULT_BLOCKED_HOSTS.join(","),
    parse: hosts,
    help: "Hosts and addresses the operator never connects to, redirects and token realms included: names also by every address they resolve to (host, host:port, *.domain, address, address/bits); checked before the allow list.",
  },
  {
    key: "caBundle",
    flag: "ca-bundle",
    env: "IMAGESTREAM_CA_BUNDLE",
    default: "",
    parse: optional,
    help: "PEM file of extra CAs trusted for registry TLS, added to the system roots.",
  },
  {
    key: "localRegistry",
    flag: "local-registry",
    env: "IMAGESTREAM_LOCAL_REGISTRY",
    default: "",
    parse: optional,
    help: "Cluster registry host pods pull from; status.dockerImageRepository becomes <host>/<namespace>/<name> and referencePolicy Local tags resolve there. Empty: the host of --integrated-registry-url, if set.",
  },
  {
    key: "publicRegistry",
    flag: "public-registry",
    env: "IMAGESTREAM_PUBLIC_REGISTRY",
    default: "",
    parse: optional,
    help: "Host users push to (e.g. localhost:5001); status.publicDockerImageRepository becomes <host>/<namespace>/<name>. Empty: --local-registry.",
  },
  {
    key: "integratedRegistryUrl",
    flag: "integrated-registry-url",
    env: "IMAGESTREAM_INTEGRATED_REGISTRY_URL",
    default: "",
    parse: httpUrl,
    help: "URL at which the operator reaches the integrated registry (docs/push.md); empty: no integrated registry. Needs --hooks-address, --registry-token-signing-secret, --registry-token-ca-configmap and --registry-notifications-token-file.",
  },
  {
    key: "registryTokenIssuer",
    flag: "registry-token-issuer",
    env: "IMAGESTREAM_REGISTRY_TOKEN_ISSUER",
    default: "imagestream-operator",
    parse: nonEmpty,
    help: "Issuer of integrated-registry tokens; the registry's auth.token.issuer.",
  },
  {
    key: "registryTokenService",
    flag: "registry-token-service",
    env: "IMAGESTREAM_REGISTRY_TOKEN_SERVICE",
    default: "imagestream-integrated-registry",
    parse: nonEmpty,
    help: "Service (token audience) of the integrated registry; its auth.token.service.",
  },
  {
    key: "registryTokenLifetimeMs",
    flag: "registry-token-lifetime",
    env: "IMAGESTREAM_REGISTRY_TOKEN_LIFETIME",
    default: "5m",
    parse: durationBetween(60_000, 3_600_000),
    help: "Lifetime of integrated-registry tokens (1m to 1h).",
  },
  {
    key: "registryAnonymousPull",
    flag: "registry-anonymous-pull",
    env: "IMAGESTREAM_REGISTRY_ANONYMOUS_PULL",
    default: "false",
    parse: boolean,
    help: "Clients without credentials may pull <namespace>/<stream> from the integrated registry (dev clusters).",
  },
  {
    key: "registryTokenSigningSecret",
    flag: "registry-token-signing-secret",
    env: "IMAGESTREAM_REGISTRY_TOKEN_SIGNING_SECRET",
    default: "",
    parse: objectKey,
    help: "Secret (namespace/name) where the operator keeps its token signing key; only the operator reads it.",
  },
  {
    key: "registryTokenCaConfigMap",
    flag: "registry-token-ca-configmap",
    env: "IMAGESTREAM_REGISTRY_TOKEN_CA_CONFIGMAP",
    default: "",
    parse: objectKey,
    help: "ConfigMap (namespace/name) where the operator publishes the signing certificates, the registry's auth.token.rootcertbundle.",
  },
  {
    key: "registryNotificationsTokenFile",
    flag: "registry-notifications-token-file",
    env: "IMAGESTREAM_REGISTRY_NOTIFICATIONS_TOKEN_FILE",
    default: "",
    parse: optional,
    help: "File holding the shared secret the integrated registry sends with notifications (Authorization: Bearer <secret>).",
  },
  {
    key: "registryCatchUpIntervalMs",
    flag: "registry-catch-up-interval",
    env: "IMAGESTREAM_REGISTRY_CATCH_UP_INTERVAL",
    default: "10m",
    parse: durationAtLeast(30_000),
    help: "How often the leader reads every stream's tags in the integrated registry, to record pushes whose notification was lost.",
  },
  {
    key: "hooksAddress",
    flag: "hooks-address",
    env: "IMAGESTREAM_HOOKS_ADDRESS",
    default: "0",
    parse: address,
    help: "Listen address (plain HTTP) of the integrated registry's token and notification endpoints and of the receivers (docs/push.md); 0 disables it.",
  },
  {
    key: "admissionAddress",
    flag: "admission-address",
    env: "IMAGESTREAM_ADMISSION_ADDRESS",
    default: "0",
    parse: address,
    help: "Listen address (HTTPS) of the admission webhooks: image lookup, oc tag, oc import-image (docs/admission.md); 0 disables them.",
  },
  {
    key: "admissionUrl",
    flag: "admission-url",
    env: "IMAGESTREAM_ADMISSION_URL",
    default: "",
    parse: webhookUrl,
    help: "URL at which kube-apiserver reaches the webhooks when it cannot use a Service (an operator outside the cluster, e.g. https://127.0.0.1:9443): the operator then writes its whole MutatingWebhookConfiguration with this url. Empty: the configuration is the chart's and the operator writes only its caBundle.",
  },
  {
    key: "admissionService",
    flag: "admission-service",
    env: "IMAGESTREAM_ADMISSION_SERVICE",
    default: "",
    parse: objectKey,
    help: "Service (namespace/name) in front of the webhooks; the serving certificate names <name>.<namespace>.svc.",
  },
  {
    key: "admissionWebhookConfiguration",
    flag: "admission-webhook-configuration",
    env: "IMAGESTREAM_ADMISSION_WEBHOOK_CONFIGURATION",
    default: "imagestream-operator",
    parse: name,
    help: "Name of the operator's MutatingWebhookConfiguration (its caBundle is written by the operator unless certificates come from --admission-certificate-dir).",
  },
  {
    key: "admissionCertificateSecret",
    flag: "admission-certificate-secret",
    env: "IMAGESTREAM_ADMISSION_CERTIFICATE_SECRET",
    default: "",
    parse: objectKey,
    help: "Secret (namespace/name, in the operator's namespace) where the operator keeps the webhooks' CA and serving certificate, created when missing and rotated before expiry; the namespace is excluded from the webhooks.",
  },
  {
    key: "admissionCertificateDir",
    flag: "admission-certificate-dir",
    env: "IMAGESTREAM_ADMISSION_CERTIFICATE_DIR",
    default: "",
    parse: optional,
    help: "Directory with tls.crt and tls.key (e.g. a cert-manager Secret mounted): served instead of the operator's own certificates and reloaded when they change; the caBundle is then someone else's (cert-manager's CA injector).",
  },
  {
    key: "admissionCaLifetimeMs",
    flag: "admission-ca-lifetime",
    env: "IMAGESTREAM_ADMISSION_CA_LIFETIME",
    default: "43800h",
    parse: durationAtLeast(60_000),
    help: "Lifetime of the webhooks' CA (default 5 years); a new CA is published beside the old one when a third of it is left.",
  },
  {
    key: "admissionCertificateLifetimeMs",
    flag: "admission-certificate-lifetime",
    env: "IMAGESTREAM_ADMISSION_CERTIFICATE_LIFETIME",
    default: "2160h",
    parse: durationAtLeast(30_000),
    help: "Lifetime of the webhooks' serving certificate (default 90 days); renewed when a third of it is left.",
  },
  {
    key: "admissionImportTimeoutMs",
    flag: "admission-import-timeout",
    env: "IMAGESTREAM_ADMISSION_IMPORT_TIMEOUT",
    default: "25s",
    parse: durationBetween(1000, 28_000),
    help: "How long oc import-image's webhook spends on registries; what is not imported by then is a failure in the answer. Below the webhook's timeoutSeconds (30).",
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: "IMAGESTREAM_LOG_LEVEL",
    default: "info",
    parse: level,
    help: `Log level (${LOG_LEVELS.join(", ")}).`,
  },
  {
    key: "logFormat",
    flag: "log-format",
    env: "IMAGESTREAM_LOG_FORMAT",
    default: "json",
    parse: logFormat,
    help: "json (one JSON object per line, for log pipelines) or text (one readable line per entry, for terminals).",
  },
  {
    key: "metricsAddress",
    flag: "metrics-address",
    env: "IMAGESTREAM_METRICS_ADDRESS",
    default: ":8080",
    parse: address,
    help: "Listen address of /metrics; 0 disables it.",
  },
  {
    key: "healthAddress",
    flag: "health-address",
    env: "IMAGESTREAM_HEALTH_ADDRESS",
    default: ":8081",
    parse: address,
    help: "Listen address of /healthz and /readyz; 0 disables it.",
  },
  {
    key: "leaderElect",
    flag: "leader-elect",
    env: "IMAGESTREAM_LEADER_ELECT",
    default: "false",
    parse: boolean,
    help: "Run controllers only while holding the leader Lease (set true when running several replicas).",
  },
  {
    key: "leaderElectionNamespace",
    flag: "leader-election-namespace",
    env: "IMAGESTREAM_LEADER_ELECTION_NAMESPACE",
    default: "default",
    parse: name,
    help: "Namespace of the leader Lease (the chart sets its own namespace).",
  },
  {
    key: "leaderElectionName",
    flag: "leader-election-name",
    env: "IMAGESTREAM_LEADER_ELECTION_NAME",
    default: "imagestream-operator",
    parse: name,
    help: "Name of the leader Lease.",
  },
  {
    key: "leaseDurationMs",
    flag: "lease-duration",
    env: "IMAGESTREAM_LEASE_DURATION",
    default: "15s",
    parse: durationAtLeast(1000),
    help: "How long a lease is valid without renewal (client-go default 15s).",
  },
  {
    key: "renewDeadlineMs",
    flag: "renew-deadline",
    env: "IMAGESTREAM_RENEW_DEADLINE",
    default: "10s",
    parse: durationAtLeast(500),
    help: "How long the leader keeps retrying to renew before it stops its controllers (default 10s).",
  },
  {
    key: "retryPeriodMs",
    flag: "retry-period",
    env: "IMAGESTREAM_RETRY_PERIOD",
    default: "2s",
    parse: durationAtLeast(100),
    help: "Interval between lease acquire/renew attempts (default 2s).",
  },
  {
    key: "shutdownTimeoutMs",
    flag: "shutdown-timeout",
    env: "IMAGESTREAM_SHUTDOWN_TIMEOUT",
    default: "25s",
    parse: durationAtLeast(1000),
    help: "Time from SIGTERM to exit: controllers drain in-flight reconciles for 80% of it, then abort them. Keep it below the pod's terminationGracePeriodSeconds (the chart does).",
  },
];

export type ConfigSource = "flag" | "env" | "file" | "default";

/**
 * Precedence: command-line flag, then environment variable, then config file, then default.
 * `--config FILE` / IMAGESTREAM_CONFIG names a YAML file keyed by flag names.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  fileContent?: string,
): Config {
  const flags = parseFlags(argv);
  const file = fileContent === undefined ? {} : parseFile(fileContent);
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (const s of SETTINGS) {
    const fromFlag = flags.get(s.flag);
    const fromEnv = env[s.env];
    const fromFile = file[s.flag];
    const [raw, label] =
      fromFlag !== undefined
        ? [fromFlag, `--${s.flag}`]
        : fromEnv !== undefined
          ? [fromEnv, s.env]
          : fromFile !== undefined
            ? [fromFile, `${s.flag} (config file)`]
            : [s.default, `--${s.flag}`];
    out[s.key] = s.parse(raw, label);
  }
  const config = out as Config;
  validateLeaderTiming(config);
  validateAdmission(config);
  validateIntegratedRegistry(config);
  return config;
}

function validateAdmission(c: Config): void {
  if (c.admissionCertificateLifetimeMs >= c.admissionCaLifetimeMs) {
    throw new ConfigError("--admission-certificate-lifetime", "must be shorter than --admission-ca-lifetime");
  }
  if (c.admissionAddress === "0") return;
  if (c.admissionCertificateSecret === undefined && c.admissionCertificateDir === undefined) {
    throw new ConfigError(
      "--admission-certificate-secret",
      "the webhooks need a certificate: name the Secret the operator keeps it in, or --admission-certificate-dir",
    );
  }
  if (c.admissionCertificateSecret !== undefined && c.admissionCertificateDir !== undefined) {
    throw new ConfigError("--admission-certificate-dir", "excludes --admission-certificate-secret");
  }
  if (c.admissionUrl !== undefined && c.admissionCertificateSecret === undefined) {
    throw new ConfigError(
      "--admission-url",
      "needs --admission-certificate-secret: the operator writes the caBundle of the configuration it creates",
    );
  }
  if (
    c.admissionCertificateSecret !== undefined &&
    c.admissionUrl === undefined &&
    c.admissionService === undefined
  ) {
    throw new ConfigError(
      "--admission-service",
      "the serving certificate needs the names kube-apiserver calls: the Service (namespace/name) or --admission-url",
    );
  }
}

/** The integrated registry needs its endpoints and keys; its host is the pull location unless one is set. */
function validateIntegratedRegistry(c: Config): void {
  if (!c.integratedRegistryUrl) return;
  const missing = [
    c.hooksAddress === "0" ? "--hooks-address" : undefined,
    c.registryTokenSigningSecret ? undefined : "--registry-token-signing-secret",
    c.registryTokenCaConfigMap ? undefined : "--registry-token-ca-configmap",
    c.registryNotificationsTokenFile ? undefined : "--registry-notifications-token-file",
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0) {
    throw new ConfigError("--integrated-registry-url", `also needs ${missing.join(", ")} (docs/push.md)`);
  }
  c.localRegistry ??= new URL(c.integratedRegistryUrl).host;
}

function validateLeaderTiming(c: Config): void {
  // client-go's rule: the leader must give up before anyone else may take the lease.
  if (!(c.leaseDurationMs > c.renewDeadlineMs)) {
    throw new ConfigError("--lease-duration", "must be longer than --renew-deadline");
  }
  if (!(c.renewDeadlineMs > c.retryPeriodMs * 1.2)) {
    throw new ConfigError("--renew-deadline", "must be longer than 1.2 x --retry-period");
  }
}

const KNOWN_FLAGS = new Set([...SETTINGS.map((s) => s.flag), "config"]);

export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m?.[1]) throw new ConfigError(arg, "unexpected argument (flags look like --name=value)");
    const flag = m[1];
    if (!KNOWN_FLAGS.has(flag)) throw new ConfigError(`--${flag}`, "unknown flag (see --help)");
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        // A bare boolean flag means true.
        if (flag === "leader-elect" || flag === "registry-anonymous-pull") value = "true";
        else throw new ConfigError(`--${flag}`, "needs a value");
      } else {
        value = next;
        i++;
      }
    }
    flags.set(flag, value);
  }
  return flags;
}

function parseFile(content: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = loadYaml(content);
  } catch (err) {
    throw new ConfigError("--config", `not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc))
    throw new ConfigError("--config", "must be a YAML mapping of flag names to values");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (!KNOWN_FLAGS.has(k) || k === "config") throw new ConfigError(`${k} (config file)`, "unknown setting");
    out[k] = Array.isArray(v) ? v.map(String).join(",") : String(v);
  }
  return out;
}

export function helpText(): string {
  const lines = [
    "Usage: imagestream-operator [--flag=value ...]",
    "",
    "Every flag also reads from its environment variable.",
    "",
  ];
  lines.push(
    "  --config  (IMAGESTREAM_CONFIG)  YAML file with settings keyed by flag name; flags and env win.",
  );
  for (const s of SETTINGS) {
    lines.push(`  --${s.flag}  (${s.env}, default "${s.default}")  ${s.help}`);
  }
  return lines.join("\n");
}
