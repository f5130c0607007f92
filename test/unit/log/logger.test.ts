import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, formatTextLine, forObject } from "../../../src/log/logger.ts";

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("redacts credentials wherever a caller puts them", () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: "trace" }, stream);
    log.info({ password: "hunter2", token: "t0k", creds: { password: "p2", auth: "dXNlcjpwYXNz" } }, "login");
    log.info({ request: { headers: { authorization: "Bearer abc" } } }, "request");
    const text = lines.join("\n");
    for (const secret of ["hunter2", "t0k", "p2", "dXNlcjpwYXNz", "Bearer abc"])
      expect(text).not.toContain(secret);
    expect(text).toContain("[redacted]");
  });

  it("puts namespace and name on every line of an object's child logger", () => {
    const { lines, stream } = capture();
    forObject(createLogger({}, stream), "team", "app").warn("import failed");
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      namespace: "team",
      name: "app",
      msg: "import failed",
      level: 40,
    });
  });
});

describe("formatTextLine", () => {
  it("renders time, level, message and fields, quoting values that need it", () => {
    const line = JSON.stringify({
      level: 40,
      time: "2026-01-01T00:00:00.000Z",
      name: "imagestream-operator",
      namespace: "team",
      err: "not found: a b",
      tags: 2,
      msg: "import failed",
    });
    expect(formatTextLine(line)).toBe(
      '2026-01-01T00:00:00.000Z WARN  import failed namespace=team err="not found: a b" tags=2',
    );
  });

  it("passes through lines that are not JSON", () => {
    expect(formatTextLine("plain")).toBe("plain");
  });
});
