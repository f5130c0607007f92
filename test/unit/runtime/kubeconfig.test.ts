// The operator's own kubeconfig loader: kubeconfig files (token, tokenFile, client certificates,
// CA, tls-server-name, exec plugins, merged lists), the in-cluster service account, and the
// fields it refuses. Requests go to servers on 127.0.0.1 started here.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  httpStatusOf,
  type KubeConnection,
  kubeRequest,
  loadKubeConfig,
  resolveKubeConfig,
} from "../../../src/runtime/index.ts";
import { tokenFileReader } from "../../../src/runtime/kubeconfig.ts";
import { createCa, issueClientCert, issueServingCert } from "../../harness/pki.ts";
import { closeServer } from "./helpers.ts";

let dir: string;
let server: Server | undefined;
const connections: KubeConnection[] = [];
const seen: IncomingMessage["headers"][] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubeconfig-test-"));
  seen.length = 0;
});
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()));
  await closeServer(server);
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const b64 = (text: string): string => Buffer.from(text).toString("base64");

/** A kubeconfig with one context; `user` and `cluster` are merged into its entries. */
function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster }],
    users: [{ name: "u", user }],
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u", namespace: "team" } }],
    "current-context": "ctx",
  });
}

async function writeKubeconfig(text: string, name = "config"): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function load(path: string | undefined, sources?: Parameters<typeof loadKubeConfig>[1]): KubeConnection {
  const connection = loadKubeConfig(path, sources);
  connections.push(connection);
  return connection;
}

/** An HTTP server recording each request's headers and answering `{}`. */
async function httpServer(status = 200): Promise<string> {
  server = createHttpServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(status === 401 ? '{"kind":"Status","code":401,"reason":"Unauthorized"}' : "{}");
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const get = (kc: KubeConnection) => kubeRequest(kc, { method: "GET", path: "/api" });

describe("kubeconfig files", () => {
  it("sends the user's token and reads the cluster's CA data and the context's namespace", async () => {
    const url = await httpServer();
    const path = await writeKubeconfig(
      kubeconfig({ server: url, "certificate-authority-data": b64("PEM") }, { token: "secret-token" }),
    );
    expect(resolveKubeConfig(path)).toEqual({
      server: url,
      certificateAuthority: "PEM",
      namespace: "team",
      token: "secret-token",
    });
    const kc = load(path);
    await get(kc);
    expect(seen[0]?.authorization).toBe("Bearer secret-token");
    expect(kc.namespace).toBe("team");
  });

  it("reads tokenFile relative to the kubeconfig's folder, and again after a minute", async () => {
    const url = await httpServer();
    await writeFile(join(dir, "token"), "first\n");
    const kc = load(await writeKubeconfig(kubeconfig({ server: url }, { tokenFile: "token" })));
    await get(kc);
    expect(seen[0]?.authorization).toBe("Bearer first");

    let now = 0;
    const read = tokenFileReader(join(dir, "token"), () => now);
    await writeFile(join(dir, "token"), "second\n");
    now = 59_000;
    expect(await read()).toBe("first");
    now = 60_000;
    expect(await read()).toBe("second");
    // A failed re-read keeps the last token.
    await rm(join(dir, "token"));
    now = 120_000;
    expect(await read()).toBe("second");
  });

  it("sends username and password as basic auth", async () => {
    const url = await httpServer();
    await get(load(await writeKubeconfig(kubeconfig({ server: url }, { username: "ann", password: "pw" }))));
    expect(seen[0]?.authorization).toBe(`Basic ${b64("ann:pw")}`);
  });

  it("verifies the server with the CA file, presents the client certificate, honours tls-server-name", async () => {
    const ca = await createCa(dir, "test-ca");
    const serving = await issueServingCert(ca, dir, "apiserver");
    const client = await issueClientCert(ca, dir, "admin", "admin", ["system:masters"]);
    const https = createHttpsServer(
      {
        key: await readFile(serving.keyFile),
        cert: await readFile(serving.certFile),
        ca: await readFile(ca.certFile),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ user: peer.subject?.CN }));
      },
    );
    server = https;
    await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
    const url = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
    const user = {
      "client-certificate-data": b64(await readFile(client.certFile, "utf8")),
      "client-key": "admin.key",
    };
    const trusted = load(
      await writeKubeconfig(kubeconfig({ server: url, "certificate-authority": "ca.crt" }, user)),
    );
    expect(await get(trusted)).toEqual({ user: "admin" });

    // The serving certificate names localhost: a matching tls-server-name passes, another fails.
    const named = (name: string) =>
      writeKubeconfig(
        kubeconfig({ server: url, "certificate-authority": "ca.crt", "tls-server-name": name }, user),
        `config-${name}`,
      );
    expect(await get(load(await named("localhost")))).toEqual({ user: "admin" });
    await expect(get(load(await named("other.example")))).rejects.toThrow(/other\.example/);

    // Without the CA the server's certificate is not trusted.
    const untrusted = load(await writeKubeconfig(kubeconfig({ server: url }, user), "config-no-ca"));
    await expect(get(untrusted)).rejects.toThrow();
  });

  it("merges a KUBECONFIG list as kubectl does: the first file to name something wins", async () => {
    const url = await httpServer();
    const first = await writeKubeconfig(
      JSON.stringify({
        "current-context": "ctx",
        users: [{ name: "u", user: { token: "from-first" } }],
      }),
      "first",
    );
    const second = await writeKubeconfig(kubeconfig({ server: url }, { token: "from-second" }), "second");
    await get(load(`${first}:${join(dir, "missing")}:${second}`));
    expect(seen[0]?.authorization).toBe("Bearer from-first");
  });

  it("refuses what it cannot use, naming the file and the field", async () => {
    const refused = async (cluster: Record<string, unknown>, user: Record<string, unknown> = {}) => {
      const path = await writeKubeconfig(kubeconfig({ server: "https://k8s.example", ...cluster }, user));
      return () => resolveKubeConfig(path);
    };
    expect(await refused({}, { "auth-provider": { name: "gcp", config: {} } })).toThrow(
      /config, user u: auth-provider: legacy auth-provider plugins are not supported; use an exec credential plugin/,
    );
    expect(await refused({}, { as: "someone" })).toThrow(/as: impersonation is not supported/);
    expect(await refused({ "proxy-url": "http://proxy:3128" })).toThrow(/proxy-url is not supported/);
    expect(
      await refused({ "insecure-skip-tls-verify": true, "certificate-authority-data": b64("PEM") }),
    ).toThrow(/certificate-authority with insecure-skip-tls-verify is not allowed/);
    expect(await refused({}, { token: "t", username: "u" })).toThrow(
      /token and username\/password cannot both be set/,
    );
    expect(await refused({}, { "client-certificate-data": b64("C") })).toThrow(
      /client-certificate and client-key go together/,
    );
    expect(await refused({ server: "" })).toThrow(/cluster c: no server/);

    const noContext = await writeKubeconfig(JSON.stringify({ clusters: [] }), "empty");
    expect(() => resolveKubeConfig(noContext)).toThrow(`kubeconfig ${noContext} has no current-context`);
    expect(() => resolveKubeConfig(join(dir, "absent"))).toThrow(/cannot read kubeconfig .*absent/);
    const notYaml = await writeKubeconfig("clusters: [", "broken");
    expect(() => resolveKubeConfig(notYaml)).toThrow(/is not YAML/);
  });
});

describe("exec credential plugins", () => {
  /** A plugin script printing an ExecCredential and counting its runs (one line per run). */
  async function plugin(credential: Record<string, unknown>, apiVersion = "client.authentication.k8s.io/v1") {
    const runs = join(dir, "runs");
    const script = join(dir, "plugin.sh");
    const answer = JSON.stringify({ apiVersion, kind: "ExecCredential", status: credential });
    await writeFile(
      script,
      `#!/bin/sh\necho "$1 $PLUGIN_ENV $KUBERNETES_EXEC_INFO" >> ${runs}\ncat <<'EOF'\n${answer}\nEOF\n`,
    );
    await chmod(script, 0o755);
    const exec = {
      apiVersion,
      command: "./plugin.sh",
      args: ["--flag"],
      env: [{ name: "PLUGIN_ENV", value: "from-kubeconfig" }],
      provideClusterInfo: true,
      interactiveMode: "Never",
    };
    const runLines = async (): Promise<string[]> =>
      (await readFile(runs, "utf8").catch(() => "")).split("\n").filter(Boolean);
    return { exec, runLines };
  }

  it("runs the plugin with its args, env and KUBERNETES_EXEC_INFO, and keeps the token until it expires", async () => {
    const url = await httpServer();
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const { exec, runLines } = await plugin({ token: "exec-token", expirationTimestamp: expires });
    const kc = load(await writeKubeconfig(kubeconfig({ server: url }, { exec })));
    await Promise.all([get(kc), get(kc)]);
    await get(kc);
    expect(seen.map((h) => h.authorization)).toEqual([
      "Bearer exec-token",
      "Bearer exec-token",
      "Bearer exec-token",
    ]);
    const runs = await runLines();
    expect(runs).toHaveLength(1);
    const [flag, env, ...info] = (runs[0] ?? "").split(" ");
    expect([flag, env]).toEqual(["--flag", "from-kubeconfig"]);
    expect(JSON.parse(info.join(" "))).toEqual({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      spec: { interactive: false, cluster: { server: url } },
    });
  });

  it("runs the plugin again once the token expired, and after the server refused it", async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    const expired = await plugin(
      { token: "t", expirationTimestamp: past },
      "client.authentication.k8s.io/v1beta1",
    );
    const url = await httpServer();
    const kc = load(await writeKubeconfig(kubeconfig({ server: url }, { exec: expired.exec })));
    await get(kc);
    await get(kc);
    expect(await expired.runLines()).toHaveLength(2);

    await closeServer(server);
    await rm(join(dir, "runs"));
    const lasting = await plugin({ token: "t" });
    const refusing = await httpServer(401);
    const refused = load(
      await writeKubeconfig(kubeconfig({ server: refusing }, { exec: lasting.exec }), "c2"),
    );
    expect(httpStatusOf(await get(refused).catch((e: unknown) => e))).toBe(401);
    expect(httpStatusOf(await get(refused).catch((e: unknown) => e))).toBe(401);
    expect(await lasting.runLines()).toHaveLength(2);
  });

  it("reports a plugin that is missing, fails, or answers something else", async () => {
    const url = await httpServer();
    const missing = load(
      await writeKubeconfig(
        kubeconfig(
          { server: url },
          {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1",
              command: "no-such-plugin-anywhere",
              installHint: "install it with: brew install it",
            },
          },
        ),
      ),
    );
    await expect(get(missing)).rejects.toThrow(
      "exec plugin no-such-plugin-anywhere not found: install it with: brew install it",
    );

    const { exec } = await plugin({ token: "t" }, "client.authentication.k8s.io/v1beta1");
    const mismatched = load(
      await writeKubeconfig(
        kubeconfig({ server: url }, { exec: { ...exec, apiVersion: "client.authentication.k8s.io/v1" } }),
        "c2",
      ),
    );
    await expect(get(mismatched)).rejects.toThrow(/answered client.authentication.k8s.io\/v1beta1/);

    await writeFile(join(dir, "fail.sh"), "#!/bin/sh\necho 'no credentials here' >&2\nexit 3\n");
    await chmod(join(dir, "fail.sh"), 0o755);
    const failing = load(
      await writeKubeconfig(
        kubeconfig(
          { server: url },
          { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "./fail.sh" } },
        ),
        "c3",
      ),
    );
    await expect(get(failing)).rejects.toThrow(
      /exec plugin .*fail\.sh failed: exited with code 3: no credentials here$/,
    );
    expect(seen).toHaveLength(0);

    const always = await writeKubeconfig(
      kubeconfig({ server: url }, { exec: { ...exec, interactiveMode: "Always" } }),
      "c4",
    );
    expect(() => resolveKubeConfig(always)).toThrow(/interactiveMode Always needs a terminal/);
  });
});

describe("in-cluster service account", () => {
  it("uses KUBERNETES_SERVICE_HOST/PORT and the token, CA and namespace files", async () => {
    await writeFile(join(dir, "token"), "sa-token\n");
    await writeFile(join(dir, "ca.crt"), "CLUSTER CA");
    await writeFile(join(dir, "namespace"), "operators\n");
    const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
    expect(resolveKubeConfig(undefined, { env, serviceAccountDir: dir, home: dir })).toEqual({
      server: "https://10.96.0.1:443",
      tokenFile: join(dir, "token"),
      certificateAuthority: "CLUSTER CA",
      namespace: "operators",
    });
    const ipv6 = { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" };
    expect(resolveKubeConfig(undefined, { env: ipv6, serviceAccountDir: dir, home: dir }).server).toBe(
      "https://[fd00::1]:443",
    );
  });

  it("comes before ~/.kube/config for the operator, after it for the CLI, and is skipped without a token", async () => {
    const url = await httpServer();
    await writeFile(join(dir, "token"), "sa-token");
    const home = join(dir, "home");
    await mkdir(join(home, ".kube"), { recursive: true });
    await writeFile(join(home, ".kube", "config"), kubeconfig({ server: url }, { token: "home" }));
    const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
    expect(resolveKubeConfig(undefined, { env, serviceAccountDir: dir, home }).server).toBe(
      "https://10.96.0.1:443",
    );
    expect(resolveKubeConfig(undefined, { env, serviceAccountDir: dir, home, homeFirst: true }).token).toBe(
      "home",
    );
    expect(resolveKubeConfig(undefined, { env: {}, serviceAccountDir: dir, home }).token).toBe("home");
    expect(() => resolveKubeConfig(undefined, { env: {}, serviceAccountDir: dir, home: dir })).toThrow(
      "no kubeconfig given, not running in a cluster and no ~/.kube/config",
    );
  });
});
