import { describe, expect, it } from "vitest";
import {
  CommandError,
  describeFailure,
  parseDuration,
  parseStreamTagRef,
  UsageError,
} from "../../../src/cli/index.ts";

describe("parseDuration", () => {
  it("reads kubectl-style durations, bare numbers as seconds", () => {
    expect(parseDuration("wait", "30s")).toBe(30_000);
    expect(parseDuration("wait", "2m")).toBe(120_000);
    expect(parseDuration("wait", "500ms")).toBe(500);
    expect(parseDuration("wait", "5")).toBe(5000);
    expect(parseDuration("wait", "0")).toBe(0);
  });
  it("rejects garbage as a usage error", () => {
    expect(() => parseDuration("wait", "soon")).toThrow(UsageError);
  });
});

describe("parseStreamTagRef", () => {
  it("splits namespace, stream and tag", () => {
    expect(parseStreamTagRef("shared/app:v1")).toEqual({ namespace: "shared", stream: "app", tag: "v1" });
    expect(parseStreamTagRef("app", "latest")).toEqual({
      namespace: undefined,
      stream: "app",
      tag: "latest",
    });
  });
  it("rejects a missing tag, bad stream and bad tag names", () => {
    expect(() => parseStreamTagRef("app")).toThrow(/stream:tag/);
    expect(() => parseStreamTagRef("App:v1")).toThrow(/image stream name "App"/);
    expect(() => parseStreamTagRef("app:-x")).toThrow(/not a valid tag name/);
    expect(() => parseStreamTagRef("Bad_NS/app:v1")).toThrow(/namespace/);
  });
});

describe("describeFailure", () => {
  it("maps usage errors to 2, command and API errors to 1 with the server message", () => {
    expect(describeFailure(new UsageError("bad"))).toEqual({ exitCode: 2, message: "bad" });
    expect(describeFailure(new CommandError("no"))).toEqual({ exitCode: 1, message: "no" });
    const apiError = { code: 403, body: JSON.stringify({ kind: "Status", message: "forbidden: nope" }) };
    expect(describeFailure(apiError)).toEqual({ exitCode: 1, message: "API error 403: forbidden: nope" });
  });
});
