// A real local Kubernetes control plane: etcd + kube-apiserver (+ kube-controller-manager),
// all on loopback ports, with certificates from a private CA made for this instance.
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { Agent, request } from "undici";
import { type KubeConnection, loadKubeConfig } from "../../src/runtime/index.ts";
import { selectedBackend } from "./backend.ts";
import { controlPlanesWithoutControllers, kubectl } from "./kubectl.ts";
import {
  type CertificateAuthority,
  createCa,
  createRsaKeyPair,
  issueClientCert,
  issueServingCert,
} from "./pki.ts";
import {
  freePort,
  type ManagedProcess,
  makeTempDir,
  type ProcessInfo,
  removeTempDir,
  runChecked,
  spawnLogged,
  waitUntilReady,
} from "./process.ts";

export interface ControlPlane {
  /** Admin kubeconfig (client cert, O=system:masters). */
  kubeconfigPath: string;
  /** client-node's view of it, for the tests' own API calls. */
  kubeConfig: KubeConfig;
  /** The runtime's connection to it, for what the operator's code is given. */
  connection: KubeConnection;
  /** https://127.0.0.1:PORT */
  server: string;
  /** Its temp dir (removed by stop()). */
  dir: string;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  controllerManager?: boolean;
  installCrds?: boolean;
  /** Extra kube-controller-manager flags (processes backend), e.g. a higher --kube-api-qps for benchmarks. */
  controllerManagerArgs?: string[];
}

/** Extra knobs for `scripts/cluster.ts`: a fixed directory and processes that outlive this one. */
export interface LaunchOptions extends ControlPlaneOptions {
  dir?: string;
  detached?: boolean;
}

export interface LaunchedControlPlane extends ControlPlane {
  processes: ProcessInfo[];
}

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
const CRD_DIR = join(REPO_ROOT, "crds");
const STARTUP_TIMEOUT_MS = 90_000;

let kubeBinDirPromise: Promise<string> | undefined;

/** Directory holding kube-apiserver and kube-controller-manager (built and cached on first use). */
export function kubeBinDir(): Promise<string> {
  kubeBinDirPromise ??= (async () => {
    const fromEnv = process.env.KUBE_BIN_DIR;
    if (fromEnv) return fromEnv;
    const out = await runChecked("bash", [join(REPO_ROOT, "scripts/build-kube.sh")]);
    const dir = out.trim().split("\n").pop() ?? "";
    if (!existsSync(join(dir, "kube-apiserver"))) {
      throw new Error(`scripts/build-kube.sh printed "${dir}", which holds no kube-apiserver`);
    }
    return dir;
  })();
  return kubeBinDirPromise;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  if (selectedBackend() === "containers") {
    return (await import("./containers.ts")).startK3sControlPlane(opts);
  }
  return launchControlPlane(opts);
}

interface KubeconfigUser {
  certPem: string;
  keyPem: string;
}

/** Self-contained kubeconfig (certificates embedded), usable after the files move. */
export function kubeconfigYaml(
  server: string,
  caPem: string,
  user: KubeconfigUser,
  name = "harness",
): string {
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  // JSON is valid YAML and needs no serializer.
  return `${JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name, cluster: { server, "certificate-authority-data": b64(caPem) } }],
      users: [
        { name, user: { "client-certificate-data": b64(user.certPem), "client-key-data": b64(user.keyPem) } },
      ],
      contexts: [{ name, context: { cluster: name, user: name } }],
      "current-context": name,
    },
    null,
    2,
  )}\n`;
}

async function httpsProbe(url: string, dispatcher: Agent): Promise<boolean> {
  const res = await request(url, { dispatcher, headersTimeout: 3000, bodyTimeout: 3000 });
  const body = await res.body.text();
  return res.statusCode === 200 && body.trim() === "ok";
}

export async function launchControlPlane(opts: LaunchOptions = {}): Promise<LaunchedControlPlane> {
  const started = Date.now();
  const dir = opts.dir ?? (await makeTempDir("isop-cp"));
  const ownsDir = opts.dir === undefined;
  await mkdir(dir, { recursive: true });
  const pkiDir = join(dir, "pki");
  await mkdir(pkiDir, { recursive: true });
  const processes: ManagedProcess[] = [];
  const agents: Agent[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: controllers first, etcd last.
    for (const proc of [...processes].reverse()) await proc.stop();
    await Promise.all(agents.map((a) => a.close()));
    if (ownsDir) await removeTempDir(dir);
  };

  try {
    const [binDir, etcdClientPort, etcdPeerPort, apiPort, kcmPort] = await Promise.all([
      kubeBinDir(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const spawn = (name: string, command: string, args: string[]): ManagedProcess => {
      const proc = spawnLogged({
        name,
        command,
        args,
        logFile: join(dir, `${name}.log`),
        detached: opts.detached ?? false,
      });
      processes.push(proc);
      return proc;
    };

    // etcd starts while the certificates are being made.
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcd = spawn("etcd", "etcd", [
      "--name=harness",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=harness=http://127.0.0.1:${etcdPeerPort}`,
      "--logger=zap",
      "--log-outputs=stderr",
      // No need to keep many raft entries in memory for a throwaway store.
      "--snapshot-count=5000",
    ]);
    const pki = await makeControlPlanePki(pkiDir);
    await waitUntilReady(
      etcd,
      async () => {
        const res = await request(`${etcdUrl}/health`, { headersTimeout: 2000 });
        const body = (await res.body.json()) as { health?: string };
        return res.statusCode === 200 && body.health === "true";
      },
      STARTUP_TIMEOUT_MS,
    );

    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = spawn("kube-apiserver", join(binDir, "kube-apiserver"), [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, "apiserver")}`,
      `--tls-cert-file=${pki.serving.certFile}`,
      `--tls-private-key-file=${pki.serving.keyFile}`,
      `--client-ca-file=${pki.ca.certFile}`,
      "--authorization-mode=Node,RBAC",
      // On by default; named so that nobody removes them: the operator's webhooks are called by
      // this API server, never by the tests.
      "--enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.serviceAccount.pubFile}`,
      `--service-account-signing-key-file=${pki.serviceAccount.keyFile}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      "--allow-privileged=true",
      "--profiling=false",
      "--v=1",
    ]);
    const caPem = await readFile(pki.ca.certFile, "utf8");
    const adminUser = {
      certPem: await readFile(pki.admin.certFile, "utf8"),
      keyPem: await readFile(pki.admin.keyFile, "utf8"),
    };
    const adminAgent = new Agent({ connect: { ca: caPem, cert: adminUser.certPem, key: adminUser.keyPem } });
    agents.push(adminAgent);
    await waitUntilReady(apiserver, () => httpsProbe(`${server}/readyz`, adminAgent), STARTUP_TIMEOUT_MS);

    const kubeconfigPath = join(dir, "admin.kubeconfig");
    await writeFile(kubeconfigPath, kubeconfigYaml(server, caPem, adminUser), { mode: 0o600 });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const connection = loadKubeConfig(kubeconfigPath);
    const controlPlane: LaunchedControlPlane = {
      kubeconfigPath,
      kubeConfig,
      connection,
      server,
      dir,
      stop,
      processes,
    };

    if (!opts.controllerManager) controlPlanesWithoutControllers.add(controlPlane);
    if (opts.controllerManager) {
      const kcmKubeconfig = join(dir, "controller-manager.kubeconfig");
      await writeFile(
        kcmKubeconfig,
        kubeconfigYaml(server, caPem, {
          certPem: await readFile(pki.controllerManager.certFile, "utf8"),
          keyPem: await readFile(pki.controllerManager.keyFile, "utf8"),
        }),
        { mode: 0o600 },
      );
      const kcm = spawn("kube-controller-manager", join(binDir, "kube-controller-manager"), [
        `--kubeconfig=${kcmKubeconfig}`,
        `--authentication-kubeconfig=${kcmKubeconfig}`,
        `--authorization-kubeconfig=${kcmKubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dir, "controller-manager")}`,
        "--leader-elect=false",
        `--service-account-private-key-file=${pki.serviceAccount.keyFile}`,
        `--root-ca-file=${pki.ca.certFile}`,
        "--use-service-account-credentials=true",
        `--cluster-signing-cert-file=${pki.ca.certFile}`,
        `--cluster-signing-key-file=${pki.ca.keyFile}`,
        "--profiling=false",
        "--v=1",
        ...(opts.controllerManagerArgs ?? []),
      ]);
      // Its self-signed serving cert is made at startup; only /healthz is probed, on loopback.
      const kcmAgent = new Agent({ connect: { rejectUnauthorized: false } });
      agents.push(kcmAgent);
      await waitUntilReady(
        kcm,
        () => httpsProbe(`https://127.0.0.1:${kcmPort}/healthz`, kcmAgent),
        STARTUP_TIMEOUT_MS,
      );
      // The serviceaccount controller creating "default" shows the controllers are running.
      await waitUntilReady(
        kcm,
        async () =>
          (await kubectl(controlPlane, ["get", "serviceaccount", "default", "-n", "default"])).code === 0,
        STARTUP_TIMEOUT_MS,
        "kube-controller-manager (default ServiceAccount)",
      );
    }

    if (opts.installCrds) await installCrds(controlPlane);
    // The probes' connections are not needed any more (and would keep a detached launcher alive).
    await Promise.all(agents.splice(0).map((a) => a.close()));
    if (process.env.HARNESS_VERBOSE) {
      console.error(`[harness] control plane at ${server} ready in ${Date.now() - started} ms (${dir})`);
    }
    return controlPlane;
  } catch (error) {
    await stop();
    throw error;
  }
}

async function makeControlPlanePki(pkiDir: string): Promise<{
  ca: CertificateAuthority;
  serving: { certFile: string; keyFile: string };
  admin: { certFile: string; keyFile: string };
  controllerManager: { certFile: string; keyFile: string };
  serviceAccount: { keyFile: string; pubFile: string };
}> {
  const [ca, serviceAccount] = await Promise.all([
    createCa(pkiDir, "imagestream-harness-ca"),
    createRsaKeyPair(pkiDir, "service-account"),
  ]);
  const [serving, admin, controllerManager] = await Promise.all([
    issueServingCert(ca, pkiDir, "apiserver"),
    issueClientCert(ca, pkiDir, "admin", "admin", ["system:masters"]),
    issueClientCert(ca, pkiDir, "controller-manager", "system:kube-controller-manager"),
  ]);
  return { ca, serving, admin, controllerManager, serviceAccount };
}

/** Applies every crds/*.yaml and waits until each CRD is Established; returns the files applied. */
export async function installCrds(
  cp: Pick<ControlPlane, "kubeconfigPath">,
  crdDir = CRD_DIR,
): Promise<string[]> {
  const files = existsSync(crdDir)
    ? (await readdir(crdDir))
        .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
        .sort()
        .map((f) => join(crdDir, f))
    : [];
  if (files.length === 0) return [];
  const fileArgs = files.flatMap((f) => ["-f", f]);
  const applied = await kubectl(cp, ["apply", "--server-side", "--force-conflicts", ...fileArgs]);
  if (applied.code !== 0) throw new Error(`applying CRDs failed: ${applied.stderr || applied.stdout}`);
  const waited = await kubectl(cp, ["wait", "--for=condition=Established", "--timeout=60s", ...fileArgs]);
  if (waited.code !== 0) throw new Error(`CRDs not Established: ${waited.stderr || waited.stdout}`);
  return files;
}
