import { describe, expect, it } from "vitest";
import {
  formatStreamTag,
  istagObjectName,
  normalizeTagForObjectName,
  parseStreamTag,
  streamNameFromIstagObjectName,
  validateIstagObjectName,
  validateStreamName,
  validateTagName,
} from "../../../src/api/index.ts";

describe("validateStreamName", () => {
  it.each(["ruby", "my-ruby", "php.7", "a1", "go-helloworld", "a.b-c"])("accepts %s", (name) => {
    expect(validateStreamName(name)).toBeNull();
  });

  it.each(["Ruby", "a--b", "a..b", "-a", "a-", ".a", "", "a:b", "a/b"])("rejects %j", (name) => {
    expect(validateStreamName(name)).toBe(
      `image stream name "${name}" is invalid: use lowercase letters and digits, separated by single '.', '_' or '-'`,
    );
  });

  it("rejects '_', valid in OpenShift but not in a Kubernetes object name", () => {
    expect(validateStreamName("my_ruby")).toMatch(
      /^image stream name "my_ruby" is not a valid Kubernetes object name/,
    );
  });

  it("rejects names longer than 253 characters", () => {
    expect(validateStreamName("a".repeat(254))).toMatch(/is longer than 253 characters$/);
    expect(validateStreamName("a".repeat(253))).toBeNull();
  });
});

describe("validateTagName", () => {
  it.each(["latest", "2.0", "v2.0-x86_64", "_hidden", "A", "Stable_1", "a".repeat(128)])(
    "accepts %s",
    (tag) => {
      expect(validateTagName(tag)).toBeNull();
    },
  );

  it.each(["", ".hidden", "-x", "v1:beta", "a/b", "a@b", "a".repeat(129), "naïve"])("rejects %j", (tag) => {
    expect(validateTagName(tag)).toBe(
      `"${tag}" is not a valid tag name: use 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`,
    );
  });
});

describe("ImageStreamTag object names", () => {
  it.each([
    ["ruby", "latest", "ruby.latest"],
    ["ruby", "2.0", "ruby.2.0"],
    ["ruby", "Stable_1", "ruby.stable-1"],
    ["my-app", "V2.0-X86_64", "my-app.v2.0-x86-64"],
  ])("%s:%s is named %s", (stream, tag, name) => {
    expect(istagObjectName(stream, tag)).toBe(name);
    expect(validateIstagObjectName(stream, tag)).toBeNull();
    expect(streamNameFromIstagObjectName(name, tag)).toBe(stream);
  });

  it("normalizes only what object names cannot hold", () => {
    expect(normalizeTagForObjectName("AbC_9.-z")).toBe("abc-9.-z");
  });

  it("recovers stream names that contain dots", () => {
    expect(streamNameFromIstagObjectName("php.7.1.7.1", "7.1")).toBe("php.7.1");
  });

  it("returns null when the object name does not end with the normalized tag", () => {
    expect(streamNameFromIstagObjectName("ruby.stable", "latest")).toBeNull();
    expect(streamNameFromIstagObjectName(".latest", "latest")).toBeNull();
    expect(streamNameFromIstagObjectName("rubylatest", "latest")).toBeNull();
  });

  it("reports tags whose derived name Kubernetes would refuse", () => {
    expect(validateIstagObjectName("ruby", "v1.")).toBe(
      `ImageStreamTag name "ruby.v1." for ruby:v1. is not a valid Kubernetes object name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)`,
    );
    expect(validateIstagObjectName("ruby", "_x")).toMatch(
      /^ImageStreamTag name "ruby.-x" for ruby:_x is not a valid/,
    );
    expect(validateIstagObjectName("a".repeat(200), "b".repeat(60))).toMatch(
      /is longer than 253 characters$/,
    );
  });

  it("reports an invalid stream or tag before the derived name", () => {
    expect(validateIstagObjectName("Ruby", "latest")).toMatch(/^image stream name "Ruby" is invalid/);
    expect(validateIstagObjectName("ruby", "a:b")).toMatch(/^"a:b" is not a valid tag name/);
  });
});

describe("stream:tag references", () => {
  it("parses and formats", () => {
    expect(parseStreamTag("ruby:2.5")).toEqual({ stream: "ruby", tag: "2.5" });
    expect(formatStreamTag({ stream: "ruby", tag: "2.5" })).toBe("ruby:2.5");
  });

  it.each(["ruby", "ruby:", ":latest", "Ruby:latest", "ruby:a:b", "ruby@sha256:abc"])(
    "rejects %j",
    (value) => {
      expect(parseStreamTag(value)).toBeNull();
    },
  );
});
