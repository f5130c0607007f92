// The import-boundary check of npm test (scripts/check-boundaries.ts) on made-up sources.
import { describe, expect, it } from "vitest";
import { checkFile, importsOf } from "../../../scripts/check-boundaries.ts";

describe("importsOf", () => {
  it("finds imports, type imports, re-exports, multi-line lists and dynamic imports", () => {
    const source = [
      'import { a } from "./a.ts";',
      "import type {",
      "  B,",
      '} from "../b/index.ts";',
      'export { c } from "./c.ts";',
      'const d = await import("../d/index.ts");',
      'import "./side-effect.ts";',
      '// a comment on how to import x from "../nowhere/index.ts"',
    ].join("\n");
    expect(importsOf(source)).toEqual([
      { specifier: "./a.ts", line: 1, typeOnly: false },
      { specifier: "../b/index.ts", line: 2, typeOnly: true },
      { specifier: "./c.ts", line: 5, typeOnly: false },
      { specifier: "../d/index.ts", line: 6, typeOnly: false },
      { specifier: "./side-effect.ts", line: 7, typeOnly: false },
    ]);
  });
});

describe("checkFile", () => {
  it("accepts imports of lower layers through their index.ts, and anything inside the folder", () => {
    const source =
      'import { x } from "../runtime/index.ts";\nimport { y } from "./plan.ts";\nimport "node:fs";';
    expect(checkFile("imports/controller.ts", source)).toEqual([]);
    expect(checkFile("main.ts", 'import { buildOperator } from "./operator/index.ts";')).toEqual([]);
  });

  it("names the file, line and import that reaches past a folder's index.ts", () => {
    expect(
      checkFile("triggers/controller.ts", '\nimport { Informer } from "../runtime/informer.ts";'),
    ).toEqual([
      {
        file: "triggers/controller.ts",
        line: 2,
        specifier: "../runtime/informer.ts",
        problem: "imports another folder past its public surface; use ../runtime/index.ts",
      },
    ]);
  });

  it("refuses imports of the same or a higher layer", () => {
    const problems = (file: string, specifier: string) =>
      checkFile(file, `import { x } from "${specifier}";`).map((v) => v.problem);
    expect(problems("istags/controller.ts", "../operator/index.ts")).toEqual([
      "src/istags may not import src/operator: it is in a higher layer",
    ]);
    expect(problems("cli/run.ts", "../operator/index.ts")).toEqual([
      "src/cli may not import src/operator: it is in a higher layer",
    ]);
    expect(problems("istags/controller.ts", "../triggers/index.ts")).toEqual([
      "src/istags may not import src/triggers: it is in the same layer (folders of one layer stay independent)",
    ]);
    expect(problems("metrics/metrics.ts", "../runtime/index.ts")).toEqual([
      "src/metrics may not import src/runtime: it is in a higher layer",
    ]);
  });

  it("asks for a layer for a folder nobody placed yet", () => {
    expect(checkFile("gateway/server.ts", "")[0]?.problem).toMatch(/src\/gateway is in no layer/);
  });

  it("refuses @kubernetes/client-node anywhere in src/, type imports and subpaths included", () => {
    const source = [
      'import { KubeConfig } from "@kubernetes/client-node";',
      'import type { V1Lease } from "@kubernetes/client-node";',
      'import { Watch } from "@kubernetes/client-node/dist/watch.js";',
      'import type { Dispatcher } from "undici";',
    ].join("\n");
    const violations = checkFile("runtime/kubeconfig.ts", source);
    expect(violations.map((v) => [v.line, v.specifier])).toEqual([
      [1, "@kubernetes/client-node"],
      [2, "@kubernetes/client-node"],
      [3, "@kubernetes/client-node/dist/watch.js"],
    ]);
    expect(violations[0]?.problem).toMatch(/^may not import @kubernetes\/client-node: .*docs\/memory\.md/);
  });

  it("loads undici only through src/registry/undici.ts; its types may be imported anywhere", () => {
    const source = [
      'import { Agent } from "undici";',
      'import type { Dispatcher } from "undici";',
      'import { request } from "undici/lib/api/api-request.js";',
    ].join("\n");
    const violations = checkFile("registry/transport.ts", source);
    expect(violations.map((v) => [v.line, v.specifier])).toEqual([
      [1, "undici"],
      [3, "undici/lib/api/api-request.js"],
    ]);
    expect(violations[0]?.problem).toMatch(/^load undici through src\/registry\/undici\.ts/);
    expect(checkFile("registry/undici.ts", source)).toEqual([]);
  });
});
