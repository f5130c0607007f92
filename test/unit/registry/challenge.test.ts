import { describe, expect, it } from "vitest";
import { parseNextLink, parseWwwAuthenticate } from "../../../src/registry/index.ts";

describe("parseWwwAuthenticate", () => {
  it("parses a Bearer challenge with quoted values containing commas", () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"',
      ),
    ).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:a/b:pull,push",
        },
      },
    ]);
  });

  it("parses several challenges in one header and across headers", () => {
    const parsed = parseWwwAuthenticate([
      'Basic realm="Registry Realm", Bearer realm="https://h/t", error="insufficient_scope"',
      "Negotiate",
    ]);
    expect(parsed.map((c) => c.scheme)).toEqual(["basic", "bearer", "negotiate"]);
    expect(parsed[0]?.params).toEqual({ realm: "Registry Realm" });
    expect(parsed[1]?.params).toEqual({ realm: "https://h/t", error: "insufficient_scope" });
  });

  it("handles token values, spaces around '=', escapes and case", () => {
    expect(parseWwwAuthenticate('BASIC Realm = x , charset="UTF\\"8"')).toEqual([
      { scheme: "basic", params: { realm: "x", charset: 'UTF"8' } },
    ]);
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate("")).toEqual([]);
  });
});

describe("parseNextLink", () => {
  const base = "https://r.example:5000/v2/a/tags/list?n=2";
  it("resolves a relative next link against the request URL", () => {
    expect(parseNextLink('</v2/a/tags/list?last=b&n=2>; rel="next"', base)).toBe(
      "https://r.example:5000/v2/a/tags/list?last=b&n=2",
    );
  });
  it("finds next among several links and unquoted rel", () => {
    expect(parseNextLink('<https://x/prev>; rel="prev", <https://x/next?a=1,2>; rel=next', base)).toBe(
      "https://x/next?a=1,2",
    );
    expect(
      parseNextLink(['<https://x/p>; rel="prev"', '<https://x/n>; title="x, y"; rel="next"'], base),
    ).toBe("https://x/n");
  });
  it("returns undefined without a next link", () => {
    expect(parseNextLink(undefined, base)).toBeUndefined();
    expect(parseNextLink('<https://x/p>; rel="prev"', base)).toBeUndefined();
  });
});
