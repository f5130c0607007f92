// The integrated registry as the chart configures it, for anything that runs a real
// distribution registry outside a cluster (tests, benchmarks, `npm run cluster:up`): the
// `auth.token` and `notifications` sections and the notification secret that `helm template`
// renders, and the image-puller/pusher/builder ClusterRoles, pointed at an operator's hooks URL.
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load, loadAll } from "js-yaml";
import { REPO_ROOT } from "./control-plane.ts";

type Json = Record<string, unknown>;
const CHART = join(REPO_ROOT, "deploy", "helm", "imagestream-operator");

function helmBin(): string {
  return (
    process.env.HELM_BIN ??
    join(
      execFileSync("bash", [join(REPO_ROOT, "scripts", "build-helm.sh")], { encoding: "utf8" }).trim(),
      "helm",
    )
  );
}

/** `helm template` of the chart with the integrated registry on, plus `sets`. */
export function renderChart(release: string, sets: Record<string, string> = {}): Json[] {
  const args = ["template", release, CHART, "--namespace", "ops", "--set", "integratedRegistry.enabled=true"];
  for (const [key, value] of Object.entries(sets)) args.push("--set", `${key}=${value}`);
  const out = execFileSync(helmBin(), args, {
    encoding: "utf8",
    env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), "isop-helm-cache") },
  });
  return loadAll(out).filter((d): d is Json => typeof d === "object" && d !== null);
}

const nameOf = (doc: Json) => (doc.metadata as { name?: string } | undefined)?.name ?? "";
const decode = (value: unknown) => Buffer.from(String(value), "base64").toString("utf8");

export interface ChartRegistry {
  /** `auth.token` as rendered: realm, service, issuer (rootcertbundle to be replaced). */
  token: { realm: string; service: string; issuer: string };
  /** The shared secret the registry sends with notifications (`Authorization: Bearer <it>`). */
  notificationToken: string;
  /** The chart's image-puller, image-pusher and image-builder ClusterRoles. */
  roles: Json[];
  /**
   * The config sections for a registry run outside the cluster, reaching the operator at
   * `hooksUrl` and trusting `rootcertbundle` (a file path).
   */
  sections(hooksUrl: string, rootcertbundle: string): Record<string, unknown>;
}

export function chartRegistry(release: string, hooksUrl: string): ChartRegistry {
  const docs = renderChart(release, { "integratedRegistry.auth.realm": `${hooksUrl}/registry/token` });
  const secretData = (suffix: string): Json => {
    const secret = docs.find((d) => d.kind === "Secret" && nameOf(d).endsWith(suffix));
    if (!secret) throw new Error(`the chart rendered no Secret *${suffix}`);
    return secret.data as Json;
  };
  const config = load(decode(secretData("-registry-config")["config.yml"])) as {
    auth: { token: { realm: string; service: string; issuer: string } };
    notifications: { endpoints: Json[] };
  };
  const endpoint = config.notifications.endpoints[0] as Json;
  return {
    token: config.auth.token,
    notificationToken: decode(secretData("-registry-notifications").token),
    roles: docs.filter((d) => d.kind === "ClusterRole" && /-image-(puller|pusher|builder)$/.test(nameOf(d))),
    sections: (url, rootcertbundle) => ({
      auth: { token: { ...config.auth.token, realm: `${url}/registry/token`, rootcertbundle } },
      notifications: {
        ...config.notifications,
        endpoints: [{ ...endpoint, url: `${url}${new URL(String(endpoint.url)).pathname}` }],
      },
    }),
  };
}
