import { describe, expect, it } from "vitest";
import {
  credentialIdentity,
  credentialLookup,
  parseDockerConfig,
  parseRegistryKey,
} from "../../../src/registry/index.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("parseRegistryKey", () => {
  it.each([
    ["https://index.docker.io/v1/", { host: "docker.io", pathPrefix: "" }],
    ["index.docker.io", { host: "docker.io", pathPrefix: "" }],
    ["quay.io", { host: "quay.io", pathPrefix: "" }],
    ["http://LOCALHOST:5000/", { host: "localhost:5000", pathPrefix: "" }],
    ["registry.example.com/team", { host: "registry.example.com", pathPrefix: "team" }],
  ])("%s", (key, expected) => {
    expect(parseRegistryKey(key)).toEqual(expected);
  });
});

describe("parseDockerConfig", () => {
  it("reads dockerconfigjson with auth or username/password", () => {
    const payload = JSON.stringify({
      auths: {
        "https://index.docker.io/v1/": { auth: b64("hub:p:w") },
        "quay.io": { username: "q", password: "qp" },
        "empty.io": {},
      },
    });
    expect(parseDockerConfig(payload, "dockerconfigjson")).toEqual([
      { host: "docker.io", pathPrefix: "", credentials: { username: "hub", password: "p:w" } },
      { host: "quay.io", pathPrefix: "", credentials: { username: "q", password: "qp" } },
    ]);
  });

  it("reads legacy dockercfg (no auths wrapper)", () => {
    const payload = JSON.stringify({ "localhost:5000": { auth: b64("u:p"), email: "x@y" } });
    expect(parseDockerConfig(payload, "dockercfg")).toEqual([
      { host: "localhost:5000", pathPrefix: "", credentials: { username: "u", password: "p" } },
    ]);
  });

  it("fails on invalid JSON without echoing the payload", () => {
    expect(() => parseDockerConfig('{"auths": secret', "dockerconfigjson")).toThrow(
      /^the dockerconfigjson payload is not valid JSON$/,
    );
  });
});

describe("credentialLookup", () => {
  const entries = [
    ...parseDockerConfig(
      JSON.stringify({ auths: { "*.example.com": { username: "wild", password: "1" } } }),
      "dockerconfigjson",
    ),
    ...parseDockerConfig(
      JSON.stringify({
        auths: {
          "r.example.com": { username: "host", password: "2" },
          "r.example.com/team": { username: "team", password: "3" },
          "https://index.docker.io/v1/": { username: "hub", password: "4" },
          "localhost:5000": { username: "local", password: "5" },
        },
      }),
      "dockerconfigjson",
    ),
  ];
  const lookup = credentialLookup(entries);

  it("matches by normalized host, preferring exact hosts and longer paths", () => {
    expect(lookup("r.example.com", "other/app")?.username).toBe("host");
    expect(lookup("r.example.com", "team/app")?.username).toBe("team");
    expect(lookup("r.example.com", "teamx/app")?.username).toBe("host");
    expect(lookup("s.example.com")?.username).toBe("wild");
    expect(lookup("a.b.example.com")).toBeUndefined();
    expect(lookup("docker.io")?.username).toBe("hub");
    expect(lookup("registry-1.docker.io")?.username).toBe("hub");
  });

  it("requires the port to match", () => {
    expect(lookup("localhost:5000")?.username).toBe("local");
    expect(lookup("localhost")).toBeUndefined();
    expect(lookup("localhost:5001")).toBeUndefined();
  });

  it("takes the first of equally specific entries", () => {
    const twice = credentialLookup([
      { host: "q.io", pathPrefix: "", credentials: { username: "first", password: "" } },
      { host: "q.io", pathPrefix: "", credentials: { username: "second", password: "" } },
    ]);
    expect(twice("q.io")?.username).toBe("first");
  });
});

describe("credentialIdentity", () => {
  it("is stable, distinguishes credentials and never contains the password", () => {
    const a = credentialIdentity({ username: "u", password: "secret-pass" });
    expect(a).toBe(credentialIdentity({ username: "u", password: "secret-pass" }));
    expect(a).not.toBe(credentialIdentity({ username: "u", password: "other" }));
    expect(a).not.toContain("secret-pass");
    expect(credentialIdentity(undefined)).toBe("anonymous");
  });
});
