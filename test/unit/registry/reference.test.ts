import { describe, expect, it } from "vitest";
import { apiHost, formatReference, parseReference, RegistryError } from "../../../src/registry/index.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference", () => {
  it.each([
    ["busybox", "docker.io/library/busybox:latest"],
    ["library/busybox:1.36", "docker.io/library/busybox:1.36"],
    ["user/app", "docker.io/user/app:latest"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["index.docker.io/library/redis:7", "docker.io/library/redis:7"],
    ["registry-1.docker.io/bitnami/redis:7", "docker.io/bitnami/redis:7"],
    ["quay.io/a/b/c:v1.2", "quay.io/a/b/c:v1.2"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/team/app:dev", "localhost:5000/team/app:dev"],
    ["127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"],
    ["[::1]:5000/app:x", "[::1]:5000/app:x"],
    ["Registry.Example.com/app", "registry.example.com/app:latest"],
    [`redis@${D}`, `docker.io/library/redis@${D}`],
    [`redis:7@${D}`, `docker.io/library/redis:7@${D}`],
    ["a__b/c.d-e:tag_1", "docker.io/a__b/c.d-e:tag_1"],
  ])("%s -> %s", (input, expected) => {
    expect(formatReference(parseReference(input))).toBe(expected);
  });

  it("keeps the parts apart", () => {
    expect(parseReference(`host:5000/a/b:t@${D}`)).toEqual({
      registry: "host:5000",
      repository: "a/b",
      tag: "t",
      digest: D,
      writtenName: "host:5000/a/b",
    });
    expect(parseReference(`redis@${D}`).tag).toBeUndefined();
  });

  it.each([
    ["", /empty/],
    ["Busybox", /lower-case/],
    ["docker.io/Library/x", /lower-case/],
    ["a//b", /empty path component/],
    ["a/b:", /invalid tag/],
    ["a:-x", /invalid tag/],
    [`a:${"x".repeat(129)}`, /invalid tag/],
    ["a@sha256:abc", /64 lower-case hex/],
    [`a@md5:${"a".repeat(32)}`, /unsupported digest algorithm/],
    ["https://quay.io/a", /URL scheme/],
    ["host:99999/a", /invalid port/],
    ["-bad.io/a", /invalid registry host/],
    ["a b", /whitespace/],
    ["a/-b", /invalid repository path component/],
  ])("rejects %j", (input, message) => {
    const err = (() => {
      try {
        parseReference(input);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).reason).toBe("InvalidReference");
    expect((err as RegistryError).message).toMatch(message);
  });
});

describe("apiHost", () => {
  it("sends Docker Hub API calls to registry-1.docker.io, others unchanged", () => {
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("localhost:5000")).toBe("localhost:5000");
  });
});
