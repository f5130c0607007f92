// Runs the operator inside the test process, as main.ts assembles it, against the shared
// control plane: settings from command-line style flags, caches synced before controllers start.
import { parseConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/log/logger.ts";
import { buildOperator, type Operator, type OperatorDeps } from "../../src/operator/index.ts";
import type { ControlPlane } from "../harness/index.ts";

export async function startInProcessOperator(
  cp: Pick<ControlPlane, "connection">,
  flags: string[],
  deps: Partial<Omit<OperatorDeps, "kc" | "config">> = {},
): Promise<Operator> {
  const config = parseConfig(["--leader-elect=false", ...flags], {});
  const operator = buildOperator({
    kc: cp.connection,
    config,
    log: createLogger({ level: process.env.IMAGESTREAM_TEST_LOG_LEVEL ?? "warn" }),
    ...deps,
  });
  if (!(await operator.start())) throw new Error("the operator's caches did not sync");
  operator.startControllers();
  return operator;
}
