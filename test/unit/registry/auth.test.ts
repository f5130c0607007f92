import { describe, expect, it } from "vitest";
import { TokenCache } from "../../../src/registry/auth.ts";
import {
  decideRealm,
  parseTokenResponse,
  sameOrigin,
  tokenUsableUntil,
} from "../../../src/registry/index.ts";

describe("decideRealm (where credentials may go)", () => {
  const secure = { insecure: false };
  it("sends credentials to a realm on the registry's own hostname, any port", () => {
    expect(
      decideRealm({ ...secure, registryHost: "127.0.0.1:5000", realm: "https://127.0.0.1:6000/token" }),
    ).toMatchObject({
      fetch: true,
      sendCredentials: true,
    });
    expect(
      decideRealm({ ...secure, registryHost: "quay.io", realm: "https://quay.io/v2/auth" }),
    ).toMatchObject({
      sendCredentials: true,
    });
  });

  it("knows Docker Hub's token service", () => {
    expect(
      decideRealm({ ...secure, registryHost: "registry-1.docker.io", realm: "https://auth.docker.io/token" }),
    ).toMatchObject({ sendCredentials: true });
    expect(
      decideRealm({ ...secure, registryHost: "quay.io", realm: "https://auth.docker.io/token" }),
    ).toMatchObject({
      sendCredentials: false,
    });
  });

  it("fetches anonymously from another host unless the operator trusts it", () => {
    const input = { ...secure, registryHost: "r.example.com", realm: "https://evil.example.net/token" };
    expect(decideRealm(input)).toMatchObject({ fetch: true, sendCredentials: false });
    expect(decideRealm({ ...input, trustedRealmHosts: ["evil.example.net"] })).toMatchObject({
      sendCredentials: true,
    });
    // A look-alike suffix is another host.
    expect(
      decideRealm({ ...secure, registryHost: "r.example.com", realm: "https://r.example.com.attacker.io/t" }),
    ).toMatchObject({ sendCredentials: false });
  });

  it("allows a plain-HTTP realm only for insecure calls", () => {
    const realm = "http://127.0.0.1:5000/token";
    expect(decideRealm({ registryHost: "127.0.0.1:5000", realm, insecure: false })).toMatchObject({
      fetch: false,
    });
    expect(decideRealm({ registryHost: "127.0.0.1:5000", realm, insecure: true })).toMatchObject({
      fetch: true,
      sendCredentials: true,
    });
  });

  it("refuses realms that are not HTTP(S) URLs or embed credentials", () => {
    expect(decideRealm({ ...secure, registryHost: "h", realm: "" })).toMatchObject({ fetch: false });
    expect(decideRealm({ ...secure, registryHost: "h", realm: "file:///etc/passwd" })).toMatchObject({
      fetch: false,
    });
    expect(decideRealm({ ...secure, registryHost: "h", realm: "https://u:p@h/t" })).toMatchObject({
      fetch: false,
    });
  });
});

describe("sameOrigin", () => {
  it("compares scheme, host and port", () => {
    expect(sameOrigin("https://a:5000/x", "https://a:5000/y?z")).toBe(true);
    expect(sameOrigin("https://a/x", "http://a/x")).toBe(false);
    expect(sameOrigin("https://a:5000/x", "https://a:5001/x")).toBe(false);
    expect(sameOrigin("https://a/x", "https://a:443/x")).toBe(true);
  });
});

describe("tokens", () => {
  it("accepts token or access_token and defaults the lifetime to 60 s", () => {
    expect(parseTokenResponse('{"token":"t","expires_in":300}')).toEqual({
      token: "t",
      expiresInSeconds: 300,
    });
    expect(parseTokenResponse('{"access_token":"a"}')).toEqual({ token: "a", expiresInSeconds: 60 });
    expect(() => parseTokenResponse("{}")).toThrow(/without a token/);
    expect(() => parseTokenResponse("<html>")).toThrow(/invalid JSON/);
  });

  it("keeps a margin before expiry", () => {
    expect(tokenUsableUntil(0, 60)).toBe(45_000);
    expect(tokenUsableUntil(0, 300)).toBe(270_000);
  });

  it("drops cached tokens at their usable end", () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set("k", { token: "t", expiresInSeconds: 60 });
    now = 44_999;
    expect(cache.get("k")).toBe("t");
    now = 45_000;
    expect(cache.get("k")).toBeUndefined();
  });
});
