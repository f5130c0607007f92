// Keeps the import boundaries of src/ (docs/development.md, "Layers"):
//   - a file imports another folder only through that folder's index.ts;
//   - a folder imports only folders of a lower layer (same-layer folders stay independent);
//   - no file imports a package of FORBIDDEN_PACKAGES.
// Exits 1 with one line per offending import, naming the file, the import and the rule.
//
//   node scripts/check-boundaries.ts
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Lowest first. `main.ts` is the entry point at the top of src/. */
export const LAYERS: readonly (readonly string[])[] = [
  // Foundations: no other folder of src/.
  ["api", "log", "pki"],
  // The registry client, a library that knows nothing of the operator (config validates host
  // patterns with its syntax), and the server side of HTTP (listeners, inbound webhook checks).
  ["registry", "http"],
  ["config"],
  ["metrics"],
  // The controller runtime: contract, context, informers, queue, object API, errors, events.
  ["runtime"],
  ["access", "leader"],
  // Domains, each on the ones below it.
  ["imports", "token-server"],
  ["istags", "triggers", "push"],
  ["admission", "receivers", "cli"],
  // The assembly, and the entry point.
  ["operator"],
  ["main.ts"],
];

/**
 * Packages the operator's code must not load, and why. Tests, scripts and the harness may.
 * client-node's KubeConfig alone loads every generated API and model: about 50 MiB of RSS
 * before the first object (docs/memory.md, cause 1); src/runtime talks to the API server itself.
 */
export const FORBIDDEN_PACKAGES: Readonly<Record<string, string>> = {
  "@kubernetes/client-node":
    "costs ~50 MiB of RSS at start (docs/memory.md, cause 1); use src/runtime (kubeRequest, objectApi, informers)",
};

/**
 * Packages the operator loads only through one module of src/; other files may import their
 * types (`import type`), which load nothing.
 */
export const LOADED_THROUGH: Readonly<Record<string, { file: string; why: string }>> = {
  undici: {
    file: "registry/undici.ts",
    why: "its index loads fetch, WebSocket, the cache store and the mocks the operator never uses (docs/memory.md)",
  },
};
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(root, "src");

const LAYER_OF = new Map<string, number>(
  LAYERS.flatMap((names, layer) => names.map((n) => [n, layer] as const)),
);

/** The unit a src/ path belongs to: its top folder, or the file itself at the top of src/. */
function unitOf(srcRelative: string): string {
  return srcRelative.split("/")[0] ?? "";
}

/** Every import and re-export specifier of a TypeScript source, with its line. */
export function importsOf(source: string): { specifier: string; line: number; typeOnly: boolean }[] {
  const found: { specifier: string; line: number; typeOnly: boolean }[] = [];
  // Statements start a line; `[^"'`;]` keeps a match inside one statement (lists may span lines).
  const pattern =
    /^[ \t]*(?:import|export)\s(type\s)?(?:[^"'`;]*?\sfrom\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;
  for (const match of source.matchAll(pattern)) {
    const specifier = match[2] ?? match[3];
    if (specifier === undefined) continue;
    found.push({
      specifier,
      line: source.slice(0, match.index).split("\n").length,
      typeOnly: match[1] !== undefined,
    });
  }
  return found;
}

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  problem: string;
}

/** Whether `specifier` names package `name` or a path inside it. */
function isPackage(specifier: string, name: string): boolean {
  return specifier === name || specifier.startsWith(`${name}/`);
}

/** The violations of one file (`file` relative to src/, posix separators). */
export function checkFile(file: string, source: string): Violation[] {
  const from = unitOf(file);
  const violations: Violation[] = [];
  const fromLayer = LAYER_OF.get(from);
  if (fromLayer === undefined) {
    violations.push({
      file,
      line: 1,
      specifier: "",
      problem: `src/${from} is in no layer; add it to LAYERS in scripts/check-boundaries.ts and docs/development.md`,
    });
    return violations;
  }
  for (const { specifier, line, typeOnly } of importsOf(source)) {
    const through = Object.entries(LOADED_THROUGH).find(([name]) => isPackage(specifier, name));
    if (through && !typeOnly && file !== through[1].file) {
      violations.push({
        file,
        line,
        specifier,
        problem: `load ${through[0]} through src/${through[1].file} (\`import type\` is fine): ${through[1].why}`,
      });
      continue;
    }
    const forbidden = Object.keys(FORBIDDEN_PACKAGES).find((name) => isPackage(specifier, name));
    if (forbidden) {
      violations.push({
        file,
        line,
        specifier,
        problem: `may not import ${forbidden}: it ${FORBIDDEN_PACKAGES[forbidden]}`,
      });
      continue;
    }
    if (!specifier.startsWith(".")) continue;
    const target = posix.normalize(posix.join(posix.dirname(file), specifier));
    if (target.startsWith("../")) {
      violations.push({ file, line, specifier, problem: "imports from outside src/" });
      continue;
    }
    const to = unitOf(target);
    if (to === from) continue;
    const toLayer = LAYER_OF.get(to);
    if (toLayer === undefined) {
      violations.push({
        file,
        line,
        specifier,
        problem: `src/${to} is in no layer of scripts/check-boundaries.ts`,
      });
      continue;
    }
    if (target !== `${to}/index.ts`) {
      violations.push({
        file,
        line,
        specifier,
        problem: `imports another folder past its public surface; use ../${to}/index.ts`,
      });
    }
    if (toLayer >= fromLayer) {
      const why =
        toLayer === fromLayer ? "the same layer (folders of one layer stay independent)" : "a higher layer";
      violations.push({
        file,
        line,
        specifier,
        problem: `src/${from} may not import src/${to}: it is in ${why}`,
      });
    }
  }
  return violations;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.split("\\").join("/"))
    .sort();
}

function main(): number {
  const violations = sourceFiles(SRC).flatMap((file) =>
    checkFile(file, readFileSync(join(SRC, file), "utf8")),
  );
  if (violations.length > 0) {
    console.error(`import boundaries broken (${violations.length}):`);
    for (const v of violations) {
      const at = relative(root, join(SRC, v.file));
      console.error(`  ${at}:${v.line}: ${v.specifier ? `import "${v.specifier}": ` : ""}${v.problem}`);
    }
    console.error(`layers, lowest first: ${LAYERS.map((l) => l.join(" ")).join(" < ")}`);
    return 1;
  }
  console.error(`import boundaries hold (${sourceFiles(SRC).length} files)`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
