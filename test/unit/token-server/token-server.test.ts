import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { decodeProtectedHeader, importX509, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { type CertificateWithKey, createSigningCertificate } from "../../../src/pki/index.ts";
import {
  type AccessCheck,
  composeClaims,
  createTokenSigner,
  handleTokenRequest,
  type Identity,
  libtrustKeyId,
  parseBasicAuthorization,
  parseScopes,
  requiredChecks,
  type TokenClaims,
  type TokenServerDeps,
  type TokenServerSettings,
} from "../../../src/token-server/index.ts";

describe("parseScopes", () => {
  it("parses several scopes per parameter and several parameters, merging actions per resource", () => {
    expect(
      parseScopes([
        "repository:team/app:pull,push repository:team/base:pull",
        "repository:team/app:pull,delete",
        "registry:catalog:*",
      ]),
    ).toEqual({
      scopes: [
        { type: "repository", name: "team/app", actions: ["pull", "push", "delete"] },
        { type: "repository", name: "team/base", actions: ["pull"] },
        { type: "registry", name: "catalog", actions: ["*"] },
      ],
      malformed: [],
    });
  });

  it("keeps ':' in names (hosts with ports) and reads resource classes", () => {
    expect(
      parseScopes(["repository:localhost:5000/team/app:pull", "repository(plugin):team/x:pull"]).scopes,
    ).toEqual([
      { type: "repository", name: "localhost:5000/team/app", actions: ["pull"] },
      { type: "repository", class: "plugin", name: "team/x", actions: ["pull"] },
    ]);
  });

  it("reports malformed scopes and never returns them", () => {
    const { scopes, malformed } = parseScopes([
      "repository",
      "repository:team/app",
      ":team/app:pull",
      "repository::pull",
      "repository:team/app:PULL",
      "repository:team/app:pull,,push",
      "Repository:team/app:pull",
      `repository:${"a".repeat(600)}:pull`,
    ]);
    expect(scopes).toEqual([]);
    expect(malformed).toHaveLength(8);
  });
});

describe("requiredChecks", () => {
  const layers = (verb: string, namespace = "team", name = "app"): AccessCheck => ({
    verb,
    group: "image.openshift.io",
    resource: "imagestreams",
    subresource: "layers",
    namespace,
    name,
  });

  it("maps pull, push and delete of <namespace>/<stream> to OpenShift's imagestreams/layers checks", () => {
    const scope = { type: "repository", name: "team/app", actions: ["pull", "push", "delete"] };
    expect(requiredChecks(scope, true)).toEqual([
      { action: "pull", checks: [layers("get")] },
      { action: "push", checks: [layers("update")] },
      { action: "delete", checks: [layers("delete")] },
    ]);
  });

  it("a push to a stream that does not exist also needs create imagestreams", () => {
    expect(requiredChecks({ type: "repository", name: "team/new", actions: ["push"] }, false)).toEqual([
      {
        action: "push",
        checks: [
          layers("update", "team", "new"),
          {
            verb: "create",
            group: "image.openshift.io",
            resource: "imagestreams",
            namespace: "team",
            name: "new",
          },
        ],
      },
    ]);
  });

  it("the catalog needs list imagestreams cluster-wide", () => {
    expect(requiredChecks({ type: "registry", name: "catalog", actions: ["*"] }, true)).toEqual([
      { action: "*", checks: [{ verb: "list", group: "image.openshift.io", resource: "imagestreams" }] },
    ]);
  });

  it.each([
    ["app", "one path segment"],
    ["team/group/app", "three path segments"],
    ["Team/app", "an invalid namespace"],
    ["team/App", "an invalid stream name"],
    [`${"n".repeat(64)}/app`, "a namespace longer than 63"],
  ])("grants nothing on %s (%s)", (name) => {
    expect(requiredChecks({ type: "repository", name, actions: ["pull", "push"] }, true)).toEqual([
      {
        action: "pull",
        checks: null,
        reason: `repository "${name}" is not of the form <namespace>/<stream>`,
      },
      {
        action: "push",
        checks: null,
        reason: `repository "${name}" is not of the form <namespace>/<stream>`,
      },
    ]);
  });

  it("grants nothing for unknown actions, registry scopes or resource types", () => {
    expect(
      requiredChecks({ type: "repository", name: "team/app", actions: ["*"] }, true)[0]?.checks,
    ).toBeNull();
    expect(
      requiredChecks({ type: "registry", name: "catalog", actions: ["pull"] }, true)[0]?.checks,
    ).toBeNull();
    expect(requiredChecks({ type: "registry", name: "other", actions: ["*"] }, true)[0]?.checks).toBeNull();
    expect(
      requiredChecks({ type: "plugin", name: "team/app", actions: ["pull"] }, true)[0]?.checks,
    ).toBeNull();
  });
});

describe("parseBasicAuthorization", () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString("base64")}`;
  it("takes everything after the first ':' as the password (the Kubernetes token)", () => {
    expect(parseBasicAuthorization(basic("anything:eyJ.a:b.c"))).toEqual({
      username: "anything",
      password: "eyJ.a:b.c",
    });
    expect(parseBasicAuthorization(basic(":token"))).toEqual({ username: "", password: "token" });
    expect(parseBasicAuthorization(`basic  ${Buffer.from("u:p").toString("base64")}`)).toEqual({
      username: "u",
      password: "p",
    });
  });
  it("tells missing from malformed credentials", () => {
    expect(parseBasicAuthorization(undefined)).toBe("none");
    expect(parseBasicAuthorization("")).toBe("none");
    expect(parseBasicAuthorization("Bearer abc")).toBe("malformed");
    expect(parseBasicAuthorization(basic("no-colon"))).toBe("malformed");
    expect(parseBasicAuthorization(basic("user:"))).toBe("malformed");
    expect(parseBasicAuthorization("Basic !!!")).toBe("malformed");
  });
});

describe("signing", () => {
  let signing: CertificateWithKey;
  beforeAll(async () => {
    signing = await createSigningCertificate({ commonName: "token-signer", lifetimeMs: 86_400_000 });
  });

  it("computes libtrust key IDs like openssl | sha256 | base32 truncated to 240 bits", () => {
    const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "DER"], {
      input: new X509Certificate(signing.certificatePem).publicKey.export({ type: "spki", format: "pem" }),
    });
    const digest = execFileSync("openssl", ["dgst", "-sha256", "-binary"], { input: der }).subarray(0, 30);
    const b32 = execFileSync("base32", ["-w0"], { input: digest }).toString().replace(/=+$/, "");
    const expected = b32.match(/.{4}/g)?.join(":");
    expect(libtrustKeyId(new X509Certificate(signing.certificatePem).publicKey)).toBe(expected);
    expect(expected).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
  });

  it("signs ES256 JWTs with x5c and kid that verify against the certificate", async () => {
    const signer = createTokenSigner(signing);
    expect(signer.algorithm).toBe("ES256");
    const now = new Date();
    const claims = composeClaims(
      { issuer: "iss", service: "svc", lifetimeSeconds: 300 },
      "system:serviceaccount:team:builder",
      [{ type: "repository", name: "team/app", actions: ["pull", "push"] }],
      now,
      "id-1",
    );
    const jwt = await signer.sign(claims);
    const header = decodeProtectedHeader(jwt);
    expect(header).toEqual({
      alg: "ES256",
      typ: "JWT",
      kid: signer.keyId,
      x5c: [new X509Certificate(signing.certificatePem).raw.toString("base64")],
    });
    const { payload } = await jwtVerify(jwt, await importX509(signing.certificatePem, "ES256"), {
      issuer: "iss",
      audience: "svc",
    });
    expect(payload).toEqual(claims);
    expect(claims.exp - claims.iat).toBe(300);
    expect(claims.nbf).toBe(claims.iat);
  });

  it("signs RS256 with an RSA key and refuses a key that is not the certificate's", async () => {
    const rsa = await createSigningCertificate({
      commonName: "rsa",
      algorithm: "RSA-2048",
      lifetimeMs: 86_400_000,
    });
    expect(createTokenSigner(rsa).algorithm).toBe("RS256");
    expect(() =>
      createTokenSigner({ certificatePem: signing.certificatePem, privateKeyPem: rsa.privateKeyPem }),
    ).toThrow(/does not belong/);
  });
});

describe("handleTokenRequest", () => {
  const settings: TokenServerSettings = {
    issuer: "imagestream-operator",
    service: "integrated-registry",
    lifetimeSeconds: 300,
    anonymousPull: false,
  };
  const NOW = new Date("2030-01-01T00:00:00Z");
  const builder: Identity = {
    username: "system:serviceaccount:team:builder",
    groups: ["system:serviceaccounts"],
  };

  /** Deps allowing exactly the checks in `allowed` (as describeCheck-like keys); records what was asked. */
  function deps(opts: { allowed: string[]; streams?: string[]; tokens?: Record<string, Identity> }) {
    const asked: string[] = [];
    const signed: TokenClaims[] = [];
    const d: TokenServerDeps = {
      authenticate: async (token) => opts.tokens?.[token] ?? null,
      authorize: async (identity, c) => {
        const key = `${identity.username} ${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ""} ${c.namespace ?? "*"}/${c.name ?? ""}`;
        asked.push(key);
        return opts.allowed.includes(key);
      },
      streamExists: async (ns, name) => (opts.streams ?? []).includes(`${ns}/${name}`),
      sign: async (claims) => {
        signed.push(claims);
        return `signed-${signed.length}`;
      },
      now: () => NOW,
      newTokenId: () => "jti-1",
    };
    return { d, asked, signed };
  }
  const basic = (token: string) => `Basic ${Buffer.from(`anything:${token}`).toString("base64")}`;
  const query = (q: string) => new URLSearchParams(q);

  it("issues a token with exactly the granted actions and answers in distribution's JSON form", async () => {
    const { d, asked, signed } = deps({
      tokens: { "sa-token": builder },
      streams: ["team/app"],
      allowed: [
        `${builder.username} get imagestreams/layers team/app`,
        `${builder.username} update imagestreams/layers team/app`,
      ],
    });
    const res = await handleTokenRequest(
      {
        method: "GET",
        query: query(
          "service=integrated-registry&scope=repository:team/app:pull,push&scope=repository:other/app:pull",
        ),
        authorization: basic("sa-token"),
      },
      settings,
      d,
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      token: "signed-1",
      access_token: "signed-1",
      expires_in: 300,
      issued_at: "2030-01-01T00:00:00.000Z",
    });
    expect(signed[0]).toEqual({
      iss: "imagestream-operator",
      sub: builder.username,
      aud: "integrated-registry",
      iat: NOW.getTime() / 1000,
      nbf: NOW.getTime() / 1000,
      exp: NOW.getTime() / 1000 + 300,
      jti: "jti-1",
      access: [{ type: "repository", name: "team/app", actions: ["pull", "push"] }],
    });
    expect(asked).toContain(`${builder.username} get imagestreams/layers other/app`);
    expect(res.outcome).toMatchObject({
      result: "issued",
      subject: builder.username,
      granted: ["repository:team/app:pull,push"],
      denied: ['repository:other/app:pull (get imagestreams/layers "app" in namespace other)'],
    });
    expect(res.headers["Cache-Control"]).toBe("no-store");
  });

  it("asks create imagestreams only for a push to a stream that does not exist", async () => {
    const allowedPush = `${builder.username} update imagestreams/layers team/new`;
    const withoutCreate = deps({ tokens: { t: builder }, allowed: [allowedPush] });
    await handleTokenRequest(
      { method: "GET", query: query("scope=repository:team/new:push"), authorization: basic("t") },
      settings,
      withoutCreate.d,
    );
    expect(withoutCreate.signed[0]?.access).toEqual([]);
    expect(withoutCreate.asked).toContain(`${builder.username} create imagestreams team/new`);
    const withCreate = deps({
      tokens: { t: builder },
      allowed: [allowedPush, `${builder.username} create imagestreams team/new`],
    });
    await handleTokenRequest(
      { method: "GET", query: query("scope=repository:team/new:push"), authorization: basic("t") },
      settings,
      withCreate.d,
    );
    expect(withCreate.signed[0]?.access).toEqual([
      { type: "repository", name: "team/new", actions: ["push"] },
    ]);
  });

  it("login without scope gets an empty token; a bad token gets 401; nothing is granted off-stream", async () => {
    const { d, asked } = deps({ tokens: { t: builder }, allowed: [] });
    const login = await handleTokenRequest(
      {
        method: "GET",
        query: query("service=integrated-registry&account=me&offline_token=true"),
        authorization: basic("t"),
      },
      settings,
      d,
    );
    expect(login.status).toBe(200);
    const bad = await handleTokenRequest(
      { method: "GET", query: query("scope=repository:team/app:pull"), authorization: basic("wrong") },
      settings,
      d,
    );
    expect(bad.status).toBe(401);
    expect(bad.headers["WWW-Authenticate"]).toMatch(/^Basic /);
    expect(bad.body).not.toContain("wrong");
    await handleTokenRequest(
      {
        method: "GET",
        query: query("scope=repository:app:pull&scope=repository:a/b/c:pull"),
        authorization: basic("t"),
      },
      settings,
      d,
    );
    expect(asked).toEqual([]);
  });

  it("anonymous requests get pull of stream repositories only when anonymous pull is on", async () => {
    const { d, signed } = deps({ allowed: [] });
    const q = query("scope=repository:team/app:pull,push&scope=repository:app:pull&scope=registry:catalog:*");
    expect((await handleTokenRequest({ method: "GET", query: q }, settings, d)).status).toBe(200);
    expect(signed[0]?.access).toEqual([]);
    expect(signed[0]?.sub).toBe("");
    await handleTokenRequest({ method: "GET", query: q }, { ...settings, anonymousPull: true }, d);
    expect(signed[1]?.access).toEqual([{ type: "repository", name: "team/app", actions: ["pull"] }]);
  });

  it("refuses other methods, other services and malformed credentials", async () => {
    const { d } = deps({ allowed: [] });
    expect((await handleTokenRequest({ method: "POST", query: query("") }, settings, d)).status).toBe(405);
    const other = await handleTokenRequest({ method: "GET", query: query("service=elsewhere") }, settings, d);
    expect(other.status).toBe(400);
    expect(other.body).toContain('unknown service \\"elsewhere\\"');
    expect(
      (await handleTokenRequest({ method: "GET", query: query(""), authorization: "Bearer x" }, settings, d))
        .status,
    ).toBe(401);
  });

  it("answers 503 when TokenReview or SubjectAccessReview fail, and signs nothing", async () => {
    const { d, signed } = deps({ tokens: { t: builder }, allowed: [] });
    const failingAuth = { ...d, authenticate: async () => Promise.reject(new Error("apiserver down")) };
    const r1 = await handleTokenRequest(
      { method: "GET", query: query(""), authorization: basic("t") },
      settings,
      failingAuth,
    );
    expect(r1.status).toBe(503);
    const failingSar = { ...d, authorize: async () => Promise.reject(new Error("apiserver down")) };
    const r2 = await handleTokenRequest(
      { method: "GET", query: query("scope=repository:team/app:pull"), authorization: basic("t") },
      settings,
      failingSar,
    );
    expect(r2.status).toBe(503);
    expect(signed).toEqual([]);
  });
});
