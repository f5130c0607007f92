// Which implementation backs the harness: local processes (default) or testcontainers.
export type HarnessBackend = "processes" | "containers";

export function parseBackend(value: string | undefined): HarnessBackend {
  if (value === undefined || value === "" || value === "processes") return "processes";
  if (value === "containers") return "containers";
  throw new Error(`IMAGESTREAM_TEST_BACKEND must be "processes" or "containers", not "${value}"`);
}

export function selectedBackend(): HarnessBackend {
  return parseBackend(process.env.IMAGESTREAM_TEST_BACKEND);
}
