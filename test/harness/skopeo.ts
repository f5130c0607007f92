// skopeo flags matching a harness registry, for tests that cross-check with an independent client.
import { dirname } from "node:path";
import type { RegistryConnection } from "./registry.ts";

/** Global-option-free flags for `skopeo inspect|copy|delete ...` against `registry`. */
export function skopeoArgs(registry: RegistryConnection): string[] {
  const args: string[] = [];
  if (registry.variant === "plain") args.push("--tls-verify=false");
  else if (registry.caFile) args.push(`--cert-dir=${dirname(registry.caFile)}`);
  if (registry.username !== undefined && registry.password !== undefined) {
    args.push(`--creds=${registry.username}:${registry.password}`);
  }
  return args;
}
