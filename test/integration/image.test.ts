// The image built from the Dockerfile (scripts/image.sh; `npm test` builds it before the suites):
// its config is what the chart relies on, it holds the compiled operator and its production
// dependencies only, and its entrypoint starts as uid 1000 on a read-only root filesystem.
// deploy.test.ts starts it as the Pod the chart creates, against the control plane.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BuiltImage,
  buildImage,
  type ImageConfig,
  imageConfig,
  type MountedImage,
  mountImage,
  runContainer,
  specFromImage,
} from "../harness/index.ts";

const root = resolve(import.meta.dirname, "../..");
const packageJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
  license: string;
  engines: { node: string };
};
const nodeMajor = /^>=(\d+)/.exec(packageJson.engines.node)?.[1];
const chartValues = load(
  readFileSync(join(root, "deploy", "helm", "imagestream-operator", "values.yaml"), "utf8"),
) as { metrics: { port: number }; health: { port: number }; podSecurityContext: { runAsUser: number } };

let image: BuiltImage;
let config: ImageConfig;
let mounted: MountedImage;

beforeAll(async () => {
  image = await buildImage();
  config = await imageConfig(image);
  mounted = await mountImage(image);
}, 15 * 60_000); // outside `npm test` a first build assembles the base image too

afterAll(async () => {
  await mounted?.remove();
});

/** Every package directory under node_modules, as package-lock.json names them. */
function installedPackages(dir: string, prefix = "node_modules"): string[] {
  const found: string[] = [];
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(".")) continue;
    const names = entry.startsWith("@") ? readdirSync(join(dir, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) {
      found.push(`${prefix}/${name}`);
      found.push(...installedPackages(join(dir, name, "node_modules"), `${prefix}/${name}/node_modules`));
    }
  }
  return found;
}

describe("the image built from the Dockerfile", () => {
  it("has the config the chart relies on: uid 1000, the entrypoint, the chart's ports, OCI labels", () => {
    expect(config.User).toBe("1000:1000");
    expect(config.User?.split(":")[0]).toBe(String(chartValues.podSecurityContext.runAsUser));
    expect(config.Entrypoint).toEqual(["node", "--max-old-space-size-percentage=50", "dist/main.js"]);
    // The base image's CMD must not leak in as arguments of the operator.
    expect(config.Cmd ?? []).toEqual([]);
    expect(config.WorkingDir).toBe("/app");
    expect(Object.keys(config.ExposedPorts ?? {}).sort()).toEqual(
      [`${chartValues.metrics.port}/tcp`, `${chartValues.health.port}/tcp`].sort(),
    );
    expect(config.Env).toContain("NODE_ENV=production");
    expect(config.Env).toContain("MALLOC_ARENA_MAX=2");
    expect(config.Labels).toMatchObject({
      "org.opencontainers.image.title": "imagestream-operator",
      "org.opencontainers.image.version": packageJson.version,
      "org.opencontainers.image.licenses": packageJson.license,
      "org.opencontainers.image.revision": image.revision,
    });
    expect(config.Labels?.["org.opencontainers.image.source"]).toMatch(/^https:\/\//);
  });

  it("holds the compiled operator and exactly the production dependencies of package-lock.json", () => {
    const app = join(mounted.rootfs, "app");
    expect(existsSync(join(app, "dist", "main.js"))).toBe(true);
    expect(existsSync(join(app, "package.json"))).toBe(true);
    expect(existsSync(join(app, "src"))).toBe(false);
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const installed = new Set(installedPackages(join(app, "node_modules")));
    const entries = Object.entries(lock.packages).filter(([path]) => path !== "");
    const dev = entries.filter(([, p]) => p.dev).map(([path]) => path);
    const production = entries.filter(([, p]) => !p.dev && !p.optional).map(([path]) => path);
    expect(dev.length).toBeGreaterThan(0);
    expect(dev.filter((path) => installed.has(path))).toEqual([]);
    expect(production.filter((path) => !installed.has(path))).toEqual([]);
    const known = new Set(entries.map(([path]) => path));
    expect([...installed].filter((path) => !known.has(path))).toEqual([]);
    const bytes = (path: string): number =>
      Number(execFileSync("du", ["-sb", path], { encoding: "utf8" }).split("\t")[0]);
    console.log(
      `[image] ${image.reference} ${image.digest}: ${(bytes(mounted.rootfs) / 1e6).toFixed(0)} MB uncompressed, ` +
        `node_modules ${(bytes(join(app, "node_modules")) / 1e6).toFixed(1)} MB (${installed.size} packages), base ${image.base}`,
    );
  });

  it("runs the Node major of package.json's engines, as uid 1000 on a read-only root", async () => {
    const spec = {
      ...specFromImage(config),
      command: ["sh", "-c", 'node --version; id -u; id -g; touch /app/x 2>&1 || echo "write refused"'],
      readOnlyRootFilesystem: true,
    };
    const { code, output } = await runContainer(image, spec);
    expect(code, output).toBe(0);
    const [nodeVersion, uid, gid] = output.trim().split("\n");
    expect(nodeMajor).toBeDefined();
    expect(nodeVersion?.split(".")[0]).toBe(`v${nodeMajor}`);
    expect([uid, gid]).toEqual(["1000", "1000"]);
    expect(output).toMatch(/Read-only file system[\s\S]*write refused/);
  });

  it("starts with its entrypoint and stops at once with exit 2 naming a bad setting", async () => {
    const { code, output } = await runContainer(image, {
      ...specFromImage(config, ["--log-level=loud"]),
      readOnlyRootFilesystem: true,
    });
    expect(code, output).toBe(2);
    expect(output).toContain("--log-level");
    expect(output).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
