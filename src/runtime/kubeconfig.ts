// The operator's connection to the API server: where it is, how its certificate is checked,
// which credentials go with each request, and one undici connection pool. Read from kubeconfig
// files or the in-cluster service account by this module rather than by @kubernetes/client-node,
// whose KubeConfig alone loads every generated API and model (about 80 MiB of RSS, docs/memory.md).
// What is supported and why: docs/development.md, "Connecting to the API server".
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { load as loadYaml } from "js-yaml";
import { isRecord } from "../api/index.ts";
import { Agent, type Dispatcher } from "../registry/index.ts";

/** A connection to one API server; every request of the runtime goes through one. */
export interface KubeConnection {
  /** The API server's base URL without a trailing slash, e.g. `https://10.96.0.1:443`. */
  readonly server: string;
  /** The context's namespace (in a cluster: the service account's), if any. */
  readonly namespace: string | undefined;
  /** The connection pool of this server: its TLS settings and client certificate. */
  readonly dispatcher: Dispatcher;
  /** The Authorization header value for the next request, if the credentials use one. Never log it. */
  authorization(): Promise<string | undefined>;
  /** The server answered 401: an exec plugin's cached credential is fetched anew next time. */
  rejected(): void;
  /** Closes the connection pool. */
  close(): Promise<void>;
}

/** An exec credential plugin (client.authentication.k8s.io), as a kubeconfig user names it. */
export interface ExecPlugin {
  apiVersion: (typeof EXEC_API_VERSIONS)[number];
  /** A name looked up on PATH, or a path (relative ones already resolved against the kubeconfig's folder). */
  command: string;
  args?: string[];
  env?: Record<string, string>;
  installHint?: string;
  /** Sent to the plugin in KUBERNETES_EXEC_INFO when the kubeconfig sets provideClusterInfo. */
  cluster?: Record<string, unknown>;
}

/** What a connection is made of: a kubeconfig's current context with its files read. */
export interface KubeConnectionOptions {
  server: string;
  namespace?: string;
  /** PEM; absent: the system's trusted roots. */
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  /** PEM client certificate and key. */
  clientCertificate?: string;
  clientKey?: string;
  token?: string;
  /** Read at start and again every minute: bound service account tokens rotate. */
  tokenFile?: string;
  basic?: { username: string; password: string };
  exec?: ExecPlugin;
}

/** Where loadKubeConfig looks besides the given path (tests point these at temp files). */
export interface KubeConfigSources {
  env?: NodeJS.ProcessEnv;
  /** Default /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccountDir?: string;
  /** Default the user's home directory (for ~/.kube/config). */
  home?: string;
  /** ~/.kube/config before the in-cluster service account, as kubectl has it (the CLI's order). */
  homeFirst?: boolean;
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** client-go re-reads a token file once a minute (its cached file token source). */
const TOKEN_FILE_REREAD_MS = 60_000;
const EXEC_API_VERSIONS = [
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
] as const;
const EXEC_TIMEOUT_MS = 60_000;

/**
 * The connection of the explicit kubeconfig `path` (`--kubeconfig` / `$KUBECONFIG`, a list
 * separated like PATH merges as kubectl does), else of the in-cluster service account, else of
 * ~/.kube/config. Throws an Error naming the file and field when the configuration cannot be used.
 */
export function loadKubeConfig(path: string | undefined, sources: KubeConfigSources = {}): KubeConnection {
  return connectKube(resolveKubeConfig(path, sources));
}

/** loadKubeConfig without connecting: the options the connection would be made of. */
export function resolveKubeConfig(
  path: string | undefined,
  sources: KubeConfigSources = {},
): KubeConnectionOptions {
  const env = sources.env ?? process.env;
  if (path) return fromKubeconfigFiles(path.split(delimiter).filter(Boolean));
  const home = join(sources.home ?? homedir(), ".kube", "config");
  if (sources.homeFirst && existsSync(home)) return fromKubeconfigFiles([home]);
  const inCluster = inClusterOptions(env, sources.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  if (inCluster) return inCluster;
  if (existsSync(home)) return fromKubeconfigFiles([home]);
  throw new Error("no kubeconfig given, not running in a cluster and no ~/.kube/config");
}

/** A connection from resolved options (tests build one for a loopback server this way). */
export function connectKube(options: KubeConnectionOptions): KubeConnection {
  let url: URL;
  try {
    url = new URL(options.server);
  } catch {
    throw new Error(`server ${JSON.stringify(options.server)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new Error(`server ${options.server}: only https:// and http:// are supported`);
  const dispatcher = new Agent({
    connect: {
      ...(options.certificateAuthority ? { ca: options.certificateAuthority } : {}),
      ...(options.clientCertificate ? { cert: options.clientCertificate } : {}),
      ...(options.clientKey ? { key: options.clientKey } : {}),
      ...(options.tlsServerName ? { servername: options.tlsServerName } : {}),
      rejectUnauthorized: options.insecureSkipTlsVerify !== true,
    },
  });
  const credentials = credentialsOf(options);
  return {
    server: options.server.replace(/\/+$/, ""),
    namespace: options.namespace,
    dispatcher,
    authorization: credentials.authorization,
    rejected: credentials.rejected,
    close: () => dispatcher.close(),
  };
}

// ---------------------------------------------------------------- credentials

interface Credentials {
  authorization(): Promise<string | undefined>;
  rejected(): void;
}

function credentialsOf(options: KubeConnectionOptions): Credentials {
  const none = (): void => {};
  if (options.token !== undefined) {
    const header = `Bearer ${options.token}`;
    return { authorization: async () => header, rejected: none };
  }
  if (options.tokenFile !== undefined) {
    const read = tokenFileReader(options.tokenFile);
    return { authorization: async () => `Bearer ${await read()}`, rejected: none };
  }
  if (options.basic) {
    const header = `Basic ${Buffer.from(`${options.basic.username}:${options.basic.password}`).toString("base64")}`;
    return { authorization: async () => header, rejected: none };
  }
  if (options.exec) {
    const plugin = execCredentials(options.exec);
    return { authorization: async () => `Bearer ${await plugin.token()}`, rejected: plugin.reset };
  }
  return { authorization: async () => undefined, rejected: none };
}

/**
 * The token of a file, read now (so a missing file fails at start) and again once a minute;
 * a failed re-read keeps the last token, as client-go does.
 */
export function tokenFileReader(path: string, now: () => number = Date.now): () => Promise<string> {
  const parse = (text: string): string => {
    const token = text.trim();
    if (token === "") throw new Error(`token file ${path} is empty`);
    return token;
  };
  let token: string;
  try {
    token = parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read token file ${path}: ${messageOf(err)}`);
  }
  let readAt = now();
  return async () => {
    if (now() - readAt >= TOKEN_FILE_REREAD_MS) {
      readAt = now();
      try {
        token = parse(await readFile(path, "utf8"));
      } catch {
        // Kept: the kubelet replaces the file atomically, a failed read is the exception.
      }
    }
    return token;
  };
}

/**
 * Tokens from an exec plugin: run on first use, kept until the credential's
 * expirationTimestamp (or until the server refuses it), one run shared by concurrent requests.
 */
function execCredentials(plugin: ExecPlugin): { token(): Promise<string>; reset(): void } {
  let cached: { token: string; expiresAt: number } | undefined;
  let running: Promise<string> | undefined;
  return {
    token() {
      if (cached && Date.now() < cached.expiresAt) return Promise.resolve(cached.token);
      running ??= runExecPlugin(plugin)
        .then((credential) => {
          cached = credential;
          return credential.token;
        })
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    reset() {
      cached = undefined;
    },
  };
}

/** Runs the plugin once; its token and until when it may be used. */
export async function runExecPlugin(plugin: ExecPlugin): Promise<{ token: string; expiresAt: number }> {
  const execInfo = {
    apiVersion: plugin.apiVersion,
    kind: "ExecCredential",
    spec: { interactive: false, ...(plugin.cluster ? { cluster: plugin.cluster } : {}) },
  };
  const stdout = await new Promise<string>((resolvePromise, reject) => {
    execFile(
      plugin.command,
      plugin.args ?? [],
      {
        env: { ...process.env, ...plugin.env, KUBERNETES_EXEC_INFO: JSON.stringify(execInfo) },
        timeout: EXEC_TIMEOUT_MS,
        maxBuffer: 1024 * 1024,
      },
      (err, out, errOut) => {
        if (!err) {
          resolvePromise(out);
          return;
        }
        const code: unknown = err.code;
        if (code === "ENOENT") {
          reject(
            new Error(
              `exec plugin ${plugin.command} not found${plugin.installHint ? `: ${plugin.installHint.trim()}` : ""}`,
            ),
          );
          return;
        }
        // The plugin's own words (stderr), not its stdout: that is where a credential would be.
        const stderr = errOut.trim().slice(0, 500);
        const how = err.killed
          ? `did not answer within ${EXEC_TIMEOUT_MS / 1000} s`
          : typeof code === "number"
            ? `exited with code ${code}`
            : err.message;
        reject(new Error(`exec plugin ${plugin.command} failed: ${how}${stderr ? `: ${stderr}` : ""}`));
      },
    );
  });
  const where = `exec plugin ${plugin.command}`;
  let credential: unknown;
  try {
    credential = JSON.parse(stdout);
  } catch {
    throw new Error(`${where} printed no JSON ExecCredential`);
  }
  if (!isRecord(credential) || credential.kind !== "ExecCredential")
    throw new Error(`${where} printed no ExecCredential`);
  if (credential.apiVersion !== plugin.apiVersion)
    throw new Error(
      `${where} answered ${String(credential.apiVersion)}, the kubeconfig asks for ${plugin.apiVersion}`,
    );
  const status = isRecord(credential.status) ? credential.status : {};
  if (typeof status.token !== "string" || status.token === "") {
    throw new Error(
      status.clientCertificateData !== undefined
        ? `${where} returned a client certificate; only token credentials from exec plugins are supported`
        : `${where} returned no status.token`,
    );
  }
  let expiresAt = Number.POSITIVE_INFINITY;
  if (typeof status.expirationTimestamp === "string") {
    expiresAt = Date.parse(status.expirationTimestamp);
    if (Number.isNaN(expiresAt))
      throw new Error(`${where} returned an invalid expirationTimestamp ${status.expirationTimestamp}`);
  }
  return { token: status.token, expiresAt };
}

// ---------------------------------------------------------------- in-cluster

function inClusterOptions(env: NodeJS.ProcessEnv, dir: string): KubeConnectionOptions | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(dir, "token");
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const caFile = join(dir, "ca.crt");
  const namespaceFile = join(dir, "namespace");
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : "";
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    tokenFile,
    ...(existsSync(caFile) ? { certificateAuthority: readFileSync(caFile, "utf8") } : {}),
    ...(namespace ? { namespace } : {}),
  };
}

// ---------------------------------------------------------------- kubeconfig files

/** A named entry of a kubeconfig list, with the folder of the file it came from. */
interface Entry {
  fields: Record<string, unknown>;
  file: string;
}

interface Merged {
  currentContext: string | undefined;
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
}

/** The current context of `files`, merged as kubectl does: the first file to name something wins. */
function fromKubeconfigFiles(files: string[]): KubeConnectionOptions {
  const merged: Merged = {
    currentContext: undefined,
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
  };
  const sourceName = files.join(delimiter);
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      // kubectl skips missing files of a KUBECONFIG list, but not a single explicit one.
      if (files.length > 1 && (err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new Error(`cannot read kubeconfig ${file}: ${messageOf(err)}`);
    }
    let doc: unknown;
    try {
      doc = loadYaml(text);
    } catch (err) {
      throw new Error(`kubeconfig ${file} is not YAML: ${messageOf(err)}`);
    }
    if (doc === undefined || doc === null) continue;
    if (!isRecord(doc)) throw new Error(`kubeconfig ${file} is not a YAML mapping`);
    const current = doc["current-context"];
    if (merged.currentContext === undefined && typeof current === "string" && current !== "")
      merged.currentContext = current;
    addEntries(merged.clusters, doc.clusters, "cluster", file);
    addEntries(merged.users, doc.users, "user", file);
    addEntries(merged.contexts, doc.contexts, "context", file);
  }
  return optionsOfContext(merged, sourceName);
}

function addEntries(into: Map<string, Entry>, list: unknown, field: string, file: string): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw new Error(`kubeconfig ${file}: ${field}s must be a list`);
  for (const item of list) {
    if (!isRecord(item) || typeof item.name !== "string")
      throw new Error(`kubeconfig ${file}: every entry of ${field}s needs a name`);
    const fields = item[field];
    if (!into.has(item.name)) into.set(item.name, { fields: isRecord(fields) ? fields : {}, file });
  }
}

function optionsOfContext(merged: Merged, source: string): KubeConnectionOptions {
  const contextName = merged.currentContext;
  if (!contextName) throw new Error(`kubeconfig ${source} has no current-context`);
  const context = merged.contexts.get(contextName);
  if (!context) throw new Error(`kubeconfig ${source}: current-context ${contextName} is not in contexts`);
  const clusterName = stringField(context, "cluster");
  const cluster = clusterName ? merged.clusters.get(clusterName) : undefined;
  if (!cluster) throw new Error(`kubeconfig ${source}: context ${contextName} names no known cluster`);
  const userName = stringField(context, "user");
  const user = userName ? merged.users.get(userName) : undefined;
  if (userName && !user)
    throw new Error(`kubeconfig ${source}: user ${userName} of context ${contextName} is not in users`);
  const namespace = stringField(context, "namespace");
  return {
    ...clusterOptions(cluster, clusterName ?? ""),
    ...(namespace ? { namespace } : {}),
    ...(user ? userOptions(user, userName ?? "", cluster) : {}),
  };
}

function clusterOptions(entry: Entry, name: string): KubeConnectionOptions {
  const where = `kubeconfig ${entry.file}, cluster ${name}`;
  const server = stringField(entry, "server");
  if (!server) throw new Error(`${where}: no server`);
  if (entry.fields["proxy-url"] !== undefined)
    throw new Error(`${where}: proxy-url is not supported; reach the API server directly`);
  const insecure = entry.fields["insecure-skip-tls-verify"] === true;
  const ca = pemOf(entry, "certificate-authority", where);
  if (insecure && ca !== undefined)
    throw new Error(
      `${where}: certificate-authority with insecure-skip-tls-verify is not allowed (as in kubectl)`,
    );
  const tlsServerName = stringField(entry, "tls-server-name");
  return {
    server,
    ...(ca !== undefined ? { certificateAuthority: ca } : {}),
    ...(insecure ? { insecureSkipTlsVerify: true } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
  };
}

/** The user fields this loader does not implement, and what to use instead. */
const UNSUPPORTED_USER_FIELDS: Record<string, string> = {
  "auth-provider":
    "legacy auth-provider plugins are not supported; use an exec credential plugin (users[].user.exec), e.g. kubelogin or gke-gcloud-auth-plugin",
  as: "impersonation is not supported; give the operator's own credentials",
  "as-groups": "impersonation is not supported; give the operator's own credentials",
  "as-uid": "impersonation is not supported; give the operator's own credentials",
  "as-user-extra": "impersonation is not supported; give the operator's own credentials",
};

function userOptions(entry: Entry, name: string, cluster: Entry): Partial<KubeConnectionOptions> {
  const where = `kubeconfig ${entry.file}, user ${name}`;
  for (const [field, advice] of Object.entries(UNSUPPORTED_USER_FIELDS)) {
    if (entry.fields[field] !== undefined) throw new Error(`${where}: ${field}: ${advice}`);
  }
  const options: Partial<KubeConnectionOptions> = {};
  const cert = pemOf(entry, "client-certificate", where);
  const key = pemOf(entry, "client-key", where);
  if ((cert === undefined) !== (key === undefined))
    throw new Error(`${where}: client-certificate and client-key go together`);
  if (cert !== undefined && key !== undefined) {
    options.clientCertificate = cert;
    options.clientKey = key;
  }
  const token = stringField(entry, "token");
  const tokenFile = stringField(entry, "tokenFile");
  const username = stringField(entry, "username");
  const password = stringField(entry, "password");
  const exec = entry.fields.exec;
  const kinds = [token || tokenFile ? "token" : "", username ? "username/password" : "", exec ? "exec" : ""];
  const set = kinds.filter(Boolean);
  if (set.length > 1) throw new Error(`${where}: ${set.join(" and ")} cannot both be set`);
  // As in client-go, a token given inline wins over tokenFile.
  if (token) options.token = token;
  else if (tokenFile) options.tokenFile = pathOf(entry, tokenFile);
  if (username) options.basic = { username, password: password ?? "" };
  if (exec !== undefined) options.exec = execOptions(exec, entry, where, cluster);
  return options;
}

function execOptions(exec: unknown, entry: Entry, where: string, cluster: Entry): ExecPlugin {
  if (!isRecord(exec)) throw new Error(`${where}: exec must be a mapping`);
  const apiVersion = EXEC_API_VERSIONS.find((v) => v === exec.apiVersion);
  if (!apiVersion)
    throw new Error(
      `${where}: exec.apiVersion must be one of ${EXEC_API_VERSIONS.join(", ")} (got ${String(exec.apiVersion)})`,
    );
  if (typeof exec.command !== "string" || exec.command === "")
    throw new Error(`${where}: exec.command is required`);
  if (exec.interactiveMode === "Always")
    throw new Error(
      `${where}: exec.interactiveMode Always needs a terminal, which the operator does not have`,
    );
  // client-go resolves a command with a path separator against the kubeconfig's folder.
  const command = exec.command.includes("/") ? pathOf(entry, exec.command) : exec.command;
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const env: Record<string, string> = {};
  if (Array.isArray(exec.env)) {
    for (const variable of exec.env) {
      if (!isRecord(variable) || typeof variable.name !== "string")
        throw new Error(`${where}: every exec.env entry needs a name and a value`);
      env[variable.name] = String(variable.value ?? "");
    }
  }
  const plugin: ExecPlugin = { apiVersion, command, args, env };
  if (typeof exec.installHint === "string") plugin.installHint = exec.installHint;
  if (exec.provideClusterInfo === true) plugin.cluster = execClusterInfo(cluster);
  return plugin;
}

/** The cluster as an exec plugin sees it in KUBERNETES_EXEC_INFO (camelCase, as client-go sends it). */
function execClusterInfo(cluster: Entry): Record<string, unknown> {
  const f = cluster.fields;
  const ca = pemOf(cluster, "certificate-authority", "");
  const extensions = Array.isArray(f.extensions) ? f.extensions : [];
  const execExtension = extensions.find(
    (e: unknown) => isRecord(e) && e.name === "client.authentication.k8s.io/exec",
  ) as Record<string, unknown> | undefined;
  return {
    server: f.server,
    ...(typeof f["tls-server-name"] === "string" ? { tlsServerName: f["tls-server-name"] } : {}),
    ...(f["insecure-skip-tls-verify"] === true ? { insecureSkipTLSVerify: true } : {}),
    ...(ca !== undefined ? { certificateAuthorityData: Buffer.from(ca).toString("base64") } : {}),
    ...(execExtension?.extension !== undefined ? { config: execExtension.extension } : {}),
  };
}

function stringField(entry: Entry, field: string): string | undefined {
  const value = entry.fields[field];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A path of the kubeconfig, relative ones resolved against the file's folder (as kubectl does). */
function pathOf(entry: Entry, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(entry.file), path);
}

/** PEM text of `<field>-data` (base64, preferred as in kubectl) or of the file `<field>` names. */
function pemOf(entry: Entry, field: string, where: string): string | undefined {
  const data = stringField(entry, `${field}-data`);
  if (data) return Buffer.from(data, "base64").toString("utf8");
  const file = stringField(entry, field);
  if (!file) return undefined;
  try {
    return readFileSync(pathOf(entry, file), "utf8");
  } catch (err) {
    throw new Error(`${where}: cannot read ${field} ${file}: ${messageOf(err)}`);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
