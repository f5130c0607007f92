// Start-up failures the operator can name: a metrics or health port that is already taken is a
// setting to change, reported in one line with exit code 2 (like any invalid setting), not a
// stack trace.
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useSharedControlPlane } from "../harness/index.ts";
import { killAllOperatorProcesses, startOperatorProcess } from "./operator-process.ts";

const cp = useSharedControlPlane();
let blocker: Server;
let taken = 0;

beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const address = blocker.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  taken = address.port;
});

afterAll(async () => {
  await killAllOperatorProcesses();
  await new Promise((resolve) => blocker.close(resolve));
});

describe("start-up with a port taken", () => {
  it.each([
    ["metrics-address", "IMAGESTREAM_METRICS_ADDRESS"],
    ["health-address", "IMAGESTREAM_HEALTH_ADDRESS"],
  ])("--%s: one message naming the setting, exit 2", async (flag, env) => {
    const operator = await startOperatorProcess(`port-taken-${flag}`, [
      `--kubeconfig=${cp.kubeconfigPath}`,
      "--controllers=import",
      `--${flag}=127.0.0.1:${taken}`,
    ]);
    const exit = await operator.exit(60_000);
    expect(exit.code, operator.tail()).toBe(2);
    const errors = operator.output.split("\n").filter((line) => line !== "" && !line.startsWith("{"));
    expect(errors).toEqual([
      `invalid setting --${flag} (${env}): cannot listen on 127.0.0.1:${taken}: the port is already in use by another process`,
    ]);
    expect(operator.output).not.toMatch(/^\s+at /m);
  });
});
