// The operator's container image as the tests see it: built from the Dockerfile by
// scripts/image.sh (buildah here), inspected in the local containers-storage, pushed, and
// started from its root filesystem the way a container runtime would (run-rootfs.sh), since
// no container runtime can run containers on this machine. Needs root and buildah.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { makeTempDir, removeTempDir, run, runChecked, spawnLogged } from "./process.ts";

const root = resolve(import.meta.dirname, "../..");
const RUN_ROOTFS = join(import.meta.dirname, "run-rootfs.sh");

/** What scripts/image.sh --metadata records. */
export interface BuiltImage {
  engine: string;
  /** Local name, e.g. localhost/imagestream-operator:0.1.0. */
  reference: string;
  /** Image ID (sha256:... of its config). */
  id: string;
  /** Manifest digest in the local store (pushing compresses the layers: `pushed.digest` differs). */
  digest: string;
  base: string;
  version: string;
  revision: string;
  pushed: { reference: string; digest: string } | null;
}

/** The OCI image config fields the tests look at. */
export interface ImageConfig {
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string>;
}

/**
 * Builds the image with scripts/image.sh (its layer cache makes a rebuild of unchanged sources
 * take seconds) and pushes it when `push` (REGISTRY/REPO:TAG) is given. Without `push`, the
 * image that `npm test` built before the suites (IMAGESTREAM_TEST_IMAGE, its metadata file) is used.
 */
export async function buildImage(options: { push?: string } = {}): Promise<BuiltImage> {
  const given = process.env.IMAGESTREAM_TEST_IMAGE;
  if (given && options.push === undefined) return JSON.parse(readFileSync(given, "utf8")) as BuiltImage;
  const dir = await makeTempDir("isop-image");
  try {
    const metadata = join(dir, "image.json");
    const args = [join(root, "scripts", "image.sh"), "--metadata", metadata];
    if (options.push !== undefined) args.push("--push", options.push);
    const result = await run("bash", args, { cwd: root });
    if (result.code !== 0) {
      throw new Error(
        `scripts/image.sh failed (${result.code}):\n${result.stderr.split("\n").slice(-30).join("\n")}`,
      );
    }
    const image = JSON.parse(await readFile(metadata, "utf8")) as BuiltImage;
    if (image.engine === "docker") {
      throw new Error(
        "the image tests need the image in containers-storage: build it with podman or buildah",
      );
    }
    return image;
  } finally {
    await removeTempDir(dir);
  }
}

/** The image's OCI config, as stored. */
export async function imageConfig(image: BuiltImage): Promise<ImageConfig> {
  const inspected = JSON.parse(await runChecked("buildah", ["inspect", "--type", "image", image.id])) as {
    OCIv1: { config?: ImageConfig };
  };
  return inspected.OCIv1.config ?? {};
}

/** A writable copy of the image's root filesystem (what a runtime prepares for a container). */
export interface MountedImage {
  rootfs: string;
  remove(): Promise<void>;
}

export async function mountImage(image: BuiltImage): Promise<MountedImage> {
  const name = `isop-test-${randomBytes(4).toString("hex")}`;
  await runChecked("buildah", ["from", "--pull=false", "--name", name, image.id]);
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    await run("buildah", ["rm", name]);
  };
  try {
    const rootfs = (await runChecked("buildah", ["mount", name])).trim();
    return { rootfs, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** How to start a container: a runtime's view, already resolved from image config and pod spec. */
export interface ContainerSpec {
  /** Entrypoint and arguments; the first word is looked up in the container's PATH. */
  command: string[];
  env: Record<string, string>;
  workingDir: string;
  /** The container's hostname (a Pod's is its name); default: "container". */
  hostname?: string;
  uid: number;
  gid: number;
  readOnlyRootFilesystem: boolean;
  /** Writable tmpfs mounts (emptyDir volumes). */
  tmpfs: { path: string; sizeBytes: number }[];
  /** Host directories mounted read-only (projected volumes). */
  readOnlyBinds: { source: string; path: string }[];
}

export interface RunningContainer {
  /** Host pid of the container's PID 1 (its entrypoint), once it runs. */
  init(): Promise<number>;
  logFile: string;
  /** stdout and stderr so far. */
  output(): Promise<string>;
  /** Sends a signal to PID 1, as a runtime does on stop. */
  signal(signal: NodeJS.Signals): Promise<void>;
  /** Exit code of PID 1 (null when a signal ended it). */
  exitCode(): Promise<number | null>;
  /** Kills what still runs and removes the container's root filesystem. */
  remove(): Promise<void>;
}

/** Pids of containers' PID 1 still running: setuid clears unshare's kill-on-exit, so kill them here. */
const running = new Set<number>();
process.on("exit", () => {
  for (const pid of running) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
});

/** Starts `spec` in a fresh copy of the image's root filesystem (run-rootfs.sh). */
export async function startContainer(image: BuiltImage, spec: ContainerSpec): Promise<RunningContainer> {
  const mounted = await mountImage(image);
  const dir = await makeTempDir("isop-container");
  const logFile = join(dir, "container.log");
  const options = [
    ...(spec.readOnlyRootFilesystem ? ["--read-only"] : []),
    "--workdir",
    spec.workingDir,
    "--user",
    `${spec.uid}:${spec.gid}`,
    "--hostname",
    spec.hostname ?? "container",
    ...spec.tmpfs.flatMap((t) => ["--tmpfs", t.path, String(t.sizeBytes)]),
    ...spec.readOnlyBinds.flatMap((b) => ["--bind-ro", b.source, b.path]),
  ];
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  const launcher = spawnLogged({
    name: "container",
    command: "unshare",
    args: [
      "--mount",
      "--uts",
      "--propagation",
      "private",
      "sh",
      RUN_ROOTFS,
      mounted.rootfs,
      ...options,
      "--",
      ...env,
      ...spec.command,
    ],
    logFile,
    env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
  });
  const exitCode = launcher.exitCode();
  const output = (): Promise<string> => readFile(logFile, "utf8").catch(() => "");
  // The container's PID 1 is the launcher's child whose pid in its own namespace is 1.
  let pid1: number | undefined;
  const init = async (): Promise<number> => {
    for (let i = 0; i < 300 && pid1 === undefined; i++) {
      if (launcher.exited()) throw new Error(`the container exited (${await exitCode}):\n${await output()}`);
      pid1 = containerInit(launcher.pid);
      if (pid1 === undefined) await sleep(50);
      else {
        const pid = pid1;
        running.add(pid);
        void exitCode.then(() => running.delete(pid));
      }
    }
    if (pid1 === undefined) throw new Error("the container's PID 1 did not appear within 15 s");
    return pid1;
  };
  return {
    init,
    logFile,
    output,
    signal: async (signal) => {
      process.kill(await init(), signal);
    },
    exitCode: () => exitCode,
    async remove() {
      if (pid1 !== undefined && running.delete(pid1)) process.kill(pid1, "SIGKILL");
      await launcher.stop();
      await mounted.remove();
      await removeTempDir(dir);
    },
  };
}

function containerInit(launcherPid: number): number | undefined {
  let children: string[];
  try {
    children = readFileSync(`/proc/${launcherPid}/task/${launcherPid}/children`, "utf8").trim().split(/\s+/);
  } catch {
    return undefined;
  }
  for (const child of children.filter(Boolean)) {
    const status = processStatus(Number(child));
    const nspid = status?.NSpid?.split(/\s+/) ?? [];
    if (nspid.length > 1 && nspid.at(-1) === "1") return Number(child);
  }
  return undefined;
}

/** /proc/PID/status as name -> value (Uid, Gid, CapEff, NoNewPrivs, NSpid, ...). */
export function processStatus(pid: number): Record<string, string> | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    return Object.fromEntries(
      text
        .split("\n")
        .filter((line) => line.includes(":"))
        .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]),
    );
  } catch {
    return undefined;
  }
}

/** Mount options of `path` as the process `pid` sees its mounts (e.g. ["ro", "relatime"]). */
export function mountOptions(pid: number, path: string): string[] | undefined {
  const lines = readFileSync(`/proc/${pid}/mountinfo`, "utf8").trim().split("\n");
  // Later lines are mounted on top of earlier ones at the same point.
  const line = lines.reverse().find((l) => l.split(" ")[4] === path);
  return line?.split(" ")[5]?.split(",");
}

/** Runs `spec` to completion: exit code and output. */
export async function runContainer(
  image: BuiltImage,
  spec: ContainerSpec,
): Promise<{ code: number | null; output: string }> {
  const container = await startContainer(image, spec);
  try {
    const code = await container.exitCode();
    return { code, output: await container.output() };
  } finally {
    await container.remove();
  }
}

/** The container spec of the image's own config (a plain `docker run IMAGE ARGS...`). */
export function specFromImage(config: ImageConfig, args: string[] = []): ContainerSpec {
  const [uid, gid] = numericUser(config.User);
  return {
    command: [...(config.Entrypoint ?? []), ...(args.length > 0 ? args : (config.Cmd ?? []))],
    env: envRecord(config.Env ?? []),
    workingDir: config.WorkingDir || "/",
    uid,
    gid,
    readOnlyRootFilesystem: false,
    tmpfs: [],
    readOnlyBinds: [],
  };
}

/** "1000:1000" or "1000" (gid 0, as a runtime without /etc/group lookups). Names are not resolved. */
export function numericUser(user: string | undefined): [number, number] {
  if (!user) return [0, 0];
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match) throw new Error(`image user "${user}" is not numeric uid[:gid]`);
  return [Number(match[1]), Number(match[2] ?? 0)];
}

export function envRecord(env: string[]): Record<string, string> {
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}
