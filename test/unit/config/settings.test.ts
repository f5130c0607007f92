import { describe, expect, it } from "vitest";
import { ConfigError, helpText, parseConfig, parseDuration, SETTINGS } from "../../../src/config/index.ts";

describe("parseConfig", () => {
  it("gives documented defaults when nothing is set", () => {
    const c = parseConfig([], {});
    expect(c.namespaces).toEqual([]);
    expect(c.controllers).toEqual(["import", "imagestreamtag", "trigger"]);
    expect(c.scheduledImportIntervalMs).toBe(15 * 60_000);
    expect(c.scheduledImportsPerMinute).toBe(60);
    expect(c.bulkImportLimit).toBe(50);
    expect(c.importWorkers).toBe(4);
    expect(c.istagWorkers).toBe(4);
    expect(c.registryRequestsPerSecond).toBe(50);
    expect(c.registryConcurrency).toBe(8);
    expect(c.defaultPlatform).toEqual({ os: "linux", architecture: "amd64" });
    expect(c.leaseDurationMs).toBe(15_000);
    expect(c.renewDeadlineMs).toBe(10_000);
    expect(c.retryPeriodMs).toBe(2_000);
    expect(c.kubeconfig).toBeUndefined();
    expect(c.admissionAddress).toBe("0");
    expect(c.admissionWebhookConfiguration).toBe("imagestream-operator");
    expect(c.admissionCertificateLifetimeMs).toBe(90 * 24 * 3_600_000);
    expect(c.admissionCaLifetimeMs).toBe(5 * 365 * 24 * 3_600_000);
    expect(c.admissionImportTimeoutMs).toBe(25_000);
  });

  it("reads the admission settings of an operator outside the cluster", () => {
    const c = parseConfig(
      [
        "--admission-address=127.0.0.1:9443",
        "--admission-url=https://127.0.0.1:9443/",
        "--admission-certificate-secret=dev/imagestream-admission",
      ],
      {},
    );
    expect(c.admissionUrl).toBe("https://127.0.0.1:9443");
    expect(c.admissionCertificateSecret).toEqual({ namespace: "dev", name: "imagestream-admission" });
    expect(c.admissionCertificateDir).toBeUndefined();
  });

  it("takes flags over environment over file", () => {
    const file = "history-limit: 7\nnamespaces: [a, b]\nimport-workers: 3\n";
    const env = { IMAGESTREAM_IMPORT_WORKERS: "5", IMAGESTREAM_HISTORY_LIMIT: "9" };
    const c = parseConfig(["--history-limit=11"], env, file);
    expect(c.historyLimit).toBe(11);
    expect(c.importWorkers).toBe(5);
    expect(c.namespaces).toEqual(["a", "b"]);
  });

  it("accepts `--flag value` and a bare --leader-elect", () => {
    const c = parseConfig(["--namespaces", "dev,prod", "--leader-elect"], {});
    expect(c.namespaces).toEqual(["dev", "prod"]);
    expect(c.leaderElect).toBe(true);
  });

  it.each([
    [["--import-workers=0"], {}, "--import-workers", "below the minimum 1"],
    [["--import-workers=two"], {}, "--import-workers", "not an integer"],
    [["--imagestreamtag-workers=0"], {}, "--imagestreamtag-workers", "below the minimum 1"],
    [
      [],
      { IMAGESTREAM_SCHEDULED_IMPORT_INTERVAL: "soon" },
      "IMAGESTREAM_SCHEDULED_IMPORT_INTERVAL",
      "not a duration",
    ],
    [["--controllers=import,deploy"], {}, "--controllers", 'unknown controller "deploy"'],
    [["--default-platform=amd64"], {}, "--default-platform", "os/architecture"],
    [["--log-level=loud"], {}, "--log-level", "not one of"],
    [["--frobnicate=1"], {}, "--frobnicate", "unknown flag"],
    [["--lease-duration=5s", "--renew-deadline=10s"], {}, "--lease-duration", "longer than --renew-deadline"],
    [["--renew-deadline=2s", "--retry-period=2s"], {}, "--renew-deadline", "1.2 x --retry-period"],
    [["--registry-allow=http://x"], {}, "--registry-allow", "not a host"],
    [["--metrics-address=localhost"], {}, "--metrics-address", "host:port"],
    [["--admission-address=:9443"], {}, "--admission-certificate-secret", "need a certificate"],
    [
      [
        "--admission-address=:9443",
        "--admission-certificate-secret=ops/admission",
        "--admission-certificate-dir=/c",
      ],
      {},
      "--admission-certificate-dir",
      "excludes",
    ],
    [
      [
        "--admission-address=:9443",
        "--admission-certificate-dir=/c",
        "--admission-url=https://127.0.0.1:9443",
      ],
      {},
      "--admission-url",
      "needs --admission-certificate-secret",
    ],
    [
      ["--admission-address=:9443", "--admission-certificate-secret=ops/admission"],
      {},
      "--admission-service",
      "names kube-apiserver calls",
    ],
    [["--admission-url=http://127.0.0.1:9443"], {}, "--admission-url", "https://"],
    [["--admission-url=https://127.0.0.1:9443/?a=b"], {}, "--admission-url", "query"],
    [["--admission-import-timeout=29s"], {}, "--admission-import-timeout", "maximum 28s"],
    [
      ["--admission-ca-lifetime=1h", "--admission-certificate-lifetime=2h"],
      {},
      "--admission-certificate-lifetime",
      "shorter than --admission-ca-lifetime",
    ],
  ])("rejects %j %j naming %s", (argv, env, setting, text) => {
    let error: unknown;
    try {
      parseConfig(argv, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
    expect((error as ConfigError).message).toContain(text);
  });

  it("rejects unknown keys and non-mappings in the config file", () => {
    expect(() => parseConfig([], {}, "colour: blue\n")).toThrow(/colour \(config file\): unknown setting/);
    expect(() => parseConfig([], {}, "- a\n")).toThrow(/must be a YAML mapping/);
  });
});

describe("integrated registry settings", () => {
  it("are off by default with OpenShift-like names", () => {
    const c = parseConfig([], {});
    expect(c.integratedRegistryUrl).toBeUndefined();
    expect(c.publicRegistry).toBeUndefined();
    expect(c.registryTokenIssuer).toBe("imagestream-operator");
    expect(c.registryTokenService).toBe("imagestream-integrated-registry");
    expect(c.registryTokenLifetimeMs).toBe(300_000);
    expect(c.registryAnonymousPull).toBe(false);
    expect(c.registryTokenSigningSecret).toBeUndefined();
    expect(c.registryNotificationsTokenFile).toBeUndefined();
  });

  it("parse URLs, namespace/name references and a bare --registry-anonymous-pull", () => {
    const c = parseConfig(
      [
        "--integrated-registry-url=http://registry.ops.svc:5000/",
        "--registry-token-signing-secret=ops/registry-token-key",
        "--registry-anonymous-pull",
        "--hooks-address=:8082",
        "--registry-notifications-token-file=/var/run/notifications/token",
      ],
      {
        IMAGESTREAM_REGISTRY_TOKEN_CA_CONFIGMAP: "ops/registry-token-ca",
        IMAGESTREAM_REGISTRY_TOKEN_LIFETIME: "10m",
      },
    );
    expect(c.integratedRegistryUrl).toBe("http://registry.ops.svc:5000");
    // The pull location defaults to the registry's host; the catch-up period to 10 minutes.
    expect(c.localRegistry).toBe("registry.ops.svc:5000");
    expect(c.registryCatchUpIntervalMs).toBe(600_000);
    expect(c.registryTokenSigningSecret).toEqual({ namespace: "ops", name: "registry-token-key" });
    expect(c.registryTokenCaConfigMap).toEqual({ namespace: "ops", name: "registry-token-ca" });
    expect(c.registryAnonymousPull).toBe(true);
    expect(c.registryTokenLifetimeMs).toBe(600_000);
  });

  it.each([
    [["--integrated-registry-url=registry.ops.svc"], "--integrated-registry-url", "is not a URL"],
    [["--integrated-registry-url=ftp://r"], "--integrated-registry-url", "http:// or https://"],
    [["--registry-token-signing-secret=just-a-name"], "--registry-token-signing-secret", "namespace/name"],
    [["--registry-token-signing-secret=ops/Bad_Name"], "--registry-token-signing-secret", "not a valid name"],
    [["--registry-token-lifetime=2h"], "--registry-token-lifetime", "maximum 3600s"],
    [["--registry-token-lifetime=10s"], "--registry-token-lifetime", "minimum 60s"],
    [["--registry-token-issuer="], "--registry-token-issuer", "must not be empty"],
    [
      ["--integrated-registry-url=http://r:5000", "--hooks-address=:8082"],
      "--integrated-registry-url",
      "also needs --registry-token-signing-secret, --registry-token-ca-configmap, --registry-notifications-token-file",
    ],
    [["--registry-catch-up-interval=5s"], "--registry-catch-up-interval", "minimum 30s"],
  ])("rejects %j naming %s", (argv, setting, message) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(new RegExp(`${setting}.*${message}`));
  });
});

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["15m", 900_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1_500],
  ])("%s is %d ms", (raw, ms) => {
    expect(parseDuration(raw, "x")).toBe(ms);
  });

  it.each(["", "10", "5 m", "1d", "m5"])("rejects %j", (raw) => {
    expect(() => parseDuration(raw, "x")).toThrow(ConfigError);
  });
});

describe("helpText", () => {
  it("lists every setting with its environment variable", () => {
    const text = helpText();
    for (const s of SETTINGS) expect(text).toContain(`--${s.flag}  (${s.env}`);
  });
});
