import { describe, expect, it } from "vitest";
import {
  digestOrImageMatch,
  joinRepositoryTag,
  mostSpecificPullSpec,
  parseSourceName,
  rehomeLocalPullSpec,
  splitPullSpec,
} from "../../../src/imports/index.ts";
import { D1 } from "./fixtures.ts";

describe("pull specs", () => {
  it("keeps the user's name and replaces tag/digest by the digest", () => {
    expect(mostSpecificPullSpec("redis:2", D1)).toBe(`redis@${D1}`);
    expect(mostSpecificPullSpec("redis", D1)).toBe(`redis@${D1}`);
    expect(mostSpecificPullSpec("localhost:5000/a/b:v1", D1)).toBe(`localhost:5000/a/b@${D1}`);
    expect(mostSpecificPullSpec("localhost:5000/a/b", D1)).toBe(`localhost:5000/a/b@${D1}`);
    expect(mostSpecificPullSpec(`quay.io/x/y:1@sha256:${"9".repeat(64)}`, D1)).toBe(`quay.io/x/y@${D1}`);
  });

  it("splits name, tag and digest", () => {
    expect(splitPullSpec("host:1/n:t@sha256:x")).toEqual({ name: "host:1/n", tag: "t", digest: "sha256:x" });
    expect(splitPullSpec("host:1/n")).toEqual({ name: "host:1/n" });
  });

  it("joins a repository and a tag", () => {
    expect(joinRepositoryTag("docker.io/library/busybox", "1.36")).toBe("docker.io/library/busybox:1.36");
    expect(joinRepositoryTag("localhost:5000/app:old", "new")).toBe("localhost:5000/app:new");
  });
});

describe("parseSourceName", () => {
  it("parses bare and stream-qualified names", () => {
    expect(parseSourceName("ImageStreamTag", "1.0", "self")).toEqual({ ok: true, stream: "self", id: "1.0" });
    expect(parseSourceName("ImageStreamTag", "other:1.0", "self")).toEqual({
      ok: true,
      stream: "other",
      id: "1.0",
    });
    expect(parseSourceName("ImageStreamImage", "other@sha256:ab", "self")).toEqual({
      ok: true,
      stream: "other",
      id: "sha256:ab",
    });
  });

  it("rejects malformed names", () => {
    for (const name of ["a:b:c", ":x", "x:", ""]) {
      expect(parseSourceName("ImageStreamTag", name, "s").ok).toBe(false);
    }
    expect(parseSourceName("ImageStreamImage", "a@b@c", "s").ok).toBe(false);
  });
});

describe("digestOrImageMatch", () => {
  it("matches a prefix of the digest or of its hex part", () => {
    expect(digestOrImageMatch(D1, "1111")).toBe(true);
    expect(digestOrImageMatch(D1, "sha256:11")).toBe(true);
    expect(digestOrImageMatch(D1, "2")).toBe(false);
    expect(digestOrImageMatch(D1, "")).toBe(false);
    expect(digestOrImageMatch("", "1")).toBe(false);
  });
});

const D = `sha256:${"a".repeat(64)}`;
const E = `sha256:${"b".repeat(64)}`;

// Moved from test/unit/registry/reference.test.ts: one mostSpecificPullSpec for the project.
describe("mostSpecificPullSpec", () => {
  it("keeps the name as written and pins the digest", () => {
    expect(mostSpecificPullSpec("redis:2", D)).toBe(`redis@${D}`);
    expect(mostSpecificPullSpec("redis", D)).toBe(`redis@${D}`);
    expect(mostSpecificPullSpec("docker.io/library/redis:2", D)).toBe(`docker.io/library/redis@${D}`);
    expect(mostSpecificPullSpec(`quay.io/a/b:1@${E}`, D)).toBe(`quay.io/a/b@${D}`);
    expect(mostSpecificPullSpec("localhost:5000/x:1", D)).toBe(`localhost:5000/x@${D}`);
  });

  it("rejects a malformed digest", () => {
    expect(() => mostSpecificPullSpec("redis", "sha256:zz")).toThrow(/invalid digest/);
  });
});

describe("rehomeLocalPullSpec", () => {
  const from = { namespace: "shared", name: "base" };
  const to = { namespace: "team", name: "app" };
  it("moves a pull spec of the source stream's local repository to the target's", () => {
    expect(rehomeLocalPullSpec("reg:5000/shared/base@sha256:1", "reg:5000", from, to)).toBe(
      "reg:5000/team/app@sha256:1",
    );
    expect(rehomeLocalPullSpec("reg:5000/shared/base:v1", "reg:5000", from, to)).toBe("reg:5000/team/app:v1");
  });
  it("leaves every other pull spec alone", () => {
    for (const pullSpec of [
      "reg:5000/shared/base2@sha256:1",
      "reg:5000/shared/base/sub@sha256:1",
      "reg:5000/other/base@sha256:1",
      "quay.io/shared/base@sha256:1",
      "reg:5000/shared/base",
    ]) {
      expect(rehomeLocalPullSpec(pullSpec, "reg:5000", from, to)).toBe(pullSpec);
    }
  });
});
