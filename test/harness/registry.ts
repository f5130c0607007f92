// Real container registries (CNCF distribution 2.8, `docker-registry serve`) on loopback,
// in four flavours: plain HTTP, TLS with a private CA, htpasswd Basic auth, Bearer tokens.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Agent, request } from "undici";
import { selectedBackend } from "./backend.ts";
import { createCa, createSelfSignedRsaCert, issueServingCert } from "./pki.ts";
import {
  freePort,
  makeTempDir,
  type ProcessInfo,
  removeTempDir,
  runChecked,
  spawnLogged,
  waitUntilReady,
} from "./process.ts";
import { startTokenServer, type TokenServer } from "./token-server.ts";

export type RegistryVariant = "plain" | "tls" | "basic" | "token";
export const REGISTRY_VARIANTS: readonly RegistryVariant[] = ["plain", "tls", "basic", "token"];

export interface RegistryInstance {
  variant: RegistryVariant;
  /** 127.0.0.1:PORT */
  host: string;
  /** http(s)://127.0.0.1:PORT */
  url: string;
  /** Private CA of tls/basic/token registries (and of the token server). */
  caFile?: string;
  caPem?: string;
  username?: string;
  password?: string;
  stop(): Promise<void>;
}

/** What crosses process boundaries (vitest provide/inject, .dev/state.json). */
export type RegistryConnection = Omit<RegistryInstance, "stop">;

export interface RegistryLaunchOptions {
  dir?: string;
  detached?: boolean;
  /** Listen on this loopback port (default: a free one), e.g. to restart a registry where it was. */
  port?: number;
  /** Process name in logs and state (default `registry-<variant>`). */
  name?: string;
}

export interface LaunchedRegistry extends RegistryInstance {
  dir: string;
  processes: ProcessInfo[];
}

const SERVICE = "imagestream-harness-registry";
const ISSUER = "imagestream-harness-token-issuer";

export async function startRegistry(variant: RegistryVariant): Promise<RegistryInstance> {
  if (selectedBackend() === "containers") {
    return (await import("./containers.ts")).startRegistryContainer(variant);
  }
  return launchRegistry(variant);
}

export interface RegistryFiles {
  /** distribution config, as YAML (JSON is YAML). */
  config: string;
  caFile?: string;
  caPem?: string;
  username?: string;
  password?: string;
  tokenServer?: TokenServer;
}

/**
 * Writes certificates, htpasswd and token keys for `variant` into `dir` and returns the
 * registry config. `pathInConfig` maps a file in `dir` to the path the registry sees
 * (the same for a local process, a mount point in a container).
 */
export async function prepareRegistryFiles(
  variant: RegistryVariant,
  dir: string,
  listenAddr: string,
  pathInConfig: (file: string) => string = (f) => f,
): Promise<RegistryFiles> {
  const files: RegistryFiles = { config: "" };
  const http: Record<string, unknown> = {
    addr: listenAddr,
    secret: randomBytes(16).toString("hex"),
    headers: { "X-Content-Type-Options": ["nosniff"] },
  };
  let auth: Record<string, unknown> | undefined;
  if (variant !== "plain") {
    const pkiDir = join(dir, "pki");
    await mkdir(pkiDir, { recursive: true });
    const ca = await createCa(pkiDir, `imagestream-harness-registry-ca-${variant}`);
    const serving = await issueServingCert(ca, pkiDir, "registry");
    http.tls = { certificate: pathInConfig(serving.certFile), key: pathInConfig(serving.keyFile) };
    // The CA alone in its own dir: tools such as skopeo take a whole --cert-dir and would
    // choke on the keys beside it.
    const trustDir = join(dir, "trust");
    await mkdir(trustDir, { recursive: true });
    files.caPem = await readFile(ca.certFile, "utf8");
    files.caFile = join(trustDir, "ca.crt");
    await writeFile(files.caFile, files.caPem);
    if (variant === "basic" || variant === "token") {
      files.username = `user-${randomBytes(3).toString("hex")}`;
      files.password = randomBytes(12).toString("hex");
    }
    if (variant === "basic") {
      const htpasswdFile = join(dir, "htpasswd");
      const line = await runChecked("htpasswd", ["-Bbn", files.username ?? "", files.password ?? ""]);
      await writeFile(htpasswdFile, `${line.trim()}\n`);
      auth = { htpasswd: { realm: "imagestream-harness", path: pathInConfig(htpasswdFile) } };
    }
    if (variant === "token") {
      const signing = await createSelfSignedRsaCert(pkiDir, "token-signing", ISSUER);
      files.tokenServer = await startTokenServer({
        tlsCertPem: await readFile(serving.certFile, "utf8"),
        tlsKeyPem: await readFile(serving.keyFile, "utf8"),
        signingCertPem: await readFile(signing.certFile, "utf8"),
        signingKeyPem: await readFile(signing.keyFile, "utf8"),
        issuer: ISSUER,
        username: files.username ?? "",
        password: files.password ?? "",
      });
      auth = {
        token: {
          realm: files.tokenServer.realm,
          service: SERVICE,
          issuer: ISSUER,
          rootcertbundle: pathInConfig(signing.certFile),
        },
      };
    }
  }
  const config: Record<string, unknown> = {
    version: "0.1",
    log: { level: "info", formatter: "text" },
    storage: {
      filesystem: { rootdirectory: pathInConfig(join(dir, "storage")) },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http,
  };
  if (auth) config.auth = auth;
  files.config = `${JSON.stringify(config, null, 2)}\n`;
  return files;
}

/** True once the registry answers /v2/ (200 when open, 401 when it wants credentials). */
export async function registryAnswers(url: string, caPem?: string): Promise<boolean> {
  const dispatcher = caPem ? new Agent({ connect: { ca: caPem } }) : undefined;
  try {
    const res = await request(`${url}/v2/`, { dispatcher, headersTimeout: 2000 });
    await res.body.dump();
    return res.statusCode === 200 || res.statusCode === 401;
  } finally {
    await dispatcher?.close();
  }
}

export async function launchRegistry(
  variant: RegistryVariant,
  opts: RegistryLaunchOptions = {},
): Promise<LaunchedRegistry> {
  if (opts.detached && variant === "token") {
    throw new Error("the token registry needs the in-process token server and cannot run detached");
  }
  return runRegistry(variant, opts, async (dir, host) => {
    const files = await prepareRegistryFiles(variant, dir, host);
    return { ...files, cleanup: async () => files.tokenServer?.stop() };
  });
}

export interface ConfiguredRegistryOptions extends RegistryLaunchOptions {
  /** TLS with a private CA (default) or plain HTTP; no auth of its own either way. */
  variant?: "tls" | "plain";
  /**
   * Sections added to the generated config (`auth`, `notifications`, ...). `file(name, content)`
   * writes a file into the registry's directory and returns its path (e.g. a rootcertbundle).
   */
  configure(file: (name: string, content: string) => Promise<string>): Promise<Record<string, unknown>>;
}

/**
 * A registry (TLS with a private CA, or plain HTTP; no auth of its own) with extra
 * configuration, e.g. `auth.token` pointing at a token server under test or
 * `notifications.endpoints`. Callers stop() it. With `dir` and `port` a stopped one can be
 * started again with its images.
 */
export async function launchConfiguredRegistry(opts: ConfiguredRegistryOptions): Promise<LaunchedRegistry> {
  const variant = opts.variant ?? "tls";
  return runRegistry(variant, opts, async (dir, host) => {
    const files = await prepareRegistryFiles(variant, dir, host);
    const extra = await opts.configure(async (name, content) => {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    });
    const config = { ...(JSON.parse(files.config) as Record<string, unknown>), ...extra };
    return { ...files, config: `${JSON.stringify(config, null, 2)}\n` };
  });
}

async function runRegistry(
  variant: RegistryVariant,
  opts: RegistryLaunchOptions,
  prepare: (dir: string, host: string) => Promise<RegistryFiles & { cleanup?: () => Promise<void> }>,
): Promise<LaunchedRegistry> {
  const dir = opts.dir ?? (await makeTempDir(`isop-registry-${variant}`));
  const ownsDir = opts.dir === undefined;
  await mkdir(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  let files: (RegistryFiles & { cleanup?: () => Promise<void> }) | undefined;
  let registryProcess: ReturnType<typeof spawnLogged> | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await registryProcess?.stop();
    await files?.cleanup?.();
    if (ownsDir) await removeTempDir(dir);
  };
  try {
    files = await prepare(dir, host);
    const configFile = join(dir, "config.yml");
    await writeFile(configFile, files.config);
    registryProcess = spawnLogged({
      name: opts.name ?? `registry-${variant}`,
      command: "/usr/bin/docker-registry",
      args: ["serve", configFile],
      logFile: join(dir, "registry.log"),
      detached: opts.detached ?? false,
    });
    const url = `${variant === "plain" ? "http" : "https"}://${host}`;
    const caPem = files.caPem;
    await waitUntilReady(registryProcess, () => registryAnswers(url, caPem), 30_000);
    const instance: LaunchedRegistry = {
      variant,
      host,
      url,
      stop,
      dir,
      processes: [registryProcess],
    };
    if (files.caFile) instance.caFile = files.caFile;
    if (files.caPem) instance.caPem = files.caPem;
    if (files.username) instance.username = files.username;
    if (files.password) instance.password = files.password;
    return instance;
  } catch (error) {
    await stop();
    throw error;
  }
}

export function registryConnection(registry: RegistryInstance): RegistryConnection {
  const { variant, host, url, caFile, caPem, username, password } = registry;
  const connection: RegistryConnection = { variant, host, url };
  if (caFile !== undefined) connection.caFile = caFile;
  if (caPem !== undefined) connection.caPem = caPem;
  if (username !== undefined) connection.username = username;
  if (password !== undefined) connection.password = password;
  return connection;
}

/** `.dockerconfigjson` content for a `kubernetes.io/dockerconfigjson` Secret for this registry. */
export function dockerConfigJson(registry: RegistryConnection): string {
  const auths: Record<string, { auth: string }> = {};
  if (registry.username !== undefined && registry.password !== undefined) {
    auths[registry.host] = {
      auth: Buffer.from(`${registry.username}:${registry.password}`).toString("base64"),
    };
  }
  return JSON.stringify({ auths });
}
