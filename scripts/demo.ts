// The one-command demo: a local control plane and registry, a sample ImageStream and a
// triggered Deployment, the operator running against them, a new image pushed and a
// re-import requested; then pushes to the integrated registry with a ServiceAccount token,
// which create a stream and roll out a Deployment with no annotation and no schedule, and a
// token without rights refused. Prints what the operator did at each step.
//
//   node scripts/demo.ts          # run and clean up
//   node scripts/demo.ts --keep   # leave everything running and print how to explore
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../test/harness/control-plane.ts";
import { pushImage } from "../test/harness/push.ts";

const exec = promisify(execFile);
const keep = process.argv.includes("--keep");
const DEV = join(REPO_ROOT, ".dev");
const KUBECONFIG = join(DEV, "kubeconfig");
const NAMESPACE = "demo";
const WAIT_MS = 60_000;
/** Written as `${REGISTRY}` in examples/demo; replaced with the registry's host:port. */
const REGISTRY_PLACEHOLDER = ["$", "{REGISTRY}"].join("");

let step = 0;
function say(title: string): void {
  step++;
  console.log(`\n[${step}] ${title}`);
}
function show(label: string, value: string): void {
  console.log(`    ${label.padEnd(22)} ${value}`);
}

async function kubectl(args: string[], stdin?: string): Promise<string> {
  const child = execFile("kubectl", ["--kubeconfig", KUBECONFIG, ...args], { encoding: "utf8" });
  if (stdin !== undefined) child.stdin?.end(stdin);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: string) => {
      out += d;
    });
    child.stderr?.on("data", (d: string) => {
      err += d;
    });
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(" ")}: ${err.trim()}`)),
    );
  });
}

async function jsonpath(resource: string, path: string): Promise<string> {
  return (await kubectl(["-n", NAMESPACE, "get", resource, "-o", `jsonpath=${path}`])).trim();
}

async function waitFor(
  what: string,
  probe: () => Promise<string>,
  accept: (v: string) => boolean,
  pollMs = 500,
): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  let last = "";
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(
    `timed out after ${WAIT_MS / 1000}s waiting for ${what} (last: ${last || "nothing"}); see .dev/operator.log`,
  );
}

async function clusterUp(): Promise<{ registry: string; integrated: string; startedHere: boolean }> {
  const startedHere = !existsSync(join(DEV, "state.json"));
  await exec(process.execPath, [join(REPO_ROOT, "scripts/cluster.ts"), "up"], { cwd: REPO_ROOT });
  const env = await readFile(join(DEV, "env"), "utf8");
  const registry = /^REGISTRY=(.*)$/m.exec(env)?.[1]?.trim();
  const integrated = /^INTEGRATED_REGISTRY=(.*)$/m.exec(env)?.[1]?.trim();
  if (!registry || !integrated) throw new Error(".dev/env has no REGISTRY or INTEGRATED_REGISTRY");
  return { registry, integrated, startedHere };
}

/** The operator as `npm start` runs it after cluster:up: the settings of .dev/operator.yaml. */
function startOperator(): ChildProcess {
  const log = openSync(join(DEV, "operator.log"), "a");
  return spawn(
    process.execPath,
    [
      join(REPO_ROOT, "src/main.ts"),
      "--config",
      join(DEV, "operator.yaml"),
      "--metrics-address=0",
      "--health-address=0",
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", log, log], env: process.env, detached: keep },
  );
}

/** Polls `probe` every 20 ms until `accept`; the time it took, in ms. */
async function timeUntil(probe: () => Promise<string>, accept: (v: string) => boolean): Promise<number> {
  const started = performance.now();
  await waitFor("the rollout", probe, accept, 20);
  return Math.round(performance.now() - started);
}

async function main(): Promise<void> {
  say("Starting a local control plane (etcd, kube-apiserver, kube-controller-manager) and a registry");
  const { registry, integrated, startedHere } = await clusterUp();
  show("registry", `${registry} (plain HTTP)`);
  show("integrated registry", `${integrated} (Kubernetes tokens, notifications to the operator)`);
  show("kubeconfig", ".dev/kubeconfig");

  let operator: ChildProcess | undefined;
  const cleanup = async () => {
    operator?.kill("SIGTERM");
    if (!keep && startedHere)
      await exec(process.execPath, [join(REPO_ROOT, "scripts/cluster.ts"), "down"], { cwd: REPO_ROOT });
  };
  try {
    say("Pushing demo/hello:stable (version 1) to the registry");
    const target = { variant: "plain" as const, host: registry, url: `http://${registry}` };
    const v1 = await pushImage(target, "demo/hello", "stable", {
      layerContent: "hello, version 1",
      config: { Env: ["VERSION=1"], Cmd: ["/hello"] },
    });
    show("pushed digest", v1.digest);

    say("Applying an ImageStream and a Deployment with an image trigger (examples/demo/)");
    await kubectl(["create", "namespace", NAMESPACE]).catch(() => "");
    for (const file of ["imagestream.yaml", "deployment.yaml"]) {
      const text = (await readFile(join(REPO_ROOT, "examples/demo", file), "utf8")).replaceAll(
        REGISTRY_PLACEHOLDER,
        registry,
      );
      await kubectl(["-n", NAMESPACE, "apply", "-f", "-"], text);
    }
    show("deployment image", await jsonpath("deployment/hello", "{.spec.template.spec.containers[0].image}"));

    say("Running the operator (logs in .dev/operator.log)");
    operator = startOperator();
    const imported = await waitFor(
      "the import of hello:stable",
      () => jsonpath("is/hello", "{.status.tags[0].items[0].image}"),
      (v) => v === v1.digest,
    );
    show("imported digest", imported);
    show("pull spec", await jsonpath("is/hello", "{.status.tags[0].items[0].dockerImageReference}"));
    const rolled = await waitFor(
      "the Deployment to follow the tag",
      () => jsonpath("deployment/hello", "{.spec.template.spec.containers[0].image}"),
      (v) => v.endsWith(v1.digest),
    );
    show("deployment image", rolled);

    say("Pushing version 2 under the same tag and requesting a re-import");
    const v2 = await pushImage(target, "demo/hello", "stable", {
      layerContent: "hello, version 2",
      config: { Env: ["VERSION=2"], Cmd: ["/hello"] },
    });
    show("pushed digest", v2.digest);
    await kubectl([
      "-n",
      NAMESPACE,
      "annotate",
      "is/hello",
      "--overwrite",
      `image.openshift.io/import-requested=${new Date().toISOString()}`,
    ]);
    await waitFor(
      "the re-import",
      () => jsonpath("is/hello", "{.status.tags[0].items[0].image}"),
      (v) => v === v2.digest,
    );
    const history = (
      await jsonpath("is/hello", "{range .status.tags[0].items[*]}{.image}{' '}{.created}{'\\n'}{end}")
    )
      .split("\n")
      .filter(Boolean);
    for (const [i, line] of history.entries()) show(i === 0 ? "history (newest first)" : "", line);
    const after = await waitFor(
      "the rollout of version 2",
      () => jsonpath("deployment/hello", "{.spec.template.spec.containers[0].image}"),
      (v) => v.endsWith(v2.digest),
    );
    show("deployment image", after);
    const replicaSets = await waitFor(
      "a second ReplicaSet",
      () =>
        kubectl([
          "-n",
          NAMESPACE,
          "get",
          "rs",
          "-o",
          "jsonpath={range .items[*]}{.metadata.name}={.spec.template.spec.containers[0].image}{'\\n'}{end}",
        ]),
      (v) => v.trim().split("\n").length >= 2,
    );
    for (const rs of replicaSets.trim().split("\n")) show("replicaset", rs.replace("=", "  "));

    say("Pushing demo/web:dev to the integrated registry with a ServiceAccount token");
    console.log("    (no ImageStream to write, no import annotation, no schedule: the push is the signal)");
    await kubectl(["-n", NAMESPACE, "create", "serviceaccount", "ci"]).catch(() => "");
    await kubectl([
      "-n",
      NAMESPACE,
      "create",
      "rolebinding",
      "ci-push",
      "--clusterrole=imagestream-operator-image-builder",
      `--serviceaccount=${NAMESPACE}:ci`,
    ]).catch(() => "");
    await kubectl(
      ["-n", NAMESPACE, "apply", "-f", "-"],
      await readFile(join(REPO_ROOT, "examples/demo/push-deployment.yaml"), "utf8"),
    );
    const token = (await kubectl(["-n", NAMESPACE, "create", "token", "ci"])).trim();
    const asCi = {
      variant: "plain" as const,
      host: integrated,
      url: `http://${integrated}`,
      username: "ci",
      password: token,
    };
    const webImage = () => jsonpath("deployment/web", "{.spec.template.spec.containers[0].image}");
    show("deployment image", await webImage());
    const w1 = await pushImage(asCi, `${NAMESPACE}/web`, "dev", { layerContent: "web, version 1" });
    const firstMs = await timeUntil(webImage, (v) => v.endsWith(w1.digest));
    show("pushed digest", w1.digest);
    show(
      "stream created",
      `web: ${await jsonpath("is/web", "{.status.tags[0].tag} -> {.status.tags[0].items[0].dockerImageReference}")}`,
    );
    show("deployment image", `${await webImage()} (${firstMs} ms after the push, polling)`);
    const w2 = await pushImage(asCi, `${NAMESPACE}/web`, "dev", { layerContent: "web, version 2" });
    const secondMs = await timeUntil(webImage, (v) => v.endsWith(w2.digest));
    show("pushed digest", w2.digest);
    show("deployment image", `${await webImage()} (${secondMs} ms after the push, polling)`);
    const webSets = await waitFor(
      "the web rollout",
      () =>
        kubectl([
          "-n",
          NAMESPACE,
          "get",
          "rs",
          "-l",
          "app=web",
          "-o",
          "jsonpath={range .items[*]}{.metadata.name}={.spec.template.spec.containers[0].image}{'\\n'}{end}",
        ]),
      (v) => v.includes(w2.digest),
    );
    for (const rs of webSets.trim().split("\n")) show("replicaset", rs.replace("=", "  "));

    say("A token without push rights is refused");
    await kubectl(["-n", NAMESPACE, "create", "serviceaccount", "visitor"]).catch(() => "");
    const visitor = (await kubectl(["-n", NAMESPACE, "create", "token", "visitor"])).trim();
    const refused = await pushImage(
      { ...asCi, username: "visitor", password: visitor },
      `${NAMESPACE}/web`,
      "dev",
      {
        layerContent: "web, by someone else",
      },
    ).then(
      () => "accepted (unexpected)",
      (err: unknown) => (err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err)),
    );
    show("push as visitor", refused.slice(0, 100));
    show("deployment image", `${await webImage()} (unchanged)`);

    say("What kubectl shows");
    console.log((await kubectl(["-n", NAMESPACE, "get", "is,istag"])).replace(/^/gm, "    "));
    console.log(
      (await kubectl(["-n", NAMESPACE, "get", "events", "--field-selector", "reason=Pushed"])).replace(
        /^/gm,
        "    ",
      ),
    );

    if (keep) {
      console.log(`
The demo keeps running (operator pid ${operator.pid}, logs in .dev/operator.log). Explore:
    export KUBECONFIG=${KUBECONFIG}
    kubectl -n ${NAMESPACE} get is,istag
    kubectl -n ${NAMESPACE} get is hello -o yaml
    kubectl -n ${NAMESPACE} get events --sort-by=.metadata.creationTimestamp
    kubectl -n ${NAMESPACE} rollout history deployment/hello
    set -a; . .dev/env; set +a      # INTEGRATED_REGISTRY: push there with "kubectl -n ${NAMESPACE} create token ci"
Stop it with:
    kill ${operator.pid}; npm run cluster:down`);
      operator.unref();
      return;
    }
    say("Cleaning up");
  } catch (err) {
    console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
    if (keep) return;
  } finally {
    if (!keep) await cleanup();
  }
  if (!keep) console.log("    stopped the operator, the control plane and the registry");
}

await main();
