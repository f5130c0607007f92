import { describe, expect, it } from "vitest";
import {
  credentialIdentity,
  dockerConfigKeychain,
  parseDockerConfig,
  parseRegistryKey,
  pullSecretKeychain,
} from "../../../src/registry/index.ts";
import { pullSecret } from "./fixtures.ts";

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

describe("dockerConfigKeychain", () => {
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
  const keychain = dockerConfigKeychain(entries);
  const lookup = (registry: string, repository = "") => keychain.resolve({ registry, repository });

  it("matches by normalized host, preferring exact hosts and longer paths", async () => {
    expect((await lookup("r.example.com", "other/app"))?.username).toBe("host");
    expect((await lookup("r.example.com", "team/app"))?.username).toBe("team");
    expect((await lookup("r.example.com", "teamx/app"))?.username).toBe("host");
    expect((await lookup("s.example.com"))?.username).toBe("wild");
    expect(await lookup("a.b.example.com")).toBeUndefined();
    expect((await lookup("docker.io"))?.username).toBe("hub");
    expect((await lookup("registry-1.docker.io"))?.username).toBe("hub");
  });

  it("requires the port to match", async () => {
    expect((await lookup("localhost:5000"))?.username).toBe("local");
    expect(await lookup("localhost")).toBeUndefined();
    expect(await lookup("localhost:5001")).toBeUndefined();
  });

  it("lets a key without a port name the host on every port, and *. one label on any port", async () => {
    expect((await lookup("r.example.com:8443", "other/app"))?.username).toBe("host");
    expect((await lookup("s.example.com:5000"))?.username).toBe("wild");
    expect(await lookup("example.com")).toBeUndefined();
    expect(await lookup("evil-example.com")).toBeUndefined();
  });

  it("takes the first of equally specific entries", async () => {
    const twice = dockerConfigKeychain([
      { host: "q.io", pathPrefix: "", credentials: { username: "first", password: "" } },
      { host: "q.io", pathPrefix: "", credentials: { username: "second", password: "" } },
    ]);
    expect((await twice.resolve({ registry: "q.io", repository: "" }))?.username).toBe("first");
  });
});

// Moved from test/unit/imports/pull-secrets.test.ts with the keychain.
describe("pullSecretKeychain", () => {
  const lookup = (keychain: ReturnType<typeof pullSecretKeychain>, registry: string) =>
    keychain.resolve({ registry, repository: "app" });

  it("uses the namespace's pull secrets except excluded ones and other namespaces'", async () => {
    const keychain = pullSecretKeychain("ns", [
      pullSecret("a", "reg.test"),
      pullSecret("b", "other.test", { "openshift.io/image.excludeSecret": "true" }),
    ]);
    expect(await lookup(keychain, "reg.test")).toMatchObject({ username: "a" });
    expect(await lookup(keychain, "other.test")).toBeUndefined();
    const elsewhere = { ...pullSecret("c", "third.test"), metadata: { name: "c", namespace: "other" } };
    expect(await lookup(pullSecretKeychain("ns", [elsewhere]), "third.test")).toBeUndefined();
  });

  it("skips a malformed secret and keeps the others", async () => {
    const broken = {
      ...pullSecret("a", "reg.test"),
      data: { ".dockerconfigjson": Buffer.from("{").toString("base64") },
    };
    const keychain = pullSecretKeychain("ns", [broken, pullSecret("b", "reg.test")]);
    expect(await lookup(keychain, "reg.test")).toMatchObject({ username: "b" });
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
